/*
 * tests/proto/test_ns_dirops.c: CREATE, READLINK, REMOVE, RENAME, LINK and
 * LOOKUP against a real daxnfsd, checked both through the protocol and on the
 * exported directory itself.
 */
#include <sys/sysmacros.h>

#include "test_ns_util.h"

static int setup(void **state)
{
	return ns_setup_opts(state, "ns_dirops", NULL);
}

static void local_path(const struct ns_fix *f, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", f->srv.export_dir, name);
}

/* CREATE name of type in the root; returns the status, cinfo and new fh. */
static nfsstat4 create_obj(struct nfs4_cl *cl, const char *dir, const char *name, nfs_ftype4 type,
			   const char *linkdata, int mode, change_info4 *ci, nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	CREATE4args *a;
	nfsstat4 st;
	uint8_t *vals;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
	a = &nfs4_cl_add(&cp, OP_CREATE)->u.opcreate;
	a->objtype.type = type;
	if (type == NF4LNK)
		a->objtype.u.linkdata = ns_str(&cp, linkdata);
	if (type == NF4BLK || type == NF4CHR) {
		a->objtype.u.devdata.specdata1 = 7;
		a->objtype.u.devdata.specdata2 = 3;
	}
	a->objname = ns_str(&cp, name);
	if (mode >= 0) {
		a->createattrs.attrmask = ns_bitmap(&cp, 0, 1u << (FATTR4_MODE - 32), 0);
		vals = arena_alloc(&cp.arena, 4);
		vals[0] = 0;
		vals[1] = 0;
		vals[2] = (uint8_t)(mode >> 8);
		vals[3] = (uint8_t)mode;
		a->createattrs.attr_vals.val = vals;
		a->createattrs.attr_vals.len = 4;
	}
	nfs4_cl_add(&cp, OP_GETFH);
	st = ns_send(&cp);
	if (st == NFS4_OK) {
		CREATE4resok *ok = &nfs4_cl_res(&cp, OP_CREATE)->u.opcreate.u.resok4;

		if (ci)
			*ci = ok->cinfo;
		if (mode >= 0)
			assert_true(ok->attrset.len >= 2 &&
				    (ok->attrset.val[1] & (1u << (FATTR4_MODE - 32))));
		if (fh)
			ns_fh_dup(fh, &nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object);
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_create_dir_symlink_fifo_socket_dev(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 64], buf[64];
	struct stat st;
	change_info4 ci;
	struct ns_attrs a;
	nfs_fh4 fh = { 0 };
	ssize_t n;

	assert_int_equal(create_obj(f->cl, "", "d", NF4DIR, NULL, 0750, &ci, &fh), NFS4_OK);
	assert_true(ci.after != ci.before);
	local_path(f, "d", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.type, NF4DIR);
	assert_int_equal(a.mode, 0750);
	ns_fh_free(&fh);

	assert_int_equal(create_obj(f->cl, "d", "ln", NF4LNK, "../target/x", -1, NULL, &fh), NFS4_OK);
	local_path(f, "d/ln", p, sizeof(p));
	n = readlink(p, buf, sizeof(buf));
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "../target/x", 11);
	{
		struct nfs4_cl_compound cp;
		READLINK4res *r;

		nfs4_cl_compound_init(&cp, f->cl);
		ns_putfh(&cp, &fh);
		nfs4_cl_add(&cp, OP_READLINK);
		assert_int_equal(ns_send(&cp), NFS4_OK);
		r = &nfs4_cl_res(&cp, OP_READLINK)->u.opreadlink;
		assert_int_equal(r->u.resok4.link.len, 11);
		assert_memory_equal(r->u.resok4.link.val, "../target/x", 11);
		nfs4_cl_compound_free(&cp);

		/* READLINK of a directory */
		nfs4_cl_compound_init(&cp, f->cl);
		nfs4_cl_add_path(&cp, "d");
		nfs4_cl_add(&cp, OP_READLINK);
		assert_int_equal(ns_send(&cp), NFS4ERR_INVAL);
		nfs4_cl_compound_free(&cp);

		/* LOOKUP through a symlink: NFS4ERR_SYMLINK */
		nfs4_cl_compound_init(&cp, f->cl);
		ns_putfh(&cp, &fh);
		nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, "x");
		assert_int_equal(ns_send(&cp), NFS4ERR_SYMLINK);
		nfs4_cl_compound_free(&cp);
	}
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.type, NF4LNK);
	assert_int_equal(a.size, 11);
	ns_fh_free(&fh);

	assert_int_equal(create_obj(f->cl, "d", "fifo", NF4FIFO, NULL, 0600, NULL, NULL), NFS4_OK);
	local_path(f, "d/fifo", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(create_obj(f->cl, "d", "sock", NF4SOCK, NULL, -1, NULL, NULL), NFS4_OK);
	local_path(f, "d/sock", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	assert_int_equal(create_obj(f->cl, "d", "chr", NF4CHR, NULL, 0600, NULL, &fh), NFS4_OK);
	local_path(f, "d/chr", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 7);
	assert_int_equal(minor(st.st_rdev), 3);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.type, NF4CHR);
	assert_int_equal(a.rawdev1, 7);
	assert_int_equal(a.rawdev2, 3);
	ns_fh_free(&fh);

	/* errors: existing name, NF4REG, bad names, a file as the directory */
	assert_int_equal(create_obj(f->cl, "", "d", NF4DIR, NULL, -1, NULL, NULL), NFS4ERR_EXIST);
	assert_int_equal(create_obj(f->cl, "", "r", NF4REG, NULL, -1, NULL, NULL), NFS4ERR_BADTYPE);
	assert_int_equal(create_obj(f->cl, "", "..", NF4DIR, NULL, -1, NULL, NULL), NFS4ERR_BADNAME);
	assert_int_equal(create_obj(f->cl, "", "a/b", NF4DIR, NULL, -1, NULL, NULL), NFS4ERR_BADCHAR);
	assert_int_equal(create_obj(f->cl, "", "", NF4DIR, NULL, -1, NULL, NULL), NFS4ERR_INVAL);
	assert_int_equal(create_obj(f->cl, "", "l2", NF4LNK, "", -1, NULL, NULL), NFS4ERR_INVAL);
	ns_mkfile(f->srv.export_dir, "plain", 0);
	assert_int_equal(create_obj(f->cl, "plain", "x", NF4DIR, NULL, -1, NULL, NULL),
			 NFS4ERR_NOTDIR);
}

