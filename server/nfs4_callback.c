/*
 * server/nfs4_callback.c: the backchannel engine (RFC 8881 §2.10.3.1, §20.9
 * CB_SEQUENCE): probes of back channels (CB_NULL, then a CB_COMPOUND
 * holding only CB_SEQUENCE) and CB_COMPOUNDs for other server code.
 *
 * One callback thread serves a queue of work items, each with the time it
 * may run at (a call answered NFS4ERR_DELAY and a probe that backs off wait
 * there, never in a loop), so no RPC worker ever waits for a client, and
 * the one back channel slot (slot 0) of a session is used by one call at a
 * time. Each item holds a session reference; the state lock is taken only
 * to read the session's back channel and to record the outcome, never
 * across the network wait.
 *
 * Slot 0's sequence id (RFC 8881 §2.10.6.1, the server as requester):
 * advanced only when the client used the slot (CB_SEQUENCE succeeded, or it
 * said RETRY_UNCACHED_REP); after NFS4ERR_DELAY the same id is sent again
 * later; after a lost reply the next call carries the same id, so it is a
 * retry to the client; SEQ_MISORDERED starts the slot over at 1 once.
 * Calls: rpc/rpc.h (rpc_call_sync), generated codecs, nfs4_session.h,
 * nfs4_cb_probe.c (path state). Called by: nfs4_session.c (probe),
 * nfs4_server.c, later recall code.
 */
#include "server/nfs4_callback.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_cb_probe.h"
#include "server/nfs4_session.h"

#define CB_PROC_NULL 0u
#define CB_PROC_COMPOUND 1u
#define CB_VERSION 1u
/* NFS4ERR_DELAY: wait this long before the same call again, at most
 * CB_MAX_DELAYS times (knfsd waits 2 s between such retries). */
#define CB_DELAY_MS 1000
#define CB_MAX_DELAYS 10
/* Immediate resends after SEQ_MISORDERED or RETRY_UNCACHED_REP. */
#define CB_MAX_RESENDS 2

struct cb_work {
	struct cb_work *next;
	struct nfs4_session *s;        /* referenced */
	bool probe;
	int64_t not_before_ms;         /* monotonic */
	unsigned delays;               /* NFS4ERR_DELAY answers so far */
	unsigned resends;
	bool slot_reset;               /* SEQ_MISORDERED already restarted the slot */
	bool admitted;                 /* a probe counted against the budget once */
	bool null_ok;                  /* its CB_NULL got through on this connection */
	const nfs_cb_argop4 *ops;
	uint32_t nops;
	nfs4_cb_done_fn done;
	void *ctx;
};

/* The queue and its thread: one per process, like the state lock it works
 * beside (decision 0002); the callback engine of the delegation work makes
 * it an object of the server. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond;
static struct cb_work *q_head;
static bool q_stop, q_running;
static pthread_t q_thread;

int64_t nfs4_cb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cb_timeout_ms(void)
{
	int ms = (int)nfs4_lease_time() * 1000 / 5;

	return ms < 2000 ? 2000 : ms;
}

static void enqueue(struct cb_work *w)
{
	pthread_mutex_lock(&q_lock);
	w->next = q_head;
	q_head = w;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

void nfs4_cb_queue_probe(struct nfs4_session *s, int64_t not_before_ms)
{
	struct cb_work *w = calloc(1, sizeof(*w));

	if (!w) {
		nfs4_cb_probe_finished(s, false, "no memory for the probe");
		return;
	}
	w->probe = true;
	w->s = s;
	w->not_before_ms = not_before_ms;
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

enum nfs4_cb_seq_verdict nfs4_cb_seq_judge(int err, bool have_seq, nfsstat4 seq_status)
{
	if (err == -ETIMEDOUT || err == -ECONNRESET || err == -ENOTCONN)
		return NFS4_CB_SEQ_LOST;
	if (err != 0 || !have_seq)
		return NFS4_CB_SEQ_FAILED;
	switch (seq_status) {
	case NFS4_OK:                    return NFS4_CB_SEQ_DONE;
	case NFS4ERR_DELAY:              return NFS4_CB_SEQ_DELAY;
	case NFS4ERR_SEQ_MISORDERED:     return NFS4_CB_SEQ_MISORDERED;
	case NFS4ERR_RETRY_UNCACHED_REP: return NFS4_CB_SEQ_UNCACHED;
	default:                         return NFS4_CB_SEQ_FAILED;
	}
}

static bool enc_cb_compound(struct xdr_stream *x, const void *args)
{
	return xdr_enc_CB_COMPOUND4args(x, args);
}

/* What the session's back channel looked like when the work item started. */
struct cb_target {
	struct rpc_xprt *x;            /* referenced */
	uint32_t prog, minor;
	bool use_cred;
	struct rpc_cred cred;
	sessionid4 sid;
	sequenceid4 seq;
};

