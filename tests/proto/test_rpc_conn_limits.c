/*
 * tests/proto/test_rpc_conn_limits.c: limits on how many connections a real
 * daxnfsd keeps and for how long: past Max_Connections a new connection is
 * closed at once while the earlier ones keep working (and a freed place can
 * be taken again); a connection bound to no session is closed after
 * Idle_Unbound_Timeout of silence, while one that carries a session stays
 * however long it is silent. Each test ends with SIGTERM and requires exit
 * status 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_rpc.h"
#include "tests/proto/lib/proto_server.h"

#define NFS_PROG 100003
#define NFS_V4 4
#define MAX_CONNS 4
#define IDLE_S 2

/* The session client of the idle test; closed by teardown if a check failed. */
static struct nfs4_cl *cl;

static int start(void **state, const char *name, const char *core_conf)
{
	struct proto_server *s = calloc(1, sizeof(*s));
	struct proto_server_opts o = { .core_conf = core_conf };

	if (!s || proto_server_start(s, name, &o) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int setup_max_conns(void **state)
{
	return start(state, "rpc_max_conns", "  Max_Connections = 4;");
}

static int setup_idle(void **state)
{
	/* Record_Timeout longer than the test: only the idle rule may close */
	return start(state, "rpc_idle_unbound",
		     "  Idle_Unbound_Timeout = 2;\n  Record_Timeout = 600;");
}

static int teardown(void **state)
{
	struct proto_server *s = *state;
	int rc;

	nfs4_cl_close(cl, false);
	cl = NULL;
	rc = proto_server_stop_checked(s);
	if (rc == 0)
		proto_server_cleanup(s);
	free(s);
	return rc;
}

static int null_call(struct proto_conn *c)
{
	struct proto_reply r;
	int rc = proto_rpc_call(c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r);

	if (rc == 0) {
		rc = r.accept_stat == RPC_SUCCESS ? 0 : -EPROTO;
		proto_reply_free(&r);
	}
	return rc;
}

static void test_connection_past_max_connections_is_closed_at_once(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn c[MAX_CONNS], extra;
	int64_t t, closed_after, deadline;
	bool closed, served = false;
	unsigned i;
	int rc;

	for (i = 0; i < MAX_CONNS; i++) {
		assert_int_equal(proto_connect(&c[i], s->host, s->port, 10000), 0);
		assert_int_equal(null_call(&c[i]), 0);   /* accepted and counted */
	}
	/* the server accepts and resets it: on loopback the reset may already
	 * be there when connect completes */
	t = proto_now_ms();
	rc = proto_connect(&extra, s->host, s->port, 10000);
	if (rc == 0)
		closed = proto_wait_closed(&extra, 3000);
	else
		closed = rc == -ECONNRESET;
	closed_after = proto_now_ms() - t;
	printf("Max_Connections %d: connection %d %s after %lld ms%s\n", MAX_CONNS, MAX_CONNS + 1,
	       closed ? "closed by the server" : "still open", (long long)closed_after,
	       rc ? " (reset before connect returned)" : "");
	proto_close(&extra);
	assert_true(closed);
	assert_true(closed_after < 1000);
	for (i = 0; i < MAX_CONNS; i++)
		assert_int_equal(null_call(&c[i]), 0);

	/* the limit counts open connections: a freed place can be taken */
	proto_close(&c[0]);
	deadline = proto_now_ms() + 10000;
	while (!served && proto_now_ms() < deadline) {
		if (proto_connect(&c[0], s->host, s->port, 10000) == 0) {
			c[0].timeout_ms = 1000;
			served = null_call(&c[0]) == 0;
		}
		if (!served) {
			proto_close(&c[0]);
			proto_sleep_ms(100);   /* the server has not seen the close yet */
		}
	}
	assert_true(served);
	for (i = 0; i < MAX_CONNS; i++)
		proto_close(&c[i]);
}

static void test_idle_unbound_connection_closed_session_connection_stays(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn unbound, silent;
	int64_t t0, closed_after, waited;
	bool closed;
	int slow = proto_under_valgrind() ? 4 : 1;

	/* one connection that made a call outside any session, one that never
	 * said anything, one that carries a session */
	assert_int_equal(proto_connect(&unbound, s->host, s->port, 10000), 0);
	assert_int_equal(null_call(&unbound), 0);
	assert_int_equal(proto_connect(&silent, s->host, s->port, 10000), 0);
	assert_int_equal(nfs4_cl_open_session(&cl, s->host, s->port, "idle-unbound", 0), 0);
	t0 = proto_now_ms();

	closed = proto_wait_closed(&unbound, (IDLE_S + 10) * 1000 * slow);
	closed_after = proto_now_ms() - t0;
	printf("Idle_Unbound_Timeout %d s: the sessionless connection %s after %lld ms\n", IDLE_S,
	       closed ? "was closed" : "was still open", (long long)closed_after);
	assert_true(closed);
	/* by the timeout, not at once (the timer's resolution is 250 ms) */
	assert_true(closed_after >= IDLE_S * 1000 - 500);
	assert_true(proto_wait_closed(&silent, 5000 * slow));
	proto_close(&unbound);
	proto_close(&silent);

	/* the session's connection, silent for twice the timeout, still works */
	waited = proto_now_ms() - t0;
	if (waited < 2 * IDLE_S * 1000 + 500)
		proto_sleep_ms((int)(2 * IDLE_S * 1000 + 500 - waited));
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	nfs4_cl_close(cl, true);
	cl = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connection_past_max_connections_is_closed_at_once,
						setup_max_conns, teardown),
		cmocka_unit_test_setup_teardown(test_idle_unbound_connection_closed_session_connection_stays,
						setup_idle, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
