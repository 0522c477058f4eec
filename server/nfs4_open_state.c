/*
 * server/nfs4_open_state.c: open owners and open stateids; OPEN_DOWNGRADE,
 * CLOSE (RFC 8881 §18.18, §18.2) and the release of a client's state.
 *
 * Job: the records behind an open: find or make the owner, find the open of
 * an (owner, file), open or upgrade it against the file's share reservations,
 * downgrade, close. OPEN's name resolution and creation live in nfs4_open.c.
 * Locking: everything here runs under nfs4_state_lock().
 * Calls: nfs4_state.h (stateids), nfs4_file.h (shares), nfs4_lock.c (lock
 * stateids of an open). Called by: nfs4_open.c, nfs4_lock.c, the compound loop.
 */
#include <stdlib.h>
#include <string.h>

#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_open.h"
#include "server/nfs4_open_priv.h"
#include "server/nfs4_ops.h"

/* Open-owners of every client are in srv->openowners, by (clientid, owner bytes). */
static uint64_t openowner_hash(const struct nfs4_client *clp, const struct xdr_opaque *o)
{
	return nfs4_htable_hash(&clp->srv->openowners, clp->clientid, o->val, o->len);
}

/*
 * Does (access, deny) conflict with another open on fp (self excepted)? A
 * conflicting open of a courtesy client is taken from it first (knfsd's
 * courteous server): only a live client's open is a conflict.
 */
static bool share_conflict_live(struct nfs4_file *fp, uint32_t access, uint32_t deny,
				const struct nfs4_share *self)
{
	struct nfs4_share *sh;

	while ((sh = nfs4_share_conflict(fp, access, deny, self))) {
		struct nfs4_open_state *holder = container_of(sh, struct nfs4_open_state, share);

		if (!nfs4_client_yield_courtesy(holder->stid.client))
			return true;
	}
	return false;
}

static struct nfs4_openowner *openowner_find(struct nfs4_client *clp, const struct xdr_opaque *o)
{
	uint64_t h = openowner_hash(clp, o);
	struct nfs4_hnode *n;

	for (n = nfs4_htable_chain(&clp->srv->openowners, h); n; n = n->next) {
		struct nfs4_openowner *oo = container_of(n, struct nfs4_openowner, hnode);

		if (n->hash == h && oo->client == clp && oo->len == o->len &&
		    memcmp(oo->owner, o->val, o->len) == 0)
			return oo;
	}
	return NULL;
}

/* The open-owner, made when absent; NULL when out of memory or when the
 * client holds Max_Owners_Per_Client owners already. */
static struct nfs4_openowner *openowner_get(struct nfs4_client *clp, const struct xdr_opaque *o)
{
	struct nfs4_openowner *oo = openowner_find(clp, o);

	if (oo || o->len > NFS4_OPAQUE_LIMIT)
		return oo;
	if (!nfs4_client_may_add_owner(clp))
		return NULL;
	if (!clp->srv->openowners.buckets &&
	    nfs4_htable_init(&clp->srv->openowners, NFS4_OWNER_BUCKETS) < 0)
		return NULL;
	oo = calloc(1, sizeof(*oo) + o->len);
	if (!oo)
		return NULL;
	oo->client = clp;
	oo->len = o->len;
	if (o->len)
		memcpy(oo->owner, o->val, o->len);
	list_init(&oo->opens);
	list_add_tail(&oo->client_node, &clp->openowners);
	nfs4_htable_add(&clp->srv->openowners, &oo->hnode, openowner_hash(clp, o));
	clp->nowners++;
	return oo;
}

/* An owner with no state left goes at once (RFC 8881 §9.1.4 lets a server
 * forget it; NFSv4.1 owners carry no seqid that would need it later). */
static void openowner_put_if_unused(struct nfs4_openowner *oo)
{
	if (!list_empty(&oo->opens))
		return;
	list_del(&oo->client_node);
	nfs4_htable_del(&oo->client->srv->openowners, &oo->hnode);
	oo->client->nowners--;
	free(oo);
}

/* The stateid's release: leaves the file's shares, detaches its lock
 * stateids (they are destroyed by CLOSE, or on their own by client teardown,
 * which walks the client's stateid list and must not see others vanish). */
static void open_state_release(struct nfs4_stid *stid)
{
	struct nfs4_open_state *os = (struct nfs4_open_state *)stid;
	struct list_node *n, *tmp;

	/* Its lock stateids are still found by the I/O check, which reads
	 * ls->open under the client's lock. */
	pthread_mutex_lock(&stid->client->lock);
	list_for_each_safe(n, tmp, &os->locks) {
		struct nfs4_lock_state *ls = container_of(n, struct nfs4_lock_state, open_node);

		list_del(&ls->open_node);
		ls->open = NULL;
	}
	pthread_mutex_unlock(&stid->client->lock);
	if (os->fp) {
		nfs4_share_del(&os->share);
		nfs4_file_put(os->fp);
	}
	if (os->oo) {
		list_del(&os->owner_node);
		openowner_put_if_unused(os->oo);
	}
	free(os);
}

