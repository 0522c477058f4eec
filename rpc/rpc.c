/*
 * rpc/rpc.c: ONC RPC v2 server side (RFC 5531): call-header decoding,
 * AUTH_NONE/AUTH_SYS credentials, the program registry, dispatch and the reply
 * headers; connection reference counting. See rpc.h.
 *
 * Choices RFC 5531 leaves open: a credential of a flavor we do not implement
 * gets AUTH_BADCRED (as knfsd answers, and as RFC 9289 expects for AUTH_TLS
 * probes); AUTH_TOOWEAK is kept for "flavor understood but not allowed here",
 * which is export policy above this layer. A verifier other than AUTH_NONE gets
 * AUTH_BADVERF. A header cut short after its xid gets GARBAGE_ARGS; a record
 * without even an xid is dropped.
 */
#include "rpc/rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "rpc/rpc_internal.h"

#define RPC_MAX_PROGRAMS 16

static pthread_rwlock_t prog_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct rpc_program programs[RPC_MAX_PROGRAMS];
static unsigned n_programs;
static atomic_uint_fast64_t next_xprt_id = 1;

/* ---- connections ---- */

void rpc_xprt_init(struct rpc_xprt *x, const struct rpc_xprt_ops *ops)
{
	x->ops = ops;
	atomic_init(&x->refs, 1);
	atomic_init(&x->dead, false);
	atomic_init(&x->session_bound, false);
	x->id = atomic_fetch_add(&next_xprt_id, 1);
	atomic_init(&x->on_close, NULL);
	x->on_close_ctx = NULL;
	x->pending = NULL;
	if (rpc_clnt_pending_create(x) < 0)
		log_warn("rpc", "xprt %llu: no memory for a backchannel table",
			 (unsigned long long)x->id);
}

void rpc_xprt_get(struct rpc_xprt *x)
{
	atomic_fetch_add(&x->refs, 1);
}

bool rpc_xprt_tryget(struct rpc_xprt *x)
{
	int n = atomic_load(&x->refs);

	while (n > 0)
		if (atomic_compare_exchange_weak(&x->refs, &n, n + 1))
			return true;
	return false;
}

void rpc_xprt_put(struct rpc_xprt *x)
{
	if (atomic_fetch_sub(&x->refs, 1) != 1)
		return;
	rpc_clnt_pending_free(x);
	x->ops->destroy(x);
}

void rpc_xprt_closed(struct rpc_xprt *x)
{
	rpc_xprt_close_fn fn;

	if (atomic_exchange(&x->dead, true))
		return;
	fn = atomic_load(&x->on_close);
	if (fn)
		fn(x, x->on_close_ctx);
	rpc_clnt_pending_close(x);
}

void rpc_xprt_mark_session_bound(const struct rpc_xprt *x)
{
	/* every rpc_xprt is allocated by its transport, never defined const */
	atomic_store(&((struct rpc_xprt *)x)->session_bound, true);
}

bool rpc_xprt_session_bound(const struct rpc_xprt *x)
{
	return atomic_load(&x->session_bound);
}

/* ---- programs ---- */

int rpc_register_program(const struct rpc_program *p)
{
	unsigned i;
	int rc = 0;

	if (!p->dispatch || p->vers_lo > p->vers_hi)
		return -EINVAL;
	pthread_rwlock_wrlock(&prog_lock);
	for (i = 0; i < n_programs; i++) {
		if (programs[i].prog == p->prog && p->vers_lo <= programs[i].vers_hi &&
		    programs[i].vers_lo <= p->vers_hi) {
			rc = -EEXIST;
			goto out;
		}
	}
	if (n_programs == RPC_MAX_PROGRAMS) {
		rc = -ENOSPC;
		goto out;
	}
	programs[n_programs++] = *p;
	log_debug("rpc", "registered program %u versions %u-%u", p->prog, p->vers_lo, p->vers_hi);
out:
	pthread_rwlock_unlock(&prog_lock);
	return rc;
}

