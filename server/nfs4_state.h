/*
 * server/nfs4_state.h: NFSv4 state shared between the session core and the
 * open/lock/delegation (and later layout) code: the state lock, stateids
 * and their table, and the write verifier (the server object itself:
 * nfs4_instance.h; clients: nfs4_client.h; grace: nfs4_grace.h).
 *
 * Job: one generic stateid record (struct nfs4_stid) that every kind of state
 * embeds first, one table that maps stateid "other" to it, and the rules of
 * RFC 8881 §8.2 applied in one place (nfs4_stid_lookup). Layouts join by
 * adding a type, not a table.
 * Locking: every change of NFSv4 state (clients, sessions, stateids, opens,
 * locks) is still made under one mutex, nfs4_state_lock(), held only around
 * table work, never across file I/O. The hot path reads without it
 * (docs/decisions/0007): the table's chains are walked under a stripe lock
 * (a leaf), and what a stateid says (state, seqid, share access, file) is
 * read under its client's lock, which whoever changes it holds as well.
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
#include "server/nfs4_client.h"
#include "server/nfs4_compound.h"
#include "server/nfs4_htable.h"

void nfs4_state_lock(void);
void nfs4_state_unlock(void);
/* Waits on cond (CLOCK_MONOTONIC) with the state lock held, until
 * deadline (monotonic); 0 or ETIMEDOUT. */
int nfs4_state_wait(pthread_cond_t *cond, const struct timespec *deadline);
/* Makes cond wait on CLOCK_MONOTONIC, as nfs4_state_wait and the callback
 * engine measure their deadlines. 0 or a pthread error number. */
int nfs4_monotonic_cond_init(pthread_cond_t *cond);

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
void nfs4_stid_counts(const struct nfs4_server *srv, unsigned out[NFS4_STID_NTYPES]);

enum nfs4_stid_state {
	NFS4_STID_ACTIVE = 0,
	NFS4_STID_CLOSED,        /* CLOSE/LOCKU-all done; kept until freed (FREE_STATEID or client end) */
	NFS4_STID_REVOKED,       /* admin or recall revoke: NFS4ERR_ADMIN_REVOKED / DELEG_REVOKED */
	NFS4_STID_EXPIRED,       /* its courtesy client lost it to a conflict: NFS4ERR_EXPIRED
				  * until FREE_STATEID */
};

struct nfs4_stid {
	enum nfs4_stid_type type;
	enum nfs4_stid_state state;    /* [clp] */
	stateid4 sid;                  /* current seqid [clp] and other */
	/* [clp] Its record is complete: the check without the state lock
	 * (nfs4_stid_check_client) does not look at it before. */
	bool published;
	struct nfs4_client *client;
	struct list_node client_node;
	struct nfs4_stid *hash_next;
	void (*release)(struct nfs4_stid *stid);   /* frees the embedding struct */
};

/* Every stateid of a server by "other" (nfs4_stateid.c): "other" is the boot
 * epoch and a counter, so the counter spreads them over the buckets. */
#define NFS4_STID_BUCKETS 4096u
#define NFS4_STID_LOCK_STRIPES 64u
struct nfs4_stid_table {
	struct nfs4_stid *buckets[NFS4_STID_BUCKETS];
	/* bucket b's chain is changed, and walked without the state lock,
	 * under stripe b % NFS4_STID_LOCK_STRIPES (zeroed = initialised) */
	pthread_mutex_t stripes[NFS4_STID_LOCK_STRIPES];
	uint64_t counter;                    /* of the last "other" made */
	unsigned live[NFS4_STID_NTYPES];     /* by type bit, for the metrics */
};

/* Creates a stateid of the given type for clp, seqid 1, a unique "other";
 * the embedding struct is size bytes, zeroed, with the nfs4_stid first. */
struct nfs4_stid *nfs4_stid_new(struct nfs4_client *clp, enum nfs4_stid_type type,
				size_t size, void (*release)(struct nfs4_stid *));
/* The creator filled in the record: the lock-free check may use it now. */
void nfs4_stid_publish(struct nfs4_stid *stid);
/* Unhashes and releases. */
void nfs4_stid_destroy(struct nfs4_stid *stid);
/* Bumps the seqid (skipping 0 on wrap) after a state-changing operation;
 * _locked with the client's lock already held (with a change the I/O check
 * must see at the same time, such as an open's share access). */
void nfs4_stid_bump(struct nfs4_stid *stid);
void nfs4_stid_bump_locked(struct nfs4_stid *stid);

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
/* nfs4_stid_lookup for a compound with a client (c->client), called with
 * c->client->lock held instead of the state lock: only c->client's own
 * stateids are found, and only once published; *out stays valid while the
 * client's lock is held. */
nfsstat4 nfs4_stid_lookup_client(struct nfs4_compound *c, const stateid4 *sid,
				 uint32_t type_mask, bool allow_special, struct nfs4_stid **out);

/* Records sid as the compound's current stateid (RFC 8881 §16.2.3.1.2). */
void nfs4_set_current_stateid(struct nfs4_compound *c, const stateid4 *sid);

/* ---- the server instance (nfs4_instance.h; nfs4_server.c) ---- */
/* The write verifier of srv: changes at every start of the server. */
void nfs4_write_verifier(const struct nfs4_server *srv, verifier4 out);
/* Frees every stateid left at shutdown (nfs4_stateid.c). */
void nfs4_stids_shutdown(struct nfs4_server *srv);

#endif
