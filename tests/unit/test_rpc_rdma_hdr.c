/*
 * tests/unit/test_rpc_rdma_hdr.c: the RPC-over-RDMA version 1 transport
 * header codec (rpc/rpcrdma_hdr.c). Call headers are built here by hand
 * from RFC 8166 §4.3's XDR, decoded, and compared field by field; every
 * hostile shape gets the verdict RFC 8166 §4.5 prescribes; a header cut
 * at every length is read within its bytes (ASan sees each cut as its own
 * allocation) and never accepted; the encoders' bytes are checked word by
 * word, and refuse a buffer one byte short. Also the RFC 8797 private data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/rpcrdma.h"

#define MAX_CALL (1u << 20)

/* ---- a hand-written call header builder ---- */

struct msg {
	uint8_t b[8192];
	size_t n;
};

static void put32(struct msg *m, uint32_t v)
{
	assert_true(m->n + 4 <= sizeof(m->b));
	m->b[m->n++] = (uint8_t)(v >> 24);
	m->b[m->n++] = (uint8_t)(v >> 16);
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void put64(struct msg *m, uint64_t v)
{
	put32(m, (uint32_t)(v >> 32));
	put32(m, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fixed(struct msg *m, uint32_t xid, uint32_t vers, uint32_t credits, uint32_t proc)
{
	m->n = 0;
	put32(m, xid);
	put32(m, vers);
	put32(m, credits);
	put32(m, proc);
}

static void seg(struct msg *m, uint32_t handle, uint32_t len, uint64_t off)
{
	put32(m, handle);
	put32(m, len);
	put64(m, off);
}

static void read_seg(struct msg *m, uint32_t pos, uint32_t handle, uint32_t len, uint64_t off)
{
	put32(m, 1);
	put32(m, pos);
	seg(m, handle, len, off);
}

/* An RPC call's first words (xid, CALL) and filler up to len bytes. */
static void rpc_body(struct msg *m, uint32_t xid, size_t len)
{
	size_t end = m->n + len;

	put32(m, xid);
	put32(m, 0);
	for (; m->n < end; m->n++)
		m->b[m->n] = (uint8_t)(m->n * 7);
}

/* An RDMA_MSG call with no chunks and a body of body bytes. */
static void plain_call(struct msg *m, uint32_t xid, size_t body)
{
	fixed(m, xid, 1, 32, RPC_RDMA_MSG);
	put32(m, 0);
	put32(m, 0);
	put32(m, 0);
	rpc_body(m, xid, body);
}

static enum rpc_rdma_verdict decode(const struct msg *m, struct rpc_rdma_hdr *h,
				    struct rpc_rdma_hdr_error *e)
{
	return rpc_rdma_hdr_decode(m->b, m->n, MAX_CALL, h, e);
}

static void assert_seg(const struct rpc_rdma_hdr *h, unsigned i, uint32_t handle, uint32_t len,
		       uint64_t off)
{
	assert_true(i < h->nsegs);
	assert_int_equal(h->segs[i].handle, handle);
	assert_int_equal(h->segs[i].length, len);
	assert_true(h->segs[i].offset == off);
}

static void assert_refused(const struct msg *m, enum rpc_rdma_verdict v, enum rpc_rdma_reason r)
{
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	assert_int_equal(decode(m, &h, &e), v);
	assert_int_equal(e.reason, r);
	assert_true(e.at <= m->n);
}

/* ---- round trips ---- */

/* RDMA_MSG with a Read chunk of two segments, two Write chunks and a Reply
 * chunk: every field comes back, segments in list order. */
static void test_hdr_msg_all_lists_round_trip(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	size_t hdr_end;

	fixed(&m, 0x11223344, 1, 128, RPC_RDMA_MSG);
	read_seg(&m, 120, 0xa1, 4096, 0x1000000000ull);
	read_seg(&m, 120, 0xa2, 1000, 0x2000);
	put32(&m, 0);
	put32(&m, 1);           /* Write chunk 0: one segment */
	put32(&m, 1);
	seg(&m, 0xb1, 8192, 0x3000);
	put32(&m, 1);           /* Write chunk 1: three segments */
	put32(&m, 3);
	seg(&m, 0xc1, 100, 0x4000);
	seg(&m, 0xc2, 200, 0x5000);
	seg(&m, 0xc3, 300, 0xffffffffffffff00ull);
	put32(&m, 0);
	put32(&m, 1);           /* Reply chunk: two segments */
	put32(&m, 2);
	seg(&m, 0xd1, 1024, 0x6000);
	seg(&m, 0xd2, 512, 0x7000);
	hdr_end = m.n;
	rpc_body(&m, 0x11223344, 200);

	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(e.reason, RPC_RDMA_R_NONE);
	assert_int_equal(h.xid, 0x11223344);
	assert_int_equal(h.vers, 1);
	assert_int_equal(h.credits, 128);
	assert_int_equal(h.proc, RPC_RDMA_MSG);
	assert_int_equal(h.nreads, 1);
	assert_false(h.has_call_chunk);
	assert_int_equal(h.reads[0].position, 120);
	assert_int_equal(h.reads[0].first, 0);
	assert_int_equal(h.reads[0].nsegs, 2);
	assert_int_equal(h.reads[0].length, 5096);
	assert_seg(&h, 0, 0xa1, 4096, 0x1000000000ull);
	assert_seg(&h, 1, 0xa2, 1000, 0x2000);
	assert_int_equal(h.nwrites, 2);
	assert_int_equal(h.writes[0].first, 2);
	assert_int_equal(h.writes[0].nsegs, 1);
	assert_int_equal(h.writes[0].length, 8192);
	assert_int_equal(h.writes[0].position, 0);
	assert_seg(&h, 2, 0xb1, 8192, 0x3000);
	assert_int_equal(h.writes[1].first, 3);
	assert_int_equal(h.writes[1].nsegs, 3);
	assert_int_equal(h.writes[1].length, 600);
	assert_seg(&h, 3, 0xc1, 100, 0x4000);
	assert_seg(&h, 4, 0xc2, 200, 0x5000);
	assert_seg(&h, 5, 0xc3, 300, 0xffffffffffffff00ull);
	assert_true(h.has_reply);
	assert_int_equal(h.reply.first, 6);
	assert_int_equal(h.reply.nsegs, 2);
	assert_int_equal(h.reply.length, 1536);
	assert_seg(&h, 6, 0xd1, 1024, 0x6000);
	assert_seg(&h, 7, 0xd2, 512, 0x7000);
	assert_int_equal(h.nsegs, 8);
	assert_int_equal(h.payload_off, hdr_end);
	assert_int_equal(h.inline_len, 200);
	assert_int_equal(get32(m.b + h.payload_off), 0x11223344);
}

/* A long call: RDMA_NOMSG, the call in the Position-Zero Read chunk, and a
 * Reply chunk for the long reply. */
static void test_hdr_nomsg_long_call_round_trip(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	fixed(&m, 77, 1, 8, RPC_RDMA_NOMSG);
	read_seg(&m, 0, 0x10, 3000, 0x9000);
	read_seg(&m, 0, 0x11, 2000, 0xa000);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 1);
	seg(&m, 0x20, 65536, 0xb000);

	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(h.proc, RPC_RDMA_NOMSG);
	assert_int_equal(h.credits, 8);
	assert_true(h.has_call_chunk);
	assert_int_equal(h.nreads, 1);
	assert_int_equal(h.reads[0].position, 0);
	assert_int_equal(h.reads[0].length, 5000);
	assert_int_equal(h.nwrites, 0);
	assert_true(h.has_reply);
	assert_int_equal(h.reply.length, 65536);
	assert_int_equal(h.payload_off, m.n);
	assert_int_equal(h.inline_len, 0);
}

/* The plainest call, and a backchannel reply looks the same. */
static void test_hdr_plain_msg(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	plain_call(&m, 5, 40);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(h.payload_off, RPC_RDMA_MIN_MSG_HDR);
	assert_int_equal(h.inline_len, 40);
	assert_int_equal(h.nreads + h.nwrites + h.nsegs, 0);
	assert_false(h.has_reply);
}

/* ---- verdicts on hostile headers ---- */

static void test_hdr_version_not_1_gets_err_vers(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	plain_call(&m, 9, 16);
	m.b[7] = 2;             /* rdma_vers 2 */
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_REPLY_ERR_VERS);
	assert_int_equal(e.reason, RPC_RDMA_R_VERS);
	assert_int_equal(e.xid, 9);
	assert_int_equal(e.vers, 2);
	/* only xid and vers are needed to answer, whatever follows */
	m.n = 8;
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_REPLY_ERR_VERS);
	m.b[7] = 0;
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_REPLY_ERR_VERS);
	assert_int_equal(e.vers, 0);
}

