/*
 * server/nfs4_callback.c: the backchannel (RFC 8881 §2.10.3.1, §20.9
 * CB_SEQUENCE): probes of new back channels (CB_NULL, then a CB_COMPOUND
 * holding only CB_SEQUENCE) and CB_COMPOUNDs for other server code.
 *
 * One callback thread serves a queue of work items, so no RPC worker ever
 * waits for a client, and the one back channel slot (slot 0) of a session is
 * used by one call at a time. Each item holds a session reference; the state
 * lock is taken only to read the session's back channel and to record the
 * outcome, never across the network wait.
 * Calls: rpc/rpc.h (rpc_call_sync), generated codecs, nfs4_session.h.
 * Called by: nfs4_session.c (probe), nfs4_server.c, later recall code.
 */
#include "server/nfs4_callback.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "server/nfs4_session.h"

#define CB_PROC_NULL 0u
#define CB_PROC_COMPOUND 1u
#define CB_VERSION 1u

struct cb_work {
	struct cb_work *next;
	struct nfs4_session *s;        /* referenced */
	bool probe;
	const nfs_cb_argop4 *ops;
	uint32_t nops;
	nfs4_cb_done_fn done;
	void *ctx;
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct cb_work *q_head, *q_tail;
static bool q_stop, q_running;
static pthread_t q_thread;

static int cb_timeout_ms(void)
{
	int ms = (int)nfs4_lease_time() * 1000 / 5;

	return ms < 2000 ? 2000 : ms;
}

static void enqueue(struct cb_work *w)
{
	pthread_mutex_lock(&q_lock);
	if (q_tail)
		q_tail->next = w;
	else
		q_head = w;
	q_tail = w;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

void nfs4_cb_probe(struct nfs4_session *s)
{
	struct cb_work *w = calloc(1, sizeof(*w));

	s->cb_state = NFS4_CB_PROBING;
	if (!w) {
		s->cb_state = NFS4_CB_DOWN;
		return;
	}
	w->probe = true;
	w->s = s;
	nfs4_session_get(s);
	enqueue(w);
}

int nfs4_cb_send(struct nfs4_client *clp, const nfs_cb_argop4 *ops, uint32_t nops,
		 nfs4_cb_done_fn done, void *ctx)
{
	struct nfs4_session *best = NULL;
	struct list_node *pos, *tmp;
	struct cb_work *w;

	list_for_each_safe(pos, tmp, &clp->sessions) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, client_node);

		if (!s->back_xprt)
			continue;
		if (s->cb_state == NFS4_CB_UP) {
			best = s;
			break;
		}
		if (s->cb_state == NFS4_CB_PROBING && !best)
			best = s;
	}
	if (!best)
		return -ENOTCONN;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = best;
	nfs4_session_get(best);
	w->ops = ops;
	w->nops = nops;
	w->done = done;
	w->ctx = ctx;
	enqueue(w);
	return 0;
}

static bool enc_cb_compound(struct xdr_stream *x, const void *args)
{
	return xdr_enc_CB_COMPOUND4args(x, args);
}

/* One CB_COMPOUND: CB_SEQUENCE on slot 0, then w's ops. */
static void run_compound(struct cb_work *w, struct rpc_xprt *x, uint32_t prog,
			 const struct rpc_cred *cred, const sessionid4 sid, sequenceid4 seq,
			 bool *path_ok, bool *seq_used)
{
	struct arena a;
	CB_COMPOUND4args args;
	CB_COMPOUND4res res;
	struct rpc_reply rep;
	struct xdr_stream xs;
	nfs_cb_argop4 *ops;
	nfsstat4 status = NFS4ERR_SERVERFAULT;
	int err;

	arena_init(&a, 0);
	memset(&rep, 0, sizeof(rep));
	memset(&args, 0, sizeof(args));
	memset(&res, 0, sizeof(res));
	ops = arena_alloc(&a, (w->nops + 1) * sizeof(*ops));
	if (!ops) {
		err = -ENOMEM;
		goto done;
	}
	ops[0].argop = OP_CB_SEQUENCE;
	memcpy(ops[0].u.opcbsequence.csa_sessionid, sid, sizeof(sessionid4));
	ops[0].u.opcbsequence.csa_sequenceid = seq;
	ops[0].u.opcbsequence.csa_slotid = 0;
	ops[0].u.opcbsequence.csa_highest_slotid = 0;
	ops[0].u.opcbsequence.csa_cachethis = false;
	if (w->nops)
		memcpy(ops + 1, w->ops, w->nops * sizeof(*ops));
	args.minorversion = 1;
	args.argarray.len = w->nops + 1;
	args.argarray.val = ops;
	err = rpc_call_sync(x, prog, CB_VERSION, CB_PROC_COMPOUND, cred, enc_cb_compound, &args,
			    cb_timeout_ms(), &rep);
	if (err == 0 && rep.accept_stat != RPC_SUCCESS)
		err = -EPROTO;
	if (err == 0) {
		xdr_init_decode(&xs, rep.body, rep.body_len, &a);
		if (!xdr_dec_CB_COMPOUND4res(&xs, &res))
			err = -EPROTO;
	}
	if (err == 0) {
		status = res.status;
		if (res.resarray.len > 0 && res.resarray.val[0].resop == OP_CB_SEQUENCE) {
			nfsstat4 sst = res.resarray.val[0].u.opcbsequence.csr_status;

			*seq_used = sst != NFS4ERR_SEQ_MISORDERED && sst != NFS4ERR_BADSLOT &&
				    sst != NFS4ERR_BADSESSION;
			*path_ok = sst == NFS4_OK;
		}
	}
done:
	if (w->done)
		w->done(w->ctx, err, status, err == 0 ? &res : NULL);
	rpc_reply_release(&rep);
	arena_release(&a);
}

