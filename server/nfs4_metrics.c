/*
 * server/nfs4_metrics.c: the NFSv4 server's gauges and totals for a scrape
 * (see nfs4_metrics.h): clients, sessions, stateids by type, delegations
 * and their recalls and revocations, callbacks in flight, grace,
 * asynchronous copies, the limits that refused something, and the
 * process's resident memory and descriptors.
 * The tick copies them under the state lock (nfs4_metrics_snapshot_take);
 * a scrape reads the copy (see nfs4_metrics.h).
 */
#include "server/nfs4_metrics.h"

#include <dirent.h>
#include <string.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "server/metrics.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_client.h"
#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_state.h"

static void family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void collect_process(struct metrics_buf *b)
{
	unsigned long pages = 0, resident = 0;
	unsigned fds = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	DIR *d;

	if (f) {
		if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--;   /* the directory's own descriptor */
	}
	family(b, "daxnfs_process_resident_memory_bytes", "gauge",
	       "Resident memory of daxnfsd.");
	metrics_printf(b, "daxnfs_process_resident_memory_bytes %llu\n",
		       (unsigned long long)resident * (unsigned long long)sysconf(_SC_PAGESIZE));
	family(b, "daxnfs_process_open_fds", "gauge", "File descriptors daxnfsd has open.");
	metrics_printf(b, "daxnfs_process_open_fds %u\n", fds);
}

void nfs4_metrics_snapshot_init(struct nfs4_metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
}

void nfs4_metrics_snapshot_destroy(struct nfs4_metrics_snapshot *s)
{
	pthread_mutex_destroy(&s->lock);
}

static void limit_take(const char *key, uint64_t n, void *ctx)
{
	struct nfs4_metrics_snapshot *s = ctx;

	if (s->nlimits == NFS4_METRICS_MAX_LIMITS)
		return;
	s->limits[s->nlimits].key = key;
	s->limits[s->nlimits].refused = n;
	s->nlimits++;
}

void nfs4_metrics_snapshot_take(struct nfs4_metrics_snapshot *s, struct nfs4_server *srv)
{
	struct nfs4_metrics_snapshot t;

	memset(&t, 0, sizeof(t));
	nfs4_state_lock();
	t.clients = nfs4_client_count(srv);
	t.sessions = nfs4_session_count(srv);
	nfs4_stid_counts(srv, t.stids);
	nfs4_deleg_stats(srv, &t.deleg);
	nfs4_copy_stats(srv, &t.copy);
	t.cb_inflight = nfs4_cb_inflight_count(srv);
	nfs4_limit_hits(srv, limit_take, &t);
	nfs4_state_unlock();
	t.grace = nfs4_in_grace(srv);
	pthread_mutex_lock(&s->lock);
	s->taken = true;
	s->clients = t.clients;
	s->sessions = t.sessions;
	memcpy(s->stids, t.stids, sizeof(s->stids));
	s->cb_inflight = t.cb_inflight;
	s->grace = t.grace;
	s->deleg = t.deleg;
	s->copy = t.copy;
	memcpy(s->limits, t.limits, sizeof(s->limits));
	s->nlimits = t.nlimits;
	pthread_mutex_unlock(&s->lock);
}

void nfs4_metrics_collect(struct metrics_buf *b, void *ctx)
{
	static const char *const stid_type[NFS4_STID_NTYPES] = {
		"open", "lock", "delegation", "layout", "copy",
	};
	struct nfs4_metrics_snapshot *snap = ctx, s;
	unsigned i;

	pthread_mutex_lock(&snap->lock);
	s = *snap;   /* its lock comes along in the copy, unused */
	pthread_mutex_unlock(&snap->lock);
	if (s.taken) {   /* before the first tick these families are left out */
		family(b, "daxnfs_limit_refusals_total", "counter",
		       "Requests refused because a configured limit was reached, by the limit's key.");
		for (i = 0; i < s.nlimits; i++)
			metrics_printf(b, "daxnfs_limit_refusals_total{limit=\"%s\"} %" PRIu64 "\n",
				       s.limits[i].key, s.limits[i].refused);
		family(b, "daxnfs_clients", "gauge", "NFSv4 clients (EXCHANGE_ID records) held.");
		metrics_printf(b, "daxnfs_clients %u\n", s.clients);
		family(b, "daxnfs_sessions", "gauge", "NFSv4.1 sessions held.");
		metrics_printf(b, "daxnfs_sessions %u\n", s.sessions);
		family(b, "daxnfs_stateids", "gauge", "Stateids held, by type.");
		for (i = 0; i < NFS4_STID_NTYPES; i++)
			metrics_printf(b, "daxnfs_stateids{type=\"%s\"} %u\n", stid_type[i],
				       s.stids[i]);
		family(b, "daxnfs_grace_period", "gauge",
		       "1 while the grace period after a start lasts (reclaims only), else 0.");
		metrics_printf(b, "daxnfs_grace_period %d\n", s.grace ? 1 : 0);
		family(b, "daxnfs_callbacks_in_flight", "gauge",
		       "Back-channel calls sent and not yet answered.");
		metrics_printf(b, "daxnfs_callbacks_in_flight %u\n", s.cb_inflight);
		family(b, "daxnfs_delegations_granted_total", "counter", "Delegations granted.");
		metrics_printf(b, "daxnfs_delegations_granted_total %" PRIu64 "\n", s.deleg.granted);
		family(b, "daxnfs_delegations_returned_total", "counter", "Delegations returned.");
		metrics_printf(b, "daxnfs_delegations_returned_total %" PRIu64 "\n",
			       s.deleg.returned);
		family(b, "daxnfs_recalls_total", "counter", "Recalls sent, by what was recalled.");
		metrics_printf(b, "daxnfs_recalls_total{state=\"delegation\"} %" PRIu64 "\n",
			       s.deleg.recalls);
		family(b, "daxnfs_recall_duration_seconds", "histogram",
		       "From a recall's start to the return of what it recalled, by state.");
		metrics_render_histogram(b, "daxnfs_recall_duration_seconds",
					 "state=\"delegation\"", &s.deleg.recall_latency);
		family(b, "daxnfs_revocations_total", "counter",
		       "State revoked by the server, by state and cause.");
		metrics_printf(b, "daxnfs_revocations_total{state=\"delegation\","
				  "cause=\"recall_timeout\"} %" PRIu64 "\n", s.deleg.revoked);
		family(b, "daxnfs_async_copies_total", "counter",
		       "Asynchronous COPYs, by what became of them.");
		metrics_printf(b, "daxnfs_async_copies_total{result=\"started\"} %" PRIu64 "\n"
				  "daxnfs_async_copies_total{result=\"completed\"} %" PRIu64 "\n"
				  "daxnfs_async_copies_total{result=\"cancelled\"} %" PRIu64 "\n"
				  "daxnfs_async_copies_total{result=\"refused\"} %" PRIu64 "\n",
			       s.copy.started, s.copy.completed, s.copy.cancelled, s.copy.refused);
	}
	collect_process(b);
}