static void test_hdr_too_short_to_answer_is_dropped(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	size_t n;

	plain_call(&m, 3, 8);
	for (n = 0; n < 8; n++)
		assert_int_equal(rpc_rdma_hdr_decode(m.b, n, MAX_CALL, &h, &e), RPC_RDMA_DROP);
	assert_int_equal(rpc_rdma_hdr_decode(NULL, 0, MAX_CALL, &h, &e), RPC_RDMA_DROP);
	/* version 1 and an xid: a short header is answered ERR_CHUNK */
	for (n = 8; n < RPC_RDMA_MIN_MSG_HDR; n++) {
		assert_int_equal(rpc_rdma_hdr_decode(m.b, n, MAX_CALL, &h, &e),
				 RPC_RDMA_REPLY_ERR_CHUNK);
		assert_int_equal(e.reason, RPC_RDMA_R_SHORT);
		assert_int_equal(e.xid, 3);
	}
}

/* Cut after every byte, each cut in a buffer of exactly its size: never
 * a read past it, never accepted until the header and the xid are whole. */
static void test_hdr_truncated_at_every_length(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	size_t hdr_end, n;
	enum rpc_rdma_verdict v;
	uint8_t *cut;

	fixed(&m, 0xabcdef01, 1, 16, RPC_RDMA_MSG);
	read_seg(&m, 8, 1, 4096, 0x1000);
	read_seg(&m, 8, 2, 4096, 0x2000);
	read_seg(&m, 8 + 8192 + 8, 3, 5, 0x3000);   /* at 16 of the inline bytes */
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 2);
	seg(&m, 4, 100, 0x4000);
	seg(&m, 5, 100, 0x5000);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 1);
	seg(&m, 6, 4096, 0x6000);
	hdr_end = m.n;
	rpc_body(&m, 0xabcdef01, 24);

	for (n = 0; n <= m.n; n++) {
		cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, m.b, n);
		v = rpc_rdma_hdr_decode(cut, n, MAX_CALL, &h, &e);
		free(cut);
		if (n < 8) {
			assert_int_equal(v, RPC_RDMA_DROP);
		} else if (n < hdr_end) {
			assert_int_equal(v, RPC_RDMA_REPLY_ERR_CHUNK);
			assert_int_equal(e.reason, RPC_RDMA_R_SHORT);
			assert_true(e.at <= n);
		} else if (n < hdr_end + 4) {
			assert_int_equal(v, RPC_RDMA_REPLY_ERR_CHUNK);
			assert_int_equal(e.reason, RPC_RDMA_R_NO_PAYLOAD);
		} else if (n < hdr_end + 16) {
			/* the second Read chunk goes after 16 inline bytes */
			assert_int_equal(v, RPC_RDMA_REPLY_ERR_CHUNK);
			assert_int_equal(e.reason, RPC_RDMA_R_POS_BEYOND);
		} else {
			assert_int_equal(v, RPC_RDMA_OK);
			assert_int_equal(h.payload_off, hdr_end);
			assert_int_equal(h.inline_len, n - hdr_end);
		}
	}
}

