/*
 * server/nfs4_xattr.c: extended attributes (RFC 8276): GETXATTR, SETXATTR,
 * LISTXATTRS and REMOVEXATTR on the current file or directory.
 *
 * Job: check the name (UTF-8, no NUL, at most 250 bytes: "user." and it fit
 * the kernel's 255), the export (writable for changes), the value's size
 * (64 KiB, the kernel's limit: NFS4ERR_XATTR2BIG), recall other clients'
 * delegations of the file before a change (RFC 8276 §8.4.1: NFS4ERR_DELAY
 * meanwhile), then let the backend act as the caller in the "user."
 * namespace, the only one reachable. Changes answer the change attribute
 * before and after.
 * Decisions:
 *  - LISTXATTRS' cookie is the number of names already returned (the list
 *    is read anew each time; a cookie past its end is NFS4ERR_BAD_COOKIE);
 *    lxa_maxcount, and the room left in the reply, bound the encoded
 *    LISTXATTRS4resok, and a first name that does not fit is
 *    NFS4ERR_TOOSMALL. Listing needs read permission, as getting does.
 *  - A filesystem without user attributes answers NFS4ERR_NOTSUPP, and
 *    xattr_support says false there.
 * Calls: nfs4_fh.h, nfs4_deleg.h, nfs4_attr.h, the backend's xattr ops.
 * Called by: the compound loop (nfs4_ops.c table).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_open.h"
#include "server/nfs4_ops.h"

#define XATTR_KEY_MAX 250u          /* 255 less "user." */
#define XATTR_VALUE_MAX 65536u      /* the kernel's XATTR_SIZE_MAX */
#define XATTR_LIST_BUF 65536u       /* the kernel's XATTR_LIST_MAX */

static nfsstat4 xattr_errno(int err)
{
	switch (-err) {
	case ENODATA:
		return NFS4ERR_NOXATTR;
	case EOPNOTSUPP:
		return NFS4ERR_NOTSUPP;
	case E2BIG:
	case ERANGE:
		return NFS4ERR_XATTR2BIG;
	default:
		return nfs4_errno_to_status(err);
	}
}

/* The current object (a file or directory of an export) and the key as a
 * C string in the compound's arena. */
static nfsstat4 xattr_target(struct nfs4_compound *c, const xattrkey4 *key, char **name)
{
	char *s;

	if (c->cur.pseudo || !c->cur.obj)
		return NFS4ERR_NOTSUPP;   /* the pseudo fs keeps none */
	if (c->cur.obj->type != PMEM_TYPE_REG && c->cur.obj->type != PMEM_TYPE_DIR)
		return NFS4ERR_WRONG_TYPE;
	if (!name)
		return NFS4_OK;
	if (key->len == 0)
		return NFS4ERR_INVAL;
	if (key->len > XATTR_KEY_MAX)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(key->val, '\0', key->len) || !nfs4_utf8_valid((const uint8_t *)key->val, key->len))
		return NFS4ERR_INVAL;
	s = arena_alloc(c->arena, key->len + 1);
	if (!s)
		return NFS4ERR_RESOURCE;
	memcpy(s, key->val, key->len);
	s[key->len] = '\0';
	*name = s;
	return NFS4_OK;
}

nfsstat4 nfs4_op_getxattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	GETXATTR4args *a = &args->u.opgetxattr;
	GETXATTR4res *r = &res->u.opgetxattr;
	struct pmem_obj *obj;
	char *name = NULL;
	uint8_t *buf;
	size_t len = 0;
	nfsstat4 st;
	int err;

	st = xattr_target(c, &a->gxa_name, &name);
	if (st != NFS4_OK)
		return st;
	obj = c->cur.obj;
	/* The value's size first, so that a request holds what it returns
	 * (not 64 KiB per GETXATTR); a value that grew meanwhile gets the
	 * largest buffer. */
	err = obj->ops->getxattr(obj, &c->cred, name, NULL, 0, &len);
	if (err)
		return xattr_errno(err);
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t cap = attempt ? XATTR_VALUE_MAX : (len ? len : 1);

		buf = arena_alloc(c->arena, cap);
		if (!buf)
			return NFS4ERR_RESOURCE;
		err = obj->ops->getxattr(obj, &c->cred, name, buf, cap, &len);
		if (err != -ERANGE)
			break;
	}
	if (err)
		return xattr_errno(err);
	r->u.gxr_value.len = (uint32_t)len;
	r->u.gxr_value.val = buf;
	return NFS4_OK;
}

/* The steps every change takes: a writable export, other clients'
 * delegations recalled, the change attribute before. */
static nfsstat4 xattr_change_begin(struct nfs4_compound *c, change_info4 *ci)
{
	nfsstat4 st = nfs4_fh_check_writable(c, &c->cur);

	if (st != NFS4_OK)
		return st;
	if (c->cur.obj->type == PMEM_TYPE_REG) {
		st = nfs4_deleg_conflict_unlocked(c->srv, c->client, c->cur.obj, NFS4_DELEG_CHANGE_META);
		if (st != NFS4_OK)
			return st;
	}
	ci->atomic = false;   /* another process may change the file in between */
	ci->before = nfs4_fh_change(&c->cur);
	return NFS4_OK;
}

