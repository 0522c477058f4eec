/*
 * server/nfs4_session.h: private interfaces of the session core (clients,
 * sessions, slot tables and reply cache, grace, stable records, the
 * backchannel) shared between nfs4_compound.c, nfs4_session.c,
 * nfs4_client.c, nfs4_slot.c, nfs4_grace.c, nfs4_recovery.c,
 * nfs4_callback.c and nfs4_server.c. Everything here is called with the
 * state lock held unless said otherwise.
 * Calls: server/nfs4_state.h. Called by: the files above (and unit tests).
 */
#ifndef DAXNFS_SERVER_NFS4_SESSION_H
#define DAXNFS_SERVER_NFS4_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_callback.h"
#include "server/nfs4_state.h"

/* Server limits offered in CREATE_SESSION (RFC 8881 §18.36.3). */
#define NFS4_MAX_SLOTS 64u
#define NFS4_MAX_OPS 32u
#define NFS4_MIN_OPS 8u
#define NFS4_MAX_REQ (1024u * 1024u + 16u * 1024u)     /* a 1 MiB WRITE + headers */
#define NFS4_MAX_RESP (1024u * 1024u + 16u * 1024u)    /* a 1 MiB READ + headers */
#define NFS4_MAX_RESP_CACHED (64u * 1024u)
/* Below these: NFS4ERR_TOOSMALL. An RPC call with an AUTH_SYS credential
 * and a SEQUENCE-only compound needs about 120 bytes, its reply about 80. */
#define NFS4_MIN_REQ 128u
#define NFS4_MIN_RESP 96u
/* The back channel must take CB_SEQUENCE + CB_RECALL with a 128-byte
 * handle (about 330 bytes with credentials) and their short replies. */
#define NFS4_CB_MIN_REQ 384u
#define NFS4_CB_MIN_RESP 96u
/* Back channel slots we use at most (the client offers ca_maxrequests). */
#define NFS4_BACK_MAX_SLOTS 16u

/* ---- slot table and reply cache (nfs4_slot.c) ---- */
struct nfs4_slot {
	sequenceid4 seqid;       /* of the last request executed on this slot */
	bool used;               /* a request has been executed (seqid is meaningful) */
	bool busy;               /* a compound is executing on it now */
	bool cached;             /* reply holds the whole reply of seqid */
	bool replay;             /* the current compound replays the cached reply */
	uint64_t req_hash;       /* of the request bytes of seqid (false-retry check) */
	uint8_t *reply;          /* malloc'd COMPOUND4res bytes when cached */
	size_t reply_len;
};

struct nfs4_slot_table {
	uint32_t nslots;
	struct nfs4_slot *slots;
};

enum nfs4_slot_verdict {
	NFS4_SLOT_NEW,           /* a new request: execute it */
	NFS4_SLOT_REPLAY,        /* send the cached reply */
};

int nfs4_slot_table_init(struct nfs4_slot_table *t, uint32_t nslots);
void nfs4_slot_table_free(struct nfs4_slot_table *t);
/*
 * The slot rules of RFC 8881 §2.10.6.1 for one SEQUENCE: NFS4ERR_BADSLOT,
 * NFS4ERR_DELAY (busy), NFS4ERR_SEQ_MISORDERED, NFS4ERR_SEQ_FALSE_RETRY (a
 * retry whose bytes differ), NFS4ERR_RETRY_UNCACHED_REP (a retry whose reply
 * was not kept). On NFS4_OK *verdict says what to do and the slot is busy.
 */
nfsstat4 nfs4_slot_check(struct nfs4_slot_table *t, slotid4 slotid, sequenceid4 seqid,
			 uint64_t req_hash, enum nfs4_slot_verdict *verdict,
			 struct nfs4_slot **out);
/* Ends the slot's request: keeps reply (copied) when cache, frees the old one. */
void nfs4_slot_done(struct nfs4_slot *s, const void *reply, size_t len, bool cache);
/* FNV-1a over the request bytes. */
uint64_t nfs4_hash_bytes(const void *p, size_t n);

