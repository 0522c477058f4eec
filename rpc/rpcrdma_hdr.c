/*
 * rpc/rpcrdma_hdr.c: RPC-over-RDMA version 1 transport header codec and
 * RDMA-CM private data (see rpcrdma.h).
 *
 * The header's XDR (RFC 8166 §4.3): xid, vers, credit, proc; for RDMA_MSG
 * and RDMA_NOMSG three chunk lists follow: the Read list (optional-data
 * list of position + segment), the Write list (optional-data list of
 * counted segment arrays) and the Reply chunk (optional counted segment
 * array); the inline RPC message follows an RDMA_MSG header. Every length
 * is checked against what the message holds (rpc/xdr.c) and every count
 * against the fixed pool before anything is stored, so a hostile header
 * costs at most the pool and never a read past the message.
 */
#include "rpc/rpcrdma.h"

#include <string.h>

#include "rpc/xdr.h"

static const char *const reason_names[] = {
	[RPC_RDMA_R_NONE] = "none",
	[RPC_RDMA_R_SHORT] = "header runs past the message",
	[RPC_RDMA_R_VERS] = "unsupported rdma_vers",
	[RPC_RDMA_R_BAD_PROC] = "unknown rdma_proc",
	[RPC_RDMA_R_OBSOLETE_PROC] = "obsolete rdma_proc (MSGP or DONE)",
	[RPC_RDMA_R_BAD_DISCRIM] = "list flag neither 0 nor 1",
	[RPC_RDMA_R_TOO_MANY_SEGS] = "too many segments",
	[RPC_RDMA_R_TOO_MANY_READ_CHUNKS] = "too many Read chunks",
	[RPC_RDMA_R_TOO_MANY_WRITE_CHUNKS] = "too many Write chunks",
	[RPC_RDMA_R_POS_UNALIGNED] = "Read position not a multiple of 4",
	[RPC_RDMA_R_POS_BACKWARDS] = "Read positions out of order",
	[RPC_RDMA_R_POS_OVERLAP] = "Read chunks overlap",
	[RPC_RDMA_R_POS_BEYOND] = "Read chunk past the end of the payload",
	[RPC_RDMA_R_CALL_CHUNK_IN_MSG] = "Position-Zero Read chunk with RDMA_MSG",
	[RPC_RDMA_R_NOMSG_NO_CALL_CHUNK] = "RDMA_NOMSG without a Position-Zero Read chunk",
	[RPC_RDMA_R_CHUNK_OVERFLOW] = "chunk length past 2^32 - 1",
	[RPC_RDMA_R_CALL_TOO_LARGE] = "call larger than the limit",
	[RPC_RDMA_R_EMPTY_REPLY_CHUNK] = "Reply chunk without segments",
	[RPC_RDMA_R_NO_PAYLOAD] = "RDMA_MSG without an RPC message",
	[RPC_RDMA_R_XID_MISMATCH] = "rdma_xid differs from the RPC xid",
	[RPC_RDMA_R_BAD_PEER_ERROR] = "unreadable RDMA_ERROR",
};

const char *rpc_rdma_reason_name(enum rpc_rdma_reason r)
{
	const char *name = "unknown";

	if ((size_t)r < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[r])
		name = reason_names[r];
	return name;
}

/* ---- decoding ---- */

struct hdr_dec {
	struct xdr_stream x;
	struct rpc_rdma_hdr *h;
	enum rpc_rdma_reason why;   /* set by whatever fails */
};

/* An optional-data flag: XDR bool, so anything but 0 or 1 is an error. */
static bool dec_present(struct hdr_dec *d, bool *present)
{
	uint32_t v;
	bool ok = false;

	if (!xdr_get_u32(&d->x, &v)) {
		d->why = RPC_RDMA_R_SHORT;
		goto out;
	}
	if (v > 1) {
		d->why = RPC_RDMA_R_BAD_DISCRIM;
		goto out;
	}
	*present = v == 1;
	ok = true;
out:
	return ok;
}

