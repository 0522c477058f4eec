/*
 * tests/proto/test_session.c: clients and sessions of a real daxnfsd
 * (RFC 8881 §18.35 EXCHANGE_ID, §18.36 CREATE_SESSION, §18.46 SEQUENCE and
 * the reply cache of §2.10.6, §18.37 DESTROY_SESSION, §18.50
 * DESTROY_CLIENTID, §18.33 BIND_CONN_TO_SESSION, §18.51 RECLAIM_COMPLETE).
 * One daemon for the whole group; each test uses its own client owner. The
 * group ends by stopping the daemon and requiring a clean exit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"

static struct proto_server srv;

static int group_setup(void **state)
{
	(void)state;
	return proto_server_start(&srv, "session", NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static struct nfs4_cl *session(const char *owner, uint32_t flags)
{
	struct nfs4_cl *cl = NULL;
	int rc = nfs4_cl_open_session(&cl, srv.host, srv.port, owner, flags);

	if (rc != 0)
		print_error("nfs4_cl_open_session(%s): %d\n", owner, rc);
	assert_int_equal(rc, 0);
	return cl;
}

static struct nfs4_cl *connect_only(const char *owner, uint64_t verf)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, verf);
	return cl;
}

/* ---- EXCHANGE_ID ---- */

static void test_exchange_id_retry_unconfirmed_replaced(void **state)
{
	struct nfs4_cl *cl = connect_only("eid-retry", 7);
	clientid4 first;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	first = cl->clientid;
	assert_false(cl->eir_flags & EXCHGID4_FLAG_CONFIRMED_R);
	assert_true(cl->eir_flags & EXCHGID4_FLAG_USE_NON_PNFS);
	/* an unconfirmed record is replaced even by an identical request
	 * (RFC 8881 §18.35.5 case 4; pynfs EID5d): new clientid, old one gone */
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_true(cl->clientid != first);
	{
		clientid4 second = cl->clientid;

		cl->clientid = first;
		assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_STALE_CLIENTID);
		cl->clientid = second;
	}
	first = cl->clientid;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	/* confirmed retry: same clientid, now flagged confirmed */
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_true(cl->clientid == first);
	assert_true(cl->eir_flags & EXCHGID4_FLAG_CONFIRMED_R);
	nfs4_cl_close(cl, true);
}

static void test_exchange_id_new_verifier_is_client_restart(void **state)
{
	struct nfs4_cl *a = session("eid-restart", 0), *b;
	clientid4 old = a->clientid;

	(void)state;
	b = connect_only("eid-restart", 99);
	assert_int_equal(nfs4_cl_exchange_id(b), NFS4_OK);
	assert_true(b->clientid != old);
	assert_false(b->eir_flags & EXCHGID4_FLAG_CONFIRMED_R);
	/* until the new incarnation is confirmed, the old session lives */
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(b, false), NFS4_OK);
	/* confirming the new incarnation ends the old one */
	assert_int_equal(nfs4_cl_sequence(a), NFS4ERR_BADSESSION);
	assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
	nfs4_cl_close(a, false);
	nfs4_cl_close(b, true);
}

static void test_exchange_id_other_principal_gets_clid_inuse(void **state)
{
	struct nfs4_cl *a = session("eid-principal", 0), *b;

	(void)state;
	b = connect_only("eid-principal", 5);
	proto_cred_sys(&b->cred, 4242, 4242);
	assert_int_equal(nfs4_cl_exchange_id(b), NFS4ERR_CLID_INUSE);
	nfs4_cl_close(b, false);
	nfs4_cl_close(a, true);
}

static void test_exchange_id_bad_flags_and_ssv(void **state)
{
	struct nfs4_cl *cl = connect_only("eid-flags", 1);

	(void)state;
	cl->eia_flags = EXCHGID4_FLAG_CONFIRMED_R;   /* a server-only flag */
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4ERR_INVAL);
	cl->eia_flags = EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;   /* no record to update */
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4ERR_NOENT);
	nfs4_cl_close(cl, false);
}

/* ---- CREATE_SESSION ---- */

static void test_create_session_replay_and_misordered(void **state)
{
	struct nfs4_cl *cl = connect_only("cs-replay", 3);
	sessionid4 first;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	memcpy(first, cl->sessionid, sizeof(first));
	/* the same csa_sequence again: the same session back */
	cl->create_seq--;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_memory_equal(first, cl->sessionid, sizeof(first));
	/* a sequence from the future */
	cl->create_seq += 5;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_SEQ_MISORDERED);
	cl->create_seq -= 5;
	/* the next one in order makes a second session */
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_memory_not_equal(first, cl->sessionid, sizeof(first));
	nfs4_cl_close(cl, false);
}

static void test_create_session_unknown_clientid(void **state)
{
	struct nfs4_cl *cl = connect_only("cs-stale", 3);

	(void)state;
	cl->clientid = 0x1234567812345678ull;
	cl->create_seq = 1;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_STALE_CLIENTID);
	nfs4_cl_close(cl, false);
}

