/*
 * tests/unit/test_layout_recall.c: the recall timeline of layout/
 * (layout_recall.c, layout_domain.c) against the up-call table it reports
 * through, recorded here: a cooperating holder's return completes the
 * recall; one that ignores it is revoked at the deadline (fenced, told,
 * counted) while another file's recall completes; the deadline is
 * min(now + Recall_Timeout, break − Revoke_Margin); new layouts over the
 * recalled range meet RECALLCONFLICT during a recall, from anyone; a configuration whose
 * revoke could not come before the lease break is refused by name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "layout/layout.h"

/* What the up-calls and the type saw. */
static struct {
	unsigned sends, revoked, completes, fences;
	struct layout_holder *last_sent, *last_revoked, *last_fenced;
	struct layout_file *last_complete;
	bool last_changed;
} seen;

static void rec_recall_send(void *ctx, struct layout_file *lf, struct layout_holder *h, bool changed)
{
	(void)ctx;
	(void)lf;
	seen.sends++;
	seen.last_sent = h;
	seen.last_changed = changed;
}

static void rec_holder_revoked(void *ctx, struct layout_file *lf, struct layout_holder *h)
{
	(void)ctx;
	(void)lf;
	seen.revoked++;
	seen.last_revoked = h;
}

static void rec_recall_complete(void *ctx, struct layout_file *lf)
{
	(void)ctx;
	seen.completes++;
	seen.last_complete = lf;
}

static void rec_fence(void *type_ctx, struct layout_holder *h)
{
	(void)type_ctx;
	seen.fences++;
	seen.last_fenced = h;
}

static const struct layout_upcalls rec_up = {
	.recall_send = rec_recall_send,
	.holder_revoked = rec_holder_revoked,
	.recall_complete = rec_recall_complete,
};

static const struct layout_type_ops rec_type = {
	.type = LAYOUT4_FLEX_FILES,
	.name = "recorded",
	.fence = rec_fence,
};

static struct layout_domain d;

static int setup(void **state)
{
	const char *bad = "x";

	(void)state;
	memset(&seen, 0, sizeof(seen));
	/* Recall_Timeout 30 s, Revoke_Margin 5 s, lease-break-time 45 s. */
	if (layout_domain_init(&d, &rec_up, NULL, 30000, 5000, 45000, &bad) != 0 || bad)
		return -1;
	return layout_domain_add_type(&d, &rec_type, NULL);
}

static struct layout_seg seg(uint64_t start, uint64_t end, layoutiomode4 iomode)
{
	struct layout_seg s = { { start, end }, iomode };

	return s;
}

static void test_config_refused_by_name(void **state)
{
	struct layout_domain x;
	const char *bad;
	void *ctx;

	(void)state;
	assert_int_equal(layout_domain_init(&x, &rec_up, NULL, 0, 5000, 45000, &bad), -EINVAL);
	assert_string_equal(bad, "Recall_Timeout");
	assert_int_equal(layout_domain_init(&x, &rec_up, NULL, 30000, 45000, 45000, &bad), -EINVAL);
	assert_string_equal(bad, "Revoke_Margin");
	assert_int_equal(layout_domain_init(&x, &rec_up, NULL, 30000, 0, 45000, &bad), -EINVAL);
	assert_string_equal(bad, "Revoke_Margin");
	assert_int_equal(layout_domain_init(&x, &rec_up, NULL, 30000, 1000, 2000, &bad), 0);
	assert_null(bad);
	assert_int_equal(layout_domain_add_type(&x, &rec_type, NULL), 0);
	assert_int_equal(layout_domain_add_type(&x, &rec_type, NULL), -EEXIST);
	assert_ptr_equal(layout_domain_type(&x, LAYOUT4_FLEX_FILES, &ctx), &rec_type);
	assert_null(layout_domain_type(&x, LAYOUT4_BLOCK_VOLUME, &ctx));
}