static void test_hdr_obsolete_procs_get_err_chunk(void **state)
{
	struct msg m;

	plain_call(&m, 1, 8);
	m.b[15] = RPC_RDMA_MSGP;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_OBSOLETE_PROC);
	m.b[15] = RPC_RDMA_DONE;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_OBSOLETE_PROC);
}

static void test_hdr_unknown_proc_gets_err_chunk(void **state)
{
	struct msg m;

	plain_call(&m, 1, 8);
	m.b[15] = 5;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_BAD_PROC);
	memset(m.b + 12, 0xff, 4);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_BAD_PROC);
}

static void test_hdr_list_flag_must_be_0_or_1(void **state)
{
	struct msg m;

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 2);           /* Read list "present" flag 2 */
	put32(&m, 8);
	seg(&m, 1, 8, 0);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_BAD_DISCRIM);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0x80000000);  /* Reply chunk flag */
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_BAD_DISCRIM);
}

/* 64 segments are taken, the 65th is refused, whichever list holds it. */
static void test_hdr_segment_pool_limit(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	unsigned i;

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	for (i = 0; i < RPC_RDMA_MAX_SEGS; i++)
		read_seg(&m, 8, i, 1, i);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(h.nsegs, RPC_RDMA_MAX_SEGS);
	assert_int_equal(h.reads[0].length, RPC_RDMA_MAX_SEGS);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	for (i = 0; i < RPC_RDMA_MAX_SEGS + 1; i++)
		read_seg(&m, 8, i, 1, i);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_SEGS);

	/* 60 Read segments, then a Write chunk of 5 */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	for (i = 0; i < 60; i++)
		read_seg(&m, 8, i, 1, i);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 5);
	for (i = 0; i < 5; i++)
		seg(&m, i, 1, i);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_SEGS);

	/* a count claiming 2^32 - 1 segments is refused before any is read */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 0xffffffff);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_SEGS);
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, RPC_RDMA_MAX_SEGS + 1);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_SEGS);
}