static void test_create_session_too_small_channel(void **state)
{
	struct nfs4_cl *cl = connect_only("cs-toosmall", 3);

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	cl->want_fore.ca_maxrequestsize = 100;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_TOOSMALL);
	/* a refused CREATE_SESSION does not use up the sequence id */
	cl->want_fore.ca_maxrequestsize = 1024 * 1024;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	nfs4_cl_close(cl, true);
}

static void test_sequence_only_retry_is_replayed(void **state)
{
	struct nfs4_cl *cl = session("seq-only", 0);
	struct nfs4_cl_compound a, b;

	(void)state;
	nfs4_cl_compound_init(&a, cl);
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);
	nfs4_cl_compound_init(&b, cl);
	b.seq_override = true;
	b.seqid = a.seqid;
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4_OK);
	assert_int_equal(a.reply.body_len, b.reply.body_len);
	assert_memory_equal(a.reply.body, b.reply.body, a.reply.body_len);
	nfs4_cl_compound_free(&a);
	nfs4_cl_compound_free(&b);
	nfs4_cl_close(cl, true);
}

static void test_create_session_negotiates_attrs(void **state)
{
	struct nfs4_cl *cl = session("cs-attrs", 0);

	(void)state;
	/* as large as the transport's record limit allows (1 MiB in the test config) */
	assert_true(cl->fore.ca_maxrequestsize >= 1024 * 1024);
	assert_true(cl->fore.ca_maxresponsesize >= 1024 * 1024);
	assert_true(cl->fore.ca_maxrequestsize <= cl->want_fore.ca_maxrequestsize);
	assert_true(cl->fore.ca_maxrequests >= 1 && cl->fore.ca_maxrequests <= 64);
	assert_true(cl->fore.ca_maxoperations >= 8);
	assert_int_equal(cl->fore.ca_headerpadsize, 0);
	nfs4_cl_close(cl, true);
}

/* ---- SEQUENCE and the reply cache ---- */

static void compound_getfh(struct nfs4_cl_compound *cp, struct nfs4_cl *cl)
{
	nfs4_cl_compound_init(cp, cl);
	nfs4_cl_add(cp, OP_PUTROOTFH);
	nfs4_cl_add(cp, OP_GETFH);
}

static void test_sequence_cached_retry_gets_identical_bytes(void **state)
{
	struct nfs4_cl *cl = session("seq-cache", 0);
	struct nfs4_cl_compound a, b;

	(void)state;
	compound_getfh(&a, cl);
	a.cachethis = true;
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);
	assert_int_equal(a.nres, 3);
	compound_getfh(&b, cl);
	b.cachethis = true;
	b.seq_override = true;
	b.seqid = a.seqid;
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4_OK);
	assert_int_equal(a.reply.body_len, b.reply.body_len);
	assert_memory_equal(a.reply.body, b.reply.body, a.reply.body_len);
	nfs4_cl_compound_free(&a);
	nfs4_cl_compound_free(&b);
	/* the slot moves on normally afterwards */
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	nfs4_cl_close(cl, true);
}

static void test_sequence_uncached_retry(void **state)
{
	struct nfs4_cl *cl = session("seq-uncached", 0);
	struct nfs4_cl_compound a, b;

	(void)state;
	compound_getfh(&a, cl);
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);
	compound_getfh(&b, cl);
	b.seq_override = true;
	b.seqid = a.seqid;
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4ERR_RETRY_UNCACHED_REP);
	nfs4_cl_compound_free(&a);
	nfs4_cl_compound_free(&b);
	nfs4_cl_close(cl, true);
}

static void test_sequence_false_retry(void **state)
{
	struct nfs4_cl *cl = session("seq-false", 0);
	struct nfs4_cl_compound a, b;

	(void)state;
	compound_getfh(&a, cl);
	a.cachethis = true;
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);
	nfs4_cl_compound_init(&b, cl);   /* same seqid, different request */
	nfs4_cl_add(&b, OP_PUTROOTFH);
	b.cachethis = true;
	b.seq_override = true;
	b.seqid = a.seqid;
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4ERR_SEQ_FALSE_RETRY);
	nfs4_cl_compound_free(&a);
	nfs4_cl_compound_free(&b);
	nfs4_cl_close(cl, true);
}

static void test_sequence_misordered_badslot_badsession(void **state)
{
	struct nfs4_cl *cl = session("seq-errors", 0);
	struct nfs4_cl_compound cp;

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	cp.seq_override = true;
	cp.seqid = cl->slot_seq[0] + 2;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_SEQ_MISORDERED);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, cl);
	cp.slot = cl->fore.ca_maxrequests;   /* one past the table */
	cp.seq_override = true;
	cp.seqid = 1;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_BADSLOT);
	nfs4_cl_compound_free(&cp);

	/* another slot has its own sequence */
	if (cl->fore.ca_maxrequests > 1) {
		nfs4_cl_compound_init(&cp, cl);
		cp.slot = 1;
		assert_int_equal(nfs4_cl_send(&cp), 0);
		assert_int_equal(cp.status, NFS4_OK);
		nfs4_cl_compound_free(&cp);
	}

	cl->sessionid[0] ^= 0xff;
	assert_int_equal(nfs4_cl_sequence(cl), NFS4ERR_BADSESSION);
	cl->sessionid[0] ^= 0xff;
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	nfs4_cl_close(cl, true);
}

