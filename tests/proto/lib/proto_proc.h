/*
 * tests/proto/lib/proto_proc.h: what a test can measure of the daemon it
 * runs from outside: CPU time and resident size from /proc, and lines of its
 * log. Used to assert on bounded resources (a share of a core, megabytes,
 * lines), never on speed.
 * Calls: libc. Called by: protocol tests (test_rpc_fd_exhaustion.c,
 * test_rpc_slowloris.c, ...).
 */
#ifndef DAXNFS_TESTS_PROTO_PROC_H
#define DAXNFS_TESTS_PROTO_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic milliseconds. */
int64_t proto_now_ms(void);
void proto_sleep_ms(int ms);
/* User plus system CPU time of pid so far, in ms (/proc/PID/stat). 0 or -errno. */
int proto_proc_cpu_ms(pid_t pid, int64_t *ms);
/* Resident set size of pid in KiB (/proc/PID/status VmRSS). 0 or -errno. */
int proto_proc_rss_kib(pid_t pid, long *kib);
/* The descriptors of pid whose /proc/PID/fd link reads exactly link (a
 * file's canonical path; with " (deleted)" after it once unlinked): up to
 * cap of their numbers into fds, ascending. Returns how many there are, or
 * -errno. */
int proto_proc_fds_on(pid_t pid, const char *link, int *fds, int cap);
/* Size of the file at path in bytes, or -errno. */
long proto_file_size(const char *path);
/* Lines of the file at path, from byte offset on, that contain needle; at
 * most max_lines are counted (a runaway log is not read to its end).
 * Returns the count or -errno. */
long proto_log_count(const char *path, long offset, const char *needle, long max_lines);
/* True when the daemon runs under valgrind (DAXNFS_TEST_VALGRIND): waits
 * get longer, and figures of the process are valgrind's, not the daemon's. */
bool proto_under_valgrind(void);

#endif
