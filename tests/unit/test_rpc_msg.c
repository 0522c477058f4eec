/*
 * tests/unit/test_rpc_msg.c: RPC call-header decoding, the replies
 * rpc_serve_record forms (RFC 5531 §9), dispatch to a registered program, and
 * backchannel calls (rpc_call_sync), over an in-memory transport that records
 * what would have been sent.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/rpc.h"
#include "rpc/rpc_internal.h"

/* ---- an in-memory transport ---- */

struct mem_xprt {
	struct rpc_xprt x;
	pthread_mutex_t lock;
	uint8_t sent[8192];
	size_t sent_len;
	unsigned nsent;
	bool destroyed;
	/* for backchannel tests: a thread that answers what we send */
	bool auto_reply;
	uint32_t reply_accept;
};

static int mem_send(struct rpc_xprt *x, const struct iovec *iov, int n)
{
	struct mem_xprt *m = (struct mem_xprt *)x;
	int i;

	pthread_mutex_lock(&m->lock);
	m->sent_len = 0;
	for (i = 0; i < n; i++) {
		if (m->sent_len + iov[i].iov_len > sizeof(m->sent)) {
			pthread_mutex_unlock(&m->lock);
			return -EMSGSIZE;
		}
		memcpy(m->sent + m->sent_len, iov[i].iov_base, iov[i].iov_len);
		m->sent_len += iov[i].iov_len;
	}
	m->nsent++;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void mem_shutdown(struct rpc_xprt *x) { }

static void mem_destroy(struct rpc_xprt *x)
{
	((struct mem_xprt *)x)->destroyed = true;
}

static const struct rpc_xprt_ops mem_ops = {
	.netid = "mem", .send = mem_send, .shutdown = mem_shutdown, .destroy = mem_destroy,
};

static struct mem_xprt *mem_new(void)
{
	struct mem_xprt *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	pthread_mutex_init(&m->lock, NULL);
	rpc_xprt_init(&m->x, &mem_ops);
	m->x.max_record = 65536;
	return m;
}

static void mem_free(struct mem_xprt *m)
{
	rpc_xprt_put(&m->x);
	assert_true(m->destroyed);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---- building calls ---- */

static size_t build_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t rpcvers,
			 uint32_t prog, uint32_t vers, uint32_t proc, uint32_t flavor,
			 const uint8_t *cred, uint32_t cred_len, uint32_t verf_flavor,
			 const void *args, size_t args_len)
{
	struct xdr_stream x;

	xdr_init_encode(&x, buf, cap);
	xdr_put_u32(&x, xid);
	xdr_put_u32(&x, RPC_CALL);
	xdr_put_u32(&x, rpcvers);
	xdr_put_u32(&x, prog);
	xdr_put_u32(&x, vers);
	xdr_put_u32(&x, proc);
	xdr_put_u32(&x, flavor);
	xdr_put_opaque(&x, cred, cred_len);
	xdr_put_u32(&x, verf_flavor);
	xdr_put_u32(&x, 0);
	if (args_len)
		xdr_put_fixed(&x, args, args_len);
	assert_true(xdr_ok(&x));
	return x.pos;
}

static uint32_t build_authsys(uint8_t *buf, size_t cap, uint32_t uid, uint32_t gid,
			      uint32_t ngids, const char *machine)
{
	struct xdr_stream x;
	uint32_t i;

	xdr_init_encode(&x, buf, cap);
	xdr_put_u32(&x, 77);
	xdr_put_opaque(&x, machine, (uint32_t)strlen(machine));
	xdr_put_u32(&x, uid);
	xdr_put_u32(&x, gid);
	xdr_put_u32(&x, ngids);
	for (i = 0; i < ngids; i++)
		xdr_put_u32(&x, 1000 + i);
	assert_true(xdr_ok(&x));
	return (uint32_t)x.pos;
}

static uint32_t word(const uint8_t *p, unsigned i)
{
	p += 4 * i;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- header decoding ---- */

static void test_msg_decode_authsys(void **state)
{
	uint8_t cred[256], rec[512];
	struct rpc_call_hdr h;
	uint32_t as, mt;
	uint32_t cl = build_authsys(cred, sizeof(cred), 1001, 100, 3, "client.example");
	size_t n = build_call(rec, sizeof(rec), 0xabc, 2, 100003, 4, 1, RPC_AUTH_SYS, cred, cl,
			      RPC_AUTH_NONE, "ARGS", 4);

	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_OK);
	assert_int_equal(h.xid, 0xabc);
	assert_int_equal(h.prog, 100003);
	assert_int_equal(h.vers, 4);
	assert_int_equal(h.proc, 1);
	assert_int_equal(h.cred.flavor, RPC_AUTH_SYS);
	assert_int_equal(h.cred.uid, 1001);
	assert_int_equal(h.cred.gid, 100);
	assert_int_equal(h.cred.ngids, 3);
	assert_int_equal(h.cred.gids[2], 1002);
	assert_int_equal(h.cred.stamp, 77);
	assert_string_equal(h.cred.machinename, "client.example");
	assert_int_equal(h.cred.raw_len, cl);
	assert_memory_equal(h.cred.raw, cred, cl);
	assert_int_equal(n - h.args_off, 4);
	assert_memory_equal(rec + h.args_off, "ARGS", 4);
}

static void test_msg_decode_refusals(void **state)
{
	uint8_t cred[512], rec[1024];
	struct rpc_call_hdr h;
	uint32_t as, mt, cl;
	size_t n;

	/* 17 gids: one more than AUTH_SYS allows */
	cl = build_authsys(cred, sizeof(cred), 1, 1, 17, "m");
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, RPC_AUTH_SYS, cred, cl,
		       RPC_AUTH_NONE, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_AUTH_ERROR);
	assert_int_equal(as, RPC_AUTH_BADCRED);

	/* a body with trailing bytes */
	cl = build_authsys(cred, sizeof(cred), 1, 1, 0, "m") + 4;
	memset(cred + cl - 4, 0, 4);
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, RPC_AUTH_SYS, cred, cl,
		       RPC_AUTH_NONE, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_AUTH_ERROR);
	assert_int_equal(as, RPC_AUTH_BADCRED);

	/* a credential longer than 400 bytes */
	memset(cred, 0, sizeof(cred));
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, RPC_AUTH_SYS, cred, 404,
		       RPC_AUTH_NONE, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_AUTH_ERROR);
	assert_int_equal(as, RPC_AUTH_BADCRED);

	/* a flavor we do not implement (AUTH_DH) */
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, 3, cred, 8, RPC_AUTH_NONE, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_AUTH_ERROR);
	assert_int_equal(as, RPC_AUTH_BADCRED);

	/* a verifier that is not AUTH_NONE */
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, RPC_AUTH_NONE, NULL, 0,
		       RPC_AUTH_SYS, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_AUTH_ERROR);
	assert_int_equal(as, RPC_AUTH_BADVERF);

	/* rpcvers 3 */
	n = build_call(rec, sizeof(rec), 1, 3, 100003, 4, 0, RPC_AUTH_NONE, NULL, 0,
		       RPC_AUTH_NONE, NULL, 0);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_RPC_MISMATCH);

	/* cut short after the xid and msg_type, and before them */
	assert_int_equal(rpc_decode_call(rec, 10, &h, &as, &mt), RPC_HDR_GARBAGE);
	assert_int_equal(rpc_decode_call(rec, 7, &h, &as, &mt), RPC_HDR_DROP);
	/* every truncation of a valid header is refused, none is accepted */
	n = build_call(rec, sizeof(rec), 1, 2, 100003, 4, 0, RPC_AUTH_NONE, NULL, 0,
		       RPC_AUTH_NONE, NULL, 0);
	for (cl = 0; cl < n; cl++)
		assert_int_not_equal(rpc_decode_call(rec, cl, &h, &as, &mt), RPC_HDR_OK);
	assert_int_equal(rpc_decode_call(rec, n, &h, &as, &mt), RPC_HDR_OK);
}

