/*
 * server/nfs4_lookup.c: LOOKUP, LOOKUPP, SECINFO, SECINFO_NO_NAME
 * (RFC 8881 §18.13, §18.14, §18.29, §18.45).
 *
 * Lookups cross between the pseudo fs and exports: a pseudo node's child may
 * be an export root; an export root's ".." is the pseudo node above its
 * mount point; an export mounted at "/" whose root has pseudo children
 * (another export at "/b/c") shows them as junctions by name.
 * Calls: nfs4_fh.h, nfs4_attr.h, the backend. Called by: the op table.
 */
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_ops.h"

/* Resolves name in the directory dir into out (a fresh fh). */
static nfsstat4 lookup_name(struct nfs4_compound *c, const struct nfs4_fh *dir, const char *name,
			    struct nfs4_fh *out)
{
	struct nfs4_pseudo_node *n = NULL;
	struct pmem_obj *obj = NULL;
	int err;

	if (dir->pseudo)
		n = dir->pseudo;
	else if (nfs4_export_is_root(dir->exp, dir->obj))
		n = dir->exp->node;
	if (n) {
		struct nfs4_pseudo_node *ch = nfs4_pseudo_child(n, name, strlen(name));

		if (ch)
			return nfs4_fh_from_node(ch, out);
		if (dir->pseudo)
			return NFS4ERR_NOENT;
	}
	if (dir->exp->conf.access == CONF_ACCESS_NONE)
		return NFS4ERR_ACCESS;
	err = dir->obj->ops->lookup(dir->obj, &c->cred, name, &obj);
	if (err)
		return nfs4_errno_to_status(err);
	return nfs4_fh_from_obj(dir->exp, obj, out);
}

nfsstat4 nfs4_op_lookup(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	LOOKUP4args *a = &args->u.oplookup;
	struct nfs4_fh fh = { 0 };
	char *name;
	nfsstat4 st;

	(void)res;
	st = nfs4_fh_check_dir(&c->cur, true);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, &a->objname, &name);
	if (st != NFS4_OK)
		return st;
	st = lookup_name(c, &c->cur, name, &fh);
	if (st == NFS4_OK)
		nfs4_fh_set_current(c, &fh);
	return st;
}

/* The parent of directory dir into out; NFS4ERR_NOENT above the pseudo root. */
static nfsstat4 lookup_parent(struct nfs4_compound *c, const struct nfs4_fh *dir,
			      struct nfs4_fh *out)
{
	struct pmem_obj *obj = NULL;
	int err;

	if (dir->pseudo) {
		if (!dir->pseudo->parent)
			return NFS4ERR_NOENT;
		return nfs4_fh_from_node(dir->pseudo->parent, out);
	}
	if (nfs4_export_is_root(dir->exp, dir->obj)) {
		if (!dir->exp->node || !dir->exp->node->parent)
			return NFS4ERR_NOENT;
		return nfs4_fh_from_node(dir->exp->node->parent, out);
	}
	err = dir->obj->ops->lookup_parent(dir->obj, &c->cred, &obj);
	if (err)
		return nfs4_errno_to_status(err);
	return nfs4_fh_from_obj(dir->exp, obj, out);
}

nfsstat4 nfs4_op_lookupp(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	struct nfs4_fh fh = { 0 };
	nfsstat4 st;

	(void)args;
	(void)res;
	/* a symlink: NFS4ERR_SYMLINK, as for LOOKUP (knfsd and pynfs LKPP1a agree) */
	st = nfs4_fh_check_dir(&c->cur, true);
	if (st != NFS4_OK)
		return st;
	st = lookup_parent(c, &c->cur, &fh);
	if (st == NFS4_OK)
		nfs4_fh_set_current(c, &fh);
	return st;
}

/* AUTH_SYS first (what a Linux client should pick), then AUTH_NONE. */
static nfsstat4 secinfo_result(struct nfs4_compound *c, SECINFO4res *r)
{
	static const uint32_t flavors[] = { RPC_AUTH_SYS, RPC_AUTH_NONE };
	secinfo4 *v = arena_alloc(c->arena, sizeof(*v) * 2);

	if (!v)
		return NFS4ERR_SERVERFAULT;
	for (unsigned i = 0; i < 2; i++)
		v[i].flavor = flavors[i];
	r->u.resok4.len = 2;
	r->u.resok4.val = v;
	/* SECINFO consumes the current filehandle (RFC 8881 §2.6.3.1.1.8). */
	nfs4_fh_clear(&c->cur);
	c->cur_stateid_valid = false;
	return NFS4_OK;
}

nfsstat4 nfs4_op_secinfo(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SECINFO4args *a = &args->u.opsecinfo;
	struct nfs4_fh fh = { 0 };
	char *name;
	nfsstat4 st;

	st = nfs4_fh_check_dir(&c->cur, false);
	if (st != NFS4_OK)
		return st;
	st = nfs4_name_check(c, &a->name, &name);
	if (st != NFS4_OK)
		return st;
	st = lookup_name(c, &c->cur, name, &fh);
	nfs4_fh_clear(&fh);
	if (st != NFS4_OK)
		return st;
	return secinfo_result(c, &res->u.opsecinfo);
}

nfsstat4 nfs4_op_secinfo_no_name(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SECINFO_NO_NAME4args *a = &args->u.opsecinfo_no_name;
	struct nfs4_fh fh = { 0 };
	nfsstat4 st;

	if (*a == SECINFO_STYLE4_PARENT) {
		st = nfs4_fh_check_dir(&c->cur, false);
		if (st != NFS4_OK)
			return st;
		st = lookup_parent(c, &c->cur, &fh);
		nfs4_fh_clear(&fh);
		if (st != NFS4_OK)
			return st;
	} else if (*a != SECINFO_STYLE4_CURRENT_FH) {
		return NFS4ERR_INVAL;
	}
	return secinfo_result(c, &res->u.opsecinfo_no_name);
}
