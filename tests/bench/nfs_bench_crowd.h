/*
 * tests/bench/nfs_bench_crowd.h: nfs_bench's "crowd" workload: what one
 * client sees while many others work (issue 14: another client's OPEN and
 * READ latency while 1,000 clients work at once).
 *
 * A crowd of clients (each its own connection, client record and session,
 * each with the crowd file open) READs 4 KiB at a paced total rate from a
 * few threads; a probe client (nfs_bench's own session) OPENs, READs and
 * CLOSEs the same file in a loop, first while the crowd is connected but
 * idle, then while it works. Its OPEN and READ latencies in both phases are
 * handed to the caller one by one.
 * Calls: nfs_bench_cl.h, libc. Called by: tests/bench/nfs_bench.c.
 */
#ifndef DAXNFS_TESTS_NFS_BENCH_CROWD_H
#define DAXNFS_TESTS_NFS_BENCH_CROWD_H

#include <stdint.h>

#include "tests/bench/nfs_bench_cl.h"

enum nb_crowd_sample {
	NB_CROWD_OPEN_IDLE,
	NB_CROWD_OPEN_BUSY,
	NB_CROWD_READ_IDLE,
	NB_CROWD_READ_BUSY,
};

struct nb_crowd_opts {
	const char *host;
	uint16_t port;
	unsigned clients;        /* crowd size */
	unsigned threads;        /* crowd threads */
	unsigned rate;           /* crowd READs per second, all together */
	unsigned secs;           /* of each phase */
};

/* What the crowd did while the probe measured the busy phase. */
struct nb_crowd_done {
	uint64_t ops;            /* crowd READs answered */
	double secs;
	uint64_t probe_open_idle, probe_open_busy;   /* probe rounds per phase */
};

/* A latency of the probe (ns): 0 or a negative errno to stop. */
typedef int (*nb_crowd_lat_fn)(void *ctx, enum nb_crowd_sample which, uint64_t ns);

/* Runs both phases with probe (an open session) on a file the workload
 * makes in dir and removes. 0, a negative errno, or an nfsstat4. */
int nb_crowd_run(const struct nb_crowd_opts *o, struct nb_conn *probe, const nfs_fh4 *dir,
		 nb_crowd_lat_fn fn, void *ctx, struct nb_crowd_done *done);

#endif
