/*
 * layout/layout_domain.c: one server's layouts: its up-calls, its layout-type
 * table and the recall figures it was configured with.
 *
 * Job: check Recall_Timeout and Revoke_Margin against the kernel's
 * lease-break-time once, at start (a recall caused by a lease break must
 * revoke before the kernel takes the lease, or the invariant of
 * ARCHITECTURE.md breaks), and find a layout type's ops by its number.
 * Calls: libc. Called by: server/ (start, the layout operations).
 */
#include <errno.h>
#include <string.h>

#include "layout/layout.h"

int layout_domain_init(struct layout_domain *d, const struct layout_upcalls *up, void *up_ctx,
		       int64_t recall_timeout_ms, int64_t revoke_margin_ms,
		       int64_t lease_break_ms, const char **bad_key)
{
	memset(d, 0, sizeof(*d));
	*bad_key = NULL;
	if (recall_timeout_ms <= 0) {
		*bad_key = "Recall_Timeout";
		return -EINVAL;
	}
	/* The revoke must come before the break ends: at least a margin, and
	 * the margin must leave time for the holder to answer. */
	if (revoke_margin_ms <= 0 || revoke_margin_ms >= lease_break_ms) {
		*bad_key = "Revoke_Margin";
		return -EINVAL;
	}
	d->up = up;
	d->up_ctx = up_ctx;
	d->recall_timeout_ms = recall_timeout_ms;
	d->revoke_margin_ms = revoke_margin_ms;
	return 0;
}

int layout_domain_add_type(struct layout_domain *d, const struct layout_type_ops *ops,
			   void *type_ctx)
{
	if (layout_domain_type(d, ops->type, NULL))
		return -EEXIST;
	if (d->ntypes == LAYOUT_TYPES_MAX)
		return -ENOSPC;
	d->types[d->ntypes].ops = ops;
	d->types[d->ntypes].ctx = type_ctx;
	d->ntypes++;
	return 0;
}

const struct layout_type_ops *layout_domain_type(const struct layout_domain *d, layouttype4 type,
						 void **type_ctx)
{
	unsigned i;

	for (i = 0; i < d->ntypes; i++) {
		if (d->types[i].ops->type != type)
			continue;
		if (type_ctx)
			*type_ctx = d->types[i].ctx;
		return d->types[i].ops;
	}
	return NULL;
}