/* ---- serving ---- */

static int echo_calls;

/* proc 1: echo one u32 argument; proc 2: encode something, then say GARBAGE_ARGS. */
static int echo_dispatch(struct rpc_request *req, void *ctx)
{
	uint32_t v;

	echo_calls++;
	assert_ptr_equal(ctx, &echo_calls);
	if (req->proc == 0)
		return RPC_SUCCESS;
	if (req->proc == 2) {
		xdr_put_u32(&req->res, 0xdeadbeef);
		return RPC_GARBAGE_ARGS;
	}
	if (!xdr_get_u32(&req->args, &v))
		return RPC_GARBAGE_ARGS;
	xdr_put_u32(&req->res, v + 1);
	/* left unplaced: it goes where encoding stopped */
	req->payload.data = "TAIL";
	req->payload.len = 4;
	return RPC_SUCCESS;
}

static const struct rpc_program echo_prog = {
	.prog = 400100, .vers_lo = 2, .vers_hi = 3, .nprocs = 3,
	.dispatch = echo_dispatch, .ctx = &echo_calls,
};

static int setup_prog(void **state)
{
	rpc_unregister_programs();
	return rpc_register_program(&echo_prog);
}

static int teardown_prog(void **state)
{
	rpc_unregister_programs();
	return 0;
}

