/*
 * server/nfs4_grace.c: the grace period after a restart (RFC 8881 §8.4.2).
 *
 * Policy: a grace period runs only when the stable records name clients of
 * the previous run (only they can hold state to reclaim); a server that
 * starts with no records has none, since no client could have been told
 * anything by it. Grace ends when NFSV4.Grace_Period seconds are up or when
 * every recorded client has sent RECLAIM_COMPLETE, whichever comes first.
 * During grace only recorded clients may reclaim (CLAIM_PREVIOUS) and new
 * state is refused with NFS4ERR_GRACE; so is new state for any client before
 * its RECLAIM_COMPLETE (as knfsd does; pynfs RECC3).
 * Called with the state lock held. Calls: nfs4_recovery.c.
 * Called by: nfs4_server.c (start, tick), nfs4_session.c, OPEN/LOCK handlers.
 */
#include "server/nfs4_session.h"

#include <stdatomic.h>

#include "conf/log.h"

static atomic_bool grace_active;
static time_t grace_end;

static void grace_stop(const char *why)
{
	if (!atomic_exchange(&grace_active, false))
		return;
	log_info("nfs4", "grace period ended (%s)", why);
	nfs4_recovery_end_grace();
}

void nfs4_grace_start(uint32_t seconds, unsigned known_clients)
{
	if (seconds == 0 || known_clients == 0) {
		atomic_store(&grace_active, false);
		log_info("nfs4", "no grace period (%u client records)", known_clients);
		return;
	}
	grace_end = nfs4_now() + seconds;
	atomic_store(&grace_active, true);
	log_info("nfs4", "grace period of %u s for %u client(s) of the previous run",
		 seconds, known_clients);
}

bool nfs4_in_grace(void)
{
	return atomic_load(&grace_active);
}

void nfs4_grace_tick(time_t now)
{
	if (atomic_load(&grace_active) && now >= grace_end)
		grace_stop("time is up");
}

void nfs4_grace_client_done(struct nfs4_client *clp)
{
	if (!clp->may_reclaim)
		return;
	if (nfs4_recovery_reclaimed(&clp->owner_id) == 0)
		grace_stop("every recorded client completed its reclaim");
}

nfsstat4 nfs4_grace_check(struct nfs4_client *clp, bool is_reclaim)
{
	bool grace = atomic_load(&grace_active);

	/* A client that has not sent RECLAIM_COMPLETE may still reclaim, so
	 * it gets no new state yet, grace period or not (RFC 8881 §18.51.3). */
	if (!is_reclaim)
		return grace || (clp && !clp->reclaim_complete) ? NFS4ERR_GRACE : NFS4_OK;
	if (!grace || !clp || clp->reclaim_complete || !clp->may_reclaim)
		return NFS4ERR_NO_GRACE;
	return NFS4_OK;
}

nfsstat4 nfs4_grace_check_unlocked(struct nfs4_client *clp, bool is_reclaim)
{
	nfsstat4 st;

	/* clp's reclaim flags change under the state lock */
	nfs4_state_lock();
	st = nfs4_grace_check(clp, is_reclaim);
	nfs4_state_unlock();
	return st;
}
