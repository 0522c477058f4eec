/*
 * tests/proto/test_pynfs_session.c: the session behaviour the public pynfs
 * NFSv4.1 suite checks (docs/conformance-pynfs.md, section "sessions"), each
 * asserted here against a real daxnfsd with the RFC 8881 rule it rests on:
 * EXCHANGE_ID case 3 (EID5e/EID5g), CREATE_SESSION flag and channel checks
 * (CSESS15, CSESS25-29, SEQ6), the reply cache's retry identity (SEQ9a) and
 * the connection rule of DESTROY_SESSION (DSESS9001).
 * One daemon for the group; each test uses its own client owner.
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
	return proto_server_start(&srv, "pynfs-session", NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static struct nfs4_cl *client(const char *owner, uint64_t verf)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, verf);
	return cl;
}

/* The channel attributes pynfs sends: (0, req, resp, cached, ops, reqs). */
static void pynfs_attrs(channel_attrs4 *ca, uint32_t req, uint32_t resp, uint32_t cached,
			uint32_t ops, uint32_t reqs)
{
	memset(ca, 0, sizeof(*ca));
	ca->ca_maxrequestsize = req;
	ca->ca_maxresponsesize = resp;
	ca->ca_maxresponsesize_cached = cached;
	ca->ca_maxoperations = ops;
	ca->ca_maxrequests = reqs;
}

/* EID5e/EID5g, RFC 8881 §18.35.5 case 3: a confirmed record without state
 * or sessions is taken over by another principal, and its clientid dies. */
static void test_eid_other_principal_takes_over_idle_record(void **state)
{
	struct nfs4_cl *a = client("pyn-eid5e", 10), *b;
	clientid4 old;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(a), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(a, true), NFS4_OK);
	assert_int_equal(nfs4_cl_destroy_session(a), NFS4_OK);
	old = a->clientid;

	b = client("pyn-eid5e", 11);
	proto_cred_sys(&b->cred, 1111, 37);
	assert_int_equal(nfs4_cl_exchange_id(b), NFS4_OK);
	assert_true(b->clientid != old);
	/* the first principal's clientid is gone */
	assert_int_equal(nfs4_cl_create_session(a, true), NFS4ERR_STALE_CLIENTID);
	/* while a record with a session stays protected (CLID_INUSE) */
	assert_int_equal(nfs4_cl_create_session(b, true), NFS4_OK);
	a->verifier[0] ^= 1;
	assert_int_equal(nfs4_cl_exchange_id(a), NFS4ERR_CLID_INUSE);
	nfs4_cl_close(a, false);
	nfs4_cl_close(b, true);
}

/* CSESS15: undefined csa_flags bits are refused; the sequence id is kept. */
static void test_cs_undefined_flags_inval(void **state)
{
	struct nfs4_cl *cl = client("pyn-csess15", 1);

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	cl->csa_flags_extra = 0xf;
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_INVAL);
	cl->csa_flags_extra = CREATE_SESSION4_FLAG_PERSIST;   /* defined: accepted, not granted */
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	nfs4_cl_close(cl, true);
}

/* CSESS25/CSESS28/CSESS29: channels that could never carry a request or a
 * reply get NFS4ERR_TOOSMALL, the back channel included; pynfs's own small
 * but workable sizes (400 and 512 bytes) are accepted. */
static void test_cs_channel_size_limits(void **state)
{
	struct nfs4_cl *cl = client("pyn-toosmall", 1);
	int i;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	pynfs_attrs(&cl->want_back, 8192, 8192, 8192, 128, 8);
	pynfs_attrs(&cl->want_fore, 8192, 0, 8192, 128, 8);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_TOOSMALL);
	pynfs_attrs(&cl->want_fore, 20, 8192, 8192, 128, 8);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4ERR_TOOSMALL);
	pynfs_attrs(&cl->want_fore, 8192, 8192, 8192, 128, 8);
	for (i = 0; i < 50; i++) {
		pynfs_attrs(&cl->want_back, 10, 8192, 8192, 128, 1);
		assert_int_equal(nfs4_cl_create_session(cl, true), NFS4ERR_TOOSMALL);
	}
	pynfs_attrs(&cl->want_back, 8192, 8192, 8192, 128, 8);
	pynfs_attrs(&cl->want_fore, 400, 400, 400, 128, 8);
	assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
	assert_int_equal(cl->fore.ca_maxrequestsize, 400);
	assert_int_equal(cl->fore.ca_maxresponsesize, 400);
	nfs4_cl_close(cl, true);
}

