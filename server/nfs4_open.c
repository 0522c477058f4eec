/*
 * server/nfs4_open.c: the OPEN operation (RFC 8881 §18.16).
 *
 * Job: resolve the claim to a file (CLAIM_NULL: a name in the current
 * directory, created per createmode; CLAIM_FH and CLAIM_PREVIOUS: the current
 * fh), check its type and the caller's permission, take or upgrade the open
 * owner's open stateid against the file's share reservations
 * (nfs4_open_state.c), truncate when asked, and answer with the stateid, the
 * directory's change info, the attributes set at creation and "no delegation".
 * Decisions:
 *  - EXCLUSIVE4 and EXCLUSIVE4_1 keep the verifier in atime/mtime seconds, as
 *    knfsd does; attrset then names time_access and time_modify (§18.16.4).
 *  - A file's owner may open it whatever its mode (knfsd's owner override: a
 *    file created 0444 by open(O_CREAT|O_WRONLY) stays writable through that
 *    open); READ access is granted with execute permission alone (knfsd).
 *  - Non-regular files: directory NFS4ERR_ISDIR, anything else
 *    NFS4ERR_SYMLINK (RFC 8881 §18.16.3 text).
 *  - Delegations: other clients' conflicting ones are recalled first
 *    (NFS4ERR_DELAY meanwhile), then nfs4_deleg_offer decides; a
 *    CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH open, made under the client's
 *    own delegation while it returns it, gets no new one.
 * Calls: nfs4_fh.h, nfs4_attr.h, nfs4_open_state.c, the backend object ops.
 * Called by: the compound loop (nfs4_ops.c table).
 */
#include <errno.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_open.h"
#include "server/nfs4_open_priv.h"
#include "server/nfs4_ops.h"

#define WANT_MASK OPEN4_SHARE_ACCESS_WANT_DELEG_MASK
/* RFC 9754's DELEG_TIMESTAMPS and OPEN_XOR_DELEGATION are always accepted;
 * they take effect when the administrator turned them on (nfs4_deleg.h),
 * else the client gets an ordinary delegation and open stateid. */
#define WANT_FLAGS (OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | \
		    OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED | \
		    OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS | \
		    OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION)
#define TIME_SET_MASK (PMEM_SET_ATIME | PMEM_SET_ATIME_NOW | PMEM_SET_MTIME | PMEM_SET_MTIME_NOW)

/* What resolving the claim produced. */
struct open_target {
	struct nfs4_fh fh;          /* the file */
	bool created;               /* by this OPEN (or an exclusive retry of it) */
	bool truncate;              /* UNCHECKED4 with size 0 on an existing file */
	change_info4 cinfo;
	bitmap4 attrset;
};

static nfsstat4 check_share_args(const OPEN4args *a)
{
	uint32_t access = a->share_access & NFS4_OPEN_ACCESS_MASK;
	uint32_t want = a->share_access & WANT_MASK;

	if (access == 0 || access > NFS4_SHARE_BOTH)
		return NFS4ERR_INVAL;
	if (a->share_access & ~(NFS4_OPEN_ACCESS_MASK | WANT_MASK | WANT_FLAGS))
		return NFS4ERR_INVAL;
	if (want > OPEN4_SHARE_ACCESS_WANT_CANCEL)
		return NFS4ERR_INVAL;
	if (a->share_deny > NFS4_SHARE_BOTH)
		return NFS4ERR_INVAL;
	return NFS4_OK;
}

static void verf_words(const verifier4 v, uint32_t *w0, uint32_t *w1)
{
	memcpy(w0, v, 4);
	memcpy(w1, v + 4, 4);
}

/* attrset = set plus time_access and time_modify (where the verifier went). */
static void attrset_with_times(struct nfs4_compound *c, const bitmap4 *set, bitmap4 *out)
{
	uint32_t len = set->len > 2 ? set->len : 2;
	uint32_t *w = arena_alloc(c->arena, len * sizeof(uint32_t));

	if (!w) {
		*out = *set;
		return;
	}
	if (set->len)
		memcpy(w, set->val, set->len * sizeof(uint32_t));
	w[FATTR4_TIME_ACCESS / 32] |= 1u << (FATTR4_TIME_ACCESS % 32);
	w[FATTR4_TIME_MODIFY / 32] |= 1u << (FATTR4_TIME_MODIFY % 32);
	out->len = len;
	out->val = w;
}

