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

void rpc_clnt_pending_close(struct rpc_xprt *x)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter *w;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	for (w = p->head; w; w = w->next) {
		if (!w->done) {
			w->done = true;
			w->status = -ECONNRESET;
		}
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
}

bool rpc_clnt_deliver(struct rpc_xprt *x, uint32_t xid, const uint8_t *rec, size_t len)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter *w;
	struct xdr_stream s;
	struct xdr_opaque verf;
	uint32_t skip, reply_stat = UINT32_MAX, accept_stat = 0, vflavor;
	bool found = false;

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
	if (found)
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	return found;
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

int rpc_call_sync(struct rpc_xprt *x, uint32_t prog, uint32_t vers, uint32_t proc,
		  const struct rpc_cred *cred, rpc_encode_fn encode, const void *args,
		  int timeout_ms, struct rpc_reply *out)
{
	struct rpc_xprt_pending *p = x->pending;
	struct clnt_waiter w = { 0 };
	struct xdr_stream s;
	struct timespec dl;
	struct iovec iov;
	size_t cap = x->max_record ? x->max_record : CLNT_DEFAULT_BUF;
	uint8_t *buf = NULL;
	bool linked = false;
	int rc;

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
	if (cap > (1u << 20))
		cap = 1u << 20;   /* callbacks are small; do not take max_record bytes each */
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	w.xid = atomic_fetch_add(&next_xid, 1) ^ 0x5a000000u;
	xdr_init_encode(&s, buf, cap);
	xdr_put_u32(&s, w.xid);
	xdr_put_u32(&s, RPC_CALL);
	xdr_put_u32(&s, RPC_VERSION);
	xdr_put_u32(&s, prog);
	xdr_put_u32(&s, vers);
	xdr_put_u32(&s, proc);
	encode_cred(&s, cred);
	xdr_put_u32(&s, RPC_AUTH_NONE);
	xdr_put_u32(&s, 0);
	if (!xdr_ok(&s) || (encode && !encode(&s, args)) || !xdr_ok(&s)) {
		rc = -EMSGSIZE;
		goto out;
	}
	/* on the list before sending: the reply can arrive before send returns */
	pthread_mutex_lock(&p->lock);
	if (p->closed || atomic_load(&x->dead)) {
		pthread_mutex_unlock(&p->lock);
		rc = -ECONNRESET;
		goto out;
	}
	w.next = p->head;
	p->head = &w;
	linked = true;
	pthread_mutex_unlock(&p->lock);

	iov.iov_base = buf;
	iov.iov_len = s.pos;
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

void rpc_reply_release(struct rpc_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}
