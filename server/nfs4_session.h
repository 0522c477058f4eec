/*
 * server/nfs4_session.h: sessions (RFC 8881 §2.10): the session record with
 * its fore channel slot table and its back channel (path state, slots, the
 * probe), the session table, the limits offered in CREATE_SESSION, and the
 * compound context the session core runs a COMPOUND in.
 * Locking: everything here is called with the state lock held unless said
 * otherwise. SEQUENCE and the end of a COMPOUND take no state lock: they
 * find the session under its table stripe (nfs4_session_find), hold it by
 * an atomic reference, use its slots and fore channel connections under
 * s->lock (a leaf), and read its back channel path under the client's
 * lock, which whoever changes that path holds too (nfs4_client.h).
 * Calls: nfs4_slot.h, nfs4_client.h, nfs4_callback.h. Called by:
 * nfs4_compound.c, nfs4_session.c, nfs4_client.c, nfs4_callback.c,
 * nfs4_cb_probe.c, nfs4_slot.c, nfs4_server.c (and unit tests).
 */
#ifndef DAXNFS_SERVER_NFS4_SESSION_H
#define DAXNFS_SERVER_NFS4_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_callback.h"
#include "server/nfs4_client.h"
#include "server/nfs4_slot.h"
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
	pthread_mutex_t lock;             /* slots and fore_xprt_ids: a leaf */
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
	atomic_int refs;
	bool dead;                        /* destroyed; freed at the last put (set under
					   * the state lock and the table stripe) */
};

/* Takes a reference; needs no state lock (the table stripe is taken). */
struct nfs4_session *nfs4_session_find(struct nfs4_server *srv, const sessionid4 id);
struct nfs4_session *nfs4_session_find_noref(struct nfs4_server *srv, const sessionid4 id);
/* A new random sessionid no live session of srv has. 0 or -EIO. */
int nfs4_session_new_id(struct nfs4_server *srv, sessionid4 id);
/* Random bytes from getrandom(). 0 or -EIO. */
int nfs4_random_bytes(void *buf, size_t n);
/* Atomic: no lock needed. The last put frees s (and drops its client). */
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
	const nfs_resop4 *cur_res;        /* its results, when the handler ran */
};

/* ---- the session table (nfs4_client.c) ---- */
void nfs4_session_hash(struct nfs4_session *s);
void nfs4_session_unhash(struct nfs4_session *s);
/* Connection x is gone: sessions using it as back channel lose it. */
void nfs4_sessions_xprt_gone(struct nfs4_server *srv, struct rpc_xprt *x);

/* Connection bookkeeping: x is now a back channel of s (takes a ref on x). */
void nfs4_session_bind_back(struct nfs4_session *s, struct rpc_xprt *x);
/* srv learns when x closes (its sessions lose x as back channel). */
void nfs4_conn_watch(struct nfs4_server *srv, struct rpc_xprt *x);

#endif
