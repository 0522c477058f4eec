/*
 * tests/unit/test_rpc_xdr_gen.c: tools/xdrgen.py on shapes the NFSv4
 * description does not exercise (tests/unit/test_rpc_xdr_selftest.x): the
 * depth guard on nested optional data that is not a list, unsigned
 * discriminants with large labels, a union of void arms, fixed-array
 * typedefs and arrays of them, and an optional typedef.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/xdr_selftest_gen.c"

static size_t put32(uint8_t *p, size_t off, uint32_t v)
{
	p[off] = (uint8_t)(v >> 24);
	p[off + 1] = (uint8_t)(v >> 16);
	p[off + 2] = (uint8_t)(v >> 8);
	p[off + 3] = (uint8_t)v;
	return off + 4;
}

/* A chain of n st_node values as the wire has it: v, present, ..., tail. */
static size_t node_chain(uint8_t *buf, unsigned n)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		off = put32(buf, off, i);
		off = put32(buf, off, i + 1 < n);
	}
	for (unsigned i = 0; i < n; i++)
		off = put32(buf, off, 1000 + i);
	return off;
}

static void test_depth_guard(void **state)
{
	unsigned ok_n = XDRGEN_MAX_DEPTH + 1;   /* root plus 64 nested levels */
	uint8_t *buf = malloc(12 * 100);
	struct xdr_stream x;
	struct arena a;
	st_node root;
	const st_node *p;
	size_t len = 0;
	unsigned n = 0;

	(void)state;
	assert_non_null(buf);
	arena_init(&a, 0);
	len = node_chain(buf, ok_n);
	xdr_init_decode(&x, buf, len, &a);
	assert_true(xdr_dec_st_node(&x, &root));
	assert_int_equal(x.depth, 0);
	assert_int_equal(xdr_pos(&x), len);
	for (p = &root; p; p = p->child, n++) {
		assert_int_equal(p->v, (int32_t)n);
		assert_int_equal(p->tail, (int32_t)(1000 + ok_n - 1 - n));
	}
	assert_int_equal(n, ok_n);

	/* and it re-encodes */
	{
		uint8_t *out = malloc(len);

		assert_non_null(out);
		xdr_init_encode(&x, out, len);
		assert_true(xdr_enc_st_node(&x, &root));
		assert_memory_equal(out, buf, len);
		free(out);
	}

	/* one level deeper fails cleanly */
	len = node_chain(buf, ok_n + 1);
	xdr_init_decode(&x, buf, len, &a);
	assert_false(xdr_dec_st_node(&x, &root));
	assert_false(xdr_ok(&x));
	arena_release(&a);
	free(buf);
}

static void test_unsigned_discriminant(void **state)
{
	uint8_t buf[32];
	struct xdr_stream x;
	st_u u;
	size_t off;

	(void)state;
	off = put32(buf, 0, ST_BIG);
	off = put32(buf, off, 0x01020304);
	off = put32(buf, off, 0x05060708);
	xdr_init_decode(&x, buf, off, NULL);
	assert_true(xdr_dec_st_u(&x, &u));
	assert_int_equal(u.d, 0xfffffff0u);
	assert_int_equal(u.u.b, 0x0102030405060708ll);

	put32(buf, 0, 7);                       /* default: void */
	xdr_init_decode(&x, buf, 4, NULL);
	assert_true(xdr_dec_st_u(&x, &u));
	assert_int_equal(xdr_pos(&x), 4);

	st_bare b;
	put32(buf, 0, (uint32_t)-1);            /* ST_A */
	xdr_init_decode(&x, buf, 4, NULL);
	assert_true(xdr_dec_st_bare(&x, &b));
	assert_int_equal(b.e, ST_A);
	put32(buf, 0, 0);                       /* no arm, no default */
	xdr_init_decode(&x, buf, 4, NULL);
	assert_false(xdr_dec_st_bare(&x, &b));
}

static void test_mixed_roundtrip(void **state)
{
	static st_fixed fl[2] = { { 1, 2, 3 }, { 4, 5, 6 } };
	st_u us[2] = { { .d = 1, .u.a = -5 }, { .d = 9 } };
	st_node leaf = { 7, NULL, 8 };
	uint8_t buf[256], again[256];
	struct xdr_stream x;
	struct arena a;
	st_mix m, d;
	size_t len = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	memcpy(m.f, "abc", 3);
	memcpy(m.g, "xyz", 3);
	m.h[0] = 1; m.h[1] = -2; m.h[2] = 3;
	m.arr[0] = 10; m.arr[1] = 20;
	m.s.len = 5;
	m.s.val = (uint8_t *)"hello";
	m.us.len = 2;
	m.us.val = us;
	m.np = &leaf;
	m.fl.len = 2;
	m.fl.val = fl;
	m.u = 0xdeadbeef;
	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(xdr_enc_st_mix(&x, &m));
	len = xdr_pos(&x);
	/* f[3] pads to 4 with a zero byte */
	assert_memory_equal(buf, "abc\0xyz\0", 8);

	arena_init(&a, 0);
	xdr_init_decode(&x, buf, len, &a);
	assert_true(xdr_dec_st_mix(&x, &d));
	assert_int_equal(xdr_pos(&x), len);
	assert_int_equal(d.h[1], -2);
	assert_int_equal(d.us.val[0].u.a, -5);
	assert_int_equal(d.us.val[1].d, 9);
	assert_non_null(d.np);
	assert_int_equal(d.np->tail, 8);
	assert_int_equal(d.fl.len, 2);
	assert_memory_equal(d.fl.val[1], fl[1], 3);
	assert_int_equal(d.u, 0xdeadbeef);
	xdr_init_encode(&x, again, sizeof(again));
	assert_true(xdr_enc_st_mix(&x, &d));
	assert_int_equal(xdr_pos(&x), len);
	assert_memory_equal(again, buf, len);

	/* string<ST_MAX> with 6 bytes is refused both ways */
	m.s.len = 6;
	m.s.val = (uint8_t *)"hello!";
	xdr_init_encode(&x, again, sizeof(again));
	assert_false(xdr_enc_st_mix(&x, &m));
	put32(buf, 8 + 12 + 8, 6);              /* f, g, h[3], arr[2], then s */
	xdr_init_decode(&x, buf, len, &a);
	assert_false(xdr_dec_st_mix(&x, &d));
	/* us<2> with 3 entries is refused */
	m.s.len = 5;
	m.us.len = 3;
	xdr_init_encode(&x, again, sizeof(again));
	assert_false(xdr_enc_st_mix(&x, &m));
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_guard),
		cmocka_unit_test(test_unsigned_discriminant),
		cmocka_unit_test(test_mixed_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
