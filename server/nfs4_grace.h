/*
 * server/nfs4_grace.h: the grace period after a start (RFC 8881 §8.4.2): who
 * may reclaim, when new state is refused, and when grace ends (all known
 * clients back, or the time is up).
 * Calls: nfs4_recovery.h. Called by: nfs4_server.c, nfs4_session.c,
 * nfs4_open.c, nfs4_lock.c, nfs4_deleg.c, nfs4_metrics.c.
 */
#ifndef DAXNFS_SERVER_NFS4_GRACE_H
#define DAXNFS_SERVER_NFS4_GRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "rpc/nfs4_xdr_gen.h"

struct nfs4_client;
struct nfs4_server;

/* A server's grace period (srv->grace). Times are CLOCK_MONOTONIC seconds;
 * active is read without the state lock. */
struct nfs4_grace {
	atomic_bool active;
	time_t end;               /* moves later while reclaims arrive */
	time_t limit;             /* start + Grace_Period + Lease_Lifetime */
	bool extended;            /* logged once */
};

bool nfs4_in_grace(const struct nfs4_server *srv);
/* NFS4ERR_GRACE for new state during grace, NFS4ERR_NO_GRACE for a reclaim
 * outside it or after this client's RECLAIM_COMPLETE; NFS4_OK otherwise
 * (clp may be NULL: no client known yet). */
nfsstat4 nfs4_grace_check(struct nfs4_server *srv, struct nfs4_client *clp, bool is_reclaim);
/* The same for a caller that does not hold the state lock (takes it). */
nfsstat4 nfs4_grace_check_unlocked(struct nfs4_server *srv, struct nfs4_client *clp,
				    bool is_reclaim);

/* Grace for srv's Grace_Period (0: none) when known_clients may come back;
 * it ends at the latest a lease later, however reclaims go. */
void nfs4_grace_start(struct nfs4_server *srv, unsigned known_clients);
void nfs4_grace_tick(struct nfs4_server *srv, time_t now);
void nfs4_grace_client_done(struct nfs4_client *clp);
/* At a client's confirmation: true when owner is a recorded client of the
 * previous run and grace is on (it may reclaim); counts as reclaim activity. */
bool nfs4_grace_client_back(struct nfs4_server *srv, const struct xdr_opaque *owner);

#endif
