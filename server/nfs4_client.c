/*
 * server/nfs4_client.c: the client table and the session table.
 *
 * Clients are found by clientid (every SEQUENCE-less op names one) and by
 * co_ownerid (EXCHANGE_ID); sessions by sessionid: keyed hash tables
 * (nfs4_htable.h), so neither a crowd of clients nor chosen owner strings
 * make a lookup slow. Clientids and sessionids are unguessable: a clientid
 * is the boot epoch (so a restarted server refuses its predecessor's) and
 * 32 random bits, a sessionid 16 random bytes; knowing one's own gives
 * nothing about another's. Lease expiry lives here: a confirmed client that
 * has not renewed for a lease period loses its state, sessions and stable
 * record at the next tick.
 * All functions are called with the state lock held.
 * Calls: nfs4_open.c (nfs4_client_release_state), nfs4_recovery.c,
 * nfs4_session.c. Called by: nfs4_session.c, nfs4_server.c, nfs4_stateid.c,
 * nfs4_metrics.c (counts, limit refusals).
 */
#include "server/nfs4_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf/log.h"
#include "server/nfs4_cb_probe.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_recovery.h"

#define CLIENT_BUCKETS 4096u
/* A courtesy client that never comes back goes after this (knfsd: a day). */
#define COURTESY_MAX_SECONDS (24 * 3600)
#define SESSION_BUCKETS 4096u

struct list_node *nfs4_client_list(struct nfs4_server *srv)
{
	return &srv->clients.clients;
}

unsigned nfs4_client_count(const struct nfs4_server *srv)
{
	return srv->clients.nclients;
}

/* Random bytes for ids; a failing getrandom (it cannot fail for small
 * requests once the pool is ready) is an error, never a fallback to
 * something guessable. */
int nfs4_random_bytes(void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((uint8_t *)buf + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		got += (size_t)r;
	}
	return 0;
}

int nfs4_client_table_init(struct nfs4_client_table *t)
{
	memset(t, 0, sizeof(*t));
	list_init(&t->clients);
	list_init(&t->sessions);
	for (unsigned i = 0; i < NFS4_SESSION_LOCK_STRIPES; i++)
		pthread_mutex_init(&t->session_locks[i], NULL);
	if (nfs4_htable_init(&t->by_id, CLIENT_BUCKETS) < 0 ||
	    nfs4_htable_init(&t->by_owner, CLIENT_BUCKETS) < 0 ||
	    nfs4_htable_init(&t->sessions_by_id, SESSION_BUCKETS) < 0) {
		nfs4_client_table_free(t);
		return -ENOMEM;
	}
	return 0;
}

void nfs4_client_table_free(struct nfs4_client_table *t)
{
	nfs4_htable_free(&t->by_id);
	nfs4_htable_free(&t->by_owner);
	nfs4_htable_free(&t->sessions_by_id);
	for (unsigned i = 0; i < NFS4_SESSION_LOCK_STRIPES; i++)
		pthread_mutex_destroy(&t->session_locks[i]);
}

static uint64_t id_hash(const struct nfs4_client_table *t, clientid4 id)
{
	return nfs4_htable_hash(&t->by_id, 1, &id, sizeof(id));
}

static uint64_t owner_hash(const struct nfs4_client_table *t, const struct xdr_opaque *owner)
{
	return nfs4_htable_hash(&t->by_owner, 2, owner->val, owner->len);
}

/* One line a minute per limit: a flood must not become a flood of logs. */
#define LIMIT_LOG_INTERVAL 60

/* The limits nfs4_limit_log reports, each given to nfs4_limit_hits even
 * before it refused anything: a series that only appears at its first
 * refusal would hide that refusal from Prometheus' increase(). */
static const char *const known_limit_keys[] = {
	"Max_Clients", "Max_Sessions_Per_Client", "Max_Owners_Per_Client",
	"Max_Stateids_Per_Client",
};

static const struct nfs4_limit_log_entry *limit_entry(const struct nfs4_server *srv,
						     const char *key)
{
	const struct nfs4_limit_log_entry *l = srv->clients.limit_log;
	unsigned i;

	for (i = 0; i < NFS4_LIMIT_LOG_KEYS && l[i].key; i++)
		if (strcmp(l[i].key, key) == 0)
			return &l[i];
	return NULL;
}

