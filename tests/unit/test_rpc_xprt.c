/*
 * tests/unit/test_rpc_xprt.c: the TCP transport, event loop and worker pool
 * (rpc/xprt_tcp.c, rpc/svc.c) with the RPC layer over real loopback sockets:
 * a call whose procedure makes a backchannel call to the client on the same
 * connection while other calls flow on it; a client that disconnects instead
 * of answering wakes the waiting call at once; close hooks run; the tick
 * runs; and rpc_call_sync refuses to run on the loop thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/record.h"
#include "rpc/rpc.h"
#include "rpc/svc.h"
#include "rpc/xprt_tcp.h"

#define TEST_PROG 400300
#define CB_PROG 400301

static struct rpc_svc *svc;
static struct rpc_tcp_listener *lis;
static pthread_t loop_thread;
static atomic_int closes, ticks, cb_status, tick_call_rc;

static void *loop_main(void *arg)
{
	rpc_svc_run(svc);
	return NULL;
}

static void on_close(struct rpc_xprt *x, void *ctx)
{
	atomic_fetch_add(&closes, 1);
}

static bool enc_u32(struct xdr_stream *x, const void *args)
{
	return xdr_put_u32(x, *(const uint32_t *)args);
}

/* proc 0: NULL. proc 1: call the client back with the argument, return its answer. */
static int test_dispatch(struct rpc_request *req, void *ctx)
{
	struct rpc_reply r;
	uint32_t v;
	int rc;

	if (req->proc == 0)
		return RPC_SUCCESS;
	if (!xdr_get_u32(&req->args, &v))
		return RPC_GARBAGE_ARGS;
	req->xprt->on_close = on_close;
	rc = rpc_call_sync(req->xprt, CB_PROG, 1, 1, NULL, enc_u32, &v, 5000, &r);
	atomic_store(&cb_status, rc);
	if (rc < 0)
		return RPC_SYSTEM_ERR;
	if (r.body_len != 4) {
		rpc_reply_release(&r);
		return RPC_SYSTEM_ERR;
	}
	xdr_put_fixed(&req->res, r.body, 4);
	rpc_reply_release(&r);
	return RPC_SUCCESS;
}

static void on_tick(void *ctx)
{
	struct rpc_reply r;

	atomic_fetch_add(&ticks, 1);
	/* on the loop thread: must be refused, not hang */
	atomic_store(&tick_call_rc, rpc_call_sync((struct rpc_xprt *)ctx, 1, 1, 0, NULL, NULL, NULL,
						   100, &r));
}

/* A connection object that is never used: rpc_call_sync refuses before touching it. */
static struct rpc_xprt dummy_xprt;

