/*
 * tests/proto/test_ns_util.h: helpers shared by the namespace protocol tests
 * (test_ns_*.c, test_attr_*.c): a server + session fixture, compound
 * shortcuts, and a decoder of the fattr4 values daxnfsd encodes.
 * Static functions only; each test includes it once.
 */
#ifndef DAXNFS_TESTS_PROTO_NS_UTIL_H
#define DAXNFS_TESTS_PROTO_NS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"

struct ns_fix {
	struct proto_server srv;
	struct nfs4_cl *cl;
};

static inline struct nfs4_cl *ns_client(struct proto_server *s, const char *owner)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_open_session(&cl, s->host, s->port, owner, 0), 0);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	return cl;
}

static inline int ns_setup_opts(void **state, const char *name, const struct proto_server_opts *o)
{
	struct ns_fix *f = calloc(1, sizeof(*f));

	if (!f || proto_server_start(&f->srv, name, o) < 0) {
		free(f);
		return -1;
	}
	f->cl = ns_client(&f->srv, "ns-client");
	*state = f;
	return 0;
}

static inline int ns_teardown(void **state)
{
	struct ns_fix *f = *state;
	int rc;

	if (f->cl)
		nfs4_cl_close(f->cl, true);
	rc = proto_server_stop(&f->srv);
	if (rc != 0)
		proto_server_dump_log(&f->srv);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* A scratch directory $DAXNFS_TEST_TMP/NAME-PID (into dir) holding the
 * directories subdirs (parents first), for tests that write their own EXPORT
 * blocks. 0 or -1. */
static inline int ns_scratch_mkdirs(char *dir, size_t cap, const char *name,
				    const char *const *subdirs, size_t n)
{
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char p[PATH_MAX + 64];
	size_t i;

	snprintf(dir, cap, "%s/%s-%d", tmp ? tmp : "/tmp", name, (int)getpid());
	mkdir(tmp ? tmp : "/tmp", 0755);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, subdirs[i]);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* ns_teardown, then the scratch directory goes. */
static inline int ns_teardown_scratch(void **state, const char *dir)
{
	char cmd[PATH_MAX + 32];
	int rc = ns_teardown(state);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = -1;
	return rc;
}

static inline struct xdr_opaque ns_str(struct nfs4_cl_compound *cp, const char *s)
{
	struct xdr_opaque o;
	size_t n = strlen(s);

	o.val = arena_memdup(&cp->arena, s, n ? n : 1);
	o.len = (uint32_t)n;
	return o;
}

static inline void ns_putfh(struct nfs4_cl_compound *cp, const nfs_fh4 *fh)
{
	nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = *fh;
}

/* Sends and asserts an RPC-level success; returns the compound status. */
static inline nfsstat4 ns_send(struct nfs4_cl_compound *cp)
{
	assert_int_equal(nfs4_cl_send(cp), 0);
	assert_int_equal(cp->accept_stat, RPC_SUCCESS);
	return cp->status;
}

/* REMOVE name in the directory at path dir ("" the root); its cinfo into ci
 * if given. */
static inline nfsstat4 ns_remove(struct nfs4_cl *cl, const char *dir, const char *name,
				 change_info4 *ci)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
	nfs4_cl_add(&cp, OP_REMOVE)->u.opremove.target = ns_str(&cp, name);
	st = ns_send(&cp);
	if (st == NFS4_OK && ci)
		*ci = nfs4_cl_res(&cp, OP_REMOVE)->u.opremove.u.resok4.cinfo;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* RENAME sdir/sname to ddir/dname (paths from the root); its result into ok
 * if given. */
static inline nfsstat4 ns_rename(struct nfs4_cl *cl, const char *sdir, const char *sname,
				 const char *ddir, const char *dname, RENAME4resok *ok)
{
	struct nfs4_cl_compound cp;
	RENAME4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, sdir);
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, ddir);
	a = &nfs4_cl_add(&cp, OP_RENAME)->u.oprename;
	a->oldname = ns_str(&cp, sname);
	a->newname = ns_str(&cp, dname);
	st = ns_send(&cp);
	if (st == NFS4_OK && ok)
		*ok = nfs4_cl_res(&cp, OP_RENAME)->u.oprename.u.resok4;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* PUTFH, READ of up to cap - 1 bytes at 0 under the anonymous stateid: the
 * bytes read into out, NUL-ended. */