static void test_deadline_is_the_earlier_of_timeout_and_break(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder h;
	struct layout_seg all = seg(0, LAYOUT_END, LAYOUTIOMODE4_ANY), rw = seg(0, 4096, LAYOUTIOMODE4_RW);

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &h, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &h, &rw), NFS4_OK);
	/* A conflicting operation (no lease break): now + Recall_Timeout. */
	assert_int_equal(layout_recall_start(&d, &lf, &all, true, 1000, 0), 1);
	assert_true(lf.deadline_ms == 31000);
	assert_true(seen.last_changed);
	/* A lease break due at 20 s: 20 s − margin, earlier than 31 s. */
	assert_int_equal(layout_recall_start(&d, &lf, &all, false, 2000, 20000), 1);
	assert_true(lf.deadline_ms == 15000);
	/* A later break never pushes the deadline out. */
	assert_int_equal(layout_recall_start(&d, &lf, &all, false, 3000, 90000), 1);
	assert_true(lf.deadline_ms == 15000);
	assert_int_equal(seen.sends, 1);   /* asked once: nothing more to ask for */
	layout_holder_detach(&d, &h);
	assert_int_equal(seen.completes, 1);
	layout_file_free(&lf);
}

static void test_cooperating_holders_complete_the_recall(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder a, b, c;
	struct layout_seg rw = seg(0, 1 << 20, LAYOUTIOMODE4_RW), rd = seg(0, 1 << 20, LAYOUTIOMODE4_READ);
	struct layout_seg all = seg(0, LAYOUT_END, LAYOUTIOMODE4_ANY);
	struct layout_range whole = { 0, LAYOUT_END };

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &a, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_holder_attach(&lf, &b, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_holder_attach(&lf, &c, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &a, &rw), NFS4_OK);
	assert_int_equal(layout_grant(&d, &b, &rd), NFS4_OK);
	assert_int_equal(layout_recall_start(&d, &lf, &all, false, 0, 45000), 2);
	assert_int_equal(seen.sends, 2);
	assert_int_equal(lf.state, LAYOUT_RECALL_RECALLING);
	/* While it runs: RECALLCONFLICT for the recalled holder and for others. */
	assert_int_equal(layout_grant(&d, &a, &rw), NFS4ERR_RECALLCONFLICT);
	assert_int_equal(layout_grant(&d, &c, &rd), NFS4ERR_RECALLCONFLICT);
	assert_int_equal(layout_return(&d, &a, &whole, LAYOUTIOMODE4_ANY), NFS4_OK);
	assert_int_equal(a.state, LAYOUT_RECALL_RETURNED);
	assert_int_equal(seen.completes, 0);
	assert_int_equal(layout_return(&d, &b, &whole, LAYOUTIOMODE4_READ), NFS4_OK);
	assert_int_equal(seen.completes, 1);
	assert_ptr_equal(seen.last_complete, &lf);
	assert_int_equal(lf.state, LAYOUT_RECALL_NONE);
	assert_int_equal(a.state, LAYOUT_RECALL_NONE);
	/* Nobody was revoked; the deadline passing changes nothing now. */
	assert_int_equal(layout_recall_expire(&d, &lf, 100000), 0);
	assert_int_equal(seen.revoked + seen.fences, 0);
	/* And layouts are handed out again. */
	assert_int_equal(layout_grant(&d, &c, &rd), NFS4_OK);
	layout_holder_detach(&d, &a);
	layout_holder_detach(&d, &b);
	layout_holder_detach(&d, &c);
	assert_int_equal(seen.fences, 1);   /* c still held its segment */
	assert_int_equal(lf.nholders, 0);
	layout_file_free(&lf);
}

