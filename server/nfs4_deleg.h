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
 * Calls: nfs4_callback.h, nfs4_file.h, nfs4_state.h, pmem/ lease ops,
 * server/metrics.h (the histogram type of its stats).
 * Called by: nfs4_open.c (offer, claims), nfs4_io.c, nfs4_getattr.c (also
 * SETATTR of delegated times), nfs4_attr.c (options),
 * nfs4_dirop.c (conflicts), nfs4_file_lease.c (lease events).
 */
#ifndef DAXNFS_SERVER_NFS4_DELEG_H
#define DAXNFS_SERVER_NFS4_DELEG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/metrics.h"
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
	/* RFC 9754 delegated timestamps: the wire type is READ_ATTRS_DELEG or
	 * WRITE_ATTRS_DELEG; the holder owns atime (and, for a write
	 * delegation, mtime). SETATTR of a delegated time earlier than the
	 * last accepted one is ignored (the times only move forward). */
	bool timestamps;
	struct pmem_time atime_floor, mtime_floor;
	bool cb_have_atime, cb_have_mtime; /* the last CB_GETATTR answer had these */
	struct pmem_time cb_atime, cb_mtime;
	int64_t recall_start_ms, recall_deadline_ms;
	uint64_t recall_start_ns;         /* monotonic, for the recall latency metric */
	bool stid_gone;                   /* the stateid went while the engine held recall */
	uint32_t fh_len;                  /* the file's handle, for CB_RECALL */
	uint8_t fh[NFS4_FHSIZE];
};

/* The share access (NFS4_SHARE_*) clp's delegation on fp stands for: a
 * write delegation both, a read one reading, none or a revoked one 0.
 * State lock held. */
uint32_t nfs4_deleg_client_access(const struct nfs4_file *fp, const struct nfs4_client *clp);

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
nfsstat4 nfs4_deleg_conflict(struct nfs4_server *srv, struct nfs4_client *clp,
			     struct pmem_obj *obj, enum nfs4_deleg_access access);
/*
 * GETATTR of size or change by clp on obj (RFC 8881 §10.4.3): another
 * client's write delegation may hide a newer size and change (and, with
 * delegated timestamps, newer times: size_change false when only those were
 * asked for). The holder is
 * asked with CB_GETATTR and the GETATTR waits for its answer (at most half a
 * second, the state lock released meanwhile; NFS4ERR_DELAY after that); the
 * holder's size and change, when they differ from the server's, go into
 * *opts for the encoder. An answer serves for a second. State lock held.
 */
struct nfs4_fattr_opts;
nfsstat4 nfs4_deleg_getattr_conflict(struct nfs4_server *srv, struct nfs4_client *clp,
				     struct pmem_obj *obj, bool size_change, struct nfs4_fattr_opts *opts);
/*
 * SETATTR of FATTR4_TIME_DELEG_ACCESS / _MODIFY (RFC 9754): sid must be
 * c->client's delegation with delegated timestamps on obj (a write one for
 * mtime), else NFS4ERR_BAD_STATEID. A time not later than the one accepted
 * before (at first: the file's at the grant) is dropped from *sa, a time in
 * the future becomes now. Once the backend set them, _done records them as
 * the ones accepted. Both take the state lock.
 */
nfsstat4 nfs4_deleg_setattr_times(struct nfs4_compound *c, const stateid4 *sid,
				  struct pmem_obj *obj, bool atime, bool mtime,
				  struct pmem_setattr *sa);
void nfs4_deleg_setattr_times_done(struct nfs4_compound *c, const stateid4 *sid,
				   struct pmem_obj *obj, const struct pmem_setattr *sa);
/* The same, taking the state lock. */
nfsstat4 nfs4_deleg_conflict_unlocked(struct nfs4_server *srv, struct nfs4_client *clp,
				      struct pmem_obj *obj, enum nfs4_deleg_access access);

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
/* True when out is a delegation (any of the four granted types). */
bool nfs4_deleg_granted(const open_delegation4 *out);
/* A delegation type CLAIM_PREVIOUS may name (READ, WRITE, or their
 * _ATTRS_DELEG forms of RFC 9754). */