static bool dec_seg(struct hdr_dec *d, struct rpc_rdma_seg *s)
{
	bool ok = xdr_get_u32(&d->x, &s->handle) && xdr_get_u32(&d->x, &s->length) &&
		  xdr_get_u64(&d->x, &s->offset);

	if (!ok)
		d->why = RPC_RDMA_R_SHORT;
	return ok;
}

/* Counts one more segment of len bytes into c; the sum must stay a uint32
 * (every chunk length the protocol carries is one). */
static bool chunk_add(struct hdr_dec *d, struct rpc_rdma_chunk *c, uint32_t len)
{
	bool ok = len <= UINT32_MAX - c->length;

	if (ok) {
		c->length += len;
		c->nsegs++;
	} else {
		d->why = RPC_RDMA_R_CHUNK_OVERFLOW;
	}
	return ok;
}

/*
 * The Read list. Segments sharing a position form one Read chunk, in list
 * order (RFC 8166 §3.4.5.1); positions are XDR positions, so multiples of
 * 4, and a chunk's segments must be adjacent in the list: a position lower
 * than the previous one (which is also how a repeated position shows) is
 * refused, as the Linux server does.
 */
static bool dec_read_list(struct hdr_dec *d)
{
	struct rpc_rdma_hdr *h = d->h;
	struct rpc_rdma_chunk *c = NULL;
	struct rpc_rdma_seg seg;
	uint32_t pos;
	bool more, ok = false;

	for (;;) {
		if (!dec_present(d, &more))
			goto out;
		if (!more)
			break;
		if (!xdr_get_u32(&d->x, &pos)) {
			d->why = RPC_RDMA_R_SHORT;
			goto out;
		}
		if (!dec_seg(d, &seg))
			goto out;
		if (pos & 3) {
			d->why = RPC_RDMA_R_POS_UNALIGNED;
			goto out;
		}
		if (h->nsegs == RPC_RDMA_MAX_SEGS) {
			d->why = RPC_RDMA_R_TOO_MANY_SEGS;
			goto out;
		}
		if (!c || pos != c->position) {
			if (c && pos < c->position) {
				d->why = RPC_RDMA_R_POS_BACKWARDS;
				goto out;
			}
			if (h->nreads == RPC_RDMA_MAX_READ_CHUNKS) {
				d->why = RPC_RDMA_R_TOO_MANY_READ_CHUNKS;
				goto out;
			}
			c = &h->reads[h->nreads++];
			c->position = pos;
			c->first = h->nsegs;
		}
		h->segs[h->nsegs++] = seg;
		if (!chunk_add(d, c, seg.length))
			goto out;
	}
	h->has_call_chunk = h->nreads > 0 && h->reads[0].position == 0;
	ok = true;
out:
	return ok;
}

/* A counted array of segments (a Write chunk or the Reply chunk). The count
 * is checked against the pool before any segment is read. */
static bool dec_write_chunk(struct hdr_dec *d, struct rpc_rdma_chunk *c)
{
	struct rpc_rdma_hdr *h = d->h;
	uint32_t count, i;
	bool ok = false;

	if (!xdr_get_u32(&d->x, &count)) {
		d->why = RPC_RDMA_R_SHORT;
		goto out;
	}
	if (count > RPC_RDMA_MAX_SEGS - h->nsegs) {
		d->why = RPC_RDMA_R_TOO_MANY_SEGS;
		goto out;
	}
	c->first = h->nsegs;
	for (i = 0; i < count; i++) {
		if (!dec_seg(d, &h->segs[h->nsegs]))
			goto out;
		if (!chunk_add(d, c, h->segs[h->nsegs].length))
			goto out;
		h->nsegs++;
	}
	ok = true;
out:
	return ok;
}

