/*
 * tests/proto/test_rpcbind.c: daxnfsd and the local rpcbind (Debian's
 * rpcbind, libtirpc's rpcb_set/rpcb_unset on daxnfsd's side):
 *  - with no rpcbind running, daxnfsd logs one line saying so and serves;
 *  - with rpcbind running (started by the test when none runs), `rpcinfo -p
 *    127.0.0.1` lists program 100003 version 4 over tcp on daxnfsd's port
 *    while it runs, and not after it stopped.
 * Needs root, /usr/sbin/rpcbind and rpcinfo (skipped without them; the first
 * test is skipped where an rpcbind runs already). The first test runs with
 * the socket file a stopped rpcbind left behind, when there is one.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"

#define RPCBIND "/usr/sbin/rpcbind"
#define RPCINFO "/usr/sbin/rpcinfo"

/* The rpcbind this test started, stopped at the end whatever happened. */
static pid_t started_rpcbind;

static bool have_tools(void)
{
	return geteuid() == 0 && access(RPCBIND, X_OK) == 0 && access(RPCINFO, X_OK) == 0;
}

/* An rpcbind answers on loopback. */
static bool rpcbind_answers(void)
{
	return system(RPCINFO " -p 127.0.0.1 >/dev/null 2>&1") == 0;
}

/* rpcinfo -p lists 100003 version 4 over tcp on port. */
static bool rpcinfo_lists_nfs4(uint16_t port)
{
	FILE *p = popen(RPCINFO " -p 127.0.0.1 2>&1", "r");
	char line[256];
	bool found = false;

	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long prog, vers, prt;
		char proto[16];

		if (sscanf(line, "%lu %lu %15s %lu", &prog, &vers, proto, &prt) == 4 &&
		    prog == 100003 && vers == 4 && strcmp(proto, "tcp") == 0 && prt == port)
			found = true;
	}
	pclose(p);
	return found;
}

/* How many lines of the daemon's log contain what. */
static unsigned log_lines_with(const struct proto_server *s, const char *what)
{
	FILE *f = fopen(s->log_path, "r");
	char line[1024];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

static void test_no_rpcbind_is_one_line(void **state)
{
	struct proto_server_opts o = { .rpcbind = true };
	struct proto_server srv;
	struct nfs4_cl *cl = NULL;

	(void)state;
	if (!have_tools()) {
		print_message("SKIPPED: needs root, " RPCBIND " and " RPCINFO "\n");
		skip();
	}
	if (rpcbind_answers()) {
		print_message("SKIPPED: an rpcbind runs on this machine already\n");
		skip();
	}
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(proto_server_start(&srv, "rpcbind-none", &o), 0);
	/* It serves. */
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "rpcb-none", 0), 0);
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop(&srv), 0);
	assert_int_equal(log_lines_with(&srv, "rpcbind:"), 1);
	assert_int_equal(log_lines_with(&srv, "rpcbind: none runs here"), 1);
	proto_server_cleanup(&srv);
}

static void test_registered_while_running(void **state)
{
	struct proto_server_opts o = { .rpcbind = true };
	struct proto_server srv;
	int i;

	(void)state;
	if (!have_tools()) {
		print_message("SKIPPED: needs root, " RPCBIND " and " RPCINFO "\n");
		skip();
	}
	if (!rpcbind_answers()) {
		started_rpcbind = fork();
		assert_true(started_rpcbind >= 0);
		if (started_rpcbind == 0) {
			execl(RPCBIND, "rpcbind", "-f", (char *)NULL);
			_exit(127);
		}
		for (i = 0; i < 100 && !rpcbind_answers(); i++)
			usleep(100000);
		assert_true(rpcbind_answers());
	}
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(proto_server_start(&srv, "rpcbind", &o), 0);
	/* The port accepts as soon as it listens; the registration follows a
	 * moment later (much later under valgrind). */
	for (i = 0; i < 300 && !rpcinfo_lists_nfs4(srv.port); i++)
		usleep(100000);
	assert_true(rpcinfo_lists_nfs4(srv.port));
	assert_int_equal(log_lines_with(&srv, "rpcbind: program 100003 version 4 registered for tcp"),
			 1);
	assert_int_equal(proto_server_stop(&srv), 0);
	/* Taken back at exit. */
	assert_false(rpcinfo_lists_nfs4(srv.port));
	proto_server_cleanup(&srv);
}

static int group_teardown(void **state)
{
	int st;

	(void)state;
	if (started_rpcbind > 0) {
		kill(started_rpcbind, SIGTERM);
		if (waitpid(started_rpcbind, &st, 0) != started_rpcbind)
			return -1;
		/* it leaves its socket file behind */
		unlink("/run/rpcbind.sock");
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rpcbind_is_one_line),
		cmocka_unit_test(test_registered_while_running),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