/* ---- sessions ---- */
/*
 * The back channel path of a session (RFC 8881 §2.10.3.1, §18.46.3):
 *   NONE    no connection bound for the back channel
 *   PROBING a probe is queued or running, or waits for the session's first
 *           SEQUENCE (cb_probe_at_sequence); cb_path_down says whether the
 *           path failed before it: a re-probe keeps CB_PATH_DOWN raised
 *   UP      the last probe or callback got a CB_SEQUENCE answer
 *   DOWN    the last probe or callback failed; the next probe waits for
 *           cb_next_probe_ms (back-off), whatever the client asks
 */
enum nfs4_cb_state {
	NFS4_CB_NONE = 0,
	NFS4_CB_PROBING,
	NFS4_CB_UP,
	NFS4_CB_DOWN,
};

struct nfs4_session {
	sessionid4 id;
	struct nfs4_client *client;       /* referenced */
	struct list_node client_node;     /* in client->sessions */
	struct list_node node;            /* in the session table */
	struct nfs4_hnode hnode;          /* sessions by id */
	channel_attrs4 fore, back;        /* as negotiated (ca_rdma_ird empty) */
	uint32_t flags;                   /* csr_flags */
	struct nfs4_slot_table slots;
	/* back channel */
	uint32_t cb_program;
	bool cb_auth_sys;
	struct rpc_cred cb_cred;
	struct rpc_xprt *back_xprt;       /* referenced; NULL = none */
	enum nfs4_cb_state cb_state;
	uint32_t cb_minorversion;         /* of CREATE_SESSION; every CB_COMPOUND carries it */
	uint32_t cb_nslots;               /* back channel slots: the client's ca_maxrequests, capped */
	struct nfs4_cb_slot {
		sequenceid4 seq;          /* last sequence id the client's slot used */
		bool busy;                /* a callback is in flight on it */
	} cb_slots[NFS4_BACK_MAX_SLOTS];
	struct nfs4_cb probe;             /* the probe of this back channel (nfs4_callback.c) */
	bool cb_path_down;                /* raised at a failure, cleared by a good probe */
	bool cb_probe_queued;             /* one probe at a time per session */
	bool cb_probe_at_sequence;        /* CREATE_SESSION bound the back channel:
					   * the first SEQUENCE probes it */
	int64_t cb_next_probe_ms;         /* back-off: no probe before (monotonic ms) */
	uint32_t cb_backoff_ms;
	unsigned cb_probes;               /* probes sent since the path was last up */
	unsigned cb_failures_unlogged;    /* failures since the last "down" log line */
	int64_t cb_last_log_ms;           /* of that line; 0 = never */
	/* connections bound for the fore channel (for BIND_CONN_TO_SESSION) */
	uint64_t fore_xprt_ids[8];
	unsigned n_fore;
	int refs;
	bool dead;                        /* destroyed; freed at the last put */
};

struct nfs4_session *nfs4_session_find(const sessionid4 id);   /* takes a ref */
struct nfs4_session *nfs4_session_find_noref(const sessionid4 id);
/* A new random sessionid no live session has. 0 or -EIO. */
int nfs4_session_new_id(sessionid4 id);
/* Random bytes from getrandom(). 0 or -EIO. */
int nfs4_random_bytes(void *buf, size_t n);
/* True when Max_Clients client records exist (EXCHANGE_ID makes no more). */
bool nfs4_clients_at_limit(void);
void nfs4_session_get(struct nfs4_session *s);
void nfs4_session_put(struct nfs4_session *s);
/* Unhashes s, unbinds its connections, drops the table's reference. */
void nfs4_session_destroy(struct nfs4_session *s);

/* The compound context with what only the session core needs. */
struct nfs4_compound_run {
	struct nfs4_compound c;
	uint64_t req_hash;                /* of the whole COMPOUND arguments */
	size_t res_start;                 /* offset of COMPOUND4res in req->res */
	bool replay;                      /* SEQUENCE found a cached reply */
	/* Metrics (NULL: off): the worker's counter block, and what the
	 * current operation was and left (run_op sets them). */
	struct metrics_thread *metrics;
	uint32_t cur_opnum;
	const void *cur_res;              /* its results, when the handler ran */
};

/* ---- clients (nfs4_client.c) ---- */
struct nfs4_client *nfs4_client_new(const struct xdr_opaque *owner, const verifier4 verf,
				    const struct rpc_cred *principal);