static struct nfs4_open_state *open_state_find(struct nfs4_openowner *oo, struct nfs4_file *fp)
{
	struct list_node *n;

	for (n = oo->opens.next; n != &oo->opens; n = n->next) {
		struct nfs4_open_state *os = container_of(n, struct nfs4_open_state, owner_node);

		if (os->fp == fp)
			return os;
	}
	return NULL;
}

nfsstat4 nfs4_open_state_get(struct nfs4_compound *c, const struct xdr_opaque *owner,
			     struct pmem_obj *obj, uint32_t access, uint32_t deny,
			     struct nfs4_open_undo *undo, struct nfs4_open_state **out)
{
	struct nfs4_openowner *oo = NULL;
	struct nfs4_file *fp = NULL;
	struct nfs4_open_state *os = NULL;
	uint32_t new_access, new_deny;
	nfsstat4 st = NFS4_OK;

	memset(undo, 0, sizeof(*undo));
	oo = openowner_get(c->client, owner);
	fp = nfs4_file_get(&c->srv->files, obj);
	if (!oo || !fp) {
		st = NFS4ERR_DELAY;
		goto out;
	}
	os = open_state_find(oo, fp);
	if (os) {
		/* Upgrade (RFC 8881 §18.16.3): the union of old and new, same
		 * "other", seqid bumped. Never in conflict with itself. */
		new_access = os->share.access | access;
		new_deny = os->share.deny | deny;
		if (share_conflict_live(fp, new_access, new_deny, &os->share)) {
			st = NFS4ERR_SHARE_DENIED;
			goto out;
		}
		undo->os = os;
		undo->access = os->share.access;
		undo->deny = os->share.deny;
		undo->access_bmap = os->access_bmap;
		undo->deny_bmap = os->deny_bmap;
		undo->seqid = os->stid.sid.seqid;
		/* access and seqid change together for the I/O check */
		pthread_mutex_lock(&c->client->lock);
		os->share.access = new_access;
		os->share.deny = new_deny;
		nfs4_stid_bump_locked(&os->stid);
		pthread_mutex_unlock(&c->client->lock);
		os->access_bmap |= 1u << access;
		os->deny_bmap |= 1u << deny;
		undo->sid = os->stid.sid;
		goto out;
	}
	if (share_conflict_live(fp, access, deny, NULL)) {
		st = NFS4ERR_SHARE_DENIED;
		goto out;
	}
	os = (struct nfs4_open_state *)nfs4_stid_new(c->client, NFS4_STID_OPEN, sizeof(*os),
						     open_state_release);
	if (!os) {
		st = NFS4ERR_DELAY;
		goto out;
	}
	undo->os = os;
	undo->created = true;
	undo->sid = os->stid.sid;
	os->oo = oo;
	list_add_tail(&os->owner_node, &oo->opens);
	list_init(&os->locks);
	os->fp = fp;
	fp = NULL;   /* the open keeps this reference */
	nfs4_share_add(os->fp, &os->share, access, deny);
	os->access_bmap = 1u << access;
	os->deny_bmap = 1u << deny;
	nfs4_stid_publish(&os->stid);
out:
	if (st != NFS4_OK)
		os = NULL;
	*out = os;
	nfs4_file_put(fp);
	if (oo)
		openowner_put_if_unused(oo);
	return st;
}

void nfs4_open_state_undo(struct nfs4_compound *c, struct nfs4_open_undo *undo)
{
	stateid4 any = undo->sid;
	struct nfs4_stid *stid = NULL;
	struct nfs4_open_state *os;

	/* The state lock was dropped since nfs4_open_state_get: find the open
	 * again rather than trust the pointer (a CLOSE may have raced). */
	any.seqid = 0;
	if (!undo->os || nfs4_stid_lookup(c, &any, NFS4_STID_OPEN, false, &stid) != NFS4_OK ||
	    stid != &undo->os->stid)
		return;
	os = undo->os;
	if (undo->created) {
		nfs4_stid_destroy(&os->stid);
		return;
	}
	pthread_mutex_lock(&c->client->lock);   /* read by the I/O check */
	os->share.access = undo->access;
	os->share.deny = undo->deny;
	os->stid.sid.seqid = undo->seqid;
	pthread_mutex_unlock(&c->client->lock);
	os->access_bmap = undo->access_bmap;
	os->deny_bmap = undo->deny_bmap;
}