static bool dec_write_list(struct hdr_dec *d)
{
	struct rpc_rdma_hdr *h = d->h;
	bool more, ok = false;

	for (;;) {
		if (!dec_present(d, &more))
			goto out;
		if (!more)
			break;
		if (h->nwrites == RPC_RDMA_MAX_WRITE_CHUNKS) {
			d->why = RPC_RDMA_R_TOO_MANY_WRITE_CHUNKS;
			goto out;
		}
		if (!dec_write_chunk(d, &h->writes[h->nwrites]))
			goto out;
		h->nwrites++;
	}
	ok = true;
out:
	return ok;
}

/* A Reply chunk without segments could carry nothing: a requester that
 * provides one expects a reply in it, which could never arrive. */
static bool dec_reply_chunk(struct hdr_dec *d)
{
	struct rpc_rdma_hdr *h = d->h;
	bool present, ok = false;

	if (!dec_present(d, &present))
		goto out;
	if (present) {
		if (!dec_write_chunk(d, &h->reply))
			goto out;
		if (h->reply.nsegs == 0) {
			d->why = RPC_RDMA_R_EMPTY_REPLY_CHUNK;
			goto out;
		}
		h->has_reply = true;
	}
	ok = true;
out:
	return ok;
}

/*
 * Where the RPC message is, and whether the lists fit it. RDMA_MSG carries
 * it inline, so a Position-Zero Read chunk (a second copy of the whole
 * call) has no place there, and its first word must be rdma_xid (RFC 8166
 * §4.5.2 names a mismatch as an XDR error). RDMA_NOMSG carries no message
 * inline: a call must then be in the Position-Zero Read chunk (§3.5.3.1;
 * §4.5.2 names an RDMA_NOMSG with no chunks at all as an error). A NOMSG
 * reply would arrive in a Reply chunk the receiver provided, and daxnfs
 * provides none in its backchannel calls, so a NOMSG without the call
 * chunk is refused whatever else it carries. Bytes after an RDMA_NOMSG
 * header are ignored.
 */
static bool check_call(struct hdr_dec *d, const uint8_t *buf, size_t len, uint32_t max_call)
{
	struct rpc_rdma_hdr *h = d->h;
	struct xdr_stream msg;
	uint32_t rpc_xid;
	bool ok = false;

	h->payload_off = (uint32_t)xdr_pos(&d->x);
	if (h->proc == RPC_RDMA_MSG) {
		if (len - h->payload_off > UINT32_MAX) {
			d->why = RPC_RDMA_R_CALL_TOO_LARGE;
			goto out;
		}
		h->inline_len = (uint32_t)(len - h->payload_off);
		if (h->has_call_chunk) {
			d->why = RPC_RDMA_R_CALL_CHUNK_IN_MSG;
			goto out;
		}
		xdr_init_decode(&msg, buf + h->payload_off, h->inline_len, NULL);
		if (!xdr_get_u32(&msg, &rpc_xid)) {
			d->why = RPC_RDMA_R_NO_PAYLOAD;
			goto out;
		}
		if (rpc_xid != h->xid) {
			d->why = RPC_RDMA_R_XID_MISMATCH;
			goto out;
		}
	} else if (!h->has_call_chunk) {
		d->why = RPC_RDMA_R_NOMSG_NO_CALL_CHUNK;
		goto out;
	}
	if (rpc_rdma_call_map(h, max_call, NULL, &d->why) < 0)
		goto out;
	ok = true;
out:
	return ok;
}

/* A received RDMA_ERROR: something to report, never to answer (an error
 * about an error could bounce forever). One we cannot read is dropped. */
static enum rpc_rdma_verdict dec_peer_error(struct hdr_dec *d)
{
	struct rpc_rdma_hdr *h = d->h;
	enum rpc_rdma_verdict v = RPC_RDMA_DROP;

