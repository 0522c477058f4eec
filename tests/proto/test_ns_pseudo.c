/*
 * tests/proto/test_ns_pseudo.c: the pseudo file system joining two exports at
 * /a (read-write) and /b/c (read-only), against a real daxnfsd: the pseudo
 * root's attributes, READDIR of pseudo directories, LOOKUP into exports and
 * LOOKUPP back out and above the root, ROFS on pseudo nodes and read-only
 * exports, XDEV between exports, pseudo handles across a restart.
 */
#include "test_ns_util.h"

static char g_dir[PATH_MAX];

static int setup(void **state)
{
	static char conf[3 * PATH_MAX + 512];
	struct proto_server_opts o = { 0 };
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char p[PATH_MAX + 16];

	snprintf(g_dir, sizeof(g_dir), "%s/ns_pseudo_exports-%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(tmp ? tmp : "/tmp", 0755);
	mkdir(g_dir, 0755);
	snprintf(p, sizeof(p), "%s/ea", g_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ebc", g_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/enone", g_dir);
	mkdir(p, 0755);
	snprintf(conf, sizeof(conf),
		 "EXPORT { Export_Id = 1; Path = \"%s/ea\"; Pseudo = \"/a\"; Access_Type = RW; }\n"
		 "EXPORT { Export_Id = 2; Path = \"%s/ebc\"; Pseudo = \"/b/c\"; Access_Type = RO; }\n"
		 "EXPORT { Export_Id = 3; Path = \"%s/enone\"; Pseudo = \"/hidden\"; Access_Type = None; }\n",
		 g_dir, g_dir, g_dir);
	o.exports_conf = conf;
	return ns_setup_opts(state, "ns_pseudo", &o);
}

static int teardown(void **state)
{
	return ns_teardown_scratch(state, g_dir);
}

static nfsstat4 path_attrs(struct nfs4_cl *cl, const char *path, struct ns_attrs *a)
{
	nfs_fh4 fh = { 0 };
	nfsstat4 st = ns_path_fh(cl, path, &fh);

	if (st == NFS4_OK) {
		st = ns_getattr_fh(cl, &fh, a);
		ns_fh_free(&fh);
	}
	return st;
}

struct names {
	char name[4][16];
	uint64_t fsid_major[4], mounted_on[4], fileid[4];
	unsigned n;
};

static void collect(struct nfs4_cl *cl, const char *dir, struct names *out)
{
	struct nfs4_cl_compound cp;
	READDIR4args *a;

	memset(out, 0, sizeof(*out));
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
	a = &nfs4_cl_add(&cp, OP_READDIR)->u.opreaddir;
	a->maxcount = 8192;
	a->attr_request = ns_bitmap(&cp, (1u << FATTR4_FSID) | (1u << FATTR4_FILEID),
				    1u << (FATTR4_MOUNTED_ON_FILEID - 32), 0);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_true(nfs4_cl_res(&cp, OP_READDIR)->u.opreaddir.u.resok4.reply.eof);
	for (entry4 *e = nfs4_cl_res(&cp, OP_READDIR)->u.opreaddir.u.resok4.reply.entries; e;
	     e = e->nextentry) {
		struct ns_attrs at;

		assert_true(out->n < 4);
		assert_true(e->name.len < 16);
		memcpy(out->name[out->n], e->name.val, e->name.len);
		ns_attrs_parse(&e->attrs, &at);
		out->fsid_major[out->n] = at.fsid_major;
		out->mounted_on[out->n] = at.mounted_on_fileid;
		out->fileid[out->n] = at.fileid;
		out->n++;
	}
	nfs4_cl_compound_free(&cp);
}

static void test_pseudo_root_and_readdir(void **state)
{
	struct ns_fix *f = *state;
	struct ns_attrs root, a, c;
	struct names ls;

	assert_int_equal(path_attrs(f->cl, "", &root), NFS4_OK);
	assert_int_equal(root.type, NF4DIR);
	assert_int_equal(root.fsid_major, 0);
	assert_int_equal(root.fsid_minor, 0);
	assert_int_equal(root.mode, 0555);
	assert_int_equal(root.numlinks, 4);
	assert_true(root.fileid != 0);

	assert_int_equal(path_attrs(f->cl, "a", &a), NFS4_OK);
	assert_int_equal(a.fsid_major, 1);
	assert_int_equal(path_attrs(f->cl, "b/c", &c), NFS4_OK);
	assert_int_equal(c.fsid_major, 2);
	assert_true(a.mounted_on_fileid != a.fileid);   /* mounted on the pseudo node */

	collect(f->cl, "", &ls);
	assert_int_equal(ls.n, 2);
	assert_string_equal(ls.name[0], "a");
	assert_string_equal(ls.name[1], "b");
	assert_int_equal(ls.fsid_major[0], 1);          /* the export's root */
	assert_int_equal(ls.fileid[0], a.fileid);
	assert_int_equal(ls.mounted_on[0], a.mounted_on_fileid);
	assert_int_equal(ls.fsid_major[1], 0);          /* a pseudo directory */
	collect(f->cl, "b", &ls);
	assert_int_equal(ls.n, 1);
	assert_string_equal(ls.name[0], "c");
	assert_int_equal(ls.fsid_major[0], 2);
	collect(f->cl, "b/c", &ls);
	assert_int_equal(ls.n, 0);
}

static void test_lookupp_climbs_to_root_and_stops(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	nfs_fh4 root = { 0 }, b = { 0 };

	assert_int_equal(ns_path_fh(f->cl, "", &root), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "b", &b), NFS4_OK);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "b/c");
	nfs4_cl_add(&cp, OP_LOOKUPP);
	nfs4_cl_add(&cp, OP_GETFH);
	nfs4_cl_add(&cp, OP_LOOKUPP);
	nfs4_cl_add(&cp, OP_GETFH);
	nfs4_cl_add(&cp, OP_LOOKUPP);
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);   /* above the root */
	assert_int_equal(cp.nres, 9);
	assert_int_equal(cp.res[5].u.opgetfh.u.resok4.object.len, b.len);
	assert_memory_equal(cp.res[5].u.opgetfh.u.resok4.object.val, b.val, b.len);
	assert_int_equal(cp.res[7].u.opgetfh.u.resok4.object.len, root.len);
	assert_memory_equal(cp.res[7].u.opgetfh.u.resok4.object.val, root.val, root.len);
	nfs4_cl_compound_free(&cp);

	/* from inside an export: a directory, its parent, the export root, the pseudo root */
	{
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/ea/sub", g_dir);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "a/sub");
	nfs4_cl_add(&cp, OP_LOOKUPP);
	nfs4_cl_add(&cp, OP_LOOKUPP);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_int_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.len, root.len);
	assert_memory_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.val, root.val,
			    root.len);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "zzz");
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);

	/* an Access_Type = None export is not in the pseudo fs */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "hidden");
	assert_int_equal(ns_send(&cp), NFS4ERR_NOENT);
	nfs4_cl_compound_free(&cp);
	ns_fh_free(&root);
	ns_fh_free(&b);
}