void rpc_unregister_programs(void)
{
	pthread_rwlock_wrlock(&prog_lock);
	n_programs = 0;
	pthread_rwlock_unlock(&prog_lock);
}

/* Finds the program serving prog/vers. Returns RPC_SUCCESS with *out filled,
 * PROG_UNAVAIL, or PROG_MISMATCH with the range of versions we have. */
static uint32_t find_program(uint32_t prog, uint32_t vers, struct rpc_program *out,
			     uint32_t *lo, uint32_t *hi)
{
	uint32_t st = RPC_PROG_UNAVAIL;
	unsigned i;

	*lo = UINT32_MAX;
	*hi = 0;
	pthread_rwlock_rdlock(&prog_lock);
	for (i = 0; i < n_programs; i++) {
		if (programs[i].prog != prog)
			continue;
		if (vers >= programs[i].vers_lo && vers <= programs[i].vers_hi) {
			*out = programs[i];
			st = RPC_SUCCESS;
			break;
		}
		st = RPC_PROG_MISMATCH;
		if (programs[i].vers_lo < *lo)
			*lo = programs[i].vers_lo;
		if (programs[i].vers_hi > *hi)
			*hi = programs[i].vers_hi;
	}
	pthread_rwlock_unlock(&prog_lock);
	return st;
}

/* ---- headers ---- */

bool rpc_decode_authsys(const uint8_t *body, uint32_t len, struct rpc_cred *c)
{
	struct xdr_stream x;
	struct xdr_opaque name;
	uint32_t i;

	xdr_init_decode(&x, body, len, NULL);
	if (!xdr_get_u32(&x, &c->stamp) || !xdr_get_opaque(&x, 255, &name) ||
	    !xdr_get_u32(&x, &c->uid) || !xdr_get_u32(&x, &c->gid) ||
	    !xdr_get_u32(&x, &c->ngids) || c->ngids > RPC_AUTH_SYS_MAX_GIDS)
		return false;
	for (i = 0; i < c->ngids; i++)
		if (!xdr_get_u32(&x, &c->gids[i]))
			return false;
	if (xdr_remaining(&x) != 0)
		return false;
	memcpy(c->machinename, name.val, name.len);
	c->machinename[name.len] = '\0';
	return true;
}

enum rpc_hdr_verdict rpc_decode_call(const uint8_t *rec, size_t len, struct rpc_call_hdr *h,
				     uint32_t *auth_stat, uint32_t *msg_type)
{
	struct xdr_stream x;
	struct xdr_opaque cred, verf;
	uint32_t vflavor;

	memset(h, 0, sizeof(*h));
	*auth_stat = RPC_AUTH_OK;
	xdr_init_decode(&x, rec, len, NULL);
	if (!xdr_get_u32(&x, &h->xid) || !xdr_get_u32(&x, msg_type))
		return RPC_HDR_DROP;
	if (*msg_type != RPC_CALL)
		return RPC_HDR_NOT_CALL;
	if (!xdr_get_u32(&x, &h->rpcvers))
		return RPC_HDR_GARBAGE;
	if (h->rpcvers != RPC_VERSION)
		return RPC_HDR_RPC_MISMATCH;
	if (!xdr_get_u32(&x, &h->prog) || !xdr_get_u32(&x, &h->vers) ||
	    !xdr_get_u32(&x, &h->proc))
		return RPC_HDR_GARBAGE;
	/* credential: a hostile length cannot make us read past the record */
	if (!xdr_get_u32(&x, &h->cred.flavor) ||
	    !xdr_get_opaque(&x, RPC_MAX_AUTH_BYTES, &cred)) {
		*auth_stat = RPC_AUTH_BADCRED;
		return RPC_HDR_AUTH_ERROR;
	}
	if (!xdr_get_u32(&x, &vflavor) || !xdr_get_opaque(&x, RPC_MAX_AUTH_BYTES, &verf) ||
	    vflavor != RPC_AUTH_NONE) {
		*auth_stat = RPC_AUTH_BADVERF;
		return RPC_HDR_AUTH_ERROR;
	}
	memcpy(h->cred.raw, cred.val, cred.len);
	h->cred.raw_len = cred.len;
	switch (h->cred.flavor) {
	case RPC_AUTH_NONE:
		if (cred.len != 0) {
			*auth_stat = RPC_AUTH_BADCRED;
			return RPC_HDR_AUTH_ERROR;
		}
		break;
	case RPC_AUTH_SYS:
		if (!rpc_decode_authsys(cred.val, cred.len, &h->cred)) {
			*auth_stat = RPC_AUTH_BADCRED;
			return RPC_HDR_AUTH_ERROR;
		}
		break;
	default:
		*auth_stat = RPC_AUTH_BADCRED;
		return RPC_HDR_AUTH_ERROR;
	}
	h->args_off = x.pos;
	return RPC_HDR_OK;
}