static void test_hdr_chunk_count_limits(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	unsigned i;

	/* 8 Read chunks of 4 bytes at 8, 16, ... fit a 100-byte call */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	for (i = 0; i < RPC_RDMA_MAX_READ_CHUNKS; i++)
		read_seg(&m, 8 + 8 * i, i, 4, 0);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 100);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(h.nreads, RPC_RDMA_MAX_READ_CHUNKS);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	for (i = 0; i < RPC_RDMA_MAX_READ_CHUNKS + 1; i++)
		read_seg(&m, 8 + 8 * i, i, 4, 0);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 100);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_READ_CHUNKS);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	for (i = 0; i < RPC_RDMA_MAX_WRITE_CHUNKS + 1; i++) {
		put32(&m, 1);
		put32(&m, 1);
		seg(&m, i, 4096, 0);
	}
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_TOO_MANY_WRITE_CHUNKS);
}

/* Counts and lists that claim more than the message holds. */
static void test_hdr_lists_that_lie(void **state)
{
	struct msg m;

	/* a Write chunk of 3 segments with 2 present, then the end */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 3);
	seg(&m, 1, 10, 0);
	seg(&m, 2, 10, 0);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_SHORT);
	/* a Reply chunk of one segment and nothing more */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 1);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_SHORT);
	/* a Read list that never ends */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	read_seg(&m, 8, 1, 10, 0);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_SHORT);
	/* no lists at all */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_SHORT);
	/* an empty Reply chunk */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_EMPTY_REPLY_CHUNK);
}

static void read_call(struct msg *m, const uint32_t *pos, const uint32_t *len, unsigned n,
		      size_t body)
{
	unsigned i;

	fixed(m, 42, 1, 4, RPC_RDMA_MSG);
	for (i = 0; i < n; i++)
		read_seg(m, pos[i], 100 + i, len[i], 0x1000 * i);
	put32(m, 0);
	put32(m, 0);
	put32(m, 0);
	rpc_body(m, 42, body);
}

static void test_hdr_read_positions(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	/* not a multiple of 4 */
	read_call(&m, (uint32_t[]){ 6 }, (uint32_t[]){ 8 }, 1, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_UNALIGNED);
	/* backwards */
	read_call(&m, (uint32_t[]){ 16, 8 }, (uint32_t[]){ 4, 4 }, 2, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_BACKWARDS);
	/* a position repeated after another: not one chunk, out of order */
	read_call(&m, (uint32_t[]){ 8, 16, 8 }, (uint32_t[]){ 4, 4, 4 }, 3, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_BACKWARDS);
	/* a chunk starting inside the previous one */
	read_call(&m, (uint32_t[]){ 8, 16 }, (uint32_t[]){ 12, 4 }, 2, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_OVERLAP);
	/* ... or inside its round-up: 5 bytes at 8 end at 16 */
	read_call(&m, (uint32_t[]){ 8, 12 }, (uint32_t[]){ 5, 4 }, 2, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_OVERLAP);
	read_call(&m, (uint32_t[]){ 8, 16 }, (uint32_t[]){ 5, 4 }, 2, 32);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	/* past the inline payload: 32 bytes, a chunk at 32 is the last item */
	read_call(&m, (uint32_t[]){ 32 }, (uint32_t[]){ 4 }, 1, 32);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	read_call(&m, (uint32_t[]){ 36 }, (uint32_t[]){ 4 }, 1, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_BEYOND);
	/* the second of two chunks: positions count the first one's 8 bytes */
	read_call(&m, (uint32_t[]){ 8, 40 }, (uint32_t[]){ 8, 4 }, 2, 32);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	read_call(&m, (uint32_t[]){ 8, 44 }, (uint32_t[]){ 8, 4 }, 2, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_BEYOND);
}

static void test_hdr_call_chunk_only_with_nomsg(void **state)
{
	struct msg m;

	/* a Position-Zero Read chunk with RDMA_MSG */
	read_call(&m, (uint32_t[]){ 0 }, (uint32_t[]){ 100 }, 1, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_CALL_CHUNK_IN_MSG);
	/* RDMA_NOMSG with no chunks at all */
	fixed(&m, 1, 1, 1, RPC_RDMA_NOMSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_NOMSG_NO_CALL_CHUNK);
	/* ... with only a Reply chunk */
	fixed(&m, 1, 1, 1, RPC_RDMA_NOMSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 1);
	seg(&m, 1, 4096, 0);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_NOMSG_NO_CALL_CHUNK);
	/* ... with a data-item Read chunk but no call chunk */
	fixed(&m, 1, 1, 1, RPC_RDMA_NOMSG);
	read_seg(&m, 8, 1, 100, 0);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_NOMSG_NO_CALL_CHUNK);
}