static void test_sequence_reports_highest_slot(void **state)
{
	struct nfs4_cl *cl = session("seq-slots", 0);

	(void)state;
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	assert_int_equal(cl->last_highest_slotid, cl->fore.ca_maxrequests - 1);
	assert_int_equal(cl->last_target_highest_slotid, cl->fore.ca_maxrequests - 1);
	/* no back channel was asked for */
	assert_true(cl->last_status_flags & SEQ4_STATUS_CB_PATH_DOWN);
	nfs4_cl_close(cl, true);
}

/* ---- DESTROY_SESSION, DESTROY_CLIENTID, BIND_CONN_TO_SESSION, RECLAIM_COMPLETE ---- */

static void test_destroy_session_and_clientid(void **state)
{
	struct nfs4_cl *cl = session("destroy", 0);

	(void)state;
	assert_int_equal(nfs4_cl_destroy_clientid(cl), NFS4ERR_CLIENTID_BUSY);
	assert_int_equal(nfs4_cl_destroy_session(cl), NFS4_OK);
	cl->have_session = true;   /* use the dead session on purpose */
	assert_int_equal(nfs4_cl_sequence(cl), NFS4ERR_BADSESSION);
	assert_int_equal(nfs4_cl_destroy_session(cl), NFS4ERR_BADSESSION);
	cl->have_session = false;
	assert_int_equal(nfs4_cl_destroy_clientid(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_destroy_clientid(cl), NFS4ERR_STALE_CLIENTID);
	nfs4_cl_close(cl, false);
}

static void test_bind_conn_to_session_from_second_connection(void **state)
{
	struct nfs4_cl *a = session("bind", 0), *b;
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;
	nfs_resop4 *r;

	(void)state;
	assert_int_equal(nfs4_cl_connect(&b, srv.host, srv.port), 0);
	nfs4_cl_compound_init(&cp, b);
	op = nfs4_cl_add(&cp, OP_BIND_CONN_TO_SESSION);
	memcpy(op->u.opbind_conn_to_session.bctsa_sessid, a->sessionid, sizeof(sessionid4));
	op->u.opbind_conn_to_session.bctsa_dir = CDFC4_FORE_OR_BOTH;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_BIND_CONN_TO_SESSION);
	assert_non_null(r);
	assert_memory_equal(r->u.opbind_conn_to_session.u.bctsr_resok4.bctsr_sessid,
			    a->sessionid, sizeof(sessionid4));
	assert_int_equal(r->u.opbind_conn_to_session.u.bctsr_resok4.bctsr_dir, CDFS4_BOTH);
	nfs4_cl_compound_free(&cp);

	/* the second connection now carries the session (slot state shared) */
	b->have_session = true;
	memcpy(b->sessionid, a->sessionid, sizeof(sessionid4));
	b->clientid = a->clientid;
	b->slot_seq[0] = a->slot_seq[0];
	assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
	a->slot_seq[0] = b->slot_seq[0];
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);

	/* an unknown session */
	nfs4_cl_compound_init(&cp, b);
	cp.no_sequence = true;
	op = nfs4_cl_add(&cp, OP_BIND_CONN_TO_SESSION);
	memset(op->u.opbind_conn_to_session.bctsa_sessid, 0x5a, sizeof(sessionid4));
	op->u.opbind_conn_to_session.bctsa_dir = CDFC4_FORE;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_BADSESSION);
	nfs4_cl_compound_free(&cp);
	b->have_session = false;
	nfs4_cl_close(b, false);
	nfs4_cl_close(a, true);
}

static void test_reclaim_complete_twice(void **state)
{
	struct nfs4_cl *cl = session("reclaim-twice", 0);

	(void)state;
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4ERR_COMPLETE_ALREADY);
	nfs4_cl_close(cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange_id_retry_unconfirmed_replaced),
		cmocka_unit_test(test_exchange_id_new_verifier_is_client_restart),
		cmocka_unit_test(test_exchange_id_other_principal_gets_clid_inuse),
		cmocka_unit_test(test_exchange_id_bad_flags_and_ssv),
		cmocka_unit_test(test_create_session_replay_and_misordered),
		cmocka_unit_test(test_create_session_unknown_clientid),
		cmocka_unit_test(test_create_session_negotiates_attrs),
		cmocka_unit_test(test_create_session_too_small_channel),
		cmocka_unit_test(test_sequence_only_retry_is_replayed),
		cmocka_unit_test(test_sequence_cached_retry_gets_identical_bytes),
		cmocka_unit_test(test_sequence_uncached_retry),
		cmocka_unit_test(test_sequence_false_retry),
		cmocka_unit_test(test_sequence_misordered_badslot_badsession),
		cmocka_unit_test(test_sequence_reports_highest_slot),
		cmocka_unit_test(test_destroy_session_and_clientid),
		cmocka_unit_test(test_bind_conn_to_session_from_second_connection),
		cmocka_unit_test(test_reclaim_complete_twice),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
