/*
 * server/nfs4_callback.h: calls to clients over the NFSv4.1 backchannel.
 *
 * Job: send CB_COMPOUND requests (CB_SEQUENCE prepended, the session's back
 * channel slot 0 managed here by the rules of RFC 8881 §2.10.6 as they apply
 * to the server as requester) on a client's back channel connection, from
 * one callback thread (never from an RPC worker), and report the outcome
 * asynchronously. Every CB_COMPOUND carries the minor version of the session
 * whose back channel it uses (RFC 8881 §2.10.3.1, §20). A failure marks the
 * session's back channel down (SEQ4_STATUS_CB_PATH_DOWN*, nfs4_cb_probe.c).
 * Later users: CB_RECALL, CB_LAYOUTRECALL.
 * Calls: rpc/rpc.h (rpc_call_sync), generated codecs, nfs4_session.h.
 * Called by: server/, later layout/.
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

/*
 * What one CB_COMPOUND attempt means for the back channel slot and the
 * path (RFC 8881 §2.10.6.1, from the requester's side):
 */
enum nfs4_cb_seq_verdict {
	NFS4_CB_SEQ_DONE,        /* CB_SEQUENCE succeeded: the slot was used, the path works */
	NFS4_CB_SEQ_DELAY,       /* NFS4ERR_DELAY: not used; the same sequence id, later */
	NFS4_CB_SEQ_MISORDERED,  /* the client's slot disagrees: start the slot over at 1 */
	NFS4_CB_SEQ_UNCACHED,    /* a retry of a call it executed: used; the next id */
	NFS4_CB_SEQ_LOST,        /* no reply: unknown; the next call is a retry (same id) */
	NFS4_CB_SEQ_FAILED,      /* any other answer: not used; the path is down */
};

/*
 * Judges one attempt: err as for nfs4_cb_done_fn; have_seq when the reply
 * holds a CB_SEQUENCE result, whose status is seq_status.
 */
enum nfs4_cb_seq_verdict nfs4_cb_seq_judge(int err, bool have_seq, nfsstat4 seq_status);

#endif
