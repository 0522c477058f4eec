/*
 * server/nfs4_attr.c: fattr4 encode and decode (RFC 8881 §5).
 *
 * Encoding walks the requested bitmap in attribute-number order and appends
 * each supported value to attr_vals; unsupported requests are left out and
 * the returned attrmask says what was encoded. Pseudo-fs nodes get
 * synthetic values (a read-only directory on their own fsid). Decoding for
 * SETATTR/CREATE/OPEN accepts the settable attributes only.
 * Calls: pmem/backend.h, nfs4_fh.h, nfs4_idmap.c, nfs4_state.h (lease time).
 * Called by: GETATTR, SETATTR, VERIFY, NVERIFY, READDIR, OPEN, CREATE.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_state.h"

#define ATTR_WORDS 3
#define ATTR_BUF 4096            /* the largest encoding: fh + two owners + fixed values */
#define MAXLINK 65000u
#define PSEUDO_FSID_MAJOR 0
#define PSEUDO_FSID_MINOR 0
#define EXPORT_FSID_MINOR 1      /* exports: {export id, 1}; the pseudo fs: {0, 0} */

#define W0(a) (1u << (a))
#define W1(a) (1u << ((a) - 32))
#define W2(a) (1u << ((a) - 64))

static const uint32_t supported_words[ATTR_WORDS] = {
	W0(FATTR4_SUPPORTED_ATTRS) | W0(FATTR4_TYPE) | W0(FATTR4_FH_EXPIRE_TYPE) |
	W0(FATTR4_CHANGE) | W0(FATTR4_SIZE) | W0(FATTR4_LINK_SUPPORT) |
	W0(FATTR4_SYMLINK_SUPPORT) | W0(FATTR4_NAMED_ATTR) | W0(FATTR4_FSID) |
	W0(FATTR4_UNIQUE_HANDLES) | W0(FATTR4_LEASE_TIME) | W0(FATTR4_RDATTR_ERROR) |
	W0(FATTR4_CANSETTIME) | W0(FATTR4_CASE_INSENSITIVE) | W0(FATTR4_CASE_PRESERVING) |
	W0(FATTR4_CHOWN_RESTRICTED) | W0(FATTR4_FILEHANDLE) | W0(FATTR4_FILEID) |
	W0(FATTR4_FILES_AVAIL) | W0(FATTR4_FILES_FREE) | W0(FATTR4_FILES_TOTAL) |
	W0(FATTR4_HOMOGENEOUS) | W0(FATTR4_MAXFILESIZE) | W0(FATTR4_MAXLINK) |
	W0(FATTR4_MAXNAME) | W0(FATTR4_MAXREAD) | W0(FATTR4_MAXWRITE),
	W1(FATTR4_MODE) | W1(FATTR4_NO_TRUNC) | W1(FATTR4_NUMLINKS) | W1(FATTR4_OWNER) |
	W1(FATTR4_OWNER_GROUP) | W1(FATTR4_RAWDEV) | W1(FATTR4_SPACE_AVAIL) |
	W1(FATTR4_SPACE_FREE) | W1(FATTR4_SPACE_TOTAL) | W1(FATTR4_SPACE_USED) |
	W1(FATTR4_TIME_ACCESS) | W1(FATTR4_TIME_ACCESS_SET) | W1(FATTR4_TIME_CREATE) |
	W1(FATTR4_TIME_DELTA) |
	W1(FATTR4_TIME_METADATA) | W1(FATTR4_TIME_MODIFY) | W1(FATTR4_TIME_MODIFY_SET) |
	W1(FATTR4_MOUNTED_ON_FILEID) | W1(FATTR4_FS_LAYOUT_TYPES),
	W2(FATTR4_LAYOUT_TYPES) | W2(FATTR4_LAYOUT_BLKSIZE) | W2(FATTR4_LAYOUT_ALIGNMENT) |
	W2(FATTR4_SUPPATTR_EXCLCREAT),
};
/* NFSv4.2 (RFC 7862) attributes, offered to minor version 2 only. */
static const uint32_t supported_words_v42[ATTR_WORDS] = {
	0, 0, W2(FATTR4_CLONE_BLKSIZE) | W2(FATTR4_XATTR_SUPPORT) | W2(FATTR4_OPEN_ARGUMENTS)
};
/* RFC 9754's delegated times: NFSv4.2, and only while the server offers
 * delegated timestamps (NFSV4 Delegated_Timestamps), since a client takes
 * their presence in supported_attrs as the offer. */
