/*
 * tests/proto/test_attr_setattr.c: SETATTR, VERIFY, NVERIFY, ACCESS and
 * GETATTR error cases against a real daxnfsd, checked through the protocol
 * and with stat(2) on the exported directory.
 */
#include "test_ns_util.h"

static int setup(void **state)
{
	return ns_setup_opts(state, "attr_setattr", NULL);
}

/* A fattr4 built by the caller with an xdr stream over an arena buffer. */
struct fa_build {
	uint32_t w[3];
	struct xdr_stream x;
	uint8_t *buf;
};

static void fa_init(struct nfs4_cl_compound *cp, struct fa_build *b)
{
	memset(b->w, 0, sizeof(b->w));
	b->buf = arena_alloc(&cp->arena, 1024);
	xdr_init_encode(&b->x, b->buf, 1024);
}

static fattr4 fa_done(struct nfs4_cl_compound *cp, struct fa_build *b)
{
	fattr4 f;

	assert_true(xdr_ok(&b->x));
	f.attrmask = ns_bitmap(cp, b->w[0], b->w[1], b->w[2]);
	f.attr_vals.val = b->buf;
	f.attr_vals.len = (uint32_t)xdr_pos(&b->x);
	return f;
}

static void fa_bit(struct fa_build *b, unsigned n)
{
	b->w[n / 32] |= 1u << (n % 32);
}