static size_t put_words(uint8_t *buf, size_t cap, const uint32_t *w, unsigned n)
{
	struct xdr_stream x;
	unsigned i;

	xdr_init_encode(&x, buf, cap);
	for (i = 0; i < n; i++)
		xdr_put_u32(&x, w[i]);
	return xdr_ok(&x) ? x.pos : 0;
}

size_t rpc_encode_accepted(uint8_t *buf, size_t cap, uint32_t xid, uint32_t accept_stat)
{
	const uint32_t w[] = { xid, RPC_REPLY, RPC_MSG_ACCEPTED, RPC_AUTH_NONE, 0, accept_stat };

	return put_words(buf, cap, w, 6);
}

size_t rpc_encode_prog_mismatch(uint8_t *buf, size_t cap, uint32_t xid, uint32_t lo, uint32_t hi)
{
	const uint32_t w[] = { xid, RPC_REPLY, RPC_MSG_ACCEPTED, RPC_AUTH_NONE, 0,
			       RPC_PROG_MISMATCH, lo, hi };

	return put_words(buf, cap, w, 8);
}

size_t rpc_encode_rpc_mismatch(uint8_t *buf, size_t cap, uint32_t xid)
{
	const uint32_t w[] = { xid, RPC_REPLY, RPC_MSG_DENIED, RPC_MISMATCH,
			       RPC_VERSION, RPC_VERSION };

	return put_words(buf, cap, w, 6);
}

size_t rpc_encode_auth_error(uint8_t *buf, size_t cap, uint32_t xid, uint32_t auth_stat)
{
	const uint32_t w[] = { xid, RPC_REPLY, RPC_MSG_DENIED, RPC_AUTH_ERROR, auth_stat };

	return put_words(buf, cap, w, 5);
}

/* ---- serving ---- */

int rpc_reply_msg_iov(const struct rpc_reply_msg *m, struct iovec iov[4])
{
	static const uint8_t pad[4];
	const struct rpc_payload *p = &m->payload;
	size_t at = p->pos > m->len ? m->len : p->pos;
	int n = 0;

	if (!p->data || !p->len) {
		iov[n].iov_base = (void *)m->msg;
		iov[n++].iov_len = m->len;
		return n;
	}
	iov[n].iov_base = (void *)m->msg;
	iov[n++].iov_len = at;
	iov[n].iov_base = (void *)p->data;
	iov[n++].iov_len = p->len;
	if (p->len & 3) {
		iov[n].iov_base = (void *)pad;
		iov[n++].iov_len = 4 - (p->len & 3);
	}
	if (at < m->len) {
		iov[n].iov_base = (void *)(m->msg + at);
		iov[n++].iov_len = m->len - at;
	}
	return n;
}

size_t rpc_payload_wire_len(const struct rpc_payload *p)
{
	if (!p->data)
		return 0;
	return p->len + ((4 - (p->len & 3)) & 3);
}

