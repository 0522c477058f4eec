/*
 * server/nfs4_dirop.c: CREATE, REMOVE, RENAME, LINK, READLINK
 * (RFC 8881 §18.4, §18.25, §18.26, §18.9, §18.24).
 *
 * change_info4 carries the directory's change attribute read before and
 * after the operation; atomic is false because another process may change
 * the directory in between (the backend holds no directory lock across).
 * Calls: nfs4_fh.h, nfs4_attr.h, the backend. Called by: the op table.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_ops.h"

#define DEFAULT_DIR_MODE 0755u
#define DEFAULT_NODE_MODE 0644u

/* A directory that this compound may modify. */
static nfsstat4 check_dir_writable(struct nfs4_compound *c, const struct nfs4_fh *fh)
{
	nfsstat4 st = nfs4_fh_check_dir(fh, false);

	return st != NFS4_OK ? st : nfs4_fh_check_writable(c, fh);
}

static void cinfo_set(change_info4 *ci, uint64_t before, const struct nfs4_fh *dir)
{
	ci->atomic = false;
	ci->before = before;
	ci->after = nfs4_fh_change(dir);
}

static enum pmem_obj_type create_type(nfs_ftype4 t)
{
	switch (t) {
	case NF4DIR:  return PMEM_TYPE_DIR;
	case NF4LNK:  return PMEM_TYPE_LNK;
	case NF4BLK:  return PMEM_TYPE_BLK;
	case NF4CHR:  return PMEM_TYPE_CHR;
	case NF4SOCK: return PMEM_TYPE_SOCK;
	case NF4FIFO: return PMEM_TYPE_FIFO;
	default:      return 0;   /* NF4REG goes through OPEN; the rest do not exist */
	}
}

nfsstat4 nfs4_op_create(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	CREATE4args *a = &args->u.opcreate;
	CREATE4res *r = &res->u.opcreate;
	CREATE4resok *ok = &r->u.resok4;
	struct pmem_obj *dir = c->cur.obj, *obj = NULL;
	enum pmem_obj_type type;
	struct pmem_setattr sa;
	struct nfs4_fh fh = { 0 };
	uint32_t mode, major = 0, minor = 0;
	uint64_t before;
	bitmap4 set;
	char *name, *target = NULL;
	nfsstat4 st;
	int err;

	st = check_dir_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	type = create_type(a->objtype.type);
	if (!type)
		return NFS4ERR_BADTYPE;
	st = nfs4_name_check(c, &a->objname, &name);
	if (st != NFS4_OK)
		return st;
	st = nfs4_fattr_to_setattr(c, &a->createattrs, false, &sa, &set);
	if (st != NFS4_OK)
		return st;
	if (sa.valid & PMEM_SET_SIZE)
		return NFS4ERR_INVAL;
	if (type == PMEM_TYPE_LNK) {
		const struct xdr_opaque *l = &a->objtype.u.linkdata;

		if (l->len == 0 || memchr(l->val, '\0', l->len))
			return NFS4ERR_INVAL;
		if (l->len >= PATH_MAX)
			return NFS4ERR_NAMETOOLONG;
		target = arena_strndup(c->arena, (const char *)l->val, l->len);
		if (!target)
			return NFS4ERR_SERVERFAULT;
	} else if (type == PMEM_TYPE_BLK || type == PMEM_TYPE_CHR) {
		major = a->objtype.u.devdata.specdata1;
		minor = a->objtype.u.devdata.specdata2;
	}
	mode = (sa.valid & PMEM_SET_MODE) ? sa.mode
					  : type == PMEM_TYPE_DIR ? DEFAULT_DIR_MODE : DEFAULT_NODE_MODE;

	before = nfs4_fh_change(&c->cur);
	if (type == PMEM_TYPE_LNK)
		err = dir->ops->symlink(dir, &c->cred, name, target, &obj);
	else
		err = dir->ops->mknode(dir, &c->cred, name, type, mode, major, minor, &obj);
	if (err)
		return nfs4_errno_to_status(err);
	/* Symlink modes mean nothing on Linux; the rest were applied at creation
	 * but the daemon's umask may have trimmed them: set them exactly. */
	if (type == PMEM_TYPE_LNK)
		sa.valid &= ~PMEM_SET_MODE;
	if (sa.valid) {
		err = obj->ops->setattr(obj, &c->cred, &sa);
		if (err) {
			pmem_obj_put(obj);
			return nfs4_errno_to_status(err);
		}
	}
	cinfo_set(&ok->cinfo, before, &c->cur);
	ok->attrset = set;
	st = nfs4_fh_from_obj(c->cur.exp, obj, &fh);
	if (st == NFS4_OK)
		nfs4_fh_set_current(c, &fh);
	return st;
}

/* Other clients' delegations on the file dir/name are recalled before the
 * name changes (RFC 8881 §10.4.4): NFS4ERR_DELAY until they are returned. */