static nfsstat4 setattr_path(struct nfs4_cl *cl, const char *path, fattr4 (*build)(struct nfs4_cl_compound *, void *),
			     void *ctx, uint32_t *set0, uint32_t *set1)
{
	struct nfs4_cl_compound cp;
	SETATTR4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, path);
	a = &nfs4_cl_add(&cp, OP_SETATTR)->u.opsetattr;
	memset(&a->stateid, 0, sizeof(a->stateid));    /* anonymous */
	a->obj_attributes = build(&cp, ctx);
	st = ns_send(&cp);
	if (set0 || set1) {
		SETATTR4res *r = &nfs4_cl_res(&cp, OP_SETATTR)->u.opsetattr;

		if (set0)
			*set0 = r->attrsset.len > 0 ? r->attrsset.val[0] : 0;
		if (set1)
			*set1 = r->attrsset.len > 1 ? r->attrsset.val[1] : 0;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static fattr4 build_mode_size_times(struct nfs4_cl_compound *cp, void *ctx)
{
	struct fa_build b;

	(void)ctx;
	fa_init(cp, &b);
	fa_bit(&b, FATTR4_SIZE);
	xdr_put_u64(&b.x, 10);
	fa_bit(&b, FATTR4_MODE);
	xdr_put_u32(&b.x, 0600);
	fa_bit(&b, FATTR4_TIME_ACCESS_SET);
	xdr_put_u32(&b.x, SET_TO_CLIENT_TIME4);
	xdr_put_i64(&b.x, 1500000000);
	xdr_put_u32(&b.x, 7);
	fa_bit(&b, FATTR4_TIME_MODIFY_SET);
	xdr_put_u32(&b.x, SET_TO_CLIENT_TIME4);
	xdr_put_i64(&b.x, 1600000000);
	xdr_put_u32(&b.x, 123456789);
	return fa_done(cp, &b);
}

static fattr4 build_u32(struct nfs4_cl_compound *cp, void *ctx)
{
	const uint32_t *v = ctx;   /* {attr, value} */
	struct fa_build b;

	fa_init(cp, &b);
	fa_bit(&b, v[0]);
	xdr_put_u32(&b.x, v[1]);
	return fa_done(cp, &b);
}

static fattr4 build_u64(struct nfs4_cl_compound *cp, void *ctx)
{
	const uint64_t *v = ctx;   /* {attr, value} */
	struct fa_build b;

	fa_init(cp, &b);
	fa_bit(&b, (unsigned)v[0]);
	xdr_put_u64(&b.x, v[1]);
	return fa_done(cp, &b);
}

static fattr4 build_owner(struct nfs4_cl_compound *cp, void *ctx)
{
	const char *s = ctx;
	struct fa_build b;

	fa_init(cp, &b);
	fa_bit(&b, FATTR4_OWNER);
	xdr_put_opaque(&b.x, s, (uint32_t)strlen(s));
	return fa_done(cp, &b);
}

static fattr4 build_mtime_server(struct nfs4_cl_compound *cp, void *ctx)
{
	struct fa_build b;

	(void)ctx;
	fa_init(cp, &b);
	fa_bit(&b, FATTR4_TIME_MODIFY_SET);
	xdr_put_u32(&b.x, SET_TO_SERVER_TIME4);
	return fa_done(cp, &b);
}

static void test_setattr_mode_size_times(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 16];
	struct stat st;
	struct ns_attrs a;
	nfs_fh4 fh;
	uint32_t s0 = 0, s1 = 0;

	ns_mkfile(f->srv.export_dir, "f", 100);
	assert_int_equal(setattr_path(f->cl, "f", build_mode_size_times, NULL, &s0, &s1), NFS4_OK);
	assert_int_equal(s0, 1u << FATTR4_SIZE);
	assert_int_equal(s1, (1u << (FATTR4_MODE - 32)) | (1u << (FATTR4_TIME_ACCESS_SET - 32)) |
			     (1u << (FATTR4_TIME_MODIFY_SET - 32)));
	snprintf(p, sizeof(p), "%s/f", f->srv.export_dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_atim.tv_sec, 1500000000);
	assert_int_equal(st.st_atim.tv_nsec, 7);
	assert_int_equal(st.st_mtim.tv_sec, 1600000000);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);

	assert_int_equal(ns_path_fh(f->cl, "f", &fh), NFS4_OK);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.size, 10);
	assert_int_equal(a.mode, 0600);
	assert_int_equal(a.mtime, 1600000000);
	assert_int_equal(a.mtime_ns, 123456789);
	assert_int_equal(a.atime, 1500000000);

	/* server time */
	assert_int_equal(setattr_path(f->cl, "f", build_mtime_server, NULL, NULL, NULL), NFS4_OK);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_true(a.mtime > 1700000000);

	/* owner by number, as root */
	assert_int_equal(setattr_path(f->cl, "f", build_owner, "1000", NULL, NULL), NFS4_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_string_equal(a.owner, "1000");
	assert_int_equal(setattr_path(f->cl, "f", build_owner, "root@localdomain", NULL, NULL), NFS4_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 0);
	ns_fh_free(&fh);

	/* mode on a symlink is accepted and ignored (pynfs' clean_dir does it),
	 * and must not reach the link's target */
	{
		uint32_t mode[2] = { FATTR4_MODE, 0755 };
		char l[PATH_MAX + 16];

		snprintf(l, sizeof(l), "%s/lnk", f->srv.export_dir);
		assert_int_equal(symlink("f", l), 0);
		assert_int_equal(setattr_path(f->cl, "lnk", build_u32, mode, NULL, NULL), NFS4_OK);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
}

static void test_setattr_errors(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 16];
	uint64_t size_on_dir[2] = { FATTR4_SIZE, 0 };
	uint32_t type_attr[2] = { FATTR4_TYPE, NF4REG };
	uint32_t acl_like[2] = { FATTR4_ACL, 0 };
	uint32_t mode_bad[2] = { FATTR4_MODE, 0170000 };
	uint32_t mode_ok[2] = { FATTR4_MODE, 0644 };
	struct nfs4_cl_compound cp;

	snprintf(p, sizeof(p), "%s/dir", f->srv.export_dir);
	assert_int_equal(mkdir(p, 0755), 0);
	ns_mkfile(f->srv.export_dir, "rootfile", 1);
	assert_int_equal(setattr_path(f->cl, "dir", build_u64, size_on_dir, NULL, NULL), NFS4ERR_ISDIR);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_u32, type_attr, NULL, NULL), NFS4ERR_INVAL);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_u32, acl_like, NULL, NULL),
			 NFS4ERR_ATTRNOTSUPP);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_u32, mode_bad, NULL, NULL), NFS4ERR_INVAL);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_owner, "nobody@nowhere.example", NULL,
				      NULL), NFS4ERR_BADOWNER);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_owner, "12ab", NULL, NULL),
			 NFS4ERR_BADOWNER);

	/* uid 1000 may not chown or chmod a root file */
	f->cl->cred.uid = 1000;
	f->cl->cred.gid = 1000;
	assert_int_equal(setattr_path(f->cl, "rootfile", build_owner, "1000", NULL, NULL), NFS4ERR_PERM);
	assert_int_equal(setattr_path(f->cl, "rootfile", build_u32, mode_ok, NULL, NULL), NFS4ERR_PERM);
	f->cl->cred.uid = 0;
	f->cl->cred.gid = 0;

	/* write-only attributes cannot be read */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "rootfile");
	nfs4_cl_add_getattr(&cp, 0, 1u << (FATTR4_TIME_ACCESS_SET - 32));
	assert_int_equal(ns_send(&cp), NFS4ERR_INVAL);
	nfs4_cl_compound_free(&cp);
}

