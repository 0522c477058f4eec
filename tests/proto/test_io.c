/*
 * tests/proto/test_io.c: READ, WRITE and COMMIT against a real daxnfsd
 * (RFC 8881 §18.22, §18.32, §18.3): a 1 MiB round trip in FILE_SYNC4
 * chunks, UNSTABLE4 + COMMIT with one verifier, EOF and zero-count reads,
 * stateid rules (closed, special, open mode, another file's stateid), and
 * the anonymous stateid against share deny.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "io", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

#define MIB (1024u * 1024u)
#define CHUNK (MIB / 4)

static void test_round_trip_1mib_file_sync(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "io-1mib");
	struct ot_open_res r;
	uint8_t *data = malloc(MIB), *back = malloc(MIB);
	WRITE4resok w;
	verifier4 verf0;
	uint32_t i, n, got = 0;
	bool eof = false;

	(void)st;
	assert_non_null(data);
	assert_non_null(back);
	for (i = 0; i < MIB; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	assert_int_equal(ot_open_simple(cl, "big", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ot_write(cl, &r.fh, &r.sid, (uint64_t)i * CHUNK, data + i * CHUNK,
					  CHUNK, FILE_SYNC4, &w), NFS4_OK);
		assert_int_equal(w.count, CHUNK);
		assert_int_equal(w.committed, FILE_SYNC4);
		if (i == 0)
			memcpy(verf0, w.writeverf, sizeof(verf0));
		assert_memory_equal(w.writeverf, verf0, sizeof(verf0));
	}
	/* read it back in chunks the server may shorten */
	while (got < MIB) {
		assert_int_equal(ot_read(cl, &r.fh, &r.sid, got, CHUNK, back + got, &n, &eof), NFS4_OK);
		/* 256 KiB fits any reply this server negotiates */
		assert_int_equal(n, CHUNK);
		got += n;
		assert_true(eof == (got == MIB));
	}
	assert_memory_equal(back, data, MIB);
	/* one READ of almost the whole 1 MiB record the test server allows */
	memset(back, 0, MIB);
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, MIB - 64 * 1024, back, &n, &eof), NFS4_OK);
	assert_int_equal(n, MIB - 64 * 1024);
	assert_false(eof);
	assert_memory_equal(back, data, n);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	free(data);
	free(back);
	nfs4_cl_close(cl, true);
}