static const uint32_t deleg_time_words[ATTR_WORDS] = {
	0, 0, W2(FATTR4_TIME_DELEG_ACCESS) | W2(FATTR4_TIME_DELEG_MODIFY)
};

static const uint32_t settable_words[ATTR_WORDS] = {
	W0(FATTR4_SIZE),
	W1(FATTR4_MODE) | W1(FATTR4_OWNER) | W1(FATTR4_OWNER_GROUP) |
	W1(FATTR4_TIME_ACCESS_SET) | W1(FATTR4_TIME_MODIFY_SET),
	W2(FATTR4_TIME_DELEG_ACCESS) | W2(FATTR4_TIME_DELEG_MODIFY),
};
/* Settable at EXCLUSIVE4_1 create: not the times, where the verifier may live. */
static const uint32_t exclcreat_words[ATTR_WORDS] = {
	W0(FATTR4_SIZE),
	W1(FATTR4_MODE) | W1(FATTR4_OWNER) | W1(FATTR4_OWNER_GROUP),
	0,
};

bool nfs4_bitmap_isset(const bitmap4 *b, unsigned n)
{
	return n / 32 < b->len && (b->val[n / 32] >> (n % 32) & 1u);
}

unsigned nfs4_bitmap_nbits(const bitmap4 *b)
{
	return (b->len < ATTR_WORDS ? b->len : ATTR_WORDS) * 32;
}

bool nfs4_bitmap_beyond(const bitmap4 *b)
{
	for (uint32_t i = ATTR_WORDS; i < b->len; i++)
		if (b->val[i])
			return true;
	return false;
}

static bool words_isset(const uint32_t *w, unsigned n)
{
	return n / 32 < ATTR_WORDS && (w[n / 32] >> (n % 32) & 1u);
}

bool nfs4_attr_supported(const struct nfs4_compound *c, unsigned n)
{
	return words_isset(supported_words, n) ||
	       (c->minorversion >= 2 && words_isset(supported_words_v42, n)) ||
	       (c->minorversion >= 2 && nfs4_deleg_options(c->srv)->timestamps &&
		words_isset(deleg_time_words, n));
}

bool nfs4_attr_write_only(unsigned n)
{
	return n == FATTR4_TIME_ACCESS_SET || n == FATTR4_TIME_MODIFY_SET;
}

/* A bitmap4 from words, trailing zero words dropped; false on OOM. */
static bool bitmap_from_words(struct arena *a, const uint32_t *w, unsigned nw, bitmap4 *out)
{
	unsigned len = nw;

	while (len > 0 && w[len - 1] == 0)
		len--;
	out->len = len;
	out->val = NULL;
	if (len == 0)
		return true;
	out->val = arena_memdup(a, w, len * sizeof(uint32_t));
	return out->val != NULL;
}

void nfs4_suppattr_exclcreat(bitmap4 *out, struct arena *a)
{
	if (!bitmap_from_words(a, exclcreat_words, ATTR_WORDS, out))
		out->len = 0;
}

size_t nfs4_fattr_xdr_size(const fattr4 *f)
{
	return 4 + 4 * (size_t)f->attrmask.len + 4 + XDR_ROUNDUP(f->attr_vals.len);
}

/* ---- encoding ---- */

struct attr_src {
	struct nfs4_compound *c;
	const struct nfs4_fh *fh;
	struct pmem_attr a;
	struct pmem_fsstat fs;
	bool have_fs;
	uint64_t fsid_major, fsid_minor;
	uint64_t mounted_on;
};

static void pseudo_attr(const struct nfs4_pseudo_node *n, struct pmem_attr *a)
{
	int64_t boot = nfs4_export_boot_ns();

	memset(a, 0, sizeof(*a));
	a->type = PMEM_TYPE_DIR;
	a->mode = 0555;
	a->nlink = 2 + n->nchildren;
	a->size = 4096;
	a->space_used = 4096;
	a->fileid = n->id;
	a->atime.sec = a->mtime.sec = a->ctime.sec = boot / 1000000000;
	a->atime.nsec = a->mtime.nsec = a->ctime.nsec = (uint32_t)(boot % 1000000000);
	a->btime = a->ctime;
	a->change = (uint64_t)boot;
}

