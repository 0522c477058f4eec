/*
 * rpc/rpcrdma_chunks.c: where chunk data goes (see rpcrdma.h).
 *
 * Calls: a Read chunk's position is its offset in the unreduced XDR
 * stream, the RPC call as it would be with every chunk's data item back in
 * place (RFC 8166 §3.4.5). The requester removed each such item, with its
 * XDR round-up, from the stream it sends (the inline payload, or the
 * Position-Zero Read chunk for a long call, §3.5.3.1), and it may leave
 * the round-up out of the chunk too; the responder then restores it
 * (§3.4.5.2). So each data item occupies XDR_ROUNDUP(length) bytes of the
 * reassembled call: the chunk's bytes and, when its length is not a
 * multiple of 4, zero bytes up to the next XDR unit.
 *
 * Replies: a Write or Reply chunk is filled contiguously, segment after
 * segment (§3.4.6.2), and never with round-up (§3.4.6.3): N payload bytes
 * are exactly N bytes of the chunk. A payload longer than its chunk cannot
 * be sent; the responder answers RDMA_ERROR ERR_CHUNK (§4.5.3).
 */
#include "rpc/rpcrdma.h"

#include <errno.h>

#include "rpc/xdr.h"

/* Appends a piece of len bytes at *dst (nothing for 0 bytes, nothing when
 * the caller only checks). */
static void map_add(struct rpc_rdma_call_map *m, enum rpc_rdma_piece_kind kind,
		    unsigned chunk, uint32_t src, uint64_t *dst, uint32_t len)
{
	struct rpc_rdma_piece *p;

	if (m && len > 0) {
		p = &m->p[m->n++];
		p->kind = kind;
		p->chunk = (uint8_t)chunk;
		p->src = src;
		p->dst = (uint32_t)*dst;
		p->len = len;
	}
	*dst += len;
}

/*
 * Positions are checked in the order the Read list gives them: each data
 * item starts no earlier than the previous one ends (after its round-up),
 * and no later than where the base stream ends, counting what was inserted
 * before it. 64-bit sums: positions and lengths are the peer's, each up to
 * 2^32 - 1.
 */
int rpc_rdma_call_map(const struct rpc_rdma_hdr *h, uint32_t max_call,
		      struct rpc_rdma_call_map *m, enum rpc_rdma_reason *why)
{
	enum rpc_rdma_reason r = RPC_RDMA_R_NONE;
	enum rpc_rdma_piece_kind base_kind = RPC_RDMA_PIECE_INLINE;
	const struct rpc_rdma_chunk *c;
	uint64_t dst = 0, base = 0, base_len = h->inline_len, gap;
	unsigned k, first = 0;

	if (m) {
		m->n = 0;
		m->total = 0;
	}
	if (h->nreads > RPC_RDMA_MAX_READ_CHUNKS) {
		r = RPC_RDMA_R_TOO_MANY_READ_CHUNKS;
		goto out;
	}
	/* A long call: the Position-Zero Read chunk is the whole (reduced)
	 * call; inline bytes, if any, are not part of it. */
	if (h->nreads > 0 && h->reads[0].position == 0) {
		base_kind = RPC_RDMA_PIECE_CHUNK;
		base_len = h->reads[0].length;
		first = 1;
	}
	for (k = first; k < h->nreads; k++) {
		c = &h->reads[k];
		if (c->position & 3) {
			r = RPC_RDMA_R_POS_UNALIGNED;
			goto out;
		}
		/* each chunk past a Position-Zero one: a higher position */
		if (k > 0 && c->position <= h->reads[k - 1].position) {
			r = RPC_RDMA_R_POS_BACKWARDS;
			goto out;
		}
		if (c->position < dst) {
			r = RPC_RDMA_R_POS_OVERLAP;
			goto out;
		}
		gap = c->position - dst;
		if (gap > base_len - base) {
			r = RPC_RDMA_R_POS_BEYOND;
			goto out;
		}
		map_add(m, base_kind, 0, (uint32_t)base, &dst, (uint32_t)gap);
		base += gap;
		map_add(m, RPC_RDMA_PIECE_CHUNK, k, 0, &dst, c->length);
		map_add(m, RPC_RDMA_PIECE_ZERO, k, 0, &dst, XDR_PAD(c->length));
	}
	map_add(m, base_kind, 0, (uint32_t)base, &dst, (uint32_t)(base_len - base));
	if (dst > max_call) {
		r = RPC_RDMA_R_CALL_TOO_LARGE;
		goto out;
	}
	if (m)
		m->total = (uint32_t)dst;
out:
	if (m && r != RPC_RDMA_R_NONE)
		m->n = 0;
	if (why)
		*why = r;
	return r == RPC_RDMA_R_NONE ? 0 : -EPROTO;
}

int rpc_rdma_chunk_spans(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *c,
			 uint32_t off, uint32_t len, struct rpc_rdma_span *out, unsigned cap,
			 unsigned *n)
{
	const struct rpc_rdma_seg *s;
	uint32_t skip = off, left = len, take;
	unsigned i, k = 0;
	int rc = -E2BIG;

	*n = 0;
	if (h->nsegs > RPC_RDMA_MAX_SEGS || c->first > h->nsegs ||
	    c->nsegs > h->nsegs - c->first) {
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)off + len > c->length)
		goto out;
	for (i = 0; i < c->nsegs && left > 0; i++) {
		s = &h->segs[c->first + i];
		if (skip >= s->length) {
			skip -= s->length;
			continue;
		}
		if (k == cap) {
			rc = -ENOSPC;
			goto out;
		}
		take = s->length - skip;
		if (take > left)
			take = left;
		out[k].handle = s->handle;
		out[k].length = take;
		out[k].offset = s->offset + skip;   /* unsigned: a peer's wrap stays defined */
		out[k].at = len - left;
		out[k].seg = (uint16_t)i;
		k++;
		left -= take;
		skip = 0;
	}
	/* c->length was the sum of the segments when decoded; a hand-made
	 * chunk that claims more than its segments hold still fails here */
	if (left > 0)
		goto out;
	*n = k;
	rc = 0;
out:
	return rc;
}

bool rpc_rdma_reply_fits_inline(const struct rpc_rdma_hdr *call, uint32_t inline_len,
				uint32_t threshold)
{
	size_t hdr = rpc_rdma_reply_hdr_len(call, false);

	return hdr <= threshold && inline_len <= threshold - hdr;
}