/* One attempt's result; res points into arena and rep. */
struct cb_attempt {
	struct arena arena;
	struct rpc_reply rep;
	CB_COMPOUND4res res;
	int err;
	nfsstat4 status;               /* the CB_COMPOUND's, when err == 0 */
	bool have_seq;
	nfsstat4 seq_status;
	char reason[96];               /* why the path failed, for the log */
};

static void attempt_release(struct cb_attempt *at)
{
	rpc_reply_release(&at->rep);
	arena_release(&at->arena);
}

static void describe_err(char *buf, size_t cap, const char *what, int err, uint32_t accept_stat)
{
	if (err == -EPROTO && accept_stat)
		snprintf(buf, cap, "%s: RPC accept status %u", what, accept_stat);
	else
		snprintf(buf, cap, "%s: %s", what, strerror(-err));
}

/* CB_NULL: only to see that someone serves the callback program. */
static bool probe_null(const struct cb_target *t, struct cb_attempt *at)
{
	struct rpc_reply rep;
	int err = rpc_call_sync(t->x, t->prog, CB_VERSION, CB_PROC_NULL,
				t->use_cred ? &t->cred : NULL, NULL, NULL, cb_timeout_ms(), &rep);
	uint32_t accept = 0;

	if (err == 0) {
		accept = rep.accept_stat;
		rpc_reply_release(&rep);
		if (accept == RPC_SUCCESS)
			return true;
		err = -EPROTO;
	}
	at->err = err;
	describe_err(at->reason, sizeof(at->reason), "CB_NULL", err, accept);
	return false;
}

/* One CB_COMPOUND: CB_SEQUENCE on slot 0 with t->seq, then w's ops. */
static void run_compound(const struct cb_work *w, const struct cb_target *t, struct cb_attempt *at)
{
	CB_COMPOUND4args args;
	struct xdr_stream xs;
	nfs_cb_argop4 *ops;
	char nb[24];
	int err;

	memset(&args, 0, sizeof(args));
	ops = arena_alloc(&at->arena, (w->nops + 1) * sizeof(*ops));
	if (!ops) {
		err = -ENOMEM;
		goto out;
	}
	memset(&ops[0], 0, sizeof(ops[0]));
	ops[0].argop = OP_CB_SEQUENCE;
	memcpy(ops[0].u.opcbsequence.csa_sessionid, t->sid, sizeof(sessionid4));
	ops[0].u.opcbsequence.csa_sequenceid = t->seq;
	ops[0].u.opcbsequence.csa_slotid = 0;
	ops[0].u.opcbsequence.csa_highest_slotid = 0;
	ops[0].u.opcbsequence.csa_cachethis = false;
	if (w->nops)
		memcpy(ops + 1, w->ops, w->nops * sizeof(*ops));
	args.minorversion = t->minor;
	args.argarray.len = w->nops + 1;
	args.argarray.val = ops;
	err = rpc_call_sync(t->x, t->prog, CB_VERSION, CB_PROC_COMPOUND,
			    t->use_cred ? &t->cred : NULL, enc_cb_compound, &args,
			    cb_timeout_ms(), &at->rep);
	if (err == 0 && at->rep.accept_stat != RPC_SUCCESS) {
		err = -EPROTO;
		describe_err(at->reason, sizeof(at->reason), "CB_COMPOUND", err,
			     at->rep.accept_stat);
		goto out;
	}
	if (err == 0) {
		xdr_init_decode(&xs, at->rep.body, at->rep.body_len, &at->arena);
		if (!xdr_dec_CB_COMPOUND4res(&xs, &at->res))
			err = -EPROTO;
	}
	if (err) {
		describe_err(at->reason, sizeof(at->reason), "CB_COMPOUND", err, 0);
		goto out;
	}
	at->status = at->res.status;
	if (at->res.resarray.len > 0 && at->res.resarray.val[0].resop == OP_CB_SEQUENCE) {
		at->have_seq = true;
		at->seq_status = at->res.resarray.val[0].u.opcbsequence.csr_status;
		snprintf(at->reason, sizeof(at->reason), "CB_SEQUENCE answered %s",
			 nfs4_status_name(at->seq_status, nb, sizeof(nb)));
	} else {
		snprintf(at->reason, sizeof(at->reason), "CB_COMPOUND answered %s",
			 nfs4_status_name(at->status, nb, sizeof(nb)));
	}
out:
	at->err = err;
}

