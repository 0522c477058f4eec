/*
 * tests/unit/test_rpc_rdma_chunks.c: where RPC-over-RDMA chunk data goes
 * (rpc/rpcrdma_chunks.c). A call's Read chunks land at their positions,
 * with the XDR round-up the requester left out restored (RFC 8166
 * §3.4.5.2) and none added when it was sent; a long call is laid out from
 * its Position-Zero Read chunk; pieces always tile the message. A reply
 * payload splits over Write or Reply chunk segments in order with no
 * round-up, and one larger than its chunk is refused. The inline decision
 * at its boundary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/rpcrdma.h"

/* A header made by hand: the mapping and the splits read only these fields. */
static void hdr_init(struct rpc_rdma_hdr *h, uint32_t inline_len)
{
	memset(h, 0, sizeof(*h));
	h->vers = 1;
	h->proc = RPC_RDMA_MSG;
	h->inline_len = inline_len;
}

static void add_seg(struct rpc_rdma_hdr *h, struct rpc_rdma_chunk *c, uint32_t handle,
		    uint32_t len, uint64_t off)
{
	if (c->nsegs == 0)
		c->first = h->nsegs;
	assert_int_equal(c->first + c->nsegs, h->nsegs);
	h->segs[h->nsegs].handle = handle;
	h->segs[h->nsegs].length = len;
	h->segs[h->nsegs].offset = off;
	h->nsegs++;
	c->nsegs++;
	c->length += len;
}

static void add_read(struct rpc_rdma_hdr *h, uint32_t pos, uint32_t len)
{
	struct rpc_rdma_chunk *c = &h->reads[h->nreads++];

	c->position = pos;
	add_seg(h, c, 0x100 + h->nreads, len, 0x10000ull * h->nreads);
	h->has_call_chunk = h->reads[0].position == 0;
	if (h->has_call_chunk)
		h->proc = RPC_RDMA_NOMSG;
}

/* Pieces are in order, touch end to end from 0 to total, and none is empty. */
static void assert_tiles(const struct rpc_rdma_call_map *m)
{
	uint32_t end = 0;
	unsigned i;

	for (i = 0; i < m->n; i++) {
		assert_int_equal(m->p[i].dst, end);
		assert_true(m->p[i].len > 0);
		end += m->p[i].len;
	}
	assert_int_equal(end, m->total);
}

static void assert_piece(const struct rpc_rdma_call_map *m, unsigned i,
			 enum rpc_rdma_piece_kind kind, unsigned chunk, uint32_t src,
			 uint32_t dst, uint32_t len)
{
	assert_true(i < m->n);
	assert_int_equal(m->p[i].kind, kind);
	if (kind == RPC_RDMA_PIECE_CHUNK)
		assert_int_equal(m->p[i].chunk, chunk);
	if (kind != RPC_RDMA_PIECE_ZERO)
		assert_int_equal(m->p[i].src, src);
	assert_int_equal(m->p[i].dst, dst);
	assert_int_equal(m->p[i].len, len);
}

/* A WRITE's 5 data bytes at position 24 of a 40-byte inline call: 3 zero
 * bytes follow them, then the rest of the inline call. */
static void test_map_restores_round_up(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 40);
	add_read(&h, 24, 5);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 4);
	assert_piece(&m, 0, RPC_RDMA_PIECE_INLINE, 0, 0, 0, 24);
	assert_piece(&m, 1, RPC_RDMA_PIECE_CHUNK, 0, 0, 24, 5);
	assert_piece(&m, 2, RPC_RDMA_PIECE_ZERO, 0, 0, 29, 3);
	assert_piece(&m, 3, RPC_RDMA_PIECE_INLINE, 0, 24, 32, 16);
	assert_int_equal(m.total, 48);
	assert_tiles(&m);
}

/* A chunk sent with its round-up (or an aligned item) gets none added. */
static void test_map_no_round_up_when_aligned(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 40);
	add_read(&h, 24, 8);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 3);
	assert_piece(&m, 0, RPC_RDMA_PIECE_INLINE, 0, 0, 0, 24);
	assert_piece(&m, 1, RPC_RDMA_PIECE_CHUNK, 0, 0, 24, 8);
	assert_piece(&m, 2, RPC_RDMA_PIECE_INLINE, 0, 24, 32, 16);
	assert_int_equal(m.total, 48);
}

/* Two data items: the second's position counts the first's rounded size. */
static void test_map_two_chunks(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 20);
	add_read(&h, 8, 6);
	add_read(&h, 24, 4);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 6);
	assert_piece(&m, 0, RPC_RDMA_PIECE_INLINE, 0, 0, 0, 8);
	assert_piece(&m, 1, RPC_RDMA_PIECE_CHUNK, 0, 0, 8, 6);
	assert_piece(&m, 2, RPC_RDMA_PIECE_ZERO, 0, 0, 14, 2);
	assert_piece(&m, 3, RPC_RDMA_PIECE_INLINE, 0, 8, 16, 8);
	assert_piece(&m, 4, RPC_RDMA_PIECE_CHUNK, 1, 0, 24, 4);
	assert_piece(&m, 5, RPC_RDMA_PIECE_INLINE, 0, 16, 28, 4);
	assert_int_equal(m.total, 32);
	assert_tiles(&m);
}