static inline nfsstat4 ns_putfh_read(struct nfs4_cl *cl, const nfs_fh4 *fh, char *out, size_t cap)
{
	struct nfs4_cl_compound cp;
	stateid4 anon;
	nfsstat4 st;

	memset(&anon, 0, sizeof(anon));
	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add_read(&cp, &anon, 0, (uint32_t)(cap - 1));
	st = ns_send(&cp);
	out[0] = '\0';
	if (st == NFS4_OK) {
		READ4resok *r = &nfs4_cl_res(&cp, OP_READ)->u.opread.u.resok4;
		size_t n = r->data.len < cap - 1 ? r->data.len : cap - 1;

		memcpy(out, r->data.val, n);
		out[n] = '\0';
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ns_putfh_getattr(struct nfs4_cl *cl, const nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_TYPE, 0);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline bitmap4 ns_bitmap(struct nfs4_cl_compound *cp, uint32_t w0, uint32_t w1, uint32_t w2)
{
	bitmap4 b;

	b.val = arena_alloc(&cp->arena, 3 * sizeof(uint32_t));
	b.val[0] = w0;
	b.val[1] = w1;
	b.val[2] = w2;
	b.len = w2 ? 3 : 2;
	return b;
}

static inline void ns_fh_dup(nfs_fh4 *dst, const nfs_fh4 *src)
{
	dst->val = malloc(src->len ? src->len : 1);
	assert_non_null(dst->val);
	memcpy(dst->val, src->val, src->len);
	dst->len = src->len;
}

static inline void ns_fh_free(nfs_fh4 *fh)
{
	free(fh->val);
	fh->val = NULL;
	fh->len = 0;
}

/* The file handle of path ("" = the root); returns the compound status. */
static inline nfsstat4 ns_path_fh(struct nfs4_cl *cl, const char *path, nfs_fh4 *out)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, path);
	nfs4_cl_add(&cp, OP_GETFH);
	st = ns_send(&cp);
	if (st == NFS4_OK)
		ns_fh_dup(out, &nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object);
	nfs4_cl_compound_free(&cp);
	return st;
}

/* Everything daxnfsd can encode, decoded. */
struct ns_attrs {
	uint32_t mask[3];
	uint32_t supported[3];
	uint32_t type, fh_expire_type, lease_time, rdattr_error, maxlink, maxname;
	uint64_t change, size, fsid_major, fsid_minor, fileid, files_avail, files_free,
		 files_total, maxfilesize, maxread, maxwrite, space_avail, space_free,
		 space_total, space_used, mounted_on_fileid;
	bool link_support, symlink_support, named_attr, unique_handles, cansettime,
	     case_insensitive, case_preserving, chown_restricted, homogeneous, no_trunc;
	uint32_t mode, numlinks, rawdev1, rawdev2, layout_blksize, clone_blksize, nlayouts;
	uint32_t nfile_layouts, layout_alignment;   /* layout_types, layout_alignment */
	char owner[256], owner_group[256];
	uint8_t fh[NFS4_FHSIZE];
	uint32_t fhlen;
	int64_t atime, mtime, ctime, btime, delta_sec;
	uint32_t atime_ns, mtime_ns, ctime_ns, btime_ns, delta_ns;
	uint32_t exclcreat[3];
};

static inline bool ns_bit(const uint32_t *w, unsigned n)
{
	return n / 32 < 3 && (w[n / 32] >> (n % 32) & 1u);
}

static inline void ns_get_bitmap(struct xdr_stream *x, uint32_t out[3])
{
	uint32_t n, v;

	out[0] = out[1] = out[2] = 0;
	assert_true(xdr_get_u32(x, &n));
	for (uint32_t i = 0; i < n; i++) {
		assert_true(xdr_get_u32(x, &v));
		if (i < 3)
			out[i] = v;
	}
}

static inline void ns_get_str(struct xdr_stream *x, char *out, size_t cap)
{
	struct xdr_opaque o;

	assert_true(xdr_get_opaque(x, 0, &o));
	assert_true(o.len < cap);
	memcpy(out, o.val, o.len);
	out[o.len] = '\0';
}

/* Decodes f; fails the test on any attribute it does not know or on
 * leftover bytes, so it also proves the encoding is well-formed. */
