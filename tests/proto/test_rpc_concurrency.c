/*
 * tests/proto/test_rpc_concurrency.c: many connections with many calls in
 * flight on each: 64 connections each pipelining 8 NULL calls, every reply
 * matched to its call by xid, on one real daxnfsd; then SIGTERM with
 * connections still open must exit 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/proto/lib/proto_rpc.h"
#include "tests/proto/lib/proto_server.h"

#define NFS_PROG 100003
#define NFS_V4 4
#define NCONN 64
#define DEPTH 8

static void test_64_connections_8_pipelined_calls(void **state)
{
	static struct proto_conn c[NCONN];
	struct proto_server s;
	struct proto_reply r;
	uint32_t xids[NCONN][DEPTH];
	bool seen[NCONN][DEPTH];
	unsigned i, k, j, answered = 0;
	int rc;

	assert_int_equal(proto_server_start(&s, "rpc_concurrency", NULL), 0);
	for (i = 0; i < NCONN; i++)
		assert_int_equal(proto_connect(&c[i], s.host, s.port, 20000), 0);
	/* everything is sent before anything is read */
	for (k = 0; k < DEPTH; k++) {
		for (i = 0; i < NCONN; i++) {
			xids[i][k] = proto_next_xid(&c[i]) ^ (i << 20);
			seen[i][k] = false;
			assert_int_equal(proto_rpc_send_call(&c[i], xids[i][k], NFS_PROG, NFS_V4, 0,
							     NULL, NULL, 0), 0);
		}
	}
	for (i = 0; i < NCONN; i++) {
		for (k = 0; k < DEPTH; k++) {
			assert_int_equal(proto_rpc_recv_reply(&c[i], &r), 0);
			assert_int_equal(r.accept_stat, RPC_SUCCESS);
			/* replies may come in any order; each xid exactly once */
			for (j = 0; j < DEPTH; j++)
				if (xids[i][j] == r.xid)
					break;
			assert_true(j < DEPTH);
			assert_false(seen[i][j]);
			seen[i][j] = true;
			answered++;
			proto_reply_free(&r);
		}
	}
	assert_int_equal(answered, NCONN * DEPTH);
	/* stop with every connection still open */
	rc = proto_server_stop(&s);
	for (i = 0; i < NCONN; i++)
		proto_close(&c[i]);
	assert_int_equal(rc, 0);
	proto_server_cleanup(&s);
}

/* Far more calls in flight on one connection than the server lets queue:
 * it stops reading for a while, and every call is still answered. */
static void test_one_connection_2000_pipelined_calls(void **state)
{
	enum { N = 2000 };
	static bool seen[N];
	struct proto_server s;
	struct proto_conn c;
	struct proto_reply r;
	struct proto_server_opts o = { .log_level = "debug" };
	uint32_t base = 0x10000;
	unsigned i;

	assert_int_equal(proto_server_start(&s, "rpc_pipeline", &o), 0);
	assert_int_equal(proto_connect(&c, s.host, s.port, 30000), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(proto_rpc_send_call(&c, base + i, NFS_PROG, NFS_V4, 0, NULL, NULL, 0), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(proto_rpc_recv_reply(&c, &r), 0);
		assert_int_equal(r.accept_stat, RPC_SUCCESS);
		assert_true(r.xid >= base && r.xid < base + N);
		assert_false(seen[r.xid - base]);
		seen[r.xid - base] = true;
		proto_reply_free(&r);
	}
	proto_close(&c);
	assert_int_equal(proto_server_stop(&s), 0);
	proto_server_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_64_connections_8_pipelined_calls),
		cmocka_unit_test(test_one_connection_2000_pipelined_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
