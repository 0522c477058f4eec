/*
 * server/nfs4_callback.h: the callback engine — calls to clients over the
 * NFSv4.1 back channel (RFC 8881 §2.10.3.1, §20).
 *
 * Job: one struct nfs4_cb per callback, embedded in the state it concerns
 * (a session's probe, a delegation's CB_RECALL, later a layout's
 * CB_LAYOUTRECALL), driven through named phases by one engine thread that
 * never waits for a client: sends are asynchronous (rpc_call_start), replies
 * come back by xid on whatever thread read them and are processed by the
 * engine, so any number of callbacks are in flight across clients, and up to
 * the session's back channel slot count per session. Each CB_COMPOUND starts
 * with a CB_SEQUENCE on a free back channel slot (RFC 8881 §2.10.6.1 from the
 * requester's side, nfs4_cb_seq_judge) and carries the minor version of the
 * session whose back channel it uses. An attempt that gets no answer marks
 * the path down (SEQ4_STATUS_CB_PATH_DOWN*, nfs4_cb_probe.c) and the
 * callback waits for a working path (a client's BIND_CONN_TO_SESSION or new
 * session brings a probe, a good probe wakes it) until its deadline, when
 * its owner is told (-ETIME) and decides (a recall revokes).
 * Decision record: docs/decisions/0004-callback-engine.md.
 * Calls: rpc/rpc.h (rpc_call_start, rpc_call_cancel), generated codecs,
 * nfs4_session.h, nfs4_cb_probe.c. Called by: nfs4_session.c (probes),
 * nfs4_deleg*.c (recalls), nfs4_server.c (start, stop), later layout/ via
 * server/.
 */
#ifndef DAXNFS_SERVER_NFS4_CALLBACK_H
#define DAXNFS_SERVER_NFS4_CALLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "rpc/arena.h"
#include "rpc/rpc.h"
#include "server/list.h"
#include "server/nfs4_state.h"

struct nfs4_cb;
struct nfs4_session;

/*
 * What the embedding state does at each step. Every hook runs on the engine
 * thread with the state lock held.
 *  prepare  the operations to send after CB_SEQUENCE, built in arena (which
 *           lives until the attempt ends, so copy what may change); false
 *           when the call is not wanted any more (the engine ends it, no
 *           done). NULL: nothing after CB_SEQUENCE (a probe).
 *  done     an attempt was answered (err 0: status is the CB_COMPOUND's and
 *           res its results, valid during the call only), or the deadline
 *           passed first (err -ETIME, res NULL). Returns -1 when the callback
 *           is finished, else the delay in ms before it goes out again.
 *  release  the engine lets go of cb; the embedding state may be freed.
 */
struct nfs4_cb_ops {
	const char *name;
	bool (*prepare)(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
			uint32_t *nops);
	int64_t (*done)(struct nfs4_cb *cb, int err, nfsstat4 status,
			const CB_COMPOUND4res *res);
	void (*release)(struct nfs4_cb *cb);
};

/*
 * The phases of one callback:
 *   IDLE      not in the engine (never started, or finished and released)
 *   WAITING   queued: for its not-before time (back-off, NFS4ERR_DELAY), a
 *             session with a usable back channel, or a free slot on it
 *   INFLIGHT  sent; the reply, the connection's close or the attempt's
 *             timeout ends the attempt
 *   ANSWERED  the attempt ended (reply or error) and waits for the engine
 * ANSWERED goes back to WAITING (retry) or to IDLE (finished).
 */
enum nfs4_cb_phase {
	NFS4_CB_IDLE = 0,
	NFS4_CB_WAITING,
	NFS4_CB_INFLIGHT,
	NFS4_CB_ANSWERED,
};

struct nfs4_cb_engine;

struct nfs4_cb {
	const struct nfs4_cb_ops *ops;
	enum nfs4_cb_phase phase;
	struct nfs4_client *clp;          /* referenced while not IDLE */
	struct nfs4_cb_engine *engine;    /* the engine it was started in */
	struct nfs4_session *probe_of;    /* a probe: its session (referenced while not IDLE) */
	bool cancelled;                   /* the owner no longer wants it: end at the next step */
	int64_t deadline_ms;              /* monotonic; 0 = none */
	int64_t not_before_ms;
	unsigned attempts, delays, resends;
	bool slot_reset;                  /* SEQ_MISORDERED restarted the slot once */
	/* probes */
	bool admitted;                    /* counted against the client's probe budget */
	bool null_ok;                     /* its CB_NULL got through on this connection */
	bool null_phase;                  /* the attempt in flight is the CB_NULL */
	/* the attempt in flight (INFLIGHT, ANSWERED) */
	struct nfs4_session *s;           /* referenced */
	struct rpc_xprt *x;               /* referenced */
	uint32_t slot, xid;
	sequenceid4 seq;
	int64_t attempt_deadline_ms;
	struct arena arena;
	CB_COMPOUND4args args;
	struct rpc_reply reply;
	struct nfs4_cb *answered_next;    /* on the engine's answered list */
	struct list_node node;            /* on the engine's waiting or in-flight list */
};

/* Prepares cb (zeroed) for ops; call once, when the embedding state is made. */
void nfs4_cb_setup(struct nfs4_cb *cb, const struct nfs4_cb_ops *ops);
/*
 * Starts cb for clp, to finish by deadline_ms (monotonic, 0 = none): the
 * engine holds a reference on clp until it releases cb. 0, -EBUSY when cb is
 * not IDLE, -ESHUTDOWN when the engine is stopped. State lock held.
 */
int nfs4_cb_start(struct nfs4_cb *cb, struct nfs4_client *clp, int64_t deadline_ms);
/* Asks the engine to end cb at its next step without calling done (its
 * release still comes). State lock held. */
void nfs4_cb_cancel(struct nfs4_cb *cb);
/* Something changed that may let waiting callbacks go (a back channel came
 * up, a deadline moved): wakes srv's engine. State lock held (it reads
 * srv->cb_engine, which the engine's shutdown clears under that lock). */
void nfs4_cb_kick(struct nfs4_server *srv);
/* Monotonic milliseconds, the engine's clock. */
int64_t nfs4_cb_now_ms(void);
/* How many callbacks are in flight now (admin, tests). State lock held. */
unsigned nfs4_cb_inflight_count(const struct nfs4_server *srv);

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
 * Judges one attempt: err 0 when a CB_COMPOUND reply was decoded, else
 * -ETIMEDOUT, -ECONNRESET, -ENOTCONN (lost) or another -errno (failed);
 * have_seq when the reply holds a CB_SEQUENCE result, whose status is
 * seq_status.
 */
enum nfs4_cb_seq_verdict nfs4_cb_seq_judge(int err, bool have_seq, nfsstat4 seq_status);

/* The engine's life: started by nfs4_server_init, stopped at shutdown. */
int nfs4_cb_init(struct nfs4_server *srv);
void nfs4_cb_shutdown(struct nfs4_server *srv);

#endif
