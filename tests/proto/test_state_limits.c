/*
 * tests/proto/test_state_limits.c: what one client can make the server hold,
 * and what it can guess of another's (issue 8, findings 5 and 6), over a
 * real daxnfsd.
 * - Session ids are not derived from what a client knows: an attacker that
 *   builds a victim's session id from its own clientid and session id (as
 *   the old clientid ‖ boot ‖ counter layout allowed) gets BADSESSION, and
 *   the victim's open is untouched.
 * - Owners: a client that makes open-owners without end is refused at
 *   Max_Owners_Per_Client (NFS4ERR_DELAY), while another client's OPEN
 *   costs what it cost before the flood (owners are found by hash).
 * - Sessions: the session past Max_Sessions_Per_Client is NFS4ERR_NOSPC.
 * - Clients: the EXCHANGE_ID past Max_Clients is NFS4ERR_DELAY, and the
 *   clients that exist carry on.
 * Each refusal is logged once a minute, not once per refusal.
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

#include <cmocka.h>

#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/test_ns_util.h"

#define MAX_OWNERS 200
#define MAX_SESSIONS 4
#define MAX_CLIENTS 24

static int setup(void **state)
{
	struct proto_server_opts o = { 0 };
	static char nfsv4[256];

	snprintf(nfsv4, sizeof(nfsv4),
		 "  Max_Owners_Per_Client = %d;\n  Max_Sessions_Per_Client = %d;\n"
		 "  Max_Clients = %d;", MAX_OWNERS, MAX_SESSIONS, MAX_CLIENTS);
	o.nfsv4_conf = nfsv4;
	o.lease_lifetime = 60;   /* no client of a test expires during it */
	o.grace_period = 60;
	return ns_setup_opts(state, "state_limits", &o);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* OPEN (create) of name by open-owner owner; *sid gets the stateid. */
static nfsstat4 open_as(struct nfs4_cl *cl, const char *name, const char *owner, stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	OPEN4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, "");
	nfs4_cl_add_open(&cp, name, true, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE);
	a = &cp.ops[cp.nops - 1].u.opopen;
	a->owner.owner = ns_str(&cp, owner);
	st = ns_send(&cp);
	if (st == NFS4_OK && sid)
		*sid = nfs4_cl_res(&cp, OP_OPEN)->u.opopen.u.resok4.stateid;
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 close_sid(struct nfs4_cl *cl, const char *name, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, name);
	nfs4_cl_add_close(&cp, sid);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static long log_count(const struct proto_server *s, const char *needle)
{
	long n = proto_log_count(s->log_path, 0, needle, 100000);

	assert_true(n >= 0);
	return n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median microseconds of n OPEN+CLOSE pairs by cl's usual owner. */
static int64_t open_close_median_us(struct nfs4_cl *cl, int n)
{
	int64_t t[64];
	stateid4 sid;
	int i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		int64_t t0 = now_us();

		assert_int_equal(open_as(cl, "probe", "probe-owner", &sid), NFS4_OK);
		assert_int_equal(close_sid(cl, "probe", &sid), NFS4_OK);
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_i64);
	return t[n / 2];
}

static void test_guessed_session_ids_badsession(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl *victim = ns_client(&f->srv, "sid-victim");
	struct nfs4_cl *attacker = ns_client(&f->srv, "sid-attacker");
	struct nfs4_cl_compound cp;
	stateid4 vsid;
	sessionid4 own, guess;
	uint64_t cid;
	uint32_t ctr;
	int d1, d2;

	assert_int_equal(open_as(victim, "victim-file", "victim-owner", &vsid), NFS4_OK);
	memcpy(own, attacker->sessionid, sizeof(own));
	/* what an attacker derives from its own ids: earlier clientids and
	 * session counters in the old layout (clientid ‖ boot ‖ counter) */
	for (d1 = 0; d1 <= 3; d1++) {
		for (d2 = 1; d2 <= 3; d2++) {
			memcpy(guess, own, sizeof(guess));
			cid = attacker->clientid - (uint64_t)d1;
			memcpy(guess, &cid, 8);
			memcpy(&ctr, own + 12, 4);
			ctr -= (uint32_t)d2;
			memcpy(guess + 12, &ctr, 4);
			memcpy(attacker->sessionid, guess, sizeof(guess));
			nfs4_cl_compound_init(&cp, attacker);
			nfs4_cl_add_path(&cp, "victim-file");
			nfs4_cl_add_close(&cp, &vsid);
			assert_int_equal(ns_send(&cp), NFS4ERR_BADSESSION);
			nfs4_cl_compound_free(&cp);
		}
	}
	memcpy(attacker->sessionid, own, sizeof(own));
	/* the session id says nothing of the clientid it belongs to */
	assert_null(memmem(own, sizeof(own), &attacker->clientid, sizeof(attacker->clientid)));
	/* the victim's open is still its own */
	assert_int_equal(close_sid(victim, "victim-file", &vsid), NFS4_OK);
	nfs4_cl_close(victim, true);
	nfs4_cl_close(attacker, true);
}

