/*
 * tests/fuzz/fuzz_rpc_rdma_hdr.c: libFuzzer target for the RPC-over-RDMA
 * version 1 transport header codec (rpc/rpcrdma_hdr.c, rpcrdma_chunks.c,
 * rpcrdma_credits.c; RFC 8166), the first code that reads a message an
 * RDMA peer sends.
 *
 * Input: one received message (transport header and what follows). It is
 * decoded from a copy of exactly its size, with no limit on the call and
 * with a limit of a few times its size; the verdicts must agree with RFC
 * 8166 §4.5 (DROP only without xid and vers, or for a peer's RDMA_ERROR;
 * ERR_VERS exactly when rdma_vers is not 1) and with each other (the
 * smaller limit can only add CALL_TOO_LARGE). An accepted header must
 * hold its invariants: counts within the limits; chunks tiling the
 * segment pool in list order, each length the sum of its segments; Read
 * positions aligned and increasing; the call chunk exactly for RDMA_NOMSG;
 * the inline payload inside the message and starting with the xid. Then:
 * the call map tiles the reassembled message, every chunk appears whole
 * and once, and round-up is only ever the 0-3 bytes a chunk's length
 * lacks; every chunk splits into spans that cover it and refuses a byte
 * more; the reply header echoing the Write and Reply chunks (lengths
 * derived from the input) is read back by a plain walk of RFC 8166 §4.3's
 * XDR and matches, and a buffer one byte short is refused. The same bytes
 * also drive the credit accounting (never a 0 grant, never more than the
 * Receives) and the RFC 8797 private-data decoder. Any difference aborts,
 * which libFuzzer reports with the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpcrdma.h"
#include "tests/fuzz/fuzz_common.h"

static uint64_t seg_sum(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < c->nsegs; i++)
		sum += h->segs[c->first + i].length;
	return sum;
}

/* Chunks take the pool in list order: Read chunks, Write chunks, Reply. */
static void check_pool(const struct rpc_rdma_hdr *h)
{
	unsigned next = 0;

	fuzz_check(h->nsegs <= RPC_RDMA_MAX_SEGS, "more segments than the pool");
	fuzz_check(h->nreads <= RPC_RDMA_MAX_READ_CHUNKS, "too many Read chunks");
	fuzz_check(h->nwrites <= RPC_RDMA_MAX_WRITE_CHUNKS, "too many Write chunks");
	for (unsigned k = 0; k < h->nreads; k++) {
		const struct rpc_rdma_chunk *c = &h->reads[k];

		fuzz_check(c->first == next && c->nsegs > 0, "Read chunk not in pool order");
		fuzz_check(seg_sum(h, c) == c->length, "Read chunk length is not its segments'");
		fuzz_check(c->position % 4 == 0, "unaligned Read position accepted");
		fuzz_check(k == 0 || c->position > h->reads[k - 1].position,
			   "Read positions not increasing");
		next += c->nsegs;
	}
	for (unsigned k = 0; k < h->nwrites; k++) {
		const struct rpc_rdma_chunk *c = &h->writes[k];

		fuzz_check(c->first == next, "Write chunk not in pool order");
		fuzz_check(seg_sum(h, c) == c->length, "Write chunk length is not its segments'");
		next += c->nsegs;
	}
	if (h->has_reply) {
		fuzz_check(h->reply.first == next && h->reply.nsegs > 0, "bad Reply chunk");
		fuzz_check(seg_sum(h, &h->reply) == h->reply.length,
			   "Reply chunk length is not its segments'");
		next += h->reply.nsegs;
	}
	fuzz_check(next == h->nsegs, "segments outside every chunk");
}

