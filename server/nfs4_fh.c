/*
 * server/nfs4_fh.c: file handles (format in nfs4_fh.h), the current and saved
 * filehandle operations (PUTFH, PUTROOTFH, PUTPUBFH, GETFH, SAVEFH,
 * RESTOREFH; RFC 8881 §18.19-18.22, §18.27-18.28) and the checks other
 * handlers share (writable export, directory, component names).
 * Calls: nfs4_export.h, nfs4_pseudo.h, nfs4_attr.h (errno table), backend.
 * Called by: the COMPOUND loop (through the op table) and every handler.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_fh_mac.h"
#include "server/nfs4_ops.h"

void nfs4_fh_clear(struct nfs4_fh *fh)
{
	if (!fh)
		return;
	pmem_obj_put(fh->obj);
	fh->obj = NULL;
	fh->exp = NULL;
	fh->pseudo = NULL;
	fh->len = 0;
}

void nfs4_fh_copy(struct nfs4_fh *dst, const struct nfs4_fh *src)
{
	if (dst == src)
		return;
	if (src->obj)
		pmem_obj_get(src->obj);
	nfs4_fh_clear(dst);
	dst->pseudo = src->pseudo;
	dst->exp = src->exp;
	dst->obj = src->obj;
	dst->len = src->len;
	memcpy(dst->data, src->data, src->len);
}

static void put_hdr(struct nfs4_fh *fh, uint8_t kind, uint16_t id)
{
	fh->data[0] = NFS4_FH_VERSION;
	fh->data[1] = kind;
	fh->data[2] = (uint8_t)(id >> 8);
	fh->data[3] = (uint8_t)id;
}

/* Seals a handle whose first len bytes are filled: appends the MAC. */
static void fh_seal(struct nfs4_fh *fh, size_t len)
{
	nfs4_fh_mac_compute(fh->data, len, fh->data + len);
	fh->len = (uint32_t)(len + NFS4_FH_MAC_LEN);
}

nfsstat4 nfs4_fh_from_obj(struct nfs4_export *exp, struct pmem_obj *obj, struct nfs4_fh *out)
{
	size_t hlen = NFS4_FHSIZE - NFS4_FH_HDR - NFS4_FH_MAC_LEN;
	int err;

	nfs4_fh_clear(out);
	err = obj->ops->to_handle(obj, out->data + NFS4_FH_HDR, &hlen);
	if (err) {
		pmem_obj_put(obj);
		return nfs4_errno_to_status(err);
	}
	put_hdr(out, NFS4_FH_OBJ, exp->conf.export_id);
	fh_seal(out, NFS4_FH_HDR + hlen);
	out->exp = exp;
	out->obj = obj;
	return NFS4_OK;
}

nfsstat4 nfs4_fh_from_node(struct nfs4_pseudo_node *n, struct nfs4_fh *out)
{
	nfs4_fh_clear(out);
	if (n->exp) {
		pmem_obj_get(n->exp->root);
		return nfs4_fh_from_obj(n->exp, n->exp->root, out);
	}
	put_hdr(out, NFS4_FH_PSEUDO, 0);
	for (int i = 0; i < 8; i++)
		out->data[NFS4_FH_HDR + i] = (uint8_t)(n->id >> (56 - 8 * i));
	fh_seal(out, NFS4_FH_HDR + 8);
	out->pseudo = n;
	return NFS4_OK;
}

