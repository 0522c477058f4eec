/*
 * server/nfs4_grace.c: the grace period after a restart (RFC 8881 §8.4.2).
 *
 * Policy: a grace period runs only when the stable records name clients of
 * the previous run (only they can hold state to reclaim); a server that
 * starts with no records has none, since no client could have been told
 * anything by it. During grace only recorded clients may reclaim
 * (CLAIM_PREVIOUS, reclaim LOCK) and new state is refused with NFS4ERR_GRACE;
 * so is new state for any client before its RECLAIM_COMPLETE (as knfsd does;
 * pynfs RECC3).
 *
 * How long it lasts:
 *  - it ends early only when every recorded client of the previous run has
 *    sent RECLAIM_COMPLETE (nfs4_recovery.c counts them); new clients and
 *    recorded clients that come back do not end it by themselves;
 *  - otherwise it ends NFSV4.Grace_Period seconds after the start, unless
 *    reclaims are still arriving then: a reclaim, or a recorded client
 *    confirming itself (it is about to reclaim), within RECLAIM_QUIET seconds
 *    of the end moves the end to RECLAIM_QUIET seconds after it, as knfsd
 *    keeps its grace going while "somebody reclaimed" since its last look;
 *  - never past Grace_Period + Lease_Lifetime after the start. A client
 *    that noticed the restart at once has had a whole lease more than the
 *    period promised, and since the config refuses Grace_Period <
 *    Lease_Lifetime, the bound is also at most twice Grace_Period: a client
 *    that reclaims forever cannot hold every other client's new state off
 *    for longer than that.
 * Times are CLOCK_MONOTONIC seconds, checked once a second (the tick).
 * Called with the state lock held (but nfs4_in_grace, which is lock-free).
 * Calls: nfs4_recovery.c. Called by: nfs4_server.c (start, tick),
 * nfs4_session.c (CREATE_SESSION, RECLAIM_COMPLETE), OPEN/LOCK handlers.
 */
#include "server/nfs4_grace.h"

#include <stdatomic.h>

#include "conf/log.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_recovery.h"
#include "server/nfs4_state.h"

/* Seconds of silence after the last reclaim before an overdue grace ends. */
#define RECLAIM_QUIET 3


static void grace_stop(struct nfs4_server *srv, const char *why)
{
	struct nfs4_grace *g = &srv->grace;

	if (!atomic_exchange(&g->active, false))
		return;
	log_info("nfs4", "grace period ended (%s)", why);
	nfs4_recovery_end_grace(&srv->recovery);
}

void nfs4_grace_start(struct nfs4_server *srv, unsigned known_clients)
{
	struct nfs4_grace *g = &srv->grace;
	uint32_t seconds = srv->grace_seconds, lease = srv->lease_seconds;
	time_t now = nfs4_now();

	g->extended = false;
	if (seconds == 0 || known_clients == 0) {
		atomic_store(&g->active, false);
		log_info("nfs4", "no grace period (%u client records)", known_clients);
		return;
	}
	g->end = now + seconds;
	g->limit = g->end + (lease < seconds ? lease : seconds);
	atomic_store(&g->active, true);
	log_info("nfs4", "grace period of %u s (up to %u s while reclaims arrive) for %u "
		 "client(s) of the previous run", seconds, (unsigned)(g->limit - now),
		 known_clients);
}

bool nfs4_in_grace(const struct nfs4_server *srv)
{
	const struct nfs4_grace *g = &srv->grace;

	return atomic_load(&g->active);
}

/* A reclaim happened now: an end that is near moves away, up to the bound. */
static void reclaim_seen(struct nfs4_grace *g)
{
	time_t want = nfs4_now() + RECLAIM_QUIET;

	if (!atomic_load(&g->active) || want <= g->end)
		return;
	g->end = want < g->limit ? want : g->limit;
	if (!g->extended) {
		g->extended = true;
		log_info("nfs4", "grace period extended: clients are still reclaiming");
	}
}

void nfs4_grace_tick(struct nfs4_server *srv, time_t now)
{
	struct nfs4_grace *g = &srv->grace;

	if (!atomic_load(&g->active) || now < g->end)
		return;
	grace_stop(srv, now >= g->limit && g->extended ? "its longest extension is up"
							 : "time is up");
}

bool nfs4_grace_client_back(struct nfs4_server *srv, const struct xdr_opaque *owner)
{
	struct nfs4_grace *g = &srv->grace;

	if (!atomic_load(&g->active) || !nfs4_recovery_was_known(&srv->recovery, owner))
		return false;
	reclaim_seen(g);
	return true;
}

void nfs4_grace_client_done(struct nfs4_client *clp)
{
	if (!clp->may_reclaim)
		return;
	if (nfs4_recovery_reclaimed(&clp->srv->recovery, &clp->owner_id) == 0)
		grace_stop(clp->srv, "every recorded client completed its reclaim");
}

nfsstat4 nfs4_grace_check(struct nfs4_server *srv, struct nfs4_client *clp, bool is_reclaim)
{
	struct nfs4_grace *g = &srv->grace;
	bool grace = atomic_load(&g->active);

	/* A client that has not sent RECLAIM_COMPLETE may still reclaim, so
	 * it gets no new state yet, grace period or not (RFC 8881 §18.51.3). */
	if (!is_reclaim)
		return grace || (clp && !clp->reclaim_complete) ? NFS4ERR_GRACE : NFS4_OK;
	if (!grace || !clp || clp->reclaim_complete || !clp->may_reclaim)
		return NFS4ERR_NO_GRACE;
	reclaim_seen(g);
	return NFS4_OK;
}

nfsstat4 nfs4_grace_check_unlocked(struct nfs4_server *srv, struct nfs4_client *clp,
				    bool is_reclaim)
{
	nfsstat4 st;

	/* clp's reclaim flags change under the state lock */
	nfs4_state_lock();
	st = nfs4_grace_check(srv, clp, is_reclaim);
	nfs4_state_unlock();
	return st;
}
