/*
 * server/nfs4_metrics.c: the NFSv4 server's gauges and totals for a scrape
 * (see nfs4_metrics.h): clients, sessions, stateids by type, delegations
 * and their recalls and revocations, callbacks in flight, grace,
 * asynchronous copies, the limits that refused something, and the
 * process's resident memory and descriptors.
 * Read at scrape time under the state lock for a moment, like any
 * request; nothing here runs on the request path.
 */
#include "server/nfs4_metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "server/metrics.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_session.h"
#include "server/nfs4_state.h"

static void family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void limit_line(const char *key, uint64_t n, void *ctx)
{
	metrics_printf(ctx, "daxnfs_limit_refusals_total{limit=\"%s\"} %" PRIu64 "\n", key, n);
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

void nfs4_metrics_collect(struct metrics_buf *b, void *ctx)
{
	static const char *const stid_type[NFS4_STID_NTYPES] = {
		"open", "lock", "delegation", "layout", "copy",
	};
	unsigned stids[NFS4_STID_NTYPES], clients, sessions, inflight, i;
	struct nfs4_deleg_stats ds;
	struct nfs4_copy_stats cs;
	bool grace;

	(void)ctx;
	nfs4_state_lock();
	clients = nfs4_client_count();
	sessions = nfs4_session_count();
	nfs4_stid_counts(stids);
	nfs4_deleg_stats(&ds);
	nfs4_copy_stats(&cs);
	inflight = nfs4_cb_inflight_count();
	grace = nfs4_in_grace();
	family(b, "daxnfs_limit_refusals_total", "counter",
	       "Requests refused because a configured limit was reached, by the limit's key.");
	nfs4_limit_hits(limit_line, b);
	nfs4_state_unlock();

	family(b, "daxnfs_clients", "gauge", "NFSv4 clients (EXCHANGE_ID records) held.");
	metrics_printf(b, "daxnfs_clients %u\n", clients);
	family(b, "daxnfs_sessions", "gauge", "NFSv4.1 sessions held.");
	metrics_printf(b, "daxnfs_sessions %u\n", sessions);
	family(b, "daxnfs_stateids", "gauge", "Stateids held, by type.");
	for (i = 0; i < NFS4_STID_NTYPES; i++)
		metrics_printf(b, "daxnfs_stateids{type=\"%s\"} %u\n", stid_type[i], stids[i]);
	family(b, "daxnfs_grace_period", "gauge",
	       "1 while the grace period after a start lasts (reclaims only), else 0.");
	metrics_printf(b, "daxnfs_grace_period %d\n", grace ? 1 : 0);
	family(b, "daxnfs_callbacks_in_flight", "gauge",
	       "Back-channel calls sent and not yet answered.");
	metrics_printf(b, "daxnfs_callbacks_in_flight %u\n", inflight);
	family(b, "daxnfs_delegations_granted_total", "counter", "Delegations granted.");
	metrics_printf(b, "daxnfs_delegations_granted_total %" PRIu64 "\n", ds.granted);
	family(b, "daxnfs_delegations_returned_total", "counter", "Delegations returned.");
	metrics_printf(b, "daxnfs_delegations_returned_total %" PRIu64 "\n", ds.returned);
	family(b, "daxnfs_recalls_total", "counter", "Recalls sent, by what was recalled.");
	metrics_printf(b, "daxnfs_recalls_total{state=\"delegation\"} %" PRIu64 "\n", ds.recalls);
	family(b, "daxnfs_recall_duration_seconds", "histogram",
	       "From a recall's start to the return of what it recalled, by state.");
	metrics_render_histogram(b, "daxnfs_recall_duration_seconds", "state=\"delegation\"",
				 &ds.recall_latency);
	family(b, "daxnfs_revocations_total", "counter",
	       "State revoked by the server, by state and cause.");
	metrics_printf(b, "daxnfs_revocations_total{state=\"delegation\",cause=\"recall_timeout\"} %"
		       PRIu64 "\n", ds.revoked);
	family(b, "daxnfs_async_copies_total", "counter",
	       "Asynchronous COPYs, by what became of them.");
	metrics_printf(b, "daxnfs_async_copies_total{result=\"started\"} %" PRIu64 "\n"
			  "daxnfs_async_copies_total{result=\"completed\"} %" PRIu64 "\n"
			  "daxnfs_async_copies_total{result=\"cancelled\"} %" PRIu64 "\n"
			  "daxnfs_async_copies_total{result=\"refused\"} %" PRIu64 "\n",
		       cs.started, cs.completed, cs.cancelled, cs.refused);
	collect_process(b);
}
