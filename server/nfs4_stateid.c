/*
 * server/nfs4_stateid.c: the generic stateid record and the stateid rules of
 * RFC 8881 §8.2 (special stateids, seqid checks, current stateid §16.2.3.1.2),
 * TEST_STATEID (§18.48) and FREE_STATEID (§18.38).
 *
 * "other" is 12 bytes: the server's boot epoch (4) and a 64-bit counter (8),
 * so a stateid from an earlier server instance can never match. The table is
 * a fixed array of hash chains on the counter, each changed under its stripe
 * lock as well as the state lock, so that nfs4_stid_lookup_client can walk
 * it with neither (docs/decisions/0007).
 * All other table functions are called with the state lock held.
 * Calls: nfs4_client.h. Called by: open/lock/deleg/layout code, the op table,
 * nfs4_metrics.c (live counts by type).
 */
#include "server/nfs4_client.h"
#include "server/nfs4_open.h"

#include <stdlib.h>
#include <string.h>

#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"


static unsigned type_index(enum nfs4_stid_type type)
{
	unsigned i = 0;

	while (i < NFS4_STID_NTYPES - 1 && !(type & (1u << i)))
		i++;
	return i;
}

void nfs4_stid_counts(const struct nfs4_server *srv, unsigned out[NFS4_STID_NTYPES])
{
	memcpy(out, srv->stids.live, sizeof(srv->stids.live));
}

static uint64_t other_counter(const uint8_t other[12])
{
	uint64_t v = 0;
	int i;

	for (i = 4; i < 12; i++)
		v = v << 8 | other[i];
	return v;
}

static struct nfs4_stid **bucket(struct nfs4_stid_table *t, const uint8_t other[12])
{
	return &t->buckets[other_counter(other) % NFS4_STID_BUCKETS];
}

static pthread_mutex_t *stripe(struct nfs4_stid_table *t, const uint8_t other[12])
{
	return &t->stripes[other_counter(other) % NFS4_STID_BUCKETS % NFS4_STID_LOCK_STRIPES];
}

