/*
 * tests/unit/test_rpc_rdma_credits.c: RPC-over-RDMA version 1 credit
 * accounting (rpc/rpcrdma_credits.c, RFC 8166 §3.3): a grant is never 0
 * and never more than the Receives posted, follows what the requester
 * asks for; before any reply the requester may have one call outstanding
 * (§3.3.3); a requester past every grant is reported, and replies bring
 * the count back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpc/rpcrdma.h"

/* One call answered at once, as a requester with one call at a time. */
static uint32_t call_and_reply(struct rpc_rdma_credits *c, uint32_t requested)
{
	uint32_t g;

	assert_true(rpc_rdma_credits_on_call(c, requested));
	g = rpc_rdma_credits_grant(c);
	rpc_rdma_credits_on_reply(c);
	return g;
}

static void test_credits_grant_never_zero(void **state)
{
	struct rpc_rdma_credits c;

	rpc_rdma_credits_init(&c, 32);
	assert_int_equal(call_and_reply(&c, 0), 1);
	/* no Receives posted: the grant still is not 0 */
	rpc_rdma_credits_init(&c, 0);
	assert_int_equal(call_and_reply(&c, 0), 1);
	assert_int_equal(call_and_reply(&c, 100), 1);
}

static void test_credits_grant_follows_request_within_receives(void **state)
{
	struct rpc_rdma_credits c;

	rpc_rdma_credits_init(&c, 32);
	assert_int_equal(call_and_reply(&c, 8), 8);
	assert_int_equal(call_and_reply(&c, 128), 32);
	assert_int_equal(call_and_reply(&c, 32), 32);
	assert_int_equal(call_and_reply(&c, 2), 2);
	assert_int_equal(c.granted_max, 32);
	assert_int_equal(c.outstanding, 0);
	assert_int_equal(c.violations, 0);
}

/* §3.3.3: until a reply grants more, one call at a time. */
static void test_credits_one_call_before_first_reply(void **state)
{
	struct rpc_rdma_credits c;

	rpc_rdma_credits_init(&c, 32);
	assert_true(rpc_rdma_credits_on_call(&c, 32));
	assert_false(rpc_rdma_credits_on_call(&c, 32));
	assert_int_equal(c.violations, 1);
	assert_int_equal(c.outstanding, 2);
}

/* Granted 4: four calls in flight are fine, a fifth is reported; a reply
 * makes room again. */
static void test_credits_overrun_reported_and_release_restores(void **state)
{
	struct rpc_rdma_credits c;
	unsigned i;

	rpc_rdma_credits_init(&c, 16);
	assert_int_equal(call_and_reply(&c, 4), 4);
	for (i = 0; i < 4; i++)
		assert_true(rpc_rdma_credits_on_call(&c, 4));
	assert_false(rpc_rdma_credits_on_call(&c, 4));
	assert_int_equal(c.violations, 1);
	assert_int_equal(c.outstanding, 5);
	rpc_rdma_credits_on_reply(&c);
	rpc_rdma_credits_on_reply(&c);
	assert_int_equal(c.outstanding, 3);
	assert_true(rpc_rdma_credits_on_call(&c, 4));
	assert_int_equal(c.violations, 1);
	/* a reply without a call does not go below 0 */
	rpc_rdma_credits_init(&c, 16);
	rpc_rdma_credits_on_reply(&c);
	assert_int_equal(c.outstanding, 0);
}

/* A smaller grant after a larger one: calls the requester sent under the
 * larger one, before it saw the smaller, are no violation. */
static void test_credits_shrinking_grant_is_not_an_overrun(void **state)
{
	struct rpc_rdma_credits c;
	unsigned i;

	rpc_rdma_credits_init(&c, 16);
	assert_int_equal(call_and_reply(&c, 16), 16);
	for (i = 0; i < 10; i++)
		assert_true(rpc_rdma_credits_on_call(&c, 2));
	assert_int_equal(rpc_rdma_credits_grant(&c), 2);
	rpc_rdma_credits_on_reply(&c);
	assert_true(rpc_rdma_credits_on_call(&c, 2));
	assert_int_equal(c.violations, 0);
	/* but never past the largest grant */
	for (i = 0; i < 6; i++)
		assert_true(rpc_rdma_credits_on_call(&c, 2));
	assert_false(rpc_rdma_credits_on_call(&c, 2));
	assert_int_equal(c.violations, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credits_grant_never_zero),
		cmocka_unit_test(test_credits_grant_follows_request_within_receives),
		cmocka_unit_test(test_credits_one_call_before_first_reply),
		cmocka_unit_test(test_credits_overrun_reported_and_release_restores),
		cmocka_unit_test(test_credits_shrinking_grant_is_not_an_overrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