static void test_ignoring_holder_is_revoked_at_the_deadline(void **state)
{
	struct layout_file f1 = { 0 }, f2 = { 0 };
	struct layout_holder ignores, cooperates;
	struct layout_seg rw = seg(0, 65536, LAYOUTIOMODE4_RW), all = seg(0, LAYOUT_END, LAYOUTIOMODE4_ANY);
	struct layout_range whole = { 0, LAYOUT_END };

	(void)state;
	assert_int_equal(layout_holder_attach(&f1, &ignores, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_holder_attach(&f2, &cooperates, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &ignores, &rw), NFS4_OK);
	assert_int_equal(layout_grant(&d, &cooperates, &rw), NFS4_OK);
	assert_int_equal(layout_recall_start(&d, &f1, &all, false, 0, 10000), 1);
	assert_int_equal(layout_recall_start(&d, &f2, &all, false, 0, 10000), 1);
	assert_true(f1.deadline_ms == 5000);
	/* The other file's holder returns meanwhile: its recall is done. */
	assert_int_equal(layout_return(&d, &cooperates, &whole, LAYOUTIOMODE4_ANY), NFS4_OK);
	assert_int_equal(seen.completes, 1);
	assert_ptr_equal(seen.last_complete, &f2);
	/* One millisecond before the deadline: nothing. */
	assert_int_equal(layout_recall_expire(&d, &f1, 4999), 0);
	assert_int_equal(seen.revoked, 0);
	assert_int_equal(layout_recall_expire(&d, &f1, 5000), 1);
	assert_int_equal(seen.revoked, 1);
	assert_ptr_equal(seen.last_revoked, &ignores);
	assert_int_equal(seen.fences, 1);
	assert_ptr_equal(seen.last_fenced, &ignores);
	assert_true(d.revocations == 1);
	assert_int_equal(seen.completes, 2);
	assert_int_equal(f1.state, LAYOUT_RECALL_NONE);
	assert_int_equal(ignores.state, LAYOUT_RECALL_REVOKED);
	assert_int_equal(ignores.segs.count, 0);
	/* The revoked holder's stateid is dead for layout operations. */
	assert_int_equal(layout_grant(&d, &ignores, &rw), NFS4ERR_BAD_STATEID);
	assert_int_equal(layout_return(&d, &ignores, &whole, LAYOUTIOMODE4_ANY), NFS4ERR_BAD_STATEID);
	/* Freeing it (FREE_STATEID) fences nothing more. */
	layout_holder_detach(&d, &ignores);
	layout_holder_detach(&d, &cooperates);
	assert_int_equal(seen.fences, 1);
	layout_file_free(&f1);
	layout_file_free(&f2);
}

static void test_recall_of_a_range_nobody_holds(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder h;
	struct layout_seg rd = seg(0, 4096, LAYOUTIOMODE4_READ);
	struct layout_seg far = seg(1 << 20, 2 << 20, LAYOUTIOMODE4_ANY);
	struct layout_seg rw_recall = seg(0, LAYOUT_END, LAYOUTIOMODE4_RW);

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &h, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &h, &rd), NFS4_OK);
	assert_int_equal(layout_recall_start(&d, &lf, &far, false, 0, 0), 0);
	assert_int_equal(layout_recall_start(&d, &lf, &rw_recall, false, 0, 0), 0);
	assert_int_equal(lf.state, LAYOUT_RECALL_NONE);
	assert_int_equal(seen.sends + seen.completes, 0);
	layout_holder_detach(&d, &h);
	layout_file_free(&lf);
}

/* A partial return that leaves segments outside the recalled range settles
 * the holder; a holder that goes away (client expiry) settles it too. */
static void test_partial_return_and_detach_settle(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder a, b;
	struct layout_seg big = seg(0, 1 << 20, LAYOUTIOMODE4_RW), head = seg(0, 4096, LAYOUTIOMODE4_ANY);
	struct layout_range head_range = { 0, 4096 }, rest = { 4096, 1 << 20 };

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &a, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_holder_attach(&lf, &b, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &a, &big), NFS4_OK);
	assert_int_equal(layout_grant(&d, &b, &big), NFS4_OK);
	assert_int_equal(layout_recall_start(&d, &lf, &head, true, 0, 0), 2);
	/* Outside the recalled range layouts are still handed out. */
	struct layout_seg outside = seg(8192, 16384, LAYOUTIOMODE4_RW);
	assert_int_equal(layout_grant(&d, &a, &outside), NFS4_OK);
	assert_int_equal(layout_return(&d, &a, &head_range, LAYOUTIOMODE4_RW), NFS4_OK);
	assert_int_equal(a.state, LAYOUT_RECALL_RETURNED);
	assert_true(layout_seg_set_overlaps(&a.segs, &rest, LAYOUTIOMODE4_RW));
	layout_holder_detach(&d, &b);          /* its client expired */
	assert_int_equal(seen.fences, 1);
	assert_int_equal(seen.completes, 1);
	assert_int_equal(lf.state, LAYOUT_RECALL_NONE);
	layout_holder_detach(&d, &a);
	layout_file_free(&lf);
}

/* A holder drawn into a recall that is nearly over gets its own
 * Recall_Timeout, except past the earliest lease break − margin. */