/* A long call with a data item: its position is within the call chunk. */
static void test_hdr_nomsg_data_chunk_within_call_chunk(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	uint32_t pos;

	for (pos = 96; pos <= 104; pos += 4) {
		fixed(&m, 1, 1, 1, RPC_RDMA_NOMSG);
		read_seg(&m, 0, 1, 100, 0);
		read_seg(&m, pos, 2, 4000, 0);
		put32(&m, 0);
		put32(&m, 0);
		put32(&m, 0);
		if (pos <= 100) {
			assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
			assert_int_equal(h.nreads, 2);
			assert_true(h.has_call_chunk);
		} else {
			assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_POS_BEYOND);
		}
	}
}

static void test_hdr_chunk_length_overflow(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	read_call(&m, (uint32_t[]){ 8, 8 }, (uint32_t[]){ 0xffffffff, 1 }, 2, 32);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_CHUNK_OVERFLOW);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 2);
	seg(&m, 1, 0x80000000, 0);
	seg(&m, 2, 0x80000000, 0);
	put32(&m, 0);
	put32(&m, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_CHUNK_OVERFLOW);

	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 2);
	seg(&m, 1, 0xfffffff0, 0);
	seg(&m, 2, 0x10, 0);
	rpc_body(&m, 1, 16);
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_CHUNK_OVERFLOW);

	/* exactly 2^32 - 1 is a length */
	fixed(&m, 1, 1, 1, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 2);
	seg(&m, 1, 0xfffffff0, 0);
	seg(&m, 2, 0x0f, 0);
	rpc_body(&m, 1, 16);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_OK);
	assert_int_equal(h.reply.length, 0xffffffffu);
}

/* The reassembled call, round-up included, against the caller's limit. */
static void test_hdr_call_size_limit(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	uint32_t total = 64 + 1001 + 3;

	read_call(&m, (uint32_t[]){ 32 }, (uint32_t[]){ 1001 }, 1, 64);
	assert_int_equal(rpc_rdma_hdr_decode(m.b, m.n, total, &h, &e), RPC_RDMA_OK);
	assert_int_equal(rpc_rdma_hdr_decode(m.b, m.n, total - 1, &h, &e),
			 RPC_RDMA_REPLY_ERR_CHUNK);
	assert_int_equal(e.reason, RPC_RDMA_R_CALL_TOO_LARGE);
	/* a long call likewise */
	fixed(&m, 1, 1, 1, RPC_RDMA_NOMSG);
	read_seg(&m, 0, 1, 70000, 0);
	put32(&m, 0);
	put32(&m, 0);
	put32(&m, 0);
	assert_int_equal(rpc_rdma_hdr_decode(m.b, m.n, 70000, &h, &e), RPC_RDMA_OK);
	assert_int_equal(rpc_rdma_hdr_decode(m.b, m.n, 69999, &h, &e), RPC_RDMA_REPLY_ERR_CHUNK);
	assert_int_equal(e.reason, RPC_RDMA_R_CALL_TOO_LARGE);
}

static void test_hdr_rpc_xid_must_match(void **state)
{
	struct msg m;

	plain_call(&m, 1000, 16);
	m.b[RPC_RDMA_MIN_MSG_HDR + 3] ^= 1;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_XID_MISMATCH);
	plain_call(&m, 1000, 8);
	m.n = RPC_RDMA_MIN_MSG_HDR + 3;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_NO_PAYLOAD);
	m.n = RPC_RDMA_MIN_MSG_HDR;
	assert_refused(&m, RPC_RDMA_REPLY_ERR_CHUNK, RPC_RDMA_R_NO_PAYLOAD);
}