/* SEQ6 and CSESS26: with 512-byte requests and 400-byte replies, a long
 * LOOKUP is NFS4ERR_REQ_TOO_BIG and four GETATTRs NFS4ERR_REP_TOO_BIG,
 * while small compounds work. */
static void test_seq_request_and_reply_limits(void **state)
{
	struct nfs4_cl *cl = client("pyn-seq6", 1);
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;
	char name[501];
	int i;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	pynfs_attrs(&cl->want_fore, 512, 400, 400, 128, 8);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);

	memset(name, 'x', 500);
	name[500] = '\0';
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	op = nfs4_cl_add(&cp, OP_LOOKUP);
	op->u.oplookup.objname.val = (uint8_t *)name;
	op->u.oplookup.objname.len = 500;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REQ_TOO_BIG);
	assert_int_equal(cp.nres, 1);   /* SEQUENCE itself refuses it */
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	for (i = 0; i < 4; i++)
		nfs4_cl_add_getattr(&cp, 0xffffffffu, 0x0000ffffu);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REP_TOO_BIG);
	nfs4_cl_compound_free(&cp);

	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	nfs4_cl_close(cl, true);
}

/* CSESS27: a cached reply limit below any SEQUENCE reply is refused by
 * SEQUENCE with NFS4ERR_REP_TOO_BIG_TO_CACHE, and the slot does not move. */
static void test_seq_rep_too_big_to_cache(void **state)
{
	struct nfs4_cl *cl = client("pyn-csess27", 1);
	struct nfs4_cl_compound cp;

	(void)state;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	pynfs_attrs(&cl->want_fore, 8192, 8192, 10, 128, 8);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	nfs4_cl_compound_init(&cp, cl);
	cp.cachethis = true;
	cp.seq_override = true;
	cp.seqid = 1;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REP_TOO_BIG_TO_CACHE);
	nfs4_cl_compound_free(&cp);
	/* seqid 1 is still the next one on slot 0 */
	nfs4_cl_compound_init(&cp, cl);
	cp.seq_override = true;
	cp.seqid = 1;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

/* SEQ9a/SEQ9f: a retry is the same operations on the same slot and seqid;
 * it may carry another tag and another sa_cachethis and still gets the
 * cached reply, byte for byte. Other operations stay a false retry. */
static void test_seq_retry_ignores_tag_and_cachethis(void **state)
{
	struct nfs4_cl *cl = NULL;
	struct nfs4_cl_compound a, b;

	(void)state;
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "pyn-seq9a", 0), 0);
	nfs4_cl_compound_init(&a, cl);
	snprintf(a.tag, sizeof(a.tag), "first try");
	a.cachethis = true;
	nfs4_cl_add(&a, OP_PUTROOTFH);
	nfs4_cl_add(&a, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&a), 0);
	assert_int_equal(a.status, NFS4_OK);

	nfs4_cl_compound_init(&b, cl);
	snprintf(b.tag, sizeof(b.tag), "retry");
	b.cachethis = false;
	b.seq_override = true;
	b.seqid = a.seqid;
	nfs4_cl_add(&b, OP_PUTROOTFH);
	nfs4_cl_add(&b, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4_OK);
	/* the cached reply, with the first tag */
	assert_int_equal(a.reply.body_len, b.reply.body_len);
	assert_memory_equal(a.reply.body, b.reply.body, a.reply.body_len);
	nfs4_cl_compound_free(&b);

	nfs4_cl_compound_init(&b, cl);
	b.seq_override = true;
	b.seqid = a.seqid;
	nfs4_cl_add(&b, OP_PUTROOTFH);
	assert_int_equal(nfs4_cl_send(&b), 0);
	assert_int_equal(b.status, NFS4ERR_SEQ_FALSE_RETRY);
	nfs4_cl_compound_free(&b);
	nfs4_cl_compound_free(&a);
	nfs4_cl_close(cl, true);
}

/* DSESS9001, RFC 8881 §18.37.3: DESTROY_SESSION on a connection not
 * associated with the session is NFS4ERR_CONN_NOT_BOUND_TO_SESSION; a
 * SEQUENCE on that connection associates it (SP4_NONE) and then it works. */