static void test_late_holder_gets_its_full_time(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder a, b;
	struct layout_seg first = seg(0, 4096, LAYOUTIOMODE4_RW), second = seg(8192, 12288, LAYOUTIOMODE4_RW);

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &a, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_holder_attach(&lf, &b, LAYOUT4_FLEX_FILES), 0);
	assert_int_equal(layout_grant(&d, &a, &first), NFS4_OK);
	assert_int_equal(layout_grant(&d, &b, &second), NFS4_OK);
	assert_int_equal(layout_recall_start(&d, &lf, &first, false, 0, 0), 1);
	assert_true(lf.deadline_ms == 30000);
	/* b is asked 29 s in: everyone's deadline moves to 59 s. */
	assert_int_equal(layout_recall_start(&d, &lf, &second, false, 29000, 0), 2);
	assert_true(lf.deadline_ms == 59000);
	assert_int_equal(seen.sends, 2);
	/* Asking again for what was asked changes nothing. */
	assert_int_equal(layout_recall_start(&d, &lf, &second, false, 40000, 0), 2);
	assert_true(lf.deadline_ms == 59000);
	/* A lease break due at 50 s caps it at 45 s, for good. */
	assert_int_equal(layout_recall_start(&d, &lf, &first, false, 41000, 50000), 2);
	assert_true(lf.deadline_ms == 45000);
	assert_int_equal(layout_recall_expire(&d, &lf, 45000), 2);
	assert_int_equal(lf.state, LAYOUT_RECALL_NONE);
	assert_true(lf.break_limit_ms == 0);
	layout_holder_detach(&d, &a);
	layout_holder_detach(&d, &b);
	layout_file_free(&lf);
}

/* A holder whose segment set is full returns exactly the recalled hole:
 * the set keeps the segment whole (layout_range.c), but the return covers
 * the recall, so the holder is settled, not revoked. */
static void test_return_of_the_recalled_range_settles_a_full_set(void **state)
{
	struct layout_file lf = { 0 };
	struct layout_holder h;
	struct layout_seg s, hole = seg(400, 600, LAYOUTIOMODE4_RW);
	struct layout_range hole_range = { 400, 600 };
	unsigned i;

	(void)state;
	assert_int_equal(layout_holder_attach(&lf, &h, LAYOUT4_FLEX_FILES), 0);
	s = seg(0, 1000, LAYOUTIOMODE4_RW);
	assert_int_equal(layout_grant(&d, &h, &s), NFS4_OK);
	for (i = 1; i < LAYOUT_SEGS_MAX; i++) {
		s = seg(i * 10000, i * 10000 + 10, LAYOUTIOMODE4_READ);
		assert_int_equal(layout_grant(&d, &h, &s), NFS4_OK);
	}
	assert_int_equal(h.segs.count, LAYOUT_SEGS_MAX);
	s = seg(LAYOUT_SEGS_MAX * 10000, LAYOUT_SEGS_MAX * 10000 + 10, LAYOUTIOMODE4_READ);
	assert_int_equal(layout_grant(&d, &h, &s), NFS4ERR_LAYOUTTRYLATER);
	assert_int_equal(layout_recall_start(&d, &lf, &hole, false, 0, 0), 1);
	assert_int_equal(layout_return(&d, &h, &hole_range, LAYOUTIOMODE4_RW), NFS4_OK);
	assert_int_equal(h.segs.count, LAYOUT_SEGS_MAX);   /* kept whole */
	assert_int_equal(seen.completes, 1);
	assert_int_equal(layout_recall_expire(&d, &lf, 1000000), 0);
	assert_int_equal(seen.revoked, 0);
	/* iomode ANY is for returns and recalls, never for a segment. */
	s = seg(0, 10, LAYOUTIOMODE4_ANY);
	assert_int_equal(layout_grant(&d, &h, &s), NFS4ERR_BADIOMODE);
	layout_holder_detach(&d, &h);
	layout_file_free(&lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_refused_by_name, setup),
		cmocka_unit_test_setup(test_deadline_is_the_earlier_of_timeout_and_break, setup),
		cmocka_unit_test_setup(test_cooperating_holders_complete_the_recall, setup),
		cmocka_unit_test_setup(test_ignoring_holder_is_revoked_at_the_deadline, setup),
		cmocka_unit_test_setup(test_recall_of_a_range_nobody_holds, setup),
		cmocka_unit_test_setup(test_partial_return_and_detach_settle, setup),
		cmocka_unit_test_setup(test_late_holder_gets_its_full_time, setup),
		cmocka_unit_test_setup(test_return_of_the_recalled_range_settles_a_full_set, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