void nfs4_limit_hits(const struct nfs4_server *srv,
		     void (*fn)(const char *key, uint64_t n, void *ctx), void *ctx)
{
	const unsigned nknown = sizeof(known_limit_keys) / sizeof(known_limit_keys[0]);
	const struct nfs4_limit_log_entry *l = srv->clients.limit_log;
	unsigned i, j;

	for (i = 0; i < nknown; i++) {
		const struct nfs4_limit_log_entry *e = limit_entry(srv, known_limit_keys[i]);

		fn(known_limit_keys[i], e ? e->total : 0, ctx);
	}
	for (i = 0; i < NFS4_LIMIT_LOG_KEYS && l[i].key; i++) {
		for (j = 0; j < nknown && strcmp(known_limit_keys[j], l[i].key); j++)
			;
		if (j == nknown)   /* a key this list does not know yet */
			fn(l[i].key, l[i].total, ctx);
	}
}

unsigned nfs4_session_count(const struct nfs4_server *srv)
{
	struct list_node *pos;
	unsigned n = 0;

	list_for_each(pos, &srv->clients.sessions)
		n++;
	return n;
}

void nfs4_limit_log(struct nfs4_server *srv, const char *what, const char *key, unsigned limit)
{
	struct nfs4_limit_log_entry *l = srv->clients.limit_log, *e = NULL;
	time_t now = nfs4_now();
	unsigned i;

	for (i = 0; i < NFS4_LIMIT_LOG_KEYS && !e; i++)
		if (!l[i].key || strcmp(l[i].key, key) == 0)
			e = &l[i];
	if (!e)
		return;
	if (!e->key) {
		e->key = key;
		e->last = now - LIMIT_LOG_INTERVAL;
	}
	e->refused++;
	e->total++;
	if (now - e->last < LIMIT_LOG_INTERVAL)
		return;
	log_warn("nfs4", "limit reached: %s (%s = %u); refused %u time(s) since the last report",
		 what, key, limit, e->refused);
	e->last = now;
	e->refused = 0;
}

bool nfs4_client_may_add_owner(struct nfs4_client *clp)
{
	if (clp->nowners < clp->srv->limits.max_owners_per_client)
		return true;
	nfs4_limit_log(clp->srv, "owners of one client", "Max_Owners_Per_Client",
		       clp->srv->limits.max_owners_per_client);
	return false;
}

static bool reap_one_courtesy(struct nfs4_server *srv, const struct xdr_opaque *keep_owner);

bool nfs4_clients_at_limit(const struct nfs4_server *srv)
{
	return srv->clients.nclients >= srv->limits.max_clients;
}

time_t nfs4_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct nfs4_client *nfs4_client_new(struct nfs4_server *srv, const struct xdr_opaque *owner,
				    const verifier4 verf, const struct rpc_cred *principal)
{
	struct nfs4_client_table *t = &srv->clients;
	struct nfs4_client *clp;

	if (owner->len > NFS4_OPAQUE_LIMIT)
		return NULL;
	if (nfs4_clients_at_limit(srv) && !reap_one_courtesy(srv, owner))
		return NULL;
	clp = calloc(1, sizeof(*clp));
	if (!clp)
		return NULL;
	/* clientid: boot epoch in the high half, so a restarted server never
	 * accepts a clientid of its previous life (NFS4ERR_STALE_CLIENTID);
	 * random bits in the low half, unique among the live clients. */
	do {
		uint32_t r;

		if (nfs4_random_bytes(&r, sizeof(r)) < 0) {
			free(clp);
			return NULL;
		}
		clp->clientid = ((uint64_t)srv->boot_epoch << 32) | r;
	} while ((uint32_t)clp->clientid == 0 || nfs4_client_find_id(srv, clp->clientid));
	clp->srv = srv;
	memcpy(clp->owner_buf, owner->val, owner->len);
	clp->owner_id.len = owner->len;
	clp->owner_id.val = clp->owner_buf;
	memcpy(clp->verifier, verf, sizeof(verifier4));
	clp->principal = *principal;
	clp->create_session_seq = 1;
	pthread_mutex_init(&clp->lock, NULL);
	clp->last_renew = nfs4_now();
	list_init(&clp->sessions);
	list_init(&clp->stids);
	list_init(&clp->openowners);
	list_init(&clp->lockowners);
	clp->refs = 1;   /* the table's */
	list_add_tail(&clp->node, &t->clients);
	nfs4_htable_add(&t->by_id, &clp->id_hnode, id_hash(t, clp->clientid));
	nfs4_htable_add(&t->by_owner, &clp->owner_hnode, owner_hash(t, &clp->owner_id));
	t->nclients++;
	return clp;
}

