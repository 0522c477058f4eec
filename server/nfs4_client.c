/*
 * server/nfs4_client.c: the client table and the session table.
 *
 * Clients are found by clientid (every SEQUENCE-less op names one) and by
 * co_ownerid (EXCHANGE_ID); sessions by sessionid. Both tables are short
 * lists for now (a client count in the hundreds); the accessors are the seam
 * where a hash goes. Lease expiry lives here: a confirmed client that has
 * not renewed for a lease period loses its state, sessions and stable record
 * at the next tick.
 * All functions are called with the state lock held.
 * Calls: nfs4_open.c (nfs4_client_release_state), nfs4_recovery.c,
 * nfs4_session.c. Called by: nfs4_session.c, nfs4_server.c, nfs4_stateid.c.
 */
#include "server/nfs4_session.h"

#include <stdlib.h>
#include <string.h>

#include "conf/log.h"

static struct list_node client_table = LIST_HEAD_INIT(client_table);
static struct list_node session_table = LIST_HEAD_INIT(session_table);
static uint32_t client_counter;

time_t nfs4_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct nfs4_client *nfs4_client_new(const struct xdr_opaque *owner, const verifier4 verf,
				    const struct rpc_cred *principal)
{
	struct nfs4_client *clp;

	if (owner->len > NFS4_OPAQUE_LIMIT)
		return NULL;
	clp = calloc(1, sizeof(*clp));
	if (!clp)
		return NULL;
	/* clientid: boot epoch in the high half, so a restarted server never
	 * accepts a clientid of its previous life (NFS4ERR_STALE_CLIENTID). */
	clp->clientid = ((uint64_t)nfs4_boot_epoch() << 32) | ++client_counter;
	memcpy(clp->owner_buf, owner->val, owner->len);
	clp->owner_id.len = owner->len;
	clp->owner_id.val = clp->owner_buf;
	memcpy(clp->verifier, verf, sizeof(verifier4));
	clp->principal = *principal;
	clp->create_session_seq = 1;
	clp->last_renew = nfs4_now();
	list_init(&clp->sessions);
	list_init(&clp->stids);
	list_init(&clp->openowners);
	list_init(&clp->lockowners);
	clp->refs = 1;   /* the table's */
	list_add_tail(&clp->node, &client_table);
	return clp;
}

static bool owner_eq(const struct nfs4_client *clp, const struct xdr_opaque *owner)
{
	return clp->owner_id.len == owner->len &&
	       memcmp(clp->owner_id.val, owner->val, owner->len) == 0;
}

struct nfs4_client *nfs4_client_find_owner(const struct xdr_opaque *owner, bool confirmed)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &client_table) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);

		if (clp->confirmed == confirmed && !clp->expired && owner_eq(clp, owner))
			return clp;
	}
	return NULL;
}

struct nfs4_client *nfs4_client_find_id(clientid4 id)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &client_table) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);

		if (clp->clientid == id && !clp->expired)
			return clp;
	}
	return NULL;
}

void nfs4_client_get(struct nfs4_client *clp)
{
	clp->refs++;
}

void nfs4_client_put(struct nfs4_client *clp)
{
	if (--clp->refs == 0)
		free(clp);
}

void nfs4_client_renew(struct nfs4_client *clp)
{
	clp->last_renew = nfs4_now();
}

bool nfs4_client_has_state(const struct nfs4_client *clp)
{
	return !list_empty(&clp->stids) || !list_empty(&clp->openowners) ||
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
	struct list_node *pos, *tmp;

	if (clp->expired && list_empty(&clp->node))
		return;
	clp->expired = true;
	nfs4_client_release_state(clp);
	list_for_each_safe(pos, tmp, &clp->sessions)
		nfs4_session_destroy(container_of(pos, struct nfs4_session, client_node));
	/* Stateids the release left behind (TEST_STATEID must not find them). */
	list_for_each_safe(pos, tmp, &clp->stids)
		nfs4_stid_destroy(container_of(pos, struct nfs4_stid, client_node));
	if (remove_record && clp->confirmed)
		nfs4_recovery_remove(clp);
	list_del(&clp->node);
	nfs4_client_put(clp);
}

void nfs4_clients_expire(time_t now)
{
	struct list_node *pos, *tmp;
	time_t lease = nfs4_lease_time();

	list_for_each_safe(pos, tmp, &client_table) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);

		/* Unconfirmed records also go after a lease without CREATE_SESSION. */
		if (now - clp->last_renew <= lease)
			continue;
		log_info("nfs4", "client %016llx: lease expired, releasing its state",
			 (unsigned long long)clp->clientid);
		nfs4_client_destroy(clp, true);
	}
}

void nfs4_clients_shutdown(void)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &client_table) {
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

void nfs4_session_hash(struct nfs4_session *s)
{
	list_add_tail(&s->node, &session_table);
}

void nfs4_session_unhash(struct nfs4_session *s)
{
	list_del(&s->node);
}

struct nfs4_session *nfs4_session_find(const sessionid4 id)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &session_table) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, node);

		if (!s->dead && memcmp(s->id, id, sizeof(sessionid4)) == 0) {
			s->refs++;
			return s;
		}
	}
	return NULL;
}

void nfs4_sessions_xprt_gone(struct rpc_xprt *x)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &session_table) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, node);

		if (s->back_xprt != x)
			continue;
		s->back_xprt = NULL;
		s->cb_state = NFS4_CB_NONE;
		rpc_xprt_put(x);
	}
}
