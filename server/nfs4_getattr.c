/*
 * server/nfs4_getattr.c: GETATTR, SETATTR, VERIFY, NVERIFY and ACCESS
 * (RFC 8881 §18.7, §18.30, §18.31, §18.15, §18.1).
 *
 * VERIFY/NVERIFY compare the client's attr_vals byte for byte with the
 * server's encoding of the same mask, which is what "the same value" means
 * for every attribute we encode (owners are compared as strings).
 * Calls: nfs4_attr.h, nfs4_fh.h, nfs4_state.h, the backend.
 * Called by: the COMPOUND loop through the op table.
 */
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_state.h"

#pragma weak nfs4_open_check_setattr_size

static nfsstat4 check_no_write_only(const bitmap4 *m)
{
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m); n++)
		if (nfs4_bitmap_isset(m, n) && nfs4_attr_write_only(n))
			return NFS4ERR_INVAL;
	return NFS4_OK;
}

nfsstat4 nfs4_op_getattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	GETATTR4args *a = &args->u.opgetattr;
	GETATTR4res *r = &res->u.opgetattr;
	struct nfs4_fattr_opts opts;
	bool size_change, times;
	nfsstat4 st;

	st = check_no_write_only(&a->attr_request);
	if (st != NFS4_OK)
		return st;
	/* Size and change of a file another client holds a write delegation
	 * on: that client is asked first (CB_GETATTR), and its word counts;
	 * so do its times when they are delegated too (RFC 9754). */
	memset(&opts, 0, sizeof(opts));
	size_change = nfs4_bitmap_isset(&a->attr_request, FATTR4_SIZE) ||
		      nfs4_bitmap_isset(&a->attr_request, FATTR4_CHANGE);
	times = nfs4_bitmap_isset(&a->attr_request, FATTR4_TIME_ACCESS) ||
		nfs4_bitmap_isset(&a->attr_request, FATTR4_TIME_MODIFY) ||
		nfs4_bitmap_isset(&a->attr_request, FATTR4_TIME_DELEG_ACCESS) ||
		nfs4_bitmap_isset(&a->attr_request, FATTR4_TIME_DELEG_MODIFY);
	if (c->cur.obj && c->cur.obj->type == PMEM_TYPE_REG && nfs4_deleg_any(c->srv) &&
	    (size_change || (times && nfs4_deleg_options(c->srv)->timestamps))) {
		nfs4_state_lock();
		st = nfs4_deleg_getattr_conflict(c->srv, c->client, c->cur.obj, size_change, &opts);
		nfs4_state_unlock();
		if (st != NFS4_OK)
			return st;
	}
	return nfs4_fattr_encode_ex(c, &c->cur, &a->attr_request, &opts,
				    &r->u.resok4.obj_attributes);
}

static nfsstat4 setattr_size_check(struct nfs4_compound *c, const stateid4 *sid)
{
	struct nfs4_stid *stid = NULL;
	nfsstat4 st;

	switch (c->cur.obj->type) {
	case PMEM_TYPE_REG:
		break;
	case PMEM_TYPE_DIR:
		return NFS4ERR_ISDIR;
	default:
		return NFS4ERR_INVAL;
	}
	if (nfs4_open_check_setattr_size)
		return nfs4_open_check_setattr_size(c, sid, c->cur.obj);
	nfs4_state_lock();
	st = nfs4_stid_lookup(c, sid, NFS4_STID_OPEN | NFS4_STID_LOCK | NFS4_STID_DELEG, true,
			      &stid);
	nfs4_state_unlock();
	return st;
}

/* True when m asks for nothing but the delegated times of RFC 9754. */
static bool only_deleg_times(const bitmap4 *m)
{
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m); n++)
		if (nfs4_bitmap_isset(m, n) && n != FATTR4_TIME_DELEG_ACCESS &&
		    n != FATTR4_TIME_DELEG_MODIFY)
			return false;
	return true;
}