uint32_t nfs4_stid_share_access(const struct nfs4_stid *stid)
{
	if (stid->type == NFS4_STID_OPEN)
		return ((const struct nfs4_open_state *)stid)->share.access;
	if (stid->type == NFS4_STID_LOCK) {
		const struct nfs4_lock_state *ls = (const struct nfs4_lock_state *)stid;

		return ls->open ? ls->open->share.access : 0;
	}
	if (stid->type == NFS4_STID_LAYOUT)
		return nfs4_layout_access(stid);
	return nfs4_deleg_share_access(stid);
}

struct nfs4_file *nfs4_stid_file(const struct nfs4_stid *stid)
{
	if (stid->type == NFS4_STID_OPEN)
		return ((const struct nfs4_open_state *)stid)->fp;
	if (stid->type == NFS4_STID_LOCK)
		return ((const struct nfs4_lock_state *)stid)->fp;
	if (stid->type == NFS4_STID_LAYOUT)
		return nfs4_layout_file(stid);
	return nfs4_deleg_file(stid);
}

uint32_t nfs4_file_client_open_access(const struct nfs4_file *fp, const struct nfs4_client *clp)
{
	const struct list_node *pos;
	uint32_t access = 0;

	list_for_each(pos, &fp->shares) {
		const struct nfs4_share *sh = container_of(pos, struct nfs4_share, node);
		const struct nfs4_open_state *o = container_of(sh, struct nfs4_open_state, share);

		if (o->stid.client == clp)
			access |= sh->access;
	}
	return access;
}

bool nfs4_stid_holds_locks(const struct nfs4_stid *stid)
{
	const struct nfs4_open_state *os;
	const struct list_node *n;

	if (stid->type == NFS4_STID_LOCK) {
		const struct nfs4_lock_state *ls = (const struct nfs4_lock_state *)stid;

		return nfs4_range_owner_holds(&ls->fp->locks, ls->lo);
	}
	if (stid->type != NFS4_STID_OPEN)
		return false;
	os = (const struct nfs4_open_state *)stid;
	for (n = os->locks.next; n != &os->locks; n = n->next) {
		const struct nfs4_lock_state *ls = container_of(n, struct nfs4_lock_state, open_node);

		if (nfs4_range_owner_holds(&ls->fp->locks, ls->lo))
			return true;
	}
	return false;
}

void nfs4_open_state_close(struct nfs4_open_state *os)
{
	struct list_node *n, *tmp;

	list_for_each_safe(n, tmp, &os->locks)
		nfs4_stid_destroy(&container_of(n, struct nfs4_lock_state, open_node)->stid);
	nfs4_stid_destroy(&os->stid);
}

/* The open stateid named by sid, for the current file. */
static nfsstat4 open_state_lookup(struct nfs4_compound *c, const stateid4 *sid,
				  struct nfs4_open_state **out)
{
	struct nfs4_stid *stid = NULL;
	nfsstat4 st;

	st = nfs4_stid_lookup(c, sid, NFS4_STID_OPEN, false, &stid);
	if (st != NFS4_OK)
		return st;
	if (!stid || stid->type != NFS4_STID_OPEN)
		return NFS4ERR_BAD_STATEID;
	*out = (struct nfs4_open_state *)stid;
	/* A stateid of another file (RFC 8881 §8.2.4). */
	if ((*out)->fp->obj != c->cur.obj)
		return NFS4ERR_BAD_STATEID;
	return NFS4_OK;
}

