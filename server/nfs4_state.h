/*
 * server/nfs4_state.h: NFSv4 state shared between the session core and the
 * open/lock/delegation (and later layout) code: clients, stateids, grace.
 *
 * Job: one generic stateid record (struct nfs4_stid) that every kind of state
 * embeds first, one table that maps stateid "other" to it, and the rules of
 * RFC 8881 §8.2 applied in one place (nfs4_stid_lookup). Layouts join by
 * adding a type, not a table.
 * Locking: in this first increment all NFSv4 state (clients, sessions,
 * stateids, opens, locks) is guarded by one mutex, nfs4_state_lock(); handlers
 * hold it only around table work, never across file I/O.
 * Calls: server/list.h. Called by: server/ handlers, later layout/.
 */
#ifndef DAXNFS_SERVER_NFS4_STATE_H
#define DAXNFS_SERVER_NFS4_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "server/list.h"
#include "server/nfs4_htable.h"
#include "server/nfs4_compound.h"

void nfs4_state_lock(void);
void nfs4_state_unlock(void);
/* Waits on cond (CLOCK_MONOTONIC) with the state lock held, until
 * deadline (monotonic); 0 or ETIMEDOUT. */
int nfs4_state_wait(pthread_cond_t *cond, const struct timespec *deadline);

/* ---- clients (server/nfs4_client.c, nfs4_session.c) ---- */
struct nfs4_client {
	clientid4 clientid;
	bool confirmed;
	bool expired;                  /* destroyed; the record lives on only by reference */
	/* Courtesy (as knfsd): a confirmed client whose lease ran out keeps its
	 * state until another client conflicts with it, or COURTESY_MAX_SECONDS. */
	bool courtesy;
	/* Its state was taken for a conflict while it was a courtesy client:
	 * its stateids answer NFS4ERR_EXPIRED and its SEQUENCE replies carry
	 * SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED until it freed them all. */
	unsigned nexpired_stids;
	/* Recallable state revoked (delegations not returned in time): its
	 * SEQUENCE replies carry SEQ4_STATUS_RECALLABLE_STATE_REVOKED until it
	 * freed them all (RFC 8881 §18.46.3). */
	unsigned nrevoked_stids;
	struct xdr_opaque owner_id;    /* co_ownerid (malloc'd copy in owner_buf) */
	uint8_t owner_buf[NFS4_OPAQUE_LIMIT];
	verifier4 verifier;            /* co_verifier */
	struct rpc_cred principal;     /* who created it */
	sequenceid4 create_session_seq;
	time_t last_renew;             /* CLOCK_MONOTONIC seconds */
	bool reclaim_complete;
	bool may_reclaim;              /* found in the stable records at start */
	uint32_t seq4_flags;           /* SEQ4_STATUS_* raised for this client */
	/* back channel probes of all its sessions (nfs4_cb_probe.c) */
	int64_t cb_window_start_ms;    /* start of the current one-minute window */
	unsigned cb_window_probes;     /* probes sent in it */
	uint64_t cb_probes_total, cb_probe_failures_total;
	struct list_node sessions;     /* struct nfs4_session.client_node */
	struct list_node stids;        /* struct nfs4_stid.client_node */
	struct list_node openowners;   /* owned by nfs4_open.c */
	struct list_node lockowners;   /* owned by nfs4_lock.c */
	struct list_node node;         /* in the client table */
	struct nfs4_hnode id_hnode;    /* clients by clientid */
	struct nfs4_hnode owner_hnode; /* clients by co_ownerid */
	/* what it holds, against conf_state_limits */
	unsigned nsessions, nowners, nstids;
	unsigned ndelegs;              /* delegations on files (nfs4_deleg.c) */
	unsigned ncopies;              /* asynchronous copies running (nfs4_copy.c) */
	unsigned ncopy_records;        /* its stateids that are copies' (no locking state) */
	struct nfs4_recall_any *recall_any;   /* a CB_RECALL_ANY in the engine, or NULL */
	int64_t recall_any_ms;         /* when the last one was sent (monotonic ms) */
	int refs;
};

/* Releases every open, lock and delegation of clp (nfs4_open.c); called with
 * the state lock held when a client expires or is destroyed. */
void nfs4_client_release_state(struct nfs4_client *clp);
/* Marks clp renewed now (SEQUENCE). */
void nfs4_client_renew(struct nfs4_client *clp);
struct nfs4_stid;
/* If clp is a courtesy client: releases its locking state (shares, byte
 * ranges), keeps its stateids as NFS4ERR_EXPIRED and returns true, so the
 * caller can check its conflict again. False for a live client. */
bool nfs4_client_yield_courtesy(struct nfs4_client *clp);
/* Releases the resources of a stateid kept as EXPIRED (nfs4_open_state.c,
 * nfs4_lock.c); the record stays until FREE_STATEID or the client's end. */
