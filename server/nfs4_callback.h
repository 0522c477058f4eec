/*
 * server/nfs4_callback.h: calls to clients over the NFSv4.1 backchannel.
 *
 * Job: send CB_COMPOUND requests (CB_SEQUENCE prepended, the session's back
 * channel slot 0 managed here) on a client's back channel connection, from
 * one callback thread (never from an RPC worker), and report the outcome
 * asynchronously. A failure or timeout marks the session's back channel
 * down (SEQ4_STATUS_CB_PATH_DOWN*). Later users: CB_RECALL, CB_LAYOUTRECALL.
 * Calls: rpc/rpc.h (rpc_call_sync), generated codecs. Called by: server/,
 * later layout/.
 */
#ifndef DAXNFS_SERVER_NFS4_CALLBACK_H
#define DAXNFS_SERVER_NFS4_CALLBACK_H

#include "server/nfs4_state.h"

/*
 * Outcome of a callback: err is 0 when a CB_COMPOUND reply was decoded
 * (status is then its overall status and res its results, valid only during
 * the call), or -ENOTCONN (no usable back channel), -ETIMEDOUT,
 * -ECONNRESET, -EPROTO. Called from the callback thread without the state
 * lock held.
 */
typedef void (*nfs4_cb_done_fn)(void *ctx, int err, nfsstat4 status,
				const CB_COMPOUND4res *res);

/*
 * Queues a CB_COMPOUND of ops (after a CB_SEQUENCE) to clp on a session with
 * a working back channel. ops (and what they point to) must stay valid until
 * done is called; when this returns 0, done is called exactly once, else
 * never. Call with the state lock held.
 * Returns 0, -ENOTCONN when clp has no back channel, -ENOMEM.
 */
int nfs4_cb_send(struct nfs4_client *clp, const nfs_cb_argop4 *ops, uint32_t nops,
		 nfs4_cb_done_fn done, void *ctx);

#endif
