/*
 * tests/proto/test_session_backchannel.c: the NFSv4.1 backchannel of a real
 * daxnfsd on the client's own TCP connection (RFC 8881 §2.10.3.1, §18.36
 * CREATE_SESSION4_FLAG_CONN_BACK_CHAN, §18.33 BIND_CONN_TO_SESSION, §20.9
 * CB_SEQUENCE, §18.46.3 SEQ4_STATUS_CB_PATH_DOWN*): the server probes a new
 * back channel with CB_NULL and CB_COMPOUND{CB_SEQUENCE}; a client that
 * answers sees no CB_PATH_DOWN, one that refuses or ignores the probe does.
 * The back channel slot's sequence id follows RFC 8881 §2.10.6.1 (DELAY,
 * lost call, lost reply), and every CB_COMPOUND carries the minor version of
 * its session. test_session_backchannel_backoff.c: a client that can never
 * take callbacks.
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

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"

#define PATH_DOWN (SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION)

static struct proto_server srv;

static int group_setup(void **state)
{
	(void)state;
	return proto_server_start(&srv, "backchannel", NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static struct nfs4_cl *session_cb(const char *owner, enum nfs4_cl_cb_mode mode)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, (uint64_t)time(NULL));
	cl->cb_mode = mode;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	return cl;
}

/* Serves callbacks until the probe's CB_SEQUENCE came (or ms passed). */
static void wait_probe(struct nfs4_cl *cl, int ms)
{
	while (ms > 0 && cl->cb_sequence_count == 0) {
		assert_true(nfs4_cl_poll(cl, 200, false) >= 0);
		ms -= 200;
	}
}

/* SEQUENCE (serving callbacks meanwhile) until the flags match want. */
static uint32_t wait_flags(struct nfs4_cl *cl, uint32_t mask, uint32_t want, int ms)
{
	for (;;) {
		assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
		if ((cl->last_status_flags & mask) == want || ms <= 0)
			return cl->last_status_flags;
		assert_true(nfs4_cl_poll(cl, 250, false) >= 0);
		ms -= 250;
	}
}

/* The probe waits for the session's first SEQUENCE: until the client has
 * read the CREATE_SESSION reply it cannot know the session a CB_SEQUENCE
 * names (Linux answers NFS4ERR_BADSESSION then). After it, the probe comes
 * and the path is up. */
static void test_probe_answered_path_up(void **state)
{
	struct nfs4_cl *cl = session_cb("cb-answer", NFS4_CL_CB_ANSWER);
	uint32_t flags;

	(void)state;
	assert_true(nfs4_cl_poll(cl, 1000, false) >= 0);
	assert_int_equal(cl->cb_null_count + cl->cb_compound_count, 0);
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	wait_probe(cl, 10000);
	assert_true(cl->cb_null_count >= 1);
	assert_int_equal(cl->cb_sequence_count, 1);
	assert_memory_equal(cl->cb_last_sessionid, cl->sessionid, sizeof(sessionid4));
	assert_int_equal(cl->cb_last_seq, 1);
	assert_int_equal(cl->cb_last_nops, 1);
	assert_int_equal(cl->cb_last_ops[0], OP_CB_SEQUENCE);
	flags = wait_flags(cl, PATH_DOWN, 0, 5000);
	assert_int_equal(flags & PATH_DOWN, 0);
	nfs4_cl_close(cl, true);
}

static void test_probe_rejected_path_down(void **state)
{
	struct nfs4_cl *cl = session_cb("cb-reject", NFS4_CL_CB_REJECT);
	uint32_t flags;

	(void)state;
	flags = wait_flags(cl, SEQ4_STATUS_CB_PATH_DOWN, SEQ4_STATUS_CB_PATH_DOWN, 10000);
	assert_true(flags & SEQ4_STATUS_CB_PATH_DOWN);
	assert_true(flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	assert_int_equal(cl->cb_sequence_count, 0);
	nfs4_cl_close(cl, true);
}

static void test_probe_ignored_times_out_path_down(void **state)
{
	struct nfs4_cl *cl = session_cb("cb-ignore", NFS4_CL_CB_IGNORE);
	uint32_t flags;

	(void)state;
	flags = wait_flags(cl, SEQ4_STATUS_CB_PATH_DOWN, SEQ4_STATUS_CB_PATH_DOWN, 15000);
	assert_true(flags & SEQ4_STATUS_CB_PATH_DOWN);
	nfs4_cl_close(cl, true);
}

static void test_no_back_channel_reports_path_down(void **state)
{
	struct nfs4_cl *cl = NULL;

	(void)state;
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "cb-none", 0), 0);
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	assert_true(cl->last_status_flags & SEQ4_STATUS_CB_PATH_DOWN);
	assert_true(cl->last_status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	assert_int_equal(cl->cb_null_count + cl->cb_compound_count, 0);
	nfs4_cl_close(cl, true);
}