void *rpc_request_payload_buffer(struct rpc_request *req, size_t len)
{
	const struct rpc_xprt_ops *ops = req->xprt->ops;
	void *buf = NULL;

	if (ops->payload_buffer)
		buf = ops->payload_buffer(req->xprt, req->xprt_ctx, len);
	if (!buf)
		buf = arena_alloc(&req->arena, len);
	return buf;
}

/* Sends a reply with no payload, or one whose payload is placed (an
 * unplaced one goes at the end, where the program stopped encoding:
 * rpc_reply_msg_iov). */
static void send_reply(struct rpc_xprt *x, void *xprt_ctx, uint32_t xid, const uint8_t *buf,
		       size_t len, const struct rpc_payload *payload)
{
	struct rpc_reply_msg m = { .msg = buf, .len = len };
	struct iovec iov[4];
	int rc;

	if (payload && payload->data)
		m.payload = *payload;
	if (x->ops->send_reply)
		rc = x->ops->send_reply(x, xprt_ctx, &m);
	else
		rc = x->ops->send(x, iov, rpc_reply_msg_iov(&m, iov));
	if (rc == -EMSGSIZE)
		log_warn("rpc", "xprt %llu: reply to xid 0x%08x larger than the record limit, not sent",
			 (unsigned long long)x->id, xid);
	else if (rc < 0)
		log_debug("rpc", "xprt %llu: reply to xid 0x%08x not sent: %s",
			  (unsigned long long)x->id, xid, strerror(-rc));
}

static void dispatch(struct rpc_xprt *x, void *xprt_ctx, const struct rpc_call_hdr *h,
		     uint8_t *record, size_t len, uint8_t *reply_buf, size_t reply_cap)
{
	struct rpc_request *req;
	struct rpc_program prog;
	uint32_t st, lo, hi;
	size_t n;
	int rc;

	st = find_program(h->prog, h->vers, &prog, &lo, &hi);
	if (st == RPC_PROG_MISMATCH) {
		n = rpc_encode_prog_mismatch(reply_buf, reply_cap, h->xid, lo, hi);
		send_reply(x, xprt_ctx, h->xid, reply_buf, n, NULL);
		return;
	}
	if (st == RPC_SUCCESS && h->proc >= prog.nprocs)
		st = RPC_PROC_UNAVAIL;
	if (st != RPC_SUCCESS) {
		n = rpc_encode_accepted(reply_buf, reply_cap, h->xid, st);
		send_reply(x, xprt_ctx, h->xid, reply_buf, n, NULL);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		n = rpc_encode_accepted(reply_buf, reply_cap, h->xid, RPC_SYSTEM_ERR);
		send_reply(x, xprt_ctx, h->xid, reply_buf, n, NULL);
		return;
	}
	rpc_xprt_get(x);
	req->xprt = x;
	req->xid = h->xid;
	req->prog = h->prog;
	req->vers = h->vers;
	req->proc = h->proc;
	req->cred = h->cred;
	req->xprt_ctx = xprt_ctx;
	req->payload.pos = RPC_PAYLOAD_UNPLACED;
	/* a decoder cannot be made to allocate much more than the record could describe */
	arena_init(&req->arena, (size_t)len * 16 + (1u << 20));
	xdr_init_decode(&req->args, record + h->args_off, len - h->args_off, &req->arena);
	req->reply_buf = reply_buf;
	req->reply_cap = reply_cap;
	/* the header goes in first so the program encodes straight after it */
	xdr_init_encode(&req->res, reply_buf, reply_cap);
	rpc_encode_accepted(reply_buf, reply_cap, h->xid, RPC_SUCCESS);
	req->res.pos = RPC_ACCEPTED_HDR_LEN;
	rc = prog.dispatch(req, prog.ctx);
	if (rc == RPC_SUCCESS && !xdr_ok(&req->res)) {
		log_warn("rpc", "xid 0x%08x prog %u proc %u: reply larger than %zu bytes",
			 h->xid, h->prog, h->proc, reply_cap);
		rc = RPC_SYSTEM_ERR;
	}
	if (req->drop_reply) {
		log_trace("rpc", "xid 0x%08x: reply dropped by the program", h->xid);
	} else if (rc == RPC_SUCCESS) {
		send_reply(x, xprt_ctx, h->xid, reply_buf, req->res.pos, &req->payload);
	} else {
		if (rc != RPC_PROC_UNAVAIL && rc != RPC_GARBAGE_ARGS && rc != RPC_SYSTEM_ERR &&
		    rc != RPC_PROG_UNAVAIL)
			rc = RPC_SYSTEM_ERR;
		n = rpc_encode_accepted(reply_buf, reply_cap, h->xid, (uint32_t)rc);
		send_reply(x, xprt_ctx, h->xid, reply_buf, n, NULL);
	}
	arena_release(&req->arena);
	rpc_xprt_put(x);
	free(req);
}