static nfsstat4 mkdir_in(struct nfs4_cl *cl, const char *dir, const char *name)
{
	struct nfs4_cl_compound cp;
	CREATE4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
	a = &nfs4_cl_add(&cp, OP_CREATE)->u.opcreate;
	a->objtype.type = NF4DIR;
	a->objname = ns_str(&cp, name);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_rofs_and_xdev(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	char p[PATH_MAX + 16];

	assert_int_equal(mkdir_in(f->cl, "", "new"), NFS4ERR_ROFS);
	assert_int_equal(mkdir_in(f->cl, "b", "new"), NFS4ERR_ROFS);
	assert_int_equal(mkdir_in(f->cl, "b/c", "new"), NFS4ERR_ROFS);   /* RO export */
	assert_int_equal(mkdir_in(f->cl, "a", "new"), NFS4_OK);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_REMOVE)->u.opremove.target = ns_str(&cp, "a");
	assert_int_equal(ns_send(&cp), NFS4ERR_ROFS);
	nfs4_cl_compound_free(&cp);

	/* ACCESS: no write bits on the pseudo root or in the RO export */
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "b/c");
	nfs4_cl_add(&cp, OP_ACCESS)->u.opaccess.access =
		ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND;
	assert_int_equal(ns_send(&cp), NFS4_OK);
	assert_int_equal(nfs4_cl_res(&cp, OP_ACCESS)->u.opaccess.u.resok4.access,
			 ACCESS4_READ | ACCESS4_LOOKUP);
	nfs4_cl_compound_free(&cp);

	/* RENAME and LINK between exports */
	snprintf(p, sizeof(p), "%s/ea", g_dir);
	ns_mkfile(p, "f", 1);
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "a");
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, "b/c");
	nfs4_cl_add(&cp, OP_RENAME)->u.oprename.oldname = ns_str(&cp, "f");
	cp.ops[cp.nops - 1].u.oprename.newname = ns_str(&cp, "g");
	assert_int_equal(ns_send(&cp), NFS4ERR_XDEV);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "a/f");
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, "b/c");
	nfs4_cl_add(&cp, OP_LINK)->u.oplink.newname = ns_str(&cp, "g");
	assert_int_equal(ns_send(&cp), NFS4ERR_XDEV);
	nfs4_cl_compound_free(&cp);
}