/* EXCLUSIVE4 / EXCLUSIVE4_1 in dir: create with the verifier, or accept a
 * retry whose verifier matches the existing file's. */
static int create_exclusive(struct nfs4_compound *c, struct pmem_obj *dir, const char *name,
			    const verifier4 verf, struct pmem_setattr *sa,
			    struct pmem_obj **obj)
{
	struct pmem_attr at;
	uint32_t w0, w1;
	int ret;

	verf_words(verf, &w0, &w1);
	ret = dir->ops->create_file(dir, &c->cred, name, sa->valid & PMEM_SET_MODE ? sa->mode : 0,
				    true, obj);
	if (ret == -EEXIST) {
		ret = dir->ops->lookup(dir, &c->cred, name, obj);
		if (ret < 0)
			return ret;
		ret = (*obj)->ops->getattr(*obj, &at);
		if (ret == 0 && (at.type != PMEM_TYPE_REG || at.atime.sec != (int64_t)w0 ||
				 at.mtime.sec != (int64_t)w1))
			ret = -EEXIST;
		if (ret < 0) {
			pmem_obj_put(*obj);
			*obj = NULL;
		}
		return ret;
	}
	if (ret < 0)
		return ret;
	sa->valid &= ~PMEM_SET_MODE;
	sa->valid |= PMEM_SET_ATIME | PMEM_SET_MTIME;
	sa->atime = (struct pmem_time){ .sec = w0 };
	sa->mtime = (struct pmem_time){ .sec = w1 };
	ret = (*obj)->ops->setattr(*obj, &c->cred, sa);
	if (ret < 0) {
		pmem_obj_put(*obj);
		*obj = NULL;
	}
	return ret;
}

/* UNCHECKED4 / GUARDED4 in dir. */
static int create_checked(struct nfs4_compound *c, struct pmem_obj *dir, const char *name,
			  bool guarded, struct pmem_setattr *sa, struct pmem_obj **obj,
			  bool *created)
{
	int ret, tries;

	for (tries = 0; tries < 2; tries++) {
		ret = dir->ops->lookup(dir, &c->cred, name, obj);
		if (ret == 0) {
			if (guarded) {
				pmem_obj_put(*obj);
				*obj = NULL;
				return -EEXIST;
			}
			return 0;
		}
		if (ret != -ENOENT)
			return ret;
		ret = dir->ops->create_file(dir, &c->cred, name,
					    sa->valid & PMEM_SET_MODE ? sa->mode : 0, true, obj);
		if (ret == -EEXIST)
			continue;   /* raced with another creator: open what is there */
		if (ret < 0)
			return ret;
		*created = true;
		sa->valid &= ~PMEM_SET_MODE;
		if (sa->valid) {
			ret = (*obj)->ops->setattr(*obj, &c->cred, sa);
			if (ret < 0) {
				pmem_obj_put(*obj);
				*obj = NULL;
			}
		}
		return ret;
	}
	return guarded ? -EEXIST : ret;
}

/* The createattrs of an UNCHECKED4/GUARDED4 create, also for claims by fh
 * (only their size 0 matters there). */
static nfsstat4 parse_createattrs(struct nfs4_compound *c, const OPEN4args *a,
				  struct pmem_setattr *sa, bitmap4 *set)
{
	const createhow4 *how = &a->openhow.u.how;

	memset(sa, 0, sizeof(*sa));
	memset(set, 0, sizeof(*set));
	if (a->openhow.opentype != OPEN4_CREATE)
		return NFS4_OK;
	switch (how->mode) {
	case UNCHECKED4:
	case GUARDED4:
		return nfs4_fattr_to_setattr(c, &how->u.createattrs, false, sa, set);
	case EXCLUSIVE4_1:
		return nfs4_fattr_to_setattr(c, &how->u.ch_createboth.cva_attrs, false, sa, set);
	default:
		return NFS4_OK;
	}
}

