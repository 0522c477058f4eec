/*
 * rpc/rpc_clnt.c: RPC calls in the reverse direction (the NFSv4.1
 * backchannel): the server sends a CALL on a client's connection and waits for
 * the REPLY, which the transport hands to rpc_serve_record, which routes it
 * here by xid. Each connection has a table of waiting calls; closing the
 * connection wakes them all with -ECONNRESET.
 * Calls: rpc/xdr, conf/log, pthreads. Called by: server/ (callbacks), rpc.c.
 */
#include "rpc/rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"
#include "rpc/rpc_internal.h"
#include "rpc/svc.h"

#define CLNT_DEFAULT_BUF (64u * 1024)

struct clnt_waiter {
	uint32_t xid;
	/* An asynchronous call: on_reply is called once with the outcome, by
	 * whoever ends it (the delivering thread, a close, a cancel), after the
	 * waiter left the table and without the table's lock. The waiter is
	 * malloc'd and freed by that caller. */
	rpc_reply_fn on_reply;
	void *on_reply_ctx;
	bool done;
	int status;
	uint32_t accept_stat;
	uint8_t *body;
	size_t body_len;
	struct clnt_waiter *next;
};

struct rpc_xprt_pending {
	pthread_mutex_t lock;
	pthread_cond_t cv;          /* CLOCK_MONOTONIC; broadcast on any delivery */
	bool closed;
	struct clnt_waiter *head;
};

static atomic_uint next_xid;

int rpc_clnt_pending_create(struct rpc_xprt *x)
{
	struct rpc_xprt_pending *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	x->pending = p;
	return 0;
}

void rpc_clnt_pending_free(struct rpc_xprt *x)
{
	struct rpc_xprt_pending *p = x->pending;

	if (!p)
		return;
	/* the last reference is gone, so no call can be waiting */
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->lock);
	free(p);
	x->pending = NULL;
}