static bool owner_eq(const struct nfs4_client *clp, const struct xdr_opaque *owner)
{
	return clp->owner_id.len == owner->len &&
	       memcmp(clp->owner_id.val, owner->val, owner->len) == 0;
}

struct nfs4_client *nfs4_client_find_owner(struct nfs4_server *srv, const struct xdr_opaque *owner,
					   bool confirmed)
{
	uint64_t h = owner_hash(&srv->clients, owner);
	struct nfs4_hnode *n;

	for (n = nfs4_htable_chain(&srv->clients.by_owner, h); n; n = n->next) {
		struct nfs4_client *clp = container_of(n, struct nfs4_client, owner_hnode);

		if (n->hash == h && clp->confirmed == confirmed && !clp->expired &&
		    owner_eq(clp, owner))
			return clp;
	}
	return NULL;
}

struct nfs4_client *nfs4_client_find_id(struct nfs4_server *srv, clientid4 id)
{
	uint64_t h = id_hash(&srv->clients, id);
	struct nfs4_hnode *n;

	for (n = nfs4_htable_chain(&srv->clients.by_id, h); n; n = n->next) {
		struct nfs4_client *clp = container_of(n, struct nfs4_client, id_hnode);

		if (n->hash == h && clp->clientid == id && !clp->expired)
			return clp;
	}
	return NULL;
}

void nfs4_client_get(struct nfs4_client *clp)
{
	atomic_fetch_add(&clp->refs, 1);
}

void nfs4_client_put(struct nfs4_client *clp)
{
	if (atomic_fetch_sub(&clp->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&clp->lock);
	free(clp);
}

bool nfs4_client_compound_start(struct nfs4_client *clp)
{
	bool live;

	pthread_mutex_lock(&clp->lock);
	live = !clp->expired;
	if (live)
		clp->busy++;
	pthread_mutex_unlock(&clp->lock);
	return live;
}

void nfs4_client_compound_end(struct nfs4_client *clp)
{
	pthread_mutex_lock(&clp->lock);
	clp->busy--;
	pthread_mutex_unlock(&clp->lock);
}

void nfs4_client_renew(struct nfs4_client *clp)
{
	clp->last_renew = nfs4_now();
	if (clp->courtesy) {
		clp->courtesy = false;
		log_info("nfs4", "client %016llx: back after its lease ran out; it keeps its state",
			 (unsigned long long)clp->clientid);
	}
}

bool nfs4_client_yield_courtesy(struct nfs4_client *clp)
{
	struct list_node *pos, *tmp;
	bool courtesy;

	/* Decided under the client's lock: a SEQUENCE of it (which takes no
	 * state lock) either came first and ended the courtesy, or comes
	 * after and finds the state expired. */
	pthread_mutex_lock(&clp->lock);
	courtesy = clp->courtesy && !clp->busy;
	if (courtesy) {
		clp->courtesy = false;
		clp->last_renew = nfs4_now() - (time_t)clp->srv->lease_seconds - 1;
	}
	pthread_mutex_unlock(&clp->lock);
	if (!courtesy)
		return false;
	log_info("nfs4", "client %016llx: its lease ran out and another client conflicts with "
		 "its state: the state is released (NFS4ERR_EXPIRED to it)",
		 (unsigned long long)clp->clientid);
	/* Each stateid is EXPIRED (and the client's SEQ4 flag raised) before
	 * its resources go (nfs4_stid_expire). Nothing is left to be courteous
	 * about: the client stays, as an expired one, until it comes back or
	 * COURTESY_MAX_SECONDS. */
	list_for_each_safe(pos, tmp, &clp->stids)
		nfs4_stid_expire(container_of(pos, struct nfs4_stid, client_node));
	return true;
}

/* Makes room at Max_Clients: the courtesy or expired client heard from
 * longest ago goes (not one of keep_owner: EXCHANGE_ID may hold its records). */
static bool reap_one_courtesy(struct nfs4_server *srv, const struct xdr_opaque *keep_owner)
{
	struct list_node *pos, *tmp;
	struct nfs4_client *oldest = NULL;
	time_t lease = srv->lease_seconds, now = nfs4_now(), oldest_renewed = 0;

	list_for_each_safe(pos, tmp, &srv->clients.clients) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);
		time_t renewed;
		bool busy;

		pthread_mutex_lock(&clp->lock);
		renewed = clp->last_renew;
		busy = clp->busy != 0;
		pthread_mutex_unlock(&clp->lock);
		if (!busy && now - renewed > lease && !owner_eq(clp, keep_owner) &&
		    (!oldest || renewed < oldest_renewed)) {
			oldest = clp;
			oldest_renewed = renewed;
		}
	}
	if (!oldest)
		return false;
	/* Looked at one by one above: decide again, and mark it, in one hold,
	 * so that a SEQUENCE that came meanwhile keeps its client. */
	pthread_mutex_lock(&oldest->lock);
	if (oldest->busy || now - oldest->last_renew <= lease) {
		pthread_mutex_unlock(&oldest->lock);
		return false;
	}
	oldest->expired = true;
	pthread_mutex_unlock(&oldest->lock);
	log_info("nfs4", "client %016llx: released to make room (Max_Clients)",
		 (unsigned long long)oldest->clientid);
	nfs4_client_destroy(oldest, true);
	return true;
}

