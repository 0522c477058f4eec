/*
 * tests/proto/lib/proto_server.h: run a real daxnfsd for one protocol test.
 *
 * Job: make a scratch directory $DAXNFS_TEST_TMP/<name>-<pid>-<n> holding
 * export/, state/, daxnfsd.conf and daxnfsd.log; pick a free loopback port;
 * spawn $DAXNFSD -f daxnfsd.conf (stderr to daxnfsd.log); wait until it
 * accepts connections; stop it with SIGTERM and report how it ended (a crash or
 * a sanitizer error is a non-zero status); kill it with SIGKILL and start it
 * again on the same directories and port (restart and recovery tests).
 * The daemon may be given a descriptor limit and extra environment
 * (resource-exhaustion tests); $DAXNFSD names the binary, so a test can be
 * run against another build (e.g. an older daemon, to see it fail). Such an
 * older daemon refuses config keys it does not know: with
 * DAXNFS_TEST_NO_CORE_CONF set, opts->core_conf is left out of the config.
 * Calls: libc. Called by: protocol tests, tests/proto/lib/nfs4_client.c users.
 */
#ifndef DAXNFS_TESTS_PROTO_SERVER_H
#define DAXNFS_TESTS_PROTO_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Settings written into the config; 0/NULL = the test default in brackets. */
struct proto_server_opts {
	unsigned lease_lifetime;      /* [10] seconds */
	unsigned grace_period;        /* [10] seconds */
	unsigned threads;             /* [4] */
	uint32_t max_record_size;     /* [1048576] */
	const char *log_level;        /* ["info"] */
	const char *bind_addr;        /* ["127.0.0.1"]; an IPv6 literal such as "::1" works too */
	/* Appended verbatim after the generated blocks (e.g. more EXPORT blocks). */
	const char *extra_conf;
	/* Replaces the default EXPORT block (Export_Id 1, Path = export/, Pseudo /). */
	const char *exports_conf;
	/* Added inside NFS_CORE_PARAM (e.g. "Record_Timeout = 2;"). */
	const char *core_conf;
	/* Added inside NFSV4 (e.g. "Max_Owners_Per_Client = 100;"); left out,
	 * like core_conf, when DAXNFS_TEST_NO_CORE_CONF is set. */
	const char *nfsv4_conf;
	/* Register with the host's rpcbind (Rpcbind_Register); off by default,
	 * so that tests running at once do not take each other's entry. */
	bool rpcbind;
	/* RLIMIT_NOFILE (soft) of the daemon; 0 = inherited. */
	unsigned nofile_limit;
	/* "NAME=value" strings added to the daemon's environment, NULL-terminated;
	 * must outlive the server (restarts use it again). */
	const char *const *env;
};

struct proto_server {
	pid_t pid;                    /* 0 when not running */
	uint16_t port;
	char host[64];                /* the bind address, "127.0.0.1" unless opts said otherwise */
	char dir[PATH_MAX];           /* the scratch directory */
	char export_dir[PATH_MAX];    /* dir/export */
	char state_dir[PATH_MAX];     /* dir/state */
	char conf_path[PATH_MAX];
	char log_path[PATH_MAX];
	unsigned nofile_limit;        /* from the options, for restarts */
	const char *const *env;
};

/* Creates the scratch dir and config and starts the daemon; 0 or -errno
 * (the log's tail goes to stderr when the daemon does not come up in 10 s). */
int proto_server_start(struct proto_server *s, const char *name,
		       const struct proto_server_opts *opts);
/* SIGTERM and wait (up to 30 s, then SIGKILL). Returns the exit status
 * (0 = clean), 128+signal when killed by a signal, or -errno. */
int proto_server_stop(struct proto_server *s);
/* proto_server_stop for a test group's teardown: 0 on a clean exit; otherwise
 * prints the status and the log's tail and returns -1 (fails the group). */
int proto_server_stop_checked(struct proto_server *s);
/* SIGKILL and reap (a crash as far as the server's state is concerned). */
int proto_server_kill(struct proto_server *s);
/* Starts the daemon again with the same config, directories and port. */
int proto_server_restart(struct proto_server *s);
/* Removes the scratch directory (call after a clean stop; failed tests keep
 * theirs for inspection). Does nothing when DAXNFS_TEST_KEEP is set. */
void proto_server_cleanup(struct proto_server *s);
/* A configuration the daemon must refuse at start: true when it did not
 * start and a line of its log holds needle (and needle2, when not NULL). */
bool proto_server_refuses_start(const char *name, const struct proto_server_opts *opts,
				const char *needle, const char *needle2);
/* /proc/sys/fs/lease-break-time in seconds (45 when it cannot be read). */
unsigned proto_lease_break_time(void);
/* Prints the last lines of the daemon's log to stderr (for failing tests). */
void proto_server_dump_log(const struct proto_server *s);

#endif
