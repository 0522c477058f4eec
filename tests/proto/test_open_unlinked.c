/*
 * tests/proto/test_open_unlinked.c: a file that is open over NFS stays usable
 * through its handle after it loses its last name (renamed over, removed), as
 * on a local filesystem and as knfsd does (pynfs RNM21); once it is closed and
 * nothing holds it, the handle is stale.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static nfsstat4 rename_in_root(struct nfs4_cl *cl, const char *from, const char *to)
{
	struct nfs4_cl_compound cp;
	RENAME4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_SAVEFH);
	a = &nfs4_cl_add(&cp, OP_RENAME)->u.oprename;
	a->oldname = ot_str(&cp, from, strlen(from));
	a->newname = ot_str(&cp, to, strlen(to));
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 putfh_only(struct nfs4_cl *cl, const nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_open_file_survives_rename_over(void **st)
{
	struct nfs4_cl *cl;
	struct ot_open_res ra, rb;
	WRITE4resok w;
	uint8_t back[8];
	uint32_t n;
	bool eof;

	(void)st;
	assert_int_equal(proto_server_start(&srv, "unlinked", NULL), 0);
	cl = ot_client(&srv, "unlinked");
	assert_int_equal(ot_open_simple(cl, "victim", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ra), NFS4_OK);
	assert_int_equal(ot_write(cl, &ra.fh, &ra.sid, 0, "victim!", 8, FILE_SYNC4, &w), NFS4_OK);
	assert_int_equal(ot_open_simple(cl, "other", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_close(cl, &rb.fh, &rb.sid, NULL), NFS4_OK);

	/* "other" replaces "victim": victim has no name left, but is open */
	assert_int_equal(rename_in_root(cl, "other", "victim"), NFS4_OK);
	assert_int_equal(ot_read(cl, &ra.fh, &ra.sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(back, "victim!", 8);
	assert_int_equal(ot_close(cl, &ra.fh, &ra.sid, NULL), NFS4_OK);

	/* closed and unnamed: the handle is stale now */
	assert_int_equal(putfh_only(cl, &ra.fh), NFS4ERR_STALE);
	/* the file now named "victim" is the other one */
	assert_int_equal(putfh_only(cl, &rb.fh), NFS4_OK);

	ot_fh_free(&ra.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop(&srv), 0);
	proto_server_cleanup(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_file_survives_rename_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
