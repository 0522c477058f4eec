/*
 * tests/proto/test_ns_readdir.c: READDIR against a real daxnfsd: a 1,000
 * entry directory read through many small replies (every name exactly once,
 * eof at the end, reserved cookies never used), per-entry attributes,
 * TOOSMALL, BAD_COOKIE, NOT_SAME, NOTDIR, an empty directory.
 */
#include "test_ns_util.h"

#define NFILES 1000

static int setup(void **state)
{
	return ns_setup_opts(state, "ns_readdir", NULL);
}

struct rd_page {
	nfsstat4 status;
	uint64_t last_cookie;
	uint8_t verf[NFS4_VERIFIER_SIZE];
	bool eof;
	unsigned n;
};

/* One READDIR of dir; calls fn for each entry. */
static struct rd_page readdir_page(struct nfs4_cl *cl, const char *dir, uint64_t cookie,
				   const uint8_t *verf, uint32_t dircount, uint32_t maxcount,
				   uint32_t w0, uint32_t w1,
				   void (*fn)(const entry4 *e, void *ctx), void *ctx)
{
	struct nfs4_cl_compound cp;
	READDIR4args *a;
	struct rd_page pg = { 0 };

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
	a = &nfs4_cl_add(&cp, OP_READDIR)->u.opreaddir;
	a->cookie = cookie;
	if (verf)
		memcpy(a->cookieverf, verf, NFS4_VERIFIER_SIZE);
	a->dircount = dircount;
	a->maxcount = maxcount;
	a->attr_request = ns_bitmap(&cp, w0, w1, 0);
	pg.status = ns_send(&cp);
	if (pg.status == NFS4_OK) {
		READDIR4resok *ok = &nfs4_cl_res(&cp, OP_READDIR)->u.opreaddir.u.resok4;

		memcpy(pg.verf, ok->cookieverf, NFS4_VERIFIER_SIZE);
		pg.eof = ok->reply.eof;
		for (entry4 *e = ok->reply.entries; e; e = e->nextentry) {
			assert_true(e->cookie > 2);
			pg.last_cookie = e->cookie;
			pg.n++;
			if (fn)
				fn(e, ctx);
		}
	}
	nfs4_cl_compound_free(&cp);
	return pg;
}

struct seen {
	unsigned count[NFILES];
	unsigned others;
	bool attrs_ok;
};

static void note_entry(const entry4 *e, void *ctx)
{
	struct seen *s = ctx;
	struct ns_attrs a;
	char name[64];
	unsigned idx;

	assert_true(e->name.len < sizeof(name));
	memcpy(name, e->name.val, e->name.len);
	name[e->name.len] = '\0';
	ns_attrs_parse(&e->attrs, &a);
	if (sscanf(name, "f%04u", &idx) == 1 && idx < NFILES && e->name.len == 5) {
		s->count[idx]++;
		/* requested attributes came back */
		if (a.type != NF4REG || a.fileid == 0 || a.size != idx % 7 ||
		    a.mounted_on_fileid != a.fileid)
			s->attrs_ok = false;
	} else {
		s->others++;
	}
}