void nfs4_stid_expire(struct nfs4_stid *stid);
/* False (and logged, once a minute) when clp holds Max_Owners_Per_Client
 * open- and lock-owners already. */
bool nfs4_client_may_add_owner(struct nfs4_client *clp);
/* A limit refused something: logged once a minute per limit, with how many
 * times it refused meanwhile. what says what was refused, key its config key. */
void nfs4_limit_log(const char *what, const char *key, unsigned limit);

/* ---- stateids (server/nfs4_stateid.c) ---- */
enum nfs4_stid_type {
	NFS4_STID_OPEN = 1u << 0,
	NFS4_STID_LOCK = 1u << 1,
	NFS4_STID_DELEG = 1u << 2,
	NFS4_STID_LAYOUT = 1u << 3,
	NFS4_STID_COPY = 1u << 4,    /* an asynchronous COPY's callback id (nfs4_copy.c) */
};
#define NFS4_STID_NTYPES 5

/* Live stateids by type, indexed by the type's bit number (OPEN 0, LOCK 1,
 * DELEG 2, LAYOUT 3, COPY 4). State lock held. */
void nfs4_stid_counts(unsigned out[NFS4_STID_NTYPES]);

enum nfs4_stid_state {
	NFS4_STID_ACTIVE = 0,
	NFS4_STID_CLOSED,        /* CLOSE/LOCKU-all done; kept until freed (FREE_STATEID or client end) */
	NFS4_STID_REVOKED,       /* admin or recall revoke: NFS4ERR_ADMIN_REVOKED / DELEG_REVOKED */
	NFS4_STID_EXPIRED,       /* its courtesy client lost it to a conflict: NFS4ERR_EXPIRED
				  * until FREE_STATEID */
};

struct nfs4_stid {
	enum nfs4_stid_type type;
	enum nfs4_stid_state state;
	stateid4 sid;                  /* current seqid and other */
	struct nfs4_client *client;
	struct list_node client_node;
	struct nfs4_stid *hash_next;
	void (*release)(struct nfs4_stid *stid);   /* frees the embedding struct */
};

/* Creates a stateid of the given type for clp, seqid 1, a unique "other";
 * the embedding struct is size bytes, zeroed, with the nfs4_stid first. */
struct nfs4_stid *nfs4_stid_new(struct nfs4_client *clp, enum nfs4_stid_type type,
				size_t size, void (*release)(struct nfs4_stid *));
/* Unhashes and releases. */
void nfs4_stid_destroy(struct nfs4_stid *stid);
/* Bumps the seqid (skipping 0 on wrap) after a state-changing operation. */
void nfs4_stid_bump(struct nfs4_stid *stid);

/*
 * The stateid rules of RFC 8881 §8.2 in one place: the current-stateid
 * special value (seqid 1, other 0) is replaced by c->cur_stateid; anonymous
 * (all 0) and READ-bypass (all 1) stateids return NFS4_OK with *out NULL when
 * allow_special; otherwise lookup by other within type_mask, owned by
 * c->client (else NFS4ERR_BAD_STATEID), seqid 0 matches any, a seqid older than
 * current is NFS4ERR_OLD_STATEID, newer is NFS4ERR_BAD_STATEID; revoked
 * state answers NFS4ERR_ADMIN_REVOKED (DELEG_REVOKED for delegations),
 * an expired client NFS4ERR_EXPIRED. Call with the state lock held.
 */
nfsstat4 nfs4_stid_lookup(struct nfs4_compound *c, const stateid4 *sid, uint32_t type_mask,
			  bool allow_special, struct nfs4_stid **out);

/* Records sid as the compound's current stateid (RFC 8881 §16.2.3.1.2). */
void nfs4_set_current_stateid(struct nfs4_compound *c, const stateid4 *sid);

/* ---- grace and reclaim (server/nfs4_grace.c) ---- */
bool nfs4_in_grace(void);
/* NFS4ERR_GRACE for new state during grace, NFS4ERR_NO_GRACE for a reclaim
 * outside it or after this client's RECLAIM_COMPLETE; NFS4_OK otherwise. */
nfsstat4 nfs4_grace_check(struct nfs4_client *clp, bool is_reclaim);
/* The same for a caller that does not hold the state lock (takes it). */
nfsstat4 nfs4_grace_check_unlocked(struct nfs4_client *clp, bool is_reclaim);

/* ---- server instance ---- */
/* The write verifier: changes at every start of the server. */
void nfs4_write_verifier(verifier4 out);
/* Lease time in seconds (config NFSV4.Lease_Lifetime). */
uint32_t nfs4_lease_time(void);
/* The NFSV4 Max_* limits in force. */
const struct conf_state_limits *nfs4_state_limits(void);

#endif