/* Serves one call and returns what was sent. */
static struct mem_xprt *serve(uint32_t rpcvers, uint32_t prog, uint32_t vers, uint32_t proc,
			      const void *args, size_t args_len)
{
	static uint8_t reply[4096];
	struct mem_xprt *m = mem_new();
	uint8_t *rec = malloc(512);
	size_t n;

	assert_non_null(rec);
	n = build_call(rec, 512, 0x1234, rpcvers, prog, vers, proc, RPC_AUTH_NONE, NULL, 0,
		       RPC_AUTH_NONE, args, args_len);
	rpc_serve_record(&m->x, rec, n, NULL, reply, sizeof(reply));
	return m;
}

static void test_msg_serve_success_with_payload(void **state)
{
	uint8_t arg[4] = { 0, 0, 0, 41 };
	struct mem_xprt *m = serve(2, 400100, 3, 1, arg, 4);

	assert_int_equal(m->nsent, 1);
	assert_int_equal(m->sent_len, 24 + 4 + 4);
	assert_int_equal(word(m->sent, 0), 0x1234);
	assert_int_equal(word(m->sent, 1), RPC_REPLY);
	assert_int_equal(word(m->sent, 2), RPC_MSG_ACCEPTED);
	assert_int_equal(word(m->sent, 5), RPC_SUCCESS);
	assert_int_equal(word(m->sent, 6), 42);
	assert_memory_equal(m->sent + 28, "TAIL", 4);
	assert_int_equal(atomic_load(&m->x.refs), 1);   /* the request gave its reference back */
	mem_free(m);
}

static void test_msg_serve_errors(void **state)
{
	struct mem_xprt *m;
	int before = echo_calls;

	m = serve(2, 400999, 1, 0, NULL, 0);
	assert_int_equal(m->sent_len, 24);
	assert_int_equal(word(m->sent, 5), RPC_PROG_UNAVAIL);
	mem_free(m);

	m = serve(2, 400100, 4, 0, NULL, 0);
	assert_int_equal(m->sent_len, 32);
	assert_int_equal(word(m->sent, 5), RPC_PROG_MISMATCH);
	assert_int_equal(word(m->sent, 6), 2);
	assert_int_equal(word(m->sent, 7), 3);
	mem_free(m);

	m = serve(2, 400100, 2, 3, NULL, 0);
	assert_int_equal(m->sent_len, 24);
	assert_int_equal(word(m->sent, 5), RPC_PROC_UNAVAIL);
	mem_free(m);

	m = serve(3, 400100, 2, 0, NULL, 0);
	assert_int_equal(m->sent_len, 24);
	assert_int_equal(word(m->sent, 2), RPC_MSG_DENIED);
	assert_int_equal(word(m->sent, 3), RPC_MISMATCH);
	assert_int_equal(word(m->sent, 4), 2);
	assert_int_equal(word(m->sent, 5), 2);
	mem_free(m);
	assert_int_equal(echo_calls, before);   /* none of these reached the program */

	/* a program's GARBAGE_ARGS discards what it had encoded */
	m = serve(2, 400100, 2, 2, NULL, 0);
	assert_int_equal(m->sent_len, 24);
	assert_int_equal(word(m->sent, 5), RPC_GARBAGE_ARGS);
	mem_free(m);

	/* missing arguments */
	m = serve(2, 400100, 2, 1, NULL, 0);
	assert_int_equal(word(m->sent, 5), RPC_GARBAGE_ARGS);
	mem_free(m);
}