/* An RDMA_ERROR from the peer is reported, never answered. */
static void test_hdr_peer_error(void **state)
{
	struct msg m;
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;

	fixed(&m, 7, 1, 1, RPC_RDMA_ERROR);
	put32(&m, RPC_RDMA_ERR_VERS);
	put32(&m, 1);
	put32(&m, 3);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_PEER_ERROR);
	assert_int_equal(h.xid, 7);
	assert_int_equal(h.err, RPC_RDMA_ERR_VERS);
	assert_int_equal(h.err_low, 1);
	assert_int_equal(h.err_high, 3);
	m.n -= 4;
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_DROP);
	assert_int_equal(e.reason, RPC_RDMA_R_BAD_PEER_ERROR);

	fixed(&m, 8, 1, 1, RPC_RDMA_ERROR);
	put32(&m, RPC_RDMA_ERR_CHUNK);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_PEER_ERROR);
	assert_int_equal(h.err, RPC_RDMA_ERR_CHUNK);

	fixed(&m, 9, 1, 1, RPC_RDMA_ERROR);
	put32(&m, 3);
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_DROP);
	m.n -= 4;
	assert_int_equal(decode(&m, &h, &e), RPC_RDMA_DROP);
}

/* ---- encoders ---- */

/* A call offering two Write chunks (3 and 1 segments) and a Reply chunk. */
static void call_with_chunks(struct rpc_rdma_hdr *h)
{
	struct msg m;
	struct rpc_rdma_hdr_error e;

	fixed(&m, 0x5150, 1, 64, RPC_RDMA_MSG);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 3);
	seg(&m, 0x31, 100, 0x1000);
	seg(&m, 0x32, 100, 0x2000);
	seg(&m, 0x33, 100, 0x3000);
	put32(&m, 1);
	put32(&m, 1);
	seg(&m, 0x41, 50, 0x4000);
	put32(&m, 0);
	put32(&m, 1);
	put32(&m, 2);
	seg(&m, 0x51, 4096, 0x5000);
	seg(&m, 0x52, 4096, 0x6000);
	rpc_body(&m, 0x5150, 64);
	assert_int_equal(decode(&m, h, &e), RPC_RDMA_OK);
}

/* Reads one echoed segment at p and checks it. */
static const uint8_t *expect_seg(const uint8_t *p, uint32_t handle, uint32_t len, uint64_t off)
{
	assert_int_equal(get32(p), handle);
	assert_int_equal(get32(p + 4), len);
	assert_true(((uint64_t)get32(p + 8) << 32 | get32(p + 12)) == off);
	return p + 16;
}

static void test_encode_reply_msg_echoes_write_chunks(void **state)
{
	struct rpc_rdma_hdr call;
	struct rpc_rdma_reply r = { .credits = 17, .write_used = { 250, 0 } };
	uint8_t buf[512];
	const uint8_t *p = buf;
	size_t n;

	call_with_chunks(&call);
	n = rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r);
	assert_int_equal(n, rpc_rdma_reply_hdr_len(&call, false));
	assert_int_equal(n, 28 + (8 + 48) + (8 + 16));
	assert_int_equal(get32(p), 0x5150);
	assert_int_equal(get32(p + 4), 1);
	assert_int_equal(get32(p + 8), 17);
	assert_int_equal(get32(p + 12), RPC_RDMA_MSG);
	assert_int_equal(get32(p + 16), 0);     /* no Read list */
	p += 20;
	assert_int_equal(get32(p), 1);          /* Write chunk 0: 100 + 100 + 50 */
	assert_int_equal(get32(p + 4), 3);
	p = expect_seg(p + 8, 0x31, 100, 0x1000);
	p = expect_seg(p, 0x32, 100, 0x2000);
	p = expect_seg(p, 0x33, 50, 0x3000);
	assert_int_equal(get32(p), 1);          /* Write chunk 1: unused, echoed empty */
	assert_int_equal(get32(p + 4), 1);
	p = expect_seg(p + 8, 0x41, 0, 0x4000);
	assert_int_equal(get32(p), 0);          /* end of the Write list */
	assert_int_equal(get32(p + 4), 0);      /* the reply went inline: no Reply chunk */
	assert_int_equal(p + 8 - buf, n);
}

static void test_encode_reply_nomsg_through_reply_chunk(void **state)
{
	struct rpc_rdma_hdr call;
	struct rpc_rdma_reply r = { .credits = 1, .use_reply_chunk = true, .reply_used = 5000 };
	uint8_t buf[512];
	const uint8_t *p;
	size_t n;

	call_with_chunks(&call);
	n = rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r);
	assert_int_equal(n, rpc_rdma_reply_hdr_len(&call, true));
	assert_int_equal(get32(buf + 12), RPC_RDMA_NOMSG);
	p = buf + n - 4 - 4 - 32;
	assert_int_equal(get32(p), 1);
	assert_int_equal(get32(p + 4), 2);
	p = expect_seg(p + 8, 0x51, 4096, 0x5000);
	p = expect_seg(p, 0x52, 904, 0x6000);
	assert_int_equal(p - buf, n);

	/* more than the chunks hold, or a Reply chunk the call did not offer */
	r.reply_used = 8193;
	assert_int_equal(rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r), 0);
	r.reply_used = 8192;
	assert_int_not_equal(rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r), 0);
	r.write_used[0] = 301;
	assert_int_equal(rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r), 0);
	r.write_used[0] = 0;
	call.has_reply = false;
	assert_int_equal(rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r), 0);
}

