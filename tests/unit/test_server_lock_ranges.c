/*
 * tests/unit/test_server_lock_ranges.c: the byte-range lock list of
 * server/nfs4_range.c — conflicts between owners, POSIX split/merge,
 * upgrade/downgrade, unlock splitting, and wire range validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/nfs4_file.h"

static int A, B;   /* owner identities */

static unsigned count_owner(struct list_node *locks, void *owner)
{
	unsigned n = 0;
	struct list_node *p;

	for (p = locks->next; p != locks; p = p->next)
		n += container_of(p, struct nfs4_lock_range, node)->owner == owner;
	return n;
}

/* The range of owner covering off, or NULL. */
static struct nfs4_lock_range *at(struct list_node *locks, void *owner, uint64_t off)
{
	struct list_node *p;

	for (p = locks->next; p != locks; p = p->next) {
		struct nfs4_lock_range *r = container_of(p, struct nfs4_lock_range, node);

		if (r->owner == owner && r->start <= off && off <= r->end)
			return r;
	}
	return NULL;
}

static void test_wire_ranges(void **st)
{
	uint64_t s, e;

	(void)st;
	assert_false(nfs4_range_from_wire(0, 0, &s, &e));
	assert_true(nfs4_range_from_wire(10, UINT64_MAX, &s, &e));
	assert_int_equal(s, 10);
	assert_true(e == UINT64_MAX);
	assert_true(nfs4_range_from_wire(10, 5, &s, &e));
	assert_int_equal(e, 14);
	/* offset + length == 2^64: the last byte is 2^64 - 1, allowed */
	assert_true(nfs4_range_from_wire(UINT64_MAX - 9, 10, &s, &e));
	assert_true(e == UINT64_MAX);
	/* one past: overflow */
	assert_false(nfs4_range_from_wire(UINT64_MAX - 9, 11, &s, &e));
	assert_false(nfs4_range_from_wire(UINT64_MAX, UINT64_MAX - 1, &s, &e));
	assert_true(nfs4_range_length(0, UINT64_MAX) == UINT64_MAX);
	assert_int_equal(nfs4_range_length(5, 9), 5);
}

static void test_conflicts_between_owners(void **st)
{
	struct list_node locks;

	(void)st;
	list_init(&locks);
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_READ, 0, 99), 0);
	/* read vs read: shared */
	assert_null(nfs4_range_conflict(&locks, &B, NFS4_RANGE_READ, 50, 150));
	/* write vs read of another owner: conflict */
	assert_ptr_equal(nfs4_range_conflict(&locks, &B, NFS4_RANGE_WRITE, 99, 200), at(&locks, &A, 0));
	/* not overlapping */
	assert_null(nfs4_range_conflict(&locks, &B, NFS4_RANGE_WRITE, 100, 200));
	/* an owner never conflicts with itself */
	assert_null(nfs4_range_conflict(&locks, &A, NFS4_RANGE_WRITE, 0, 99));
	assert_int_equal(nfs4_range_set(&locks, &B, NFS4_RANGE_WRITE, 200, UINT64_MAX), 0);
	assert_non_null(nfs4_range_conflict(&locks, &A, NFS4_RANGE_READ, UINT64_MAX, UINT64_MAX));
	nfs4_range_clear_owner(&locks, &A);
	nfs4_range_clear_owner(&locks, &B);
	assert_true(list_empty(&locks));
}

static void test_merge_and_split(void **st)
{
	struct list_node locks;
	struct nfs4_lock_range *r;

	(void)st;
	list_init(&locks);
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_WRITE, 0, 9), 0);
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_WRITE, 20, 29), 0);
	/* filling the gap merges all three */
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_WRITE, 10, 19), 0);
	assert_int_equal(count_owner(&locks, &A), 1);
	r = at(&locks, &A, 15);
	assert_int_equal(r->start, 0);
	assert_int_equal(r->end, 29);
	/* downgrade the middle: three pieces W R W */
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_READ, 10, 19), 0);
	assert_int_equal(count_owner(&locks, &A), 3);
	assert_int_equal(at(&locks, &A, 5)->type, NFS4_RANGE_WRITE);
	assert_int_equal(at(&locks, &A, 10)->type, NFS4_RANGE_READ);
	assert_int_equal(at(&locks, &A, 19)->type, NFS4_RANGE_READ);
	assert_int_equal(at(&locks, &A, 20)->type, NFS4_RANGE_WRITE);
	/* another owner may now read-lock the middle only */
	assert_null(nfs4_range_conflict(&locks, &B, NFS4_RANGE_READ, 10, 19));
	assert_non_null(nfs4_range_conflict(&locks, &B, NFS4_RANGE_READ, 10, 20));
	/* upgrade back: one range again */
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_WRITE, 5, 25), 0);
	assert_int_equal(count_owner(&locks, &A), 1);
	nfs4_range_clear_owner(&locks, &A);
	assert_true(list_empty(&locks));
}

static void test_unlock_splits(void **st)
{
	struct list_node locks;

	(void)st;
	list_init(&locks);
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_WRITE, 0, UINT64_MAX), 0);
	assert_int_equal(nfs4_range_clear(&locks, &A, 100, 199), 0);
	assert_int_equal(count_owner(&locks, &A), 2);
	assert_null(at(&locks, &A, 100));
	assert_null(at(&locks, &A, 199));
	assert_int_equal(at(&locks, &A, 99)->end, 99);
	assert_true(at(&locks, &A, 200)->end == UINT64_MAX);
	assert_null(nfs4_range_conflict(&locks, &B, NFS4_RANGE_WRITE, 100, 199));
	/* unlock of a range held by nobody is fine and changes nothing */
	assert_int_equal(nfs4_range_clear(&locks, &B, 0, 10), 0);
	assert_int_equal(count_owner(&locks, &A), 2);
	/* unlock across both pieces trims both */
	assert_int_equal(nfs4_range_clear(&locks, &A, 50, 299), 0);
	assert_int_equal(at(&locks, &A, 0)->end, 49);
	assert_int_equal(at(&locks, &A, 300)->start, 300);
	assert_true(nfs4_range_owner_holds(&locks, &A));
	assert_int_equal(nfs4_range_clear(&locks, &A, 0, UINT64_MAX), 0);
	assert_false(nfs4_range_owner_holds(&locks, &A));
	assert_true(list_empty(&locks));
}

static void test_owners_kept_apart(void **st)
{
	struct list_node locks;

	(void)st;
	list_init(&locks);
	assert_int_equal(nfs4_range_set(&locks, &A, NFS4_RANGE_READ, 0, 9), 0);
	assert_int_equal(nfs4_range_set(&locks, &B, NFS4_RANGE_READ, 10, 19), 0);
	/* adjacent same-type ranges of different owners are not merged */
	assert_int_equal(count_owner(&locks, &A), 1);
	assert_int_equal(count_owner(&locks, &B), 1);
	assert_int_equal(at(&locks, &A, 0)->end, 9);
	/* clearing B leaves A alone */
	nfs4_range_clear_owner(&locks, &B);
	assert_int_equal(count_owner(&locks, &A), 1);
	nfs4_range_clear_owner(&locks, &A);
	assert_true(list_empty(&locks));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_ranges),
		cmocka_unit_test(test_conflicts_between_owners),
		cmocka_unit_test(test_merge_and_split),
		cmocka_unit_test(test_unlock_splits),
		cmocka_unit_test(test_owners_kept_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