/* Finds the confirmed (confirmed = true) or unconfirmed record of owner. */
struct nfs4_client *nfs4_client_find_owner(const struct xdr_opaque *owner, bool confirmed);
struct nfs4_client *nfs4_client_find_id(clientid4 id);
/* How many client records there are (confirmed or not). State lock held. */
unsigned nfs4_client_count(void);
/* Live sessions of every client. State lock held. */
unsigned nfs4_session_count(void);
/* Every limit that refused something, with its count since start (fn once
 * per config key). State lock held. */
void nfs4_limit_hits(void (*fn)(const char *key, uint64_t n, void *ctx), void *ctx);
void nfs4_client_get(struct nfs4_client *clp);
void nfs4_client_put(struct nfs4_client *clp);
/* Releases clp's state and sessions and unhashes it (keeps its stable record
 * unless remove_record). */
void nfs4_client_destroy(struct nfs4_client *clp, bool remove_record);
bool nfs4_client_has_state(const struct nfs4_client *clp);
bool nfs4_same_principal(const struct rpc_cred *a, const struct rpc_cred *b);
/* The table of every client record (walk it with the state lock held). */
struct list_node *nfs4_client_list(void);
/* Expires clients whose lease ran out (tick). */
void nfs4_clients_expire(time_t now);
void nfs4_clients_shutdown(void);
time_t nfs4_now(void);                /* CLOCK_MONOTONIC seconds */
/* SEQ4_STATUS_* flags for a SEQUENCE on s. */
uint32_t nfs4_client_seq_flags(struct nfs4_client *clp, struct nfs4_session *s);
/* The session table (nfs4_client.c). */
void nfs4_session_hash(struct nfs4_session *s);
void nfs4_session_unhash(struct nfs4_session *s);
/* Connection x is gone: sessions using it as back channel lose it. */
void nfs4_sessions_xprt_gone(struct rpc_xprt *x);

/* ---- stable records (nfs4_recovery.c) ---- */
int nfs4_recovery_init(const char *dir);      /* loads the records of the last run */
void nfs4_recovery_shutdown(void);
/* Writes and syncs the record of clp (before CREATE_SESSION's reply). 0 or -errno. */
int nfs4_recovery_add(const struct nfs4_client *clp);
void nfs4_recovery_remove(const struct nfs4_client *clp);
/* True when owner was recorded by the previous run (may reclaim). */
bool nfs4_recovery_was_known(const struct xdr_opaque *owner);
/* Marks owner as done reclaiming; returns how many previous-run owners remain. */
unsigned nfs4_recovery_reclaimed(const struct xdr_opaque *owner);
unsigned nfs4_recovery_previous_count(void);
/* Forgets the previous run's owners that did not come back (grace ended). */
void nfs4_recovery_end_grace(void);
/* The server owner/scope, stable across restarts. */
const char *nfs4_server_owner(void);

/* ---- grace (nfs4_grace.c) ---- */
void nfs4_grace_start(uint32_t seconds, unsigned known_clients);
void nfs4_grace_tick(time_t now);
void nfs4_grace_client_done(struct nfs4_client *clp);
/* At a client's confirmation: true when owner is a recorded client of the
 * previous run and grace is on (it may reclaim); counts as reclaim activity. */
bool nfs4_grace_client_back(const struct xdr_opaque *owner);

/* ---- backchannel (nfs4_callback.c) ---- */
int nfs4_cb_init(void);
void nfs4_cb_shutdown(void);
/* Queues a probe (CB_NULL + CB_COMPOUND{CB_SEQUENCE}) of s's back channel,
 * unless one is queued already; it goes out after the back-off of earlier
 * failures and within the client's probe budget (nfs4_cb_probe.c). */
void nfs4_cb_probe(struct nfs4_session *s);
/* True when s's back channel can be used or is being probed for the first
 * time since it last worked (no CB_PATH_DOWN*_SESSION for it). */
bool nfs4_cb_path_usable(const struct nfs4_session *s);
/* Connection bookkeeping: x is now a back channel of s (takes a ref on x). */
void nfs4_session_bind_back(struct nfs4_session *s, struct rpc_xprt *x);
void nfs4_conn_watch(struct rpc_xprt *x);

/* ---- stateids (nfs4_stateid.c) ---- */
void nfs4_stids_shutdown(void);

/* ---- server (nfs4_server.c) ---- */
uint32_t nfs4_grace_time(void);
uint32_t nfs4_boot_epoch(void);

#endif