	d->why = RPC_RDMA_R_BAD_PEER_ERROR;
	if (!xdr_get_u32(&d->x, &h->err))
		goto out;
	if (h->err == RPC_RDMA_ERR_VERS) {
		if (!xdr_get_u32(&d->x, &h->err_low) || !xdr_get_u32(&d->x, &h->err_high))
			goto out;
	} else if (h->err != RPC_RDMA_ERR_CHUNK) {
		goto out;
	}
	h->payload_off = (uint32_t)xdr_pos(&d->x);
	d->why = RPC_RDMA_R_NONE;
	v = RPC_RDMA_PEER_ERROR;
out:
	return v;
}

enum rpc_rdma_verdict rpc_rdma_hdr_decode(const uint8_t *buf, size_t len, uint32_t max_call,
					  struct rpc_rdma_hdr *h, struct rpc_rdma_hdr_error *err)
{
	struct hdr_dec d;
	enum rpc_rdma_verdict v = RPC_RDMA_DROP;

	memset(h, 0, sizeof(*h));
	memset(err, 0, sizeof(*err));
	xdr_init_decode(&d.x, buf, len, NULL);
	d.h = h;
	d.why = RPC_RDMA_R_SHORT;
	/* No xid: nothing to answer to. No rdma_vers: no telling which
	 * version's RDMA_ERROR the peer would understand. */
	if (!xdr_get_u32(&d.x, &h->xid) || !xdr_get_u32(&d.x, &h->vers))
		goto out;
	err->xid = h->xid;
	err->vers = h->vers;
	/* The first four words keep their places in every version, so a
	 * version we do not speak is answered with the range we do (§4.5.1). */
	if (h->vers != RPC_RDMA_VERSION) {
		d.why = RPC_RDMA_R_VERS;
		v = RPC_RDMA_REPLY_ERR_VERS;
		goto out;
	}
	/* From here on a version-1 header that does not parse is answered
	 * ERR_CHUNK (§4.5.2). */
	v = RPC_RDMA_REPLY_ERR_CHUNK;
	if (!xdr_get_u32(&d.x, &h->credits) || !xdr_get_u32(&d.x, &h->proc))
		goto out;
	switch (h->proc) {
	case RPC_RDMA_MSG:
	case RPC_RDMA_NOMSG:
		if (dec_read_list(&d) && dec_write_list(&d) && dec_reply_chunk(&d) &&
		    check_call(&d, buf, len, max_call)) {
			d.why = RPC_RDMA_R_NONE;
			v = RPC_RDMA_OK;
		}
		break;
	case RPC_RDMA_MSGP:
	case RPC_RDMA_DONE:
		/* §4.6: no longer part of the protocol; a responder answers
		 * them ERR_CHUNK. */
		d.why = RPC_RDMA_R_OBSOLETE_PROC;
		break;
	case RPC_RDMA_ERROR:
		v = dec_peer_error(&d);
		break;
	default:
		d.why = RPC_RDMA_R_BAD_PROC;
		break;
	}
out:
	err->reason = d.why;
	err->at = (uint32_t)xdr_pos(&d.x);
	return v;
}

/* ---- encoding ---- */

static bool chunk_in_pool(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *c)
{
	return h->nsegs <= RPC_RDMA_MAX_SEGS && c->first <= h->nsegs &&
	       c->nsegs <= h->nsegs - c->first;
}

static void put_fixed_hdr(struct xdr_stream *x, uint32_t xid, uint32_t vers, uint32_t credits,
			  uint32_t proc)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, vers);
	xdr_put_u32(x, credits);
	xdr_put_u32(x, proc);
}

/*
 * One chunk of the call echoed in the reply: the same segment count,
 * handles and offsets, each length replaced by the bytes written into it,
 * filling segments in order (RFC 8166 §3.4.6.2). used 0 gives an unused
 * chunk: all its segments, each of length 0 (§3.4.6.1).
 */
