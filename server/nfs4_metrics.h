/*
 * server/nfs4_metrics.h: the NFSv4 server's gauges and totals for a scrape
 * (server/metrics.h): clients, sessions, stateids by type, grace,
 * callbacks in flight, delegations, recalls and their latency,
 * revocations, asynchronous copies, limit refusals, and the process's
 * memory and descriptors.
 * Why a snapshot: the scrape (libmicrohttpd's thread) must take no lock
 * that request handling takes, so the event loop's tick copies these under
 * the state lock about once a second (nfs4_metrics_snapshot_take) and a
 * scrape reads the copy under the snapshot's own lock: gauges are at most
 * a tick old.
 * Calls: the state accessors (nfs4_client.h, nfs4_grace.h, nfs4_state.h, nfs4_deleg.h,
 * nfs4_copy.h, nfs4_callback.h), /proc/self. Called by: server/main.c (the
 * tick, the collector it registers).
 */
#ifndef DAXNFS_SERVER_NFS4_METRICS_H
#define DAXNFS_SERVER_NFS4_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_state.h"

#define NFS4_METRICS_MAX_LIMITS 8

struct nfs4_metrics_snapshot {
	pthread_mutex_t lock;             /* the tick's copy against a scrape's read */
	bool taken;
	unsigned clients, sessions, stids[NFS4_STID_NTYPES], cb_inflight;
	bool grace;
	struct nfs4_deleg_stats deleg;
	struct nfs4_copy_stats copy;
	struct {
		const char *key;          /* a config key: static storage */
		uint64_t refused;
	} limits[NFS4_METRICS_MAX_LIMITS];
	unsigned nlimits;
};

void nfs4_metrics_snapshot_init(struct nfs4_metrics_snapshot *s);
void nfs4_metrics_snapshot_destroy(struct nfs4_metrics_snapshot *s);
/* Copies the state's figures (takes the state lock): the event loop's tick. */
struct nfs4_server;
void nfs4_metrics_snapshot_take(struct nfs4_metrics_snapshot *s, struct nfs4_server *srv);

struct metrics_buf;
/* A metrics_collect_fn; ctx is the snapshot. Takes only the snapshot's lock. */
void nfs4_metrics_collect(struct metrics_buf *b, void *ctx);

#endif