static void test_remove(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 64];
	change_info4 ci;
	struct ns_attrs a;
	nfs_fh4 root = { 0 };

	ns_mkfile(f->srv.export_dir, "victim", 5);
	local_path(f, "full", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	ns_mkfile(p, "inside", 0);
	local_path(f, "empty", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);

	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	assert_int_equal(ns_remove(f->cl, "", "victim", &ci), NFS4_OK);
	assert_true(ci.before != ci.after);
	assert_int_equal(ns_getattr_fh(f->cl, &root, &a), NFS4_OK);
	assert_int_equal(a.change, ci.after);
	local_path(f, "victim", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);

	assert_int_equal(ns_remove(f->cl, "", "victim", NULL), NFS4ERR_NOENT);
	assert_int_equal(ns_remove(f->cl, "", "full", NULL), NFS4ERR_NOTEMPTY);
	assert_int_equal(ns_remove(f->cl, "", "empty", NULL), NFS4_OK);
	assert_int_equal(ns_remove(f->cl, "", ".", NULL), NFS4ERR_BADNAME);
	assert_int_equal(ns_remove(f->cl, "", "", NULL), NFS4ERR_INVAL);
	ns_fh_free(&root);
}

static void test_rename(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 64];
	RENAME4resok ok;
	struct stat st;
	nfs_fh4 fh = { 0 };
	struct ns_attrs a;

	local_path(f, "d1", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	local_path(f, "d2", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	ns_mkfile(f->srv.export_dir, "d1/f", 7);
	ns_mkfile(f->srv.export_dir, "d2/other", 9);
	assert_int_equal(ns_path_fh(f->cl, "d1/f", &fh), NFS4_OK);

	/* across directories */
	assert_int_equal(ns_rename(f->cl, "d1", "f", "d2", "g", &ok), NFS4_OK);
	assert_true(ok.source_cinfo.before != ok.source_cinfo.after);
	assert_true(ok.target_cinfo.before != ok.target_cinfo.after);
	local_path(f, "d2/g", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 7);
	/* the handle follows the file */
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.size, 7);

	/* over an existing file */
	assert_int_equal(ns_rename(f->cl, "d2", "g", "d2", "other", NULL), NFS4_OK);
	local_path(f, "d2/other", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 7);
	local_path(f, "d2/g", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);

	/* errors */
	assert_int_equal(ns_rename(f->cl, "d2", "nope", "d1", "x", NULL), NFS4ERR_NOENT);
	assert_int_equal(ns_rename(f->cl, "d2", "other", "d1", "..", NULL), NFS4ERR_BADNAME);
	assert_int_equal(ns_rename(f->cl, "d2", "other", "d2/other", "x", NULL), NFS4ERR_NOTDIR);
	ns_mkfile(f->srv.export_dir, "d1/in", 0);
	assert_int_equal(ns_rename(f->cl, "", "d2", "d1", "in", NULL), NFS4ERR_EXIST);
	/* a directory onto a non-empty directory; a file onto a directory */
	local_path(f, "d3", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ns_rename(f->cl, "", "d3", "", "d2", NULL), NFS4ERR_EXIST);
	assert_int_equal(ns_rename(f->cl, "d1", "in", "", "d3", NULL), NFS4ERR_EXIST);
	/* a directory onto an empty directory replaces it */
	local_path(f, "d4", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ns_rename(f->cl, "", "d4", "", "d3", NULL), NFS4_OK);
	local_path(f, "d4", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	ns_fh_free(&fh);
	{
		/* no saved fh */
		struct nfs4_cl_compound cp;
		RENAME4args *ra;

		nfs4_cl_compound_init(&cp, f->cl);
		nfs4_cl_add(&cp, OP_PUTROOTFH);
		ra = &nfs4_cl_add(&cp, OP_RENAME)->u.oprename;
		ra->oldname = ns_str(&cp, "d1");
		ra->newname = ns_str(&cp, "d3");
		assert_int_equal(ns_send(&cp), NFS4ERR_NOFILEHANDLE);
		nfs4_cl_compound_free(&cp);
	}
}

static void test_link_counts_links(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	struct ns_attrs a;
	struct stat st;
	char p[PATH_MAX + 64];
	nfs_fh4 fh = { 0 };
	change_info4 ci;

	ns_mkfile(f->srv.export_dir, "orig", 3);
	local_path(f, "ld", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ns_path_fh(f->cl, "orig", &fh), NFS4_OK);
	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.numlinks, 1);

	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, "ld");
	nfs4_cl_add(&cp, OP_LINK)->u.oplink.newname = ns_str(&cp, "alias");
	assert_int_equal(ns_send(&cp), NFS4_OK);
	ci = nfs4_cl_res(&cp, OP_LINK)->u.oplink.u.resok4.cinfo;
	assert_true(ci.before != ci.after);
	nfs4_cl_compound_free(&cp);

	assert_int_equal(ns_getattr_fh(f->cl, &fh, &a), NFS4_OK);
	assert_int_equal(a.numlinks, 2);
	local_path(f, "ld/alias", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);

	/* an existing name; a directory as the source */
	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, "ld");
	nfs4_cl_add(&cp, OP_LINK)->u.oplink.newname = ns_str(&cp, "alias");
	assert_int_equal(ns_send(&cp), NFS4ERR_EXIST);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "ld");
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_LINK)->u.oplink.newname = ns_str(&cp, "dirlink");
	assert_int_equal(ns_send(&cp), NFS4ERR_ISDIR);
	nfs4_cl_compound_free(&cp);
	ns_fh_free(&fh);
}

