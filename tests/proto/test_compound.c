/*
 * tests/proto/test_compound.c: the COMPOUND loop of a real daxnfsd (RFC 8881
 * §16.2, §2.10.6.4, §15.1): tag echo, minor version checks, operation order
 * errors, unknown and undefined operations, NOTSUPP without argument
 * decoding, BADXDR for an operation's truncated arguments, GARBAGE_ARGS for
 * a truncated header, TOO_MANY_OPS, REP_TOO_BIG and REP_TOO_BIG_TO_CACHE.
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
	return proto_server_start(&srv, "compound", NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static struct nfs4_cl *session_with(const char *owner, uint32_t maxops, uint32_t maxresp,
				    uint32_t maxcached)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_set_owner(cl, owner, 1);
	if (maxops)
		cl->want_fore.ca_maxoperations = maxops;
	if (maxresp)
		cl->want_fore.ca_maxresponsesize = maxresp;
	if (maxcached != UINT32_MAX)
		cl->want_fore.ca_maxresponsesize_cached = maxcached;
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	return cl;
}

static struct nfs4_cl *session(const char *owner)
{
	return session_with(owner, 0, 0, UINT32_MAX);
}

/* Encodes cp, replaces the last op number (which must be a void-args op at
 * the very end) by opnum, sends it. */
static void send_with_last_opnum(struct nfs4_cl_compound *cp, uint32_t opnum)
{
	uint8_t buf[4096];
	int len = nfs4_cl_encode(cp, buf, sizeof(buf));

	assert_true(len >= 4);
	buf[len - 4] = (uint8_t)(opnum >> 24);
	buf[len - 3] = (uint8_t)(opnum >> 16);
	buf[len - 2] = (uint8_t)(opnum >> 8);
	buf[len - 1] = (uint8_t)opnum;
	assert_int_equal(nfs4_cl_send_raw(cp, buf, (size_t)len), 0);
	assert_int_equal(cp->accept_stat, 0);
}

static void test_tag_echoed_and_minor_version_mismatch(void **state)
{
	struct nfs4_cl *cl = session("cmp-minor");
	struct nfs4_cl_compound cp;
	uint32_t minors[] = { 0, 3, 77 };
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		nfs4_cl_compound_init(&cp, cl);
		snprintf(cp.tag, sizeof(cp.tag), "tag-%u", minors[i]);
		cp.minorversion = minors[i];
		nfs4_cl_add(&cp, OP_PUTROOTFH);
		assert_int_equal(nfs4_cl_send(&cp), 0);
		assert_int_equal(cp.status, NFS4ERR_MINOR_VERS_MISMATCH);
		assert_int_equal(cp.nres, 0);
		assert_int_equal(cp.res_tag.len, strlen(cp.tag));
		assert_memory_equal(cp.res_tag.val, cp.tag, strlen(cp.tag));
		nfs4_cl_compound_free(&cp);
	}
	/* minor version 2 is served too */
	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(cp.nres, 2);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_first_op_must_be_sequence(void **state)
{
	struct nfs4_cl *cl = session("cmp-notinsession");
	struct nfs4_cl_compound cp;

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	cp.no_sequence = true;
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_OP_NOT_IN_SESSION);
	assert_int_equal(cp.nres, 1);
	assert_int_equal(cp.res[0].resop, OP_PUTROOTFH);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_sequence_not_first_is_sequence_pos(void **state)
{
	struct nfs4_cl *cl = session("cmp-seqpos");
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	op = nfs4_cl_add(&cp, OP_SEQUENCE);
	memcpy(op->u.opsequence.sa_sessionid, cl->sessionid, sizeof(sessionid4));
	op->u.opsequence.sa_sequenceid = 1;
	op->u.opsequence.sa_slotid = 1;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_SEQUENCE_POS);
	assert_int_equal(cp.nres, 3);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_SEQUENCE);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_sessionless_op_not_alone_is_not_only_op(void **state)
{
	struct nfs4_cl *cl = NULL;
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;

	(void)state;
	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	nfs4_cl_compound_init(&cp, cl);
	cp.no_sequence = true;
	op = nfs4_cl_add(&cp, OP_EXCHANGE_ID);
	op->u.opexchange_id.eia_clientowner.co_ownerid.val = (uint8_t *)"cmp-notonly";
	op->u.opexchange_id.eia_clientowner.co_ownerid.len = 11;
	op->u.opexchange_id.eia_state_protect.spa_how = SP4_NONE;
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NOT_ONLY_OP);
	assert_int_equal(cp.nres, 1);
	assert_int_equal(cp.res[0].resop, OP_EXCHANGE_ID);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, false);
}