nfsstat4 nfs4_op_setattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SETATTR4args *a = &args->u.opsetattr;
	SETATTR4res *r = &res->u.opsetattr;
	struct pmem_setattr sa;
	bitmap4 set;
	static const struct pmem_cred server_cred;   /* uid 0, gid 0, no groups */
	bool deleg_atime, deleg_mtime, times_only;
	nfsstat4 st;
	int err;

	r->attrsset.len = 0;
	r->attrsset.val = NULL;
	st = nfs4_fh_check_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	st = nfs4_fattr_to_setattr(c, &a->obj_attributes, true, &sa, &set);
	if (st != NFS4_OK)
		return st;
	if (sa.valid & PMEM_SET_SIZE) {
		st = setattr_size_check(c, &a->stateid);
		if (st != NFS4_OK)
			return st;
	}
	/* Delegated times (RFC 9754): only under the delegation that
	 * delegates them; a stale one is dropped, not refused. */
	deleg_atime = nfs4_bitmap_isset(&a->obj_attributes.attrmask, FATTR4_TIME_DELEG_ACCESS);
	deleg_mtime = nfs4_bitmap_isset(&a->obj_attributes.attrmask, FATTR4_TIME_DELEG_MODIFY);
	if (deleg_atime || deleg_mtime) {
		st = nfs4_deleg_setattr_times(c, &a->stateid, c->cur.obj, deleg_atime, deleg_mtime,
					      &sa);
		if (st != NFS4_OK)
			return st;
	}
	times_only = (deleg_atime || deleg_mtime) && only_deleg_times(&a->obj_attributes.attrmask);
	if (sa.valid && c->cur.obj && !times_only) {
		/* Other clients' delegations go first (a size change: every
		 * read delegation too); NFS4ERR_DELAY meanwhile. */
		st = nfs4_deleg_conflict_unlocked(c->srv, c->client, c->cur.obj,
						  (sa.valid & PMEM_SET_SIZE) ? NFS4_DELEG_WRITE_DATA
									     : NFS4_DELEG_CHANGE_META);
		/* A size change writes through the file's descriptor, which
		 * READ layouts' read lease would keep read-only. */
		if (st == NFS4_OK && (sa.valid & PMEM_SET_SIZE))
			st = nfs4_layout_write_conflict(c->srv, c->cur.obj);
		if (st != NFS4_OK)
			return st;
	}
	if (sa.valid) {
		/* The holder sets the times its delegation gives it even where
		 * it does not own the file (as knfsd): the delegation, granted
		 * after an access check, is the authority, so the server's
		 * own credentials set them. Anything else in the SETATTR is
		 * done as the caller. */
		err = c->cur.obj->ops->setattr(c->cur.obj, times_only ? &server_cred : &c->cred, &sa);
		if (err)
			return nfs4_errno_to_status(err);
		if (deleg_atime || deleg_mtime)
			nfs4_deleg_setattr_times_done(c, &a->stateid, c->cur.obj, &sa);
	}
	r->attrsset = set;
	return NFS4_OK;
}

/* NFS4_OK when equal, NFS4ERR_NOT_SAME when not, or an error. */
static nfsstat4 compare_attrs(struct nfs4_compound *c, const fattr4 *in)
{
	const bitmap4 *m = &in->attrmask;
	fattr4 ours;
	unsigned ours_words, in_words;
	nfsstat4 st;

	if (nfs4_bitmap_beyond(m))
		return NFS4ERR_ATTRNOTSUPP;
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m); n++) {
		if (!nfs4_bitmap_isset(m, n))
			continue;
		if (!nfs4_attr_supported(c, n))
			return NFS4ERR_ATTRNOTSUPP;
		if (n == FATTR4_RDATTR_ERROR || nfs4_attr_write_only(n))
			return NFS4ERR_INVAL;
	}
	st = nfs4_fattr_encode(c, &c->cur, m, &ours);
	if (st != NFS4_OK)
		return st;
	/* Every requested attribute was encoded (all are supported), so the
	 * masks agree up to trailing zero words. */
	ours_words = ours.attrmask.len;
	in_words = m->len;
	while (in_words > 0 && m->val[in_words - 1] == 0)
		in_words--;
	if (ours_words != in_words ||
	    (in_words && memcmp(ours.attrmask.val, m->val, in_words * sizeof(uint32_t)) != 0))
		return NFS4ERR_ATTRNOTSUPP;
	if (ours.attr_vals.len != in->attr_vals.len)
		return NFS4ERR_NOT_SAME;
	if (ours.attr_vals.len &&
	    memcmp(ours.attr_vals.val, in->attr_vals.val, ours.attr_vals.len) != 0)
		return NFS4ERR_NOT_SAME;
	return NFS4_OK;
}