static int load_fsstat(struct attr_src *s)
{
	int err = 0;

	if (s->have_fs)
		return 0;
	memset(&s->fs, 0, sizeof(s->fs));
	if (s->fh->exp) {
		err = s->fh->exp->pexp->ops->fsstat(s->fh->exp->pexp, &s->fs);
	} else {
		/* the pseudo fs holds no files, but clients take limits from the
		 * mount's root: do not advertise zero */
		s->fs.name_max = 255;
		s->fs.max_file_size = INT64_MAX;
		s->fs.block_size = 4096;
	}
	if (!err)
		s->have_fs = true;
	return err;
}

static bool put_time(struct xdr_stream *x, const struct pmem_time *t)
{
	return xdr_put_i64(x, t->sec) && xdr_put_u32(x, t->nsec);
}

static bool put_bitmap_words(struct xdr_stream *x, const uint32_t *w, unsigned nw)
{
	unsigned len = nw;

	while (len > 0 && w[len - 1] == 0)
		len--;
	if (!xdr_put_u32(x, len))
		return false;
	for (unsigned i = 0; i < len; i++)
		if (!xdr_put_u32(x, w[i]))
			return false;
	return true;
}

/* Encodes attribute n from s; returns 0, 1 (not encoded: skip) or -errno. */
static int put_attr(struct xdr_stream *x, struct attr_src *s, unsigned n)
{
	const struct pmem_attr *a = &s->a;
	struct nfs4_compound *c = s->c;
	bool names = c->req && c->req->cred.flavor != RPC_AUTH_SYS &&
		     c->req->cred.flavor != RPC_AUTH_NONE;
	struct xdr_opaque str;
	int err;

	switch (n) {
	case FATTR4_SUPPORTED_ATTRS: {
		uint32_t w[ATTR_WORDS];

		for (unsigned i = 0; i < ATTR_WORDS; i++)
			w[i] = supported_words[i] | (c->minorversion >= 2 ? supported_words_v42[i] : 0) |
			       (c->minorversion >= 2 && nfs4_deleg_options(c->srv)->timestamps
				? deleg_time_words[i] : 0);
		put_bitmap_words(x, w, ATTR_WORDS);
		break;
	}
	case FATTR4_OPEN_ARGUMENTS: {
		/* What OPEN takes here (RFC 9754): every share access and deny,
		 * the delegation wants of RFC 8881 and those of RFC 9754 the
		 * administrator turned on, every claim but the DELEGATE_PREV
		 * ones, every create mode. */
		const struct nfs4_deleg_options *o = nfs4_deleg_options(c->srv);
		const uint32_t oa[5] = {
			W0(OPEN_ARGS_SHARE_ACCESS_READ) | W0(OPEN_ARGS_SHARE_ACCESS_WRITE) |
				W0(OPEN_ARGS_SHARE_ACCESS_BOTH),
			W0(OPEN_ARGS_SHARE_DENY_NONE) | W0(OPEN_ARGS_SHARE_DENY_READ) |
				W0(OPEN_ARGS_SHARE_DENY_WRITE) | W0(OPEN_ARGS_SHARE_DENY_BOTH),
			W0(OPEN_ARGS_SHARE_ACCESS_WANT_ANY_DELEG) |
				W0(OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG) |
				W0(OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL) |
				(o->timestamps ? W0(OPEN_ARGS_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS) : 0) |
				(o->open_xor ? W0(OPEN_ARGS_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION) : 0),
			W0(OPEN_ARGS_OPEN_CLAIM_NULL) | W0(OPEN_ARGS_OPEN_CLAIM_PREVIOUS) |
				W0(OPEN_ARGS_OPEN_CLAIM_DELEGATE_CUR) | W0(OPEN_ARGS_OPEN_CLAIM_FH) |
				W0(OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH),
			W0(OPEN_ARGS_CREATEMODE_UNCHECKED4) | W0(OPEN_ARGS_CREATE_MODE_GUARDED) |
				W0(OPEN_ARGS_CREATEMODE_EXCLUSIVE4) |
				W0(OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1),
		};

		for (unsigned i = 0; i < 5; i++)
			put_bitmap_words(x, &oa[i], 1);
		break;
	}
	case FATTR4_TYPE:             xdr_put_u32(x, (uint32_t)a->type); break;
	case FATTR4_FH_EXPIRE_TYPE:   xdr_put_u32(x, FH4_PERSISTENT); break;
	case FATTR4_CHANGE:           xdr_put_u64(x, a->change); break;
	case FATTR4_SIZE:             xdr_put_u64(x, a->size); break;
	case FATTR4_LINK_SUPPORT:     xdr_put_bool(x, true); break;
	case FATTR4_SYMLINK_SUPPORT:  xdr_put_bool(x, true); break;
	case FATTR4_NAMED_ATTR:       xdr_put_bool(x, false); break;
	case FATTR4_FSID:             xdr_put_u64(x, s->fsid_major); xdr_put_u64(x, s->fsid_minor); break;
	case FATTR4_UNIQUE_HANDLES:   xdr_put_bool(x, true); break;
	case FATTR4_LEASE_TIME:       xdr_put_u32(x, c->srv->lease_seconds); break;
	case FATTR4_RDATTR_ERROR:     xdr_put_u32(x, NFS4_OK); break;
	case FATTR4_CANSETTIME:       xdr_put_bool(x, true); break;
	case FATTR4_CASE_INSENSITIVE: xdr_put_bool(x, false); break;
	case FATTR4_CASE_PRESERVING:  xdr_put_bool(x, true); break;
	case FATTR4_CHOWN_RESTRICTED: xdr_put_bool(x, true); break;
	case FATTR4_FILEHANDLE:       xdr_put_opaque(x, s->fh->data, s->fh->len); break;
	case FATTR4_FILEID:           xdr_put_u64(x, a->fileid); break;
	case FATTR4_FILES_AVAIL:
	case FATTR4_FILES_FREE:
	case FATTR4_FILES_TOTAL:
	case FATTR4_MAXFILESIZE:
	case FATTR4_MAXNAME:
	case FATTR4_SPACE_AVAIL:
	case FATTR4_SPACE_FREE:
	case FATTR4_SPACE_TOTAL:
	case FATTR4_LAYOUT_BLKSIZE:
	case FATTR4_LAYOUT_ALIGNMENT:
	case FATTR4_CLONE_BLKSIZE:
	case FATTR4_XATTR_SUPPORT:
		err = load_fsstat(s);
		if (err)
			return err;
		switch (n) {
		case FATTR4_FILES_AVAIL:     xdr_put_u64(x, s->fs.files_avail); break;
		case FATTR4_FILES_FREE:      xdr_put_u64(x, s->fs.files_free); break;
		case FATTR4_FILES_TOTAL:     xdr_put_u64(x, s->fs.files_total); break;
		case FATTR4_MAXFILESIZE:     xdr_put_u64(x, s->fs.max_file_size); break;
		case FATTR4_MAXNAME:         xdr_put_u32(x, s->fs.name_max); break;
		case FATTR4_SPACE_AVAIL:     xdr_put_u64(x, s->fs.bytes_avail); break;
		case FATTR4_SPACE_FREE:      xdr_put_u64(x, s->fs.bytes_free); break;
		case FATTR4_SPACE_TOTAL:     xdr_put_u64(x, s->fs.bytes_total); break;
		case FATTR4_LAYOUT_BLKSIZE:  xdr_put_u32(x, s->fs.block_size); break;
		/* flex files takes any offset; the data server works best
		 * on whole blocks */
		case FATTR4_LAYOUT_ALIGNMENT: xdr_put_u32(x, s->fs.block_size); break;
		case FATTR4_CLONE_BLKSIZE:   xdr_put_u32(x, s->fs.block_size); break;
		case FATTR4_XATTR_SUPPORT:   xdr_put_bool(x, s->fs.xattr_user); break;
		}
		break;
	case FATTR4_HOMOGENEOUS:      xdr_put_bool(x, true); break;
	case FATTR4_MAXLINK:          xdr_put_u32(x, MAXLINK); break;
	case FATTR4_MAXREAD:          xdr_put_u64(x, nfs4_export_max_io()); break;
	case FATTR4_MAXWRITE:         xdr_put_u64(x, nfs4_export_max_io()); break;
	case FATTR4_MODE:             xdr_put_u32(x, a->mode & 07777); break;
	case FATTR4_NO_TRUNC:         xdr_put_bool(x, true); break;
	case FATTR4_NUMLINKS:         xdr_put_u32(x, a->nlink); break;
	case FATTR4_OWNER:
	case FATTR4_OWNER_GROUP:
		if (!nfs4_owner_encode(c->arena, n == FATTR4_OWNER ? a->uid : a->gid,
				       n == FATTR4_OWNER_GROUP, names, &str))
			return -ENOMEM;
		xdr_put_xopaque(x, &str);
		break;
	case FATTR4_RAWDEV:           xdr_put_u32(x, a->rdev_major); xdr_put_u32(x, a->rdev_minor); break;
	case FATTR4_SPACE_USED:       xdr_put_u64(x, a->space_used); break;
	case FATTR4_TIME_ACCESS:
	case FATTR4_TIME_DELEG_ACCESS: put_time(x, &a->atime); break;
	case FATTR4_TIME_DELTA: {
		struct pmem_time d = { 0, 1 };   /* nanosecond timestamps */

		put_time(x, &d);
		break;
	}
	case FATTR4_TIME_CREATE:      put_time(x, &a->btime); break;   /* ctime where the fs has no btime */
	case FATTR4_TIME_METADATA:    put_time(x, &a->ctime); break;
	case FATTR4_TIME_MODIFY:
	case FATTR4_TIME_DELEG_MODIFY: put_time(x, &a->mtime); break;
	case FATTR4_MOUNTED_ON_FILEID: xdr_put_u64(x, s->mounted_on); break;
	case FATTR4_FS_LAYOUT_TYPES:
		/* Files in an export, when pNFS is on: flexible file layouts. */
		if (c->srv->pnfs.enabled && s->fh && s->fh->obj) {
			xdr_put_u32(x, 1);
			xdr_put_u32(x, LAYOUT4_FLEX_FILES);
		} else {
			xdr_put_u32(x, 0);
		}
		break;
	case FATTR4_LAYOUT_TYPES:
		/* The layouts a regular file of an export has, when pNFS is on. */
		if (c->srv->pnfs.enabled && s->fh && s->fh->obj && a->type == PMEM_TYPE_REG) {
			xdr_put_u32(x, 1);
			xdr_put_u32(x, LAYOUT4_FLEX_FILES);
		} else {
			xdr_put_u32(x, 0);
		}
		break;
	case FATTR4_SUPPATTR_EXCLCREAT:
		put_bitmap_words(x, exclcreat_words, ATTR_WORDS);
		break;
	default:
		return 1;
	}
	return 0;
}