/* A data item that ends the call, and back-to-back data items. */
static void test_map_chunk_at_end_and_adjacent(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 16);
	add_read(&h, 16, 7);
	add_read(&h, 24, 4);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 4);
	assert_piece(&m, 0, RPC_RDMA_PIECE_INLINE, 0, 0, 0, 16);
	assert_piece(&m, 1, RPC_RDMA_PIECE_CHUNK, 0, 0, 16, 7);
	assert_piece(&m, 2, RPC_RDMA_PIECE_ZERO, 0, 0, 23, 1);
	assert_piece(&m, 3, RPC_RDMA_PIECE_CHUNK, 1, 0, 24, 4);
	assert_int_equal(m.total, 28);
	assert_tiles(&m);
}

/* A long call: the Position-Zero Read chunk is the message; no round-up
 * is added to it, even when odd. */
static void test_map_long_call(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 0);
	add_read(&h, 0, 202);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 1);
	assert_piece(&m, 0, RPC_RDMA_PIECE_CHUNK, 0, 0, 0, 202);
	assert_int_equal(m.total, 202);
}

/* A long call with a data item: the item goes into the call chunk's bytes. */
static void test_map_long_call_with_data_item(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;

	hdr_init(&h, 0);
	add_read(&h, 0, 100);
	add_read(&h, 40, 10);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, NULL), 0);
	assert_int_equal(m.n, 4);
	assert_piece(&m, 0, RPC_RDMA_PIECE_CHUNK, 0, 0, 0, 40);
	assert_piece(&m, 1, RPC_RDMA_PIECE_CHUNK, 1, 0, 40, 10);
	assert_piece(&m, 2, RPC_RDMA_PIECE_ZERO, 1, 0, 50, 2);
	assert_piece(&m, 3, RPC_RDMA_PIECE_CHUNK, 0, 40, 52, 60);
	assert_int_equal(m.total, 112);
	assert_tiles(&m);
}

/* The map refuses what the decoder refuses, for headers made elsewhere. */
static void test_map_refuses_bad_layouts(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_call_map m;
	enum rpc_rdma_reason why;

	hdr_init(&h, 40);
	add_read(&h, 24, 8);
	add_read(&h, 28, 4);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, &m, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_POS_OVERLAP);

	hdr_init(&h, 40);
	add_read(&h, 24, 8);
	add_read(&h, 24, 4);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, NULL, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_POS_BACKWARDS);

	hdr_init(&h, 40);
	add_read(&h, 22, 8);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, NULL, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_POS_UNALIGNED);

	hdr_init(&h, 40);
	add_read(&h, 44, 8);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, NULL, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_POS_BEYOND);

	/* 40 + 8 = 48 bytes: a limit of 47 refuses, 48 takes it */
	hdr_init(&h, 40);
	add_read(&h, 40, 5);
	assert_int_equal(rpc_rdma_call_map(&h, 47, &m, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_CALL_TOO_LARGE);
	assert_int_equal(rpc_rdma_call_map(&h, 48, &m, &why), 0);
	assert_int_equal(why, RPC_RDMA_R_NONE);
	assert_int_equal(m.total, 48);

	/* sums that would pass 32 bits are computed in 64 */
	hdr_init(&h, 40);
	add_read(&h, 8, 0xfffffffd);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, NULL, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_CALL_TOO_LARGE);
}

/* A call chunk of 0 bytes plus a data item at 0: no data item may share
 * the call chunk's position. */
static void test_map_refuses_second_chunk_at_zero(void **state)
{
	struct rpc_rdma_hdr h;
	enum rpc_rdma_reason why;

	hdr_init(&h, 0);
	add_read(&h, 0, 0);
	add_read(&h, 0, 16);
	assert_int_equal(rpc_rdma_call_map(&h, UINT32_MAX, NULL, &why), -EPROTO);
	assert_int_equal(why, RPC_RDMA_R_POS_BACKWARDS);
}

/* ---- splitting a reply payload ---- */

static void write_chunk_3(struct rpc_rdma_hdr *h)
{
	hdr_init(h, 0);
	h->nwrites = 1;
	add_seg(h, &h->writes[0], 0xa, 100, 0x1000);
	add_seg(h, &h->writes[0], 0xb, 200, 0x2000);
	add_seg(h, &h->writes[0], 0xc, 50, 0x3000);
}

static void assert_span(const struct rpc_rdma_span *s, uint32_t handle, uint32_t len,
			uint64_t off, uint32_t at, uint16_t seg)
{
	assert_int_equal(s->handle, handle);
	assert_int_equal(s->length, len);
	assert_true(s->offset == off);
	assert_int_equal(s->at, at);
	assert_int_equal(s->seg, seg);
}