/* CLAIM_NULL and CLAIM_DELEGATE_CUR: file in the current directory,
 * created per openhow. */
static nfsstat4 open_by_name(struct nfs4_compound *c, const OPEN4args *a,
			     const component4 *file, struct open_target *t)
{
	const createhow4 *how = &a->openhow.u.how;
	bool create = a->openhow.opentype == OPEN4_CREATE;
	struct pmem_obj *dir = c->cur.obj, *obj = NULL;
	struct pmem_setattr sa;
	bitmap4 set;
	char *name = NULL;
	nfsstat4 st;
	int ret;

	st = nfs4_fh_check_dir(&c->cur, false);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, file, &name);
	if (st != NFS4_OK)
		return st;
	if (c->cur.pseudo) {
		/* Only directories live in the pseudo fs. */
		if (create)
			return NFS4ERR_ROFS;
		return nfs4_pseudo_child(c->cur.pseudo, name, strlen(name)) ? NFS4ERR_ISDIR
									  : NFS4ERR_NOENT;
	}
	if (create) {
		st = nfs4_fh_check_writable(c, &c->cur);
		if (st != NFS4_OK)
			return st;
		st = parse_createattrs(c, a, &sa, &set);
		if (st != NFS4_OK)
			return st;
	}
	t->cinfo.atomic = false;
	t->cinfo.before = nfs4_fh_change(&c->cur);
	if (!create) {
		ret = dir->ops->lookup(dir, &c->cred, name, &obj);
	} else if (how->mode == UNCHECKED4 || how->mode == GUARDED4) {
		ret = create_checked(c, dir, name, how->mode == GUARDED4, &sa, &obj, &t->created);
		if (ret == 0 && t->created)
			t->attrset = set;
		else if (ret == 0)
			t->truncate = (sa.valid & PMEM_SET_SIZE) && sa.size == 0;
	} else {
		const uint8_t *verf;

		if (how->mode == EXCLUSIVE4_1) {
			verf = how->u.ch_createboth.cva_verf;
			/* The times hold the verifier (suppattr_exclcreat leaves them out). */
			if (sa.valid & TIME_SET_MASK)
				return NFS4ERR_INVAL;
		} else if (how->mode == EXCLUSIVE4) {
			verf = how->u.createverf;
		} else {
			return NFS4ERR_INVAL;
		}
		ret = create_exclusive(c, dir, name, verf, &sa, &obj);
		if (ret == 0) {
			t->created = true;
			attrset_with_times(c, &set, &t->attrset);
		}
	}
	if (ret < 0)
		return nfs4_errno_to_status(ret);
	t->cinfo.after = nfs4_fh_change(&c->cur);
	return nfs4_fh_from_obj(c->cur.exp, obj, &t->fh);
}

nfsstat4 nfs4_open_permission(struct nfs4_compound *c, struct pmem_obj *obj, uint32_t access)
{
	struct pmem_attr at;
	uint32_t want = 0, granted = 0;
	int ret;

	ret = obj->ops->getattr(obj, &at);
	if (ret < 0)
		return nfs4_errno_to_status(ret);
	if (at.uid == c->cred.uid)
		return NFS4_OK;
	if (access & NFS4_SHARE_READ)
		want |= PMEM_ACC_READ | PMEM_ACC_EXEC;
	if (access & NFS4_SHARE_WRITE)
		want |= PMEM_ACC_WRITE;
	ret = obj->ops->access(obj, &c->cred, want, &granted);
	if (ret < 0)
		return nfs4_errno_to_status(ret);
	if ((access & NFS4_SHARE_READ) && !(granted & (PMEM_ACC_READ | PMEM_ACC_EXEC)))
		return NFS4ERR_ACCESS;
	if ((access & NFS4_SHARE_WRITE) && !(granted & PMEM_ACC_WRITE))
		return NFS4ERR_ACCESS;
	return NFS4_OK;
}