static void test_pseudo_handles_survive_restart(void **state)
{
	struct ns_fix *f = *state;
	struct ns_attrs a;
	nfs_fh4 b = { 0 }, c = { 0 };

	assert_int_equal(ns_path_fh(f->cl, "b", &b), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "b/c", &c), NFS4_OK);
	nfs4_cl_close(f->cl, false);
	f->cl = NULL;
	assert_int_equal(proto_server_stop(&f->srv), 0);
	assert_int_equal(proto_server_restart(&f->srv), 0);
	f->cl = ns_client(&f->srv, "ns-pseudo-2");
	assert_int_equal(ns_getattr_fh(f->cl, &b, &a), NFS4_OK);
	assert_int_equal(a.fsid_major, 0);
	assert_int_equal(a.type, NF4DIR);
	assert_int_equal(ns_getattr_fh(f->cl, &c, &a), NFS4_OK);
	assert_int_equal(a.fsid_major, 2);
	ns_fh_free(&b);
	ns_fh_free(&c);
}

/* A third layout: one export at "/" with root squash and Anonymous_Uid 4242. */
static int setup_squash(void **state)
{
	static char conf[PATH_MAX + 256];
	struct proto_server_opts o = { 0 };
	const char *tmp = getenv("DAXNFS_TEST_TMP");

	snprintf(g_dir, sizeof(g_dir), "%s/ns_squash_export-%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(tmp ? tmp : "/tmp", 0755);
	mkdir(g_dir, 0777);
	chmod(g_dir, 0777);
	snprintf(conf, sizeof(conf),
		 "EXPORT { Export_Id = 9; Path = \"%s\"; Pseudo = /; Access_Type = RW;"
		 " Squash = root; Anonymous_Uid = 4242; Anonymous_Gid = 4343; }\n", g_dir);
	o.exports_conf = conf;
	return ns_setup_opts(state, "ns_squash", &o);
}

static void test_root_squash_creates_as_anonymous(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 16];
	struct stat st;
	struct ns_attrs a;

	/* a single export at "/": the root is the export itself */
	assert_int_equal(path_attrs(f->cl, "", &a), NFS4_OK);
	assert_int_equal(a.fsid_major, 9);
	assert_int_equal(mkdir_in(f->cl, "", "by_root"), NFS4_OK);
	snprintf(p, sizeof(p), "%s/by_root", g_dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 4242);
	assert_int_equal(st.st_gid, 4343);

	/* other users keep their identity */
	f->cl->cred.uid = 1000;
	f->cl->cred.gid = 1000;
	assert_int_equal(mkdir_in(f->cl, "", "by_user"), NFS4_OK);
	snprintf(p, sizeof(p), "%s/by_user", g_dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1000);
}