static void test_bind_conn_back_channel_then_path_up(void **state)
{
	struct nfs4_cl *a = NULL, *b = NULL;
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;
	nfs_resop4 *r;

	(void)state;
	assert_int_equal(nfs4_cl_open_session(&a, srv.host, srv.port, "cb-bind", 0), 0);
	assert_int_equal(nfs4_cl_connect(&b, srv.host, srv.port), 0);
	b->cb_program = a->cb_program;
	nfs4_cl_compound_init(&cp, b);
	op = nfs4_cl_add(&cp, OP_BIND_CONN_TO_SESSION);
	memcpy(op->u.opbind_conn_to_session.bctsa_sessid, a->sessionid, sizeof(sessionid4));
	op->u.opbind_conn_to_session.bctsa_dir = CDFC4_BACK;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_BIND_CONN_TO_SESSION);
	assert_int_equal(r->u.opbind_conn_to_session.u.bctsr_resok4.bctsr_dir, CDFS4_BACK);
	nfs4_cl_compound_free(&cp);
	/* the probe arrives on the bound connection, not on a's */
	wait_probe(b, 10000);
	assert_true(b->cb_null_count >= 1);
	assert_int_equal(b->cb_sequence_count, 1);
	assert_int_equal(a->cb_null_count + a->cb_compound_count, 0);
	assert_memory_equal(b->cb_last_sessionid, a->sessionid, sizeof(sessionid4));
	assert_int_equal(wait_flags(a, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	/* losing the back channel connection brings the flags back */
	nfs4_cl_close(b, false);
	assert_true(wait_flags(a, SEQ4_STATUS_CB_PATH_DOWN, SEQ4_STATUS_CB_PATH_DOWN, 5000) &
		    SEQ4_STATUS_CB_PATH_DOWN);
	nfs4_cl_close(a, true);
}

/* Connected, EXCHANGE_ID done at minor version minor; CREATE_SESSION (with
 * a back channel) is the caller's, after it has set up the client's answers. */
static struct nfs4_cl *client_at_minor(const char *owner, uint32_t minor)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, (uint64_t)time(NULL));
	cl->minorversion = minor;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	return cl;
}

/* As a Linux client does on CB_PATH_DOWN: binds its connection to its
 * session for both channels again (which asks the server for a probe). */
static void rebind_back(struct nfs4_cl *cl)
{
	assert_int_equal(nfs4_cl_bind_conn(cl, CDFC4_BACK_OR_BOTH), NFS4_OK);
}

/* Serves callbacks until n CB_SEQUENCEs (answered or dropped) have come. */
static void wait_seqs(struct nfs4_cl *cl, unsigned n, int ms)
{
	while (ms > 0 && cl->cb_nseqs < n) {
		assert_true(nfs4_cl_poll(cl, 200, false) >= 0);
		ms -= 200;
	}
}

/* RFC 8881 §2.10.6.1: a CB_SEQUENCE answered NFS4ERR_DELAY did not use the
 * slot; the server sends the same sequence id again, later, and the path
 * comes up without the client doing anything. */
