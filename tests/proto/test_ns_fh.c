/*
 * tests/proto/test_ns_fh.c: file handles and the root, against a real
 * daxnfsd: PUTROOTFH/GETFH/GETATTR of the root, PUTPUBFH, garbled and stale
 * handles, SAVEFH/RESTOREFH, handles that survive a daemon restart.
 */
#include "test_ns_util.h"

static int setup(void **state)
{
	return ns_setup_opts(state, "ns_fh", NULL);
}

static void test_root_getattr_lists_required_attrs(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	struct ns_attrs a;
	nfs_fh4 *fh;
	static const unsigned required[] = {
		FATTR4_SUPPORTED_ATTRS, FATTR4_TYPE, FATTR4_FH_EXPIRE_TYPE, FATTR4_CHANGE,
		FATTR4_SIZE, FATTR4_LINK_SUPPORT, FATTR4_SYMLINK_SUPPORT, FATTR4_NAMED_ATTR,
		FATTR4_FSID, FATTR4_UNIQUE_HANDLES, FATTR4_LEASE_TIME, FATTR4_RDATTR_ERROR,
		FATTR4_FILEHANDLE, FATTR4_SUPPATTR_EXCLCREAT, FATTR4_FILEID, FATTR4_MODE,
		FATTR4_NUMLINKS, FATTR4_OWNER, FATTR4_OWNER_GROUP, FATTR4_SPACE_USED,
		FATTR4_TIME_ACCESS, FATTR4_TIME_METADATA, FATTR4_TIME_MODIFY,
		FATTR4_MOUNTED_ON_FILEID, FATTR4_MAXREAD, FATTR4_MAXWRITE, FATTR4_FS_LAYOUT_TYPES,
		FATTR4_LAYOUT_BLKSIZE,
	};

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_GETFH);
	nfs4_cl_add(&cp, OP_GETATTR)->u.opgetattr.attr_request =
		ns_bitmap(&cp, NS_ALL_W0, NS_ALL_W1, NS_ALL_W2);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	fh = &nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object;
	ns_attrs_parse(&nfs4_cl_res(&cp, OP_GETATTR)->u.opgetattr.u.resok4.obj_attributes, &a);

	for (unsigned i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		assert_true(ns_bit(a.supported, required[i]));
		assert_true(ns_bit(a.mask, required[i]));   /* and returned */
	}
	/* everything returned is in supported_attrs */
	for (unsigned n = 0; n < 96; n++)
		if (ns_bit(a.mask, n))
			assert_true(ns_bit(a.supported, n));
	/* the single default export at "/" is the root: a directory on fsid {1,1} */
	assert_int_equal(a.type, NF4DIR);
	assert_int_equal(a.fsid_major, 1);
	assert_int_equal(a.fsid_minor, 1);
	assert_int_equal(a.fh_expire_type, FH4_PERSISTENT);
	assert_true(a.lease_time > 0);
	assert_true(a.unique_handles && a.link_support && a.symlink_support);
	assert_false(a.named_attr);
	assert_int_equal(a.fhlen, fh->len);
	assert_memory_equal(a.fh, fh->val, fh->len);
	assert_true(a.maxread >= 4096 && a.maxwrite >= 4096);
	assert_true(a.maxname >= 255);
	assert_true(a.numlinks >= 2);
	assert_string_equal(a.owner, "0");            /* numeric for AUTH_SYS */
	assert_string_equal(a.owner_group, "0");
	assert_int_equal(a.mounted_on_fileid, a.fileid);
	assert_true(a.space_total > 0);
	assert_true(ns_bit(a.mask, FATTR4_TIME_CREATE));
	assert_true(a.btime > 0);
	assert_int_equal(a.delta_sec, 0);
	assert_int_equal(a.delta_ns, 1);
	assert_true(ns_bit(a.exclcreat, FATTR4_MODE));
	assert_int_equal(a.nlayouts, 0);
	nfs4_cl_compound_free(&cp);
}

static void test_putpubfh_is_the_root(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	nfs_fh4 root = { 0 };

	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTPUBFH);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_int_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.len, root.len);
	assert_memory_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.val, root.val,
			    root.len);
	nfs4_cl_compound_free(&cp);
	ns_fh_free(&root);
}

