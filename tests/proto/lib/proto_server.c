/*
 * tests/proto/lib/proto_server.c: run a real daxnfsd for one test (see proto_server.h).
 */
#include "tests/proto/lib/proto_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000   /* valgrind-wrapped daemons start slowly */
#define STOP_TIMEOUT_MS 30000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* host:port as a socket address; false if host is not an IP literal. */
static bool make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*sl = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*sl = sizeof(*s6);
		return true;
	}
	return false;
}

/* A port nobody listens on now: bind port 0 and give it back. */
static int free_port(const char *host, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, rc = 0;

	if (!make_addr(host, 0, &ss, &sl))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		rc = -errno;
	else
		*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return rc;
}

static int write_conf(const struct proto_server *s, const struct proto_server_opts *o)
{
	const char *no_core = getenv("DAXNFS_TEST_NO_CORE_CONF");
	FILE *f = fopen(s->conf_path, "w");
	int rc = 0;

	if (!f)
		return -errno;
	fprintf(f, "# written by tests/proto/lib/proto_server.c\n"
		   "NFS_CORE_PARAM {\n  Bind_Addr = %s;\n  NFS_Port = %u;\n  Threads = %u;\n"
		   "  Max_Record_Size = %u;\n%s%s\n",
		s->host, s->port, o && o->threads ? o->threads : 4,
		o && o->max_record_size ? o->max_record_size : 1048576,
		(o && o->rpcbind) || (no_core && *no_core) ? "" : "  Rpcbind_Register = false;\n",
		o && o->core_conf && !(no_core && *no_core) ? o->core_conf : "");
	/* each server its own administration socket (daxnfsctl), beside its state */
	if (!(no_core && *no_core))
		fprintf(f, "  Admin_Socket = \"%s/admin.sock\";\n", s->state_dir);
	fprintf(f, "}\n");
	fprintf(f, "NFSV4 {\n  Lease_Lifetime = %u;\n  Grace_Period = %u;\n"
		   "  Recovery_Dir = \"%s\";\n%s\n}\n",
		o && o->lease_lifetime ? o->lease_lifetime : 10,
		o && o->grace_period ? o->grace_period : 10, s->state_dir,
		o && o->nfsv4_conf && !(no_core && *no_core) ? o->nfsv4_conf : "");
	fprintf(f, "LOG {\n  Level = %s;\n  Destination = stderr;\n}\n",
		o && o->log_level ? o->log_level : "info");
	if (o && o->exports_conf)
		fprintf(f, "%s\n", o->exports_conf);
	else
		fprintf(f, "EXPORT {\n  Export_Id = 1;\n  Path = \"%s\";\n  Pseudo = /;\n"
			   "  Access_Type = RW;\n  Squash = none;\n}\n", s->export_dir);
	if (o && o->extra_conf)
		fprintf(f, "%s\n", o->extra_conf);
	if (fclose(f) != 0)
		rc = -errno;
	return rc;
}

static bool port_accepts(const struct proto_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;
	bool ok;

	if (!make_addr(s->host, s->port, &ss, &sl))
		return false;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

void proto_server_dump_log(const struct proto_server *s)
{
	char line[1024];
	long pos;
	FILE *f = fopen(s->log_path, "r");

	if (!f)
		return;
	/* the last ~8 KiB is enough to see why it failed */
	if (fseek(f, 0, SEEK_END) == 0 && (pos = ftell(f)) > 8192)
		fseek(f, pos - 8192, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	fprintf(stderr, "---- %s ----\n", s->log_path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}

static int reap(struct proto_server *s, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(s->pid, &status, WNOHANG);
		if (r == s->pid)
			break;
		if (r < 0)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
	s->pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* In the child before exec: the descriptor limit and environment asked for.
 * A failure is reported and ends the child: the test must not run against a
 * daemon without the limit it relies on. (setenv may allocate: fine after
 * fork in the single-threaded test programs that ask for an environment.) */
static void child_setup(const struct proto_server *s)
{
	struct rlimit rl;
	const char *const *e;
	const char *eq;
	char name[128];

	if (s->nofile_limit) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr, "proto_server: getrlimit: %s\n", strerror(errno));
			_exit(127);
		}
		rl.rlim_cur = s->nofile_limit;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr, "proto_server: RLIMIT_NOFILE %u: %s\n", s->nofile_limit,
				strerror(errno));
			_exit(127);
		}
	}
	for (e = s->env; e && *e; e++) {
		eq = strchr(*e, '=');
		if (!eq || (size_t)(eq - *e) >= sizeof(name)) {
			fprintf(stderr, "proto_server: bad environment entry '%s'\n", *e);
			_exit(127);
		}
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		if (setenv(name, eq + 1, 1) < 0) {
			fprintf(stderr, "proto_server: setenv %s: %s\n", name, strerror(errno));
			_exit(127);
		}
	}
}

