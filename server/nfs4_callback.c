/*
 * server/nfs4_callback.c: the callback engine (see nfs4_callback.h and
 * docs/decisions/0004-callback-engine.md).
 *
 * One engine thread runs every step of every callback; nothing else does.
 * Its lists: waiting and in-flight callbacks (guarded by the state lock,
 * which every step needs anyway for sessions and slots), and answered ones
 * (guarded by the engine's own lock, because replies arrive on the threads
 * that read them, which hold no state lock). Lock order: state lock, then
 * engine lock; rpc/'s table lock is a leaf. The engine sends and cancels
 * only after dropping the state lock, so a client whose socket is full
 * delays its own callbacks, not the state of others.
 *
 * Back channel slots (RFC 8881 §2.10.6.1, the server as requester): each
 * in-flight CB_COMPOUND holds one slot of its session; the slot's sequence
 * id advances only when the client used the slot (CB_SEQUENCE succeeded, or
 * it said RETRY_UNCACHED_REP); after NFS4ERR_DELAY the same id goes again
 * 1 s later (at most 10 times); after a lost reply the next call on the slot
 * carries the same id, a retry to the client; SEQ_MISORDERED restarts the
 * slot at 1 once.
 * Calls: rpc/rpc.h, generated codecs, nfs4_session.h, nfs4_cb_probe.c.
 * Called by: see nfs4_callback.h.
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
#include "server/nfs4_instance.h"
#include "server/nfs4_session.h"

#define CB_PROC_NULL 0u
#define CB_PROC_COMPOUND 1u
#define CB_VERSION 1u
/* NFS4ERR_DELAY on CB_SEQUENCE: wait this long before the same call again,
 * at most CB_MAX_DELAYS times (knfsd waits 2 s between such retries). */
#define CB_DELAY_MS 1000
#define CB_MAX_DELAYS 10
/* Immediate resends after SEQ_MISORDERED or RETRY_UNCACHED_REP. */
#define CB_MAX_RESENDS 2
/* A callback without a usable path looks again this often (besides kicks). */
#define CB_PATH_RECHECK_MS 1000

/* The engine: one per server (srv->cb_engine); a callback in it keeps a
 * pointer to it (cb->engine), which a reply on any thread uses. */
struct nfs4_cb_engine {
	struct nfs4_server *srv;          /* the server whose callbacks these are */
	pthread_mutex_t lock;             /* answered, kicked, stop */
	pthread_cond_t cond;              /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool stop, kicked;
	struct nfs4_cb *answered;         /* newest first */
	/* under the state lock */
	struct list_node waiting, inflight;
	unsigned ninflight;
	bool accepting;
};


int64_t nfs4_cb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t cb_timeout_ms(const struct nfs4_cb_engine *e)
{
	int64_t ms = (int64_t)e->srv->lease_seconds * 1000 / 5;

	return ms < 2000 ? 2000 : ms;
}