static void run_work(struct cb_work *w)
{
	struct nfs4_session *s = w->s;
	struct rpc_xprt *x = NULL;
	struct rpc_cred cred;
	bool use_cred, path_ok = false, seq_used = false;
	uint32_t prog;
	sessionid4 sid;
	sequenceid4 seq;

	nfs4_state_lock();
	if (!s->dead && s->back_xprt) {
		x = s->back_xprt;
		rpc_xprt_get(x);
		prog = s->cb_program;
		use_cred = s->cb_auth_sys;
		cred = s->cb_cred;
		memcpy(sid, s->id, sizeof(sid));
		seq = s->cb_seq + 1;
	}
	nfs4_state_unlock();
	if (!x) {
		if (w->done)
			w->done(w->ctx, -ENOTCONN, NFS4ERR_SERVERFAULT, NULL);
		goto out;
	}
	if (w->probe) {
		struct rpc_reply rep;
		int err = rpc_call_sync(x, prog, CB_VERSION, CB_PROC_NULL, use_cred ? &cred : NULL,
					NULL, NULL, cb_timeout_ms(), &rep);

		path_ok = err == 0 && rep.accept_stat == RPC_SUCCESS;
		if (err == 0)
			rpc_reply_release(&rep);
		if (!path_ok)
			log_info("nfs4", "back channel probe: CB_NULL failed (%d)", err);
	}
	if (!w->probe || path_ok) {
		path_ok = false;
		run_compound(w, x, prog, use_cred ? &cred : NULL, sid, seq, &path_ok, &seq_used);
	}
	nfs4_state_lock();
	if (!s->dead && s->back_xprt == x) {
		if (seq_used)
			s->cb_seq = seq;
		s->cb_state = path_ok ? NFS4_CB_UP : NFS4_CB_DOWN;
	}
	nfs4_state_unlock();
	log_debug("nfs4", "back channel %s", path_ok ? "up" : "down");
	rpc_xprt_put(x);
out:
	nfs4_state_lock();
	nfs4_session_put(s);
	nfs4_state_unlock();
	free(w);
}

static void *cb_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_lock);
	while (!q_stop) {
		struct cb_work *w = q_head;

		if (!w) {
			pthread_cond_wait(&q_cond, &q_lock);
			continue;
		}
		q_head = w->next;
		if (!q_head)
			q_tail = NULL;
		pthread_mutex_unlock(&q_lock);
		run_work(w);
		pthread_mutex_lock(&q_lock);
	}
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

int nfs4_cb_init(void)
{
	int rc;

	q_stop = false;
	rc = pthread_create(&q_thread, NULL, cb_thread, NULL);
	if (rc != 0)
		return -rc;
	q_running = true;
	return 0;
}

void nfs4_cb_shutdown(void)
{
	struct cb_work *w;

	if (q_running) {
		pthread_mutex_lock(&q_lock);
		q_stop = true;
		pthread_cond_signal(&q_cond);
		pthread_mutex_unlock(&q_lock);
		pthread_join(q_thread, NULL);
		q_running = false;
	}
	while ((w = q_head)) {
		q_head = w->next;
		if (w->done)
			w->done(w->ctx, -ECONNRESET, NFS4ERR_SERVERFAULT, NULL);
		nfs4_state_lock();
		nfs4_session_put(w->s);
		nfs4_state_unlock();
		free(w);
	}
	q_tail = NULL;
}

/* ---- connections going away ---- */

static void conn_closed(struct rpc_xprt *x, void *ctx)
{
	(void)ctx;
	nfs4_state_lock();
	nfs4_sessions_xprt_gone(x);
	nfs4_state_unlock();
}

void nfs4_conn_watch(struct rpc_xprt *x)
{
	x->on_close_ctx = NULL;
	x->on_close = conn_closed;
	/* Closed before we watched it: nobody will call us. */
	if (atomic_load(&x->dead))
		nfs4_sessions_xprt_gone(x);
}
