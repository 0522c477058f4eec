/*
 * tests/bench/nfs_bench_tcp.h: the loopback TCP floor of nfs_bench (issue 14's
 * targets are stated against it): a request/response ping-pong and a
 * one-way stream between two threads of the benchmark, no NFS.
 * Calls: libc, pthreads. Called by: tests/bench/nfs_bench.c.
 */
#ifndef DAXNFS_TESTS_NFS_BENCH_TCP_H
#define DAXNFS_TESTS_NFS_BENCH_TCP_H

#include <stddef.h>
#include <stdint.h>

/* For secs seconds: req_len bytes out, resp_len bytes back, one at a time;
 * every round trip's time goes to push(ctx, ns). *ops round trips in
 * *elapsed seconds. 0 or -errno. */
int nb_tcp_pingpong(size_t req_len, size_t resp_len, unsigned secs,
		    int (*push)(void *ctx, uint64_t ns), void *ctx, uint64_t *ops, double *elapsed);
/* total bytes out in chunks of chunk, each acknowledged with 4 bytes before
 * the next: *elapsed seconds. 0 or -errno. */
int nb_tcp_stream(size_t chunk, size_t total, double *elapsed);

#endif
