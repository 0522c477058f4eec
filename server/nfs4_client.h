/*
 * server/nfs4_client.h: client records (RFC 8881 §2.4, §18.35): the record
 * and its lease, the tables that find it by clientid and by co_ownerid,
 * courtesy, the per-client limits, and what a SEQUENCE reply raises for it.
 * Locking: everything here is called with the state lock held unless said
 * otherwise. While the state lock still orders every change of state
 * (docs/decisions/0007, step 4), each client also has its own lock, clp->lock:
 * it guards what the hot path reads without the state lock (SEQUENCE, the
 * stateid check of READ and WRITE): the fields marked [clp] below, its
 * sessions' back channel path, and its stateids (their state, seqid, share
 * access and what they point at). Whoever changes those holds the state lock
 * and clp->lock; whoever reads them holds either.
 * Calls: server/nfs4_htable.h, server/list.h. Called by: the session core
 * (nfs4_session.c, nfs4_compound.c, nfs4_server.c), the state it owns
 * (nfs4_open*.c, nfs4_lock.c, nfs4_deleg.c, nfs4_copy.c, nfs4_stateid.c),
 * the callback engine and the metrics.
 */
#ifndef DAXNFS_SERVER_NFS4_CLIENT_H
#define DAXNFS_SERVER_NFS4_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "rpc/nfs4_xdr_gen.h"
#include "rpc/rpc.h"
#include "server/list.h"
#include "server/nfs4_htable.h"

struct nfs4_client_table;
struct nfs4_server;
struct nfs4_session;
struct nfs4_stid;
struct nfs4_recall_any;

struct nfs4_client {
	struct nfs4_server *srv;       /* the server it is a client of */
	clientid4 clientid;
	pthread_mutex_t lock;          /* see Locking above; a leaf but for the
					* stateid buckets and session locks */
	bool confirmed;
	bool expired;                  /* [clp] destroyed; the record lives on only by reference */
	/* [clp] COMPOUNDs of it past SEQUENCE and not yet finished: a client in
	 * the middle of one is not expired by the tick, which no longer runs
	 * under the same lock as SEQUENCE's renewal. */
	unsigned busy;
	/* Courtesy (as knfsd): a confirmed client whose lease ran out keeps its
	 * state until another client conflicts with it, or COURTESY_MAX_SECONDS. */
	bool courtesy;                 /* [clp] */
	/* [clp] Its state was taken for a conflict while it was a courtesy client:
	 * its stateids answer NFS4ERR_EXPIRED and its SEQUENCE replies carry
	 * SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED until it freed them all. */
	unsigned nexpired_stids;
	/* [clp] Recallable state revoked (delegations not returned in time): its
	 * SEQUENCE replies carry SEQ4_STATUS_RECALLABLE_STATE_REVOKED until it
	 * freed them all (RFC 8881 §18.46.3). */
	unsigned nrevoked_stids;
	struct xdr_opaque owner_id;    /* co_ownerid (malloc'd copy in owner_buf) */
	uint8_t owner_buf[NFS4_OPAQUE_LIMIT];
	verifier4 verifier;            /* co_verifier */
	struct rpc_cred principal;     /* who created it */
	sequenceid4 create_session_seq;
	time_t last_renew;             /* [clp] CLOCK_MONOTONIC seconds */
	bool reclaim_complete;
	bool may_reclaim;              /* found in the stable records at start */
	uint32_t seq4_flags;           /* [clp] SEQ4_STATUS_* raised for this client */
	/* back channel probes of all its sessions (nfs4_cb_probe.c) */
	int64_t cb_window_start_ms;    /* start of the current one-minute window */
	unsigned cb_window_probes;     /* probes sent in it */
	uint64_t cb_probes_total, cb_probe_failures_total;
	struct list_node sessions;     /* [clp] struct nfs4_session.client_node */
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
	atomic_int refs;               /* a compound's last session put may drop it */
};

/* Releases every open, lock and delegation of clp (nfs4_open.c); called with
 * the state lock held when a client expires or is destroyed. */
void nfs4_client_release_state(struct nfs4_client *clp);
/* Marks clp renewed now. With clp->lock held (and the state lock or not). */
void nfs4_client_renew(struct nfs4_client *clp);
/* SEQUENCE's part of a client, without the state lock: counts one more
 * COMPOUND of it in flight (the tick does not expire it meanwhile); false
 * (nothing counted) when clp is expired. SEQUENCE renews the lease once
 * its slot check passed. nfs4_client_compound_end ends what it counted. */
bool nfs4_client_compound_start(struct nfs4_client *clp);
void nfs4_client_compound_end(struct nfs4_client *clp);
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
void nfs4_limit_log(struct nfs4_server *srv, const char *what, const char *key, unsigned limit);

/* The client and session tables of a server (made at its start, freed at
 * its end). 0 or -ENOMEM. */
int nfs4_client_table_init(struct nfs4_client_table *t);
void nfs4_client_table_free(struct nfs4_client_table *t);
/* A new unconfirmed record in srv's table; NULL at Max_Clients (when no
 * courtesy client can make room) or without memory. */
struct nfs4_client *nfs4_client_new(struct nfs4_server *srv, const struct xdr_opaque *owner,
				    const verifier4 verf, const struct rpc_cred *principal);
/* Finds the confirmed (confirmed = true) or unconfirmed record of owner. */
struct nfs4_client *nfs4_client_find_owner(struct nfs4_server *srv, const struct xdr_opaque *owner,
					   bool confirmed);
struct nfs4_client *nfs4_client_find_id(struct nfs4_server *srv, clientid4 id);
/* True when Max_Clients client records exist (EXCHANGE_ID makes no more). */
bool nfs4_clients_at_limit(const struct nfs4_server *srv);
/* How many client records there are (confirmed or not). State lock held. */
unsigned nfs4_client_count(const struct nfs4_server *srv);
/* Live sessions of every client. State lock held. */
unsigned nfs4_session_count(const struct nfs4_server *srv);
/* Every limit that refused something, with its count since start (fn once
 * per config key). State lock held. */
void nfs4_limit_hits(const struct nfs4_server *srv,
		     void (*fn)(const char *key, uint64_t n, void *ctx), void *ctx);
void nfs4_client_get(struct nfs4_client *clp);
void nfs4_client_put(struct nfs4_client *clp);
/* Releases clp's state and sessions and unhashes it (keeps its stable record
 * unless remove_record). */
void nfs4_client_destroy(struct nfs4_client *clp, bool remove_record);
bool nfs4_client_has_state(const struct nfs4_client *clp);
bool nfs4_same_principal(const struct rpc_cred *a, const struct rpc_cred *b);
/* The table of every client record (walk it with the state lock held). */
struct list_node *nfs4_client_list(struct nfs4_server *srv);
/* Expires clients whose lease ran out (tick). */
void nfs4_clients_expire(struct nfs4_server *srv, time_t now);
void nfs4_clients_shutdown(struct nfs4_server *srv);
time_t nfs4_now(void);                /* CLOCK_MONOTONIC seconds */
/* SEQ4_STATUS_* flags for a SEQUENCE on s. clp->lock held. */
uint32_t nfs4_client_seq_flags(struct nfs4_client *clp, struct nfs4_session *s);

#endif
