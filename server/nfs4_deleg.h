/*
 * server/nfs4_deleg.h: read and write delegations (RFC 8881 §10.2, §10.4),
 * backed by local leases.
 *
 * Shape (all under nfs4_state_lock()):
 *   client --stids--> nfs4_deleg --fp--> nfs4_file --delegs--> nfs4_deleg
 * A file with delegations holds one local lease (read while only read
 * delegations exist, write for the one write delegation), so that a process
 * on the server that opens the file for writing, truncates or reflinks it
 * breaks the lease, and the delegations are recalled before the kernel's
 * lease-break-time runs out.
 *
 * The recall state machine of one delegation (decision 0004):
 *   GRANTED    handed out; nobody wants it back
 *   RECALLING  CB_RECALL queued or sent (nfs4_cb embedded here); conflicting
 *              requests get NFS4ERR_DELAY; it must be returned by
 *              recall_deadline_ms
 *   REVOKED    not returned in time (or its lease was broken by force): its
 *              stateid answers NFS4ERR_DELEG_REVOKED and the client sees
 *              SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID
 * DELEGRETURN ends GRANTED or RECALLING by destroying the stateid.
 * Calls: nfs4_callback.h, nfs4_file.h, nfs4_state.h, pmem/ lease ops.
 * Called by: nfs4_open.c (offer, claims), nfs4_io.c, nfs4_getattr.c,
 * nfs4_dirop.c (conflicts), nfs4_file_lease.c (lease events).
 */
#ifndef DAXNFS_SERVER_NFS4_DELEG_H
#define DAXNFS_SERVER_NFS4_DELEG_H

#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_callback.h"
#include "server/nfs4_file.h"
#include "server/nfs4_state.h"

enum nfs4_deleg_state {
	NFS4_DELEG_GRANTED = 1,
	NFS4_DELEG_RECALLING,
	NFS4_DELEG_REVOKED,
};

struct nfs4_deleg {
	struct nfs4_stid stid;            /* first */
	struct nfs4_file *fp;             /* referenced; NULL once it left the file */
	struct list_node file_node;       /* in fp->delegs */
	open_delegation_type4 type;       /* OPEN_DELEGATE_READ or _WRITE */
	enum nfs4_deleg_state state;
	struct nfs4_cb recall;            /* CB_RECALL */
	struct nfs4_cb getattr;           /* CB_GETATTR (write delegations) */
	int64_t getattr_ok_ms;            /* when the holder last answered CB_GETATTR */
	bool cb_modified;                 /* ... with other values than the server's: */
	uint64_t cb_size, cb_change;      /* these */
	int64_t recall_start_ms, recall_deadline_ms;
	bool stid_gone;                   /* the stateid went while the engine held recall */
	uint32_t fh_len;                  /* the file's handle, for CB_RECALL */
	uint8_t fh[NFS4_FHSIZE];
};

/* What a request is about to do to a file, for the conflict rules. */
enum nfs4_deleg_access {
	NFS4_DELEG_READ_DATA,     /* READ: conflicts with other clients' write delegations */
	NFS4_DELEG_WRITE_DATA,    /* WRITE, SETATTR size, OPEN for write, CLONE target:
				   * other clients' delegations, and the writer's own
				   * read delegation when the lease cannot follow */
	NFS4_DELEG_OPEN_READ,     /* OPEN for read: other clients' write delegations */
	NFS4_DELEG_CHANGE_META,   /* SETATTR, REMOVE, RENAME, LINK: other clients' delegations */
};

/*
 * Recalls the delegations on obj that conflict with access by clp (NULL:
 * a local process, everything conflicts). Returns NFS4ERR_DELAY while any
 * conflicting one is outstanding, NFS4_OK when none is. A conflicting
 * delegation of a courtesy client is taken without a recall. State lock held.
 */
nfsstat4 nfs4_deleg_conflict(struct nfs4_client *clp, struct pmem_obj *obj,
			     enum nfs4_deleg_access access);
/*
 * GETATTR of size or change by clp on obj (RFC 8881 §10.4.3): another
 * client's write delegation may hide a newer size and change. The holder is
 * asked with CB_GETATTR and the GETATTR waits for its answer (at most half a
 * second, the state lock released meanwhile; NFS4ERR_DELAY after that); the
 * holder's size and change, when they differ from the server's, go into
 * *opts for the encoder. An answer serves for a second. State lock held.
 */
struct nfs4_fattr_opts;
nfsstat4 nfs4_deleg_getattr_conflict(struct nfs4_client *clp, struct pmem_obj *obj,
				     struct nfs4_fattr_opts *opts);
/* The same, taking the state lock. */
nfsstat4 nfs4_deleg_conflict_unlocked(struct nfs4_client *clp, struct pmem_obj *obj,
				      enum nfs4_deleg_access access);

/*
 * OPEN's decision (RFC 8881 §10.4, §18.16.3): grants a read or write
 * delegation on os's file when the client wants one (share_access WANT_*
 * bits), its back channel is up and nothing conflicts; fills out with the
 * delegation or with OPEN_DELEGATE_NONE(_EXT) and the reason. fh is the
 * file's handle. reclaim_type: a CLAIM_PREVIOUS delegation type to reclaim
 * (OPEN_DELEGATE_NONE when none). State lock held.
 */
struct nfs4_open_state;
void nfs4_deleg_offer(struct nfs4_compound *c, struct nfs4_open_state *os,
		      uint32_t share_access, open_delegation_type4 reclaim_type,
		      const struct nfs4_fh *fh, open_delegation4 *out);

/* Starts the recall of every delegation on fp (a local lease break when
 * clp is NULL), to be returned by deadline_ms. State lock held. */
void nfs4_deleg_recall_file(struct nfs4_file *fp, int64_t deadline_ms);
/* Revokes every delegation on fp at once (its lease is gone). State lock held. */
void nfs4_deleg_revoke_file(struct nfs4_file *fp, const char *why);
/* A delegation stateid of a courtesy client kept as EXPIRED: it leaves its file. */
void nfs4_deleg_expire(struct nfs4_stid *stid);
/* The delegation behind a stateid for I/O: its file and the access it allows. */
struct nfs4_file *nfs4_deleg_file(const struct nfs4_stid *stid);
uint32_t nfs4_deleg_share_access(const struct nfs4_stid *stid);

/* True while some delegation is outstanding (any thread, no lock: a hint). */
bool nfs4_deleg_any(void);

/* Counters (admin, tests), state lock held. */
struct nfs4_deleg_stats {
	uint64_t granted, returned, recalls, revoked;
	unsigned outstanding;
};
void nfs4_deleg_stats(struct nfs4_deleg_stats *out);

/* Recall_Timeout in ms (config NFSV4.Recall_Timeout; set by nfs4_file_lease_start). */
int64_t nfs4_recall_timeout_ms(void);
void nfs4_deleg_set_recall_timeout(int64_t ms);

#endif