static void test_msg_serve_auth_error(void **state)
{
	static uint8_t reply[4096];
	uint8_t cred[512];
	struct mem_xprt *m = mem_new();
	uint8_t *rec = malloc(1024);
	uint32_t cl = build_authsys(cred, sizeof(cred), 0, 0, 17, "m");
	size_t n = build_call(rec, 1024, 9, 2, 400100, 2, 0, RPC_AUTH_SYS, cred, cl,
			      RPC_AUTH_NONE, NULL, 0);

	rpc_serve_record(&m->x, rec, n, NULL, reply, sizeof(reply));
	assert_int_equal(m->sent_len, 20);
	assert_int_equal(word(m->sent, 0), 9);
	assert_int_equal(word(m->sent, 2), RPC_MSG_DENIED);
	assert_int_equal(word(m->sent, 3), RPC_AUTH_ERROR);
	assert_int_equal(word(m->sent, 4), RPC_AUTH_BADCRED);
	mem_free(m);
}

static void test_msg_register_overlap_refused(void **state)
{
	struct rpc_program p = echo_prog;

	p.vers_lo = 3;
	p.vers_hi = 5;
	assert_int_equal(rpc_register_program(&p), -EEXIST);
	p.vers_lo = 4;
	assert_int_equal(rpc_register_program(&p), 0);
}

/* ---- backchannel ---- */

static bool enc_u32(struct xdr_stream *x, const void *args)
{
	return xdr_put_u32(x, *(const uint32_t *)args);
}

struct answerer {
	struct mem_xprt *m;
	bool close_instead;
};

/* Plays the client: waits for the CALL, then answers it (or closes). */
static void *answer_thread(void *arg)
{
	struct answerer *a = arg;
	uint8_t *rec;
	uint32_t xid = 0, v = 0;
	bool have = false;

	while (!have) {
		pthread_mutex_lock(&a->m->lock);
		if (a->m->nsent) {
			xid = word(a->m->sent, 0);
			v = word(a->m->sent, (unsigned)(a->m->sent_len / 4 - 1));
			have = true;
		}
		pthread_mutex_unlock(&a->m->lock);
		if (!have)
			usleep(1000);
	}
	if (a->close_instead) {
		rpc_xprt_closed(&a->m->x);
		return NULL;
	}
	rec = malloc(28);
	rec[0] = (uint8_t)(xid >> 24); rec[1] = (uint8_t)(xid >> 16);
	rec[2] = (uint8_t)(xid >> 8); rec[3] = (uint8_t)xid;
	memset(rec + 4, 0, 24);
	rec[7] = RPC_REPLY;
	rec[24] = 0; rec[25] = 0; rec[26] = 0; rec[27] = (uint8_t)(v * 2);
	rpc_serve_record(&a->m->x, rec, 28, NULL, NULL, 0);
	return NULL;
}

