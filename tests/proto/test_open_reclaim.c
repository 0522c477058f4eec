/*
 * tests/proto/test_open_reclaim.c: restart and reclaim of opens and locks
 * (RFC 8881 §8.4.2, §18.16 CLAIM_PREVIOUS, §18.10 reclaim): a client opens
 * and locks, the server is killed and started again, the client reclaims
 * during grace while new opens and locks are refused with NFS4ERR_GRACE,
 * the reclaimed open still guards its share reservation, and after
 * RECLAIM_COMPLETE a reclaim is NFS4ERR_NO_GRACE.
 */
#include "tests/proto/test_open_util.h"

/* A write lock on [0, 100) for a new lock owner, reclaimed or not. */
static nfsstat4 lock_reclaim(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *open_sid,
			     bool reclaim, stateid4 *lock_sid)
{
	return ot_lock_reclaim(cl, fh, WRITE_LT, 0, 100, reclaim, open_sid, "reclaim-lock",
			       lock_sid, NULL);
}

static void test_reclaim_after_restart(void **st)
{
	struct proto_server srv;
	struct proto_server_opts opts = { .grace_period = 30 };
	struct nfs4_cl *a, *b;
	struct ot_open_res r, rr, rb;
	struct ot_open_args reclaim = { .access = OPEN4_SHARE_ACCESS_BOTH,
					.deny = OPEN4_SHARE_DENY_WRITE,
					.createmode = OT_NOCREATE, .claim = CLAIM_PREVIOUS };
	uint8_t buf[8];
	uint32_t n;
	bool eof;
	stateid4 l;

	(void)st;
	assert_int_equal(proto_server_start(&srv, "reclaim", &opts), 0);
	a = ot_client_verf(&srv, "reclaimer", 42);
	assert_int_equal(nfs4_cl_reclaim_complete(a), NFS4_OK);
	assert_int_equal(ot_open_simple(a, "kept", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_WRITE, &r), NFS4_OK);
	assert_int_equal(ot_write(a, &r.fh, &r.sid, 0, "durable!", 8, FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(lock_reclaim(a, &r.fh, &r.sid, false, &l), NFS4_OK);
	nfs4_cl_close(a, false);

	/* a crash, then the same client instance comes back */
	assert_int_equal(proto_server_kill(&srv), 0);
	assert_int_equal(proto_server_restart(&srv), 0);
	a = ot_client_verf(&srv, "reclaimer", 42);
	b = ot_client(&srv, "newcomer");

	/* new state waits for the end of grace */
	assert_int_equal(ot_open_simple(b, "kept", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_GRACE);
	assert_int_equal(ot_open_simple(a, "other", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_GRACE);
	/* the old stateid means nothing to the new instance */
	assert_int_equal(ot_read(a, &r.fh, &r.sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);

	/* the reclaim: same file by fh, same share */
	reclaim.fh_in = &r.fh;
	assert_int_equal(ot_open(a, NULL, &reclaim, &rr), NFS4_OK);
	assert_memory_equal(rr.fh.val, r.fh.val, r.fh.len);
	assert_int_equal(ot_read(a, &rr.fh, &rr.sid, 0, 8, buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "durable!", 8);
	/* a lock is reclaimed with reclaim = true; false is new state */
	assert_int_equal(lock_reclaim(a, &rr.fh, &rr.sid, false, &l), NFS4ERR_GRACE);
	assert_int_equal(lock_reclaim(a, &rr.fh, &rr.sid, true, &l), NFS4_OK);

	/* grace ends with the only known client's RECLAIM_COMPLETE */
	assert_int_equal(nfs4_cl_reclaim_complete(a), NFS4_OK);
	assert_int_equal(ot_open(a, NULL, &reclaim, &rb), NFS4ERR_NO_GRACE);
	/* the reclaimed open still denies writers */
	assert_int_equal(ot_open_simple(b, "kept", false, OPEN4_SHARE_ACCESS_WRITE,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_SHARE_DENIED);
	assert_int_equal(ot_open_simple(b, "kept", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_lockt(b, &rb.fh, READ_LT, 50, 1, "b", NULL, NULL, 0), NFS4ERR_DENIED);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);

	ot_fh_free(&r.fh);
	ot_fh_free(&rr.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(a, false);
	nfs4_cl_close(b, true);
	assert_int_equal(proto_server_stop(&srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_after_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