nfsstat4 nfs4_op_setxattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SETXATTR4args *a = &args->u.opsetxattr;
	SETXATTR4res *r = &res->u.opsetxattr;
	enum pmem_xattr_how how;
	char *name = NULL;
	nfsstat4 st;
	int err;

	st = xattr_target(c, &a->sxa_key, &name);
	if (st != NFS4_OK)
		return st;
	switch (a->sxa_option) {
	case SETXATTR4_EITHER:
		how = PMEM_XATTR_EITHER;
		break;
	case SETXATTR4_CREATE:
		how = PMEM_XATTR_CREATE;
		break;
	case SETXATTR4_REPLACE:
		how = PMEM_XATTR_REPLACE;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	if (a->sxa_value.len > XATTR_VALUE_MAX)
		return NFS4ERR_XATTR2BIG;
	st = xattr_change_begin(c, &r->u.sxr_info);
	if (st != NFS4_OK)
		return st;
	err = c->cur.obj->ops->setxattr(c->cur.obj, &c->cred, name, a->sxa_value.val,
					a->sxa_value.len, how);
	if (err == -EEXIST)
		return NFS4ERR_EXIST;
	if (err)
		return xattr_errno(err);
	r->u.sxr_info.after = nfs4_fh_change(&c->cur);
	return NFS4_OK;
}

nfsstat4 nfs4_op_removexattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	REMOVEXATTR4args *a = &args->u.opremovexattr;
	REMOVEXATTR4res *r = &res->u.opremovexattr;
	char *name = NULL;
	nfsstat4 st;
	int err;

	st = xattr_target(c, &a->rxa_name, &name);
	if (st != NFS4_OK)
		return st;
	st = xattr_change_begin(c, &r->u.rxr_info);
	if (st != NFS4_OK)
		return st;
	err = c->cur.obj->ops->removexattr(c->cur.obj, &c->cred, name);
	if (err)
		return xattr_errno(err);
	r->u.rxr_info.after = nfs4_fh_change(&c->cur);
	return NFS4_OK;
}

nfsstat4 nfs4_op_listxattrs(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LISTXATTRS4args *a = &args->u.oplistxattrs;
	LISTXATTRS4res *r = &res->u.oplistxattrs;
	LISTXATTRS4resok *ok = &r->u.lxr_value;
	char *buf = NULL;
	size_t len = 0, used, pos;
	uint64_t index = 0;
	uint32_t n = 0, max, maxcount = a->lxa_maxcount, granted = 0;
	xattrkey4 *names;
	nfsstat4 st;
	int err;

	st = xattr_target(c, NULL, NULL);
	if (st != NFS4_OK)
		return st;
	/* Listing is reading (as knfsd: the kernel's listxattr checks nothing). */
	err = c->cur.obj->ops->access(c->cur.obj, &c->cred, PMEM_ACC_READ, &granted);
	if (err)
		return nfs4_errno_to_status(err);
	if (!(granted & PMEM_ACC_READ))
		return NFS4ERR_ACCESS;
	/* No more than the reply can still carry. */
	if (c->req && maxcount > nfs4_reply_room(c, 16))
		maxcount = (uint32_t)nfs4_reply_room(c, 16);
	buf = malloc(XATTR_LIST_BUF);
	if (!buf)
		return NFS4ERR_RESOURCE;
	err = c->cur.obj->ops->listxattr(c->cur.obj, &c->cred, buf, XATTR_LIST_BUF, &len);
	if (err) {
		st = xattr_errno(err);
		goto out;
	}
	/* How many names can come back: each takes 2 bytes of the list and 8
	 * of the reply at least. */
	max = (uint32_t)(len / 2 + 1);
	if (max > maxcount / 8 + 1)
		max = maxcount / 8 + 1;
	names = arena_alloc(c->arena, (size_t)max * sizeof(*names));
	if (!names) {
		st = NFS4ERR_RESOURCE;
		goto out;
	}
	used = 8 + 4 + 4;   /* cookie, array length, eof */
	ok->lxr_eof = true;
	for (pos = 0; pos < len;) {
		size_t k = strnlen(buf + pos, len - pos);

		if (index++ < a->lxa_cookie) {
			pos += k + 1;
			continue;
		}
		if (used + 4 + XDR_ROUNDUP(k) > maxcount || n == max) {
			if (n == 0) {
				st = NFS4ERR_TOOSMALL;
				goto out;
			}
			ok->lxr_eof = false;
			break;
		}
		names[n].val = arena_memdup(c->arena, buf + pos, k ? k : 1);
		if (!names[n].val) {
			st = NFS4ERR_RESOURCE;
			goto out;
		}
		names[n].len = (uint32_t)k;
		n++;
		used += 4 + XDR_ROUNDUP(k);
		pos += k + 1;
	}
	if (a->lxa_cookie > index) {
		st = NFS4ERR_BAD_COOKIE;   /* past the end of the list */
		goto out;
	}
	if (used > maxcount) {
		st = NFS4ERR_TOOSMALL;   /* not even an empty answer fits */
		goto out;
	}
	ok->lxr_cookie = a->lxa_cookie + n;
	ok->lxr_names.len = n;
	ok->lxr_names.val = names;
out:
	free(buf);
	return st;
}