nfsstat4 nfs4_op_verify(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	VERIFY4args *a = &args->u.opverify;

	(void)res;
	return compare_attrs(c, &a->obj_attributes);
}

nfsstat4 nfs4_op_nverify(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	NVERIFY4args *a = &args->u.opnverify;
	nfsstat4 st;

	(void)res;
	st = compare_attrs(c, &a->obj_attributes);
	if (st == NFS4_OK)
		return NFS4ERR_SAME;
	return st == NFS4ERR_NOT_SAME ? NFS4_OK : st;
}

#define ACCESS_ALL (ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | \
		    ACCESS4_DELETE | ACCESS4_EXECUTE)
#define ACCESS_WRITES (ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE)
/* RFC 8276, minor version 2: reading and listing extended attributes as
 * reading the file, writing them as writing it. */
#define ACCESS_XATTR (ACCESS4_XAREAD | ACCESS4_XAWRITE | ACCESS4_XALIST)

/* Does fh's filesystem keep user extended attributes? (probed at start) */
static bool fh_has_xattrs(const struct nfs4_fh *fh)
{
	return fh->exp && fh->obj &&
	       (fh->obj->type == PMEM_TYPE_REG || fh->obj->type == PMEM_TYPE_DIR) &&
	       fh->exp->xattr_user;
}

nfsstat4 nfs4_op_access(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	ACCESS4args *a = &args->u.opaccess;
	ACCESS4res *r = &res->u.opaccess;
	uint32_t want = a->access & (ACCESS_ALL | (c->minorversion >= 2 ? ACCESS_XATTR : 0));
	uint32_t granted = 0, pm_want = 0, pm_got = 0;
	bool dir = nfs4_fh_type(&c->cur) == PMEM_TYPE_DIR;
	int err;

	/* The xattr bits are answered only where attributes can be kept. */
	if ((want & ACCESS_XATTR) && !fh_has_xattrs(&c->cur))
		want &= ~ACCESS_XATTR;
	r->u.resok4.supported = want;
	if (c->cur.pseudo) {
		r->u.resok4.access = want & (ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_EXECUTE);
		return NFS4_OK;
	}
	if (want & (ACCESS4_READ | ACCESS4_XAREAD | ACCESS4_XALIST))
		pm_want |= PMEM_ACC_READ;
	if (want & (ACCESS4_LOOKUP | ACCESS4_EXECUTE))
		pm_want |= PMEM_ACC_EXEC;
	if (want & (ACCESS_WRITES | ACCESS4_XAWRITE))
		pm_want |= PMEM_ACC_WRITE;
	err = c->cur.obj->ops->access(c->cur.obj, &c->cred, pm_want, &pm_got);
	if (err)
		return nfs4_errno_to_status(err);
	if (pm_got & PMEM_ACC_READ)
		granted |= ACCESS4_READ | ACCESS4_XAREAD | ACCESS4_XALIST;
	if (pm_got & PMEM_ACC_EXEC)
		granted |= dir ? ACCESS4_LOOKUP : ACCESS4_EXECUTE;
	if (pm_got & PMEM_ACC_WRITE)
		granted |= (dir ? ACCESS_WRITES : (ACCESS4_MODIFY | ACCESS4_EXTEND)) | ACCESS4_XAWRITE;
	if (nfs4_fh_check_writable(c, &c->cur) != NFS4_OK)
		granted &= ~(ACCESS_WRITES | ACCESS4_XAWRITE);
	r->u.resok4.access = granted & want;
	return NFS4_OK;
}