/* Every encoder refuses a buffer one byte short, and writes exactly its
 * length into one that fits. */
static void test_encode_refuses_small_buffers(void **state)
{
	struct rpc_rdma_hdr call;
	struct rpc_rdma_reply r = { .credits = 3, .write_used = { 1, 2 } };
	struct rpc_rdma_cm_priv pd = { .send_size = 4096, .recv_size = 4096 };
	uint8_t buf[512];
	size_t want[5], cap;
	unsigned k;

	call_with_chunks(&call);
	want[0] = rpc_rdma_encode_reply(buf, sizeof(buf), &call, &r);
	want[1] = rpc_rdma_encode_err_vers(buf, sizeof(buf), 1, 2, 3);
	want[2] = rpc_rdma_encode_err_chunk(buf, sizeof(buf), 1, 3);
	want[3] = rpc_rdma_encode_bc_call(buf, sizeof(buf), 1, 3);
	want[4] = rpc_rdma_cm_priv_encode(buf, sizeof(buf), &pd);
	assert_int_equal(want[1], 28);
	assert_int_equal(want[2], 20);
	assert_int_equal(want[3], 28);
	assert_int_equal(want[4], 8);
	for (k = 0; k < 5; k++) {
		for (cap = 0; cap <= want[k]; cap++) {
			size_t n = 0;
			uint8_t *b = malloc(cap ? cap : 1);

			assert_non_null(b);
			switch (k) {
			case 0: n = rpc_rdma_encode_reply(b, cap, &call, &r); break;
			case 1: n = rpc_rdma_encode_err_vers(b, cap, 1, 2, 3); break;
			case 2: n = rpc_rdma_encode_err_chunk(b, cap, 1, 3); break;
			case 3: n = rpc_rdma_encode_bc_call(b, cap, 1, 3); break;
			case 4: n = rpc_rdma_cm_priv_encode(b, cap, &pd); break;
			}
			free(b);
			assert_int_equal(n, cap == want[k] ? want[k] : 0);
		}
	}
}

static void test_encode_errors_and_bc_call(void **state)
{
	uint8_t buf[64];
	struct rpc_rdma_hdr h;
	struct rpc_rdma_hdr_error e;
	size_t n;

	n = rpc_rdma_encode_err_vers(buf, sizeof(buf), 0xcafe, 2, 5);
	assert_int_equal(n, 28);
	assert_int_equal(get32(buf), 0xcafe);
	assert_int_equal(get32(buf + 4), 2);    /* the requester's version, echoed */
	assert_int_equal(get32(buf + 8), 5);
	assert_int_equal(get32(buf + 12), RPC_RDMA_ERROR);
	assert_int_equal(get32(buf + 16), RPC_RDMA_ERR_VERS);
	assert_int_equal(get32(buf + 20), 1);   /* low */
	assert_int_equal(get32(buf + 24), 1);   /* high */

	n = rpc_rdma_encode_err_chunk(buf, sizeof(buf), 0xbeef, 9);
	assert_int_equal(n, 20);
	assert_int_equal(get32(buf), 0xbeef);
	assert_int_equal(get32(buf + 4), 1);
	assert_int_equal(get32(buf + 8), 9);
	assert_int_equal(get32(buf + 12), RPC_RDMA_ERROR);
	assert_int_equal(get32(buf + 16), RPC_RDMA_ERR_CHUNK);
	/* what we send is what a peer error looks like to us */
	assert_int_equal(rpc_rdma_hdr_decode(buf, n, MAX_CALL, &h, &e), RPC_RDMA_PEER_ERROR);
	assert_int_equal(h.err, RPC_RDMA_ERR_CHUNK);

	n = rpc_rdma_encode_bc_call(buf, sizeof(buf), 0x77, 2);
	assert_int_equal(n, RPC_RDMA_MIN_MSG_HDR);
	assert_int_equal(get32(buf), 0x77);
	assert_int_equal(get32(buf + 4), 1);
	assert_int_equal(get32(buf + 8), 2);
	assert_int_equal(get32(buf + 12), RPC_RDMA_MSG);
	assert_int_equal(get32(buf + 16) | get32(buf + 20) | get32(buf + 24), 0);
}

/* ---- RFC 8797 private data ---- */