static void check_map(const struct rpc_rdma_hdr *h, uint32_t max_call)
{
	static struct rpc_rdma_call_map m;
	uint64_t end = 0, base = 0, base_len, want = 0;
	unsigned seen[RPC_RDMA_MAX_READ_CHUNKS] = { 0 };
	enum rpc_rdma_reason why;
	unsigned first = h->has_call_chunk ? 1 : 0;

	fuzz_check(rpc_rdma_call_map(h, max_call, &m, &why) == 0 && why == RPC_RDMA_R_NONE,
		   "accepted header does not map");
	fuzz_check(m.n <= RPC_RDMA_MAX_PIECES, "too many pieces");
	base_len = h->has_call_chunk ? h->reads[0].length : h->inline_len;
	for (unsigned i = 0; i < m.n; i++) {
		const struct rpc_rdma_piece *p = &m.p[i];
		bool from_base = p->kind == RPC_RDMA_PIECE_INLINE ||
				 (p->kind == RPC_RDMA_PIECE_CHUNK && h->has_call_chunk && p->chunk == 0);

		fuzz_check(p->len > 0 && p->dst == end, "pieces do not tile the call");
		if (from_base) {
			fuzz_check(p->kind == (h->has_call_chunk ? RPC_RDMA_PIECE_CHUNK
								 : RPC_RDMA_PIECE_INLINE),
				   "base stream from the wrong place");
			fuzz_check(p->src == base, "base stream out of order");
			base += p->len;
		} else if (p->kind == RPC_RDMA_PIECE_CHUNK) {
			fuzz_check(p->chunk >= first && p->chunk < h->nreads, "piece of no chunk");
			fuzz_check(p->src == 0 && p->len == h->reads[p->chunk].length,
				   "data item not whole");
			fuzz_check(p->dst == h->reads[p->chunk].position, "data item off its position");
			seen[p->chunk]++;
		} else {
			fuzz_check(p->kind == RPC_RDMA_PIECE_ZERO, "unknown piece");
			fuzz_check(i > 0 && m.p[i - 1].kind == RPC_RDMA_PIECE_CHUNK &&
				   p->len == (4 - m.p[i - 1].len % 4) % 4,
				   "round-up other than what a chunk lacks");
		}
		end += p->len;
	}
	fuzz_check(base == base_len, "base stream not laid out whole");
	want = base_len;
	for (unsigned k = first; k < h->nreads; k++) {
		uint32_t len = h->reads[k].length;

		fuzz_check(seen[k] == (len > 0 ? 1u : 0u), "data item missing or repeated");
		want += (uint64_t)len + (4 - len % 4) % 4;
	}
	fuzz_check(end == m.total && end == want, "call size is not the pieces'");
	fuzz_check(m.total <= max_call, "call past the limit accepted");
}

static void check_spans(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *c)
{
	static struct rpc_rdma_span s[RPC_RDMA_MAX_SEGS];
	uint64_t covered = 0;
	unsigned n;

	fuzz_check(rpc_rdma_chunk_spans(h, c, 0, c->length, s, RPC_RDMA_MAX_SEGS, &n) == 0,
		   "a chunk does not hold its own length");
	for (unsigned i = 0; i < n; i++) {
		fuzz_check(s[i].at == covered && s[i].length > 0, "spans do not tile the range");
		fuzz_check(s[i].seg < c->nsegs &&
			   s[i].length == h->segs[c->first + s[i].seg].length,
			   "a whole-chunk span is not its segment");
		fuzz_check(i == 0 || s[i].seg > s[i - 1].seg, "segments out of order");
		covered += s[i].length;
	}
	fuzz_check(covered == c->length, "spans do not cover the chunk");
	if (c->length < UINT32_MAX)
		fuzz_check(rpc_rdma_chunk_spans(h, c, 0, c->length + 1, s, RPC_RDMA_MAX_SEGS,
						&n) == -E2BIG,
			   "a payload larger than its chunk was split");
}

/* RFC 8166 §4.3 walked by hand: one echoed chunk at p, used bytes spread
 * in segment order. Returns where it ends. */
static const uint8_t *walk_chunk(const uint8_t *p, const struct rpc_rdma_hdr *h,
				 const struct rpc_rdma_chunk *c, uint32_t used)
{
	fuzz_check(fuzz_get_be32(p) == c->nsegs, "echoed segment count differs");
	p += 4;
	for (unsigned i = 0; i < c->nsegs; i++) {
		const struct rpc_rdma_seg *s = &h->segs[c->first + i];
		uint32_t take = used < s->length ? used : s->length;

		fuzz_check(fuzz_get_be32(p) == s->handle, "echoed handle differs");
		fuzz_check(fuzz_get_be32(p + 4) == take, "echoed length is not what was written");
		fuzz_check(((uint64_t)fuzz_get_be32(p + 8) << 32 | fuzz_get_be32(p + 12)) ==
			   s->offset, "echoed offset differs");
		used -= take;
		p += 16;
	}
	return p;
}

