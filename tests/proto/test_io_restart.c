/*
 * tests/proto/test_io_restart.c: what a client was told survives a server
 * crash (RFC 8881 §18.32.3, §18.3.3): data written FILE_SYNC4, and data
 * written UNSTABLE4 and then COMMITted, read back intact after kill -9 and a
 * restart; the write verifier changes across the restart, so a client that
 * held uncommitted writes knows to send them again.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

#define LEN (64u * 1024u)

static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 9));
}

static void read_all(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, uint8_t *buf)
{
	uint32_t got = 0, n;
	bool eof = false;

	while (got < LEN) {
		assert_int_equal(ot_read(cl, fh, sid, got, LEN - got, buf + got, &n, &eof), NFS4_OK);
		assert_true(n > 0);
		got += n;
	}
}

static void test_stable_data_and_verifier_across_restart(void **st)
{
	struct nfs4_cl *cl;
	struct ot_open_res rs, ru, rs2, ru2;
	uint8_t *a = malloc(LEN), *b = malloc(LEN), *back = malloc(LEN);
	WRITE4resok w;
	verifier4 before, after;

	(void)st;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(back);
	fill(a, LEN, 1);
	fill(b, LEN, 2);
	assert_int_equal(proto_server_start(&srv, "io-restart", NULL), 0);

	cl = ot_client(&srv, "io-restart");
	assert_int_equal(ot_open_simple(cl, "stable", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rs), NFS4_OK);
	assert_int_equal(ot_write(cl, &rs.fh, &rs.sid, 0, a, LEN, FILE_SYNC4, &w), NFS4_OK);
	assert_int_equal(w.committed, FILE_SYNC4);
	memcpy(before, w.writeverf, sizeof(before));
	assert_int_equal(ot_open_simple(cl, "committed", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ru), NFS4_OK);
	assert_int_equal(ot_write(cl, &ru.fh, &ru.sid, 0, b, LEN, UNSTABLE4, &w), NFS4_OK);
	assert_memory_equal(w.writeverf, before, sizeof(before));
	assert_int_equal(ot_commit(cl, &ru.fh, 0, 0, after), NFS4_OK);
	assert_memory_equal(after, before, sizeof(before));

	/* crash the server with both files open, then bring it back */
	assert_int_equal(proto_server_kill(&srv), 0);
	nfs4_cl_close(cl, false);
	assert_int_equal(proto_server_restart(&srv), 0);

	/* the same client comes back, finishes reclaiming (ends grace), reopens */
	cl = ot_client(&srv, "io-restart");
	assert_int_equal(ot_open_simple(cl, "stable", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rs2), NFS4_OK);
	assert_int_equal(rs2.fh.len, rs.fh.len);
	assert_memory_equal(rs2.fh.val, rs.fh.val, rs.fh.len);   /* handles persist */
	read_all(cl, &rs2.fh, &rs2.sid, back);
	assert_memory_equal(back, a, LEN);
	assert_int_equal(ot_open_simple(cl, "committed", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ru2), NFS4_OK);
	read_all(cl, &ru2.fh, &ru2.sid, back);
	assert_memory_equal(back, b, LEN);

	/* a new server instance: a new write verifier */
	assert_int_equal(ot_write(cl, &ru2.fh, &ru2.sid, 0, b, 16, UNSTABLE4, &w), NFS4_OK);
	assert_memory_not_equal(w.writeverf, before, sizeof(before));

	assert_int_equal(ot_close(cl, &rs2.fh, &rs2.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &ru2.fh, &ru2.sid, NULL), NFS4_OK);
	ot_fh_free(&rs.fh);
	ot_fh_free(&ru.fh);
	ot_fh_free(&rs2.fh);
	ot_fh_free(&ru2.fh);
	nfs4_cl_close(cl, true);
	free(a);
	free(b);
	free(back);
	assert_int_equal(proto_server_stop(&srv), 0);
	proto_server_cleanup(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_data_and_verifier_across_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