static void test_msg_call_sync_reply(void **state)
{
	struct mem_xprt *m = mem_new();
	struct answerer a = { .m = m };
	struct rpc_reply r;
	struct rpc_cred cred = { .flavor = RPC_AUTH_SYS, .uid = 5, .gid = 6 };
	uint32_t arg = 21;
	pthread_t t;

	strcpy(cred.machinename, "server");
	assert_int_equal(pthread_create(&t, NULL, answer_thread, &a), 0);
	assert_int_equal(rpc_call_sync(&m->x, 400200, 1, 1, &cred, enc_u32, &arg, 5000, &r), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	assert_int_equal(r.body_len, 4);
	assert_int_equal(word(r.body, 0), 42);
	/* what went out: a CALL with an AUTH_SYS credential for uid 5 */
	assert_int_equal(word(m->sent, 1), RPC_CALL);
	assert_int_equal(word(m->sent, 3), 400200);
	assert_int_equal(word(m->sent, 6), RPC_AUTH_SYS);
	rpc_reply_release(&r);
	mem_free(m);
}

static void test_msg_call_sync_close_wakes(void **state)
{
	struct mem_xprt *m = mem_new();
	struct answerer a = { .m = m, .close_instead = true };
	struct rpc_reply r;
	uint32_t arg = 1;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, answer_thread, &a), 0);
	assert_int_equal(rpc_call_sync(&m->x, 400200, 1, 1, NULL, enc_u32, &arg, 20000, &r),
			 -ECONNRESET);
	pthread_join(t, NULL);
	/* and a call on a closed connection fails at once */
	assert_int_equal(rpc_call_sync(&m->x, 400200, 1, 1, NULL, enc_u32, &arg, 20000, &r),
			 -ECONNRESET);
	mem_free(m);
}

static void test_msg_call_sync_timeout_and_stray_reply(void **state)
{
	struct mem_xprt *m = mem_new();
	struct rpc_reply r;
	uint8_t *rec;
	uint32_t arg = 1;

	assert_int_equal(rpc_call_sync(&m->x, 400200, 1, 1, NULL, enc_u32, &arg, 100, &r),
			 -ETIMEDOUT);
	/* the late reply matches nobody and is dropped */
	rec = calloc(1, 24);
	memcpy(rec, m->sent, 4);
	rec[7] = RPC_REPLY;
	assert_false(rpc_clnt_deliver(&m->x, word(m->sent, 0), rec, 24));
	rpc_serve_record(&m->x, rec, 24, NULL, NULL, 0);
	mem_free(m);
}

/* ---- asynchronous calls (the callback engine's) ---- */

struct async_result {
	unsigned calls;
	int status;
	uint32_t accept_stat, first_word;
	size_t body_len;
};

static void async_done(void *ctx, struct rpc_reply *rep)
{
	struct async_result *r = ctx;

	r->calls++;
	r->status = rep->status;
	r->accept_stat = rep->accept_stat;
	r->body_len = rep->body_len;
	r->first_word = rep->body_len >= 4 ? word(rep->body, 0) : 0;
	rpc_reply_release(rep);
}

/* A REPLY record for xid with one result word. */
static uint8_t *reply_record(uint32_t xid, uint32_t v)
{
	uint8_t *rec = calloc(1, 28);

	rec[0] = (uint8_t)(xid >> 24); rec[1] = (uint8_t)(xid >> 16);
	rec[2] = (uint8_t)(xid >> 8); rec[3] = (uint8_t)xid;
	rec[7] = RPC_REPLY;
	rec[27] = (uint8_t)v;
	return rec;
}

static void test_msg_call_async_reply_by_xid(void **state)
{
	struct mem_xprt *m = mem_new();
	struct async_result r1 = { 0 }, r2 = { 0 };
	uint32_t x1 = rpc_call_next_xid(), x2 = rpc_call_next_xid(), arg = 7;

	(void)state;
	/* Two calls in flight at once; replies in the other order. */
	assert_int_equal(rpc_call_start(&m->x, x1, 400200, 1, 1, NULL, enc_u32, &arg,
					async_done, &r1), 0);
	assert_int_equal(rpc_call_start(&m->x, x2, 400200, 1, 1, NULL, enc_u32, &arg,
					async_done, &r2), 0);
	assert_int_equal(r1.calls + r2.calls, 0);
	rpc_serve_record(&m->x, reply_record(x2, 22), 28, NULL, NULL, 0);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.status, 0);
	assert_int_equal(r2.first_word, 22);
	assert_int_equal(r1.calls, 0);
	rpc_serve_record(&m->x, reply_record(x1, 11), 28, NULL, NULL, 0);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.first_word, 11);
	/* A second reply to the same xid reaches nobody. */
	assert_false(rpc_clnt_deliver(&m->x, x1, (const uint8_t *)"\0", 1));
	assert_int_equal(r1.calls, 1);
	mem_free(m);
}

