/*
 * server/nfs4_cb_probe.h: the back channel path of a session, between the
 * session core and the callback engine (nfs4_callback.c).
 *
 * Job: decide when a back channel is probed (one probe at a time per
 * session, exponential back-off after failures, a per-client budget of
 * probes per minute), keep SEQ4_STATUS_CB_PATH_DOWN* raised from a failure
 * until a probe succeeds (a re-probe does not lower it, so a client is not
 * told "down" again and again), count probes per client, and log a failing
 * back channel once per interval with the reason, never once per probe.
 * Everything is called with the state lock held unless said otherwise.
 * Calls: nfs4_callback.c (queue, clock), conf/log.h.
 * Called by: nfs4_session.c (nfs4_cb_probe), nfs4_deleg.c (path usable),
 * nfs4_client.c (path flags), nfs4_callback.c (outcomes).
 */
#ifndef DAXNFS_SERVER_NFS4_CB_PROBE_H
#define DAXNFS_SERVER_NFS4_CB_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_session.h"

/* Back-off after failed probes: from the first to the last value, doubling. */
#define NFS4_CB_BACKOFF_FIRST_MS 1000u
#define NFS4_CB_BACKOFF_MAX_MS 60000u
/* Probes per client per minute, whatever its sessions and connections ask. */
#define NFS4_CB_PROBES_PER_MINUTE 12u
/* A failing back channel is logged at most once per interval. */
#define NFS4_CB_LOG_INTERVAL_MS 60000

/* ---- provided by nfs4_callback.c ---- */
/* Queues a probe of s to run at not_before_ms (monotonic) or later. */
void nfs4_cb_queue_probe(struct nfs4_session *s, int64_t not_before_ms);

/* ---- provided by nfs4_cb_probe.c ---- */
/*
 * From the callback engine, just before a probe of s goes out: counts it
 * against its client's budget. Returns 0 when it may go now, else the
 * monotonic time (ms) at which it may.
 */
int64_t nfs4_cb_probe_admit(struct nfs4_session *s);
/* A probe of s ended: the path is up (ok) or down for reason. */
void nfs4_cb_probe_finished(struct nfs4_session *s, bool ok, const char *reason);
/* A callback (not a probe) on s failed for reason: the path is down. */
void nfs4_cb_path_failed(struct nfs4_session *s, const char *reason);

/* Queues a probe (CB_NULL + CB_COMPOUND{CB_SEQUENCE}) of s's back channel,
 * unless one is queued already; it goes out after the back-off of earlier
 * failures and within the client's probe budget. */
void nfs4_cb_probe(struct nfs4_session *s);
/* True when s's back channel can be used or is being probed for the first
 * time since it last worked (no CB_PATH_DOWN*_SESSION for it). */
bool nfs4_cb_path_usable(const struct nfs4_session *s);

#endif