static void test_thousand_entries_in_small_pages(void **state)
{
	struct ns_fix *f = *state;
	char dir[PATH_MAX + 16];
	struct seen s;
	uint64_t cookie = 0;
	uint8_t verf[NFS4_VERIFIER_SIZE] = { 0 };
	unsigned pages = 0;

	snprintf(dir, sizeof(dir), "%s/big", f->srv.export_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (unsigned i = 0; i < NFILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%04u", i);
		ns_mkfile(dir, name, i % 7);
	}
	memset(&s, 0, sizeof(s));
	s.attrs_ok = true;
	for (;;) {
		struct rd_page pg = readdir_page(f->cl, "big", cookie, verf, 0, 2048,
						 (1u << FATTR4_TYPE) | (1u << FATTR4_SIZE) |
						 (1u << FATTR4_FILEID),
						 1u << (FATTR4_MOUNTED_ON_FILEID - 32), note_entry, &s);

		assert_int_equal(pg.status, NFS4_OK);
		pages++;
		assert_true(pages < 1000);
		if (pg.eof)
			break;
		assert_true(pg.n > 0);
		cookie = pg.last_cookie;
		memcpy(verf, pg.verf, sizeof(verf));
	}
	assert_true(pages >= 10);      /* 2 KB pages: many replies */
	for (unsigned i = 0; i < NFILES; i++)
		assert_int_equal(s.count[i], 1);
	assert_int_equal(s.others, 0);
	assert_true(s.attrs_ok);

	/* dircount limits the entries too (a hint; at least one entry) */
	{
		struct rd_page pg = readdir_page(f->cl, "big", 0, NULL, 64, 65536, 0, 0, NULL, NULL);

		assert_int_equal(pg.status, NFS4_OK);
		assert_true(pg.n >= 1 && pg.n <= 4);
		assert_false(pg.eof);
	}
	/* a large maxcount gets everything in one reply */
	memset(&s, 0, sizeof(s));
	s.attrs_ok = true;
	{
		struct rd_page pg = readdir_page(f->cl, "big", 0, NULL, 0, 200 * 1024,
						 (1u << FATTR4_TYPE) | (1u << FATTR4_SIZE) |
						 (1u << FATTR4_FILEID),
						 1u << (FATTR4_MOUNTED_ON_FILEID - 32), note_entry, &s);

		assert_int_equal(pg.status, NFS4_OK);
		assert_int_equal(pg.n, NFILES);
		assert_true(pg.eof);
	}
}

static void test_readdir_errors(void **state)
{
	struct ns_fix *f = *state;
	char dir[PATH_MAX + 16];
	struct rd_page pg;
	static const uint8_t foreign[NFS4_VERIFIER_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	snprintf(dir, sizeof(dir), "%s/small", f->srv.export_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	ns_mkfile(dir, "a_rather_long_file_name_to_make_the_entry_bigger", 0);
	ns_mkfile(dir, "b", 0);
	snprintf(dir, sizeof(dir), "%s/empty", f->srv.export_dir);
	assert_int_equal(mkdir(dir, 0755), 0);

	/* not even one entry fits */
	pg = readdir_page(f->cl, "small", 0, NULL, 0, 40, 1u << FATTR4_TYPE, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4ERR_TOOSMALL);
	/* reserved cookies */
	pg = readdir_page(f->cl, "small", 1, NULL, 0, 4096, 0, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4ERR_BAD_COOKIE);
	pg = readdir_page(f->cl, "small", 2, NULL, 0, 4096, 0, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4ERR_BAD_COOKIE);
	/* a verifier we never gave out */
	pg = readdir_page(f->cl, "small", 0, NULL, 0, 4096, 0, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4_OK);
	assert_int_equal(pg.n, 2);
	assert_true(pg.eof);
	{
		uint64_t first = 0;
		struct rd_page p1 = readdir_page(f->cl, "small", 0, NULL, 0, 4096, 0, 0, NULL, NULL);
		struct rd_page p2;

		(void)first;
		p2 = readdir_page(f->cl, "small", p1.last_cookie, foreign, 0, 4096, 0, 0, NULL, NULL);
		assert_int_equal(p2.status, NFS4ERR_NOT_SAME);
		/* with our verifier, past the last entry: nothing, eof */
		p2 = readdir_page(f->cl, "small", p1.last_cookie, p1.verf, 0, 4096, 0, 0, NULL, NULL);
		assert_int_equal(p2.status, NFS4_OK);
		assert_int_equal(p2.n, 0);
		assert_true(p2.eof);
	}
	/* write-only attributes cannot be read */
	pg = readdir_page(f->cl, "small", 0, NULL, 0, 4096, 0,
			  1u << (FATTR4_TIME_MODIFY_SET - 32), NULL, NULL);
	assert_int_equal(pg.status, NFS4ERR_INVAL);
	/* a file is no directory */
	ns_mkfile(f->srv.export_dir, "plain", 0);
	pg = readdir_page(f->cl, "plain", 0, NULL, 0, 4096, 0, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4ERR_NOTDIR);
	/* empty directory */
	pg = readdir_page(f->cl, "empty", 0, NULL, 0, 4096, 1u << FATTR4_TYPE, 0, NULL, NULL);
	assert_int_equal(pg.status, NFS4_OK);
	assert_int_equal(pg.n, 0);
	assert_true(pg.eof);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thousand_entries_in_small_pages, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_readdir_errors, setup, ns_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