struct nfs4_stid *nfs4_stid_new(struct nfs4_client *clp, enum nfs4_stid_type type,
				size_t size, void (*release)(struct nfs4_stid *))
{
	struct nfs4_stid_table *t = &clp->srv->stids;
	struct nfs4_stid *st, **b;
	uint32_t epoch = clp->srv->boot_epoch;
	uint64_t n = ++t->counter;
	int i;

	/* A client destroyed while one of its COMPOUNDs ran on (a client
	 * restart's EXCHANGE_ID replaced it): no new state on it, which
	 * nothing would ever release. */
	if (clp->expired)
		return NULL;
	if (clp->nstids >= clp->srv->limits.max_stateids_per_client) {
		nfs4_limit_log(clp->srv, "stateids of one client", "Max_Stateids_Per_Client",
			       clp->srv->limits.max_stateids_per_client);
		return NULL;   /* the caller answers NFS4ERR_DELAY */
	}
	if (size < sizeof(*st))
		size = sizeof(*st);
	st = calloc(1, size);
	if (!st)
		return NULL;
	st->type = type;
	st->state = NFS4_STID_ACTIVE;
	st->sid.seqid = 1;
	for (i = 0; i < 4; i++)
		st->sid.other[i] = (uint8_t)(epoch >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		st->sid.other[4 + i] = (uint8_t)(n >> (56 - 8 * i));
	st->client = clp;
	st->release = release;
	list_add_tail(&st->client_node, &clp->stids);
	clp->nstids++;
	t->live[type_index(type)]++;
	b = bucket(t, st->sid.other);
	pthread_mutex_lock(stripe(t, st->sid.other));
	st->hash_next = *b;
	*b = st;
	pthread_mutex_unlock(stripe(t, st->sid.other));
	return st;
}

void nfs4_stid_publish(struct nfs4_stid *stid)
{
	pthread_mutex_lock(&stid->client->lock);
	stid->published = true;
	pthread_mutex_unlock(&stid->client->lock);
}

void nfs4_stid_destroy(struct nfs4_stid *stid)
{
	struct nfs4_stid_table *t = &stid->client->srv->stids;
	struct nfs4_stid **p = bucket(t, stid->sid.other);
	struct nfs4_client *clp = stid->client;

	/* Out of the chain under the client's lock: a reader holding that lock
	 * (nfs4_stid_lookup_client) is never in the middle of this record when
	 * the release below frees it. */
	pthread_mutex_lock(&clp->lock);
	pthread_mutex_lock(stripe(t, stid->sid.other));
	while (*p && *p != stid)
		p = &(*p)->hash_next;
	if (*p)
		*p = stid->hash_next;
	pthread_mutex_unlock(stripe(t, stid->sid.other));
	if (stid->state == NFS4_STID_EXPIRED && --clp->nexpired_stids == 0)
		clp->seq4_flags &= ~(uint32_t)SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED;
	if (stid->state == NFS4_STID_REVOKED && clp->nrevoked_stids &&
	    --clp->nrevoked_stids == 0)
		clp->seq4_flags &= ~(uint32_t)SEQ4_STATUS_RECALLABLE_STATE_REVOKED;
	pthread_mutex_unlock(&clp->lock);
	list_del(&stid->client_node);
	clp->nstids--;
	t->live[type_index(stid->type)]--;
	if (stid->release)
		stid->release(stid);
	else
		free(stid);
}

void nfs4_stid_bump_locked(struct nfs4_stid *stid)
{
	if (++stid->sid.seqid == 0)
		stid->sid.seqid = 1;
}

void nfs4_stid_bump(struct nfs4_stid *stid)
{
	pthread_mutex_lock(&stid->client->lock);
	nfs4_stid_bump_locked(stid);
	pthread_mutex_unlock(&stid->client->lock);
}

/* The stateid whose other is other, when it is of a type in type_mask and
 * (clp not NULL) of clp; decided under the chain's stripe, where a record of
 * another client cannot be freed under us. */
static struct nfs4_stid *stid_find(struct nfs4_server *srv, const uint8_t other[12],
				   const struct nfs4_client *clp, uint32_t type_mask)
{
	pthread_mutex_t *lock = stripe(&srv->stids, other);
	struct nfs4_stid *st;

	pthread_mutex_lock(lock);
	for (st = *bucket(&srv->stids, other); st; st = st->hash_next)
		if (memcmp(st->sid.other, other, 12) == 0)
			break;
	if (st && (!(st->type & type_mask) || (clp && st->client != clp)))
		st = NULL;
	pthread_mutex_unlock(lock);
	return st;
}

static bool other_is(const stateid4 *sid, uint8_t byte)
{
	int i;

	for (i = 0; i < 12; i++)
		if (sid->other[i] != byte)
			return false;
	return true;
}

/* The checks shared by every use of a real (non-special) stateid. */
static nfsstat4 stid_check(struct nfs4_server *srv, struct nfs4_client *clp, const stateid4 *sid,
			   uint32_t type_mask, struct nfs4_stid **out)
{
	struct nfs4_stid *st = stid_find(srv, sid->other, clp, type_mask);

	if (!st)
		return NFS4ERR_BAD_STATEID;
	if (st->client->expired || st->state == NFS4_STID_EXPIRED)
		return NFS4ERR_EXPIRED;
	/* A layout revoked at its recall's deadline is BAD_STATEID (RFC 8881
	 * §12.5.5.2), also on the data server; FREE_STATEID still finds it. */
	if (st->state == NFS4_STID_REVOKED)
		return st->type == NFS4_STID_DELEG ? NFS4ERR_DELEG_REVOKED
		       : st->type == NFS4_STID_LAYOUT ? NFS4ERR_BAD_STATEID : NFS4ERR_ADMIN_REVOKED;
	if (sid->seqid != 0 && sid->seqid != st->sid.seqid)
		return (int32_t)(sid->seqid - st->sid.seqid) < 0 ? NFS4ERR_OLD_STATEID
								 : NFS4ERR_BAD_STATEID;
	if (st->state == NFS4_STID_CLOSED)
		return NFS4ERR_BAD_STATEID;
	*out = st;
	return NFS4_OK;
}

nfsstat4 nfs4_stid_lookup(struct nfs4_compound *c, const stateid4 *sid, uint32_t type_mask,
			  bool allow_special, struct nfs4_stid **out)
{
	stateid4 s = *sid;

	*out = NULL;
	if (other_is(&s, 0) && s.seqid == 1) {
		/* the current stateid */
		if (!c->cur_stateid_valid)
			return NFS4ERR_BAD_STATEID;
		/* The substituted value goes through the same checks: after CLOSE
		 * it is the invalid special stateid, which is BAD_STATEID for any
		 * use (RFC 8881 §8.2.3), not anonymous access. */
		s = c->cur_stateid;
	}
	if ((other_is(&s, 0) && s.seqid == 0) || (other_is(&s, 0xff) && s.seqid == 0xffffffffu))
		return allow_special ? NFS4_OK : NFS4ERR_BAD_STATEID;
	if (other_is(&s, 0) || other_is(&s, 0xff))
		return NFS4ERR_BAD_STATEID;
	return stid_check(c->srv, c->client, &s, type_mask, out);
}

nfsstat4 nfs4_stid_lookup_client(struct nfs4_compound *c, const stateid4 *sid,
				 uint32_t type_mask, bool allow_special, struct nfs4_stid **out)
{
	nfsstat4 st = nfs4_stid_lookup(c, sid, type_mask, allow_special, out);

	/* Found, but its creator is still filling it in (under the state
	 * lock): for this client it does not exist yet. */
	if (st == NFS4_OK && *out && !(*out)->published) {
		*out = NULL;
		st = NFS4ERR_BAD_STATEID;
	}
	return st;
}

void nfs4_set_current_stateid(struct nfs4_compound *c, const stateid4 *sid)
{
	c->cur_stateid = *sid;
	c->cur_stateid_valid = true;
}

#define ALL_TYPES (NFS4_STID_OPEN | NFS4_STID_LOCK | NFS4_STID_DELEG | NFS4_STID_LAYOUT)

nfsstat4 nfs4_op_test_stateid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	TEST_STATEID4args *a = &args->u.optest_stateid;
	TEST_STATEID4res *r = &res->u.optest_stateid;
	nfsstat4 *codes;
	uint32_t i;

	codes = arena_alloc(c->arena, (a->ts_stateids.len + 1) * sizeof(*codes));
	if (!codes)
		return NFS4ERR_RESOURCE;
	nfs4_state_lock();
	for (i = 0; i < a->ts_stateids.len; i++) {
		const stateid4 *sid = &a->ts_stateids.val[i];
		struct nfs4_stid *st;

		/* Special stateids (current included) are not tested (§18.48.3). */
		if (other_is(sid, 0) || other_is(sid, 0xff))
			codes[i] = NFS4ERR_BAD_STATEID;
		else
			codes[i] = stid_check(c->srv, c->client, sid, ALL_TYPES, &st);
	}
	nfs4_state_unlock();
	r->u.tsr_resok4.tsr_status_codes.len = a->ts_stateids.len;
	r->u.tsr_resok4.tsr_status_codes.val = codes;
	return NFS4_OK;
}