static void test_lookup_errors(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	char longname[300];

	ns_mkfile(f->srv.export_dir, "file", 0);
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "missing");
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "file/x");
	assert_int_equal(ns_send(&cp), NFS4ERR_NOTDIR);
	nfs4_cl_compound_free(&cp);

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, longname);
	assert_int_equal(ns_send(&cp), NFS4ERR_NAMETOOLONG);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, "\xff\xfe");
	assert_int_equal(ns_send(&cp), NFS4ERR_INVAL);
	nfs4_cl_compound_free(&cp);

	/* LOOKUPP of a symlink: SYMLINK, as LOOKUP */
	{
		char p[PATH_MAX + 64];

		local_path(f, "sl", p, sizeof(p));
		assert_int_equal(symlink("file", p), 0);
	}
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "sl");
	nfs4_cl_add(&cp, OP_LOOKUPP);
	assert_int_equal(ns_send(&cp), NFS4ERR_SYMLINK);
	nfs4_cl_compound_free(&cp);

	/* LOOKUPP of a file: NOTDIR; of the root: NOENT (single export at "/") */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "file");
	nfs4_cl_add(&cp, OP_LOOKUPP);
	assert_int_equal(ns_send(&cp), NFS4ERR_NOTDIR);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_LOOKUPP);
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);
}

static void test_secinfo(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	SECINFO4res *r;

	ns_mkfile(f->srv.export_dir, "s", 0);
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SECINFO)->u.opsecinfo.name = ns_str(&cp, "s");
	nfs4_cl_add(&cp, OP_GETFH);   /* SECINFO consumed the current fh */
	assert_int_equal(ns_send(&cp), NFS4ERR_NOFILEHANDLE);
	r = &nfs4_cl_res(&cp, OP_SECINFO)->u.opsecinfo;
	assert_int_equal(r->status, NFS4_OK);
	assert_true(r->u.resok4.len >= 1);
	assert_int_equal(r->u.resok4.val[0].flavor, RPC_AUTH_SYS);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SECINFO)->u.opsecinfo.name = ns_str(&cp, "nope");
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SECINFO_NO_NAME)->u.opsecinfo_no_name = SECINFO_STYLE4_CURRENT_FH;
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_int_equal(nfs4_cl_res(&cp, OP_SECINFO_NO_NAME)->u.opsecinfo_no_name.u.resok4.val[0].flavor,
			 RPC_AUTH_SYS);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SECINFO_NO_NAME)->u.opsecinfo_no_name = SECINFO_STYLE4_PARENT;
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_dir_symlink_fifo_socket_dev, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_link_counts_links, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_lookup_errors, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_secinfo, setup, ns_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