/* The claims that name the current fh as the file. */
static nfsstat4 open_by_fh(struct nfs4_compound *c, const OPEN4args *a, struct open_target *t)
{
	struct pmem_setattr sa;
	bitmap4 set;
	nfsstat4 st;

	if (c->cur.pseudo)
		return NFS4ERR_ISDIR;
	st = parse_createattrs(c, a, &sa, &set);
	if (st != NFS4_OK)
		return st;
	if (a->openhow.opentype == OPEN4_CREATE && a->openhow.u.how.mode == UNCHECKED4)
		t->truncate = (sa.valid & PMEM_SET_SIZE) && sa.size == 0;
	t->cinfo.atomic = true;
	t->cinfo.before = t->cinfo.after = nfs4_fh_change(&c->cur);
	nfs4_fh_copy(&t->fh, &c->cur);
	return NFS4_OK;
}

nfsstat4 nfs4_op_open(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	OPEN4args *a = &args->u.opopen;
	OPEN4res *r = &res->u.opopen;
	OPEN4resok *ok = &r->u.resok4;
	open_delegation_type4 reclaim_type = OPEN_DELEGATE_NONE;
	const stateid4 *deleg_sid = NULL;
	struct nfs4_stid *dstid = NULL;
	struct open_target t;
	struct nfs4_open_state *os = NULL;
	struct nfs4_open_undo undo;
	uint32_t access = a->share_access & NFS4_OPEN_ACCESS_MASK;
	struct pmem_obj *obj;
	struct pmem_setattr trunc = { .valid = PMEM_SET_SIZE, .size = 0 };
	nfsstat4 st;
	int ret;

	memset(&t, 0, sizeof(t));
	st = check_share_args(a);
	if (st != NFS4_OK)
		goto out;
	if (!c->client) {
		st = NFS4ERR_OP_NOT_IN_SESSION;
		goto out;
	}
	switch (a->claim.claim) {
	case CLAIM_NULL:
		st = nfs4_grace_check_unlocked(c->srv, c->client, false);
		if (st == NFS4_OK)
			st = open_by_name(c, a, &a->claim.u.file, &t);
		break;
	case CLAIM_FH:
		st = nfs4_grace_check_unlocked(c->srv, c->client, false);
		if (st == NFS4_OK)
			st = open_by_fh(c, a, &t);
		break;
	case CLAIM_PREVIOUS:
		st = nfs4_grace_check_unlocked(c->srv, c->client, true);
		if (st == NFS4_OK && a->claim.u.delegate_type != OPEN_DELEGATE_NONE &&
		    !nfs4_deleg_type_reclaimable(a->claim.u.delegate_type))
			st = NFS4ERR_INVAL;
		if (st == NFS4_OK) {
			reclaim_type = a->claim.u.delegate_type;
			st = open_by_fh(c, a, &t);
		}
		break;
	case CLAIM_DELEGATE_CUR:
		/* A name in the current directory, opened under the delegation
		 * the client is returning (RFC 8881 §10.4.4, §18.16.3). */
		deleg_sid = &a->claim.u.delegate_cur_info.delegate_stateid;
		st = open_by_name(c, a, &a->claim.u.delegate_cur_info.file, &t);
		break;
	case CLAIM_DELEG_CUR_FH:
		deleg_sid = &a->claim.u.oc_delegate_stateid;
		st = open_by_fh(c, a, &t);
		break;
	case CLAIM_DELEGATE_PREV:
	case CLAIM_DELEG_PREV_FH:
		st = NFS4ERR_NOTSUPP;
		break;
	default:
		st = NFS4ERR_INVAL;
		break;
	}
	if (st != NFS4_OK)
		goto out;
	obj = t.fh.obj;
	if (t.fh.pseudo || !obj || obj->type == PMEM_TYPE_DIR) {
		st = NFS4ERR_ISDIR;
		goto out;
	}
	if (obj->type != PMEM_TYPE_REG) {
		st = NFS4ERR_SYMLINK;
		goto out;
	}
	if (access & NFS4_SHARE_WRITE) {
		st = nfs4_fh_check_writable(c, &t.fh);
		if (st != NFS4_OK)
			goto out;
	}
	if (!t.created) {
		st = nfs4_open_permission(c, obj, access);
		if (st != NFS4_OK)
			goto out;
	}
	if (t.truncate && !(access & NFS4_SHARE_WRITE)) {
		st = NFS4ERR_INVAL;
		goto out;
	}

	nfs4_state_lock();
	if (deleg_sid) {
		/* It must be this client's delegation on this very file. */
		st = nfs4_stid_lookup(c, deleg_sid, NFS4_STID_DELEG, false, &dstid);
		if (st == NFS4_OK && (!dstid || nfs4_deleg_file(dstid) == NULL ||
				      nfs4_deleg_file(dstid)->obj != obj))
			st = NFS4ERR_BAD_STATEID;
	}
	/* Another client's conflicting delegation is recalled first (a
	 * reclaim in grace meets none: nothing was granted since the start).
	 * Denying read conflicts with other clients' delegations of any kind
	 * (their holders open for reading without asking). */
	if (st == NFS4_OK && a->claim.claim != CLAIM_PREVIOUS)
		st = nfs4_deleg_conflict(c->srv, c->client, obj,
					 (access & NFS4_SHARE_WRITE) ? NFS4_DELEG_WRITE_DATA
					 : (a->share_deny & OPEN4_SHARE_DENY_READ) ? NFS4_DELEG_CHANGE_META
					 : NFS4_DELEG_OPEN_READ);
	if (st == NFS4_OK)
		st = nfs4_open_state_get(c, &a->owner.owner, obj, access, a->share_deny, &undo,
					 &os);
	memset(&ok->delegation, 0, sizeof(ok->delegation));   /* NONE */
	if (st == NFS4_OK) {
		ok->stateid = os->stid.sid;
		/* After a truncation the OPEN may still fail: the delegation
		 * is decided once it cannot (below). */
		if (!deleg_sid && !t.truncate) {
			nfs4_deleg_offer(c, os, a->share_access, reclaim_type, &t.fh,
					 &ok->delegation);
			nfs4_deleg_open_xor(c, a, &undo, ok);
		}
	}
	nfs4_state_unlock();
	if (st != NFS4_OK)
		goto out;
	if (t.truncate) {
		/* After the share check: a denied open must not truncate. */
		ret = obj->ops->setattr(obj, &c->cred, &trunc);
		if (ret < 0) {
			nfs4_state_lock();
			nfs4_open_state_undo(c, &undo);
			nfs4_state_unlock();
			st = nfs4_errno_to_status(ret);
			goto out;
		}
		if (!deleg_sid) {
			struct nfs4_stid *ostid = NULL;

			nfs4_state_lock();
			/* the open may have been closed meanwhile by a racing CLOSE */
			if (nfs4_stid_lookup(c, &ok->stateid, NFS4_STID_OPEN, false, &ostid) ==
			    NFS4_OK && ostid) {
				nfs4_deleg_offer(c, (struct nfs4_open_state *)ostid, a->share_access,
						 reclaim_type, &t.fh, &ok->delegation);
				nfs4_deleg_open_xor(c, a, &undo, ok);
			}
			nfs4_state_unlock();
		}
	}
	ok->cinfo = t.cinfo;
	ok->rflags |= OPEN4_RESULT_LOCKTYPE_POSIX;
	ok->attrset = t.attrset;
	nfs4_fh_set_current(c, &t.fh);
out:
	nfs4_fh_clear(&t.fh);
	return st;
}

/* Without an open stateid (OPEN_XOR_DELEGATION) the delegation's is the
 * current stateid. */
void nfs4_open_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res)
{
	const OPEN4resok *ok = &res->u.opopen.u.resok4;

	if (!(ok->rflags & OPEN4_RESULT_NO_OPEN_STATEID))
		nfs4_set_current_stateid(c, &ok->stateid);
	else if (ok->delegation.delegation_type == OPEN_DELEGATE_READ ||
		 ok->delegation.delegation_type == OPEN_DELEGATE_READ_ATTRS_DELEG)
		nfs4_set_current_stateid(c, &ok->delegation.u.read.stateid);
	else
		nfs4_set_current_stateid(c, &ok->delegation.u.write.stateid);
}
