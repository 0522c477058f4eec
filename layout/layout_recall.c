/*
 * layout/layout_recall.c: holders of a file's layouts and the file's recall
 * timeline (decision 0008; RFC 8881 §12.5.5).
 *
 * Job: attach and detach holders, grant segments unless a recall forbids
 * it, start a recall (deadline from the lease break and Recall_Timeout),
 * take returns, and revoke at the deadline, telling server/ each step
 * through the domain's up-calls. The up-calls may not attach or detach
 * holders of the file they are told about (server/ defers that), so the
 * walks here see a stable holder array.
 * Calls: layout_range.c, the type's fence, the up-calls. Called by:
 * server/ under the file's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout/layout.h"

int layout_holder_attach(struct layout_file *lf, struct layout_holder *h, layouttype4 type)
{
	if (lf->nholders == lf->cap) {
		unsigned cap = lf->cap ? lf->cap * 2 : 4;
		struct layout_holder **hs = realloc(lf->holders, cap * sizeof(*hs));

		if (!hs)
			return -ENOMEM;
		lf->holders = hs;
		lf->cap = cap;
	}
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->file = lf;
	lf->holders[lf->nholders++] = h;
	return 0;
}

/* Every recalled holder returned or was revoked: the file is free again. */
static void recall_complete(struct layout_domain *d, struct layout_file *lf)
{
	unsigned i;

	lf->state = LAYOUT_RECALL_NONE;
	lf->outstanding = 0;
	lf->deadline_ms = 0;
	lf->break_limit_ms = 0;
	for (i = 0; i < lf->nholders; i++)
		if (lf->holders[i]->state == LAYOUT_RECALL_RETURNED)
			lf->holders[i]->state = LAYOUT_RECALL_NONE;
	if (d->up && d->up->recall_complete)
		d->up->recall_complete(d->up_ctx, lf);
}

/* h no longer owes anything to the running recall. */
static void recall_holder_settled(struct layout_domain *d, struct layout_file *lf)
{
	if (lf->outstanding > 0)
		lf->outstanding--;
	if (lf->state == LAYOUT_RECALL_RECALLING && lf->outstanding == 0)
		recall_complete(d, lf);
}

static void holder_fence(struct layout_domain *d, struct layout_holder *h)
{
	void *ctx = NULL;
	const struct layout_type_ops *ops = layout_domain_type(d, h->type, &ctx);

	if (ops && ops->fence)
		ops->fence(ctx, h);
}

void layout_holder_detach(struct layout_domain *d, struct layout_holder *h)
{
	struct layout_file *lf = h->file;
	bool owed = h->state == LAYOUT_RECALL_RECALLING;
	unsigned i;

	if (!lf)
		return;
	/* Segments still held when the stateid goes (its client expired):
	 * whatever lets the holder reach the file directly must go too. */
	if (h->segs.count > 0)
		holder_fence(d, h);
	layout_seg_set_free(&h->segs);
	for (i = 0; i < lf->nholders; i++) {
		if (lf->holders[i] != h)
			continue;
		lf->holders[i] = lf->holders[--lf->nholders];
		break;
	}
	h->file = NULL;
	h->state = LAYOUT_RECALL_NONE;
	if (owed)
		recall_holder_settled(d, lf);
}

/* Whether a layout of seg meets what the file is recalling. */
static bool recall_conflicts(const struct layout_file *lf, const struct layout_seg *seg)
{
	if (lf->state != LAYOUT_RECALL_RECALLING)
		return false;
	if (lf->recall.iomode != LAYOUTIOMODE4_ANY && lf->recall.iomode != seg->iomode)
		return false;
	return layout_range_overlaps(&lf->recall.range, &seg->range);
}

nfsstat4 layout_grant(struct layout_domain *d, struct layout_holder *h, const struct layout_seg *seg)
{
	int rc;

	(void)d;
	if (seg->iomode != LAYOUTIOMODE4_READ && seg->iomode != LAYOUTIOMODE4_RW)
		return NFS4ERR_BADIOMODE;
	if (!h->file || h->state == LAYOUT_RECALL_REVOKED)
		return NFS4ERR_BAD_STATEID;
	/* Every holder, recalled or not: a layout handed out now over the
	 * range would outlive the lease the recall is freeing (ARCHITECTURE.md,
	 * on a lease break, step 2; knfsd answers the same). */
	if (recall_conflicts(h->file, seg))
		return NFS4ERR_RECALLCONFLICT;
	rc = layout_seg_set_add(&h->segs, seg);
	if (rc == -ENOSPC)
		return NFS4ERR_LAYOUTTRYLATER;
	if (rc != 0)
		return NFS4ERR_DELAY;
	return NFS4_OK;
}

/* The smallest range and iomode covering both a and b. */
static struct layout_seg seg_cover(const struct layout_seg *a, const struct layout_seg *b)
{
	struct layout_seg c = *a;

	if (b->range.start < c.range.start)
		c.range.start = b->range.start;
	if (b->range.end > c.range.end)
		c.range.end = b->range.end;
	if (b->iomode != c.iomode)
		c.iomode = LAYOUTIOMODE4_ANY;
	return c;
}

static bool seg_covers(const struct layout_seg *outer, const struct layout_seg *inner)
{
	return outer->range.start <= inner->range.start && inner->range.end <= outer->range.end &&
	       (outer->iomode == LAYOUTIOMODE4_ANY || outer->iomode == inner->iomode);
}