static void engine_kick(struct nfs4_cb_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->kicked = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

void nfs4_cb_kick(struct nfs4_server *srv)
{
	engine_kick(srv->cb_engine);
}

void nfs4_cb_setup(struct nfs4_cb *cb, const struct nfs4_cb_ops *ops)
{
	memset(cb, 0, sizeof(*cb));
	cb->ops = ops;
	list_init(&cb->node);
}

static void cb_reset_attempts(struct nfs4_cb *cb)
{
	cb->attempts = cb->delays = cb->resends = 0;
	cb->slot_reset = cb->admitted = cb->null_ok = false;
}

int nfs4_cb_start(struct nfs4_cb *cb, struct nfs4_client *clp, int64_t deadline_ms)
{
	struct nfs4_cb_engine *e = clp->srv->cb_engine;

	if (!e || !e->accepting)
		return -ESHUTDOWN;
	if (cb->phase != NFS4_CB_IDLE)
		return -EBUSY;
	cb_reset_attempts(cb);
	cb->cancelled = false;
	cb->clp = clp;
	cb->engine = e;
	nfs4_client_get(clp);
	cb->deadline_ms = deadline_ms;
	if (!cb->not_before_ms)
		cb->not_before_ms = nfs4_cb_now_ms();
	cb->phase = NFS4_CB_WAITING;
	list_add_tail(&cb->node, &e->waiting);
	engine_kick(e);
	return 0;
}

void nfs4_cb_cancel(struct nfs4_cb *cb)
{
	if (cb->phase == NFS4_CB_IDLE)
		return;
	cb->cancelled = true;
	engine_kick(cb->engine);
}

unsigned nfs4_cb_inflight_count(const struct nfs4_server *srv)
{
	return srv->cb_engine ? srv->cb_engine->ninflight : 0;
}

/* ---- probes: the session's own callback ---- */

static void probe_release(struct nfs4_cb *cb)
{
	(void)cb;   /* embedded in the session, which the engine's reference kept */
}

static const struct nfs4_cb_ops probe_ops = {
	.name = "probe",
	.release = probe_release,
};

void nfs4_cb_queue_probe(struct nfs4_session *s, int64_t not_before_ms)
{
	struct nfs4_cb *cb = &s->probe;

	if (cb->phase != NFS4_CB_IDLE)
		return;
	nfs4_cb_setup(cb, &probe_ops);
	cb->probe_of = s;
	nfs4_session_get(s);
	cb->not_before_ms = not_before_ms;
	if (nfs4_cb_start(cb, s->client, 0) < 0) {
		cb->probe_of = NULL;
		nfs4_session_put(s);
		nfs4_cb_probe_finished(s, false, "the callback engine is stopped");
	}
}

/* ---- the verdict of one attempt ---- */

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

/* What the reply of an attempt says (the reply's memory stays in cb). */
struct cb_outcome {
	int err;
	nfsstat4 status;
	CB_COMPOUND4res res;
	bool have_seq;
	nfsstat4 seq_status;
	char reason[96];                  /* why the path failed, for the log */
};

static void describe_err(char *buf, size_t cap, const char *what, int err, uint32_t accept_stat)
{
	if (err == -EPROTO && accept_stat)
		snprintf(buf, cap, "%s: RPC accept status %u", what, accept_stat);
	else
		snprintf(buf, cap, "%s: %s", what, strerror(-err));
}

static void outcome_read(struct nfs4_cb *cb, struct cb_outcome *o)
{
	const char *what = cb->null_phase ? "CB_NULL" : "CB_COMPOUND";
	struct xdr_stream xs;
	char nb[24];
	int err = cb->reply.status;

	memset(o, 0, sizeof(*o));
	if (err == 0 && cb->reply.accept_stat != RPC_SUCCESS) {
		o->err = -EPROTO;
		describe_err(o->reason, sizeof(o->reason), what, o->err, cb->reply.accept_stat);
		return;
	}
	if (err == 0 && !cb->null_phase) {
		xdr_init_decode(&xs, cb->reply.body, cb->reply.body_len, &cb->arena);
		if (!xdr_dec_CB_COMPOUND4res(&xs, &o->res))
			err = -EPROTO;
	}
	o->err = err;
	if (err) {
		describe_err(o->reason, sizeof(o->reason), what, err, 0);
		return;
	}
	if (cb->null_phase)
		return;
	o->status = o->res.status;
	if (o->res.resarray.len > 0 && o->res.resarray.val[0].resop == OP_CB_SEQUENCE) {
		o->have_seq = true;
		o->seq_status = o->res.resarray.val[0].u.opcbsequence.csr_status;
		snprintf(o->reason, sizeof(o->reason), "CB_SEQUENCE answered %s",
			 nfs4_status_name(o->seq_status, nb, sizeof(nb)));
	} else {
		snprintf(o->reason, sizeof(o->reason), "CB_COMPOUND answered %s",
			 nfs4_status_name(o->status, nb, sizeof(nb)));
	}
}

/*
 * Applies the verdict to the slot the attempt held. Returns the delay in ms
 * after which the same call goes again for the slot's sake, or -1 when the
 * slot has nothing more to say (the attempt's outcome stands).
 */
static int64_t slot_apply(struct nfs4_cb *cb, struct nfs4_cb_slot *sl, enum nfs4_cb_seq_verdict v)
{
	switch (v) {
	case NFS4_CB_SEQ_DONE:
		sl->seq = cb->seq;
		return -1;
	case NFS4_CB_SEQ_UNCACHED:
		sl->seq = cb->seq;
		return cb->resends++ < CB_MAX_RESENDS ? 0 : -1;
	case NFS4_CB_SEQ_MISORDERED:
		if (cb->slot_reset || cb->seq == 1)
			return -1;
		cb->slot_reset = true;
		sl->seq = 0;
		return 0;
	case NFS4_CB_SEQ_DELAY:
		return cb->delays++ < CB_MAX_DELAYS ? CB_DELAY_MS : -1;
	case NFS4_CB_SEQ_LOST:
	case NFS4_CB_SEQ_FAILED:
		return -1;
	}
	return -1;
}

/* ---- engine steps (state lock held) ---- */

/* The attempt's leftovers go; the slot it held is free again. */
static void attempt_end(struct nfs4_cb *cb)
{
	if (cb->s) {
		if (!cb->null_phase && cb->slot < cb->s->cb_nslots)
			cb->s->cb_slots[cb->slot].busy = false;
		nfs4_session_put(cb->s);
		cb->s = NULL;
	}
	if (cb->x) {
		rpc_xprt_put(cb->x);
		cb->x = NULL;
	}
	rpc_reply_release(&cb->reply);
	arena_release(&cb->arena);
	memset(&cb->args, 0, sizeof(cb->args));
}

/* cb leaves the engine: release, then the references it held. */
static void cb_finish(struct nfs4_cb *cb)
{
	struct nfs4_client *clp = cb->clp;
	struct nfs4_session *probe_of = cb->probe_of;

	attempt_end(cb);
	list_del(&cb->node);
	list_init(&cb->node);
	cb->phase = NFS4_CB_IDLE;
	cb->clp = NULL;
	cb->probe_of = NULL;
	cb->not_before_ms = 0;
	cb->ops->release(cb);   /* cb may be gone now */
	if (probe_of)
		nfs4_session_put(probe_of);
	if (clp)
		nfs4_client_put(clp);
}

static void cb_requeue(struct nfs4_cb_engine *e, struct nfs4_cb *cb, int64_t delay_ms)
{
	attempt_end(cb);
	list_del(&cb->node);
	cb->phase = NFS4_CB_WAITING;
	cb->not_before_ms = nfs4_cb_now_ms() + (delay_ms > 0 ? delay_ms : 0);
	list_add_tail(&cb->node, &e->waiting);
}

/* The deadline passed before the callback finished: its owner decides. */
static void cb_expire(struct nfs4_cb *cb)
{
	if (!cb->cancelled && cb->ops->done)
		cb->ops->done(cb, -ETIME, NFS4ERR_SERVERFAULT, NULL);
	cb_finish(cb);
}

/* A probe's attempt ended: the path is up, down, or the probe goes again. */
static void probe_answered(struct nfs4_cb_engine *e, struct nfs4_cb *cb,
			   const struct cb_outcome *o, enum nfs4_cb_seq_verdict v,
			   int64_t again, bool current)
{
	struct nfs4_session *s = cb->probe_of;

	if (!current) {
		/* A new connection was bound while this probe ran on the old
		 * one: the probe asked for meanwhile was folded into this one,
		 * so it goes again, now, on the new connection. */
		if (!s->dead && s->back_xprt) {
			bool admitted = cb->admitted;

			cb_reset_attempts(cb);
			cb->admitted = admitted;
			cb_requeue(e, cb, 0);
			return;
		}
		if (!s->dead)
			s->cb_probe_queued = false;
		cb_finish(cb);
		return;
	}
	if (cb->null_phase && o->err == 0) {
		cb->null_ok = true;
		cb_requeue(e, cb, 0);
		return;
	}
	if (again >= 0) {
		cb_requeue(e, cb, again);
		return;
	}
	nfs4_cb_probe_finished(s, v == NFS4_CB_SEQ_DONE && !cb->null_phase, o->reason);
	cb_finish(cb);
	if (s->cb_state == NFS4_CB_UP)
		engine_kick(e);   /* callbacks waiting for a path may go now */
}

static void cb_answered(struct nfs4_cb_engine *e, struct nfs4_cb *cb)
{
	struct cb_outcome o;
	enum nfs4_cb_seq_verdict v;
	struct nfs4_session *s = cb->s;
	int64_t again = -1, now = nfs4_cb_now_ms();
	bool current;

	e->ninflight--;
	outcome_read(cb, &o);
	v = cb->null_phase ? (o.err ? NFS4_CB_SEQ_FAILED : NFS4_CB_SEQ_DONE)
			   : nfs4_cb_seq_judge(o.err, o.have_seq, o.seq_status);
	current = !s->dead && s->back_xprt == cb->x;
	if (!cb->null_phase && cb->slot < s->cb_nslots)
		again = slot_apply(cb, &s->cb_slots[cb->slot], v);
	if (cb->probe_of) {
		probe_answered(e, cb, &o, v, again, current);
		return;
	}
	if (cb->cancelled) {
		cb_finish(cb);
		return;
	}
	if (again >= 0) {
		cb_requeue(e, cb, again);
		return;
	}
	if (v == NFS4_CB_SEQ_DONE || v == NFS4_CB_SEQ_UNCACHED) {
		again = cb->ops->done ? cb->ops->done(cb, 0, o.status, &o.res) : -1;
		if (again >= 0)
			cb_requeue(e, cb, again);
		else
			cb_finish(cb);
		return;
	}
	/* No usable answer: the path is down; the callback waits for a
	 * working one (the client's reaction to CB_PATH_DOWN brings a probe)
	 * until its deadline. */
	if (current && v != NFS4_CB_SEQ_DELAY)
		nfs4_cb_path_failed(s, o.reason);
	log_debug("nfs4", "callback %s to clientid %016llx: %s; waiting for a working back channel",
		  cb->ops->name, (unsigned long long)cb->clp->clientid, o.reason);
	if (cb->deadline_ms && now >= cb->deadline_ms)
		cb_expire(cb);
	else
		cb_requeue(e, cb, v == NFS4_CB_SEQ_DELAY ? CB_DELAY_MS : 0);
}

/* A session of cb's client whose back channel may carry cb now, and a free
 * slot on it; NULL when none. */
static struct nfs4_session *pick_session(struct nfs4_cb *cb, uint32_t *slot)
{
	struct nfs4_session *best = NULL;
	struct list_node *pos;
	uint32_t i, best_slot = 0;

	if (cb->probe_of) {
		struct nfs4_session *s = cb->probe_of;

		if (s->dead || !s->back_xprt)
			return NULL;
		if (!cb->null_ok) {   /* CB_NULL first: it needs no slot */
			*slot = 0;
			return s;
		}
		for (i = 0; i < s->cb_nslots; i++)
			if (!s->cb_slots[i].busy) {
				*slot = i;
				return s;
			}
		return NULL;
	}
	list_for_each(pos, &cb->clp->sessions) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, client_node);

		if (s->dead || !s->back_xprt || !nfs4_cb_path_usable(s))
			continue;
		for (i = 0; i < s->cb_nslots; i++)
			if (!s->cb_slots[i].busy)
				break;
		if (i == s->cb_nslots)
			continue;
		if (s->cb_state == NFS4_CB_UP) {
			*slot = i;
			return s;
		}
		if (!best) {
			best = s;
			best_slot = i;
		}
	}
	*slot = best_slot;
	return best;
}

