/*
 * rpc/xdr.c: XDR primitives over a bounded buffer (see xdr.h).
 */
#include "rpc/xdr.h"

#include <string.h>

void xdr_init_decode(struct xdr_stream *x, const void *buf, size_t len, struct arena *arena)
{
	x->buf = (uint8_t *)buf;
	x->len = len;
	x->pos = 0;
	x->arena = arena;
	x->failed = false;
	x->depth = 0;
}

void xdr_init_encode(struct xdr_stream *x, void *buf, size_t cap)
{
	xdr_init_decode(x, buf, cap, NULL);
}

static uint8_t *xdr_take(struct xdr_stream *x, size_t n)
{
	uint8_t *p;

	if (x->failed || n > x->len - x->pos) {
		x->failed = true;
		return NULL;
	}
	p = x->buf + x->pos;
	x->pos += n;
	return p;
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool xdr_get_u32(struct xdr_stream *x, uint32_t *v)
{
	uint8_t *p = xdr_take(x, 4);

	if (!p)
		return false;
	*v = load_be32(p);
	return true;
}

bool xdr_get_i32(struct xdr_stream *x, int32_t *v)
{
	uint32_t u;

	if (!xdr_get_u32(x, &u))
		return false;
	*v = (int32_t)u;
	return true;
}

bool xdr_get_u64(struct xdr_stream *x, uint64_t *v)
{
	uint8_t *p = xdr_take(x, 8);

	if (!p)
		return false;
	*v = (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
	return true;
}

bool xdr_get_i64(struct xdr_stream *x, int64_t *v)
{
	uint64_t u;

	if (!xdr_get_u64(x, &u))
		return false;
	*v = (int64_t)u;
	return true;
}

bool xdr_get_bool(struct xdr_stream *x, bool *v)
{
	uint32_t u;

	if (!xdr_get_u32(x, &u))
		return false;
	if (u > 1) {
		x->failed = true;
		return false;
	}
	*v = u == 1;
	return true;
}

uint8_t *xdr_get_inline(struct xdr_stream *x, size_t n)
{
	size_t padded = XDR_ROUNDUP(n);

	if (padded < n) {
		x->failed = true;
		return NULL;
	}
	return xdr_take(x, padded);
}

bool xdr_get_fixed(struct xdr_stream *x, void *dst, size_t n)
{
	uint8_t *p = xdr_get_inline(x, n);

	if (!p)
		return false;
	if (n)
		memcpy(dst, p, n);
	return true;
}

bool xdr_get_opaque(struct xdr_stream *x, uint32_t max, struct xdr_opaque *o)
{
	uint32_t n;
	uint8_t *p;

	if (!xdr_get_u32(x, &n))
		return false;
	if (max && n > max) {
		x->failed = true;
		return false;
	}
	p = xdr_get_inline(x, n);
	if (!p)
		return false;
	o->len = n;
	o->val = p;
	return true;
}

bool xdr_get_array_len(struct xdr_stream *x, uint32_t max, size_t min_elem_size, uint32_t *n)
{
	if (!xdr_get_u32(x, n))
		return false;
	if ((max && *n > max) ||
	    (min_elem_size && *n > xdr_remaining(x) / min_elem_size)) {
		x->failed = true;
		return false;
	}
	return true;
}

void *xdr_alloc(struct xdr_stream *x, size_t size)
{
	void *p = x->arena ? arena_alloc(x->arena, size) : NULL;

	if (!p)
		x->failed = true;
	return p;
}

bool xdr_put_u32(struct xdr_stream *x, uint32_t v)
{
	uint8_t *p = xdr_take(x, 4);

	if (!p)
		return false;
	store_be32(p, v);
	return true;
}

bool xdr_put_i32(struct xdr_stream *x, int32_t v)
{
	return xdr_put_u32(x, (uint32_t)v);
}

bool xdr_put_u64(struct xdr_stream *x, uint64_t v)
{
	uint8_t *p = xdr_take(x, 8);

	if (!p)
		return false;
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
	return true;
}

bool xdr_put_i64(struct xdr_stream *x, int64_t v)
{
	return xdr_put_u64(x, (uint64_t)v);
}

bool xdr_put_bool(struct xdr_stream *x, bool v)
{
	return xdr_put_u32(x, v ? 1 : 0);
}

uint8_t *xdr_reserve(struct xdr_stream *x, size_t n)
{
	size_t padded = XDR_ROUNDUP(n);
	uint8_t *p;

	if (padded < n) {
		x->failed = true;
		return NULL;
	}
	p = xdr_take(x, padded);
	if (p && padded > n)
		memset(p + n, 0, padded - n);
	return p;
}

void xdr_unreserve(struct xdr_stream *x, uint8_t *p, size_t n, size_t used)
{
	size_t padded_used = XDR_ROUNDUP(used);

	if (x->failed || used > n)
		return;
	x->pos = (size_t)(p - x->buf) + padded_used;
	if (padded_used > used)
		memset(p + used, 0, padded_used - used);
}

bool xdr_put_fixed(struct xdr_stream *x, const void *src, size_t n)
{
	uint8_t *p = xdr_reserve(x, n);

	if (!p)
		return false;
	if (n)
		memcpy(p, src, n);
	return true;
}

bool xdr_put_opaque(struct xdr_stream *x, const void *src, uint32_t len)
{
	return xdr_put_u32(x, len) && xdr_put_fixed(x, src, len);
}

void xdr_patch_u32(struct xdr_stream *x, size_t off, uint32_t v)
{
	if (off + 4 <= x->len)
		store_be32(x->buf + off, v);
}