static void put_used_chunk(struct xdr_stream *x, const struct rpc_rdma_hdr *call,
			   const struct rpc_rdma_chunk *c, uint32_t used)
{
	const struct rpc_rdma_seg *s;
	uint32_t take;
	unsigned i;

	xdr_put_u32(x, c->nsegs);
	for (i = 0; i < c->nsegs; i++) {
		s = &call->segs[c->first + i];
		take = used < s->length ? used : s->length;
		used -= take;
		xdr_put_u32(x, s->handle);
		xdr_put_u32(x, take);
		xdr_put_u64(x, s->offset);
	}
}

/* What r asks of the call's chunks is there. */
static bool reply_fits_call(const struct rpc_rdma_hdr *call, const struct rpc_rdma_reply *r)
{
	bool ok = false;
	unsigned i;

	if (call->nwrites > RPC_RDMA_MAX_WRITE_CHUNKS)
		goto out;
	for (i = 0; i < call->nwrites; i++)
		if (!chunk_in_pool(call, &call->writes[i]) ||
		    r->write_used[i] > call->writes[i].length)
			goto out;
	if (r->use_reply_chunk && (!call->has_reply || !chunk_in_pool(call, &call->reply) ||
				   r->reply_used > call->reply.length))
		goto out;
	ok = true;
out:
	return ok;
}

size_t rpc_rdma_reply_hdr_len(const struct rpc_rdma_hdr *call, bool use_reply_chunk)
{
	size_t n = RPC_RDMA_FIXED_HDR + 4 + 4 + 4;   /* fixed, empty Read list, two list ends */
	unsigned i;

	for (i = 0; i < call->nwrites && i < RPC_RDMA_MAX_WRITE_CHUNKS; i++)
		n += 4 + 4 + (size_t)call->writes[i].nsegs * RPC_RDMA_SEG_XDR;
	if (use_reply_chunk)
		n += 4 + (size_t)call->reply.nsegs * RPC_RDMA_SEG_XDR;
	return n;
}

/*
 * An RDMA_MSG reply returns no Reply chunk, even when the call offered one
 * (the Linux client refuses an RDMA_MSG reply whose Reply chunk has a
 * length). An RDMA_NOMSG reply may echo used Write chunks too, but the
 * Linux client refuses any with a length: rdma/ writes DDP payloads into
 * the Reply chunk with the rest of the reply instead.
 */
size_t rpc_rdma_encode_reply(uint8_t *buf, size_t cap, const struct rpc_rdma_hdr *call,
			     const struct rpc_rdma_reply *r)
{
	struct xdr_stream x;
	size_t n = 0;
	unsigned i;

	if (!reply_fits_call(call, r))
		goto out;
	xdr_init_encode(&x, buf, cap);
	put_fixed_hdr(&x, call->xid, RPC_RDMA_VERSION, r->credits,
		      r->use_reply_chunk ? RPC_RDMA_NOMSG : RPC_RDMA_MSG);
	/* RPC-over-RDMA version 1 replies never carry a Read list */
	xdr_put_u32(&x, 0);
	for (i = 0; i < call->nwrites; i++) {
		xdr_put_u32(&x, 1);
		put_used_chunk(&x, call, &call->writes[i], r->write_used[i]);
	}
	xdr_put_u32(&x, 0);
	if (r->use_reply_chunk) {
		xdr_put_u32(&x, 1);
		put_used_chunk(&x, call, &call->reply, r->reply_used);
	} else {
		xdr_put_u32(&x, 0);
	}
	if (xdr_ok(&x))
		n = xdr_pos(&x);
out:
	return n;
}

/* The range of versions supported is 1..1 (§4.5.1). rdma_vers echoes the
 * requester's, as the Linux server does: the first words keep their places
 * in every version, and a requester of another version looks for its own
 * there. */
size_t rpc_rdma_encode_err_vers(uint8_t *buf, size_t cap, uint32_t xid, uint32_t vers,
				uint32_t credits)
{
	struct xdr_stream x;

	xdr_init_encode(&x, buf, cap);
	put_fixed_hdr(&x, xid, vers, credits, RPC_RDMA_ERROR);
	xdr_put_u32(&x, RPC_RDMA_ERR_VERS);
	xdr_put_u32(&x, RPC_RDMA_VERSION);
	xdr_put_u32(&x, RPC_RDMA_VERSION);
	return xdr_ok(&x) ? xdr_pos(&x) : 0;
}

