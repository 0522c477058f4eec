/*
 * tests/proto/test_lock.c: LOCK, LOCKT, LOCKU against a real daxnfsd
 * (RFC 8881 §18.10-18.12): conflicts between two clients answered with the
 * holder's range and owner, LOCKT without state, unlock splitting a range,
 * upgrade, stateid seqids, CLOSE with locks held, bad ranges, and release of
 * a client's locks when it goes away.
 */
#include <unistd.h>

#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "lock", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

static void test_conflict_between_clients(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "lock-a"), *b = ot_client(&srv, "lock-b");
	struct ot_open_res ra, rb;
	stateid4 la, lb;
	LOCK4denied d;
	char owner[64];

	(void)st;
	assert_int_equal(ot_open_simple(a, "conflict", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ra), NFS4_OK);
	assert_int_equal(ot_open_simple(b, "conflict", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 100, 50, &ra.sid, "owner-a", &la, NULL),
			 NFS4_OK);
	assert_int_equal(la.seqid, 1);
	assert_memory_not_equal(la.other, ra.sid.other, NFS4_OTHER_SIZE);
	/* B's overlapping read lock: DENIED with A's range, type and owner */
	memset(&d, 0, sizeof(d));
	assert_int_equal(ot_lock(b, &rb.fh, READ_LT, 0, 101, &rb.sid, "owner-b", &lb, &d),
			 NFS4ERR_DENIED);
	assert_int_equal(d.offset, 100);
	assert_int_equal(d.length, 50);
	assert_int_equal(d.locktype, WRITE_LT);
	assert_true(d.owner.clientid == a->clientid);
	/* LOCKT tells the same, with the owner's name, and creates nothing */
	assert_int_equal(ot_lockt(b, &rb.fh, WRITEW_LT, 149, UINT64_MAX, "owner-b", &d, owner,
				  sizeof(owner)), NFS4ERR_DENIED);
	assert_string_equal(owner, "owner-a");
	assert_int_equal(d.offset, 100);
	/* A's own owner does not conflict with itself */
	assert_int_equal(ot_lockt(a, &ra.fh, WRITE_LT, 0, UINT64_MAX, "owner-a", NULL, NULL, 0),
			 NFS4_OK);
	/* outside the range: fine */
	assert_int_equal(ot_lock(b, &rb.fh, WRITE_LT, 150, UINT64_MAX, &rb.sid, "owner-b", &lb,
				 NULL), NFS4_OK);
	/* A cannot grow into B's range */
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 100, 51, NULL, NULL, &la, &d),
			 NFS4ERR_DENIED);
	assert_int_equal(d.offset, 150);
	assert_true(d.length == UINT64_MAX);
	/* once B unlocks, A can */
	assert_int_equal(ot_locku(b, &rb.fh, 0, UINT64_MAX, &lb), NFS4_OK);
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 100, 51, NULL, NULL, &la, NULL), NFS4_OK);
	assert_int_equal(la.seqid, 2);
	assert_int_equal(ot_locku(a, &ra.fh, 0, UINT64_MAX, &la), NFS4_OK);
	assert_int_equal(ot_close(a, &ra.fh, &ra.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);
	ot_fh_free(&ra.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_unlock_splits_and_upgrade(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "split-a"), *b = ot_client(&srv, "split-b");
	struct ot_open_res ra, rb;
	stateid4 la, lb, old;
	LOCK4denied d;

	(void)st;
	assert_int_equal(ot_open_simple(a, "split", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ra), NFS4_OK);
	assert_int_equal(ot_open_simple(b, "split", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_lock(a, &ra.fh, READ_LT, 0, 1000, &ra.sid, "a", &la, NULL), NFS4_OK);
	/* read locks share */
	assert_int_equal(ot_lock(b, &rb.fh, READ_LT, 500, 10, &rb.sid, "b", &lb, NULL), NFS4_OK);
	assert_int_equal(ot_locku(b, &rb.fh, 0, UINT64_MAX, &lb), NFS4_OK);
	/* upgrade the middle to a write lock */
	old = la;
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 400, 200, NULL, NULL, &la, NULL), NFS4_OK);
	assert_int_equal(la.seqid, old.seqid + 1);
	assert_int_equal(ot_lockt(b, &rb.fh, READ_LT, 0, 400, "b", NULL, NULL, 0), NFS4_OK);
	assert_int_equal(ot_lockt(b, &rb.fh, READ_LT, 599, 1, "b", &d, NULL, 0), NFS4ERR_DENIED);
	assert_int_equal(d.offset, 400);
	assert_int_equal(d.length, 200);
	assert_int_equal(d.locktype, WRITE_LT);
	/* unlock a hole in the middle of the write lock */
	assert_int_equal(ot_locku(a, &ra.fh, 450, 100, &la), NFS4_OK);
	assert_int_equal(ot_lockt(b, &rb.fh, WRITE_LT, 450, 100, "b", NULL, NULL, 0), NFS4_OK);
	assert_int_equal(ot_lockt(b, &rb.fh, WRITE_LT, 449, 2, "b", &d, NULL, 0), NFS4ERR_DENIED);
	assert_int_equal(d.offset, 400);
	assert_int_equal(d.length, 50);
	assert_int_equal(ot_lockt(b, &rb.fh, READ_LT, 550, 1, "b", &d, NULL, 0), NFS4ERR_DENIED);
	assert_int_equal(d.offset, 550);
	assert_int_equal(d.length, 50);
	/* an old lock stateid */
	assert_int_equal(ot_locku(a, &ra.fh, 0, 1, &old), NFS4ERR_OLD_STATEID);
	/* CLOSE with locks held */
	assert_int_equal(ot_close(a, &ra.fh, &ra.sid, NULL), NFS4ERR_LOCKS_HELD);
	assert_int_equal(ot_locku(a, &ra.fh, 0, UINT64_MAX, &la), NFS4_OK);
	assert_int_equal(ot_close(a, &ra.fh, &ra.sid, NULL), NFS4_OK);
	/* CLOSE took the lock stateid with it */
	assert_int_equal(ot_locku(a, &ra.fh, 0, 1, &la), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);
	ot_fh_free(&ra.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_bad_ranges_and_modes(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "ranges");
	struct ot_open_res r, ro;
	stateid4 l;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "ranges", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_lock(cl, &r.fh, WRITE_LT, 0, 0, &r.sid, "o", &l, NULL), NFS4ERR_INVAL);
	assert_int_equal(ot_lock(cl, &r.fh, WRITE_LT, UINT64_MAX - 5, 10, &r.sid, "o", &l, NULL),
			 NFS4ERR_INVAL);
	assert_int_equal(ot_lockt(cl, &r.fh, READ_LT, 10, 0, "o", NULL, NULL, 0), NFS4ERR_INVAL);
	/* up to the last byte is fine */
	assert_int_equal(ot_lock(cl, &r.fh, WRITE_LT, UINT64_MAX - 5, 6, &r.sid, "o", &l, NULL),
			 NFS4_OK);
	assert_int_equal(ot_locku(cl, &r.fh, UINT64_MAX - 5, UINT64_MAX, &l), NFS4_OK);
	/* a write lock needs an open for writing */
	assert_int_equal(ot_open(cl, "ranges",
				 &(struct ot_open_args){ .access = OPEN4_SHARE_ACCESS_READ,
							 .createmode = OT_NOCREATE, .owner = "ro" },
				 &ro), NFS4_OK);
	assert_int_equal(ot_lock(cl, &ro.fh, WRITE_LT, 0, 1, &ro.sid, "ro-lock", &l, NULL),
			 NFS4ERR_OPENMODE);
	assert_int_equal(ot_lock(cl, &ro.fh, READ_LT, 0, 1, &ro.sid, "ro-lock", &l, NULL), NFS4_OK);
	assert_int_equal(ot_locku(cl, &ro.fh, 0, 1, &l), NFS4_OK);
	/* an open stateid where a lock stateid belongs */
	assert_int_equal(ot_locku(cl, &ro.fh, 0, 1, &ro.sid), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_close(cl, &ro.fh, &ro.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	ot_fh_free(&ro.fh);
	nfs4_cl_close(cl, true);
}

static void test_client_end_releases_locks(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "gone-a"), *b = ot_client(&srv, "gone-b");
	struct ot_open_res ra, rb;
	stateid4 la;
	nfsstat4 stb = NFS4ERR_SHARE_DENIED;
	int i;

	(void)st;
	assert_int_equal(ot_open_simple(a, "gone", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_WRITE, &ra), NFS4_OK);
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 0, UINT64_MAX, &ra.sid, "a", &la, NULL),
			 NFS4_OK);
	assert_int_equal(ot_open_simple(b, "gone", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_SHARE_DENIED);
	/* A vanishes without a word; when its lease (10 s) runs out its opens
	 * and locks go. B keeps renewing meanwhile. */
	nfs4_cl_close(a, false);
	for (i = 0; i < 40; i++) {
		usleep(500 * 1000);
		assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
		stb = ot_open_simple(b, "gone", false, OPEN4_SHARE_ACCESS_BOTH,
				     OPEN4_SHARE_DENY_NONE, &rb);
		if (stb != NFS4ERR_SHARE_DENIED)
			break;
	}
	assert_int_equal(stb, NFS4_OK);
	/* not before the lease could have run out */
	assert_true(i >= 10);
	assert_int_equal(ot_lockt(b, &rb.fh, WRITE_LT, 0, UINT64_MAX, "b", NULL, NULL, 0), NFS4_OK);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);
	ot_fh_free(&ra.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(b, true);
}

