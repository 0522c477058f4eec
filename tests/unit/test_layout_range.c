/*
 * tests/unit/test_layout_range.c: layout ranges and a holder's segment set
 * (layout/layout_range.c): the wire's (offset, length) rules of RFC 8881
 * §18.43.3, merging, returns that trim, split and empty segments per iomode,
 * and the bound a hostile client cannot push the set past.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "layout/layout.h"

static struct layout_seg seg(uint64_t start, uint64_t end, layoutiomode4 iomode)
{
	struct layout_seg s = { { start, end }, iomode };

	return s;
}

static struct layout_range range(uint64_t start, uint64_t end)
{
	struct layout_range r = { start, end };

	return r;
}

static void test_wire_ranges(void **state)
{
	struct layout_range r;

	(void)state;
	assert_int_equal(layout_range_from_wire(0, 0, &r), NFS4ERR_INVAL);
	assert_int_equal(layout_range_from_wire(4096, 8192, &r), NFS4_OK);
	assert_true(r.start == 4096 && r.end == 12288);
	assert_true(layout_range_wire_length(&r) == 8192);
	assert_int_equal(layout_range_from_wire(100, NFS4_UINT64_MAX, &r), NFS4_OK);
	assert_true(r.start == 100 && r.end == LAYOUT_END);
	assert_true(layout_range_wire_length(&r) == NFS4_UINT64_MAX);
	/* Past 2^64 − 1 without being "to the end". */
	assert_int_equal(layout_range_from_wire(NFS4_UINT64_MAX - 10, 20, &r), NFS4ERR_INVAL);
	/* A sum of exactly 2^64 is past the limit too (§18.43.3). */
	assert_int_equal(layout_range_from_wire(NFS4_UINT64_MAX - 9, 10, &r), NFS4ERR_INVAL);
	assert_int_equal(layout_range_from_wire(NFS4_UINT64_MAX - 10, 10, &r), NFS4_OK);
}

static void test_overlap_is_half_open(void **state)
{
	struct layout_range a = range(0, 100), b = range(100, 200), c = range(99, 101);

	(void)state;
	assert_false(layout_range_overlaps(&a, &b));
	assert_true(layout_range_overlaps(&a, &c));
	assert_true(layout_range_overlaps(&b, &c));
}

static void test_add_merges_same_iomode_only(void **state)
{
	struct layout_seg_set set = { 0 };
	struct layout_seg s;

	(void)state;
	s = seg(0, 100, LAYOUTIOMODE4_READ);
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	s = seg(100, 200, LAYOUTIOMODE4_READ);   /* touches: merged */
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	assert_int_equal(set.count, 1);
	assert_true(set.segs[0].range.start == 0 && set.segs[0].range.end == 200);
	s = seg(50, 150, LAYOUTIOMODE4_RW);      /* other iomode: its own */
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	assert_int_equal(set.count, 2);
	s = seg(300, 400, LAYOUTIOMODE4_READ);
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	s = seg(150, 350, LAYOUTIOMODE4_READ);   /* bridges two: one */
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	assert_int_equal(set.count, 2);
	assert_true(set.segs[0].range.start == 0 && set.segs[0].range.end == 400);
	assert_int_equal(set.segs[0].iomode, LAYOUTIOMODE4_READ);
	assert_int_equal(set.segs[1].iomode, LAYOUTIOMODE4_RW);
	layout_seg_set_free(&set);
}

static void test_remove_trims_splits_and_empties(void **state)
{
	struct layout_seg_set set = { 0 };
	struct layout_seg s = seg(0, 1000, LAYOUTIOMODE4_RW);
	struct layout_range r;

	(void)state;
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	r = range(400, 600);                     /* a hole: two pieces */
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_RW) == 200);
	assert_int_equal(set.count, 2);
	assert_true(set.segs[0].range.end == 400 && set.segs[1].range.start == 600);
	r = range(0, 100);                       /* the head */
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_ANY) == 100);
	assert_true(set.segs[0].range.start == 100);
	r = range(900, LAYOUT_END);              /* the tail, to the end */
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_RW) == 100);
	assert_true(set.segs[1].range.end == 900);
	r = range(350, 700);                     /* trims one, heads the other */
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_RW) == 150);
	assert_true(set.segs[0].range.start == 100 && set.segs[0].range.end == 350);
	assert_true(set.segs[1].range.start == 700 && set.segs[1].range.end == 900);
	r = range(0, 1000);
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_READ) == 0);   /* wrong iomode */
	assert_int_equal(set.count, 2);
	assert_true(layout_seg_set_overlaps(&set, &r, LAYOUTIOMODE4_RW));
	assert_false(layout_seg_set_overlaps(&set, &r, LAYOUTIOMODE4_READ));
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_ANY) == 450);
	assert_int_equal(set.count, 0);
	assert_false(layout_seg_set_overlaps(&set, &r, LAYOUTIOMODE4_ANY));
	layout_seg_set_free(&set);
}

static void test_unbounded_segment_removed_counts_to_end(void **state)
{
	struct layout_seg_set set = { 0 };
	struct layout_seg s = seg(4096, LAYOUT_END, LAYOUTIOMODE4_READ);
	struct layout_range r = range(0, LAYOUT_END);

	(void)state;
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	assert_true(layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_READ) == LAYOUT_END);
	assert_int_equal(set.count, 0);
	layout_seg_set_free(&set);
}

/* A client asking for many disjoint pieces gets -ENOSPC at the bound; one
 * returning many holes keeps a segment whole at the bound (the server then
 * believes it holds more, never less). */
static void test_bound_holds_against_many_pieces(void **state)
{
	struct layout_seg_set set = { 0 };
	struct layout_seg s;
	struct layout_range r;
	unsigned i;

	(void)state;
	for (i = 0; i < LAYOUT_SEGS_MAX; i++) {
		s = seg(i * 100, i * 100 + 10, LAYOUTIOMODE4_READ);
		assert_int_equal(layout_seg_set_add(&set, &s), 0);
	}
	s = seg(LAYOUT_SEGS_MAX * 100, LAYOUT_SEGS_MAX * 100 + 10, LAYOUTIOMODE4_READ);
	assert_int_equal(layout_seg_set_add(&set, &s), -ENOSPC);
	s = seg(5, 105, LAYOUTIOMODE4_READ);      /* merges two: fits */
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	assert_int_equal(set.count, LAYOUT_SEGS_MAX - 1);
	layout_seg_set_free(&set);

	s = seg(0, 1 << 20, LAYOUTIOMODE4_RW);
	assert_int_equal(layout_seg_set_add(&set, &s), 0);
	for (i = 0; i < 1000; i++) {
		r = range(i * 512 + 100, i * 512 + 200);
		layout_seg_set_remove(&set, &r, LAYOUTIOMODE4_RW);
		assert_true(set.count <= LAYOUT_SEGS_MAX);
	}
	assert_int_equal(set.count, LAYOUT_SEGS_MAX);
	/* Whatever was kept whole still covers the bytes never returned. */
	r = range(1000 * 512, 1 << 20);
	assert_true(layout_seg_set_overlaps(&set, &r, LAYOUTIOMODE4_RW));
	layout_seg_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_ranges),
		cmocka_unit_test(test_overlap_is_half_open),
		cmocka_unit_test(test_add_merges_same_iomode_only),
		cmocka_unit_test(test_remove_trims_splits_and_empties),
		cmocka_unit_test(test_unbounded_segment_removed_counts_to_end),
		cmocka_unit_test(test_bound_holds_against_many_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