static void check_reply(const struct rpc_rdma_hdr *h, const uint8_t *data, size_t size)
{
	static uint8_t buf[4096];
	struct rpc_rdma_reply r = { .credits = h->credits | 1 };
	const uint8_t *p = buf;
	size_t n, want;

	/* lengths written: a share of each chunk the input picks */
	for (unsigned k = 0; k < h->nwrites; k++)
		r.write_used[k] = (uint32_t)((uint64_t)h->writes[k].length * data[k % size] / 255);
	r.use_reply_chunk = h->has_reply && (data[size - 1] & 1);
	if (r.use_reply_chunk)
		r.reply_used = h->reply.length - (h->reply.length > 0 ? data[0] % 2 : 0);
	want = rpc_rdma_reply_hdr_len(h, r.use_reply_chunk);
	fuzz_check(want <= sizeof(buf), "reply header larger than any pool allows");
	fuzz_check(rpc_rdma_encode_reply(buf, want - 1, h, &r) == 0,
		   "reply header written into a buffer too small");
	n = rpc_rdma_encode_reply(buf, sizeof(buf), h, &r);
	fuzz_check(n == want, "reply header length is not the predicted one");
	fuzz_check(fuzz_get_be32(p) == h->xid && fuzz_get_be32(p + 4) == 1 &&
		   fuzz_get_be32(p + 8) == r.credits, "reply header fixed words differ");
	fuzz_check(fuzz_get_be32(p + 12) ==
		   (r.use_reply_chunk ? RPC_RDMA_NOMSG : RPC_RDMA_MSG), "reply proc differs");
	fuzz_check(fuzz_get_be32(p + 16) == 0, "reply with a Read list");
	p += 20;
	for (unsigned k = 0; k < h->nwrites; k++) {
		fuzz_check(fuzz_get_be32(p) == 1, "Write chunk not echoed");
		p = walk_chunk(p + 4, h, &h->writes[k], r.write_used[k]);
	}
	fuzz_check(fuzz_get_be32(p) == 0, "Write list not ended");
	p += 4;
	if (r.use_reply_chunk) {
		fuzz_check(fuzz_get_be32(p) == 1, "Reply chunk not echoed");
		p = walk_chunk(p + 4, h, &h->reply, r.reply_used);
	} else {
		fuzz_check(fuzz_get_be32(p) == 0, "unused Reply chunk returned");
		p += 4;
	}
	fuzz_check((size_t)(p - buf) == n, "reply header has bytes the walk did not read");
	/* asking for more than a chunk holds is refused */
	if (h->nwrites > 0 && h->writes[0].length < UINT32_MAX) {
		r.write_used[0] = h->writes[0].length + 1;
		fuzz_check(rpc_rdma_encode_reply(buf, sizeof(buf), h, &r) == 0,
			   "reply claims more than a Write chunk holds");
	}
}

static void check_accepted(const struct rpc_rdma_hdr *h, const uint8_t *msg, size_t size,
			   uint32_t max_call)
{
	fuzz_check(h->vers == 1, "accepted another version");
	fuzz_check(h->proc == RPC_RDMA_MSG || h->proc == RPC_RDMA_NOMSG, "accepted proc");
	check_pool(h);
	fuzz_check(h->has_call_chunk == (h->nreads > 0 && h->reads[0].position == 0),
		   "call chunk flag wrong");
	fuzz_check(h->payload_off <= size, "payload starts past the message");
	if (h->proc == RPC_RDMA_MSG) {
		fuzz_check(!h->has_call_chunk, "call chunk accepted with RDMA_MSG");
		fuzz_check(h->inline_len == size - h->payload_off && h->inline_len >= 4,
			   "inline payload wrong");
		fuzz_check(fuzz_get_be32(msg + h->payload_off) == h->xid, "xid mismatch accepted");
	} else {
		fuzz_check(h->has_call_chunk && h->inline_len == 0, "RDMA_NOMSG without its call");
	}
	check_map(h, max_call);
	for (unsigned k = 0; k < h->nreads; k++)
		check_spans(h, &h->reads[k]);
	for (unsigned k = 0; k < h->nwrites; k++)
		check_spans(h, &h->writes[k]);
	if (h->has_reply)
		check_spans(h, &h->reply);
}

static void check_answers(enum rpc_rdma_verdict v, const struct rpc_rdma_hdr_error *e,
			  const uint8_t *msg, size_t size)
{
	uint8_t buf[32];

	if (size < 8) {
		fuzz_check(v == RPC_RDMA_DROP, "answered a message without xid and vers");
		return;
	}
	fuzz_check(e->xid == fuzz_get_be32(msg) && e->vers == fuzz_get_be32(msg + 4),
		   "answer's xid or vers is not the message's");
	fuzz_check((v == RPC_RDMA_REPLY_ERR_VERS) == (e->vers != 1), "ERR_VERS iff vers != 1");
	fuzz_check(v != RPC_RDMA_DROP || (size >= 16 && fuzz_get_be32(msg + 12) == RPC_RDMA_ERROR),
		   "dropped a version-1 message that is not an RDMA_ERROR");
	fuzz_check(v != RPC_RDMA_PEER_ERROR || fuzz_get_be32(msg + 12) == RPC_RDMA_ERROR,
		   "peer error from another proc");
	if (v == RPC_RDMA_REPLY_ERR_VERS) {
		fuzz_check(rpc_rdma_encode_err_vers(buf, sizeof(buf), e->xid, e->vers, 1) == 28,
			   "ERR_VERS not encoded");
		fuzz_check(fuzz_get_be32(buf + 20) == 1 && fuzz_get_be32(buf + 24) == 1,
			   "ERR_VERS range is not 1..1");
	}
	if (v == RPC_RDMA_REPLY_ERR_CHUNK)
		fuzz_check(rpc_rdma_encode_err_chunk(buf, sizeof(buf), e->xid, 1) == 20,
			   "ERR_CHUNK not encoded");
}

