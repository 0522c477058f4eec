/*
 * server/nfs4_copy.h: asynchronous server-side copies (RFC 7862 §15.2,
 * §15.8, §15.9, §16.1): COPY that answers at once with a callback id, a
 * worker that copies meanwhile, CB_OFFLOAD when it is done, OFFLOAD_STATUS
 * and OFFLOAD_CANCEL.
 *
 * The state machine of one copy (all under nfs4_state_lock()):
 *   RUNNING    the worker copies; OFFLOAD_STATUS answers the bytes so far
 *   DONE       the worker finished (all, a short count, or an error); the
 *              CB_OFFLOAD (nfs4_cb embedded here) tells the client; the
 *              record answers OFFLOAD_STATUS for one lease period after the
 *              callback ended, then the tick destroys it
 *   CANCELLED  OFFLOAD_CANCEL, the client's end or the server's: the worker
 *              stops at its next chunk, no CB_OFFLOAD, the stateid is gone
 * The copy's stateid (type NFS4_STID_COPY) belongs to the client; a client
 * that goes away takes it along, which cancels the copy.
 * Calls: nfs4_callback.h, nfs4_state.h, the backend's copy.
 * Called by: nfs4_v42_data.c (COPY), the op table (OFFLOAD_STATUS,
 * OFFLOAD_CANCEL), nfs4_server.c (options, tick, shutdown).
 */
#ifndef DAXNFS_SERVER_NFS4_COPY_H
#define DAXNFS_SERVER_NFS4_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "pmem/backend.h"
#include "server/list.h"
#include "server/nfs4_compound.h"

struct nfs4_stid;

struct nfs4_copy_options {
	unsigned max_async;             /* running asynchronous copies, whole server (0: none) */
	unsigned max_async_per_client;  /* ... of one client */
	uint32_t max_rate_mib;          /* MiB/s per copy, 0 = unlimited */
};

struct nfs4_server;
/* Sets the limits (server start). */
void nfs4_copy_set_options(struct nfs4_server *srv, const struct nfs4_copy_options *o);
/* False when Max_Async_Copies is 0: every COPY is done within its request. */
bool nfs4_copy_async_offered(const struct nfs4_server *srv);

/*
 * Starts an asynchronous copy of count bytes (count > 0, the range checked
 * by the caller, the caller's stateids too) from src to dst, for the
 * compound's client, whose current handle (dst) goes into CB_OFFLOAD. On
 * NFS4_OK *sid is the copy's stateid. NFS4ERR_OFFLOAD_NO_REQS when the
 * limits are reached (the client may ask again for a synchronous copy);
 * NFS4ERR_DELAY when another client got a conflicting delegation since the
 * caller's recall; NFS4ERR_RESOURCE when no record or thread can be had
 * (the caller copies synchronously instead).
 */
nfsstat4 nfs4_copy_start_async(struct nfs4_compound *c, struct pmem_obj *src, uint64_t src_off,
			       struct pmem_obj *dst, uint64_t dst_off, uint64_t count,
			       stateid4 *sid);

/* A copy's errno as COPY answers it (also the synchronous one's). */
nfsstat4 nfs4_copy_errno_status(int err);

/* A courtesy client lost its state to a conflict: its copy stops (no
 * CB_OFFLOAD). nfs4_stid_expire's hook; state lock held. */
void nfs4_copy_expire(struct nfs4_stid *stid);
/* Destroys copies that ended longer than a lease ago. State lock held. */
void nfs4_copy_reap(struct nfs4_server *srv);
/* Waits until every worker has stopped (after the clients and their
 * stateids are gone, which cancelled their copies), at most 60 s. State
 * lock held. Returns how many workers still run (they still reach srv). */
unsigned nfs4_copy_shutdown(struct nfs4_server *srv);

struct nfs4_copy_stats {
	uint64_t started, completed, cancelled, refused, callbacks_answered;
};
/* State lock held. */
void nfs4_copy_stats(const struct nfs4_server *srv, struct nfs4_copy_stats *out);

/* A server's copies (srv->copies); under the state lock but options, which
 * are set once at start. */
struct nfs4_copies {
	struct nfs4_copy_options options;
	struct list_node list;          /* struct nfs4_copy.node, while its stateid lives */
	unsigned running;               /* workers */
	struct nfs4_copy_stats stats;
};
void nfs4_copies_init(struct nfs4_copies *cs);

#endif