bool nfs4_client_has_state(const struct nfs4_client *clp)
{
	/* A copy's record is not state that DESTROY_CLIENTID must wait for
	 * or a lease must keep: the client's end cancels the copy. */
	return clp->nstids > clp->ncopy_records || !list_empty(&clp->openowners) ||
	       !list_empty(&clp->lockowners);
}

bool nfs4_same_principal(const struct rpc_cred *a, const struct rpc_cred *b)
{
	if (a->flavor != b->flavor)
		return false;
	if (a->flavor == RPC_AUTH_SYS)
		return a->uid == b->uid && a->gid == b->gid;
	return a->raw_len == b->raw_len && memcmp(a->raw, b->raw, a->raw_len) == 0;
}

void nfs4_client_destroy(struct nfs4_client *clp, bool remove_record)
{
	struct nfs4_client_table *t = &clp->srv->clients;
	struct list_node *pos, *tmp;

	if (clp->expired && list_empty(&clp->node))
		return;
	pthread_mutex_lock(&clp->lock);
	clp->expired = true;
	pthread_mutex_unlock(&clp->lock);
	nfs4_client_release_state(clp);
	list_for_each_safe(pos, tmp, &clp->sessions)
		nfs4_session_destroy(container_of(pos, struct nfs4_session, client_node));
	/* Stateids the release left behind (TEST_STATEID must not find them). */
	list_for_each_safe(pos, tmp, &clp->stids)
		nfs4_stid_destroy(container_of(pos, struct nfs4_stid, client_node));
	if (remove_record && clp->confirmed)
		nfs4_recovery_remove(&clp->srv->recovery, clp);
	list_del(&clp->node);
	nfs4_htable_del(&t->by_id, &clp->id_hnode);
	nfs4_htable_del(&t->by_owner, &clp->owner_hnode);
	t->nclients--;
	nfs4_client_put(clp);
}

void nfs4_clients_expire(struct nfs4_server *srv, time_t now)
{
	struct list_node *pos, *tmp;
	time_t lease = srv->lease_seconds;

	list_for_each_safe(pos, tmp, &srv->clients.clients) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);
		bool keep = false, now_courtesy = false;
		time_t renewed;

		/* Under the client's lock: a SEQUENCE renews it without the
		 * state lock, and one in the middle of a COMPOUND is not idle. */
		pthread_mutex_lock(&clp->lock);
		renewed = clp->busy ? now : clp->last_renew;
		/* Unconfirmed records also go after a lease without CREATE_SESSION. */
		if (now - renewed <= lease) {
			keep = true;
		} else if (clp->confirmed &&
			   (nfs4_client_has_state(clp) || clp->nexpired_stids) &&
			   now - renewed <= COURTESY_MAX_SECONDS) {
			/* A confirmed client with state is kept, courteously,
			 * until someone conflicts with it
			 * (nfs4_client_yield_courtesy), it comes back, or a day
			 * has passed. */
			keep = true;
			if (!clp->courtesy && !clp->nexpired_stids)
				clp->courtesy = now_courtesy = true;
		} else {
			/* decided and marked in one hold: a SEQUENCE from now on
			 * is refused (nfs4_client_compound_start) */
			clp->expired = true;
		}
		pthread_mutex_unlock(&clp->lock);
		if (now_courtesy)
			log_info("nfs4", "client %016llx: lease expired; its state is kept "
				 "until another client conflicts with it",
				 (unsigned long long)clp->clientid);
		if (keep)
			continue;
		log_info("nfs4", "client %016llx: lease expired, releasing its state",
			 (unsigned long long)clp->clientid);
		nfs4_client_destroy(clp, true);
	}
}