/* VERIFY (or NVERIFY) of one u64 attribute, then SETATTR mode 0640. */
static nfsstat4 verify_then_chmod(struct nfs4_cl *cl, const char *path, nfs_opnum4 op,
				  unsigned attr, uint64_t value)
{
	struct nfs4_cl_compound cp;
	struct fa_build b;
	fattr4 fa;
	SETATTR4args *sa;
	uint32_t mode[2] = { FATTR4_MODE, 0640 };
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, path);
	fa_init(&cp, &b);
	fa_bit(&b, attr);
	xdr_put_u64(&b.x, value);
	fa = fa_done(&cp, &b);
	if (op == OP_VERIFY)
		nfs4_cl_add(&cp, OP_VERIFY)->u.opverify.obj_attributes = fa;
	else
		nfs4_cl_add(&cp, OP_NVERIFY)->u.opnverify.obj_attributes = fa;
	sa = &nfs4_cl_add(&cp, OP_SETATTR)->u.opsetattr;
	sa->obj_attributes = build_u32(&cp, mode);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_verify_nverify_and_guard(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 16];
	struct ns_attrs a;
	struct stat st;
	nfs_fh4 fh;
	uint64_t old_change;

	ns_mkfile(f->srv.export_dir, "g", 33);
	snprintf(p, sizeof(p), "%s/g", f->srv.export_dir);
	assert_int_equal(ns_path_fh(f->cl, "g", &fh), NFS4_OK);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	old_change = a.change;

	/* VERIFY: SAME passes through, NOT_SAME stops the compound */
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_SIZE, 33), NFS4_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_SIZE, 34), NFS4ERR_NOT_SAME);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);   /* SETATTR did not run */

	/* the guard: the change attribute moved since we read it */
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_true(a.change != old_change);
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_CHANGE, old_change),
			 NFS4ERR_NOT_SAME);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_CHANGE, a.change), NFS4_OK);

	/* NVERIFY: the opposite */
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_NVERIFY, FATTR4_SIZE, 33), NFS4ERR_SAME);
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_NVERIFY, FATTR4_SIZE, 99), NFS4_OK);

	/* rdattr_error cannot be verified; unsupported attributes are ATTRNOTSUPP */
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_RDATTR_ERROR, 0), NFS4ERR_INVAL);
	assert_int_equal(verify_then_chmod(f->cl, "g", OP_VERIFY, FATTR4_QUOTA_USED, 0),
			 NFS4ERR_ATTRNOTSUPP);
	ns_fh_free(&fh);
}

static uint32_t access_of(struct nfs4_cl *cl, const char *path, uint32_t want, uint32_t *supported)
{
	struct nfs4_cl_compound cp;
	uint32_t got;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, path);
	nfs4_cl_add(&cp, OP_ACCESS)->u.opaccess.access = want;
	assert_int_equal(ns_send(&cp), NFS4_OK);
	got = nfs4_cl_res(&cp, OP_ACCESS)->u.opaccess.u.resok4.access;
	if (supported)
		*supported = nfs4_cl_res(&cp, OP_ACCESS)->u.opaccess.u.resok4.supported;
	nfs4_cl_compound_free(&cp);
	return got;
}

static void test_access_root_vs_user(void **state)
{
	struct ns_fix *f = *state;
	const uint32_t dirbits = ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND |
				 ACCESS4_DELETE;
	char p[PATH_MAX + 16];
	uint32_t sup = 0;

	snprintf(p, sizeof(p), "%s/priv", f->srv.export_dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 0700), 0);
	ns_mkfile(f->srv.export_dir, "pub", 0);
	snprintf(p, sizeof(p), "%s/pub", f->srv.export_dir);
	assert_int_equal(chmod(p, 0644), 0);

	assert_int_equal(access_of(f->cl, "priv", dirbits, &sup), dirbits);
	assert_int_equal(sup, dirbits);

	f->cl->cred.uid = 1000;
	f->cl->cred.gid = 1000;
	assert_int_equal(access_of(f->cl, "priv", dirbits, &sup), 0);
	assert_int_equal(sup, dirbits);
	assert_int_equal(access_of(f->cl, "pub", ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXECUTE, NULL),
			 ACCESS4_READ);
	/* and the kernel agrees: LOOKUP in priv fails for uid 1000 */
	{
		struct nfs4_cl_compound cp;

		nfs4_cl_compound_init(&cp, f->cl);
		nfs4_cl_add_path(&cp, "priv/x");
		assert_int_equal(ns_send(&cp), NFS4ERR_ACCESS);
		nfs4_cl_compound_free(&cp);
	}
	f->cl->cred.uid = 0;
	f->cl->cred.gid = 0;
	assert_int_equal(access_of(f->cl, "pub", ACCESS4_READ | ACCESS4_MODIFY, NULL),
			 ACCESS4_READ | ACCESS4_MODIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_setattr_mode_size_times, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_setattr_errors, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_verify_nverify_and_guard, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_access_root_vs_user, setup, ns_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