static int setup(void **state)
{
	static const struct rpc_program p = {
		.prog = TEST_PROG, .vers_lo = 1, .vers_hi = 1, .nprocs = 2, .dispatch = test_dispatch,
	};

	atomic_store(&closes, 0);
	atomic_store(&cb_status, 1);
	rpc_unregister_programs();
	if (rpc_register_program(&p) < 0 || rpc_svc_create(2, 65536, &svc) < 0 ||
	    rpc_tcp_listen(svc, "127.0.0.1", 0, 65536, &lis) < 0)
		return -1;
	rpc_svc_set_tick(svc, on_tick, &dummy_xprt);
	return pthread_create(&loop_thread, NULL, loop_main, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	rpc_svc_stop(svc);
	pthread_join(loop_thread, NULL);
	rpc_tcp_listener_close(lis);
	rpc_svc_destroy(svc);
	rpc_unregister_programs();
	return 0;
}

/* ---- a tiny blocking client ---- */

static int client_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(rpc_tcp_listener_port(lis));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void client_send(int fd, const uint32_t *words, unsigned n)
{
	uint32_t buf[32];
	unsigned i;

	buf[0] = htonl((n * 4) | RPC_REC_LAST_FRAG);
	for (i = 0; i < n; i++)
		buf[i + 1] = htonl(words[i]);
	assert_int_equal(send(fd, buf, (n + 1) * 4, MSG_NOSIGNAL), (ssize_t)(n + 1) * 4);
}

static void client_call(int fd, uint32_t xid, uint32_t proc, const uint32_t *args, unsigned nargs)
{
	uint32_t w[16] = { xid, RPC_CALL, 2, TEST_PROG, 1, proc, 0, 0, 0, 0 };

	if (nargs)
		memcpy(w + 10, args, nargs * 4);
	client_send(fd, w, 10 + nargs);
}

struct got {
	uint8_t *rec;
	size_t len;
};

static void rec_emit(void *ctx, uint8_t *rec, size_t len)
{
	struct got *g = ctx;

	assert_null(g->rec);
	g->rec = rec;
	g->len = len;
}

/* Reads one record (byte by byte: records here are tiny) as host-order words. */
static unsigned client_recv(int fd, uint32_t *w, unsigned max)
{
	struct rpc_recbuf rb;
	struct got g = { NULL, 0 };
	uint8_t byte;
	unsigned i, n;

	rpc_rec_init(&rb, 65536);
	while (!g.rec) {
		assert_int_equal(recv(fd, &byte, 1, 0), 1);
		assert_int_equal(rpc_rec_feed(&rb, &byte, 1, rec_emit, &g), 0);
	}
	n = (unsigned)(g.len / 4);
	assert_true(n <= max);
	for (i = 0; i < n; i++)
		w[i] = ntohl(((uint32_t *)g.rec)[i]);
	free(g.rec);
	rpc_rec_release(&rb);
	return n;
}

static void wait_for(atomic_int *v, int want)
{
	int i;

	for (i = 0; i < 500 && atomic_load(v) != want; i++)
		usleep(10000);
	assert_int_equal(atomic_load(v), want);
}

/* A call whose procedure calls us back; NULL calls keep flowing meanwhile. */
static void test_xprt_backchannel_during_forechannel(void **state)
{
	uint32_t w[16], arg = 21, cb_xid = 0;
	unsigned n, i, nulls = 0;
	bool got_cb = false, got_answer = false;
	int fd = client_connect();

	client_call(fd, 100, 1, &arg, 1);
	for (i = 0; i < 5; i++)
		client_call(fd, 200 + i, 0, NULL, 0);
	while (!got_answer || nulls < 5) {
		n = client_recv(fd, w, 16);
		assert_true(n >= 6);
		if (w[1] == RPC_CALL) {
			/* the server's call: xid, CALL, 2, prog, vers, proc, cred, verf, arg */
			assert_false(got_cb);
			assert_int_equal(w[3], CB_PROG);
			assert_int_equal(w[5], 1);
			assert_int_equal(n, 11);
			assert_int_equal(w[10], 21);
			cb_xid = w[0];
			got_cb = true;
			/* more fore-channel traffic before we answer */
			client_call(fd, 300, 0, NULL, 0);
			do {
				n = client_recv(fd, w, 16);
				assert_int_equal(w[1], RPC_REPLY);
				assert_int_equal(w[5], RPC_SUCCESS);
				assert_int_not_equal(w[0], 100);   /* it waits for our answer */
				if (w[0] != 300)
					nulls++;
			} while (w[0] != 300);
			{
				const uint32_t rep[] = { cb_xid, RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0,
							 RPC_SUCCESS, 42 };
				client_send(fd, rep, 7);
			}
			continue;
		}
		assert_int_equal(w[1], RPC_REPLY);
		assert_int_equal(w[5], RPC_SUCCESS);
		if (w[0] == 100) {
			assert_true(got_cb);
			assert_int_equal(n, 7);
			assert_int_equal(w[6], 42);
			got_answer = true;
		} else {
			assert_true(w[0] >= 200 && w[0] < 205);
			nulls++;
		}
	}
	assert_int_equal(atomic_load(&cb_status), 0);
	close(fd);
	wait_for(&closes, 1);
}

/* The client hangs up instead of answering: the waiting call ends at once. */
static void test_xprt_close_wakes_backchannel_call(void **state)
{
	uint32_t w[16], arg = 5;
	struct timespec t0, t1;
	int fd = client_connect();

	client_call(fd, 7, 1, &arg, 1);
	client_recv(fd, w, 16);
	assert_int_equal(w[1], RPC_CALL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(fd);
	wait_for(&cb_status, -ECONNRESET);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4);   /* well before the 5 s timeout */
	wait_for(&closes, 1);
}

/* The tick runs about once a second, and a backchannel call from it is refused. */
static void test_xprt_tick_and_loop_thread_guard(void **state)
{
	atomic_store(&ticks, 0);
	atomic_store(&tick_call_rc, 1);
	sleep(2);
	assert_true(atomic_load(&ticks) >= 1);
	assert_int_equal(atomic_load(&tick_call_rc), -EDEADLK);
}

/* An oversize record closes the connection (the peer sees EOF). */
static void test_xprt_oversize_closes(void **state)
{
	uint32_t mark = htonl(65537 | RPC_REC_LAST_FRAG);
	uint8_t b;
	int fd = client_connect();

	assert_int_equal(send(fd, &mark, 4, MSG_NOSIGNAL), 4);
	assert_int_equal(recv(fd, &b, 1, 0), 0);
	close(fd);
	/* The peer sees EOF as soon as the server shuts the socket down; the
	 * connection leaves the listener's table a moment later, on the loop
	 * thread, so wait for that (bounded) rather than race it. */
	for (int i = 0; i < 200 && rpc_tcp_listener_nconns(lis) != 0; i++)
		usleep(10000);
	assert_int_equal(rpc_tcp_listener_nconns(lis), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_xprt_backchannel_during_forechannel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xprt_close_wakes_backchannel_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xprt_tick_and_loop_thread_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xprt_oversize_closes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