bool nfs4_deleg_type_reclaimable(open_delegation_type4 type);
/*
 * OPEN_XOR_DELEGATION (RFC 9754), when turned on: an OPEN that made a new
 * open stateid (undo->created) and got a delegation answers the delegation
 * alone (zero stateid, OPEN4_RESULT_NO_OPEN_STATEID). The open is dropped,
 * its share reservation with it: only an open that denies nothing
 * qualifies, so no reservation is lost; the delegation stands for the open
 * until DELEGRETURN. State lock held.
 */
struct nfs4_open_undo;
void nfs4_deleg_open_xor(struct nfs4_compound *c, const OPEN4args *a,
			 struct nfs4_open_undo *undo, OPEN4resok *ok);

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

struct nfs4_server;
/* True while some delegation of srv is outstanding (any thread, no lock: a hint). */
bool nfs4_deleg_any(const struct nfs4_server *srv);

/* Counters (admin, tests), state lock held. */
struct nfs4_deleg_stats {
	uint64_t granted, returned, recalls, revoked;
	uint64_t granted_timestamps;   /* of granted: with delegated timestamps */
	uint64_t times_set;            /* SETATTRs of delegated times */
	uint64_t open_xor;             /* OPENs answered without an open stateid */
	unsigned outstanding;
	/* From CB_RECALL's start to the DELEGRETURN of a recalled delegation. */
	struct metrics_histogram recall_latency;
};
void nfs4_deleg_stats(const struct nfs4_server *srv, struct nfs4_deleg_stats *out);

/*
 * The RFC 9754 extensions an administrator turns on (NFSV4 block; both off
 * by default, decision 0005: knfsd dropped OPEN_XOR_DELEGATION after the
 * Linux client, without an open stateid, had to open again after every
 * DELEGRETURN, and kept delegated timestamps off while client bugs remained):
 *  timestamps  OPEN may grant OPEN_DELEGATE_READ_ATTRS_DELEG and
 *              _WRITE_ATTRS_DELEG to a client that sets WANT_DELEG_TIMESTAMPS
 *              (minor version 2): the holder owns atime (and, writing, mtime)
 *              and sets them with FATTR4_TIME_DELEG_ACCESS / _MODIFY;
 *              CB_GETATTR asks for them.
 *  open_xor    OPEN with WANT_OPEN_XOR_DELEGATION that grants a delegation
 *              and would have made a new open stateid answers the
 *              delegation alone (OPEN4_RESULT_NO_OPEN_STATEID).
 * Set once at start, read without a lock after.
 */
struct nfs4_deleg_options {
	bool timestamps;
	bool open_xor;
};
void nfs4_deleg_set_options(struct nfs4_server *srv, const struct nfs4_deleg_options *o);
const struct nfs4_deleg_options *nfs4_deleg_options(const struct nfs4_server *srv);

/* Recall_Timeout in ms (config NFSV4.Recall_Timeout; set by nfs4_file_lease_start). */
int64_t nfs4_recall_timeout_ms(const struct nfs4_server *srv);
void nfs4_deleg_set_recall_timeout(struct nfs4_server *srv, int64_t ms);

/* A server's delegation bookkeeping (srv->delegs): counters, settings, and
 * where a GETATTR waits for a CB_GETATTR. All under the state lock but
 * outstanding_hint. */
struct nfs4_delegations {
	struct nfs4_deleg_stats stats;
	int64_t recall_timeout_ms;
	struct nfs4_deleg_options options;
	/* stats.outstanding, readable without the state lock (a hint for
	 * callers that would otherwise look names up for nothing) */
	atomic_uint outstanding_hint;
	/* woken when a CB_GETATTR ends; waited on with the state lock
	 * (CLOCK_MONOTONIC) */
	pthread_cond_t getattr_cond;
	int64_t last_reap_ms;          /* the last CB_RECALL_ANY round */
};
/* 0 or -errno. */
int nfs4_delegations_init(struct nfs4_delegations *d);
void nfs4_delegations_destroy(struct nfs4_delegations *d);

#endif
