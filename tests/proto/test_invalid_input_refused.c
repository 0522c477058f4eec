/*
 * tests/proto/test_invalid_input_refused.c: input a server must refuse,
 * against a real daxnfsd:
 *  - a COMPOUND tag that is not valid UTF-8 (bad bytes, an overlong form, a
 *    surrogate, U+FFFE, U+FFFF): NFS4ERR_INVAL with the tag echoed and no
 *    results, nothing executed (RFC 8881 §16.2.3, §14.4);
 *  - component names holding U+FFFE or U+FFFF: NFS4ERR_INVAL for LOOKUP,
 *    OPEN and CREATE (nothing is created); other noncharacters such as
 *    U+FDD0 and U+1FFFE are accepted;
 *  - READDIR cookies the server never gave out: NFS4ERR_BAD_COOKIE, in an
 *    export directory, a pseudo directory and among an export root's
 *    junctions (RFC 8881 §18.23.3), while every cookie it did give out,
 *    mid-reply or last, keeps working, also after a restart.
 */
#include "test_ns_util.h"

#include <dirent.h>

static char g_dir[PATH_MAX];

static int setup(void **state)
{
	return ns_setup_opts(state, "invalid_input", NULL);
}

/* An export at / (top) with another at /b/c (inner): / lists the junction
 * "b", and /b is a pseudo directory. */
static int setup_junctions(void **state)
{
	static char conf[2 * PATH_MAX + 256];
	struct proto_server_opts o = { 0 };
	static const char *const dirs[] = { "top", "inner" };

	if (ns_scratch_mkdirs(g_dir, sizeof(g_dir), "invalid_input_exports", dirs, 2) < 0)
		return -1;
	snprintf(conf, sizeof(conf),
		 "EXPORT { Export_Id = 1; Path = \"%s/top\"; Pseudo = /; Access_Type = RW; Squash = none; }\n"
		 "EXPORT { Export_Id = 2; Path = \"%s/inner\"; Pseudo = \"/b/c\"; Access_Type = RW; Squash = none; }\n",
		 g_dir, g_dir);
	o.exports_conf = conf;
	return ns_setup_opts(state, "invalid_input_j", &o);
}

/* ---- tags ---- */

/* A compound of one PUTROOTFH and a GETATTR with tag bytes tag. */
static void check_tag(struct nfs4_cl *cl, const char *tag, nfsstat4 want)
{
	struct nfs4_cl_compound cp;

	nfs4_cl_compound_init(&cp, cl);
	snprintf(cp.tag, sizeof(cp.tag), "%s", tag);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_TYPE, 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.accept_stat, RPC_SUCCESS);
	assert_int_equal(cp.status, want);
	/* the tag comes back as sent */
	assert_int_equal(cp.res_tag.len, strlen(tag));
	assert_memory_equal(cp.res_tag.val, tag, strlen(tag));
	if (want == NFS4ERR_INVAL) {
		assert_int_equal(cp.nres, 0);   /* not even SEQUENCE ran */
	} else {
		assert_int_equal(cp.nres, 3);
	}
	nfs4_cl_compound_free(&cp);
}

static void test_tag_not_utf8_is_inval(void **state)
{
	struct ns_fix *f = *state;

	check_tag(f->cl, "plain tag", NFS4_OK);
	check_tag(f->cl, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NFS4_OK);
	check_tag(f->cl, "\xef\xb7\x90 U+FDD0", NFS4_OK);
	check_tag(f->cl, "bad \xff\xfe bytes", NFS4ERR_INVAL);
	check_tag(f->cl, "overlong \xc0\xaf", NFS4ERR_INVAL);
	check_tag(f->cl, "surrogate \xed\xa0\x80", NFS4ERR_INVAL);
	check_tag(f->cl, "cut \xe2\x82", NFS4ERR_INVAL);
	check_tag(f->cl, "U+FFFE \xef\xbf\xbe", NFS4ERR_INVAL);
	check_tag(f->cl, "U+FFFF \xef\xbf\xbf", NFS4ERR_INVAL);
	/* the session still works after refused compounds */
	assert_int_equal(nfs4_cl_sequence(f->cl), NFS4_OK);
	check_tag(f->cl, "again", NFS4_OK);
}