static void test_msg_call_async_cancel_then_late_reply(void **state)
{
	struct mem_xprt *m = mem_new();
	struct async_result r = { 0 };
	uint32_t x = rpc_call_next_xid(), arg = 1;
	uint8_t *rec;

	(void)state;
	assert_int_equal(rpc_call_start(&m->x, x, 400200, 1, 1, NULL, enc_u32, &arg,
					async_done, &r), 0);
	assert_true(rpc_call_cancel(&m->x, x, -ETIMEDOUT));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -ETIMEDOUT);
	/* cancelled once only, and the late reply is dropped */
	assert_false(rpc_call_cancel(&m->x, x, -ETIMEDOUT));
	rec = reply_record(x, 5);
	assert_false(rpc_clnt_deliver(&m->x, x, rec, 28));
	free(rec);
	assert_int_equal(r.calls, 1);
	mem_free(m);
}

static void test_msg_call_async_close_ends_all(void **state)
{
	struct mem_xprt *m = mem_new();
	struct async_result r[3] = { { 0 } };
	uint32_t arg = 1;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(rpc_call_start(&m->x, rpc_call_next_xid(), 400200, 1, 1, NULL,
						enc_u32, &arg, async_done, &r[i]), 0);
	rpc_xprt_closed(&m->x);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, -ECONNRESET);
	}
	/* On a closed connection the outcome comes before the call returns. */
	assert_int_equal(rpc_call_start(&m->x, rpc_call_next_xid(), 400200, 1, 1, NULL, enc_u32,
					&arg, async_done, &r[0]), -ECONNRESET);
	assert_int_equal(r[0].calls, 2);
	assert_int_equal(r[0].status, -ECONNRESET);
	mem_free(m);
}

/* ---- the transport seam: per-call context, payload placement, buffers ---- */

/* A transport that sends replies itself (as RDMA will): it keeps what it
 * was given apart, offers payload memory, and counts request_done. */
struct seam_xprt {
	struct mem_xprt m;
	void *ctx_seen;
	uint8_t msg[512];
	size_t msg_len;
	struct rpc_payload payload;
	uint8_t payload_copy[64];
	uint8_t offered[64];
	unsigned offers, done;
	void *done_ctx;
};

static int seam_send_reply(struct rpc_xprt *x, void *ctx, const struct rpc_reply_msg *r)
{
	struct seam_xprt *t = (struct seam_xprt *)x;

	assert_true(r->len <= sizeof(t->msg));
	t->ctx_seen = ctx;
	memcpy(t->msg, r->msg, r->len);
	t->msg_len = r->len;
	t->payload = r->payload;
	if (r->payload.data) {
		assert_true(r->payload.len <= sizeof(t->payload_copy));
		memcpy(t->payload_copy, r->payload.data, r->payload.len);
	}
	t->m.nsent++;
	return 0;
}

static void *seam_payload_buffer(struct rpc_xprt *x, void *ctx, size_t len)
{
	struct seam_xprt *t = (struct seam_xprt *)x;

	assert_ptr_equal(ctx, t->done_ctx);
	t->offers++;
	return len <= sizeof(t->offered) ? t->offered : NULL;
}

static void seam_request_done(struct rpc_xprt *x, void *ctx)
{
	struct seam_xprt *t = (struct seam_xprt *)x;

	assert_ptr_equal(ctx, t->done_ctx);
	t->done++;
	free(ctx);   /* the context owns the record: here they are one block */
}