static nfsstat4 finish(struct nfs4_compound *c, uint32_t *done, struct xdr_stream *x,
		       uint8_t *buf, fattr4 *out)
{
	if (!xdr_ok(x))
		return NFS4ERR_SERVERFAULT;
	if (!bitmap_from_words(c->arena, done, ATTR_WORDS, &out->attrmask))
		return NFS4ERR_SERVERFAULT;
	out->attr_vals.len = (uint32_t)xdr_pos(x);
	out->attr_vals.val = arena_memdup(c->arena, buf, xdr_pos(x) ? xdr_pos(x) : 1);
	return out->attr_vals.val ? NFS4_OK : NFS4ERR_SERVERFAULT;
}

nfsstat4 nfs4_fattr_encode_ex(struct nfs4_compound *c, const struct nfs4_fh *fh,
			      const bitmap4 *want, const struct nfs4_fattr_opts *opts,
			      fattr4 *out)
{
	uint32_t done[ATTR_WORDS] = { 0 };
	struct attr_src s;
	struct xdr_stream x;
	uint8_t buf[ATTR_BUF];   /* copied out at its real size: READDIR encodes many */
	int err;

	memset(out, 0, sizeof(*out));
	xdr_init_encode(&x, buf, ATTR_BUF);

	if (opts && opts->rdattr_error != NFS4_OK) {
		/* The entry could not be reached: only what we know about it. */
		if (nfs4_bitmap_isset(want, FATTR4_RDATTR_ERROR)) {
			xdr_put_u32(&x, (uint32_t)opts->rdattr_error);
			done[0] |= W0(FATTR4_RDATTR_ERROR);
		}
		if (opts->have_mounted_on && nfs4_bitmap_isset(want, FATTR4_MOUNTED_ON_FILEID)) {
			xdr_put_u64(&x, opts->mounted_on_fileid);
			done[1] |= W1(FATTR4_MOUNTED_ON_FILEID);
		}
		return finish(c, done, &x, buf, out);
	}

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.fh = fh;
	if (fh->pseudo) {
		pseudo_attr(fh->pseudo, &s.a);
		s.fsid_major = PSEUDO_FSID_MAJOR;
		s.fsid_minor = PSEUDO_FSID_MINOR;
		s.mounted_on = s.a.fileid;
	} else if (fh->obj) {
		err = fh->obj->ops->getattr(fh->obj, &s.a);
		if (err)
			return nfs4_errno_to_status(err);
		s.fsid_major = fh->exp->conf.export_id;
		s.fsid_minor = EXPORT_FSID_MINOR;
		s.mounted_on = s.a.fileid;
		/* An export's root is mounted on its pseudo node (RFC 8881 §5.8.2.23). */
		if (nfs4_export_is_root(fh->exp, fh->obj) && fh->exp->node && fh->exp->node->parent)
			s.mounted_on = fh->exp->node->id;
	} else {
		return NFS4ERR_NOFILEHANDLE;
	}
	if (opts && opts->have_mounted_on)
		s.mounted_on = opts->mounted_on_fileid;
	if (opts && opts->have_deleg_attrs) {
		s.a.size = opts->deleg_size;
		s.a.change = opts->deleg_change;
	}
	if (opts && opts->have_deleg_atime)
		s.a.atime = opts->deleg_atime;
	if (opts && opts->have_deleg_mtime)
		s.a.mtime = opts->deleg_mtime;

	for (unsigned w = 0; w < want->len && w < ATTR_WORDS; w++) {
		for (unsigned b = 0; b < 32; b++) {
			unsigned n = w * 32 + b;

			if (!(want->val[w] >> b & 1u) || !nfs4_attr_supported(c, n) ||
			    nfs4_attr_write_only(n))
				continue;
			err = put_attr(&x, &s, n);
			if (err < 0)
				return nfs4_errno_to_status(err);
			if (err == 0)
				done[w] |= 1u << b;
		}
	}
	return finish(c, done, &x, buf, out);
}