static inline void ns_attrs_parse(const fattr4 *f, struct ns_attrs *a)
{
	struct xdr_stream x;
	struct arena ar;
	uint32_t b32;
	bool bv;

	memset(a, 0, sizeof(*a));
	for (uint32_t i = 0; i < f->attrmask.len && i < 3; i++)
		a->mask[i] = f->attrmask.val[i];
	arena_init(&ar, 0);
	xdr_init_decode(&x, f->attr_vals.val, f->attr_vals.len, &ar);
	for (unsigned n = 0; n < 96; n++) {
		if (!ns_bit(a->mask, n))
			continue;
		switch (n) {
		case FATTR4_SUPPORTED_ATTRS: ns_get_bitmap(&x, a->supported); break;
		case FATTR4_TYPE: assert_true(xdr_get_u32(&x, &a->type)); break;
		case FATTR4_FH_EXPIRE_TYPE: assert_true(xdr_get_u32(&x, &a->fh_expire_type)); break;
		case FATTR4_CHANGE: assert_true(xdr_get_u64(&x, &a->change)); break;
		case FATTR4_SIZE: assert_true(xdr_get_u64(&x, &a->size)); break;
		case FATTR4_LINK_SUPPORT: assert_true(xdr_get_bool(&x, &a->link_support)); break;
		case FATTR4_SYMLINK_SUPPORT: assert_true(xdr_get_bool(&x, &a->symlink_support)); break;
		case FATTR4_NAMED_ATTR: assert_true(xdr_get_bool(&x, &a->named_attr)); break;
		case FATTR4_FSID:
			assert_true(xdr_get_u64(&x, &a->fsid_major));
			assert_true(xdr_get_u64(&x, &a->fsid_minor));
			break;
		case FATTR4_UNIQUE_HANDLES: assert_true(xdr_get_bool(&x, &a->unique_handles)); break;
		case FATTR4_LEASE_TIME: assert_true(xdr_get_u32(&x, &a->lease_time)); break;
		case FATTR4_RDATTR_ERROR: assert_true(xdr_get_u32(&x, &a->rdattr_error)); break;
		case FATTR4_CANSETTIME: assert_true(xdr_get_bool(&x, &a->cansettime)); break;
		case FATTR4_CASE_INSENSITIVE: assert_true(xdr_get_bool(&x, &a->case_insensitive)); break;
		case FATTR4_CASE_PRESERVING: assert_true(xdr_get_bool(&x, &a->case_preserving)); break;
		case FATTR4_CHOWN_RESTRICTED: assert_true(xdr_get_bool(&x, &a->chown_restricted)); break;
		case FATTR4_FILEHANDLE: {
			struct xdr_opaque o;

			assert_true(xdr_get_opaque(&x, NFS4_FHSIZE, &o));
			memcpy(a->fh, o.val, o.len);
			a->fhlen = o.len;
			break;
		}
		case FATTR4_FILEID: assert_true(xdr_get_u64(&x, &a->fileid)); break;
		case FATTR4_FILES_AVAIL: assert_true(xdr_get_u64(&x, &a->files_avail)); break;
		case FATTR4_FILES_FREE: assert_true(xdr_get_u64(&x, &a->files_free)); break;
		case FATTR4_FILES_TOTAL: assert_true(xdr_get_u64(&x, &a->files_total)); break;
		case FATTR4_HOMOGENEOUS: assert_true(xdr_get_bool(&x, &a->homogeneous)); break;
		case FATTR4_MAXFILESIZE: assert_true(xdr_get_u64(&x, &a->maxfilesize)); break;
		case FATTR4_MAXLINK: assert_true(xdr_get_u32(&x, &a->maxlink)); break;
		case FATTR4_MAXNAME: assert_true(xdr_get_u32(&x, &a->maxname)); break;
		case FATTR4_MAXREAD: assert_true(xdr_get_u64(&x, &a->maxread)); break;
		case FATTR4_MAXWRITE: assert_true(xdr_get_u64(&x, &a->maxwrite)); break;
		case FATTR4_MODE: assert_true(xdr_get_u32(&x, &a->mode)); break;
		case FATTR4_NO_TRUNC: assert_true(xdr_get_bool(&x, &a->no_trunc)); break;
		case FATTR4_NUMLINKS: assert_true(xdr_get_u32(&x, &a->numlinks)); break;
		case FATTR4_OWNER: ns_get_str(&x, a->owner, sizeof(a->owner)); break;
		case FATTR4_OWNER_GROUP: ns_get_str(&x, a->owner_group, sizeof(a->owner_group)); break;
		case FATTR4_RAWDEV:
			assert_true(xdr_get_u32(&x, &a->rawdev1));
			assert_true(xdr_get_u32(&x, &a->rawdev2));
			break;
		case FATTR4_SPACE_AVAIL: assert_true(xdr_get_u64(&x, &a->space_avail)); break;
		case FATTR4_SPACE_FREE: assert_true(xdr_get_u64(&x, &a->space_free)); break;
		case FATTR4_SPACE_TOTAL: assert_true(xdr_get_u64(&x, &a->space_total)); break;
		case FATTR4_SPACE_USED: assert_true(xdr_get_u64(&x, &a->space_used)); break;
		case FATTR4_TIME_ACCESS:
			assert_true(xdr_get_i64(&x, &a->atime));
			assert_true(xdr_get_u32(&x, &a->atime_ns));
			break;
		case FATTR4_TIME_CREATE:
			assert_true(xdr_get_i64(&x, &a->btime));
			assert_true(xdr_get_u32(&x, &a->btime_ns));
			break;
		case FATTR4_TIME_DELTA:
			assert_true(xdr_get_i64(&x, &a->delta_sec));
			assert_true(xdr_get_u32(&x, &a->delta_ns));
			break;
		case FATTR4_TIME_METADATA:
			assert_true(xdr_get_i64(&x, &a->ctime));
			assert_true(xdr_get_u32(&x, &a->ctime_ns));
			break;
		case FATTR4_TIME_MODIFY:
			assert_true(xdr_get_i64(&x, &a->mtime));
			assert_true(xdr_get_u32(&x, &a->mtime_ns));
			break;
		case FATTR4_MOUNTED_ON_FILEID: assert_true(xdr_get_u64(&x, &a->mounted_on_fileid)); break;
		case FATTR4_FS_LAYOUT_TYPES:
			assert_true(xdr_get_u32(&x, &a->nlayouts));
			for (uint32_t i = 0; i < a->nlayouts; i++)
				assert_true(xdr_get_u32(&x, &b32));
			break;
		case FATTR4_LAYOUT_TYPES:
			assert_true(xdr_get_u32(&x, &a->nfile_layouts));
			for (uint32_t i = 0; i < a->nfile_layouts; i++)
				assert_true(xdr_get_u32(&x, &b32));
			break;
		case FATTR4_LAYOUT_BLKSIZE: assert_true(xdr_get_u32(&x, &a->layout_blksize)); break;
		case FATTR4_LAYOUT_ALIGNMENT:
			assert_true(xdr_get_u32(&x, &a->layout_alignment));
			break;
		case FATTR4_SUPPATTR_EXCLCREAT: ns_get_bitmap(&x, a->exclcreat); break;
		case FATTR4_CLONE_BLKSIZE: assert_true(xdr_get_u32(&x, &a->clone_blksize)); break;
		default:
			fail_msg("attribute %u returned but unknown to the test", n);
		}
	}
	(void)bv;
	assert_true(xdr_ok(&x));
	assert_int_equal(xdr_remaining(&x), 0);
	arena_release(&ar);
}

/* Every attribute the server says it supports (minus write-only ones). */
#define NS_ALL_W0 0xffffffffu
#define NS_ALL_W1 (0xffffffffu & ~((1u << (FATTR4_TIME_ACCESS_SET - 32)) | \
				   (1u << (FATTR4_TIME_MODIFY_SET - 32))))
#define NS_ALL_W2 0xffffffffu

/* GETATTR of everything on fh into a; returns the compound status. */
static inline nfsstat4 ns_getattr_fh(struct nfs4_cl *cl, const nfs_fh4 *fh, struct ns_attrs *a)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add(&cp, OP_GETATTR)->u.opgetattr.attr_request =
		ns_bitmap(&cp, NS_ALL_W0, NS_ALL_W1, NS_ALL_W2);
	st = ns_send(&cp);
	if (st == NFS4_OK)
		ns_attrs_parse(&nfs4_cl_res(&cp, OP_GETATTR)->u.opgetattr.u.resok4.obj_attributes, a);
	nfs4_cl_compound_free(&cp);
	return st;
}

/* Writes a local file of size bytes (the export is a real directory). */
static inline void ns_mkfile(const char *dir, const char *name, size_t size)
{
	char path[PATH_MAX + 256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

#endif