/* ---- names ---- */

static nfsstat4 lookup(struct nfs4_cl *cl, const char *name)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, name);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 mkdir_nfs(struct nfs4_cl *cl, const char *name)
{
	struct nfs4_cl_compound cp;
	CREATE4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	a = &nfs4_cl_add(&cp, OP_CREATE)->u.opcreate;
	a->objtype.type = NF4DIR;
	a->objname = ns_str(&cp, name);
	a->createattrs.attrmask = ns_bitmap(&cp, 0, 0, 0);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 open_create(struct nfs4_cl *cl, const char *name)
{
	return nfs4_cl_open_file(cl, name, true, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
				 NULL, NULL);
}

static unsigned export_entries(const struct ns_fix *f)
{
	DIR *d = opendir(f->srv.export_dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_noncharacter_names_are_inval(void **state)
{
	struct ns_fix *f = *state;
	static const char *const refused[] = {
		"a\xef\xbf\xbe" "b",    /* U+FFFE */
		"a\xef\xbf\xbf" "b",    /* U+FFFF */
		"\xef\xbf\xbe",
	};
	unsigned before = export_entries(f);

	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(lookup(f->cl, refused[i]), NFS4ERR_INVAL);
		assert_int_equal(open_create(f->cl, refused[i]), NFS4ERR_INVAL);
		assert_int_equal(mkdir_nfs(f->cl, refused[i]), NFS4ERR_INVAL);
	}
	assert_int_equal(export_entries(f), before);   /* nothing was created */
	/* other noncharacters are names like any other */
	assert_int_equal(lookup(f->cl, "x\xef\xb7\x90y"), NFS4ERR_NOENT);         /* U+FDD0 */
	assert_int_equal(lookup(f->cl, "x\xf0\x9f\xbf\xbey"), NFS4ERR_NOENT);     /* U+1FFFE */
	assert_int_equal(mkdir_nfs(f->cl, "d\xef\xb7\x90"), NFS4_OK);
	assert_int_equal(lookup(f->cl, "d\xef\xb7\x90"), NFS4_OK);
	/* and U+FFFD, the replacement character, is an ordinary character */
	assert_int_equal(lookup(f->cl, "r\xef\xbf\xbd"), NFS4ERR_NOENT);
}

/* ---- READDIR cookies ---- */

struct rd_out {
	nfsstat4 status;
	unsigned n;
	bool eof;
	uint64_t cookies[16];
	uint8_t verf[NFS4_VERIFIER_SIZE];
};

static struct rd_out readdir_fh(struct nfs4_cl *cl, const char *path, uint64_t cookie,
				const uint8_t *verf)
{
	struct nfs4_cl_compound cp;
	READDIR4args *a;
	struct rd_out out = { 0 };

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, path);
	a = &nfs4_cl_add(&cp, OP_READDIR)->u.opreaddir;
	a->cookie = cookie;
	if (verf)
		memcpy(a->cookieverf, verf, NFS4_VERIFIER_SIZE);
	a->dircount = 0;
	a->maxcount = 8192;
	a->attr_request = ns_bitmap(&cp, 0, 0, 0);
	out.status = ns_send(&cp);
	if (out.status == NFS4_OK) {
		READDIR4resok *ok = &nfs4_cl_res(&cp, OP_READDIR)->u.opreaddir.u.resok4;

		memcpy(out.verf, ok->cookieverf, sizeof(out.verf));
		out.eof = ok->reply.eof;
		for (entry4 *e = ok->reply.entries; e; e = e->nextentry)
			if (out.n < 16)
				out.cookies[out.n++] = e->cookie;
	}
	nfs4_cl_compound_free(&cp);
	return out;
}

static void test_cookie_never_given_out_is_bad_cookie(void **state)
{
	struct ns_fix *f = *state;
	char dir[PATH_MAX + 16];
	struct rd_out all, r;
	uint64_t bogus;

	snprintf(dir, sizeof(dir), "%s/five", f->srv.export_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (unsigned i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "e%u", i);
		ns_mkfile(dir, name, 0);
	}
	all = readdir_fh(f->cl, "five", 0, NULL);
	assert_int_equal(all.status, NFS4_OK);
	assert_int_equal(all.n, 5);
	assert_true(all.eof);

	/* cookies nobody was given, with our verifier */
	bogus = all.cookies[4] + 1;
	for (unsigned i = 0; i < 5; i++)
		if (all.cookies[i] == bogus)
			bogus += 7;
	assert_int_equal(readdir_fh(f->cl, "five", bogus, all.verf).status, NFS4ERR_BAD_COOKIE);
	assert_int_equal(readdir_fh(f->cl, "five", 0x123456789abcull, all.verf).status,
			 NFS4ERR_BAD_COOKIE);
	assert_int_equal(readdir_fh(f->cl, "five", 3, all.verf).status, NFS4ERR_BAD_COOKIE);
	/* a cookie of another directory is none of this one's (unless the
	 * filesystem happens to use the same offset in both) */
	r = readdir_fh(f->cl, "", 0, NULL);
	assert_int_equal(r.status, NFS4_OK);
	for (unsigned i = 0; i < 5; i++) {
		bool shared = false;

		for (unsigned k = 0; k < r.n; k++)
			shared |= r.cookies[k] == all.cookies[i];
		if (shared)
			continue;
		assert_int_equal(readdir_fh(f->cl, "", all.cookies[i], all.verf).status,
				 NFS4ERR_BAD_COOKIE);
		break;
	}

	/* every cookie that was given out resumes the listing after its entry */
	for (unsigned i = 0; i < 5; i++) {
		r = readdir_fh(f->cl, "five", all.cookies[i], all.verf);
		assert_int_equal(r.status, NFS4_OK);
		assert_int_equal(r.n, 4 - i);
		assert_true(r.eof);
		if (r.n)
			assert_true(r.cookies[0] == all.cookies[i + 1]);
	}

	/* ... also after a restart, when the server remembers none of them */
	assert_int_equal(proto_server_kill(&f->srv), 0);
	assert_int_equal(proto_server_restart(&f->srv), 0);
	nfs4_cl_close(f->cl, false);
	f->cl = ns_client(&f->srv, "ns-client-2");
	r = readdir_fh(f->cl, "five", all.cookies[1], all.verf);
	assert_int_equal(r.status, NFS4_OK);
	assert_int_equal(r.n, 3);
	assert_int_equal(readdir_fh(f->cl, "five", bogus, all.verf).status, NFS4ERR_BAD_COOKIE);
}

static void test_pseudo_and_junction_cookies_checked(void **state)
{
	struct ns_fix *f = *state;
	struct rd_out root, b;

	/* "/" is an export root listing the junction "b" after its entries */
	root = readdir_fh(f->cl, "", 0, NULL);
	assert_int_equal(root.status, NFS4_OK);
	assert_int_equal(root.n, 1);
	assert_true(root.eof);
	assert_int_equal(readdir_fh(f->cl, "", root.cookies[0], root.verf).status, NFS4_OK);
	assert_int_equal(readdir_fh(f->cl, "", root.cookies[0] + 5, root.verf).status,
			 NFS4ERR_BAD_COOKIE);
	/* "/b" is a pseudo directory with the one child "c" */
	b = readdir_fh(f->cl, "b", 0, NULL);
	assert_int_equal(b.status, NFS4_OK);
	assert_int_equal(b.n, 1);
	assert_int_equal(readdir_fh(f->cl, "b", b.cookies[0], b.verf).status, NFS4_OK);
	assert_int_equal(readdir_fh(f->cl, "b", b.cookies[0] + 1, b.verf).status,
			 NFS4ERR_BAD_COOKIE);
	assert_int_equal(readdir_fh(f->cl, "b", 1000, b.verf).status, NFS4ERR_BAD_COOKIE);
}

static int teardown_junctions(void **state)
{
	return ns_teardown_scratch(state, g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tag_not_utf8_is_inval, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_noncharacter_names_are_inval, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_never_given_out_is_bad_cookie, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_pseudo_and_junction_cookies_checked,
						setup_junctions, teardown_junctions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
