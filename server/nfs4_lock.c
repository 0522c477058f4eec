/*
 * server/nfs4_lock.c: byte-range locking — LOCK, LOCKT, LOCKU (RFC 8881
 * §18.10-18.12, §9.3-9.5), lock owners and lock stateids.
 *
 * Job: one lock stateid per (lock owner, file), made from an open stateid
 * (open_to_lock_owner4) or named directly (exist_lock_owner4); the owner's
 * ranges live in the file's lock list (nfs4_range.c, POSIX semantics); a
 * conflict answers NFS4ERR_DENIED with the holder's range, type and owner.
 * Decisions:
 *  - Locks are kept in server memory and are advisory between NFS clients;
 *    they are not mirrored to the local file system (local processes do not
 *    see them). READ/WRITE do not check them (nfs4_io.c).
 *  - Blocking types (READW_LT/WRITEW_LT) are answered at once: NFS4ERR_DENIED
 *    and the client polls (RFC 8881 §9.6 allows it).
 *  - WRITE_LT needs an open with write access (NFS4ERR_OPENMODE); READ_LT is
 *    allowed with any open, as knfsd allows it whenever the file is readable.
 *  - A new lock owner naming an owner that already has a stateid on the file
 *    gets that stateid (v4.1 has no lock seqids to keep apart).
 * Locking: table work under nfs4_state_lock(); no file I/O here.
 * Calls: nfs4_state.h, nfs4_open.h, nfs4_file.h. Called by: the compound loop.
 */
#include <stdlib.h>
#include <string.h>

#include "server/nfs4_fh.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_open.h"
#include "server/nfs4_open_priv.h"
#include "server/nfs4_ops.h"


static uint64_t lockowner_hash(const struct nfs4_client *clp, const struct xdr_opaque *o)
{
	return nfs4_htable_hash(&clp->srv->lockowners, clp->clientid, o->val, o->len);
}

struct nfs4_lockowner *nfs4_lockowner_find(struct nfs4_client *clp, const struct xdr_opaque *o)
{
	uint64_t h = lockowner_hash(clp, o);
	struct nfs4_hnode *n;

	for (n = nfs4_htable_chain(&clp->srv->lockowners, h); n; n = n->next) {
		struct nfs4_lockowner *lo = container_of(n, struct nfs4_lockowner, hnode);

		if (n->hash == h && lo->client == clp && lo->len == o->len &&
		    memcmp(lo->owner, o->val, o->len) == 0)
			return lo;
	}
	return NULL;
}

/* The lock-owner, made when absent; NULL when out of memory or at the
 * client's Max_Owners_Per_Client. */
static struct nfs4_lockowner *lockowner_get(struct nfs4_client *clp, const struct xdr_opaque *o)
{
	struct nfs4_lockowner *lo = nfs4_lockowner_find(clp, o);

	if (lo || o->len > NFS4_OPAQUE_LIMIT)
		return lo;
	if (!nfs4_client_may_add_owner(clp))
		return NULL;
	if (!clp->srv->lockowners.buckets &&
	    nfs4_htable_init(&clp->srv->lockowners, NFS4_OWNER_BUCKETS) < 0)
		return NULL;
	lo = calloc(1, sizeof(*lo) + o->len);
	if (!lo)
		return NULL;
	lo->client = clp;
	lo->len = o->len;
	if (o->len)
		memcpy(lo->owner, o->val, o->len);
	list_init(&lo->states);
	list_add_tail(&lo->client_node, &clp->lockowners);
	nfs4_htable_add(&clp->srv->lockowners, &lo->hnode, lockowner_hash(clp, o));
	clp->nowners++;
	return lo;
}

static void lockowner_put_if_unused(struct nfs4_lockowner *lo)
{
	if (!list_empty(&lo->states))
		return;
	list_del(&lo->client_node);
	nfs4_htable_del(&lo->client->srv->lockowners, &lo->hnode);
	lo->client->nowners--;
	free(lo);
}

/* The first byte range of another live client's owner that conflicts; a
 * courtesy client's ranges are taken from it on the way (courteous server). */
static struct nfs4_lock_range *range_conflict_live(struct list_node *locks, const void *owner,
						   enum nfs4_range_type type, uint64_t start,
						   uint64_t end)
{
	struct nfs4_lock_range *r;

	while ((r = nfs4_range_conflict(locks, owner, type, start, end))) {
		const struct nfs4_lockowner *holder = r->owner;

		if (!nfs4_client_yield_courtesy(holder->client))
			return r;
	}
	return NULL;
}

static void lock_state_release(struct nfs4_stid *stid)
{
	struct nfs4_lock_state *ls = (struct nfs4_lock_state *)stid;

	if (ls->fp) {
		nfs4_range_clear_owner(&ls->fp->locks, ls->lo);
		nfs4_file_put(ls->fp);
	}
	if (ls->open)
		list_del(&ls->open_node);
	if (ls->lo) {
		list_del(&ls->owner_node);
		lockowner_put_if_unused(ls->lo);
	}
	free(ls);
}

