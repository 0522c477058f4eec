/*
 * tests/proto/test_service_notify.c: daxnfsd and the service manager, over
 * a real NOTIFY_SOCKET (the datagram socket systemd gives a Type=notify
 * service; sd_notify(3)), and the shipped unit checked by systemd-analyze:
 *  - READY=1 comes with a STATUS line naming the port, and the port
 *    accepts when it does;
 *  - with WATCHDOG_USEC = 2 s the daemon pings WATCHDOG=1 about every
 *    second; stopped (SIGSTOP) it sends none, continued it pings again;
 *  - STATUS follows the clients: a client's session shows as "1 client";
 *  - SIGTERM: STOPPING=1;
 *  - dist/systemd/daxnfsd.service passes `systemd-analyze verify` (ExecStart
 *    pointed at the built daxnfsd) and `systemd-analyze security
 *    --offline=true` rates it (printed; skipped without systemd-analyze).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"

#define SYSTEMD_ANALYZE "/usr/bin/systemd-analyze"

/* The next datagram within ms, NUL-terminated in buf; its length or -1. */
static int next_msg(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recv(fd, buf, cap - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* Reads datagrams for ms: how many contained what; the last such one in
 * last (when not NULL). */
static unsigned count_msgs(int fd, const char *what, int ms, char *last, size_t cap)
{
	int64_t end = proto_now_ms() + ms;
	char buf[1024];
	unsigned n = 0;

	for (int64_t now = proto_now_ms(); now < end; now = proto_now_ms()) {
		if (next_msg(fd, buf, sizeof(buf), (int)(end - now)) < 0)
			continue;
		if (strstr(buf, what)) {
			n++;
			if (last)
				snprintf(last, cap, "%s", buf);
		}
	}
	return n;
}

/* Waits up to ms for a datagram containing what; true when one came. */
static bool wait_msg(int fd, const char *what, int ms, char *got, size_t cap)
{
	int64_t end = proto_now_ms() + ms;
	char buf[1024];

	for (int64_t now = proto_now_ms(); now < end; now = proto_now_ms()) {
		if (next_msg(fd, buf, sizeof(buf), (int)(end - now)) < 0)
			continue;
		if (strstr(buf, what)) {
			if (got)
				snprintf(got, cap, "%s", buf);
			return true;
		}
	}
	return false;
}

static bool port_accepts(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_ready_watchdog_status_stopping(void **state)
{
	static char env_sock[1200];
	static const char *env[] = { env_sock, "WATCHDOG_USEC=2000000", NULL };
	struct proto_server_opts o = { .env = env };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	struct proto_server srv;
	struct nfs4_cl *cl = NULL;
	char got[1024], want[128];
	unsigned pings;
	int fd;

	(void)state;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.80s/notify-%d.sock",
		 tmp && *tmp ? tmp : "/tmp", (int)getpid());
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", sun.sun_path);
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(proto_server_start(&srv, "notify", &o), 0);

	/* READY=1 with the STATUS line; the port accepts. */
	assert_true(wait_msg(fd, "READY=1", 20000, got, sizeof(got)));
	print_message("notify: %s\n", got);
	snprintf(want, sizeof(want), "STATUS=serving NFSv4.1/4.2 on tcp 127.0.0.1 port %u;",
		 srv.port);
	assert_non_null(strstr(got, want));
	assert_true(port_accepts(srv.port));

	/* Watchdog pings about every second (WATCHDOG_USEC / 2, the tick's pace). */
	pings = count_msgs(fd, "WATCHDOG=1", 3500, NULL, 0);
	print_message("WATCHDOG=1: %u in 3.5 s\n", pings);
	assert_true(pings >= 2);
	/* A stopped daemon sends none; continued, it pings again. */
	assert_int_equal(kill(srv.pid, SIGSTOP), 0);
	usleep(200000);
	(void)count_msgs(fd, "WATCHDOG=1", 300, NULL, 0);   /* what was on its way */
	assert_int_equal(count_msgs(fd, "WATCHDOG=1", 3000, NULL, 0), 0);
	assert_int_equal(kill(srv.pid, SIGCONT), 0);
	assert_true(wait_msg(fd, "WATCHDOG=1", 3000, NULL, 0));

	/* STATUS follows the clients (at most every 5 s). */
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "notify-a", 0), 0);
	assert_true(wait_msg(fd, "; 1 client", 12000, got, sizeof(got)));
	print_message("notify: %s\n", got);
	nfs4_cl_close(cl, true);

	/* SIGTERM: STOPPING=1. */
	assert_int_equal(proto_server_stop(&srv), 0);
	assert_true(wait_msg(fd, "STOPPING=1", 2000, NULL, 0));
	proto_server_cleanup(&srv);
	close(fd);
	unlink(sun.sun_path);
}

static void test_unit_verifies(void **state)
{
	const char *bin = getenv("DAXNFSD");
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char unit[1200], cmd[4096], line[512];
	FILE *p;
	bool rated = false;

	(void)state;
	if (access(SYSTEMD_ANALYZE, X_OK) != 0 || !bin) {
		print_message("SKIPPED: no " SYSTEMD_ANALYZE " (Debian: systemd)\n");
		skip();
	}
	snprintf(unit, sizeof(unit), "%.900s/daxnfsd-%d.service", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(cmd, sizeof(cmd), "sed 's|/usr/sbin/daxnfsd|%s|' '%s/dist/systemd/daxnfsd.service' > '%s'",
		 bin, DAXNFS_SOURCE_DIR, unit);
	assert_int_equal(system(cmd), 0);
	/* its Documentation= man pages: the build's (verify runs man on them) */
	snprintf(cmd, sizeof(cmd), "MANPATH='%s/man' " SYSTEMD_ANALYZE " verify '%s' 2>&1",
		 DAXNFS_BINARY_DIR, unit);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		print_message("verify: %s", line);
	assert_int_equal(pclose(p), 0);
	snprintf(cmd, sizeof(cmd), SYSTEMD_ANALYZE " security --offline=true '%s' 2>&1", unit);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "Overall exposure level")) {
			print_message("security: %s", line);
			rated = true;
		}
	}
	pclose(p);   /* its exit status is the rating's, not an error */
	assert_true(rated);
	unlink(unit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_watchdog_status_stopping),
		cmocka_unit_test(test_unit_verifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