nfsstat4 nfs4_op_free_stateid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	FREE_STATEID4args *a = &args->u.opfree_stateid;
	stateid4 sid = a->fsa_stateid;
	struct nfs4_stid *st;
	nfsstat4 status;

	if (other_is(&sid, 0) && sid.seqid == 1) {
		if (!c->cur_stateid_valid)
			return NFS4ERR_BAD_STATEID;
		sid = c->cur_stateid;
	}
	if (other_is(&sid, 0) || other_is(&sid, 0xff))
		return NFS4ERR_BAD_STATEID;
	nfs4_state_lock();
	st = c->client ? stid_find(c->srv, sid.other, c->client, UINT32_MAX) : NULL;
	if (!st) {
		status = NFS4ERR_BAD_STATEID;
	} else if (sid.seqid != 0 && sid.seqid != st->sid.seqid) {
		status = (int32_t)(sid.seqid - st->sid.seqid) < 0 ? NFS4ERR_OLD_STATEID
								  : NFS4ERR_BAD_STATEID;
	} else if (st->state == NFS4_STID_ACTIVE &&
		   (st->type != NFS4_STID_LOCK || nfs4_stid_holds_locks(st))) {
		/* An open, a delegation, or a lock stateid that still holds locks
		 * (RFC 8881 §18.38.3); a lock stateid with no locks left may go. */
		status = NFS4ERR_LOCKS_HELD;
	} else {
		nfs4_stid_destroy(st);
		status = NFS4_OK;
	}
	nfs4_state_unlock();
	return status;
}

/* Frees every stateid (server shutdown; clients already released theirs). */
void nfs4_stids_shutdown(struct nfs4_server *srv)
{
	struct nfs4_stid **b = srv->stids.buckets;
	unsigned i;

	for (i = 0; i < NFS4_STID_BUCKETS; i++)
		while (b[i])
			nfs4_stid_destroy(b[i]);
}