nfsstat4 nfs4_op_open_downgrade(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	OPEN_DOWNGRADE4args *a = &args->u.opopen_downgrade;
	OPEN_DOWNGRADE4res *r = &res->u.opopen_downgrade;
	struct nfs4_open_state *os = NULL;
	/* The WANT bits mean nothing in a downgrade (RFC 8881 §18.18.3). */
	uint32_t access = a->share_access & NFS4_OPEN_ACCESS_MASK;
	uint32_t deny = a->share_deny;
	nfsstat4 st;
	unsigned v;

	st = nfs4_fh_check_reg(&c->cur);
	if (st != NFS4_OK)
		return st;
	if (access == 0 || access > NFS4_SHARE_BOTH || deny > NFS4_SHARE_BOTH)
		return NFS4ERR_INVAL;
	nfs4_state_lock();
	st = open_state_lookup(c, &a->open_stateid, &os);
	if (st != NFS4_OK)
		goto out;
	/* Only to values this stateid was opened with (§18.18.3); knfsd's rule. */
	if (!(os->access_bmap & (1u << access)) || !(os->deny_bmap & (1u << deny))) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	/* Forget the opens that the new mode no longer covers. */
	for (v = 0; v <= NFS4_SHARE_BOTH; v++) {
		if (v & ~access)
			os->access_bmap &= ~(1u << v);
		if (v & ~deny)
			os->deny_bmap &= ~(1u << v);
	}
	/* access and seqid change together for the I/O check */
	pthread_mutex_lock(&c->client->lock);
	os->share.access = access;
	os->share.deny = deny;
	nfs4_stid_bump_locked(&os->stid);
	pthread_mutex_unlock(&c->client->lock);
	r->u.resok4.open_stateid = os->stid.sid;
	nfs4_layout_opens_changed(os->fp, c->client);
out:
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_close(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	CLOSE4args *a = &args->u.opclose;
	CLOSE4res *r = &res->u.opclose;
	struct nfs4_open_state *os = NULL;
	struct nfs4_file *fp;
	nfsstat4 st;

	nfs4_state_lock();
	st = open_state_lookup(c, &a->open_stateid, &os);
	if (st != NFS4_OK)
		goto out;
	if (nfs4_stid_holds_locks(&os->stid)) {
		st = NFS4ERR_LOCKS_HELD;
		goto out;
	}
	fp = os->fp;
	fp->refs++;   /* past the open's end, for its layouts */
	nfs4_open_state_close(os);
	nfs4_layout_opens_changed(fp, c->client);
	nfs4_file_put(fp);
	/* RFC 8881 §18.2.4: the returned stateid is useless; a 4.1 server SHOULD
	 * return the invalid special stateid (other 0, seqid all ones). */
	memset(&r->u.open_stateid, 0, sizeof(r->u.open_stateid));
	r->u.open_stateid.seqid = UINT32_MAX;
out:
	nfs4_state_unlock();
	return st;
}

void nfs4_client_release_state(struct nfs4_client *clp)
{
	struct list_node *n, *tmp, *m, *mtmp;

	/* Lock stateids first: their ranges go, then the opens they hang on. */
	list_for_each_safe(n, tmp, &clp->lockowners) {
		struct nfs4_lockowner *lo = container_of(n, struct nfs4_lockowner, client_node);

		/* The last state frees lo, so fetch the next owner first (done by
		 * list_for_each_safe) and never touch lo after its list empties. */
		list_for_each_safe(m, mtmp, &lo->states) {
			bool last = mtmp == &lo->states;

			nfs4_stid_destroy(&container_of(m, struct nfs4_lock_state, owner_node)->stid);
			if (last)
				break;
		}
	}
	list_for_each_safe(n, tmp, &clp->openowners) {
		struct nfs4_openowner *oo = container_of(n, struct nfs4_openowner, client_node);

		list_for_each_safe(m, mtmp, &oo->opens) {
			bool last = mtmp == &oo->opens;

			nfs4_stid_destroy(&container_of(m, struct nfs4_open_state, owner_node)->stid);
			if (last)
				break;
		}
	}
}

/* The open's reservation leaves the file; the record stays (EXPIRED). */
static void open_state_expire(struct nfs4_open_state *os)
{
	pthread_mutex_lock(&os->stid.client->lock);   /* read by the I/O check */
	nfs4_share_del(&os->share);
	pthread_mutex_unlock(&os->stid.client->lock);
}

void nfs4_stid_expire(struct nfs4_stid *stid)
{
	struct nfs4_client *clp = stid->client;

	if (stid->state != NFS4_STID_ACTIVE)
		return;
	/* EXPIRED before its resources go: the I/O check, which reads under
	 * the client's lock only, answers NFS4ERR_EXPIRED from here on rather
	 * than see an open without access or a delegation without a file; and
	 * the client's next SEQUENCE says so at once. */
	pthread_mutex_lock(&clp->lock);
	stid->state = NFS4_STID_EXPIRED;
	clp->nexpired_stids++;
	clp->seq4_flags |= SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED;
	pthread_mutex_unlock(&clp->lock);
	if (stid->type == NFS4_STID_OPEN)
		open_state_expire((struct nfs4_open_state *)stid);
	else if (stid->type == NFS4_STID_LOCK)
		nfs4_lock_state_expire(stid);
	else if (stid->type == NFS4_STID_DELEG)
		nfs4_deleg_expire(stid);
	else if (stid->type == NFS4_STID_COPY)
		nfs4_copy_expire(stid);
}

void nfs4_open_downgrade_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res)
{
	nfs4_set_current_stateid(c, &res->u.opopen_downgrade.u.resok4.open_stateid);
}

void nfs4_close_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res)
{
	nfs4_set_current_stateid(c, &res->u.opclose.u.open_stateid);
}
