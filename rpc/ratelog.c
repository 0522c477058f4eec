/*
 * rpc/ratelog.c: once-per-interval event counts (see ratelog.h).
 */
#include "rpc/ratelog.h"

void rpc_ratelog_init(struct rpc_ratelog *r, int64_t interval_ms)
{
	r->interval_ms = interval_ms;
	r->last_ms = 0;
	r->reported = false;
	r->pending = 0;
}

uint64_t rpc_ratelog_count(struct rpc_ratelog *r, uint64_t n, int64_t now)
{
	uint64_t due;

	r->pending += n;
	if (r->pending == 0)
		return 0;
	if (r->reported && now - r->last_ms < r->interval_ms)
		return 0;
	due = r->pending;
	r->pending = 0;
	r->last_ms = now;
	r->reported = true;
	return due;
}

uint64_t rpc_ratelog_flush(struct rpc_ratelog *r)
{
	uint64_t due = r->pending;

	r->pending = 0;
	return due;
}