static void test_destroy_session_needs_bound_connection(void **state)
{
	struct nfs4_cl *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(nfs4_cl_open_session(&a, srv.host, srv.port, "pyn-dsess", 0), 0);
	assert_int_equal(nfs4_cl_connect(&b, srv.host, srv.port), 0);
	memcpy(b->sessionid, a->sessionid, sizeof(sessionid4));
	b->clientid = a->clientid;
	assert_int_equal(nfs4_cl_destroy_session(b), NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);   /* still alive */

	b->have_session = true;
	b->nslots = a->nslots;
	b->slot_seq[0] = a->slot_seq[0];
	assert_int_equal(nfs4_cl_sequence(b), NFS4_OK);
	b->have_session = false;   /* DESTROY_SESSION alone, as pynfs sends it */
	assert_int_equal(nfs4_cl_destroy_session(b), NFS4_OK);
	a->slot_seq[0] = b->slot_seq[0];
	assert_int_equal(nfs4_cl_sequence(a), NFS4ERR_BADSESSION);
	a->have_session = false;
	nfs4_cl_close(b, false);
	nfs4_cl_close(a, true);
}

/* CSESS16/CSESS16a: csa_sec_parms may list AUTH_NONE, AUTH_SYS (with and
 * without gids) and RPCSEC_GSS handles in any order; all decode and the
 * session is created with its back channel. */
static void test_cs_every_cb_sec_flavor(void **state)
{
	static uint32_t gids[] = { 13, 17, 19, 23, 29 };
	struct nfs4_cl *cl = client("pyn-csess16", 1);
	callback_sec_parms4 sec[3];
	int order;

	(void)state;
	for (order = 0; order < 2; order++) {
		callback_sec_parms4 *sys = &sec[order ? 2 : 1], *gss = &sec[order ? 1 : 2];

		memset(sec, 0, sizeof(sec));
		sec[0].cb_secflavor = 0;   /* AUTH_NONE */
		sys->cb_secflavor = 1;     /* AUTH_SYS */
		sys->u.cbsp_sys_cred.stamp = 5;
		sys->u.cbsp_sys_cred.machinename.val = (uint8_t *)"Random machine name";
		sys->u.cbsp_sys_cred.machinename.len = 19;
		sys->u.cbsp_sys_cred.uid = 7;
		sys->u.cbsp_sys_cred.gid = 11;
		sys->u.cbsp_sys_cred.gids.val = order ? NULL : gids;
		sys->u.cbsp_sys_cred.gids.len = order ? 0 : 5;
		gss->cb_secflavor = 6;     /* RPCSEC_GSS */
		gss->u.cbsp_gss_handles.gcbp_service = 3;   /* privacy */
		gss->u.cbsp_gss_handles.gcbp_handle_from_server.val = (uint8_t *)"Handle from server";
		gss->u.cbsp_gss_handles.gcbp_handle_from_server.len = 18;
		gss->u.cbsp_gss_handles.gcbp_handle_from_client.val = (uint8_t *)"Client handle";
		gss->u.cbsp_gss_handles.gcbp_handle_from_client.len = 13;
		cl->cb_sec = sec;
		cl->n_cb_sec = 3;
		if (order == 0)
			assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
		assert_int_equal(nfs4_cl_create_session(cl, true), NFS4_OK);
		assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	}
	cl->cb_sec = NULL;
	nfs4_cl_close(cl, true);
}

/* RECC3/RECC4, RFC 8881 §18.51.3: before its RECLAIM_COMPLETE a new client
 * gets NFS4ERR_GRACE for new state (no grace period is running here);
 * afterwards it opens normally, and a second RECLAIM_COMPLETE is refused. */
static void test_open_before_reclaim_complete_is_grace(void **state)
{
	struct nfs4_cl *cl = NULL;
	stateid4 sid;
	nfs_fh4 fh = { 0 };

	(void)state;
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "pyn-recc3", 0), 0);
	assert_int_equal(nfs4_cl_open_file(cl, "recc3", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sid, &fh),
			 NFS4ERR_GRACE);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(cl, "recc3", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sid, &fh),
			 NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(cl, &fh, &sid), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4ERR_COMPLETE_ALREADY);
	free(fh.val);
	nfs4_cl_close(cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eid_other_principal_takes_over_idle_record),
		cmocka_unit_test(test_cs_undefined_flags_inval),
		cmocka_unit_test(test_cs_channel_size_limits),
		cmocka_unit_test(test_seq_request_and_reply_limits),
		cmocka_unit_test(test_seq_rep_too_big_to_cache),
		cmocka_unit_test(test_seq_retry_ignores_tag_and_cachethis),
		cmocka_unit_test(test_destroy_session_needs_bound_connection),
		cmocka_unit_test(test_cs_every_cb_sec_flavor),
		cmocka_unit_test(test_open_before_reclaim_complete_is_grace),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
