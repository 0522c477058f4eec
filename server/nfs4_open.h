/*
 * server/nfs4_open.h: open owners, open stateids, lock owners and lock
 * stateids (RFC 8881 §9), shared by nfs4_open.c, nfs4_lock.c and nfs4_io.c.
 *
 * Shape of the state (all under nfs4_state_lock()):
 *   client --openowners--> nfs4_openowner --opens--> nfs4_open_state --fp--> nfs4_file
 *   client --lockowners--> nfs4_lockowner --states--> nfs4_lock_state --fp--> nfs4_file
 *   nfs4_open_state --locks--> the nfs4_lock_state opened through it
 * One open stateid per (open owner, file) and one lock stateid per (lock
 * owner, file), as NFSv4.1 has no open/lock seqids to keep apart. Owners go
 * away with their last stateid. Each stateid's release callback undoes all of
 * its bookkeeping, so nfs4_stid_destroy (from CLOSE, FREE_STATEID, client
 * expiry) is the one way state ends.
 * Calls: nfs4_state.h, nfs4_file.h. Called by: the handlers above.
 */
#ifndef DAXNFS_SERVER_NFS4_OPEN_H
#define DAXNFS_SERVER_NFS4_OPEN_H

#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_file.h"
#include "server/nfs4_state.h"

struct nfs4_openowner {
	struct list_node client_node;     /* in client->openowners */
	struct nfs4_hnode hnode;          /* open-owners by (client, owner) */
	struct nfs4_client *client;
	struct list_node opens;           /* struct nfs4_open_state.owner_node */
	uint32_t len;
	uint8_t owner[];                  /* len bytes */
};

struct nfs4_open_state {
	struct nfs4_stid stid;            /* first: nfs4_stid_new allocates the whole */
	struct nfs4_openowner *oo;
	struct nfs4_file *fp;             /* referenced */
	struct list_node owner_node;
	struct nfs4_share share;          /* current access/deny, on fp->shares */
	/* Every access/deny value this stateid was opened with (bit 1 << value),
	 * what OPEN_DOWNGRADE may return to (RFC 8881 §18.18.3). */
	uint32_t access_bmap, deny_bmap;
	struct list_node locks;           /* struct nfs4_lock_state.open_node */
};

struct nfs4_lockowner {
	struct list_node client_node;     /* in client->lockowners */
	struct nfs4_hnode hnode;          /* lock-owners by (client, owner) */
	struct nfs4_client *client;
	struct list_node states;          /* struct nfs4_lock_state.owner_node */
	uint32_t len;
	uint8_t owner[];                  /* len bytes */
};

struct nfs4_lock_state {
	struct nfs4_stid stid;            /* first */
	struct nfs4_lockowner *lo;        /* the owner of its ranges in fp->locks */
	struct nfs4_file *fp;             /* referenced */
	struct nfs4_open_state *open;     /* NULL once the open is gone */
	struct list_node owner_node, open_node;
};

/* A lock stateid kept as EXPIRED: its byte ranges leave the file. */
void nfs4_lock_state_expire(struct nfs4_stid *stid);

/* Owner lookup/creation (nfs4_open.c, nfs4_lock.c). NULL when absent / ENOMEM. */
struct nfs4_lockowner *nfs4_lockowner_find(struct nfs4_client *clp, const struct xdr_opaque *owner);

/* Share access of the open behind an open or lock stateid (0 when none). */
uint32_t nfs4_stid_share_access(const struct nfs4_stid *stid);
/* The share access (NFS4_SHARE_*) of clp's opens of fp. State lock held. */
uint32_t nfs4_file_client_open_access(const struct nfs4_file *fp, const struct nfs4_client *clp);
/* The per-file record behind an open or lock stateid (NULL otherwise). */
struct nfs4_file *nfs4_stid_file(const struct nfs4_stid *stid);
/* True when stid is a lock stateid that still holds byte-range locks, or an
 * open stateid some of whose lock stateids do (FREE_STATEID and CLOSE answer
 * NFS4ERR_LOCKS_HELD then). */
bool nfs4_stid_holds_locks(const struct nfs4_stid *stid);
/* Destroys the lock stateids opened through os (CLOSE), then os. */
void nfs4_open_state_close(struct nfs4_open_state *os);

/*
 * The stateid rules of I/O on obj (nfs4_io.c; also CLONE, ALLOCATE,
 * DEALLOCATE, SEEK): an open, lock or delegation stateid of obj with the
 * access (write: NFS4ERR_OPENMODE without it), or a special stateid meeting
 * the file's share deny (NFS4ERR_LOCKED) and the caller's permission; then
 * other clients' conflicting delegations (for a write: any read delegation)
 * are recalled, NFS4ERR_DELAY until they are gone. Takes the state lock.
 */
struct nfs4_compound;
nfsstat4 nfs4_io_check_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
			       const stateid4 *sid, bool write);
/* The same for READ, WRITE and READ_PLUS, which also take a layout stateid
 * (daxnfsd as a pNFS data server), with the access its segments give. */
nfsstat4 nfs4_io_check_ds_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
				  const stateid4 *sid, bool write);
/* Bytes the reply being built can still take after overhead more (the
 * buffer and the session's ca_maxresponsesize): what READ, READ_PLUS and
 * LISTXATTRS may put in (nfs4_io.c). */
size_t nfs4_reply_room(const struct nfs4_compound *c, size_t overhead);

#endif