nfsstat4 nfs4_fattr_encode(struct nfs4_compound *c, const struct nfs4_fh *fh,
			   const bitmap4 *want, fattr4 *out)
{
	return nfs4_fattr_encode_ex(c, fh, want, NULL, out);
}

/* ---- decoding (SETATTR, CREATE, OPEN) ---- */

static nfsstat4 get_settime(struct xdr_stream *x, uint32_t now_flag, uint32_t set_flag,
			    struct pmem_time *t, struct pmem_setattr *sa)
{
	uint32_t how;
	int64_t sec;
	uint32_t nsec;

	if (!xdr_get_u32(x, &how))
		return NFS4ERR_BADXDR;
	if (how == SET_TO_SERVER_TIME4) {
		sa->valid |= now_flag;
		return NFS4_OK;
	}
	if (how != SET_TO_CLIENT_TIME4)
		return NFS4ERR_BADXDR;
	if (!xdr_get_i64(x, &sec) || !xdr_get_u32(x, &nsec))
		return NFS4ERR_BADXDR;
	if (nsec >= 1000000000u)
		return NFS4ERR_INVAL;
	t->sec = sec;
	t->nsec = nsec;
	sa->valid |= set_flag;
	return NFS4_OK;
}

/* An nfstime4 (the delegated times of RFC 9754). */
static nfsstat4 get_time(struct xdr_stream *x, struct pmem_time *t)
{
	int64_t sec;
	uint32_t nsec;

	if (!xdr_get_i64(x, &sec) || !xdr_get_u32(x, &nsec))
		return NFS4ERR_BADXDR;
	if (nsec >= 1000000000u)
		return NFS4ERR_INVAL;
	t->sec = sec;
	t->nsec = nsec;
	return NFS4_OK;
}