/* The bytes as a sequence of calls (even) and replies (odd). */
static void check_credits(const uint8_t *data, size_t size)
{
	struct rpc_rdma_credits c;
	uint64_t calls = 0, violations = 0;
	uint32_t posted = size > 0 ? data[0] % 64 : 0, g;

	rpc_rdma_credits_init(&c, posted);
	for (size_t i = 1; i < size && i < 512; i++) {
		if (data[i] & 1) {
			rpc_rdma_credits_on_reply(&c);
			continue;
		}
		calls++;
		if (!rpc_rdma_credits_on_call(&c, data[i] >> 1))
			violations++;
		g = rpc_rdma_credits_grant(&c);
		fuzz_check(g >= 1 && g <= (posted > 0 ? posted : 1), "grant out of range");
		fuzz_check(g <= c.granted_max, "grant above the recorded maximum");
	}
	fuzz_check(c.violations == violations && violations <= calls, "violations miscounted");
	fuzz_check(c.outstanding <= calls, "more outstanding than calls");
}

static void check_cm_priv(const uint8_t *data, size_t size)
{
	struct rpc_rdma_cm_priv p;
	uint8_t buf[8];

	if (!rpc_rdma_cm_priv_decode(data, size, &p)) {
		fuzz_check(p.send_size == RPC_RDMA_V1_DEFAULT_INLINE &&
			   p.recv_size == RPC_RDMA_V1_DEFAULT_INLINE && !p.remote_inv,
			   "refused private data left no defaults");
		return;
	}
	fuzz_check(size >= 8 && p.send_size % 1024 == 0 && p.recv_size % 1024 == 0 &&
		   p.send_size >= 1024 && p.recv_size <= RPC_RDMA_CM_MAX_INLINE,
		   "private data sizes out of range");
	fuzz_check(rpc_rdma_cm_priv_encode(buf, sizeof(buf), &p) == 8, "private data not encoded");
	fuzz_check(memcmp(buf, data, 5) == 0 && buf[5] == (data[5] & RPC_RDMA_CM_F_REMOTE_INV) &&
		   memcmp(buf + 6, data + 6, 2) == 0, "private data does not round-trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rpc_rdma_hdr h, h2;
	struct rpc_rdma_hdr_error e, e2;
	enum rpc_rdma_verdict v, v2;
	uint32_t small = size < 1024 ? (uint32_t)size * 3 : 3072;
	uint8_t *msg = malloc(size ? size : 1);

	fuzz_check(msg != NULL, "no memory");
	memcpy(msg, data, size);

	v = rpc_rdma_hdr_decode(msg, size, UINT32_MAX, &h, &e);
	fuzz_check(e.at <= size, "error offset past the message");
	fuzz_check((e.reason == RPC_RDMA_R_NONE) == (v == RPC_RDMA_OK || v == RPC_RDMA_PEER_ERROR),
		   "reason and verdict disagree");
	check_answers(v, &e, msg, size);
	if (v == RPC_RDMA_OK) {
		check_accepted(&h, msg, size, UINT32_MAX);
		check_reply(&h, data, size);
	}
	if (v == RPC_RDMA_PEER_ERROR)
		fuzz_check(h.err == RPC_RDMA_ERR_VERS || h.err == RPC_RDMA_ERR_CHUNK,
			   "unknown peer error accepted");

	/* a smaller limit can only refuse more, and only for the size */
	v2 = rpc_rdma_hdr_decode(msg, size, small, &h2, &e2);
	if (v2 != v) {
		fuzz_check(v == RPC_RDMA_OK && v2 == RPC_RDMA_REPLY_ERR_CHUNK &&
			   e2.reason == RPC_RDMA_R_CALL_TOO_LARGE, "a smaller limit changed more");
	} else if (v2 == RPC_RDMA_OK) {
		fuzz_check(memcmp(&h, &h2, sizeof(h)) == 0, "decoding is not deterministic");
		check_accepted(&h2, msg, size, small);
	}
	free(msg);

	check_credits(data, size);
	check_cm_priv(data, size);
	return 0;
}
