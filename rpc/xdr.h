/*
 * rpc/xdr.h: XDR (RFC 4506) primitives over a bounded buffer.
 *
 * Job: the only place that touches raw XDR bytes. Every getter checks the
 * remaining length before it reads; every putter checks the capacity before it
 * writes; a failure leaves the stream marked failed so that a long chain of
 * calls can be checked once at the end (xdr_ok). Variable-length opaques are
 * decoded *in place* (val points into the receive buffer, which outlives the
 * request); arrays are allocated from the request's arena after their length
 * has been checked against what remains, so a hostile length cannot make us
 * allocate more than the message could hold.
 * Calls: rpc/arena. Called by: rpc/ (RPC headers), the generated NFSv4 codecs
 * (build/rpc/nfs4_xdr_gen.[ch]), server/ for hand-written hot paths.
 */
#ifndef DAXNFS_RPC_XDR_H
#define DAXNFS_RPC_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/arena.h"

#define XDR_UNIT 4u
#define XDR_PAD(n) ((4u - ((n) & 3u)) & 3u)
#define XDR_ROUNDUP(n) (((n) + 3u) & ~(size_t)3u)

struct xdr_stream {
	uint8_t *buf;
	size_t len;            /* decode: bytes of data; encode: capacity */
	size_t pos;
	struct arena *arena;   /* decode: where arrays and pointed-to items go */
	bool failed;           /* sticky: a get past the end or a put past capacity */
	unsigned depth;        /* recursion guard for nested optional data */
};

/* The generic variable-length opaque/string: val points into the buffer. */
struct xdr_opaque {
	uint32_t len;
	uint8_t *val;
};

void xdr_init_decode(struct xdr_stream *x, const void *buf, size_t len, struct arena *arena);
void xdr_init_encode(struct xdr_stream *x, void *buf, size_t cap);

static inline size_t xdr_remaining(const struct xdr_stream *x)
{
	return x->failed ? 0 : x->len - x->pos;
}
static inline bool xdr_ok(const struct xdr_stream *x) { return !x->failed; }
static inline size_t xdr_pos(const struct xdr_stream *x) { return x->pos; }

/* Decode. All return false (and mark the stream failed) on short input. */
bool xdr_get_u32(struct xdr_stream *x, uint32_t *v);
bool xdr_get_i32(struct xdr_stream *x, int32_t *v);
bool xdr_get_u64(struct xdr_stream *x, uint64_t *v);
bool xdr_get_i64(struct xdr_stream *x, int64_t *v);
bool xdr_get_bool(struct xdr_stream *x, bool *v);          /* only 0 or 1 accepted */
bool xdr_get_fixed(struct xdr_stream *x, void *dst, size_t n);   /* opaque[n] + pad */
/* opaque<max> / string<max>: in place; max 0 means unbounded (2^32-1). */
bool xdr_get_opaque(struct xdr_stream *x, uint32_t max, struct xdr_opaque *o);
/* Array length for T<max>, checked so that n * min_elem_size fits what remains. */
bool xdr_get_array_len(struct xdr_stream *x, uint32_t max, size_t min_elem_size, uint32_t *n);
/* Points at the next n bytes (plus padding) and skips them. */
uint8_t *xdr_get_inline(struct xdr_stream *x, size_t n);
/* Arena allocation on behalf of a decoder; fails the stream on OOM. */
void *xdr_alloc(struct xdr_stream *x, size_t size);

/* Encode. All return false (and mark the stream failed) past capacity. */
bool xdr_put_u32(struct xdr_stream *x, uint32_t v);
bool xdr_put_i32(struct xdr_stream *x, int32_t v);
bool xdr_put_u64(struct xdr_stream *x, uint64_t v);
bool xdr_put_i64(struct xdr_stream *x, int64_t v);
bool xdr_put_bool(struct xdr_stream *x, bool v);
bool xdr_put_fixed(struct xdr_stream *x, const void *src, size_t n);
bool xdr_put_opaque(struct xdr_stream *x, const void *src, uint32_t len);
static inline bool xdr_put_xopaque(struct xdr_stream *x, const struct xdr_opaque *o)
{
	return xdr_put_opaque(x, o->val, o->len);
}
/* Reserves n bytes (plus zeroed padding) to be filled in place; NULL past capacity. */
uint8_t *xdr_reserve(struct xdr_stream *x, size_t n);
/* Gives back the unused tail of the last xdr_reserve (n bytes were reserved, used were filled). */
void xdr_unreserve(struct xdr_stream *x, uint8_t *p, size_t n, size_t used);
/* Overwrites a u32 already written at byte offset off (for back-patched counts). */
void xdr_patch_u32(struct xdr_stream *x, size_t off, uint32_t v);

#endif