static void test_spans_write_chunk_split(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_span s[8];
	unsigned n;

	write_chunk_3(&h);
	/* 250 bytes: the first segment full, 150 of the second, none of the third */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 250, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_span(&s[0], 0xa, 100, 0x1000, 0, 0);
	assert_span(&s[1], 0xb, 150, 0x2000, 100, 1);
	/* 251: an odd payload gets no round-up */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 251, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[1].length, 151);
	/* exactly the chunk */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 350, s, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_span(&s[2], 0xc, 50, 0x3000, 300, 2);
	/* nothing */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 0, s, 8, &n), 0);
	assert_int_equal(n, 0);
}

/* A payload one byte larger than its Write chunk cannot be sent. */
static void test_spans_payload_larger_than_chunk_refused(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_span s[8];
	unsigned n = 99;

	write_chunk_3(&h);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 351, s, 8, &n), -E2BIG);
	assert_int_equal(n, 0);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 300, 51, s, 8, &n), -E2BIG);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], UINT32_MAX, 2, s, 8, &n),
			 -E2BIG);
	/* a chunk claiming more than its segments hold */
	h.writes[0].length = 1000;
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 400, s, 8, &n), -E2BIG);
	/* segments outside the pool */
	h.writes[0].first = 2;
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 10, s, 8, &n), -EINVAL);
}

/* A range inside the chunk, as a long call's pieces ask for. */
static void test_spans_range_in_the_middle(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_span s[8];
	unsigned n;

	write_chunk_3(&h);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 150, 120, s, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_span(&s[0], 0xb, 120, 0x2032, 0, 1);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 100, 250, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_span(&s[0], 0xb, 200, 0x2000, 0, 1);
	assert_span(&s[1], 0xc, 50, 0x3000, 200, 2);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 250, 100, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_span(&s[0], 0xb, 50, 0x2000 + 150, 0, 1);
	assert_span(&s[1], 0xc, 50, 0x3000, 50, 2);
	/* too few spans to fill */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.writes[0], 0, 350, s, 2, &n), -ENOSPC);
	assert_int_equal(n, 0);
}

static void test_spans_skip_empty_segments(void **state)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_span s[8];
	unsigned n;

	hdr_init(&h, 0);
	h.has_reply = true;
	add_seg(&h, &h.reply, 1, 0, 0x100);
	add_seg(&h, &h.reply, 2, 4096, 0x1000);
	add_seg(&h, &h.reply, 3, 0, 0x200);
	add_seg(&h, &h.reply, 4, 4096, 0x2000);
	/* a reply of 5000 bytes in the Reply chunk */
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.reply, 0, 5000, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_span(&s[0], 2, 4096, 0x1000, 0, 1);
	assert_span(&s[1], 4, 904, 0x2000, 4096, 3);
	assert_int_equal(rpc_rdma_chunk_spans(&h, &h.reply, 0, 8193, s, 8, &n), -E2BIG);
}

/* ---- inline or not ---- */

static void test_reply_fits_inline_boundary(void **state)
{
	struct rpc_rdma_hdr h;
	size_t hdr;

	write_chunk_3(&h);
	hdr = rpc_rdma_reply_hdr_len(&h, false);
	assert_int_equal(hdr, 28 + 8 + 3 * 16);
	assert_true(rpc_rdma_reply_fits_inline(&h, (uint32_t)(4096 - hdr), 4096));
	assert_false(rpc_rdma_reply_fits_inline(&h, (uint32_t)(4096 - hdr + 1), 4096));
	assert_true(rpc_rdma_reply_fits_inline(&h, (uint32_t)(1024 - hdr), 1024));
	assert_false(rpc_rdma_reply_fits_inline(&h, 1024, 1024));
	/* a threshold smaller than the header itself: nothing fits */
	assert_false(rpc_rdma_reply_fits_inline(&h, 0, (uint32_t)hdr - 1));
	assert_true(rpc_rdma_reply_fits_inline(&h, 0, (uint32_t)hdr));
	/* no chunks: the 28-byte header */
	hdr_init(&h, 0);
	assert_true(rpc_rdma_reply_fits_inline(&h, 4068, 4096));
	assert_false(rpc_rdma_reply_fits_inline(&h, 4069, 4096));
	assert_false(rpc_rdma_reply_fits_inline(&h, UINT32_MAX, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_restores_round_up),
		cmocka_unit_test(test_map_no_round_up_when_aligned),
		cmocka_unit_test(test_map_two_chunks),
		cmocka_unit_test(test_map_chunk_at_end_and_adjacent),
		cmocka_unit_test(test_map_long_call),
		cmocka_unit_test(test_map_long_call_with_data_item),
		cmocka_unit_test(test_map_refuses_bad_layouts),
		cmocka_unit_test(test_map_refuses_second_chunk_at_zero),
		cmocka_unit_test(test_spans_write_chunk_split),
		cmocka_unit_test(test_spans_payload_larger_than_chunk_refused),
		cmocka_unit_test(test_spans_range_in_the_middle),
		cmocka_unit_test(test_spans_skip_empty_segments),
		cmocka_unit_test(test_reply_fits_inline_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