static void unlink_waiter(struct rpc_xprt_pending *p, struct clnt_waiter *w)
{
	struct clnt_waiter **pp;

	for (pp = &p->head; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/* Ends an asynchronous call (its waiter already out of the table). */
static void async_finish(struct clnt_waiter *w)
{
	struct rpc_reply rep = {
		.status = w->status, .accept_stat = w->accept_stat,
		.body = w->body, .body_len = w->body_len,
	};

	w->on_reply(w->on_reply_ctx, &rep);
	free(w);
}

void rpc_clnt_pending_close(struct rpc_xprt *x)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter *w, **pp, *ended = NULL;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	for (pp = &p->head; (w = *pp);) {
		if (!w->done) {
			w->done = true;
			w->status = -ECONNRESET;
		}
		if (w->on_reply) {
			*pp = w->next;
			w->next = ended;
			ended = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	while ((w = ended)) {
		ended = w->next;
		async_finish(w);
	}
}

bool rpc_clnt_deliver(struct rpc_xprt *x, uint32_t xid, const uint8_t *rec, size_t len)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter *w;
	struct xdr_stream s;
	struct xdr_opaque verf;
	uint32_t skip, reply_stat = UINT32_MAX, accept_stat = 0, vflavor;
	bool found = false, is_async = false;

	if (!p)
		return false;
	xdr_init_decode(&s, rec, len, NULL);
	xdr_get_u32(&s, &skip);   /* xid */
	xdr_get_u32(&s, &skip);   /* msg_type */
	xdr_get_u32(&s, &reply_stat);
	if (reply_stat == RPC_MSG_ACCEPTED) {
		xdr_get_u32(&s, &vflavor);
		xdr_get_opaque(&s, RPC_MAX_AUTH_BYTES, &verf);
		xdr_get_u32(&s, &accept_stat);
	}
	pthread_mutex_lock(&p->lock);
	for (w = p->head; w; w = w->next) {
		if (w->xid != xid || w->done)
			continue;
		found = true;
		w->done = true;
		/* A synchronous waiter lives on its caller's stack: once the lock
		 * is dropped it may be gone, so what it is must be known now. */
		is_async = w->on_reply != NULL;
		if (is_async)
			unlink_waiter(p, w);
		if (!xdr_ok(&s) || reply_stat != RPC_MSG_ACCEPTED) {
			log_debug("rpc", "xprt %llu: backchannel xid 0x%08x %s",
				  (unsigned long long)x->id, xid,
				  xdr_ok(&s) ? "denied" : "reply malformed");
			w->status = -EPROTO;
			break;
		}
		w->accept_stat = accept_stat;
		w->body_len = xdr_remaining(&s);
		w->body = malloc(w->body_len ? w->body_len : 1);
		if (!w->body) {
			w->status = -ENOMEM;
			break;
		}
		memcpy(w->body, rec + s.pos, w->body_len);
		w->status = 0;
		break;
	}
	if (found && !is_async)
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	if (is_async)
		async_finish(w);
	return found;
}


static bool encode_cred(struct xdr_stream *s, const struct rpc_cred *cred)
{
	uint32_t i, n;
	size_t len_off;

	if (!cred || cred->flavor == RPC_AUTH_NONE) {
		xdr_put_u32(s, RPC_AUTH_NONE);
		return xdr_put_u32(s, 0);
	}
	xdr_put_u32(s, RPC_AUTH_SYS);
	len_off = s->pos;
	xdr_put_u32(s, 0);
	xdr_put_u32(s, cred->stamp);
	xdr_put_opaque(s, cred->machinename, (uint32_t)strnlen(cred->machinename, 255));
	xdr_put_u32(s, cred->uid);
	xdr_put_u32(s, cred->gid);
	n = cred->ngids > RPC_AUTH_SYS_MAX_GIDS ? RPC_AUTH_SYS_MAX_GIDS : cred->ngids;
	xdr_put_u32(s, n);
	for (i = 0; i < n; i++)
		xdr_put_u32(s, cred->gids[i]);
	if (!xdr_ok(s))
		return false;
	xdr_patch_u32(s, len_off, (uint32_t)(s->pos - len_off - 4));
	return true;
}

/* The CALL record for xid into buf; its length, or -EMSGSIZE. */
static int encode_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t prog, uint32_t vers,
		       uint32_t proc, const struct rpc_cred *cred, rpc_encode_fn encode,
		       const void *args)
{
	struct xdr_stream s;

	xdr_init_encode(&s, buf, cap);
	xdr_put_u32(&s, xid);
	xdr_put_u32(&s, RPC_CALL);
	xdr_put_u32(&s, RPC_VERSION);
	xdr_put_u32(&s, prog);
	xdr_put_u32(&s, vers);
	xdr_put_u32(&s, proc);
	encode_cred(&s, cred);
	xdr_put_u32(&s, RPC_AUTH_NONE);
	xdr_put_u32(&s, 0);
	if (!xdr_ok(&s) || (encode && !encode(&s, args)) || !xdr_ok(&s))
		return -EMSGSIZE;
	return (int)s.pos;
}

static size_t call_buf_cap(const struct rpc_xprt *x)
{
	size_t cap = x->max_record ? x->max_record : CLNT_DEFAULT_BUF;

	return cap > (1u << 20) ? 1u << 20 : cap;   /* callbacks are small */
}

/* Puts w in x's table (before the send: the reply can come first). */
static int waiter_link(struct rpc_xprt *x, struct clnt_waiter *w)
{
	struct rpc_xprt_pending *p = x->pending;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (p->closed || atomic_load(&x->dead)) {
		rc = -ECONNRESET;
	} else {
		w->next = p->head;
		p->head = w;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

uint32_t rpc_call_next_xid(void)
{
	return atomic_fetch_add(&next_xid, 1) ^ 0x5a000000u;
}

int rpc_call_sync(struct rpc_xprt *x, uint32_t prog, uint32_t vers, uint32_t proc,
		  const struct rpc_cred *cred, rpc_encode_fn encode, const void *args,
		  int timeout_ms, struct rpc_reply *out)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter w = { 0 };
	struct timespec dl;
	struct iovec iov;
	size_t cap = call_buf_cap(x);
	uint8_t *buf = NULL;
	bool linked = false;
	int rc, len;

	memset(out, 0, sizeof(*out));
	if (rpc_svc_in_loop()) {
		/* the loop thread reads the reply: waiting here would wait for ourselves */
		log_err("rpc", "rpc_call_sync called on the event-loop thread; refused");
		rc = -EDEADLK;
		goto out;
	}
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	w.xid = rpc_call_next_xid();
	len = encode_call(buf, cap, w.xid, prog, vers, proc, cred, encode, args);
	if (len < 0) {
		rc = len;
		goto out;
	}
	rc = waiter_link(x, &w);
	if (rc < 0)
		goto out;
	linked = true;

	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	rc = x->ops->send(x, &iov, 1);
	if (rc < 0)
		goto out;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	while (!w.done) {
		if (pthread_cond_timedwait(&p->cv, &p->lock, &dl) == ETIMEDOUT && !w.done) {
			w.done = true;
			w.status = -ETIMEDOUT;
		}
	}
	unlink_waiter(p, &w);
	linked = false;
	pthread_mutex_unlock(&p->lock);
	rc = w.status;
	if (rc == 0) {
		out->accept_stat = w.accept_stat;
		out->body = w.body;
		out->body_len = w.body_len;
		w.body = NULL;
	}
out:
	if (linked) {
		pthread_mutex_lock(&p->lock);
		unlink_waiter(p, &w);
		pthread_mutex_unlock(&p->lock);
	}
	free(w.body);
	free(buf);
	out->status = rc;
	return rc;
}

int rpc_call_start(struct rpc_xprt *x, uint32_t xid, uint32_t prog, uint32_t vers,
		   uint32_t proc, const struct rpc_cred *cred, rpc_encode_fn encode,
		   const void *args, rpc_reply_fn fn, void *ctx)
{
	struct clnt_waiter *w = calloc(1, sizeof(*w));
	size_t cap = call_buf_cap(x);
	uint8_t *buf = NULL;
	struct iovec iov;
	int rc, len;

	if (!w) {
		struct rpc_reply rep = { .status = -ENOMEM };

		fn(ctx, &rep);
		return -ENOMEM;
	}
	w->xid = xid;
	w->on_reply = fn;
	w->on_reply_ctx = ctx;
	buf = x->pending ? malloc(cap) : NULL;
	if (!buf) {
		rc = -ENOMEM;
		goto fail;
	}
	len = encode_call(buf, cap, xid, prog, vers, proc, cred, encode, args);
	if (len < 0) {
		rc = len;
		goto fail;
	}
	rc = waiter_link(x, w);
	if (rc < 0)
		goto fail;
	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	rc = x->ops->send(x, &iov, 1);
	free(buf);
	/* Sent or not, the call is in the table now: a failed send ends it
	 * here unless a close or a reply (impossible, but cheap to allow)
	 * ended it first. */
	if (rc < 0)
		rpc_call_cancel(x, xid, rc);
	return rc < 0 ? rc : 0;
fail:
	free(buf);
	w->status = rc;
	async_finish(w);
	return rc;
}

bool rpc_call_cancel(struct rpc_xprt *x, uint32_t xid, int status)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter *w;

	if (!p)
		return false;
	pthread_mutex_lock(&p->lock);
	for (w = p->head; w; w = w->next)
		if (w->on_reply && w->xid == xid && !w->done)
			break;
	if (w) {
		w->done = true;
		w->status = status;
		unlink_waiter(p, w);
	}
	pthread_mutex_unlock(&p->lock);
	if (w)
		async_finish(w);
	return w != NULL;
}

void rpc_reply_release(struct rpc_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}
