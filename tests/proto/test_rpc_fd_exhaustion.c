/*
 * tests/proto/test_rpc_fd_exhaustion.c: a real daxnfsd that runs out of file
 * descriptors because a peer holds connections open (RLIMIT_NOFILE 64 here)
 * stays usable: a client connected before keeps getting answers with sane
 * latency, the daemon does not spin (its CPU time over those seconds stays a
 * small share of the wall time) and does not log each failed accept (a
 * bounded number of "accept" lines), and once the peer lets go new clients
 * are served again. Figures are printed before they are checked, so a run
 * against another daemon ($DAXNFSD) shows what it does.
 */
#include <arpa/inet.h>
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
#define NOFILE_LIMIT 64
/* More connections than the daemon has descriptors for, fewer than it has
 * descriptors plus its listen backlog (128): every connect completes. */
#define ATTACKERS 150
#define WINDOW_MS 5000
#define PROBE_EVERY_MS 250
/* A share of one core: a daemon that waits does far less, one that spins on
 * accept uses all of it. */
#define MAX_CPU_SHARE 0.30
/* "accept" lines from the first failure to the end of the window: one per
 * report interval, with slack. */
#define MAX_ACCEPT_LINES 10
#define MAX_LATENCY_MS 2000
/* A runaway log is not followed past this (the disk is not the test's). */
#define MAX_LOG_GROWTH (256L << 20)

/* The client connected before the attack; closed by teardown if a check failed. */
static struct nfs4_cl *good;

static int setup(void **state)
{
	struct proto_server *s = calloc(1, sizeof(*s));
	struct proto_server_opts o = { .nofile_limit = NOFILE_LIMIT };

	if (!s || proto_server_start(s, "rpc_fd_exhaustion", &o) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct proto_server *s = *state;
	int rc;

	nfs4_cl_close(good, false);
	good = NULL;
	rc = proto_server_stop_checked(s);
	if (rc == 0)
		proto_server_cleanup(s);
	free(s);
	return rc;
}

/* A NULL call on a fresh connection, retried until deadline_ms (accepting
 * resumes on the daemon's next timer tick). */
static bool serves_new_client(struct proto_server *s, int64_t deadline_ms)
{
	struct proto_conn c;
	struct proto_reply r;
	bool ok = false;

	while (!ok && proto_now_ms() < deadline_ms) {
		if (proto_connect(&c, s->host, s->port, 2000) == 0) {
			c.timeout_ms = 2000;
			if (proto_rpc_call(&c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r) == 0) {
				ok = r.accept_stat == RPC_SUCCESS;
				proto_reply_free(&r);
			}
			proto_close(&c);
		}
		if (!ok)
			proto_sleep_ms(200);
	}
	return ok;
}

static void test_fd_exhaustion_backs_off_and_keeps_serving(void **state)
{
	struct proto_server *s = *state;
	static struct proto_conn attackers[ATTACKERS];
	int64_t t0, t1, cpu0, cpu1, t, lat, max_lat = 0, deadline;
	long log_start, accept_lines = 0, emfile;
	unsigned i, opened = 0, probes = 0, failed_probes = 0;
	double share;
	int slow = proto_under_valgrind() ? 4 : 1;

	/* the client that was there before */
	assert_int_equal(nfs4_cl_open_session(&good, s->host, s->port, "fd-exhaustion-good", 0), 0);
	assert_int_equal(nfs4_cl_sequence(good), NFS4_OK);
	log_start = proto_file_size(s->log_path);
	assert_true(log_start >= 0);

	for (i = 0; i < ATTACKERS; i++) {
		if (proto_connect(&attackers[i], s->host, s->port, 5000) != 0)
			break;
		opened++;
	}
	printf("fd exhaustion: %u connections opened against RLIMIT_NOFILE %d\n", opened,
	       NOFILE_LIMIT);
	assert_true(opened > NOFILE_LIMIT);

	/* wait until the daemon has seen accept fail for lack of descriptors */
	deadline = proto_now_ms() + 20000 * slow;
	do {
		emfile = proto_log_count(s->log_path, log_start, "Too many open files", 1);
		if (emfile > 0)
			break;
		proto_sleep_ms(100);
	} while (proto_now_ms() < deadline);
	assert_int_equal(emfile, 1);

	/* the window: the attacker holds on; the old client keeps working */
	assert_int_equal(proto_proc_cpu_ms(s->pid, &cpu0), 0);
	t0 = proto_now_ms();
	while ((t = proto_now_ms()) - t0 < WINDOW_MS) {
		probes++;
		if (nfs4_cl_sequence(good) != NFS4_OK)
			failed_probes++;
		lat = proto_now_ms() - t;
		if (lat > max_lat)
			max_lat = lat;
		if (proto_file_size(s->log_path) - log_start > MAX_LOG_GROWTH)
			break;
		proto_sleep_ms(PROBE_EVERY_MS);
	}
	t1 = proto_now_ms();
	assert_int_equal(proto_proc_cpu_ms(s->pid, &cpu1), 0);
	accept_lines = proto_log_count(s->log_path, log_start, "accept", 1L << 30);
	share = (double)(cpu1 - cpu0) / (double)(t1 - t0);
	printf("fd exhaustion: daemon CPU %lld ms over %lld ms of wall time (%.1f%% of a core); "
	       "%ld log lines with 'accept' (log grew %ld bytes); SEQUENCE from the earlier "
	       "client: %u of %u answered, max latency %lld ms\n",
	       (long long)(cpu1 - cpu0), (long long)(t1 - t0), share * 100.0, accept_lines,
	       proto_file_size(s->log_path) - log_start, probes - failed_probes, probes,
	       (long long)max_lat);
	assert_int_equal(failed_probes, 0);
	assert_true(max_lat < MAX_LATENCY_MS * slow);
	assert_true(share < MAX_CPU_SHARE);
	assert_true(accept_lines <= MAX_ACCEPT_LINES);

	/* the attacker lets go: new clients are served again */
	for (i = 0; i < opened; i++)
		proto_close(&attackers[i]);
	t = proto_now_ms();
	assert_true(serves_new_client(s, t + 10000 * slow));
	printf("fd exhaustion: a new client served %lld ms after the attacker closed\n",
	       (long long)(proto_now_ms() - t));
	assert_int_equal(nfs4_cl_sequence(good), NFS4_OK);
	nfs4_cl_close(good, true);
	good = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fd_exhaustion_backs_off_and_keeps_serving,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