/* Reads the session's back channel; false when it has none any more. */
static bool target_take(struct nfs4_session *s, struct cb_target *t)
{
	bool ok = false;

	nfs4_state_lock();
	if (!s->dead && s->back_xprt) {
		t->x = s->back_xprt;
		rpc_xprt_get(t->x);
		t->prog = s->cb_program;
		t->minor = s->cb_minorversion;
		t->use_cred = s->cb_auth_sys;
		t->cred = s->cb_cred;
		memcpy(t->sid, s->id, sizeof(sessionid4));
		t->seq = s->cb_seq + 1;
		ok = true;
	}
	nfs4_state_unlock();
	return ok;
}

/*
 * Applies the verdict of one attempt to slot 0 (state lock held, and the
 * session still on the same connection). Returns the delay in ms after
 * which w goes out again, or -1 when w is finished.
 */
static int64_t slot_apply(struct nfs4_session *s, struct cb_work *w, const struct cb_target *t,
			  enum nfs4_cb_seq_verdict v)
{
	switch (v) {
	case NFS4_CB_SEQ_DONE:
		s->cb_seq = t->seq;
		return -1;
	case NFS4_CB_SEQ_UNCACHED:
		s->cb_seq = t->seq;
		return w->resends++ < CB_MAX_RESENDS ? 0 : -1;
	case NFS4_CB_SEQ_MISORDERED:
		if (w->slot_reset || t->seq == 1)
			return -1;
		w->slot_reset = true;
		s->cb_seq = 0;
		return 0;
	case NFS4_CB_SEQ_DELAY:
		return w->delays++ < CB_MAX_DELAYS ? CB_DELAY_MS : -1;
	case NFS4_CB_SEQ_LOST:
	case NFS4_CB_SEQ_FAILED:
		return -1;
	}
	return -1;
}

static void work_free(struct cb_work *w)
{
	nfs4_state_lock();
	nfs4_session_put(w->s);
	nfs4_state_unlock();
	free(w);
}