/* Builds the attempt's call in cb->arena: CB_SEQUENCE, then the owner's ops.
 * False when the owner does not want it any more. */
static bool build_compound(struct nfs4_cb *cb)
{
	nfs_cb_argop4 *ops = NULL, *all;
	uint32_t nops = 0;

	if (cb->ops->prepare && !cb->ops->prepare(cb, &cb->arena, &ops, &nops))
		return false;
	all = arena_alloc(&cb->arena, (nops + 1) * sizeof(*all));
	if (!all)
		return false;
	memset(&all[0], 0, sizeof(all[0]));
	all[0].argop = OP_CB_SEQUENCE;
	memcpy(all[0].u.opcbsequence.csa_sessionid, cb->s->id, sizeof(sessionid4));
	all[0].u.opcbsequence.csa_sequenceid = cb->seq;
	all[0].u.opcbsequence.csa_slotid = cb->slot;
	all[0].u.opcbsequence.csa_highest_slotid = cb->s->cb_nslots - 1;
	all[0].u.opcbsequence.csa_cachethis = false;
	if (nops)
		memcpy(all + 1, ops, nops * sizeof(*ops));
	cb->args.minorversion = cb->s->cb_minorversion;
	cb->args.argarray.len = nops + 1;
	cb->args.argarray.val = all;
	return true;
}

