/*
 * tests/proto/test_session_backchannel_backoff.c: a client whose back
 * channel can never work (it answers every CB_SEQUENCE NFS4ERR_BADSESSION)
 * and that reacts to CB_PATH_DOWN as the Linux client does, with
 * BIND_CONN_TO_SESSION, for a whole minute: the server's probes back off
 * (a bounded number in the minute, however often the client asks), the
 * failing path is logged once per interval rather than once per probe, and
 * the fore channel keeps answering. On a server without back-off every
 * BIND_CONN_TO_SESSION starts a probe: hundreds in the minute.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"

#define PATH_DOWN (SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION)
#define RUN_MS 60000
/* The server's budget is 12 probes a client a minute; its back-off (1, 2,
 * 4, ... s) allows 6 in the first minute. Each probe is a CB_NULL and a
 * CB_COMPOUND. */
#define MAX_PROBES 12u

static struct proto_server srv;

static int group_setup(void **state)
{
	(void)state;
	return proto_server_start(&srv, "cb-backoff", NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rebind_back(struct nfs4_cl *cl)
{
	assert_int_equal(nfs4_cl_bind_conn(cl, CDFC4_BACK_OR_BOTH), NFS4_OK);
}

/* Lines of the server's log that contain needle. */
static long log_count(const char *needle)
{
	long n = proto_log_count(srv.log_path, 0, needle, 100000);

	assert_true(n >= 0);
	return n;
}

static void test_badsession_forever_probes_back_off(void **state)
{
	struct nfs4_cl *cl = NULL;
	unsigned binds = 0, fore = 0;
	int64_t t_end, worst = 0;

	(void)state;
	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, "cb-badsession", (uint64_t)time(NULL));
	cl->cb_seq_force = NFS4ERR_BADSESSION;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	t_end = now_ms() + RUN_MS;
	while (now_ms() < t_end) {
		int64_t t0 = now_ms(), dt;

		assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
		dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
		fore++;
		if (cl->last_status_flags & PATH_DOWN) {
			rebind_back(cl);
			binds++;
		}
		assert_true(nfs4_cl_poll(cl, 100, false) >= 0);
	}
	print_message("in %d s: %u BIND_CONN_TO_SESSION asked for probes; the server sent "
		      "%u CB_NULL and %u CB_SEQUENCE; %u SEQUENCE on the fore channel, the "
		      "slowest %lld ms; %ld 'back channel down' log lines\n",
		      RUN_MS / 1000, binds, cl->cb_null_count, cl->cb_sequence_count, fore,
		      (long long)worst, log_count("back channel down:"));
	assert_true(binds >= 50);                 /* the client did keep asking */
	assert_true(cl->cb_sequence_count >= 2);  /* and the server did try again */
	assert_true(cl->cb_sequence_count <= MAX_PROBES);
	assert_true(cl->cb_null_count <= MAX_PROBES);
	/* the path stays down, and is said to be down, throughout */
	assert_true(cl->last_status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	/* once when it first failed, then once a minute at most */
	assert_true(log_count("back channel down:") >= 1);
	assert_true(log_count("back channel down:") <= 2);
	assert_int_equal(log_count("back channel up:"), 0);
	/* the fore channel never waited on the back channel (a liveness bound,
	 * not a speed figure: a probe's timeout is 2 s) */
	assert_true(worst < 2000);
	nfs4_cl_close(cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_badsession_forever_probes_back_off),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
