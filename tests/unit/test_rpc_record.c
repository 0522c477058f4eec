/*
 * tests/unit/test_rpc_record.c: RPC record marking reassembly (rpc/record.c),
 * fed from memory in every split a TCP stream can produce, and through a real
 * socketpair; memory follows the bytes received, not the size announced, and
 * what a partial record holds and how many records ended are reported.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/record.h"

#define MAX_RECS 64

struct sink {
	unsigned n;
	uint8_t *rec[MAX_RECS];
	size_t len[MAX_RECS];
};

static void emit(void *ctx, uint8_t *rec, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->n < MAX_RECS);
	s->rec[s->n] = rec;
	s->len[s->n++] = len;
}

static void sink_free(struct sink *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		free(s->rec[i]);
	s->n = 0;
}

static size_t put_frag(uint8_t *out, const void *data, uint32_t len, int last)
{
	uint32_t m = len | (last ? RPC_REC_LAST_FRAG : 0);

	out[0] = (uint8_t)(m >> 24);
	out[1] = (uint8_t)(m >> 16);
	out[2] = (uint8_t)(m >> 8);
	out[3] = (uint8_t)m;
	memcpy(out + 4, data, len);
	return 4 + len;
}

static void test_record_single_fragment(void **state)
{
	struct rpc_recbuf r;
	struct sink s = { 0 };
	uint8_t buf[64];
	size_t n = put_frag(buf, "hello world!", 12, 1);

	rpc_rec_init(&r, 1024);
	assert_int_equal(rpc_rec_feed(&r, buf, n, emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 12);
	assert_memory_equal(s.rec[0], "hello world!", 12);
	assert_false(rpc_rec_partial(&r));
	sink_free(&s);
	rpc_rec_release(&r);
}

/* Three records, the middle one in three fragments with a zero-length one among
 * them, delivered split at every possible pair of byte boundaries. */
static void test_record_every_split(void **state)
{
	uint8_t stream[256];
	size_t n = 0, a, b;
	struct rpc_recbuf r;
	struct sink s = { 0 };

	n += put_frag(stream + n, "AAAA", 4, 1);
	n += put_frag(stream + n, "BB", 2, 0);
	n += put_frag(stream + n, "", 0, 0);
	n += put_frag(stream + n, "BBBBBB", 6, 1);
	n += put_frag(stream + n, "CCCCCCCC", 8, 1);
	for (a = 0; a <= n; a++) {
		for (b = a; b <= n; b++) {
			rpc_rec_init(&r, 1024);
			assert_int_equal(rpc_rec_feed(&r, stream, a, emit, &s), 0);
			assert_int_equal(rpc_rec_feed(&r, stream + a, b - a, emit, &s), 0);
			assert_int_equal(rpc_rec_feed(&r, stream + b, n - b, emit, &s), 0);
			assert_int_equal(s.n, 3);
			assert_int_equal(s.len[0], 4);
			assert_memory_equal(s.rec[0], "AAAA", 4);
			assert_int_equal(s.len[1], 8);
			assert_memory_equal(s.rec[1], "BBBBBBBB", 8);
			assert_int_equal(s.len[2], 8);
			assert_memory_equal(s.rec[2], "CCCCCCCC", 8);
			assert_false(rpc_rec_partial(&r));
			sink_free(&s);
			rpc_rec_release(&r);
		}
	}
}