static struct nfs4_lock_state *lock_state_find(struct nfs4_lockowner *lo, struct nfs4_file *fp)
{
	struct list_node *n;

	for (n = lo->states.next; n != &lo->states; n = n->next) {
		struct nfs4_lock_state *ls = container_of(n, struct nfs4_lock_state, owner_node);

		if (ls->fp == fp)
			return ls;
	}
	return NULL;
}

/* The lock stateid of (owner, open's file), made when absent (*created). */
static nfsstat4 lock_state_get(struct nfs4_compound *c, const struct xdr_opaque *owner,
			       struct nfs4_open_state *os, struct nfs4_lock_state **out,
			       bool *created)
{
	struct nfs4_lockowner *lo = lockowner_get(c->client, owner);
	struct nfs4_lock_state *ls;

	*created = false;
	if (!lo)
		return NFS4ERR_DELAY;
	ls = lock_state_find(lo, os->fp);
	if (ls) {
		*out = ls;
		return NFS4_OK;
	}
	ls = (struct nfs4_lock_state *)nfs4_stid_new(c->client, NFS4_STID_LOCK, sizeof(*ls),
						     lock_state_release);
	if (!ls) {
		lockowner_put_if_unused(lo);
		return NFS4ERR_DELAY;
	}
	ls->lo = lo;
	list_add_tail(&ls->owner_node, &lo->states);
	ls->fp = os->fp;
	ls->fp->refs++;
	ls->open = os;
	list_add_tail(&ls->open_node, &os->locks);
	nfs4_stid_publish(&ls->stid);
	*out = ls;
	*created = true;
	return NFS4_OK;
}

static nfsstat4 lock_type(nfs_lock_type4 t, enum nfs4_range_type *out)
{
	switch (t) {
	case READ_LT:
	case READW_LT:
		*out = NFS4_RANGE_READ;
		return NFS4_OK;
	case WRITE_LT:
	case WRITEW_LT:
		*out = NFS4_RANGE_WRITE;
		return NFS4_OK;
	default:
		return NFS4ERR_INVAL;
	}
}

/* LOCK4denied for the conflicting range r (owner bytes copied to the arena). */
static void fill_denied(struct nfs4_compound *c, const struct nfs4_lock_range *r, LOCK4denied *d)
{
	const struct nfs4_lockowner *holder = r->owner;

	d->offset = r->start;
	d->length = nfs4_range_length(r->start, r->end);
	d->locktype = r->type == NFS4_RANGE_WRITE ? WRITE_LT : READ_LT;
	d->owner.clientid = holder->client->clientid;
	d->owner.owner.len = 0;
	d->owner.owner.val = NULL;
	if (holder->len) {
		d->owner.owner.val = arena_memdup(c->arena, holder->owner, holder->len);
		if (d->owner.owner.val)
			d->owner.owner.len = holder->len;
	}
}

/* The lock stateid sid, for the current file. */
static nfsstat4 lock_state_lookup(struct nfs4_compound *c, const stateid4 *sid,
				  struct nfs4_lock_state **out)
{
	struct nfs4_stid *stid = NULL;
	nfsstat4 st;

	st = nfs4_stid_lookup(c, sid, NFS4_STID_LOCK, false, &stid);
	if (st != NFS4_OK)
		return st;
	if (!stid || stid->type != NFS4_STID_LOCK)
		return NFS4ERR_BAD_STATEID;
	*out = (struct nfs4_lock_state *)stid;
	if ((*out)->fp->obj != c->cur.obj || !(*out)->open)
		return NFS4ERR_BAD_STATEID;
	return NFS4_OK;
}

/* The argument checks LOCK, LOCKT and LOCKU share, in this order: a regular
 * current file, a known lock type, a range that fits in 64 bits. */
static nfsstat4 lock_check_args(struct nfs4_compound *c, nfs_lock_type4 locktype,
				offset4 offset, length4 length, enum nfs4_range_type *type,
				uint64_t *start, uint64_t *end)
{
	nfsstat4 st = nfs4_fh_check_reg(&c->cur);

	if (st != NFS4_OK)
		return st;
	st = lock_type(locktype, type);
	if (st != NFS4_OK)
		return st;
	if (!nfs4_range_from_wire(offset, length, start, end))
		return NFS4ERR_INVAL;
	return NFS4_OK;
}

/* LOCK and LOCKT also need a session's client, past its grace rules. */
static nfsstat4 lock_check_client(struct nfs4_compound *c, bool reclaim)
{
	if (!c->client)
		return NFS4ERR_OP_NOT_IN_SESSION;
	return nfs4_grace_check_unlocked(c->srv, c->client, reclaim);
}

