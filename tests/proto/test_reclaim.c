/*
 * tests/proto/test_reclaim.c: leases, restart and reclaim against a real
 * daxnfsd with Lease_Lifetime = 10 and Grace_Period = 10 (RFC 8881 §8.3
 * lease renewal and expiry, §8.4.2 server failure and recovery, §18.51
 * RECLAIM_COMPLETE):
 *  - a client that stops renewing loses its session and its opens, so a
 *    second client can then open what the first one held with a deny mode;
 *  - after kill -9 and a restart on the same state directory, the recorded
 *    client reclaims its open with CLAIM_PREVIOUS during grace, a new
 *    client's OPEN gets NFS4ERR_GRACE and its reclaim NFS4ERR_NO_GRACE, and
 *    grace ends as soon as every recorded client has sent RECLAIM_COMPLETE;
 *  - when a recorded client never comes back, grace ends when its time is up.
 * These tests need OPEN (server/nfs4_open.c) with share deny enforcement.
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

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"

#define LEASE 10

static struct proto_server srv;

static int setup(void **state)
{
	struct proto_server_opts o = { .lease_lifetime = LEASE, .grace_period = 10 };

	(void)state;
	return proto_server_start(&srv, "reclaim", &o) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct nfs4_cl *client(const char *owner, uint64_t verf)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, verf);
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	return cl;
}

/* A client past RECLAIM_COMPLETE: it may take new state. */
static struct nfs4_cl *client_rc(const char *owner, uint64_t verf)
{
	struct nfs4_cl *cl = client(owner, verf);

	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	return cl;
}

static void free_fh(nfs_fh4 *fh)
{
	free(fh->val);
	fh->val = NULL;
}

static void test_lease_expiry_releases_opens(void **state)
{
	struct nfs4_cl *a = client_rc("lease-a", 1), *b = client_rc("lease-b", 1);
	stateid4 sa, sb;
	nfs_fh4 fa = { 0 }, fb = { 0 };
	nfsstat4 st;
	double t0;

	(void)state;
	st = nfs4_cl_open_file(a, "held", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_BOTH,
			       &sa, &fa);
	if (st != NFS4_OK)
		print_error("OPEN by the first client failed: %d (is OPEN implemented?)\n", st);
	assert_int_equal(st, NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(b, "held", false, OPEN4_SHARE_ACCESS_READ,
					   OPEN4_SHARE_DENY_NONE, &sb, &fb),
			 NFS4ERR_SHARE_DENIED);
	/* a goes silent; b keeps its own lease alive and retries */
	t0 = now_s();
	for (;;) {
		assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
		st = nfs4_cl_open_file(b, "held", false, OPEN4_SHARE_ACCESS_READ,
				       OPEN4_SHARE_DENY_NONE, &sb, &fb);
		if (st == NFS4_OK || now_s() - t0 > 3 * LEASE)
			break;
		assert_int_equal(st, NFS4ERR_SHARE_DENIED);
		sleep(1);
	}
	assert_int_equal(st, NFS4_OK);
	/* not before the lease ran out */
	assert_true(now_s() - t0 >= LEASE - 1);
	/* the expired client lost its state to b (courteous server: until b's
	 * OPEN it kept it); back, it is told so (test_courtesy.c) */
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
	assert_true(a->last_status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED);
	assert_int_equal(nfs4_cl_close_file(b, &fb, &sb), NFS4_OK);
	free_fh(&fa);
	free_fh(&fb);
	nfs4_cl_close(a, false);
	nfs4_cl_close(b, true);
}

static void test_restart_reclaim_and_grace(void **state)
{
	struct nfs4_cl *a = client_rc("reclaim-a", 42), *b;
	stateid4 sid;
	nfs_fh4 fh = { 0 }, fb = { 0 };
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;
	nfsstat4 st;

	(void)state;
	st = nfs4_cl_open_file(a, "kept", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			       &sid, &fh);
	if (st != NFS4_OK)
		print_error("OPEN failed: %d (is OPEN implemented?)\n", st);
	assert_int_equal(st, NFS4_OK);
	nfs4_cl_close(a, false);

	assert_int_equal(proto_server_kill(&srv), 0);
	assert_int_equal(proto_server_restart(&srv), 0);

	/* the same client instance comes back: same owner, same verifier */
	a = client("reclaim-a", 42);
	b = client_rc("reclaim-b", 1);   /* nothing to reclaim */
	/* new state during grace */
	assert_int_equal(nfs4_cl_open_file(b, "fresh", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, NULL, NULL),
			 NFS4ERR_GRACE);
	/* a reclaim by a client the server never knew */
	nfs4_cl_compound_init(&cp, b);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object = fh;
	nfs4_cl_add_open_reclaim(&cp, OPEN4_SHARE_ACCESS_BOTH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NO_GRACE);
	nfs4_cl_compound_free(&cp);
	/* the recorded client reclaims its open */
	nfs4_cl_compound_init(&cp, a);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object = fh;
	nfs4_cl_add_open_reclaim(&cp, OPEN4_SHARE_ACCESS_BOTH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);
	/* every recorded client is done: grace ends at once */
	assert_int_equal(nfs4_cl_reclaim_complete(a), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(b, "fresh", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, NULL, &fb),
			 NFS4_OK);
	/* and reclaims are over */
	nfs4_cl_compound_init(&cp, a);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object = fh;
	nfs4_cl_add_open_reclaim(&cp, OPEN4_SHARE_ACCESS_READ);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NO_GRACE);
	nfs4_cl_compound_free(&cp);
	free_fh(&fh);
	free_fh(&fb);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_grace_ends_when_time_is_up(void **state)
{
	struct nfs4_cl *a = client("grace-a", 7), *b;
	nfs_fh4 fb = { 0 };
	nfsstat4 st;
	double t0;

	(void)state;
	/* a is recorded (confirmed) but will not come back */
	nfs4_cl_close(a, false);
	assert_int_equal(proto_server_kill(&srv), 0);
	assert_int_equal(proto_server_restart(&srv), 0);
	t0 = now_s();
	b = client("grace-b", 1);
	assert_int_equal(nfs4_cl_reclaim_complete(b), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(b, "later", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, NULL, NULL),
			 NFS4ERR_GRACE);
	for (;;) {
		st = nfs4_cl_open_file(b, "later", true, OPEN4_SHARE_ACCESS_BOTH,
				       OPEN4_SHARE_DENY_NONE, NULL, &fb);
		if (st != NFS4ERR_GRACE || now_s() - t0 > 30)
			break;
		sleep(1);
	}
	assert_int_equal(st, NFS4_OK);
	assert_true(now_s() - t0 >= 8);
	free_fh(&fb);
	nfs4_cl_close(b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_expiry_releases_opens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reclaim_and_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grace_ends_when_time_is_up, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