nfsstat4 nfs4_fh_from_wire(const void *data, uint32_t len, struct nfs4_fh *out)
{
	const uint8_t *d = data;
	struct nfs4_export *exp;
	struct pmem_obj *obj = NULL;
	uint32_t body;
	uint16_t id;
	int err;

	nfs4_fh_clear(out);
	if (len < NFS4_FH_HDR + NFS4_FH_MAC_LEN || len > NFS4_FHSIZE || d[0] != NFS4_FH_VERSION)
		return NFS4ERR_BADHANDLE;
	if (!nfs4_fh_mac_check(d, len - NFS4_FH_MAC_LEN, d + len - NFS4_FH_MAC_LEN))
		return NFS4ERR_BADHANDLE;
	body = len - NFS4_FH_MAC_LEN;   /* what the MAC covers */
	id = (uint16_t)(d[2] << 8 | d[3]);
	switch (d[1]) {
	case NFS4_FH_PSEUDO: {
		struct nfs4_pseudo_node *n;
		uint64_t nid = 0;

		if (body != NFS4_FH_HDR + 8 || id != 0)
			return NFS4ERR_BADHANDLE;
		for (int i = 0; i < 8; i++)
			nid = nid << 8 | d[NFS4_FH_HDR + i];
		n = nfs4_pseudo_by_id(nid);
		if (!n)
			return NFS4ERR_STALE;
		if (n->exp)   /* an export was mounted over it since the handle was issued */
			return NFS4ERR_STALE;
		return nfs4_fh_from_node(n, out);
	}
	case NFS4_FH_OBJ:
		if (body == NFS4_FH_HDR || body - NFS4_FH_HDR > PMEM_HANDLE_MAX)
			return NFS4ERR_BADHANDLE;
		exp = nfs4_export_by_id(id);
		if (!exp)
			return NFS4ERR_STALE;
		if (exp->conf.access == CONF_ACCESS_NONE)
			return NFS4ERR_ACCESS;
		err = exp->pexp->ops->from_handle(exp->pexp, d + NFS4_FH_HDR, body - NFS4_FH_HDR, &obj);
		if (err)
			return err == -EBADF || err == -EINVAL ? NFS4ERR_BADHANDLE
							      : nfs4_errno_to_status(err);
		out->exp = exp;
		out->obj = obj;
		out->len = len;
		memcpy(out->data, d, len);
		return NFS4_OK;
	default:
		return NFS4ERR_BADHANDLE;
	}
}

void nfs4_fh_set_current(struct nfs4_compound *c, struct nfs4_fh *fh)
{
	nfs4_fh_clear(&c->cur);
	c->cur = *fh;
	memset(fh, 0, sizeof(*fh));
	/* a new current fh invalidates the current stateid (RFC 8881 §16.2.3.1.2) */
	c->cur_stateid_valid = false;
	nfs4_export_cred(c->cur.exp, c->req ? &c->req->cred : NULL, &c->cred);
}

enum pmem_obj_type nfs4_fh_type(const struct nfs4_fh *fh)
{
	if (fh->pseudo)
		return PMEM_TYPE_DIR;
	return fh->obj ? fh->obj->type : 0;
}

nfsstat4 nfs4_fh_check_writable(const struct nfs4_compound *c, const struct nfs4_fh *fh)
{
	(void)c;
	if (fh->pseudo || !fh->exp)
		return NFS4ERR_ROFS;
	switch (fh->exp->conf.access) {
	case CONF_ACCESS_RW:
		return NFS4_OK;
	case CONF_ACCESS_RO:
		return NFS4ERR_ROFS;
	default:
		return NFS4ERR_ACCESS;
	}
}

nfsstat4 nfs4_fh_check_dir(const struct nfs4_fh *fh, bool symlink_err)
{
	enum pmem_obj_type t = nfs4_fh_type(fh);

	if (t == PMEM_TYPE_DIR)
		return NFS4_OK;
	return t == PMEM_TYPE_LNK && symlink_err ? NFS4ERR_SYMLINK : NFS4ERR_NOTDIR;
}

nfsstat4 nfs4_fh_check_reg(const struct nfs4_fh *fh)
{
	switch (nfs4_fh_type(fh)) {
	case PMEM_TYPE_REG:
		return NFS4_OK;
	case PMEM_TYPE_DIR:
		return NFS4ERR_ISDIR;
	case PMEM_TYPE_LNK:
		return NFS4ERR_SYMLINK;
	default:
		return NFS4ERR_INVAL;
	}
}

uint64_t nfs4_fh_change(const struct nfs4_fh *fh)
{
	struct pmem_attr a;

	if (fh->pseudo)
		return (uint64_t)nfs4_export_boot_ns();
	if (!fh->obj || fh->obj->ops->getattr(fh->obj, &a))
		return 0;
	return a.change;
}