void rpc_serve_record(struct rpc_xprt *x, uint8_t *record, size_t len, void *xprt_ctx,
		      uint8_t *reply_buf, size_t reply_cap)
{
	struct rpc_call_hdr *h;
	uint32_t auth_stat, mtype = 0;
	enum rpc_hdr_verdict v;
	size_t n = 0;

	h = malloc(sizeof(*h));
	if (!h) {
		log_warn("rpc", "xprt %llu: out of memory, record dropped", (unsigned long long)x->id);
		goto out;
	}
	v = rpc_decode_call(record, len, h, &auth_stat, &mtype);
	if (v == RPC_HDR_DROP) {
		log_debug("rpc", "xprt %llu: %zu-byte record without an RPC header dropped",
			  (unsigned long long)x->id, len);
		goto out;
	}
	if (v == RPC_HDR_NOT_CALL) {
		if (mtype != RPC_REPLY)
			log_debug("rpc", "xprt %llu: msg_type %u dropped", (unsigned long long)x->id, mtype);
		else if (!rpc_clnt_deliver(x, h->xid, record, len))
			log_debug("rpc", "xprt %llu: reply xid 0x%08x matches no call, dropped",
				  (unsigned long long)x->id, h->xid);
		goto out;
	}
	if (!reply_buf || reply_cap < 64) {
		log_warn("rpc", "xprt %llu: call xid 0x%08x without a reply buffer dropped",
			 (unsigned long long)x->id, h->xid);
		goto out;
	}
	switch (v) {
	case RPC_HDR_RPC_MISMATCH:
		log_debug("rpc", "xid 0x%08x: rpcvers %u refused", h->xid, h->rpcvers);
		n = rpc_encode_rpc_mismatch(reply_buf, reply_cap, h->xid);
		break;
	case RPC_HDR_AUTH_ERROR:
		log_debug("rpc", "xid 0x%08x: credential flavor %u refused (auth_stat %u)",
			  h->xid, h->cred.flavor, auth_stat);
		n = rpc_encode_auth_error(reply_buf, reply_cap, h->xid, auth_stat);
		break;
	case RPC_HDR_GARBAGE:
		n = rpc_encode_accepted(reply_buf, reply_cap, h->xid, RPC_GARBAGE_ARGS);
		break;
	default:
		dispatch(x, xprt_ctx, h, record, len, reply_buf, reply_cap);
		goto out;
	}
	send_reply(x, xprt_ctx, h->xid, reply_buf, n, NULL);
out:
	free(h);
	if (xprt_ctx && x->ops->request_done)
		x->ops->request_done(x, xprt_ctx);
	else
		free(record);
}

bool rpc_record_is_reply(const uint8_t *rec, size_t len)
{
	/* msg_type is the second word */
	return len >= 8 && rec[4] == 0 && rec[5] == 0 && rec[6] == 0 && rec[7] == RPC_REPLY;
}

bool rpc_route_reply(struct rpc_xprt *x, uint8_t *record, size_t len)
{
	/* a record too short for a msg_type is the worker's to drop (and
	 * log) like any other malformed one */
	if (!rpc_record_is_reply(record, len))
		return false;
	rpc_serve_record(x, record, len, NULL, NULL, 0);
	return true;
}