static const struct rpc_xprt_ops seam_ops = {
	.netid = "seam", .send = mem_send, .send_reply = seam_send_reply,
	.payload_buffer = seam_payload_buffer, .request_done = seam_request_done,
	.shutdown = mem_shutdown, .destroy = mem_destroy,
};

/* proc 0: u32 v -> v + 1, a 3-byte payload "abc" built in payload memory,
 * then 0x77 after it; proc 1: the same payload, then GARBAGE_ARGS. */
static int payload_dispatch(struct rpc_request *req, void *ctx)
{
	uint8_t *buf;
	uint32_t v;

	(void)ctx;
	if (!xdr_get_u32(&req->args, &v))
		return RPC_GARBAGE_ARGS;
	xdr_put_u32(&req->res, v + 1);
	xdr_put_u32(&req->res, 3);   /* the opaque's length word */
	buf = rpc_request_payload_buffer(req, 3);
	assert_non_null(buf);
	memcpy(buf, "abc", 3);
	req->payload.data = buf;
	req->payload.len = 3;
	req->payload.pos = req->res.pos;
	xdr_put_u32(&req->res, 0x77);
	return req->proc == 0 ? RPC_SUCCESS : RPC_GARBAGE_ARGS;
}

static const struct rpc_program payload_prog = {
	.prog = 400101, .vers_lo = 1, .vers_hi = 1, .nprocs = 2,
	.dispatch = payload_dispatch, .ctx = NULL,
};

static int setup_payload_prog(void **state)
{
	rpc_unregister_programs();
	return rpc_register_program(&payload_prog);
}

static uint8_t *payload_call(uint32_t proc, size_t *n)
{
	uint8_t arg[4] = { 0, 0, 0, 9 };
	uint8_t *rec = malloc(512);

	assert_non_null(rec);
	*n = build_call(rec, 512, 0x5151, 2, 400101, 1, proc, RPC_AUTH_NONE, NULL, 0,
			RPC_AUTH_NONE, arg, 4);
	return rec;
}

/* A stream transport gets the payload in place with its XDR pad, and the
 * words encoded after it follow. */
static void test_msg_payload_placed_mid_message(void **state)
{
	static uint8_t reply[4096];
	struct mem_xprt *m = mem_new();
	uint8_t *rec;
	size_t n;

	rec = payload_call(0, &n);
	rpc_serve_record(&m->x, rec, n, NULL, reply, sizeof(reply));
	assert_int_equal(m->nsent, 1);
	assert_int_equal(m->sent_len, 24 + 4 + 4 + 4 + 4);
	assert_int_equal(word(m->sent, 5), RPC_SUCCESS);
	assert_int_equal(word(m->sent, 6), 10);
	assert_int_equal(word(m->sent, 7), 3);
	assert_memory_equal(m->sent + 32, "abc\0", 4);
	assert_int_equal(word(m->sent, 9), 0x77);
	assert_int_equal(atomic_load(&m->x.refs), 1);
	mem_free(m);
}

static struct seam_xprt *seam_new(void)
{
	struct seam_xprt *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	pthread_mutex_init(&t->m.lock, NULL);
	rpc_xprt_init(&t->m.x, &seam_ops);
	t->m.x.max_record = 65536;
	return t;
}

/* A transport with send_reply gets the message without the payload and
 * where it belongs; the payload was built in the memory it offered; its
 * context comes back in request_done exactly once, which owns the record. */