/* An export at "/" with another one at "/b/c": the first export's root shows
 * the junction "b" (a pseudo directory) beside its own entries. */
static int setup_nested(void **state)
{
	static char conf[2 * PATH_MAX + 512];
	struct proto_server_opts o = { 0 };
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char p[PATH_MAX + 16];

	snprintf(g_dir, sizeof(g_dir), "%s/ns_nested_exports-%d", tmp ? tmp : "/tmp", (int)getpid());
	mkdir(tmp ? tmp : "/tmp", 0755);
	mkdir(g_dir, 0755);
	snprintf(p, sizeof(p), "%s/top", g_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/inner", g_dir);
	mkdir(p, 0755);
	snprintf(conf, sizeof(conf),
		 "EXPORT { Export_Id = 1; Path = \"%s/top\"; Pseudo = /; }\n"
		 "EXPORT { Export_Id = 2; Path = \"%s/inner\"; Pseudo = \"/b/c\"; }\n",
		 g_dir, g_dir);
	o.exports_conf = conf;
	return ns_setup_opts(state, "ns_nested", &o);
}

static void test_junctions_in_an_export_root(void **state)
{
	struct ns_fix *f = *state;
	struct ns_attrs root, c;
	struct names ls;
	char p[PATH_MAX + 16];
	unsigned nb = 0;

	snprintf(p, sizeof(p), "%s/top", g_dir);
	ns_mkfile(p, "x", 0);
	snprintf(p, sizeof(p), "%s/top/b", g_dir);   /* hidden by the junction */
	assert_int_equal(mkdir(p, 0755), 0);

	assert_int_equal(path_attrs(f->cl, "", &root), NFS4_OK);
	assert_int_equal(root.fsid_major, 1);
	collect(f->cl, "", &ls);
	assert_int_equal(ls.n, 2);
	for (unsigned i = 0; i < ls.n; i++) {
		if (strcmp(ls.name[i], "b") == 0) {
			nb++;
			assert_int_equal(ls.fsid_major[i], 0);   /* the pseudo node, not top/b */
		} else {
			assert_string_equal(ls.name[i], "x");
			assert_int_equal(ls.fsid_major[i], 1);
		}
	}
	assert_int_equal(nb, 1);
	assert_int_equal(path_attrs(f->cl, "b/c", &c), NFS4_OK);
	assert_int_equal(c.fsid_major, 2);
	/* and back: b/c -> b -> the export root */
	{
		struct nfs4_cl_compound cp;
		nfs_fh4 rootfh = { 0 };

		assert_int_equal(ns_path_fh(f->cl, "", &rootfh), NFS4_OK);
		nfs4_cl_compound_init(&cp, f->cl);
		nfs4_cl_add_path(&cp, "b/c");
		nfs4_cl_add(&cp, OP_LOOKUPP);
		nfs4_cl_add(&cp, OP_LOOKUPP);
		nfs4_cl_add(&cp, OP_GETFH);
		assert_int_equal(ns_send(&cp), NFS4_OK);
		assert_int_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.len, rootfh.len);
		assert_memory_equal(nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object.val,
				    rootfh.val, rootfh.len);
		nfs4_cl_compound_free(&cp);
		ns_fh_free(&rootfh);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pseudo_root_and_readdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookupp_climbs_to_root_and_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rofs_and_xdev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pseudo_handles_survive_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_squash_creates_as_anonymous, setup_squash, teardown),
		cmocka_unit_test_setup_teardown(test_junctions_in_an_export_root, setup_nested, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