/*
 * Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF), and neither U+FFFE nor U+FFFF. Those two are noncharacters with
 * a meaning in 16-bit text handling: U+FFFE is a byte-swapped byte order
 * mark, the sign of text decoded in the wrong byte order, and U+FFFF is the
 * "no character" sentinel of many UTF-16 APIs; a name holding either was
 * mangled on its way, and pynfs lists both among the invalid strings a
 * server must refuse. The other noncharacters (U+FDD0-U+FDEF and the last
 * two code points of planes 1-16) are accepted: Unicode Corrigendum #9 lets
 * them be interchanged, and refusing them would leave local files with such
 * names unreachable over NFS.
 */
bool nfs4_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b = s[i];
		uint32_t cp;
		unsigned n;

		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xe0) == 0xc0) {
			n = 1;
			cp = b & 0x1f;
		} else if ((b & 0xf0) == 0xe0) {
			n = 2;
			cp = b & 0x0f;
		} else if ((b & 0xf8) == 0xf0) {
			n = 3;
			cp = b & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return false;
		i += n + 1;
	}
	return true;
}

nfsstat4 nfs4_name_check(struct nfs4_compound *c, const struct xdr_opaque *name, char **out)
{
	const uint8_t *s = name->val;
	uint32_t len = name->len;

	*out = NULL;
	if (len == 0)
		return NFS4ERR_INVAL;
	if (!nfs4_utf8_valid(s, len))
		return NFS4ERR_INVAL;
	if (len > NAME_MAX)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(s, '/', len) || memchr(s, '\0', len))
		return NFS4ERR_BADCHAR;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return NFS4ERR_BADNAME;
	*out = arena_strndup(c->arena, (const char *)s, len);
	return *out ? NFS4_OK : NFS4ERR_SERVERFAULT;
}

/* ---- operations ---- */

nfsstat4 nfs4_op_putfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	PUTFH4args *a = &args->u.opputfh;
	struct nfs4_fh fh = { 0 };
	nfsstat4 st;

	(void)res;
	st = nfs4_fh_from_wire(a->object.val, a->object.len, &fh);
	if (st == NFS4_OK)
		nfs4_fh_set_current(c, &fh);
	return st;
}

nfsstat4 nfs4_op_putrootfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	struct nfs4_pseudo_node *root = nfs4_pseudo_root();   /* once: a reload may swap it */
	struct nfs4_fh fh = { 0 };
	nfsstat4 st;

	(void)args;
	(void)res;
	if (!root)
		return NFS4ERR_SERVERFAULT;
	st = nfs4_fh_from_node(root, &fh);
	if (st == NFS4_OK)
		nfs4_fh_set_current(c, &fh);
	return st;
}

/* The public filehandle is the root of the pseudo fs (RFC 8881 §18.20). */
nfsstat4 nfs4_op_putpubfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	return nfs4_op_putrootfh(c, args, res);
}

nfsstat4 nfs4_op_getfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	GETFH4res *r = &res->u.opgetfh;
	uint8_t *copy;

	(void)args;
	copy = arena_memdup(c->arena, c->cur.data, c->cur.len);
	if (!copy)
		return NFS4ERR_SERVERFAULT;
	r->u.resok4.object.len = c->cur.len;
	r->u.resok4.object.val = copy;
	return NFS4_OK;
}

nfsstat4 nfs4_op_savefh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	(void)args;
	(void)res;
	nfs4_fh_copy(&c->saved, &c->cur);
	c->saved_stateid = c->cur_stateid;
	c->saved_stateid_valid = c->cur_stateid_valid;
	return NFS4_OK;
}

nfsstat4 nfs4_op_restorefh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	(void)args;
	(void)res;
	if (!c->saved.len)
		return NFS4ERR_RESTOREFH;
	nfs4_fh_copy(&c->cur, &c->saved);
	nfs4_export_cred(c->cur.exp, c->req ? &c->req->cred : NULL, &c->cred);
	c->cur_stateid = c->saved_stateid;
	c->cur_stateid_valid = c->saved_stateid_valid;
	return NFS4_OK;
}