void nfs4_clients_shutdown(struct nfs4_server *srv)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &srv->clients.clients) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);

		nfs4_client_destroy(clp, false);
	}
}

uint32_t nfs4_client_seq_flags(struct nfs4_client *clp, struct nfs4_session *s)
{
	uint32_t flags = clp->seq4_flags;
	struct list_node *pos, *tmp;
	bool any_usable = false;

	list_for_each_safe(pos, tmp, &clp->sessions) {
		struct nfs4_session *o = container_of(pos, struct nfs4_session, client_node);

		any_usable |= nfs4_cb_path_usable(o);
	}
	if (!nfs4_cb_path_usable(s))
		flags |= SEQ4_STATUS_CB_PATH_DOWN_SESSION;
	if (!any_usable)
		flags |= SEQ4_STATUS_CB_PATH_DOWN;
	return flags;
}

/* ---- sessions ---- */

static uint64_t session_hash(const struct nfs4_client_table *t, const sessionid4 id)
{
	return nfs4_htable_hash(&t->sessions_by_id, 3, id, sizeof(sessionid4));
}

int nfs4_session_new_id(struct nfs4_server *srv, sessionid4 id)
{
	do {
		if (nfs4_random_bytes(id, sizeof(sessionid4)) < 0)
			return -EIO;
	} while (nfs4_session_find_noref(srv, id));
	return 0;
}

/* The lock of the stripe of session table buckets hash falls in:
 * SEQUENCE finds its session without the state lock; adding and removing
 * (with the state lock) take the stripe too. */
static pthread_mutex_t *session_stripe(struct nfs4_client_table *t, uint64_t hash)
{
	return &t->session_locks[hash % NFS4_SESSION_LOCK_STRIPES];
}

void nfs4_session_hash(struct nfs4_session *s)
{
	struct nfs4_client_table *t = &s->client->srv->clients;
	uint64_t h = session_hash(t, s->id);

	list_add_tail(&s->node, &t->sessions);
	pthread_mutex_lock(session_stripe(t, h));
	nfs4_htable_add(&t->sessions_by_id, &s->hnode, h);
	pthread_mutex_unlock(session_stripe(t, h));
	s->client->nsessions++;
}

void nfs4_session_unhash(struct nfs4_session *s)
{
	struct nfs4_client_table *t = &s->client->srv->clients;
	pthread_mutex_t *stripe = session_stripe(t, s->hnode.hash);

	list_del(&s->node);
	pthread_mutex_lock(stripe);
	nfs4_htable_del(&t->sessions_by_id, &s->hnode);
	s->dead = true;
	pthread_mutex_unlock(stripe);
	s->client->nsessions--;
}

static struct nfs4_session *session_walk(struct nfs4_server *srv, const sessionid4 id,
					 uint64_t h)
{
	struct nfs4_hnode *n;

	for (n = nfs4_htable_chain(&srv->clients.sessions_by_id, h); n; n = n->next) {
		struct nfs4_session *s = container_of(n, struct nfs4_session, hnode);

		if (n->hash == h && !s->dead && memcmp(s->id, id, sizeof(sessionid4)) == 0)
			return s;
	}
	return NULL;
}

struct nfs4_session *nfs4_session_find_noref(struct nfs4_server *srv, const sessionid4 id)
{
	/* state lock held: no table change can run */
	return session_walk(srv, id, session_hash(&srv->clients, id));
}

struct nfs4_session *nfs4_session_find(struct nfs4_server *srv, const sessionid4 id)
{
	uint64_t h = session_hash(&srv->clients, id);
	pthread_mutex_t *stripe = session_stripe(&srv->clients, h);
	struct nfs4_session *s;

	pthread_mutex_lock(stripe);
	s = session_walk(srv, id, h);
	if (s)
		nfs4_session_get(s);
	pthread_mutex_unlock(stripe);
	return s;
}

void nfs4_sessions_xprt_gone(struct nfs4_server *srv, struct rpc_xprt *x)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &srv->clients.sessions) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, node);

		if (s->back_xprt != x)
			continue;
		pthread_mutex_lock(&s->client->lock);
		s->back_xprt = NULL;
		s->cb_state = NFS4_CB_NONE;
		pthread_mutex_unlock(&s->client->lock);
		rpc_xprt_put(x);
	}
}