static nfsstat4 name_deleg_conflict(struct nfs4_compound *c, struct pmem_obj *dir,
				    const char *name)
{
	struct pmem_obj *obj;
	nfsstat4 st;

	if (!nfs4_deleg_any(c->srv) || dir->ops->lookup(dir, &c->cred, name, &obj) < 0)
		return NFS4_OK;
	st = obj->type == PMEM_TYPE_REG
	     ? nfs4_deleg_conflict_unlocked(c->srv, c->client, obj, NFS4_DELEG_CHANGE_META) : NFS4_OK;
	pmem_obj_put(obj);
	return st;
}

nfsstat4 nfs4_op_remove(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	REMOVE4args *a = &args->u.opremove;
	REMOVE4res *r = &res->u.opremove;
	uint64_t before;
	char *name;
	nfsstat4 st;
	int err;

	st = check_dir_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, &a->target, &name);
	if (st != NFS4_OK)
		return st;
	st = name_deleg_conflict(c, c->cur.obj, name);
	if (st != NFS4_OK)
		return st;
	before = nfs4_fh_change(&c->cur);
	err = c->cur.obj->ops->remove(c->cur.obj, &c->cred, name);
	if (err)
		return nfs4_errno_to_status(err);
	cinfo_set(&r->u.resok4.cinfo, before, &c->cur);
	return NFS4_OK;
}

nfsstat4 nfs4_op_rename(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	RENAME4args *a = &args->u.oprename;
	RENAME4res *r = &res->u.oprename;
	struct nfs4_fh *src = &c->saved, *dst = &c->cur;
	uint64_t sbefore, dbefore;
	char *oldname, *newname;
	nfsstat4 st;
	int err;

	if (!src->len)
		return NFS4ERR_NOFILEHANDLE;
	st = nfs4_fh_check_dir(src, false);
	if (st == NFS4_OK)
		st = nfs4_fh_check_dir(dst, false);
	if (st != NFS4_OK)
		return st;
	if (!nfs4_export_same(src->exp, dst->exp))
		return NFS4ERR_XDEV;
	st = nfs4_fh_check_writable(c, dst);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, &a->oldname, &oldname);
	if (st == NFS4_OK)
		st = nfs4_name_check(c, &a->newname, &newname);
	if (st != NFS4_OK)
		return st;
	st = name_deleg_conflict(c, src->obj, oldname);
	if (st == NFS4_OK)
		st = name_deleg_conflict(c, dst->obj, newname);
	if (st != NFS4_OK)
		return st;
	sbefore = nfs4_fh_change(src);
	dbefore = nfs4_fh_change(dst);
	err = src->obj->ops->rename(src->obj, oldname, dst->obj, newname, &c->cred);
	/* Both parents are directories, so these mean a directory and a
	 * non-directory met, or the target is a non-empty directory:
	 * RFC 8881 §18.26.3 calls both NFS4ERR_EXIST. */
	if (err == -ENOTDIR || err == -EISDIR || err == -ENOTEMPTY || err == -EEXIST)
		return NFS4ERR_EXIST;
	if (err)
		return nfs4_errno_to_status(err);
	cinfo_set(&r->u.resok4.source_cinfo, sbefore, src);
	cinfo_set(&r->u.resok4.target_cinfo, dbefore, dst);
	return NFS4_OK;
}

nfsstat4 nfs4_op_link(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LINK4args *a = &args->u.oplink;
	LINK4res *r = &res->u.oplink;
	struct nfs4_fh *src = &c->saved, *dir = &c->cur;
	uint64_t before;
	char *name;
	nfsstat4 st;
	int err;

	if (!src->len)
		return NFS4ERR_NOFILEHANDLE;
	st = nfs4_fh_check_dir(dir, false);
	if (st != NFS4_OK)
		return st;
	if (nfs4_fh_type(src) == PMEM_TYPE_DIR)
		return NFS4ERR_ISDIR;
	if (!nfs4_export_same(src->exp, dir->exp))
		return NFS4ERR_XDEV;
	st = nfs4_fh_check_writable(c, dir);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, &a->newname, &name);
	if (st != NFS4_OK)
		return st;
	if (nfs4_deleg_any(c->srv)) {
		st = nfs4_deleg_conflict_unlocked(c->srv, c->client, src->obj, NFS4_DELEG_CHANGE_META);
		if (st != NFS4_OK)
			return st;
	}
	before = nfs4_fh_change(dir);
	err = src->obj->ops->link(src->obj, dir->obj, &c->cred, name);
	if (err)
		return nfs4_errno_to_status(err);
	cinfo_set(&r->u.resok4.cinfo, before, dir);
	return NFS4_OK;
}

nfsstat4 nfs4_op_readlink(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	READLINK4res *r = &res->u.opreadlink;
	size_t len = 0;
	char *buf;
	int err;

	(void)args;
	if (nfs4_fh_type(&c->cur) != PMEM_TYPE_LNK)
		return NFS4ERR_INVAL;
	buf = arena_alloc(c->arena, PATH_MAX);
	if (!buf)
		return NFS4ERR_SERVERFAULT;
	err = c->cur.obj->ops->readlink(c->cur.obj, buf, PATH_MAX, &len);
	if (err)
		return nfs4_errno_to_status(err);
	r->u.resok4.link.val = (uint8_t *)buf;
	r->u.resok4.link.len = (uint32_t)len;
	return NFS4_OK;
}