static void test_getfh_without_fh_is_nofilehandle(void **state)
{
	struct nfs4_cl *cl = session("cmp-nofh");
	struct nfs4_cl_compound cp;

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NOFILEHANDLE);
	assert_int_equal(cp.nres, 2);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_GETFH);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_unknown_and_undefined_ops_are_illegal(void **state)
{
	struct nfs4_cl *cl = session("cmp-illegal");
	struct nfs4_cl_compound cp;
	uint32_t bad[] = { 9999, 0, 1, 2, OP_WRITE_SAME /* 4.2 only */, OP_CLONE };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nfs4_cl_compound_init(&cp, cl);
		nfs4_cl_add(&cp, OP_PUTROOTFH);
		nfs4_cl_add(&cp, OP_GETFH);
		send_with_last_opnum(&cp, bad[i]);
		assert_int_equal(cp.status, NFS4ERR_OP_ILLEGAL);
		assert_int_equal(cp.nres, 3);
		assert_int_equal(nfs4_cl_last_op(&cp), OP_ILLEGAL);
		assert_int_equal(nfs4_cl_last_status(&cp), NFS4ERR_OP_ILLEGAL);
		nfs4_cl_compound_free(&cp);
	}
	nfs4_cl_close(cl, true);
}

static void test_unserved_op_is_notsupp(void **state)
{
	struct nfs4_cl *cl = session("cmp-notsupp");
	struct nfs4_cl_compound cp;

	(void)state;
	/* NFSv4.0-only operations must be NOTSUPP in a 4.1 compound */
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_GETFH);
	send_with_last_opnum(&cp, OP_OPEN_CONFIRM);
	assert_int_equal(cp.status, NFS4ERR_NOTSUPP);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_OPEN_CONFIRM);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_truncated_op_args_are_badxdr(void **state)
{
	struct nfs4_cl *cl = session("cmp-badxdr");
	struct nfs4_cl_compound cp;
	uint8_t buf[4096];
	nfs_argop4 *op;
	int len;

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	op = nfs4_cl_add(&cp, OP_LOOKUP);
	op->u.oplookup.objname.val = (uint8_t *)"abcdefgh";
	op->u.oplookup.objname.len = 8;
	len = nfs4_cl_encode(&cp, buf, sizeof(buf));
	assert_true(len > 8);
	/* drop the name's bytes: its length now claims more than remains */
	assert_int_equal(nfs4_cl_send_raw(&cp, buf, (size_t)len - 8), 0);
	assert_int_equal(cp.accept_stat, 0);
	assert_int_equal(cp.status, NFS4ERR_BADXDR);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_LOOKUP);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_truncated_header_is_garbage_args(void **state)
{
	struct nfs4_cl *cl = session("cmp-garbage");
	struct nfs4_cl_compound cp;
	uint8_t buf[8] = { 0, 0, 0, 100, 'a', 'b', 'c', 'd' };   /* tag of 100 bytes, 4 present */

	(void)state;
	nfs4_cl_compound_init(&cp, cl);
	assert_int_equal(nfs4_cl_send_raw(&cp, buf, sizeof(buf)), 0);
	assert_int_equal(cp.accept_stat, 4 /* GARBAGE_ARGS */);
	nfs4_cl_compound_free(&cp);
	/* the connection still serves */
	assert_int_equal(nfs4_cl_sequence(cl), NFS4_OK);
	nfs4_cl_close(cl, true);
}