size_t rpc_rdma_encode_err_chunk(uint8_t *buf, size_t cap, uint32_t xid, uint32_t credits)
{
	struct xdr_stream x;

	xdr_init_encode(&x, buf, cap);
	put_fixed_hdr(&x, xid, RPC_RDMA_VERSION, credits, RPC_RDMA_ERROR);
	xdr_put_u32(&x, RPC_RDMA_ERR_CHUNK);
	return xdr_ok(&x) ? xdr_pos(&x) : 0;
}

/* Callbacks are small (CB_SEQUENCE, CB_RECALL, CB_LAYOUTRECALL) and go
 * inline; daxnfs offers the client no chunks for them (RFC 8167). */
size_t rpc_rdma_encode_bc_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t credits)
{
	struct xdr_stream x;

	xdr_init_encode(&x, buf, cap);
	put_fixed_hdr(&x, xid, RPC_RDMA_VERSION, credits, RPC_RDMA_MSG);
	xdr_put_u32(&x, 0);
	xdr_put_u32(&x, 0);
	xdr_put_u32(&x, 0);
	return xdr_ok(&x) ? xdr_pos(&x) : 0;
}

/* ---- RDMA-CM private data (RFC 8797) ---- */

/* A size as the private data carries it: (size / 1024) - 1 in one byte.
 * Rounding down and clamping only ever advertise less than we have. */
static uint8_t cm_size_code(uint32_t size)
{
	if (size > RPC_RDMA_CM_MAX_INLINE)
		size = RPC_RDMA_CM_MAX_INLINE;
	return (uint8_t)(size / 1024 - 1);
}

size_t rpc_rdma_cm_priv_encode(uint8_t *buf, size_t cap, const struct rpc_rdma_cm_priv *p)
{
	struct xdr_stream x;
	uint8_t rest[4];
	size_t n = 0;

	if (p->send_size < RPC_RDMA_CM_MIN_INLINE || p->recv_size < RPC_RDMA_CM_MIN_INLINE)
		goto out;
	rest[0] = RPC_RDMA_CM_VERSION;
	rest[1] = p->remote_inv ? RPC_RDMA_CM_F_REMOTE_INV : 0;
	rest[2] = cm_size_code(p->send_size);
	rest[3] = cm_size_code(p->recv_size);
	xdr_init_encode(&x, buf, cap);
	xdr_put_u32(&x, RPC_RDMA_CM_MAGIC);
	xdr_put_fixed(&x, rest, sizeof(rest));
	if (xdr_ok(&x))
		n = xdr_pos(&x);
out:
	return n;
}

bool rpc_rdma_cm_priv_decode(const uint8_t *buf, size_t len, struct rpc_rdma_cm_priv *p)
{
	struct xdr_stream x;
	uint32_t magic;
	uint8_t rest[4];
	bool ok = false;

	p->remote_inv = false;
	p->send_size = RPC_RDMA_V1_DEFAULT_INLINE;
	p->recv_size = RPC_RDMA_V1_DEFAULT_INLINE;
	if (!buf)
		goto out;
	xdr_init_decode(&x, buf, len, NULL);
	if (!xdr_get_u32(&x, &magic) || !xdr_get_fixed(&x, rest, sizeof(rest)))
		goto out;
	if (magic != RPC_RDMA_CM_MAGIC || rest[0] != RPC_RDMA_CM_VERSION)
		goto out;
	p->remote_inv = (rest[1] & RPC_RDMA_CM_F_REMOTE_INV) != 0;
	p->send_size = ((uint32_t)rest[2] + 1) * 1024;
	p->recv_size = ((uint32_t)rest[3] + 1) * 1024;
	ok = true;
out:
	return ok;
}