static nfsstat4 free_stateid(struct nfs4_cl *cl, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_FREE_STATEID)->u.opfree_stateid.fsa_stateid = *sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* FREE_STATEID (RFC 8881 §18.38): a lock stateid holding locks, and an open
 * stateid, answer LOCKS_HELD; once its locks are gone the lock stateid can be
 * freed, after which it is unknown and the open can still be closed. */
static void test_free_stateid_of_lock(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "free-a");
	struct ot_open_res ra;
	stateid4 la;

	(void)st;
	assert_int_equal(ot_open_simple(a, "freeme", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &ra), NFS4_OK);
	assert_int_equal(ot_lock(a, &ra.fh, WRITE_LT, 0, 10, &ra.sid, "fa", &la, NULL), NFS4_OK);
	assert_int_equal(free_stateid(a, &la), NFS4ERR_LOCKS_HELD);
	assert_int_equal(free_stateid(a, &ra.sid), NFS4ERR_LOCKS_HELD);
	assert_int_equal(ot_locku(a, &ra.fh, 0, UINT64_MAX, &la), NFS4_OK);
	assert_int_equal(free_stateid(a, &la), NFS4_OK);
	assert_int_equal(ot_locku(a, &ra.fh, 0, 1, &la), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_close(a, &ra.fh, &ra.sid, NULL), NFS4_OK);
	ot_fh_free(&ra.fh);
	nfs4_cl_close(a, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conflict_between_clients),
		cmocka_unit_test(test_unlock_splits_and_upgrade),
		cmocka_unit_test(test_bad_ranges_and_modes),
		cmocka_unit_test(test_client_end_releases_locks),
		cmocka_unit_test(test_free_stateid_of_lock),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