static void test_record_empty_record_is_skipped(void **state)
{
	uint8_t stream[64];
	size_t n = 0;
	struct rpc_recbuf r;
	struct sink s = { 0 };

	n += put_frag(stream + n, "", 0, 1);
	n += put_frag(stream + n, "xy", 2, 1);
	rpc_rec_init(&r, 1024);
	assert_int_equal(rpc_rec_feed(&r, stream, n, emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 2);
	sink_free(&s);
	rpc_rec_release(&r);
}

/* A header claiming 2 GiB is refused at once, before its body arrives. */
static void test_record_oversize_fragment_refused(void **state)
{
	uint8_t hdr[4] = { 0xff, 0xff, 0xff, 0xf0 };
	struct rpc_recbuf r;
	struct sink s = { 0 };

	rpc_rec_init(&r, 8192);
	assert_int_equal(rpc_rec_feed(&r, hdr, 4, emit, &s), -EMSGSIZE);
	assert_int_equal(s.n, 0);
	assert_null(r.rec);
	rpc_rec_release(&r);
}

/* Fragments each under the limit whose sum passes it are refused too. */
static void test_record_oversize_sum_refused(void **state)
{
	static uint8_t stream[3 * (4 + 4000)];
	static uint8_t data[4000];
	size_t n = 0;
	struct rpc_recbuf r;
	struct sink s = { 0 };

	memset(data, 'z', sizeof(data));
	n += put_frag(stream + n, data, 4000, 0);
	n += put_frag(stream + n, data, 4000, 0);
	n += put_frag(stream + n, data, 4000, 1);
	rpc_rec_init(&r, 8192);
	assert_int_equal(rpc_rec_feed(&r, stream, n, emit, &s), -EMSGSIZE);
	assert_int_equal(s.n, 0);
	rpc_rec_release(&r);

	/* exactly at the limit is fine */
	n = 0;
	n += put_frag(stream + n, data, 4000, 0);
	n += put_frag(stream + n, data, 4000, 0);
	n += put_frag(stream + n, data, 192, 1);
	rpc_rec_init(&r, 8192);
	assert_int_equal(rpc_rec_feed(&r, stream, n, emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 8192);
	sink_free(&s);
	rpc_rec_release(&r);
}

static void test_record_partial_then_release(void **state)
{
	uint8_t stream[64];
	size_t n = put_frag(stream, "0123456789", 10, 1);
	struct rpc_recbuf r;
	struct sink s = { 0 };

	rpc_rec_init(&r, 1024);
	assert_false(rpc_rec_partial(&r));
	assert_int_equal(rpc_rec_feed(&r, stream, 2, emit, &s), 0);
	assert_true(rpc_rec_partial(&r));       /* half a header */
	assert_int_equal(rpc_rec_feed(&r, stream + 2, n - 5, emit, &s), 0);
	assert_true(rpc_rec_partial(&r));       /* header and part of the body */
	assert_int_equal(s.n, 0);
	rpc_rec_release(&r);                    /* the peer went away: nothing leaks */
	assert_false(rpc_rec_partial(&r));
}

/* A header's claim costs nothing until bytes come: announcing 1 MiB and
 * sending 4 bytes holds RPC_REC_FIRST_ALLOC; then the buffer doubles as the
 * body arrives, and never grows past the record's announced end. */
static void test_record_memory_follows_bytes_received(void **state)
{
	static uint8_t body[(1u << 20) + 4];
	const size_t frag = 1u << 20;
	struct rpc_recbuf r;
	struct sink s = { 0 };
	size_t sent, want;

	body[0] = 0x80;
	body[1] = 0x10;                /* 0x80100000: last, 1 MiB */
	body[2] = 0;
	body[3] = 0;
	rpc_rec_init(&r, 2u << 20);
	assert_int_equal(rpc_rec_feed(&r, body, 4, emit, &s), 0);
	assert_int_equal(rpc_rec_held(&r), 0);   /* the claim alone: nothing */
	assert_int_equal(rpc_rec_feed(&r, body + 4, 4, emit, &s), 0);
	assert_int_equal(rpc_rec_held(&r), RPC_REC_FIRST_ALLOC);
	for (sent = 4; sent < frag / 2; sent += 4096) {
		want = sent + 4096 > frag / 2 ? frag / 2 - sent : 4096;
		assert_int_equal(rpc_rec_feed(&r, body + 4 + sent, want, emit, &s), 0);
	}
	assert_int_equal(r.len, frag / 2);
	assert_int_equal(rpc_rec_held(&r), frag / 2);   /* 64K, 128K, 256K, 512K */
	assert_true(rpc_rec_partial(&r));
	assert_int_equal(rpc_rec_feed(&r, body + 4 + frag / 2, frag / 2 - 1, emit, &s), 0);
	assert_int_equal(rpc_rec_held(&r), frag);       /* capped at the record's end */
	assert_int_equal(r.records, 0);
	assert_int_equal(rpc_rec_feed(&r, body + 4 + frag - 1, 1, emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], frag);
	assert_int_equal(r.records, 1);
	assert_int_equal(rpc_rec_held(&r), 0);          /* handed over with the record */
	sink_free(&s);
	rpc_rec_release(&r);
}

/* Many tiny fragments of one record cost a few allocations, not one each;
 * empty records are counted as records ended. */
static void test_record_tiny_fragments_and_record_count(void **state)
{
	static uint8_t stream[1000 * 5 + 16];
	size_t n = 0;
	unsigned i;
	struct rpc_recbuf r;
	struct sink s = { 0 };

	for (i = 0; i < 999; i++)
		n += put_frag(stream + n, "x", 1, 0);
	n += put_frag(stream + n, "y", 1, 1);
	n += put_frag(stream + n, "", 0, 1);
	rpc_rec_init(&r, 8192);
	assert_int_equal(rpc_rec_feed(&r, stream, n - 9, emit, &s), 0);
	assert_int_equal(rpc_rec_held(&r), 8192);   /* one allocation, capped at max_record */
	assert_int_equal(rpc_rec_feed(&r, stream + n - 9, 9, emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 1000);
	assert_int_equal(s.rec[0][999], 'y');
	assert_int_equal(r.records, 2);
	assert_false(rpc_rec_partial(&r));
	sink_free(&s);
	rpc_rec_release(&r);
}

/* As the TCP transport reads: a fragment's body straight into the record
 * (rpc_rec_direct_room/done) when it has room, headers and small bodies
 * through rpc_rec_feed, in reads of every size; the records come out
 * whole, and room is never given before one growth step of bytes came. */
static void test_record_direct_receive(void **state)
{
	static uint8_t stream[(1u << 20) + 4096], big[1u << 20];
	static const size_t reads[] = { 1, 3, 4, 7, 100, 4096, 9000, 65536, 200000 };
	const uint32_t first = 300000;
	size_t n = 0, pos, i, chunk, take;
	struct rpc_recbuf r;
	struct sink s = { 0 };
	unsigned k;
	uint8_t *where;
	long room;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 4096);
	n += put_frag(stream + n, "hello world!", 12, 1);
	n += put_frag(stream + n, big, first, 0);
	n += put_frag(stream + n, big + first, (uint32_t)(sizeof(big) - first), 1);
	n += put_frag(stream + n, "tail", 4, 1);
	for (k = 0; k < sizeof(reads) / sizeof(reads[0]); k++) {
		rpc_rec_init(&r, 2u << 20);
		for (pos = 0; pos < n; pos += take) {
			chunk = reads[k];
			room = rpc_rec_direct_room(&r, &where);
			assert_true(room >= 0);
			/* never more than one growth step past the bytes */
			assert_true(rpc_rec_held(&r) <= 2 * r.len + RPC_REC_FIRST_ALLOC);
			take = n - pos < chunk ? n - pos : chunk;
			if (room > 0) {
				if (take > (size_t)room)
					take = (size_t)room;
				memcpy(where, stream + pos, take);   /* the recv */
				assert_int_equal(rpc_rec_direct_done(&r, take, emit, &s), 0);
			} else {
				assert_int_equal(rpc_rec_feed(&r, stream + pos, take, emit, &s), 0);
			}
		}
		assert_int_equal(s.n, 3);
		assert_int_equal(s.len[0], 12);
		assert_memory_equal(s.rec[0], "hello world!", 12);
		assert_int_equal(s.len[1], sizeof(big));
		assert_memory_equal(s.rec[1], big, sizeof(big));
		assert_int_equal(s.len[2], 4);
		assert_memory_equal(s.rec[2], "tail", 4);
		assert_false(rpc_rec_partial(&r));
		assert_int_equal(r.records, 3);
		sink_free(&s);
		rpc_rec_release(&r);
	}
	/* between fragments there is no room: the header goes through feed */
	rpc_rec_init(&r, 1024);
	assert_int_equal(rpc_rec_direct_room(&r, &where), 0);
	assert_null(where);
	rpc_rec_release(&r);
}

/* Through a real socket: many records written in one go, read in small reads. */
static void test_record_socketpair(void **state)
{
	static uint8_t stream[100 * 40];
	uint8_t body[32], buf[7];
	size_t n = 0, i;
	ssize_t rd;
	int sv[2];
	struct rpc_recbuf r;
	struct sink s = { 0 };

	for (i = 0; i < 50; i++) {
		memset(body, (int)('a' + i % 26), sizeof(body));
		n += put_frag(stream + n, body, (uint32_t)(i % 32) + 1, 1);
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], stream, n), (ssize_t)n);
	close(sv[0]);
	rpc_rec_init(&r, 1024);
	while ((rd = read(sv[1], buf, sizeof(buf))) > 0)
		assert_int_equal(rpc_rec_feed(&r, buf, (size_t)rd, emit, &s), 0);
	close(sv[1]);
	assert_int_equal(s.n, 50);
	for (i = 0; i < 50; i++) {
		assert_int_equal(s.len[i], i % 32 + 1);
		assert_int_equal(s.rec[i][0], 'a' + i % 26);
	}
	sink_free(&s);
	rpc_rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_single_fragment),
		cmocka_unit_test(test_record_every_split),
		cmocka_unit_test(test_record_empty_record_is_skipped),
		cmocka_unit_test(test_record_oversize_fragment_refused),
		cmocka_unit_test(test_record_oversize_sum_refused),
		cmocka_unit_test(test_record_partial_then_release),
		cmocka_unit_test(test_record_memory_follows_bytes_received),
		cmocka_unit_test(test_record_tiny_fragments_and_record_count),
		cmocka_unit_test(test_record_socketpair),
		cmocka_unit_test(test_record_direct_receive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
