/*
 * server/nfs4_cb_probe.c: when a back channel is probed and what its path
 * state tells the client (see nfs4_cb_probe.h).
 *
 * Why the back-off and the budget: a client that sees CB_PATH_DOWN answers
 * with BIND_CONN_TO_SESSION, and every BIND_CONN_TO_SESSION asks for a
 * probe; a client that cannot take callbacks (wrong session, broken
 * callback service) would otherwise turn that into a loop that costs both
 * sides a large part of their RPC budget. Probes of a session whose path
 * failed wait 1, 2, 4 ... 60 s; a client gets at most
 * NFS4_CB_PROBES_PER_MINUTE probes a minute over all its sessions.
 * Calls: nfs4_callback.c (queue, clock), conf/log.h.
 * Called by: nfs4_session.c, nfs4_client.c, nfs4_callback.c.
 */
#include "server/nfs4_cb_probe.h"

#include "conf/log.h"

#define CB_WINDOW_MS 60000

bool nfs4_cb_path_usable(const struct nfs4_session *s)
{
	/* Not before the session's first SEQUENCE either: a callback on it
	 * could reach the client before the CREATE_SESSION reply did, and be
	 * answered NFS4ERR_BADSESSION (nfs4_session.c, conn_attach). */
	if (!s->back_xprt || s->cb_probe_at_sequence)
		return false;
	return s->cb_state == NFS4_CB_UP || (s->cb_state == NFS4_CB_PROBING && !s->cb_path_down);
}

void nfs4_cb_probe(struct nfs4_session *s)
{
	int64_t now, at;

	if (s->dead || !s->back_xprt)
		return;
	/* SEQUENCE reads the path under the client's lock (nfs4_client.h) */
	pthread_mutex_lock(&s->client->lock);
	s->cb_state = NFS4_CB_PROBING;
	pthread_mutex_unlock(&s->client->lock);
	if (s->cb_probe_queued)
		return;   /* the queued probe reads the session's newest connection */
	s->cb_probe_queued = true;
	now = nfs4_cb_now_ms();
	at = s->cb_next_probe_ms > now ? s->cb_next_probe_ms : now;
	nfs4_cb_queue_probe(s, at);
}

int64_t nfs4_cb_probe_admit(struct nfs4_session *s)
{
	int64_t now = nfs4_cb_now_ms(), later = 0;
	struct nfs4_client *clp;

	clp = s->client;
	if (clp->cb_window_start_ms == 0 || now - clp->cb_window_start_ms >= CB_WINDOW_MS) {
		clp->cb_window_start_ms = now;
		clp->cb_window_probes = 0;
	}
	if (clp->cb_window_probes >= NFS4_CB_PROBES_PER_MINUTE) {
		later = clp->cb_window_start_ms + CB_WINDOW_MS;
	} else {
		clp->cb_window_probes++;
		clp->cb_probes_total++;
		s->cb_probes++;
	}
	return later;
}

static void path_down(struct nfs4_session *s, const char *reason)
{
	int64_t now = nfs4_cb_now_ms();
	struct nfs4_client *clp = s->client;

	pthread_mutex_lock(&clp->lock);
	s->cb_state = NFS4_CB_DOWN;
	s->cb_path_down = true;
	pthread_mutex_unlock(&clp->lock);
	if (s->cb_backoff_ms == 0)
		s->cb_backoff_ms = NFS4_CB_BACKOFF_FIRST_MS;
	else if (s->cb_backoff_ms < NFS4_CB_BACKOFF_MAX_MS / 2)
		s->cb_backoff_ms *= 2;
	else
		s->cb_backoff_ms = NFS4_CB_BACKOFF_MAX_MS;
	s->cb_next_probe_ms = now + s->cb_backoff_ms;
	s->cb_failures_unlogged++;
	if (s->cb_last_log_ms != 0 && now - s->cb_last_log_ms < NFS4_CB_LOG_INTERVAL_MS)
		return;
	log_warn("nfs4", "back channel down: clientid %016llx minor %u: %s; %u failure(s) since "
		 "the last report, %llu of %llu probe(s) failed; next probe in %u ms at the earliest",
		 (unsigned long long)clp->clientid, s->cb_minorversion, reason,
		 s->cb_failures_unlogged, (unsigned long long)clp->cb_probe_failures_total,
		 (unsigned long long)clp->cb_probes_total, s->cb_backoff_ms);
	s->cb_last_log_ms = now;
	s->cb_failures_unlogged = 0;
}

void nfs4_cb_probe_finished(struct nfs4_session *s, bool ok, const char *reason)
{
	s->cb_probe_queued = false;
	if (!ok) {
		s->client->cb_probe_failures_total++;
		path_down(s, reason);
		return;
	}
	log_info("nfs4", "back channel up: clientid %016llx minor %u after %u probe(s)",
		 (unsigned long long)s->client->clientid, s->cb_minorversion, s->cb_probes);
	pthread_mutex_lock(&s->client->lock);
	s->cb_state = NFS4_CB_UP;
	s->cb_path_down = false;
	pthread_mutex_unlock(&s->client->lock);
	s->cb_backoff_ms = 0;
	s->cb_next_probe_ms = 0;
	s->cb_probes = 0;
	s->cb_failures_unlogged = 0;
	s->cb_last_log_ms = 0;
}

void nfs4_cb_path_failed(struct nfs4_session *s, const char *reason)
{
	path_down(s, reason);
}
