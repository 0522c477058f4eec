/*
 * tests/proto/test_courtesy.c: a courteous server (issue 8), over a real
 * daxnfsd with a 10 s lease. Three clients go silent for two and a half
 * leases (as behind a network partition) while a fourth keeps working:
 * - one whose state nobody wants comes back and carries on: its session
 *   and its open stateid work, and nothing is said to have expired;
 * - one whose deny-write open is in the way of the active client's OPEN
 *   for writing loses it (the OPEN succeeds); back, its SEQUENCE replies say
 *   SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, its stateid is NFS4ERR_EXPIRED
 *   (not BAD_STATEID) to READ and TEST_STATEID until FREE_STATEID, after
 *   which the flag is gone;
 * - one whose write lock is in the way of the active client's LOCK loses
 *   it (the LOCK succeeds).
 * A server that drops every client at lease expiry fails the first case
 * (BADSESSION).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/test_ns_util.h"

#define LEASE 10
#define SILENCE_S 25

static int setup(void **state)
{
	struct proto_server_opts o = { 0 };

	o.lease_lifetime = LEASE;
	o.grace_period = LEASE;
	return ns_setup_opts(state, "courtesy", &o);
}

static nfsstat4 read_with(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add_read(&cp, sid, 0, 16);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 write_lock(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *open_sid,
			   const char *owner)
{
	struct nfs4_cl_compound cp;
	LOCK4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	a->locktype = WRITE_LT;
	a->offset = 0;
	a->length = 100;
	a->locker.new_lock_owner = true;
	a->locker.u.open_owner.open_stateid = *open_sid;
	a->locker.u.open_owner.lock_owner.clientid = cl->clientid;
	a->locker.u.open_owner.lock_owner.owner = ns_str(&cp, owner);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 test_stateid(struct nfs4_cl *cl, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	TEST_STATEID4args *a;
	nfsstat4 st, one = NFS4ERR_SERVERFAULT;

	nfs4_cl_compound_init(&cp, cl);
	a = &nfs4_cl_add(&cp, OP_TEST_STATEID)->u.optest_stateid;
	a->ts_stateids.val = arena_memdup(&cp.arena, sid, sizeof(*sid));
	a->ts_stateids.len = 1;
	st = ns_send(&cp);
	if (st == NFS4_OK) {
		TEST_STATEID4resok *ok = &nfs4_cl_res(&cp, OP_TEST_STATEID)->u.optest_stateid.u.tsr_resok4;

		assert_int_equal(ok->tsr_status_codes.len, 1);
		one = ok->tsr_status_codes.val[0];
	}
	nfs4_cl_compound_free(&cp);
	return one;
}

static nfsstat4 free_stateid(struct nfs4_cl *cl, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_FREE_STATEID)->u.opfree_stateid.fsa_stateid = *sid;
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_silent_clients_courtesy(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl *quiet = ns_client(&f->srv, "courtesy-quiet");
	struct nfs4_cl *loser = ns_client(&f->srv, "courtesy-loser");
	struct nfs4_cl *locker = ns_client(&f->srv, "courtesy-locker");
	struct nfs4_cl *active = f->cl;
	stateid4 qs, ls, ks, as, as2;
	nfs_fh4 qfh = { 0 }, lfh = { 0 }, kfh = { 0 }, afh = { 0 }, afh2 = { 0 };
	int i;

	assert_int_equal(nfs4_cl_open_file(quiet, "kept", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &qs, &qfh), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(loser, "contested", true, OPEN4_SHARE_ACCESS_READ,
					   OPEN4_SHARE_DENY_WRITE, &ls, &lfh), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(locker, "locked", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &ks, &kfh), NFS4_OK);
	assert_int_equal(write_lock(locker, &kfh, &ks, "locker-owner"), NFS4_OK);
	/* while the loser's lease runs, its deny-write open holds */
	assert_int_equal(nfs4_cl_open_file(active, "contested", false, OPEN4_SHARE_ACCESS_WRITE,
					   OPEN4_SHARE_DENY_NONE, &as, &afh), NFS4ERR_SHARE_DENIED);
	free(afh.val);
	afh.val = NULL;
	/* three clients go silent; the active one keeps its lease */
	for (i = 0; i < SILENCE_S; i += 2) {
		assert_int_equal(nfs4_cl_sequence(active), NFS4_OK);
		sleep(2);
	}
	/* conflicts with the courtesy clients: they give way */
	assert_int_equal(nfs4_cl_open_file(active, "contested", false, OPEN4_SHARE_ACCESS_WRITE,
					   OPEN4_SHARE_DENY_NONE, &as, &afh), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(active, "locked", false, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &as2, &afh2), NFS4_OK);
	assert_int_equal(write_lock(active, &afh2, &as2, "active-owner"), NFS4_OK);

	/* the client nobody conflicted with carries on */
	assert_int_equal(nfs4_cl_sequence(quiet), NFS4_OK);
	assert_int_equal(quiet->last_status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, 0);
	assert_int_equal(read_with(quiet, &qfh, &qs), NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(quiet, &qfh, &qs), NFS4_OK);

	/* the one that lost its open hears so, and its stateid is EXPIRED */
	assert_int_equal(nfs4_cl_sequence(loser), NFS4_OK);
	assert_true(loser->last_status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED);
	assert_int_equal(read_with(loser, &lfh, &ls), NFS4ERR_EXPIRED);
	assert_int_equal(test_stateid(loser, &ls), NFS4ERR_EXPIRED);
	assert_int_equal(free_stateid(loser, &ls), NFS4_OK);
	assert_int_equal(test_stateid(loser, &ls), NFS4ERR_BAD_STATEID);
	assert_int_equal(nfs4_cl_sequence(loser), NFS4_OK);
	assert_int_equal(loser->last_status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, 0);

	/* the locker's open and lock stateids went the same way */
	assert_int_equal(nfs4_cl_sequence(locker), NFS4_OK);
	assert_true(locker->last_status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED);
	assert_int_equal(read_with(locker, &kfh, &ks), NFS4ERR_EXPIRED);

	assert_int_equal(nfs4_cl_close_file(active, &afh, &as), NFS4_OK);
	free(qfh.val);
	free(lfh.val);
	free(kfh.val);
	free(afh.val);
	free(afh2.val);
	nfs4_cl_close(quiet, true);
	nfs4_cl_close(loser, true);
	nfs4_cl_close(locker, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_clients_courtesy),
	};

	return cmocka_run_group_tests_name("courtesy", tests, setup, ns_teardown);
}