static void test_msg_transport_context_and_payload_memory(void **state)
{
	static uint8_t reply[4096];
	struct seam_xprt *t = seam_new();
	uint8_t *rec;
	size_t n;

	rec = payload_call(0, &n);
	t->done_ctx = rec;
	rpc_serve_record(&t->m.x, rec, n, rec, reply, sizeof(reply));
	assert_int_equal(t->m.nsent, 1);
	assert_ptr_equal(t->ctx_seen, rec);
	assert_int_equal(t->msg_len, 24 + 4 + 4 + 4);   /* the payload is not in it */
	assert_int_equal(word(t->msg, 7), 3);
	assert_int_equal(word(t->msg, 8), 0x77);
	assert_ptr_equal(t->payload.data, t->offered);
	assert_int_equal(t->payload.len, 3);
	assert_int_equal(t->payload.pos, 32);   /* right after its length word */
	assert_memory_equal(t->payload_copy, "abc", 3);
	assert_int_equal(t->offers, 1);
	assert_int_equal(t->done, 1);

	/* an error reply carries no payload, and the context still ends once */
	rec = payload_call(1, &n);
	t->done_ctx = rec;
	rpc_serve_record(&t->m.x, rec, n, rec, reply, sizeof(reply));
	assert_int_equal(t->m.nsent, 2);
	assert_int_equal(word(t->msg, 5), RPC_GARBAGE_ARGS);
	assert_int_equal(t->msg_len, 24);
	assert_null(t->payload.data);
	assert_int_equal(t->done, 2);

	/* a call refused before dispatch (no such program) ends it too */
	rec = payload_call(0, &n);
	rec[15] = 0x99;   /* prog 400101 -> another */
	t->done_ctx = rec;
	rpc_serve_record(&t->m.x, rec, n, rec, reply, sizeof(reply));
	assert_int_equal(word(t->msg, 5), RPC_PROG_UNAVAIL);
	assert_int_equal(t->done, 3);
	assert_int_equal(t->offers, 2);
	mem_free(&t->m);   /* frees t: m is its first member */
}

/* rpc_route_reply takes REPLYs (delivering them to the waiting call) and
 * leaves everything else to the transport's workers, untouched. */
static void test_msg_route_reply_only_replies(void **state)
{
	struct mem_xprt *m = mem_new();
	struct async_result r = { 0 };
	uint32_t x = rpc_call_next_xid(), arg = 3;
	uint8_t call[64], shortrec[7] = { 0 };
	size_t n;

	(void)state;
	n = build_call(call, sizeof(call), 0x42, 2, 400101, 1, 0, RPC_AUTH_NONE, NULL, 0,
		       RPC_AUTH_NONE, NULL, 0);
	assert_false(rpc_route_reply(&m->x, call, n));
	assert_int_equal(word(call, 0), 0x42);   /* untouched */
	assert_false(rpc_route_reply(&m->x, shortrec, sizeof(shortrec)));
	assert_int_equal(rpc_call_start(&m->x, x, 400200, 1, 1, NULL, enc_u32, &arg,
					async_done, &r), 0);
	assert_true(rpc_route_reply(&m->x, reply_record(x, 33), 28));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.first_word, 33);
	/* a reply nobody waits for is taken (and freed) all the same */
	assert_true(rpc_route_reply(&m->x, reply_record(x, 34), 28));
	assert_int_equal(r.calls, 1);
	mem_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_decode_authsys),
		cmocka_unit_test(test_msg_decode_refusals),
		cmocka_unit_test_setup_teardown(test_msg_serve_success_with_payload, setup_prog, teardown_prog),
		cmocka_unit_test_setup_teardown(test_msg_serve_errors, setup_prog, teardown_prog),
		cmocka_unit_test_setup_teardown(test_msg_serve_auth_error, setup_prog, teardown_prog),
		cmocka_unit_test_setup_teardown(test_msg_register_overlap_refused, setup_prog, teardown_prog),
		cmocka_unit_test(test_msg_call_sync_reply),
		cmocka_unit_test(test_msg_call_sync_close_wakes),
		cmocka_unit_test(test_msg_call_sync_timeout_and_stray_reply),
		cmocka_unit_test(test_msg_call_async_reply_by_xid),
		cmocka_unit_test(test_msg_call_async_cancel_then_late_reply),
		cmocka_unit_test(test_msg_call_async_close_ends_all),
		cmocka_unit_test_setup_teardown(test_msg_payload_placed_mid_message,
						setup_payload_prog, teardown_prog),
		cmocka_unit_test_setup_teardown(test_msg_transport_context_and_payload_memory,
						setup_payload_prog, teardown_prog),
		cmocka_unit_test(test_msg_route_reply_only_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