/* One send for after the state lock is dropped. */
struct cb_send {
	struct nfs4_cb *cb;
	uint32_t prog, proc;
	bool use_cred;
	struct rpc_cred cred;
};

/*
 * Tries to put a waiting cb in flight. Returns 1 when it is to be sent
 * (filled *out), 0 when it keeps waiting (*wake_ms lowered to when it
 * should be looked at again), -1 when it was finished.
 */
static int dispatch(struct nfs4_cb_engine *e, struct nfs4_cb *cb, int64_t now,
		    struct cb_send *out, int64_t *wake_ms)
{
	struct nfs4_session *s;
	uint32_t slot = 0;

	if (cb->cancelled) {
		cb_finish(cb);
		return -1;
	}
	if (cb->deadline_ms && now >= cb->deadline_ms) {
		cb_expire(cb);
		return -1;
	}
	if (cb->not_before_ms > now) {
		if (cb->not_before_ms < *wake_ms)
			*wake_ms = cb->not_before_ms;
		goto wait_deadline;
	}
	if (cb->probe_of && (cb->probe_of->dead || !cb->probe_of->back_xprt)) {
		/* its connection is gone: nothing to probe */
		if (!cb->probe_of->dead)
			cb->probe_of->cb_probe_queued = false;
		cb_finish(cb);
		return -1;
	}
	s = pick_session(cb, &slot);
	if (!s) {
		/* no usable path, or every slot of it busy: look again (a
		 * finished attempt or a path coming up also wakes us) */
		if (now + CB_PATH_RECHECK_MS < *wake_ms)
			*wake_ms = now + CB_PATH_RECHECK_MS;
		goto wait_deadline;
	}
	/* A probe is counted once, however often DELAY makes it go again (a
	 * Linux client often answers the first CB_SEQUENCE of a new session
	 * NFS4ERR_DELAY), and its CB_NULL is sent once per connection. */
	if (cb->probe_of && !cb->admitted) {
		int64_t later = nfs4_cb_probe_admit(s);

		if (later > 0) {   /* over the client's probe budget */
			cb->not_before_ms = later;
			if (later < *wake_ms)
				*wake_ms = later;
			return 0;
		}
		cb->admitted = true;
	}
	cb->s = s;
	nfs4_session_get(s);
	cb->x = s->back_xprt;
	rpc_xprt_get(cb->x);
	arena_init(&cb->arena, 0);
	cb->null_phase = cb->probe_of && !cb->null_ok;
	if (!cb->null_phase) {
		cb->slot = slot;
		cb->seq = s->cb_slots[slot].seq + 1;
		if (!build_compound(cb)) {
			cb_finish(cb);
			return -1;
		}
		s->cb_slots[slot].busy = true;
	}
	cb->attempts++;
	cb->xid = rpc_call_next_xid();
	cb->attempt_deadline_ms = now + cb_timeout_ms(e);
	if (cb->deadline_ms && cb->deadline_ms < cb->attempt_deadline_ms)
		cb->attempt_deadline_ms = cb->deadline_ms;
	if (cb->attempt_deadline_ms < *wake_ms)
		*wake_ms = cb->attempt_deadline_ms;
	cb->phase = NFS4_CB_INFLIGHT;
	list_del(&cb->node);
	list_add_tail(&cb->node, &e->inflight);
	e->ninflight++;
	out->cb = cb;
	out->prog = s->cb_program;
	out->proc = cb->null_phase ? CB_PROC_NULL : CB_PROC_COMPOUND;
	out->use_cred = s->cb_auth_sys;
	out->cred = s->cb_cred;
	return 1;
wait_deadline:
	if (cb->deadline_ms && cb->deadline_ms < *wake_ms)
		*wake_ms = cb->deadline_ms;
	return 0;
}