nfsstat4 nfs4_op_lock(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LOCK4args *a = &args->u.oplock;
	LOCK4res *r = &res->u.oplock;
	struct nfs4_lock_state *ls = NULL;
	struct nfs4_lock_range *conflict;
	enum nfs4_range_type type;
	uint64_t start, end;
	bool created = false;
	nfsstat4 st;

	st = lock_check_args(c, a->locktype, a->offset, a->length, &type, &start, &end);
	if (st == NFS4_OK)
		st = lock_check_client(c, a->reclaim);
	if (st != NFS4_OK)
		return st;

	nfs4_state_lock();
	if (a->locker.new_lock_owner) {
		const open_to_lock_owner4 *ol = &a->locker.u.open_owner;
		struct nfs4_stid *stid = NULL;
		struct nfs4_open_state *os;

		st = nfs4_stid_lookup(c, &ol->open_stateid, NFS4_STID_OPEN, false, &stid);
		if (st == NFS4_OK && (!stid || stid->type != NFS4_STID_OPEN))
			st = NFS4ERR_BAD_STATEID;
		if (st != NFS4_OK)
			goto out;
		os = (struct nfs4_open_state *)stid;
		if (os->fp->obj != c->cur.obj) {
			st = NFS4ERR_BAD_STATEID;
			goto out;
		}
		st = lock_state_get(c, &ol->lock_owner.owner, os, &ls, &created);
	} else {
		st = lock_state_lookup(c, &a->locker.u.lock_owner.lock_stateid, &ls);
	}
	if (st != NFS4_OK)
		goto out;
	if (type == NFS4_RANGE_WRITE && !(ls->open->share.access & NFS4_SHARE_WRITE)) {
		st = NFS4ERR_OPENMODE;
		goto out;
	}
	conflict = range_conflict_live(&ls->fp->locks, ls->lo, type, start, end);
	if (conflict) {
		fill_denied(c, conflict, &r->u.denied);
		st = NFS4ERR_DENIED;
		goto out;
	}
	if (nfs4_range_set(&ls->fp->locks, ls->lo, type, start, end) < 0) {
		st = NFS4ERR_DELAY;
		goto out;
	}
	if (!created)
		nfs4_stid_bump(&ls->stid);
	r->u.resok4.lock_stateid = ls->stid.sid;
out:
	/* A stateid the client never learned of does not outlive the failure. */
	if (st != NFS4_OK && created)
		nfs4_stid_destroy(&ls->stid);
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_lockt(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LOCKT4args *a = &args->u.oplockt;
	LOCKT4res *r = &res->u.oplockt;
	struct nfs4_lockowner *lo;
	struct nfs4_lock_range *conflict;
	struct nfs4_file *fp;
	enum nfs4_range_type type;
	uint64_t start, end;
	nfsstat4 st;

	st = lock_check_args(c, a->locktype, a->offset, a->length, &type, &start, &end);
	if (st == NFS4_OK)
		st = lock_check_client(c, false);
	if (st != NFS4_OK)
		return st;

	nfs4_state_lock();
	/* LOCKT creates nothing: an unknown owner simply owns no locks. */
	lo = nfs4_lockowner_find(c->client, &a->owner.owner);
	fp = nfs4_file_find(&c->srv->files, c->cur.obj);
	if (fp) {
		conflict = range_conflict_live(&fp->locks, lo, type, start, end);
		if (conflict) {
			fill_denied(c, conflict, &r->u.denied);
			st = NFS4ERR_DENIED;
		}
		nfs4_file_put(fp);
	}
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_locku(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LOCKU4args *a = &args->u.oplocku;
	LOCKU4res *r = &res->u.oplocku;
	struct nfs4_lock_state *ls = NULL;
	enum nfs4_range_type type;
	uint64_t start, end;
	nfsstat4 st;

	st = lock_check_args(c, a->locktype, a->offset, a->length, &type, &start, &end);
	if (st != NFS4_OK)
		return st;

	nfs4_state_lock();
	st = lock_state_lookup(c, &a->lock_stateid, &ls);
	if (st != NFS4_OK)
		goto out;
	if (nfs4_range_clear(&ls->fp->locks, ls->lo, start, end) < 0) {
		st = NFS4ERR_DELAY;
		goto out;
	}
	nfs4_stid_bump(&ls->stid);
	r->u.lock_stateid = ls->stid.sid;
out:
	nfs4_state_unlock();
	return st;
}

void nfs4_lock_state_expire(struct nfs4_stid *stid)
{
	struct nfs4_lock_state *ls = (struct nfs4_lock_state *)stid;

	if (ls->fp)
		nfs4_range_clear_owner(&ls->fp->locks, ls->lo);
}

void nfs4_lock_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res)
{
	nfs4_set_current_stateid(c, &res->u.oplock.u.resok4.lock_stateid);
}

void nfs4_locku_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res)
{
	nfs4_set_current_stateid(c, &res->u.oplocku.u.lock_stateid);
}