/* layout_recall_start, for every holder or (only not NULL) for one. */
static unsigned recall_start(struct layout_domain *d, struct layout_file *lf,
			     struct layout_holder *only, const struct layout_seg *range,
			     bool changed, int64_t now_ms, int64_t break_deadline_ms)
{
	int64_t deadline = now_ms + d->recall_timeout_ms;
	bool running = lf->state == LAYOUT_RECALL_RECALLING, asked = false;
	unsigned i;

	/* The lease breaks of this recall bound every deadline in it. */
	if (break_deadline_ms != 0) {
		int64_t limit = break_deadline_ms - d->revoke_margin_ms;

		if (lf->break_limit_ms == 0 || limit < lf->break_limit_ms)
			lf->break_limit_ms = limit;
	}
	if (running)
		lf->recall = seg_cover(&lf->recall, range);
	else
		lf->recall = *range;
	for (i = 0; i < lf->nholders; i++) {
		struct layout_holder *h = lf->holders[i];

		if (h->state == LAYOUT_RECALL_REVOKED || (only && h != only))
			continue;
		if (!layout_seg_set_overlaps(&h->segs, &range->range, range->iomode))
			continue;
		if (h->state == LAYOUT_RECALL_RECALLING) {
			/* Already asked: ask again only for more than before. */
			if (seg_covers(&h->recall, range))
				continue;
			h->recall = seg_cover(&h->recall, range);
		} else {
			h->recall = *range;
			h->state = LAYOUT_RECALL_RECALLING;
			lf->outstanding++;
		}
		lf->state = LAYOUT_RECALL_RECALLING;
		asked = true;
		if (d->up && d->up->recall_send)
			d->up->recall_send(d->up_ctx, lf, h, changed);
	}
	if (lf->state == LAYOUT_RECALL_RECALLING) {
		/* A holder asked now gets its full time; nobody new asked
		 * keeps the running deadline. */
		if (running && (!asked || lf->deadline_ms > deadline))
			deadline = lf->deadline_ms;
		if (lf->break_limit_ms != 0 && lf->break_limit_ms < deadline)
			deadline = lf->break_limit_ms;
		lf->deadline_ms = deadline;
	}
	return lf->outstanding;
}

unsigned layout_recall_start(struct layout_domain *d, struct layout_file *lf,
			     const struct layout_seg *range, bool changed, int64_t now_ms,
			     int64_t break_deadline_ms)
{
	return recall_start(d, lf, NULL, range, changed, now_ms, break_deadline_ms);
}

unsigned layout_recall_start_holder(struct layout_domain *d, struct layout_holder *h,
				    const struct layout_seg *range, bool changed, int64_t now_ms)
{
	if (!h->file)
		return 0;
	return recall_start(d, h->file, h, range, changed, now_ms, 0);
}

nfsstat4 layout_return(struct layout_domain *d, struct layout_holder *h,
		       const struct layout_range *range, layoutiomode4 iomode)
{
	struct layout_seg returned = { *range, iomode };

	if (!h->file || h->state == LAYOUT_RECALL_REVOKED)
		return NFS4ERR_BAD_STATEID;
	layout_seg_set_remove(&h->segs, range, iomode);
	if (h->state == LAYOUT_RECALL_RECALLING &&
	    (seg_covers(&returned, &h->recall) ||
	     !layout_seg_set_overlaps(&h->segs, &h->recall.range, h->recall.iomode))) {
		h->state = LAYOUT_RECALL_RETURNED;
		recall_holder_settled(d, h->file);
	}
	return NFS4_OK;
}

unsigned layout_recall_expire(struct layout_domain *d, struct layout_file *lf, int64_t now_ms)
{
	unsigned i, revoked = 0;

	if (lf->state != LAYOUT_RECALL_RECALLING || now_ms < lf->deadline_ms)
		return 0;
	for (i = 0; i < lf->nholders; i++) {
		struct layout_holder *h = lf->holders[i];

		if (h->state != LAYOUT_RECALL_RECALLING)
			continue;
		/* Segments first: from here on the holder has nothing, whatever
		 * the fence or the up-call does. */
		layout_seg_set_clear(&h->segs);
		h->state = LAYOUT_RECALL_REVOKED;
		holder_fence(d, h);
		d->revocations++;
		revoked++;
		if (d->up && d->up->holder_revoked)
			d->up->holder_revoked(d->up_ctx, lf, h);
	}
	recall_complete(d, lf);
	return revoked;
}

bool layout_holder_revoke(struct layout_domain *d, struct layout_holder *h)
{
	struct layout_file *lf = h->file;
	bool owed = h->state == LAYOUT_RECALL_RECALLING;

	if (!lf || h->state == LAYOUT_RECALL_REVOKED)
		return false;
	layout_seg_set_clear(&h->segs);
	h->state = LAYOUT_RECALL_REVOKED;
	holder_fence(d, h);
	d->revocations++;
	if (d->up && d->up->holder_revoked)
		d->up->holder_revoked(d->up_ctx, lf, h);
	if (owed)
		recall_holder_settled(d, lf);
	return true;
}

void layout_file_free(struct layout_file *lf)
{
	free(lf->holders);
	lf->holders = NULL;
	lf->nholders = lf->cap = 0;
}
