/*
 * server/nfs4_range.c: byte-range locks of one file, POSIX style.
 *
 * Job: keep each owner's locks as disjoint ranges (end inclusive), find
 * conflicts with other owners, and set or clear an owner's range with the
 * split/merge/upgrade/downgrade rules of fcntl locks, which the Linux client
 * maps its POSIX locks onto (RFC 8881 §9.3 leaves the merge rules to the
 * server; OPEN4_RESULT_LOCKTYPE_POSIX promises these). Allocation happens
 * before any change so that -ENOMEM leaves the list as it was.
 * Locking: callers hold nfs4_state_lock(). Calls: libc.
 * Called by: nfs4_lock.c; tests/unit/test_server_lock_ranges.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "server/nfs4_file.h"

#define RANGE(n) container_of(n, struct nfs4_lock_range, node)

bool nfs4_range_from_wire(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end)
{
	if (length == 0)
		return false;
	*start = offset;
	if (length == UINT64_MAX) {
		*end = UINT64_MAX;
		return true;
	}
	/* offset + length may reach 2^64 - 1 + 1 only as "to EOF". */
	if (length - 1 > UINT64_MAX - offset)
		return false;
	*end = offset + length - 1;
	return true;
}

uint64_t nfs4_range_length(uint64_t start, uint64_t end)
{
	if (end == UINT64_MAX)
		return UINT64_MAX;
	return end - start + 1;
}

static bool overlaps(const struct nfs4_lock_range *r, uint64_t start, uint64_t end)
{
	return r->start <= end && start <= r->end;
}

struct nfs4_lock_range *nfs4_range_conflict(struct list_node *locks, const void *owner,
					    enum nfs4_range_type type, uint64_t start,
					    uint64_t end)
{
	struct list_node *n;

	for (n = locks->next; n != locks; n = n->next) {
		struct nfs4_lock_range *r = RANGE(n);

		if (r->owner == owner || !overlaps(r, start, end))
			continue;
		if (type == NFS4_RANGE_WRITE || r->type == NFS4_RANGE_WRITE)
			return r;
	}
	return NULL;
}

/* Removes owner's coverage of [start, end]; *spare is used (and set NULL) when
 * a range strictly contains [start, end] and must be split in two. */
static void range_cut(struct list_node *locks, const void *owner, uint64_t start,
		      uint64_t end, struct nfs4_lock_range **spare)
{
	struct list_node *n, *tmp;

	list_for_each_safe(n, tmp, locks) {
		struct nfs4_lock_range *r = RANGE(n);

		if (r->owner != owner || !overlaps(r, start, end))
			continue;
		if (r->start < start && r->end > end) {
			struct nfs4_lock_range *right = *spare;

			*spare = NULL;
			*right = *r;
			right->start = end + 1;
			r->end = start - 1;
			list_add_tail(&right->node, locks);
		} else if (r->start < start) {
			r->end = start - 1;
		} else if (r->end > end) {
			r->start = end + 1;
		} else {
			list_del(&r->node);
			free(r);
		}
	}
}

/* True when owner has one range strictly containing [start, end] (a cut
 * will need a second node). */
static bool needs_split(const struct list_node *locks, const void *owner, uint64_t start,
			uint64_t end)
{
	const struct list_node *n;

	for (n = locks->next; n != locks; n = n->next) {
		const struct nfs4_lock_range *r = RANGE(n);

		if (r->owner == owner && r->start < start && r->end > end)
			return true;
	}
	return false;
}

int nfs4_range_set(struct list_node *locks, void *owner, enum nfs4_range_type type,
		   uint64_t start, uint64_t end)
{
	struct nfs4_lock_range *nr, *spare = NULL;
	struct list_node *n, *tmp;
	int ret = 0;

	nr = calloc(1, sizeof(*nr));
	if (!nr) {
		ret = -ENOMEM;
		goto out;
	}
	if (needs_split(locks, owner, start, end)) {
		spare = calloc(1, sizeof(*spare));
		if (!spare) {
			free(nr);
			ret = -ENOMEM;
			goto out;
		}
	}
	range_cut(locks, owner, start, end, &spare);
	nr->owner = owner;
	nr->type = type;
	nr->start = start;
	nr->end = end;
	/* Coalesce with the owner's touching ranges of the same type. */
	list_for_each_safe(n, tmp, locks) {
		struct nfs4_lock_range *r = RANGE(n);

		if (r->owner != owner || r->type != type)
			continue;
		if (r->end != UINT64_MAX && r->end + 1 == nr->start) {
			nr->start = r->start;
		} else if (nr->end != UINT64_MAX && nr->end + 1 == r->start) {
			nr->end = r->end;
		} else {
			continue;
		}
		list_del(&r->node);
		free(r);
	}
	list_add_tail(&nr->node, locks);
out:
	free(spare);
	return ret;
}

int nfs4_range_clear(struct list_node *locks, const void *owner, uint64_t start, uint64_t end)
{
	struct nfs4_lock_range *spare = NULL;

	if (needs_split(locks, owner, start, end)) {
		spare = calloc(1, sizeof(*spare));
		if (!spare)
			return -ENOMEM;
	}
	range_cut(locks, owner, start, end, &spare);
	free(spare);
	return 0;
}

void nfs4_range_clear_owner(struct list_node *locks, const void *owner)
{
	range_cut(locks, owner, 0, UINT64_MAX, &(struct nfs4_lock_range *){ NULL });
}

bool nfs4_range_owner_holds(const struct list_node *locks, const void *owner)
{
	const struct list_node *n;

	for (n = locks->next; n != locks; n = n->next) {
		if (RANGE(n)->owner == owner)
			return true;
	}
	return false;
}
