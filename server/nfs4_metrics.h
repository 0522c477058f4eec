/*
 * server/nfs4_metrics.h: the NFSv4 server's collector for server/metrics.h.
 * Calls: the state accessors (nfs4_session.h, nfs4_state.h, nfs4_deleg.h,
 * nfs4_copy.h, nfs4_callback.h), /proc/self. Called by: server/metrics.c
 * through the collector main.c registers.
 */
#ifndef DAXNFS_SERVER_NFS4_METRICS_H
#define DAXNFS_SERVER_NFS4_METRICS_H

struct metrics_buf;

/* A metrics_collect_fn; ctx unused. Takes the state lock. */
void nfs4_metrics_collect(struct metrics_buf *b, void *ctx);

#endif