static void run_work(struct cb_work *w)
{
	struct nfs4_session *s = w->s;
	struct cb_target t = { 0 };
	struct cb_attempt at;
	enum nfs4_cb_seq_verdict v;
	int64_t again = -1;
	bool current, requeue = false;

	memset(&at, 0, sizeof(at));
	arena_init(&at.arena, 0);
	if (!target_take(s, &t)) {
		if (w->probe) {
			nfs4_state_lock();
			if (!s->dead)
				s->cb_probe_queued = false;   /* no connection: state is NONE */
			nfs4_state_unlock();
		} else if (w->done) {
			w->done(w->ctx, -ENOTCONN, NFS4ERR_SERVERFAULT, NULL);
		}
		goto out;
	}
	/* A probe is counted once, however often DELAY makes it go again (a
	 * Linux client often answers the first CB_SEQUENCE of a new session
	 * NFS4ERR_DELAY), and its CB_NULL is sent once per connection. */
	if (w->probe && !w->admitted) {
		int64_t later = nfs4_cb_probe_admit(s);

		if (later > 0) {   /* over the client's probe budget: wait */
			w->not_before_ms = later;
			requeue = true;
			goto out;
		}
		w->admitted = true;
	}
	if (w->probe && !w->null_ok)
		w->null_ok = probe_null(&t, &at);
	if (!w->probe || w->null_ok)
		run_compound(w, &t, &at);
	v = nfs4_cb_seq_judge(at.err, at.have_seq, at.seq_status);

	nfs4_state_lock();
	current = !s->dead && s->back_xprt == t.x;
	if (current)
		again = slot_apply(s, w, &t, v);
	if (again < 0 && current) {
		if (w->probe)
			nfs4_cb_probe_finished(s, v == NFS4_CB_SEQ_DONE, at.reason);
		else if (v != NFS4_CB_SEQ_DONE)
			nfs4_cb_path_failed(s, at.reason);
	} else if (!current && w->probe && !s->dead) {
		/* A new connection was bound while this probe ran on the old
		 * one: the probe asked for meanwhile was folded into this one,
		 * so it goes again, now, on the new connection. */
		if (s->back_xprt) {
			w->delays = 0;
			w->resends = 0;
			w->slot_reset = false;
			w->null_ok = false;
			again = 0;
		} else {
			s->cb_probe_queued = false;
		}
	}
	nfs4_state_unlock();
	if (again >= 0) {
		log_debug("nfs4", "back channel: %s; the same call again in %lld ms", at.reason,
			  (long long)again);
		w->not_before_ms = nfs4_cb_now_ms() + again;
		requeue = true;
	} else if (!w->probe && w->done) {
		w->done(w->ctx, at.err, at.err ? NFS4ERR_SERVERFAULT : at.status,
			at.err ? NULL : &at.res);
	}
out:
	if (t.x)
		rpc_xprt_put(t.x);
	attempt_release(&at);
	if (requeue)
		enqueue(w);
	else
		work_free(w);
}

/* Takes the first item that may run now (q_lock held); else sets *wait_ms. */
static struct cb_work *take_ready(int64_t now, int64_t *wait_ms)
{
	struct cb_work **pp, **best = NULL;
	int64_t soonest = INT64_MAX;

	for (pp = &q_head; *pp; pp = &(*pp)->next) {
		if ((*pp)->not_before_ms <= now) {
			best = pp;   /* the oldest ready one: the list is newest first */
		} else if ((*pp)->not_before_ms < soonest) {
			soonest = (*pp)->not_before_ms;
		}
	}
	if (best) {
		struct cb_work *w = *best;

		*best = w->next;
		w->next = NULL;
		return w;
	}
	*wait_ms = soonest == INT64_MAX ? -1 : soonest - now;
	return NULL;
}

static void *cb_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_lock);
	while (!q_stop) {
		int64_t wait_ms = -1;
		struct cb_work *w = take_ready(nfs4_cb_now_ms(), &wait_ms);

		if (!w) {
			if (wait_ms < 0) {
				pthread_cond_wait(&q_cond, &q_lock);
			} else {
				struct timespec ts;

				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_sec += wait_ms / 1000;
				ts.tv_nsec += (wait_ms % 1000) * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&q_cond, &q_lock, &ts);
			}
			continue;
		}
		pthread_mutex_unlock(&q_lock);
		run_work(w);
		pthread_mutex_lock(&q_lock);
	}
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

int nfs4_cb_init(void)
{
	pthread_condattr_t ca;
	int rc;

	q_stop = false;
	rc = pthread_condattr_init(&ca);
	if (rc == 0) {
		rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (rc == 0)
			rc = pthread_cond_init(&q_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (rc != 0)
		return -rc;
	rc = pthread_create(&q_thread, NULL, cb_thread, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&q_cond);
		return -rc;
	}
	q_running = true;
	return 0;
}

void nfs4_cb_shutdown(void)
{
	struct cb_work *w;

	if (!q_running)
		return;
	pthread_mutex_lock(&q_lock);
	q_stop = true;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	pthread_join(q_thread, NULL);
	q_running = false;
	while ((w = q_head)) {
		q_head = w->next;
		if (!w->probe && w->done)
			w->done(w->ctx, -ECONNRESET, NFS4ERR_SERVERFAULT, NULL);
		work_free(w);
	}
	pthread_cond_destroy(&q_cond);
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
