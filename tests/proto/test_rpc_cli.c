/*
 * tests/proto/test_rpc_cli.c: the daxnfsd command line: a bad config file is
 * reported with file, line and key and exit status 2; -h prints usage and
 * exits 0; unknown options and bad values exit 2; a port taken by someone else
 * makes start-up fail with status 1 (and a message), not hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[PATH_MAX];
static char out[8192];

/* Runs daxnfsd with args; returns its exit status, output in `out`. */
static int run(const char *const *args)
{
	char logp[PATH_MAX + 16];
	const char *argv[16];
	int fd, status, i;
	ssize_t n;
	pid_t pid;

	snprintf(logp, sizeof(logp), "%s/out.txt", dir);
	fd = open(logp, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	argv[0] = getenv("DAXNFSD");
	assert_non_null(argv[0]);
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static const char *write_conf(const char *name, const char *text)
{
	static char p[PATH_MAX + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static int setup(void **state)
{
	const char *tmp = getenv("DAXNFS_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/rpc_cli-%d", tmp ? tmp : "/tmp", (int)getpid());
	if (tmp)
		mkdir(tmp, 0755);
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_cli_bad_config_exits_2_naming_line_and_key(void **state)
{
	const char *p = write_conf("bad.conf",
		"NFSV4 { Recovery_Dir = /tmp/x; }\n"
		"NFS_CORE_PARAM {\n"
		"  Threads = 5000;\n"
		"}\n"
		"EXPORT { Export_Id = 1; Path = /tmp; Pseudo = /; }\n");
	const char *args[] = { "-f", p, NULL };
	char want[PATH_MAX + 64];

	assert_int_equal(run(args), 2);
	snprintf(want, sizeof(want), "%s:3: key 'Threads'", p);
	if (!strstr(out, want))
		fail_msg("output '%s' lacks '%s'", out, want);
}

static void test_cli_missing_config_exits_2(void **state)
{
	const char *args[] = { "-f", "/nonexistent/daxnfsd.conf", NULL };

	assert_int_equal(run(args), 2);
	assert_non_null(strstr(out, "/nonexistent/daxnfsd.conf"));
}

static void test_cli_help_and_bad_options(void **state)
{
	const char *help[] = { "-h", NULL };
	const char *bogus[] = { "-z", NULL };
	const char *badport[] = { "-p", "70000", NULL };
	const char *badlevel[] = { "-l", "loud", NULL };

	assert_int_equal(run(help), 0);
	assert_non_null(strstr(out, "usage: daxnfsd"));
	assert_int_equal(run(bogus), 2);
	assert_int_equal(run(badport), 2);
	assert_int_equal(run(badlevel), 2);
}

static void test_cli_port_in_use_exits_1(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char text[3 * PATH_MAX], portstr[16];
	const char *p;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(text, sizeof(text),
		 "NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 2049; }\n"
		 "NFSV4 { Lease_Lifetime = 10; Grace_Period = 10; Recovery_Dir = %s/state; }\n"
		 "EXPORT { Export_Id = 1; Path = %s; Pseudo = /; }\n", dir, dir);
	p = write_conf("inuse.conf", text);
	/* -p overrides the file's port: the one we hold */
	snprintf(portstr, sizeof(portstr), "%u", ntohs(sin.sin_port));
	{
		const char *args[] = { "-f", p, "-p", portstr, NULL };

		assert_int_equal(run(args), 1);
	}
	assert_non_null(strstr(out, "cannot listen"));
	assert_non_null(strstr(out, portstr));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_bad_config_exits_2_naming_line_and_key),
		cmocka_unit_test(test_cli_missing_config_exits_2),
		cmocka_unit_test(test_cli_help_and_bad_options),
		cmocka_unit_test(test_cli_port_in_use_exits_1),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
