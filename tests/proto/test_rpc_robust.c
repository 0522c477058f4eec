/*
 * tests/proto/test_rpc_robust.c: a real daxnfsd facing misbehaving peers over
 * TCP: a record larger than Max_Record_Size closes only that connection; a
 * peer that vanishes mid-record, or mid-header, leaves the server serving
 * others; zero-length fragments are accepted; a closed connection with calls
 * in flight does not disturb the server. Each test ends with SIGTERM and
 * requires exit status 0.
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
#define MAX_RECORD 65536

static int setup(void **state)
{
	struct proto_server *s = calloc(1, sizeof(*s));
	struct proto_server_opts o = { .max_record_size = MAX_RECORD };

	if (!s || proto_server_start(s, "rpc_robust", &o) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct proto_server *s = *state;
	int rc = proto_server_stop(s);

	if (rc == 0)
		proto_server_cleanup(s);
	free(s);
	if (rc != 0) {
		print_error("daxnfsd exited with status %d after SIGTERM\n", rc);
		return -1;
	}
	return 0;
}

/* A NULL call on a fresh connection succeeds. */
static void assert_serving(struct proto_server *s)
{
	struct proto_conn c;
	struct proto_reply r;

	assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
	assert_int_equal(proto_rpc_call(&c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
	proto_close(&c);
}

static void test_oversize_record_closes_only_that_connection(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn bad, good;
	struct proto_reply r;
	uint32_t mark = htonl((MAX_RECORD + 4) | 0x80000000u);

	assert_int_equal(proto_connect(&good, s->host, s->port, 10000), 0);
	assert_int_equal(proto_connect(&bad, s->host, s->port, 10000), 0);
	/* the first call proves "good" is set up before the bad one misbehaves */
	assert_int_equal(proto_rpc_call(&good, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	proto_reply_free(&r);
	assert_int_equal(proto_send_raw(&bad, &mark, 4), 0);
	assert_true(proto_wait_closed(&bad, 10000));
	proto_close(&bad);

	/* a declared size of 2 GiB, likewise, on another connection */
	assert_int_equal(proto_connect(&bad, s->host, s->port, 10000), 0);
	mark = htonl(0x7fffffffu);
	assert_int_equal(proto_send_raw(&bad, &mark, 4), 0);
	assert_true(proto_wait_closed(&bad, 10000));
	proto_close(&bad);

	assert_int_equal(proto_rpc_call(&good, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
	proto_close(&good);
}

static void test_record_at_the_limit_is_served(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn c;
	struct proto_reply r;
	uint8_t *args;
	size_t hdr = 40;   /* a NULL call's header with AUTH_NONE */

	/* a call of an unknown program (answered by the RPC layer alone) padded
	 * with arguments up to exactly Max_Record_Size */
	args = calloc(1, MAX_RECORD - hdr);
	assert_non_null(args);
	assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
	assert_int_equal(proto_rpc_call(&c, 100099, 1, 0, NULL, args, MAX_RECORD - hdr, &r), 0);
	assert_int_equal(r.accept_stat, RPC_PROG_UNAVAIL);
	proto_reply_free(&r);
	free(args);
	proto_close(&c);
}

static void test_truncated_record_then_disconnect(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn c;
	uint8_t buf[128];
	struct xdr_stream x;
	uint32_t mark = htonl(100 | 0x80000000u);
	unsigned i;

	for (i = 0; i < 5; i++) {
		/* header says 100 bytes, 20 arrive, then the peer is gone */
		assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
		xdr_init_encode(&x, buf, sizeof(buf));
		proto_encode_call_header(&x, 77, 2, NFS_PROG, NFS_V4, 0, NULL);
		assert_int_equal(proto_send_raw(&c, &mark, 4), 0);
		assert_int_equal(proto_send_raw(&c, buf, 20), 0);
		proto_close(&c);
		/* half a fragment header, then gone */
		assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
		assert_int_equal(proto_send_raw(&c, &mark, 2), 0);
		proto_close(&c);
		/* a call sent, and the peer gone before the reply */
		assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
		assert_int_equal(proto_rpc_send_call(&c, 78, NFS_PROG, NFS_V4, 0, NULL, NULL, 0), 0);
		proto_close(&c);
	}
	assert_serving(s);
}

static void test_zero_length_fragments_accepted(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn c;
	struct proto_reply r;
	uint8_t buf[128];
	struct xdr_stream x;
	struct iovec frags[4];
	uint8_t *rec;
	size_t len;

	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(proto_encode_call_header(&x, 0x2e70, 2, NFS_PROG, NFS_V4, 0, NULL));
	frags[0].iov_base = buf;
	frags[0].iov_len = 0;
	frags[1].iov_base = buf;
	frags[1].iov_len = 12;
	frags[2].iov_base = buf + 12;
	frags[2].iov_len = 0;
	frags[3].iov_base = buf + 12;
	frags[3].iov_len = x.pos - 12;
	assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
	/* an empty record first: ignored, no reply */
	assert_int_equal(proto_send_fragments(&c, frags, 1), 0);
	assert_int_equal(proto_send_fragments(&c, frags, 4), 0);
	assert_int_equal(proto_recv_record(&c, &rec, &len), 0);
	assert_int_equal(proto_parse_reply(rec, len, &r), 0);
	assert_int_equal(r.xid, 0x2e70);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
	proto_close(&c);
}

static void test_junk_records_do_not_stop_the_connection(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn c;
	struct proto_reply r;
	const uint8_t tiny[3] = { 1, 2, 3 };
	const uint8_t reply_like[8] = { 0, 0, 0, 9, 0, 0, 0, 1 };   /* a REPLY nobody asked for */
	const uint8_t bad_type[8] = { 0, 0, 0, 9, 0, 0, 0, 7 };

	assert_int_equal(proto_connect(&c, s->host, s->port, 10000), 0);
	assert_int_equal(proto_send_record(&c, tiny, sizeof(tiny)), 0);
	assert_int_equal(proto_send_record(&c, reply_like, sizeof(reply_like)), 0);
	assert_int_equal(proto_send_record(&c, bad_type, sizeof(bad_type)), 0);
	/* none of those is answered: the next reply is the NULL call's */
	assert_int_equal(proto_rpc_call(&c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.accept_stat, RPC_SUCCESS);
	proto_reply_free(&r);
	proto_close(&c);
}

/* SIGKILL, then a restart on the same directories and port, serves again. */
static void test_kill_and_restart_same_port(void **state)
{
	struct proto_server *s = *state;
	uint16_t port = s->port;

	assert_serving(s);
	assert_int_equal(proto_server_kill(s), 0);
	assert_int_equal(s->pid, 0);
	assert_int_equal(proto_server_restart(s), 0);
	assert_int_equal(s->port, port);
	assert_serving(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oversize_record_closes_only_that_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_at_the_limit_is_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_record_then_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_fragments_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junk_records_do_not_stop_the_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_and_restart_same_port, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