/* The reply (or the end) of an attempt, on whatever thread ended it. */
static void on_reply(void *ctx, struct rpc_reply *rep)
{
	struct nfs4_cb *cb = ctx;
	struct nfs4_cb_engine *e = cb->engine;

	pthread_mutex_lock(&e->lock);
	cb->reply = *rep;
	cb->answered_next = e->answered;
	e->answered = cb;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

static bool enc_cb_compound(struct xdr_stream *x, const void *args)
{
	return xdr_enc_CB_COMPOUND4args(x, args);
}

/* Sends collected in one pass, and attempts to cancel, done without locks. */
#define CB_BATCH 64

struct cb_batch {
	struct cb_send sends[CB_BATCH];
	unsigned nsends;
	struct { struct rpc_xprt *x; uint32_t xid; } cancels[CB_BATCH];
	unsigned ncancels;
	bool more;                        /* the batch filled up: go round again at once */
};

/* One pass over the engine's state. Returns the time to wake up at. */
static int64_t engine_pass(struct nfs4_cb_engine *e, struct cb_batch *b)
{
	struct nfs4_cb *ans, *next;
	struct list_node *pos, *tmp;
	int64_t now, wake;

	nfs4_state_lock();
	pthread_mutex_lock(&e->lock);
	ans = e->answered;
	e->answered = NULL;
	e->kicked = false;
	pthread_mutex_unlock(&e->lock);
	for (; ans; ans = next) {   /* newest first: order does not matter */
		next = ans->answered_next;
		ans->answered_next = NULL;
		ans->phase = NFS4_CB_ANSWERED;
		cb_answered(e, ans);
	}
	now = nfs4_cb_now_ms();
	wake = now + 60000;
	list_for_each(pos, &e->inflight) {
		struct nfs4_cb *cb = container_of(pos, struct nfs4_cb, node);
		int64_t dl = cb->attempt_deadline_ms;

		/* A cancelled callback's attempt still runs to its end: the
		 * client may be executing it, and the slot must learn how it
		 * ended. */
		if (now >= dl) {
			if (b->ncancels == CB_BATCH) {
				b->more = true;
				continue;
			}
			rpc_xprt_get(cb->x);
			b->cancels[b->ncancels].x = cb->x;
			b->cancels[b->ncancels].xid = cb->xid;
			b->ncancels++;
			/* looked at again shortly if the cancel lost a race */
			dl = now + 100;
		}
		if (dl < wake)
			wake = dl;
	}
	list_for_each_safe(pos, tmp, &e->waiting) {
		struct nfs4_cb *cb = container_of(pos, struct nfs4_cb, node);

		if (b->nsends == CB_BATCH) {
			b->more = true;
			break;
		}
		if (dispatch(e, cb, now, &b->sends[b->nsends], &wake) == 1)
			b->nsends++;
	}
	nfs4_state_unlock();
	return wake;
}

static void engine_io(struct cb_batch *b)
{
	unsigned i;

	for (i = 0; i < b->nsends; i++) {
		struct cb_send *sd = &b->sends[i];
		struct nfs4_cb *cb = sd->cb;

		/* cb stays in flight until on_reply: only this thread moves it,
		 * and it reads nothing of cb after the call. */
		rpc_call_start(cb->x, cb->xid, sd->prog, CB_VERSION, sd->proc,
			       sd->use_cred ? &sd->cred : NULL,
			       sd->proc == CB_PROC_COMPOUND ? enc_cb_compound : NULL,
			       &cb->args, on_reply, cb);
	}
	for (i = 0; i < b->ncancels; i++) {
		rpc_call_cancel(b->cancels[i].x, b->cancels[i].xid, -ETIMEDOUT);
		rpc_xprt_put(b->cancels[i].x);
	}
	b->nsends = b->ncancels = 0;
}

static void engine_wait(struct nfs4_cb_engine *e, int64_t wake_ms)
{
	struct timespec ts;

	pthread_mutex_lock(&e->lock);
	if (!e->stop && !e->answered && !e->kicked) {
		ts.tv_sec = wake_ms / 1000;
		ts.tv_nsec = (wake_ms % 1000) * 1000000;
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
}

static void *engine_thread(void *arg)
{
	struct nfs4_cb_engine *e = arg;
	struct cb_batch *b = calloc(1, sizeof(*b));
	bool stop = false;

	if (!b) {
		log_err("nfs4", "callback engine: no memory; callbacks stop");
		return NULL;
	}
	while (!stop) {
		int64_t wake;

		b->more = false;
		wake = engine_pass(e, b);
		engine_io(b);
		if (!b->more)
			engine_wait(e, wake);
		pthread_mutex_lock(&e->lock);
		stop = e->stop;
		pthread_mutex_unlock(&e->lock);
	}
	free(b);
	return NULL;
}

int nfs4_cb_init(struct nfs4_server *srv)
{
	struct nfs4_cb_engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	e->srv = srv;
	pthread_mutex_init(&e->lock, NULL);
	list_init(&e->waiting);
	list_init(&e->inflight);
	rc = nfs4_monotonic_cond_init(&e->cond);
	if (rc != 0)
		goto fail;
	e->accepting = true;
	srv->cb_engine = e;
	rc = pthread_create(&e->thread, NULL, engine_thread, e);
	if (rc != 0) {
		srv->cb_engine = NULL;
		pthread_cond_destroy(&e->cond);
		goto fail;
	}
	return 0;
fail:
	pthread_mutex_destroy(&e->lock);
	free(e);
	return -rc;
}

/* Ends what is left after the thread stopped (state lock held). */
static void engine_drain(struct nfs4_cb_engine *e)
{
	struct list_node *pos, *tmp;
	struct nfs4_cb *ans, *next;

	pthread_mutex_lock(&e->lock);
	ans = e->answered;
	e->answered = NULL;
	pthread_mutex_unlock(&e->lock);
	for (; ans; ans = next) {
		next = ans->answered_next;
		e->ninflight--;
		cb_finish(ans);
	}
	list_for_each_safe(pos, tmp, &e->waiting)
		cb_finish(container_of(pos, struct nfs4_cb, node));
}

void nfs4_cb_shutdown(struct nfs4_server *srv)
{
	struct nfs4_cb_engine *e = srv->cb_engine;
	struct list_node *pos;
	struct cb_batch *b;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);

	/* Calls still in flight end now (their replies could only come from
	 * connections that are closing anyway). */
	b = calloc(1, sizeof(*b));
	nfs4_state_lock();
	e->accepting = false;
	/* No new callback finds it from here (a copy worker may still try
	 * until the copies stop; nfs4_cb_start then answers -ESHUTDOWN). */
	srv->cb_engine = NULL;
	list_for_each(pos, &e->inflight) {
		struct nfs4_cb *cb = container_of(pos, struct nfs4_cb, node);

		if (b && b->ncancels < CB_BATCH) {
			rpc_xprt_get(cb->x);
			b->cancels[b->ncancels].x = cb->x;
			b->cancels[b->ncancels].xid = cb->xid;
			b->ncancels++;
		}
	}
	nfs4_state_unlock();
	if (b) {
		engine_io(b);
		free(b);
	}
	nfs4_state_lock();
	engine_drain(e);
	if (!list_empty(&e->inflight))
		log_warn("nfs4", "callback engine: %u call(s) still in flight at shutdown",
			 e->ninflight);
	nfs4_state_unlock();
	/* Kept when calls are still in flight: their on_reply reaches it. */
	if (list_empty(&e->inflight)) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		free(e);
	}
}

/* ---- connections going away ---- */

static void conn_closed(struct rpc_xprt *x, void *ctx)
{
	nfs4_state_lock();
	nfs4_sessions_xprt_gone(ctx, x);
	nfs4_state_unlock();
}

void nfs4_conn_watch(struct nfs4_server *srv, struct rpc_xprt *x)
{
	x->on_close_ctx = srv;
	atomic_store(&x->on_close, conn_closed);   /* after its context (rpc.h) */
	/* Closed before we watched it: nobody will call us. */
	if (atomic_load(&x->dead))
		nfs4_sessions_xprt_gone(srv, x);
}
