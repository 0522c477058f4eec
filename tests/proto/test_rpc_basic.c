/*
 * tests/proto/test_rpc_basic.c: the RPC layer of a real daxnfsd over TCP:
 * the NULL procedure, the replies RFC 5531 §9 prescribes for unknown programs,
 * versions and procedures, RPC version and credential errors, multi-fragment
 * records, and GARBAGE_ARGS for a COMPOUND whose arguments do not decode.
 * Every test ends by stopping the daemon with SIGTERM and requiring exit 0
 * (a crash or a sanitizer report fails the test).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/proto/lib/proto_rpc.h"
#include "tests/proto/lib/proto_server.h"

#define NFS_PROG 100003
#define NFS_V4 4

struct fixture {
	struct proto_server srv;
	struct proto_conn conn;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || proto_server_start(&f->srv, "rpc_basic", NULL) < 0)
		return -1;
	if (proto_connect(&f->conn, f->srv.host, f->srv.port, 10000) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	proto_close(&f->conn);
	rc = proto_server_stop(&f->srv);
	if (rc == 0)
		proto_server_cleanup(&f->srv);
	free(f);
	if (rc != 0) {
		print_error("daxnfsd exited with status %d after SIGTERM\n", rc);
		return -1;
	}
	return 0;
}

static void test_null_proc_answers_success(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;

	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	assert_int_equal(r.verf_flavor, RPC_AUTH_NONE);
	assert_int_equal(r.body_len, 0);
	proto_reply_free(&r);
}

static void test_null_proc_with_auth_sys_16_gids(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;
	struct rpc_cred cred;
	unsigned i;

	proto_cred_sys(&cred, 1000, 1000);
	cred.ngids = 16;
	for (i = 0; i < 16; i++)
		cred.gids[i] = 2000 + i;
	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 0, &cred, NULL, 0, &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
}

static void test_unknown_program_is_prog_unavail(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;

	assert_int_equal(proto_rpc_call(&f->conn, 100099, 1, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_PROG_UNAVAIL);
	proto_reply_free(&r);
}

static void test_nfs_v3_is_prog_mismatch_4_4(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;

	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, 3, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_PROG_MISMATCH);
	assert_int_equal(r.mismatch_low, 4);
	assert_int_equal(r.mismatch_high, 4);
	proto_reply_free(&r);
}

static void test_proc_5_is_proc_unavail(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;

	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 5, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_PROC_UNAVAIL);
	proto_reply_free(&r);
}

static void test_rpcvers_3_is_rpc_mismatch(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;
	uint8_t buf[128];
	struct xdr_stream x;
	uint8_t *rec;
	size_t len;

	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(proto_encode_call_header(&x, 0x3333, 3, NFS_PROG, NFS_V4, 0, NULL));
	assert_int_equal(proto_send_record(&f->conn, buf, x.pos), 0);
	assert_int_equal(proto_recv_record(&f->conn, &rec, &len), 0);
	assert_int_equal(proto_parse_reply(rec, len, &r), 0);
	assert_int_equal(r.xid, 0x3333);
	assert_int_equal(r.reply_stat, RPC_MSG_DENIED);
	assert_int_equal(r.reject_stat, RPC_MISMATCH);
	assert_int_equal(r.mismatch_low, 2);
	assert_int_equal(r.mismatch_high, 2);
	proto_reply_free(&r);
}

static void test_auth_sys_17_gids_is_badcred(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;
	uint8_t body[256], buf[512];
	struct xdr_stream b, x;
	uint8_t *rec;
	size_t len;
	unsigned i;

	xdr_init_encode(&b, body, sizeof(body));
	xdr_put_u32(&b, 1);
	xdr_put_opaque(&b, "host", 4);
	xdr_put_u32(&b, 0);
	xdr_put_u32(&b, 0);
	xdr_put_u32(&b, 17);
	for (i = 0; i < 17; i++)
		xdr_put_u32(&b, i);
	assert_true(xdr_ok(&b));
	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(proto_encode_call_header_raw(&x, 0x1717, 2, NFS_PROG, NFS_V4, 0,
						 RPC_AUTH_SYS, body, (uint32_t)b.pos));
	assert_int_equal(proto_send_record(&f->conn, buf, x.pos), 0);
	assert_int_equal(proto_recv_record(&f->conn, &rec, &len), 0);
	assert_int_equal(proto_parse_reply(rec, len, &r), 0);
	assert_int_equal(r.xid, 0x1717);
	assert_int_equal(r.reply_stat, RPC_MSG_DENIED);
	assert_int_equal(r.reject_stat, RPC_AUTH_ERROR);
	assert_int_equal(r.auth_stat, RPC_AUTH_BADCRED);
	proto_reply_free(&r);

	/* the connection is still good */
	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
}

static void test_null_call_in_three_fragments(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;
	uint8_t buf[128];
	struct xdr_stream x;
	struct iovec frags[3];
	uint8_t *rec;
	size_t len;

	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(proto_encode_call_header(&x, 0xf3a9, 2, NFS_PROG, NFS_V4, 0, NULL));
	assert_int_equal(x.pos, 40);
	/* split inside words on purpose: fragments are bytes, not XDR units */
	frags[0].iov_base = buf;
	frags[0].iov_len = 7;
	frags[1].iov_base = buf + 7;
	frags[1].iov_len = 20;
	frags[2].iov_base = buf + 27;
	frags[2].iov_len = 13;
	assert_int_equal(proto_send_fragments(&f->conn, frags, 3), 0);
	assert_int_equal(proto_recv_record(&f->conn, &rec, &len), 0);
	assert_int_equal(proto_parse_reply(rec, len, &r), 0);
	assert_int_equal(r.xid, 0xf3a9);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
}

static void test_compound_garbage_args(void **state)
{
	struct fixture *f = *state;
	struct proto_reply r;
	/* COMPOUND4args: a tag claiming 2^32-1 bytes, then junk */
	const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 'j', 'u', 'n', 'k' };

	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 1, NULL, junk, sizeof(junk), &r), 0);
	assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
	assert_int_equal(r.accept_stat, RPC_GARBAGE_ARGS);
	assert_int_equal(r.body_len, 0);
	proto_reply_free(&r);

	/* COMPOUND with no arguments at all */
	assert_int_equal(proto_rpc_call(&f->conn, NFS_PROG, NFS_V4, 1, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_GARBAGE_ARGS);
	proto_reply_free(&r);
}

/* The daemon listens on an IPv6 literal address as well. */
static void test_ipv6_loopback_null_call(void **state)
{
	struct proto_server_opts o = { .bind_addr = "::1" };
	struct proto_server s;
	struct proto_conn c;
	struct proto_reply r;

	assert_int_equal(proto_server_start(&s, "rpc_ipv6", &o), 0);
	assert_int_equal(proto_connect(&c, "::1", s.port, 10000), 0);
	assert_int_equal(proto_rpc_call(&c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
	proto_close(&c);
	assert_int_equal(proto_server_stop(&s), 0);
	proto_server_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_proc_answers_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_proc_with_auth_sys_16_gids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_program_is_prog_unavail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nfs_v3_is_prog_mismatch_4_4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_5_is_proc_unavail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpcvers_3_is_rpc_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_sys_17_gids_is_badcred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_call_in_three_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compound_garbage_args, setup, teardown),
		cmocka_unit_test(test_ipv6_loopback_null_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