static nfsstat4 putfh_getattr(struct nfs4_cl *cl, const void *bytes, uint32_t len)
{
	struct nfs4_cl_compound cp;
	nfs_fh4 fh = { len, (uint8_t *)bytes };
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_TYPE, 0);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_garbled_handles_are_badhandle(void **state)
{
	struct ns_fix *f = *state;
	uint8_t junk[32];
	nfs_fh4 root = { 0 };
	uint8_t copy[NFS4_FHSIZE];

	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(putfh_getattr(f->cl, junk, sizeof(junk)), NFS4ERR_BADHANDLE);
	assert_int_equal(putfh_getattr(f->cl, junk, 1), NFS4ERR_BADHANDLE);
	assert_int_equal(putfh_getattr(f->cl, junk, 0), NFS4ERR_BADHANDLE);

	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	memcpy(copy, root.val, root.len);
	/* a truncated backend handle */
	assert_int_equal(putfh_getattr(f->cl, copy, 6), NFS4ERR_BADHANDLE);
	/* an export id nobody has: the MAC covers it (test_fh_forged.c) */
	copy[2] = 0x7f;
	copy[3] = 0x01;
	assert_int_equal(putfh_getattr(f->cl, copy, root.len), NFS4ERR_BADHANDLE);
	/* an unknown handle kind */
	memcpy(copy, root.val, root.len);
	copy[1] = 0x55;
	assert_int_equal(putfh_getattr(f->cl, copy, root.len), NFS4ERR_BADHANDLE);
	ns_fh_free(&root);
}

static void test_removed_file_is_stale(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64];
	nfs_fh4 fh = { 0 };

	ns_mkfile(f->srv.export_dir, "doomed", 10);
	assert_int_equal(ns_path_fh(f->cl, "doomed", &fh), NFS4_OK);
	assert_int_equal(putfh_getattr(f->cl, fh.val, fh.len), NFS4_OK);
	snprintf(path, sizeof(path), "%s/doomed", f->srv.export_dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(putfh_getattr(f->cl, fh.val, fh.len), NFS4ERR_STALE);
	ns_fh_free(&fh);
}

static void test_savefh_restorefh(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	nfs_fh4 root = { 0 }, sub = { 0 };

	{
		char p[PATH_MAX + 64];

		snprintf(p, sizeof(p), "%s/sub", f->srv.export_dir);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "sub", &sub), NFS4_OK);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, "sub");
	nfs4_cl_add(&cp, OP_GETFH);
	nfs4_cl_add(&cp, OP_RESTOREFH);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_int_equal(cp.nres, 7);   /* SEQUENCE + 6 */
	assert_int_equal(cp.res[4].u.opgetfh.u.resok4.object.len, sub.len);
	assert_memory_equal(cp.res[4].u.opgetfh.u.resok4.object.val, sub.val, sub.len);
	assert_int_equal(cp.res[6].u.opgetfh.u.resok4.object.len, root.len);
	assert_memory_equal(cp.res[6].u.opgetfh.u.resok4.object.val, root.val, root.len);
	nfs4_cl_compound_free(&cp);

	/* RESTOREFH with nothing saved */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_RESTOREFH);
	assert_int_equal(ns_send(&cp), NFS4ERR_RESTOREFH);
	nfs4_cl_compound_free(&cp);

	/* GETFH with no current fh */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(ns_send(&cp), NFS4ERR_NOFILEHANDLE);
	nfs4_cl_compound_free(&cp);
	ns_fh_free(&root);
	ns_fh_free(&sub);
}

static void test_handles_survive_restart(void **state)
{
	struct ns_fix *f = *state;
	struct ns_attrs before, after;
	nfs_fh4 fh = { 0 }, root = { 0 };

	ns_mkfile(f->srv.export_dir, "keeper", 1234);
	assert_int_equal(ns_path_fh(f->cl, "keeper", &fh), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &before), NFS4_OK);
	nfs4_cl_close(f->cl, false);
	f->cl = NULL;

	assert_int_equal(proto_server_stop(&f->srv), 0);
	assert_int_equal(proto_server_restart(&f->srv), 0);
	f->cl = ns_client(&f->srv, "ns-client-2");

	assert_int_equal(ns_getattr_fh(f->cl, &fh, &after), NFS4_OK);
	assert_int_equal(after.fileid, before.fileid);
	assert_int_equal(after.size, 1234);
	assert_int_equal(ns_getattr_fh(f->cl, &root, &after), NFS4_OK);
	assert_int_equal(after.type, NF4DIR);
	ns_fh_free(&fh);
	ns_fh_free(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root_getattr_lists_required_attrs, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_putpubfh_is_the_root, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_garbled_handles_are_badhandle, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_removed_file_is_stale, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_savefh_restorefh, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_handles_survive_restart, setup, ns_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