static void test_cm_private_data(void **state)
{
	struct rpc_rdma_cm_priv p = { .remote_inv = true, .send_size = 4096, .recv_size = 1024 };
	struct rpc_rdma_cm_priv q;
	uint8_t buf[56] = { 0 };
	const uint8_t want[8] = { 0xf6, 0xab, 0x0e, 0x18, 1, 1, 3, 0 };

	assert_int_equal(rpc_rdma_cm_priv_encode(buf, sizeof(buf), &p), 8);
	assert_memory_equal(buf, want, 8);
	/* the CM pads private data; the padding is ignored */
	assert_true(rpc_rdma_cm_priv_decode(buf, sizeof(buf), &q));
	assert_true(q.remote_inv);
	assert_int_equal(q.send_size, 4096);
	assert_int_equal(q.recv_size, 1024);

	/* sizes round down to 1 KiB and stop at 256 KiB; under 1 KiB is refused */
	p = (struct rpc_rdma_cm_priv){ .send_size = 5000, .recv_size = 1u << 20 };
	assert_int_equal(rpc_rdma_cm_priv_encode(buf, sizeof(buf), &p), 8);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[6], 3);
	assert_int_equal(buf[7], 255);
	assert_true(rpc_rdma_cm_priv_decode(buf, 8, &q));
	assert_false(q.remote_inv);
	assert_int_equal(q.send_size, 4096);
	assert_int_equal(q.recv_size, RPC_RDMA_CM_MAX_INLINE);
	p.send_size = 1023;
	assert_int_equal(rpc_rdma_cm_priv_encode(buf, sizeof(buf), &p), 0);

	/* not ours: short, other magic, other version, none: version 1 defaults */
	assert_false(rpc_rdma_cm_priv_decode(buf, 7, &q));
	assert_int_equal(q.send_size, RPC_RDMA_V1_DEFAULT_INLINE);
	assert_int_equal(q.recv_size, RPC_RDMA_V1_DEFAULT_INLINE);
	assert_false(q.remote_inv);
	buf[4] = 2;
	assert_false(rpc_rdma_cm_priv_decode(buf, 8, &q));
	buf[4] = 1;
	buf[0] = 0xf7;
	assert_false(rpc_rdma_cm_priv_decode(buf, 8, &q));
	assert_int_equal(q.send_size, RPC_RDMA_V1_DEFAULT_INLINE);
	assert_false(rpc_rdma_cm_priv_decode(NULL, 0, &q));
}

static void test_reason_names(void **state)
{
	int r;

	for (r = RPC_RDMA_R_NONE; r <= RPC_RDMA_R_BAD_PEER_ERROR; r++)
		assert_string_not_equal(rpc_rdma_reason_name((enum rpc_rdma_reason)r), "unknown");
	assert_string_equal(rpc_rdma_reason_name((enum rpc_rdma_reason)999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_msg_all_lists_round_trip),
		cmocka_unit_test(test_hdr_nomsg_long_call_round_trip),
		cmocka_unit_test(test_hdr_plain_msg),
		cmocka_unit_test(test_hdr_version_not_1_gets_err_vers),
		cmocka_unit_test(test_hdr_too_short_to_answer_is_dropped),
		cmocka_unit_test(test_hdr_truncated_at_every_length),
		cmocka_unit_test(test_hdr_obsolete_procs_get_err_chunk),
		cmocka_unit_test(test_hdr_unknown_proc_gets_err_chunk),
		cmocka_unit_test(test_hdr_list_flag_must_be_0_or_1),
		cmocka_unit_test(test_hdr_segment_pool_limit),
		cmocka_unit_test(test_hdr_chunk_count_limits),
		cmocka_unit_test(test_hdr_lists_that_lie),
		cmocka_unit_test(test_hdr_read_positions),
		cmocka_unit_test(test_hdr_call_chunk_only_with_nomsg),
		cmocka_unit_test(test_hdr_nomsg_data_chunk_within_call_chunk),
		cmocka_unit_test(test_hdr_chunk_length_overflow),
		cmocka_unit_test(test_hdr_call_size_limit),
		cmocka_unit_test(test_hdr_rpc_xid_must_match),
		cmocka_unit_test(test_hdr_peer_error),
		cmocka_unit_test(test_encode_reply_msg_echoes_write_chunks),
		cmocka_unit_test(test_encode_reply_nomsg_through_reply_chunk),
		cmocka_unit_test(test_encode_refuses_small_buffers),
		cmocka_unit_test(test_encode_errors_and_bc_call),
		cmocka_unit_test(test_cm_private_data),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
