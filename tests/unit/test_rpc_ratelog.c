/*
 * tests/unit/test_rpc_ratelog.c: once-per-interval event counts
 * (rpc/ratelog.c): the first event is reported at once, a burst within the
 * interval is reported as one count when the interval has passed (or when
 * flushed at shutdown), nothing is lost and nothing is reported twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpc/ratelog.h"

static void test_ratelog_first_event_reported_at_once(void **state)
{
	struct rpc_ratelog r;

	rpc_ratelog_init(&r, 10000);
	assert_int_equal(rpc_ratelog_count(&r, 0, 5), 0);   /* nothing happened */
	assert_int_equal(rpc_ratelog_count(&r, 1, 5), 1);
	assert_int_equal(rpc_ratelog_count(&r, 0, 6), 0);
}

static void test_ratelog_burst_is_one_line_per_interval(void **state)
{
	struct rpc_ratelog r;
	uint64_t reported = 0, lines = 0, due;
	int64_t t;

	rpc_ratelog_init(&r, 10000);
	/* a million events over 25 s, checked every millisecond as a loop would */
	for (t = 1000; t < 26000; t++) {
		due = rpc_ratelog_count(&r, 40, t);
		if (due) {
			lines++;
			reported += due;
		}
	}
	assert_int_equal(lines, 3);   /* at 1 s, 11 s, 21 s */
	due = rpc_ratelog_count(&r, 0, 31000);   /* the rest, at the next interval */
	assert_int_equal(reported + due, 40 * 25000);
	assert_int_equal(rpc_ratelog_count(&r, 0, 50000), 0);
}

/* What is still pending can be taken at once (at shutdown), and only once. */
static void test_ratelog_flush_takes_pending(void **state)
{
	struct rpc_ratelog r;

	rpc_ratelog_init(&r, 10000);
	assert_int_equal(rpc_ratelog_count(&r, 1, 100), 1);
	assert_int_equal(rpc_ratelog_count(&r, 7, 200), 0);
	assert_int_equal(rpc_ratelog_flush(&r), 7);
	assert_int_equal(rpc_ratelog_flush(&r), 0);
	assert_int_equal(rpc_ratelog_count(&r, 0, 20000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelog_first_event_reported_at_once),
		cmocka_unit_test(test_ratelog_burst_is_one_line_per_interval),
		cmocka_unit_test(test_ratelog_flush_takes_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
