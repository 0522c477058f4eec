/*
 * layout/layout_range.c: byte ranges of layouts and a holder's segment set.
 *
 * Job: turn the wire's (offset, length) into [start, end), and keep the
 * segments one holder has on one file merged and bounded, so that a
 * recall knows exactly whom a range concerns and a hostile client cannot
 * grow the set without bound by asking for or returning many small pieces.
 * Calls: libc. Called by: layout_recall.c, server/ (range checks).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout/layout.h"

nfsstat4 layout_range_from_wire(uint64_t offset, uint64_t length, struct layout_range *out)
{
	if (length == 0)
		return NFS4ERR_INVAL;
	out->start = offset;
	if (length == NFS4_UINT64_MAX) {
		out->end = LAYOUT_END;
		return NFS4_OK;
	}
	/* §18.43.3: a sum past NFS4_UINT64_MAX is invalid (2^64 too, as
	 * knfsd has it). */
	if (length > NFS4_UINT64_MAX - offset)
		return NFS4ERR_INVAL;
	out->end = offset + length;
	return NFS4_OK;
}

uint64_t layout_range_wire_length(const struct layout_range *r)
{
	return r->end == LAYOUT_END ? NFS4_UINT64_MAX : r->end - r->start;
}

bool layout_range_overlaps(const struct layout_range *a, const struct layout_range *b)
{
	return a->start < b->end && b->start < a->end;
}

static bool iomode_matches(layoutiomode4 have, layoutiomode4 want)
{
	return want == LAYOUTIOMODE4_ANY || have == want;
}

/* Makes room for n segments. 0, -ENOMEM. */
static int seg_set_reserve(struct layout_seg_set *set, unsigned n)
{
	struct layout_seg *segs;
	unsigned cap;

	if (n <= set->cap)
		return 0;
	cap = set->cap ? set->cap * 2 : 4;
	while (cap < n)
		cap *= 2;
	segs = realloc(set->segs, cap * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	set->segs = segs;
	set->cap = cap;
	return 0;
}

static void seg_set_delete(struct layout_seg_set *set, unsigned i)
{
	memmove(&set->segs[i], &set->segs[i + 1], (set->count - i - 1) * sizeof(set->segs[0]));
	set->count--;
}

/* Inserts seg keeping the order by start. Room must be there. */
static void seg_set_insert(struct layout_seg_set *set, const struct layout_seg *seg)
{
	unsigned i = 0;

	while (i < set->count && set->segs[i].range.start <= seg->range.start)
		i++;
	memmove(&set->segs[i + 1], &set->segs[i], (set->count - i) * sizeof(set->segs[0]));
	set->segs[i] = *seg;
	set->count++;
}

int layout_seg_set_add(struct layout_seg_set *set, const struct layout_seg *seg)
{
	struct layout_seg merged = *seg;
	unsigned i, absorbed = 0;

	/* Segments of the same iomode that overlap or touch become one. */
	for (i = 0; i < set->count; i++) {
		const struct layout_seg *s = &set->segs[i];

		if (s->iomode != merged.iomode || s->range.end < merged.range.start ||
		    merged.range.end < s->range.start)
			continue;
		absorbed++;
	}
	if (set->count - absorbed + 1 > LAYOUT_SEGS_MAX)
		return -ENOSPC;
	if (seg_set_reserve(set, set->count - absorbed + 1) != 0)
		return -ENOMEM;
	for (i = 0; i < set->count;) {
		const struct layout_seg *s = &set->segs[i];

		if (s->iomode != merged.iomode || s->range.end < merged.range.start ||
		    merged.range.end < s->range.start) {
			i++;
			continue;
		}
		if (s->range.start < merged.range.start)
			merged.range.start = s->range.start;
		if (s->range.end > merged.range.end)
			merged.range.end = s->range.end;
		seg_set_delete(set, i);
	}
	seg_set_insert(set, &merged);
	return 0;
}

/* Adds the length of r to *sum, saturating at LAYOUT_END. */
static void range_len_add(uint64_t *sum, uint64_t start, uint64_t end)
{
	uint64_t len = end == LAYOUT_END ? LAYOUT_END : end - start;

	*sum = len > LAYOUT_END - *sum ? LAYOUT_END : *sum + len;
}

uint64_t layout_seg_set_remove(struct layout_seg_set *set, const struct layout_range *range,
			       layoutiomode4 iomode)
{
	uint64_t removed = 0;
	unsigned i;

	for (i = 0; i < set->count;) {
		struct layout_seg *s = &set->segs[i];
		struct layout_seg tail;

		if (!iomode_matches(s->iomode, iomode) || !layout_range_overlaps(&s->range, range)) {
			i++;
			continue;
		}
		if (range->start <= s->range.start && s->range.end <= range->end) {
			range_len_add(&removed, s->range.start, s->range.end);
			seg_set_delete(set, i);
			continue;
		}
		if (s->range.start < range->start && range->end < s->range.end) {
			/* A hole in the middle: two segments where there was one. */
			if (set->count + 1 > LAYOUT_SEGS_MAX || seg_set_reserve(set, set->count + 1) != 0) {
				i++;   /* keep it whole (see layout.h) */
				continue;
			}
			s = &set->segs[i];
			tail = *s;
			tail.range.start = range->end;
			range_len_add(&removed, range->start, range->end);
			s->range.end = range->start;
			seg_set_insert(set, &tail);
			i++;
			continue;
		}
		if (range->start <= s->range.start) {
			/* The head goes; the order by start holds (the rest of the
			 * set starts at or after the old start, and this one now
			 * starts at range->end, which may pass some of them). */
			struct layout_seg rest = *s;

			range_len_add(&removed, s->range.start, range->end);
			rest.range.start = range->end;
			seg_set_delete(set, i);
			seg_set_insert(set, &rest);
			continue;
		}
		range_len_add(&removed, range->start, s->range.end);
		s->range.end = range->start;
		i++;
	}
	return removed;
}

bool layout_seg_set_overlaps(const struct layout_seg_set *set, const struct layout_range *range,
			     layoutiomode4 iomode)
{
	unsigned i;

	for (i = 0; i < set->count; i++)
		if (iomode_matches(set->segs[i].iomode, iomode) &&
		    layout_range_overlaps(&set->segs[i].range, range))
			return true;
	return false;
}

void layout_seg_set_clear(struct layout_seg_set *set)
{
	set->count = 0;
}

void layout_seg_set_free(struct layout_seg_set *set)
{
	free(set->segs);
	set->segs = NULL;
	set->count = set->cap = 0;
}
