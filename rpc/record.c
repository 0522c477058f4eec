/*
 * rpc/record.c: RPC record marking reassembly (see record.h).
 *
 * Growth: a fragment header only claims a size, so the buffer is grown as
 * bytes arrive, at least doubling (a 1 MiB record costs about five copies,
 * none for records up to RPC_REC_FIRST_ALLOC). Within the last fragment the
 * record's size is known and the buffer never grows past it; before that it
 * may grow up to max_record, which keeps many tiny fragments from costing a
 * copy each.
 */
#include "rpc/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rpc_rec_init(struct rpc_recbuf *r, uint32_t max_record)
{
	memset(r, 0, sizeof(*r));
	r->max_record = max_record;
}

bool rpc_rec_partial(const struct rpc_recbuf *r)
{
	return r->hdr_have > 0 || r->in_frag || r->len > 0;
}

size_t rpc_rec_held(const struct rpc_recbuf *r)
{
	return r->cap;
}

void rpc_rec_release(struct rpc_recbuf *r)
{
	free(r->rec);
	r->rec = NULL;
	r->len = 0;
	r->cap = 0;
	r->hdr_have = 0;
	r->in_frag = false;
}

/* Makes room for more bytes after r->len; more never passes the current
 * fragment, whose size was checked against max_record. */
static int rec_reserve(struct rpc_recbuf *r, size_t more)
{
	size_t want = r->len + more, limit, ncap;
	uint8_t *nrec;

	if (want <= r->cap)
		return 0;
	limit = r->last ? r->len + r->frag_left : r->max_record;
	ncap = r->cap ? r->cap * 2 : RPC_REC_FIRST_ALLOC;
	if (ncap > limit)
		ncap = limit;
	if (ncap < want)
		ncap = want;
	nrec = realloc(r->rec, ncap);
	if (!nrec)
		return -ENOMEM;
	r->rec = nrec;
	r->cap = ncap;
	return 0;
}

long rpc_rec_direct_room(struct rpc_recbuf *r, uint8_t **where)
{
	size_t room;

	*where = NULL;
	/* Nothing before a record's first bytes: those come through
	 * rpc_rec_feed, so a header's claim alone still buys no memory. */
	if (!r->in_frag || r->frag_left == 0 || r->cap == 0)
		return 0;
	/* At least half of RPC_REC_FIRST_ALLOC of room (or the rest of the
	 * fragment, when less), grown in rpc_rec_feed's steps: a read of the
	 * socket never comes back for a few bytes, and the buffer stays within
	 * one step of the bytes that came (at most twice them plus
	 * RPC_REC_FIRST_ALLOC). */
	if (rec_reserve(r, r->frag_left < RPC_REC_FIRST_ALLOC / 2 ? r->frag_left
								   : RPC_REC_FIRST_ALLOC / 2) < 0)
		return -ENOMEM;
	room = r->cap - r->len;
	if (room > r->frag_left)
		room = r->frag_left;
	*where = r->rec + r->len;
	return (long)room;
}

int rpc_rec_direct_done(struct rpc_recbuf *r, size_t n, rpc_rec_emit_fn emit, void *ctx)
{
	r->len += n;
	r->frag_left -= (uint32_t)n;
	/* a fragment that ended here: rpc_rec_feed with no bytes ends it (and
	 * the record, when it was the last) */
	return r->frag_left == 0 ? rpc_rec_feed(r, NULL, 0, emit, ctx) : 0;
}

int rpc_rec_feed(struct rpc_recbuf *r, const uint8_t *data, size_t n,
		 rpc_rec_emit_fn emit, void *ctx)
{
	uint32_t mark, flen;
	size_t take;
	int rc;

	while (n > 0 || (r->in_frag && r->frag_left == 0)) {
		if (!r->in_frag) {
			take = 4 - r->hdr_have;
			if (take > n)
				take = n;
			memcpy(r->hdr + r->hdr_have, data, take);
			r->hdr_have += (unsigned)take;
			data += take;
			n -= take;
			if (r->hdr_have < 4)
				return 0;
			r->hdr_have = 0;
			mark = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
			       (uint32_t)r->hdr[2] << 8 | r->hdr[3];
			flen = mark & ~RPC_REC_LAST_FRAG;
			/* refuse before allocating: the size is only the peer's claim */
			if (flen > r->max_record || r->len > r->max_record - flen)
				return -EMSGSIZE;
			r->frag_left = flen;
			r->last = (mark & RPC_REC_LAST_FRAG) != 0;
			r->in_frag = true;
		}
		take = r->frag_left < n ? r->frag_left : n;
		if (take) {
			rc = rec_reserve(r, take);
			if (rc < 0)
				return rc;
			memcpy(r->rec + r->len, data, take);
			r->len += take;
			r->frag_left -= (uint32_t)take;
			data += take;
			n -= take;
		}
		if (r->frag_left > 0)
			return 0;
		r->in_frag = false;
		if (!r->last)
			continue;
		r->records++;
		if (r->len > 0)
			emit(ctx, r->rec, r->len);
		else
			free(r->rec);
		r->rec = NULL;
		r->len = 0;
		r->cap = 0;
	}
	return 0;
}
