/*
 * tests/proto/test_io_tail.c: READ data sent without a copy into the reply
 * buffer (nfs4_io.c makes the data of a compound's last READ the reply's
 * payload, which TCP sends in place) against a real daxnfsd: odd lengths with their XDR padding,
 * READ last and not last in a compound, two READs in one compound, a
 * cached (sa_cachethis) READ replayed byte for byte, and a READ whose reply
 * cannot be cached, which must come back as a bare error with no data
 * trailing behind it.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "io-tail", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

#define FILE_LEN 4099u   /* not a multiple of 4: the last READ needs padding */

static uint8_t pattern[FILE_LEN];

/* A file of FILE_LEN pattern bytes, left open (BOTH) by cl. */
static void make_file(struct nfs4_cl *cl, const char *name, struct ot_open_res *r)
{
	uint32_t i;

	for (i = 0; i < FILE_LEN; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ot_open_simple(cl, name, true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r->fh, &r->sid, 0, pattern, FILE_LEN, FILE_SYNC4, NULL),
			 NFS4_OK);
}

static void check_read(nfs_resop4 *res, uint32_t off, uint32_t len, bool eof)
{
	READ4resok *ok;

	assert_non_null(res);
	assert_int_equal(res->u.opread.status, NFS4_OK);
	ok = &res->u.opread.u.resok4;
	assert_int_equal(ok->data.len, len);
	assert_int_equal(ok->eof, eof);
	if (len)
		assert_memory_equal(ok->data.val, pattern + off, len);
}

/* Odd-length READs as the last op (tail plus padding) decode exactly. */
static void test_last_op_odd_lengths(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "tail-odd");
	static const uint32_t lens[] = { 1, 2, 3, 5, 4095, FILE_LEN };
	struct ot_open_res r;
	uint8_t buf[FILE_LEN];
	uint32_t i, n;
	bool eof;

	(void)st;
	make_file(cl, "odd", &r);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = 0;
		eof = false;
		assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, lens[i], buf, &n, &eof), NFS4_OK);
		assert_int_equal(n, lens[i]);
		assert_int_equal(eof, lens[i] == FILE_LEN);
		assert_memory_equal(buf, pattern, n);
	}
	/* the last 3 bytes, from an odd offset */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, FILE_LEN - 3, 100, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 3);
	assert_true(eof);
	assert_memory_equal(buf, pattern + FILE_LEN - 3, 3);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* READ, READ, GETATTR and READ, READ in one compound: the first READs are
 * copied into the reply, only the last one is a tail; all decode. */
static void test_reads_within_compound(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "tail-mid");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	nfs_resop4 *res;

	(void)st;
	make_file(cl, "mid", &r);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	nfs4_cl_add_read(&cp, &r.sid, 1, 5);
	nfs4_cl_add_read(&cp, &r.sid, 4000, 1000);
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_SIZE, 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(cp.nres, 5);
	check_read(&cp.res[2], 1, 5, false);
	check_read(&cp.res[3], 4000, FILE_LEN - 4000, true);
	assert_int_equal(cp.res[4].resop, OP_GETATTR);
	assert_int_equal(cp.res[4].u.opgetattr.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	nfs4_cl_add_read(&cp, &r.sid, 0, 7);
	nfs4_cl_add_read(&cp, &r.sid, 7, 9);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(cp.nres, 4);
	res = &cp.res[2];
	check_read(res, 0, 7, false);
	check_read(&cp.res[3], 7, 9, false);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* sa_cachethis READ, then the same slot and seqid again: the replay holds
 * the data too, byte for byte. */
static void test_cached_read_replay(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "tail-cache");
	struct nfs4_cl_compound a, b;
	struct ot_open_res r;

	(void)st;
	make_file(cl, "cache", &r);
	nfs4_cl_compound_init(&a, cl);
	a.cachethis = true;
	ot_putfh(&a, &r.fh);
	nfs4_cl_add_read(&a, &r.sid, 3, 1001);
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);
	check_read(&a.res[2], 3, 1001, false);

	nfs4_cl_compound_init(&b, cl);
	b.seq_override = true;
	b.seqid = a.seqid;
	ot_putfh(&b, &r.fh);
	nfs4_cl_add_read(&b, &r.sid, 3, 1001);
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4_OK);
	check_read(&b.res[2], 3, 1001, false);
	assert_int_equal(a.reply.body_len, b.reply.body_len);
	assert_memory_equal(a.reply.body, b.reply.body, a.reply.body_len);
	nfs4_cl_compound_free(&a);
	nfs4_cl_compound_free(&b);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* A session caching at most 1 KiB: a cached 4 KiB READ is refused with
 * REP_TOO_BIG_TO_CACHE, and the reply is that error alone (the data that
 * was to follow as a tail is not sent). */
static void test_uncacheable_read_drops_tail(void **st)
{
	struct nfs4_cl *cl = NULL, *w = ot_client(&srv, "tail-writer");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	uint8_t buf[64];
	uint32_t n = 0;
	bool eof = false;

	(void)st;
	make_file(w, "uncached", &r);
	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, "tail-small-cache", 1);
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	cl->want_fore.ca_maxresponsesize_cached = 1024;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);

	nfs4_cl_compound_init(&cp, cl);
	cp.cachethis = true;
	ot_putfh(&cp, &r.fh);
	nfs4_cl_add_read(&cp, &(stateid4){ 0 }, 0, FILE_LEN);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REP_TOO_BIG_TO_CACHE);
	assert_int_equal(cp.nres, 3);
	assert_int_equal(cp.res[2].resop, OP_READ);
	assert_true(cp.reply.body_len < 256);
	nfs4_cl_compound_free(&cp);
	/* the connection is still in step: a plain READ works */
	assert_int_equal(ot_read(cl, &r.fh, &(stateid4){ 0 }, 10, 20, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 20);
	assert_memory_equal(buf, pattern + 10, 20);
	assert_int_equal(ot_close(w, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
	nfs4_cl_close(w, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_op_odd_lengths),
		cmocka_unit_test(test_reads_within_compound),
		cmocka_unit_test(test_cached_read_replay),
		cmocka_unit_test(test_uncacheable_read_drops_tail),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
