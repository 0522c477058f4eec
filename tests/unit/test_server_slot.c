/*
 * tests/unit/test_server_slot.c: the session slot table and reply cache
 * (server/nfs4_slot.c) against RFC 8881 §2.10.6.1: first seqid 1, replay of a
 * cached reply, RETRY_UNCACHED_REP, SEQ_FALSE_RETRY, SEQ_MISORDERED, DELAY
 * while busy, BADSLOT, and sequence id wrap-around.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/nfs4_slot.h"

static struct nfs4_slot_table t;

static int setup(void **state)
{
	(void)state;
	return nfs4_slot_table_init(&t, 4);
}

static int teardown(void **state)
{
	(void)state;
	nfs4_slot_table_free(&t);
	return 0;
}

static nfsstat4 check(slotid4 slot, sequenceid4 seq, uint64_t hash, enum nfs4_slot_verdict *v,
		      struct nfs4_slot **s)
{
	return nfs4_slot_check(&t, slot, seq, hash, v, s);
}

static void test_first_request_must_be_seqid_1(void **state)
{
	enum nfs4_slot_verdict v;
	struct nfs4_slot *s;

	(void)state;
	assert_int_equal(check(0, 0, 1, &v, &s), NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(check(0, 2, 1, &v, &s), NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(check(0, 1, 1, &v, &s), NFS4_OK);
	assert_int_equal(v, NFS4_SLOT_NEW);
	nfs4_slot_done(s, "abc", 3, false);
}

static void test_cached_reply_is_replayed(void **state)
{
	enum nfs4_slot_verdict v;
	struct nfs4_slot *s;

	(void)state;
	assert_int_equal(check(1, 1, 77, &v, &s), NFS4_OK);
	nfs4_slot_done(s, "reply-bytes", 11, true);
	assert_int_equal(check(1, 1, 77, &v, &s), NFS4_OK);
	assert_int_equal(v, NFS4_SLOT_REPLAY);
	assert_int_equal(s->reply_len, 11);
	assert_memory_equal(s->reply, "reply-bytes", 11);
	/* the slot is busy while the replay is sent */
	assert_int_equal(check(1, 1, 77, &v, &s), NFS4ERR_DELAY);
	nfs4_slot_done(s, NULL, 0, false);
	/* a replay does not change the cache */
	assert_int_equal(check(1, 1, 77, &v, &s), NFS4_OK);
	assert_int_equal(v, NFS4_SLOT_REPLAY);
	nfs4_slot_done(s, NULL, 0, false);
	/* a different request with the same seqid is a false retry */
	assert_int_equal(check(1, 1, 78, &v, &s), NFS4ERR_SEQ_FALSE_RETRY);
	/* the next seqid drops the old reply */
	assert_int_equal(check(1, 2, 5, &v, &s), NFS4_OK);
	assert_int_equal(v, NFS4_SLOT_NEW);
	assert_null(s->reply);
	nfs4_slot_done(s, "x", 1, false);
	assert_int_equal(check(1, 2, 5, &v, &s), NFS4ERR_RETRY_UNCACHED_REP);
}

static void test_busy_slot_and_misordered(void **state)
{
	enum nfs4_slot_verdict v;
	struct nfs4_slot *s, *s2;

	(void)state;
	assert_int_equal(check(2, 1, 9, &v, &s), NFS4_OK);
	/* the original still executing: a retry waits */
	assert_int_equal(check(2, 1, 9, &v, &s2), NFS4ERR_DELAY);
	nfs4_slot_done(s, "r", 1, true);
	assert_int_equal(check(2, 3, 9, &v, &s2), NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(check(2, 0, 9, &v, &s2), NFS4ERR_SEQ_MISORDERED);
	assert_int_equal(check(4, 1, 9, &v, &s2), NFS4ERR_BADSLOT);
	assert_int_equal(check(0xffffffffu, 1, 9, &v, &s2), NFS4ERR_BADSLOT);
}

static void test_seqid_wraps(void **state)
{
	enum nfs4_slot_verdict v;
	struct nfs4_slot *s;

	(void)state;
	s = &t.slots[3];
	s->used = true;
	s->seqid = 0xffffffffu;
	assert_int_equal(check(3, 0, 1, &v, &s), NFS4_OK);
	assert_int_equal(v, NFS4_SLOT_NEW);
	nfs4_slot_done(s, NULL, 0, false);
	assert_int_equal(check(3, 1, 1, &v, &s), NFS4_OK);
	nfs4_slot_done(s, NULL, 0, false);
}

static void test_hash_differs_for_different_bytes(void **state)
{
	(void)state;
	assert_true(nfs4_hash_bytes("abc", 3) != nfs4_hash_bytes("abd", 3));
	assert_true(nfs4_hash_bytes("abc", 3) == nfs4_hash_bytes("abc", 3));
	assert_true(nfs4_hash_bytes("", 0) != nfs4_hash_bytes("\0", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_request_must_be_seqid_1),
		cmocka_unit_test(test_cached_reply_is_replayed),
		cmocka_unit_test(test_busy_slot_and_misordered),
		cmocka_unit_test(test_seqid_wraps),
		cmocka_unit_test(test_hash_differs_for_different_bytes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