static void test_owner_flood_refused_other_client_unaffected(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl *flood = ns_client(&f->srv, "owner-flood");
	struct nfs4_cl *other = ns_client(&f->srv, "owner-other");
	int64_t idle, busy;
	char owner[64];
	int i;

	idle = open_close_median_us(other, 31);
	for (i = 0; i < MAX_OWNERS; i++) {
		snprintf(owner, sizeof(owner), "flood-owner-%d", i);
		assert_int_equal(open_as(flood, "flood-file", owner, NULL), NFS4_OK);
	}
	for (i = 0; i < 20; i++) {
		snprintf(owner, sizeof(owner), "flood-owner-extra-%d", i);
		assert_int_equal(open_as(flood, "flood-file", owner, NULL), NFS4ERR_DELAY);
	}
	/* an owner the client has already still works */
	assert_int_equal(open_as(flood, "flood-file", "flood-owner-7", NULL), NFS4_OK);
	busy = open_close_median_us(other, 31);
	print_message("OPEN+CLOSE of another client: median %lld us idle, %lld us with %d owners "
		      "of the flooding client held\n", (long long)idle, (long long)busy, MAX_OWNERS);
	/* a bound on work, not a speed figure: generous slack for a loaded machine */
	assert_true(busy <= 2 * idle + 2000);
	assert_true(log_count(&f->srv, "Max_Owners_Per_Client") <= 1);
	assert_true(log_count(&f->srv, "Max_Owners_Per_Client") >= 1);
	/* the flooding client's state goes with it */
	nfs4_cl_close(flood, true);
	nfs4_cl_close(other, true);
}

static void test_session_flood_nospc(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl *cl = NULL;
	sessionid4 first;
	int i;

	assert_int_equal(nfs4_cl_open_session(&cl, f->srv.host, f->srv.port, "session-flood", 0), 0);
	memcpy(first, cl->sessionid, sizeof(first));
	for (i = 1; i < MAX_SESSIONS; i++)
		assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_NOSPC);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_NOSPC);
	/* one destroyed: room for one more */
	assert_int_equal(nfs4_cl_destroy_session(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	assert_true(log_count(&f->srv, "Max_Sessions_Per_Client") == 1);
	nfs4_cl_close(cl, true);
}

/* Last: the client records it leaves behind stay until their lease ends. */
static void test_client_flood_delay_existing_clients_work(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl *cl[MAX_CLIENTS + 4] = { NULL };
	char owner[64];
	int i, made = 0, refused = 0;

	for (i = 0; i < MAX_CLIENTS + 4; i++) {
		nfsstat4 st;

		assert_int_equal(nfs4_cl_connect(&cl[i], f->srv.host, f->srv.port), 0);
		snprintf(owner, sizeof(owner), "client-flood-%d", i);
		nfs4_cl_set_owner(cl[i], owner, 1);
		st = nfs4_cl_exchange_id(cl[i]);
		if (st == NFS4_OK)
			made++;
		else if (st == NFS4ERR_DELAY)
			refused++;
		else
			fail_msg("EXCHANGE_ID %d: status %u", i, (unsigned)st);
	}
	/* the fixture's client and those of earlier tests count too */
	assert_true(made < MAX_CLIENTS);
	assert_true(refused >= 4);
	/* the fixture's client carries on */
	assert_int_equal(nfs4_cl_sequence(f->cl), NFS4_OK);
	assert_true(log_count(&f->srv, "Max_Clients") == 1);
	for (i = 0; i < MAX_CLIENTS + 4; i++)
		nfs4_cl_close(cl[i], false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guessed_session_ids_badsession),
		cmocka_unit_test(test_owner_flood_refused_other_client_unaffected),
		cmocka_unit_test(test_session_flood_nospc),
		cmocka_unit_test(test_client_flood_delay_existing_clients_work),
	};

	return cmocka_run_group_tests_name("state_limits", tests, setup, ns_teardown);
}