static void test_unstable_then_commit(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "io-commit");
	struct ot_open_res r;
	WRITE4resok w;
	verifier4 cv;
	uint8_t buf[32];
	uint32_t n;
	bool eof;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "unstable", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 100, "hello, world", 12, UNSTABLE4, &w), NFS4_OK);
	assert_int_equal(w.count, 12);
	assert_true(w.committed >= UNSTABLE4 && w.committed <= FILE_SYNC4);
	assert_int_equal(ot_commit(cl, &r.fh, 0, 0, cv), NFS4_OK);
	assert_memory_equal(cv, w.writeverf, sizeof(cv));
	/* a zero-length write is fine and changes nothing */
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 5000, "", 0, DATA_SYNC4, &w), NFS4_OK);
	assert_int_equal(w.count, 0);
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 96, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 16);
	assert_true(eof);
	assert_memory_equal(buf + 4, "hello, world", 12);
	/* the hole before the data reads as zeros */
	assert_memory_equal(buf, "\0\0\0\0", 4);
	/* COMMIT with a range that wraps */
	assert_int_equal(ot_commit(cl, &r.fh, UINT64_MAX - 1, 10, cv), NFS4ERR_INVAL);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_eof_and_zero_count(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "io-eof");
	struct ot_open_res r;
	uint8_t buf[64];
	uint32_t n = 99;
	bool eof = false;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "eof", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, "abcdefgh", 8, FILE_SYNC4, NULL), NFS4_OK);
	/* past EOF */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 100, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
	/* ending exactly at EOF */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 4, 4, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	assert_true(eof);
	assert_memory_equal(buf, "efgh", 4);
	/* short of EOF */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, 4, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	assert_false(eof);
	/* zero count */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, 0, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_false(eof);
	/* the largest offsets */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, UINT64_MAX - 1, 10, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, UINT64_MAX - 2, "xyz", 3, FILE_SYNC4, NULL),
			 NFS4ERR_FBIG);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_stateid_rules(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "io-stateids");
	struct ot_open_res r, ro, other;
	stateid4 anon, bypass, stale;
	uint8_t buf[8];
	uint32_t n;
	bool eof;

	(void)st;
	memset(&anon, 0, sizeof(anon));
	memset(&bypass, 0xff, sizeof(bypass));
	assert_int_equal(ot_open_simple(cl, "sids", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_open_simple(cl, "sids-other", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &other), NFS4_OK);
	/* a stateid of another file */
	assert_int_equal(ot_read(cl, &r.fh, &other.sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_write(cl, &r.fh, &other.sid, 0, "x", 1, FILE_SYNC4, NULL),
			 NFS4ERR_BAD_STATEID);
	/* a made-up stateid */
	stale = r.sid;
	stale.other[0] ^= 0x5a;
	assert_int_equal(ot_read(cl, &r.fh, &stale, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	/* anonymous WRITE and both specials for READ */
	assert_int_equal(ot_write(cl, &r.fh, &anon, 0, "anon", 4, FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &anon, 0, 8, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "anon", 4);
	assert_int_equal(ot_read(cl, &r.fh, &bypass, 0, 8, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	/* closed: gone */
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	/* a read-only open may not write, but reads */
	assert_int_equal(ot_open_simple(cl, "sids", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_WRITE, &ro), NFS4_OK);
	assert_int_equal(ot_write(cl, &ro.fh, &ro.sid, 0, "x", 1, FILE_SYNC4, NULL),
			 NFS4ERR_OPENMODE);
	assert_int_equal(ot_read(cl, &ro.fh, &ro.sid, 0, 8, buf, &n, &eof), NFS4_OK);
	/* the open denies writers: the anonymous stateid is one */
	assert_int_equal(ot_write(cl, &ro.fh, &anon, 0, "x", 1, FILE_SYNC4, NULL), NFS4ERR_LOCKED);
	assert_int_equal(ot_close(cl, &ro.fh, &ro.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &other.fh, &other.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	ot_fh_free(&ro.fh);
	ot_fh_free(&other.fh);
	nfs4_cl_close(cl, true);
}

static void test_io_on_directory(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "io-dir");
	struct nfs4_cl_compound cp;
	stateid4 anon;

	(void)st;
	memset(&anon, 0, sizeof(anon));
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add_read(&cp, &anon, 0, 10);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_ISDIR);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add_write(&cp, &anon, 0, "x", 1, FILE_SYNC4);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_ISDIR);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static nfsstat4 setattr_size(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			     uint64_t size)
{
	struct nfs4_cl_compound cp;
	SETATTR4args *a;
	uint32_t *mask;
	uint8_t *v;
	nfsstat4 st;
	int i;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_SETATTR)->u.opsetattr;
	a->stateid = *sid;
	mask = arena_alloc(&cp.arena, 2 * sizeof(uint32_t));
	v = arena_alloc(&cp.arena, 8);
	assert_non_null(mask);
	assert_non_null(v);
	mask[0] = 1u << FATTR4_SIZE;
	for (i = 0; i < 8; i++)
		v[i] = (uint8_t)(size >> (56 - 8 * i));
	a->obj_attributes.attrmask.len = 2;
	a->obj_attributes.attrmask.val = mask;
	a->obj_attributes.attr_vals.len = 8;
	a->obj_attributes.attr_vals.val = v;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* SETATTR(size) follows the stateid rules of WRITE (the hook in nfs4_io.c). */
static void test_setattr_size_stateids(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "io-trunc-a"), *b = ot_client(&srv, "io-trunc-b");
	struct ot_open_res rw, ro;
	stateid4 anon;
	uint8_t buf[8];
	uint32_t n;
	bool eof;

	(void)st;
	memset(&anon, 0, sizeof(anon));
	assert_int_equal(ot_open_simple(a, "setsize", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rw), NFS4_OK);
	assert_int_equal(ot_write(a, &rw.fh, &rw.sid, 0, "12345678", 8, FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(setattr_size(a, &rw.fh, &rw.sid, 4), NFS4_OK);
	assert_int_equal(ot_read(a, &rw.fh, &rw.sid, 0, 8, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 4);
	assert_true(eof);
	/* B reads and denies writers: a truncate through its read-only open is
	 * OPENMODE, an anonymous one LOCKED, A's closed stateid BAD_STATEID */
	assert_int_equal(ot_close(a, &rw.fh, &rw.sid, NULL), NFS4_OK);
	assert_int_equal(ot_open_simple(b, "setsize", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_WRITE, &ro), NFS4_OK);
	assert_int_equal(setattr_size(b, &ro.fh, &ro.sid, 0), NFS4ERR_OPENMODE);
	assert_int_equal(setattr_size(a, &ro.fh, &anon, 0), NFS4ERR_LOCKED);
	assert_int_equal(setattr_size(a, &ro.fh, &ro.sid, 0), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_close(b, &ro.fh, &ro.sid, NULL), NFS4_OK);
	assert_int_equal(setattr_size(a, &ro.fh, &anon, 0), NFS4_OK);
	ot_fh_free(&rw.fh);
	ot_fh_free(&ro.fh);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_1mib_file_sync),
		cmocka_unit_test(test_unstable_then_commit),
		cmocka_unit_test(test_eof_and_zero_count),
		cmocka_unit_test(test_stateid_rules),
		cmocka_unit_test(test_io_on_directory),
		cmocka_unit_test(test_setattr_size_stateids),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