nfsstat4 nfs4_fattr_to_setattr(struct nfs4_compound *c, const fattr4 *in, bool deleg_times,
			       struct pmem_setattr *out, bitmap4 *set)
{
	const bitmap4 *m = &in->attrmask;
	uint32_t done[ATTR_WORDS] = { 0 };
	struct xdr_stream x;
	nfsstat4 st = NFS4_OK;

	memset(out, 0, sizeof(*out));
	set->len = 0;
	set->val = NULL;
	/* Unsupported attributes first, then read-only ones (RFC 8881 §18.30.4). */
	if (nfs4_bitmap_beyond(m))
		return NFS4ERR_ATTRNOTSUPP;
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m); n++)
		if (nfs4_bitmap_isset(m, n) && !nfs4_attr_supported(c, n))
			return NFS4ERR_ATTRNOTSUPP;
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m); n++)
		if (nfs4_bitmap_isset(m, n) && (!words_isset(settable_words, n) ||
						(!deleg_times && words_isset(deleg_time_words, n))))
			return NFS4ERR_INVAL;

	xdr_init_decode(&x, in->attr_vals.val, in->attr_vals.len, c->arena);
	for (unsigned n = 0; n < nfs4_bitmap_nbits(m) && st == NFS4_OK; n++) {
		struct xdr_opaque str;
		uint32_t v;

		if (!nfs4_bitmap_isset(m, n))
			continue;
		switch (n) {
		case FATTR4_SIZE:
			if (!xdr_get_u64(&x, &out->size))
				return NFS4ERR_BADXDR;
			out->valid |= PMEM_SET_SIZE;
			break;
		case FATTR4_MODE:
			if (!xdr_get_u32(&x, &v))
				return NFS4ERR_BADXDR;
			if (v > 07777)
				return NFS4ERR_INVAL;
			out->mode = v;
			out->valid |= PMEM_SET_MODE;
			break;
		case FATTR4_OWNER:
		case FATTR4_OWNER_GROUP:
			if (!xdr_get_opaque(&x, 0, &str))
				return NFS4ERR_BADXDR;
			if (n == FATTR4_OWNER) {
				st = nfs4_owner_decode(&str, false, &out->uid);
				out->valid |= PMEM_SET_UID;
			} else {
				st = nfs4_owner_decode(&str, true, &out->gid);
				out->valid |= PMEM_SET_GID;
			}
			break;
		case FATTR4_TIME_ACCESS_SET:
			st = get_settime(&x, PMEM_SET_ATIME_NOW, PMEM_SET_ATIME, &out->atime, out);
			break;
		case FATTR4_TIME_MODIFY_SET:
			st = get_settime(&x, PMEM_SET_MTIME_NOW, PMEM_SET_MTIME, &out->mtime, out);
			break;
		case FATTR4_TIME_DELEG_ACCESS:
		case FATTR4_TIME_DELEG_MODIFY:
			/* One time for atime (or mtime) per SETATTR: with the
			 * _SET attribute too it would be set twice. */
			if (out->valid & (n == FATTR4_TIME_DELEG_ACCESS
					  ? PMEM_SET_ATIME | PMEM_SET_ATIME_NOW
					  : PMEM_SET_MTIME | PMEM_SET_MTIME_NOW))
				return NFS4ERR_INVAL;
			st = get_time(&x, n == FATTR4_TIME_DELEG_ACCESS ? &out->atime : &out->mtime);
			out->valid |= n == FATTR4_TIME_DELEG_ACCESS ? PMEM_SET_ATIME : PMEM_SET_MTIME;
			break;
		default:
			return NFS4ERR_ATTRNOTSUPP;
		}
		done[n / 32] |= 1u << (n % 32);
	}
	if (st != NFS4_OK)
		return st;
	if (!xdr_ok(&x) || xdr_remaining(&x) != 0)
		return NFS4ERR_BADXDR;
	if (!bitmap_from_words(c->arena, done, ATTR_WORDS, set))
		return NFS4ERR_SERVERFAULT;
	return NFS4_OK;
}