static void test_delay_then_same_seqid_path_up(void **state)
{
	struct nfs4_cl *cl = client_at_minor("cb-delay", 1);

	(void)state;
	cl->cb_seq_script[0] = NFS4ERR_DELAY;
	cl->cb_seq_script_len = 1;
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);   /* the probe's trigger */
	wait_seqs(cl, 2, 10000);
	assert_int_equal(cl->cb_nseqs, 2);
	assert_int_equal(cl->cb_seqs[0], 1);
	assert_int_equal(cl->cb_seqs[1], 1);
	assert_int_equal(cl->cb_slot_seq, 1);
	assert_int_equal(wait_flags(cl, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	nfs4_cl_close(cl, true);
}

/* A call the client never saw: after the timeout the path is down; the
 * next probe carries the same sequence id (to the client, a new call). */
static void test_lost_call_same_seqid_next_probe(void **state)
{
	struct nfs4_cl *cl = client_at_minor("cb-lost-call", 1);

	(void)state;
	cl->cb_drop_calls = 1;
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	assert_true(wait_flags(cl, SEQ4_STATUS_CB_PATH_DOWN_SESSION,
			       SEQ4_STATUS_CB_PATH_DOWN_SESSION, 15000) &
		    SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	rebind_back(cl);
	wait_seqs(cl, 2, 10000);
	assert_int_equal(cl->cb_nseqs, 2);
	assert_int_equal(cl->cb_seqs[0], 1);
	assert_int_equal(cl->cb_seqs[1], 1);
	assert_int_equal(wait_flags(cl, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	assert_int_equal(cl->cb_slot_seq, 1);
	nfs4_cl_close(cl, true);
}

/* A reply that was lost after the client executed the call: the retry
 * (same id) is answered RETRY_UNCACHED_REP, so the slot was used and the
 * server goes on with the next id. */
static void test_lost_reply_retry_then_next_seqid(void **state)
{
	struct nfs4_cl *cl = client_at_minor("cb-lost-reply", 1);

	(void)state;
	cl->cb_drop_replies = 1;
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	assert_true(wait_flags(cl, SEQ4_STATUS_CB_PATH_DOWN_SESSION,
			       SEQ4_STATUS_CB_PATH_DOWN_SESSION, 15000) &
		    SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	rebind_back(cl);
	wait_seqs(cl, 3, 10000);
	assert_int_equal(cl->cb_nseqs, 3);
	assert_int_equal(cl->cb_seqs[0], 1);
	assert_int_equal(cl->cb_seqs[1], 1);
	assert_int_equal(cl->cb_seqs[2], 2);
	assert_int_equal(cl->cb_slot_seq, 2);
	assert_int_equal(wait_flags(cl, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	nfs4_cl_close(cl, true);
}

/* RFC 8881 §2.10.3.1, §20: a callback belongs to a session, and carries
 * its minor version: a 4.2 and a 4.1 client at once each get their own
 * (the test client, like Linux, answers BADSESSION to another). */
static void test_each_session_own_minor_version(void **state)
{
	struct nfs4_cl *a = client_at_minor("cb-minor-2", 2);
	struct nfs4_cl *b = client_at_minor("cb-minor-1", 1);

	(void)state;
	assert_int_equal(nfs4_cl_create_session(a, true), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(b, true), NFS4_OK);
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);   /* the probes' trigger */
	assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
	wait_probe(a, 10000);
	wait_probe(b, 10000);
	assert_int_equal(a->cb_last_minorversion, 2);
	assert_int_equal(b->cb_last_minorversion, 1);
	assert_int_equal(a->cb_sequence_count, 1);
	assert_int_equal(b->cb_sequence_count, 1);
	assert_int_equal(a->cb_slot_seq, 1);
	assert_int_equal(b->cb_slot_seq, 1);
	assert_int_equal(wait_flags(a, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	assert_int_equal(wait_flags(b, PATH_DOWN, 0, 5000) & PATH_DOWN, 0);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_answered_path_up),
		cmocka_unit_test(test_probe_rejected_path_down),
		cmocka_unit_test(test_probe_ignored_times_out_path_down),
		cmocka_unit_test(test_no_back_channel_reports_path_down),
		cmocka_unit_test(test_bind_conn_back_channel_then_path_up),
		cmocka_unit_test(test_delay_then_same_seqid_path_up),
		cmocka_unit_test(test_lost_call_same_seqid_next_probe),
		cmocka_unit_test(test_lost_reply_retry_then_next_seqid),
		cmocka_unit_test(test_each_session_own_minor_version),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