static int spawn(struct proto_server *s)
{
	const char *bin = getenv("DAXNFSD");
	const char *valgrind = getenv("DAXNFS_TEST_VALGRIND");
	int64_t deadline;
	pid_t pid;
	int fd, rc;

	if (!bin || !*bin) {
		fprintf(stderr, "proto_server: DAXNFSD is not set\n");
		return -EINVAL;
	}
	fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		child_setup(s);
		if (valgrind && *valgrind)
			/* Leak and memory-error check of the real daemon: any error
			 * makes it exit 99, which proto_server_stop reports. */
			execlp("valgrind", "valgrind", "-q", "--leak-check=full",
			       "--errors-for-leak-kinds=definite,indirect",
			       "--error-exitcode=99", bin, "-f", s->conf_path, (char *)NULL);
		else
			execl(bin, bin, "-f", s->conf_path, (char *)NULL);
		fprintf(stderr, "proto_server: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(fd);
	s->pid = pid;
	deadline = now_ms() + START_TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (port_accepts(s))
			return 0;
		rc = reap(s, 0);
		if (rc != -ETIMEDOUT) {
			fprintf(stderr, "proto_server: daxnfsd exited at start (status %d)\n", rc);
			proto_server_dump_log(s);
			s->pid = 0;
			return -ECHILD;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "proto_server: daxnfsd did not accept connections on %s:%u in %d ms\n",
		s->host, s->port, START_TIMEOUT_MS);
	proto_server_dump_log(s);
	proto_server_kill(s);
	return -ETIMEDOUT;
}

int proto_server_start(struct proto_server *s, const char *name,
		       const struct proto_server_opts *opts)
{
	static unsigned seq;
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	int rc;

	memset(s, 0, sizeof(*s));
	if (!tmp || !*tmp)
		tmp = "/tmp/daxnfs-test";
	snprintf(s->host, sizeof(s->host), "%s",
		 opts && opts->bind_addr ? opts->bind_addr : "127.0.0.1");
	s->nofile_limit = opts ? opts->nofile_limit : 0;
	s->env = opts ? opts->env : NULL;
	if (snprintf(s->dir, sizeof(s->dir), "%s/%s-%d-%u", tmp, name, (int)getpid(), seq++) >=
	    (int)sizeof(s->dir))
		return -ENAMETOOLONG;
	snprintf(s->export_dir, sizeof(s->export_dir), "%.4000s/export", s->dir);
	snprintf(s->state_dir, sizeof(s->state_dir), "%.4000s/state", s->dir);
	snprintf(s->conf_path, sizeof(s->conf_path), "%.4000s/daxnfsd.conf", s->dir);
	snprintf(s->log_path, sizeof(s->log_path), "%.4000s/daxnfsd.log", s->dir);
	rc = mkdir_p(s->export_dir);
	if (rc == 0)
		rc = mkdir_p(s->state_dir);
	if (rc == 0)
		rc = free_port(s->host, &s->port);
	if (rc == 0)
		rc = write_conf(s, opts);
	if (rc < 0) {
		fprintf(stderr, "proto_server: setting up %s: %s\n", s->dir, strerror(-rc));
		return rc;
	}
	return spawn(s);
}

int proto_server_stop(struct proto_server *s)
{
	int rc;

	if (s->pid <= 0)
		return -ESRCH;
	kill(s->pid, SIGTERM);
	rc = reap(s, STOP_TIMEOUT_MS);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "proto_server: daxnfsd ignored SIGTERM for %d ms\n", STOP_TIMEOUT_MS);
		proto_server_kill(s);
		return -ETIMEDOUT;
	}
	if (rc != 0) {
		fprintf(stderr, "proto_server: daxnfsd exited with status %d\n", rc);
		proto_server_dump_log(s);
	}
	return rc;
}

int proto_server_stop_checked(struct proto_server *s)
{
	int rc = proto_server_stop(s);

	if (rc == 0)
		return 0;
	fprintf(stderr, "daxnfsd exited with status %d after SIGTERM\n", rc);
	proto_server_dump_log(s);
	return -1;
}

int proto_server_kill(struct proto_server *s)
{
	int rc;

	if (s->pid <= 0)
		return -ESRCH;
	kill(s->pid, SIGKILL);
	rc = reap(s, STOP_TIMEOUT_MS);
	return rc == 128 + SIGKILL ? 0 : rc;
}

int proto_server_restart(struct proto_server *s)
{
	if (s->pid > 0)
		return -EBUSY;
	return spawn(s);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

bool proto_server_refuses_start(const char *name, const struct proto_server_opts *opts,
				const char *needle, const char *needle2)
{
	struct proto_server bad;
	char line[1024];
	bool named = false;
	FILE *f;

	memset(&bad, 0, sizeof(bad));
	if (proto_server_start(&bad, name, opts) == 0) {
		proto_server_stop(&bad);
		proto_server_cleanup(&bad);
		return false;
	}
	f = fopen(bad.log_path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle) && (!needle2 || strstr(line, needle2)))
			named = true;
	if (f)
		fclose(f);
	proto_server_cleanup(&bad);
	return named;
}

unsigned proto_lease_break_time(void)
{
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "r");
	unsigned bt = 45;

	if (f) {
		if (fscanf(f, "%u", &bt) != 1)
			bt = 45;
		fclose(f);
	}
	return bt;
}

void proto_server_cleanup(struct proto_server *s)
{
	const char *keep = getenv("DAXNFS_TEST_KEEP");

	if (s->pid > 0 || !s->dir[0] || (keep && *keep))
		return;
	if (nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "proto_server: removing %s: %s\n", s->dir, strerror(errno));
}