static void test_too_many_ops(void **state)
{
	struct nfs4_cl *cl = session_with("cmp-toomany", 4, 0, UINT32_MAX);
	struct nfs4_cl_compound cp;
	int i;

	(void)state;
	assert_int_equal(cl->fore.ca_maxoperations, 4);
	nfs4_cl_compound_init(&cp, cl);
	for (i = 0; i < 3; i++)
		nfs4_cl_add(&cp, OP_PUTROOTFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);   /* 4 ops with SEQUENCE: fine */
	nfs4_cl_compound_free(&cp);
	nfs4_cl_compound_init(&cp, cl);
	for (i = 0; i < 4; i++)
		nfs4_cl_add(&cp, OP_PUTROOTFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_TOO_MANY_OPS);
	assert_int_equal(cp.nres, 1);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_reply_too_big(void **state)
{
	struct nfs4_cl *cl = session_with("cmp-repbig", 0, 1024, UINT32_MAX);
	struct nfs4_cl_compound cp;
	int i;

	(void)state;
	assert_int_equal(cl->fore.ca_maxresponsesize, 1024);
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	/* GETATTR's reply estimate (512 bytes) makes the server refuse before
	 * the reply could pass the limit */
	for (i = 0; i < 20; i++)
		nfs4_cl_add_getattr(&cp, (1u << FATTR4_TYPE) | (1u << FATTR4_SIZE) |
				    (1u << FATTR4_FILEID), 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REP_TOO_BIG);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_GETATTR);
	assert_true(cp.nres > 2 && cp.nres < 22);
	assert_true(cp.reply.body_len + 24 <= 1024);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_reply_too_big_to_cache(void **state)
{
	struct nfs4_cl *cl = session_with("cmp-repcache", 0, 0, 256);
	struct nfs4_cl_compound cp;
	int i;

	(void)state;
	assert_int_equal(cl->fore.ca_maxresponsesize_cached, 256);
	nfs4_cl_compound_init(&cp, cl);
	cp.cachethis = true;
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	for (i = 0; i < 6; i++)
		nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_REP_TOO_BIG_TO_CACHE);
	nfs4_cl_compound_free(&cp);
	/* the same without cachethis is fine */
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	for (i = 0; i < 6; i++)
		nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

static void test_null_procedure(void **state)
{
	struct nfs4_cl *cl = NULL;
	struct proto_reply rep;

	(void)state;
	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	assert_int_equal(proto_rpc_call(&cl->conn, 100003, 4, 0, NULL, NULL, 0, &rep), 0);
	assert_int_equal(rep.accept_stat, 0);
	assert_int_equal(rep.body_len, 0);
	proto_reply_free(&rep);
	nfs4_cl_close(cl, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_procedure),
		cmocka_unit_test(test_tag_echoed_and_minor_version_mismatch),
		cmocka_unit_test(test_first_op_must_be_sequence),
		cmocka_unit_test(test_sequence_not_first_is_sequence_pos),
		cmocka_unit_test(test_sessionless_op_not_alone_is_not_only_op),
		cmocka_unit_test(test_getfh_without_fh_is_nofilehandle),
		cmocka_unit_test(test_unknown_and_undefined_ops_are_illegal),
		cmocka_unit_test(test_unserved_op_is_notsupp),
		cmocka_unit_test(test_truncated_op_args_are_badxdr),
		cmocka_unit_test(test_truncated_header_is_garbage_args),
		cmocka_unit_test(test_too_many_ops),
		cmocka_unit_test(test_reply_too_big),
		cmocka_unit_test(test_reply_too_big_to_cache),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
