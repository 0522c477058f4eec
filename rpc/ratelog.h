/*
 * rpc/ratelog.h: count events, report them at most once per interval.
 *
 * Job: keep an event that a peer can cause at will (a refused connection, a
 * failed accept, a connection dropped for a limit) from writing one log line
 * per occurrence. Events are counted; the count is due for a report when the
 * interval since the last report has passed, so a kind of event writes at
 * most one line per interval, and the first event after a quiet interval is
 * reported at once. The caller writes the line (it knows the wording) and
 * calls rpc_ratelog_count(r, 0, now) periodically so that counts left over
 * at the end of a burst are reported too. Not thread-safe: one owner thread.
 * Calls: nothing. Called by: rpc/xprt_tcp_guard.c, tests/unit/test_rpc_ratelog.c.
 */
#ifndef DAXNFS_RPC_RATELOG_H
#define DAXNFS_RPC_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

struct rpc_ratelog {
	int64_t interval_ms;
	int64_t last_ms;        /* time of the last report */
	bool reported;          /* last_ms is valid */
	uint64_t pending;       /* events counted since the last report */
};

void rpc_ratelog_init(struct rpc_ratelog *r, int64_t interval_ms);
/* Counts n events (0: none, just check) at time now (ms, monotonic). Returns
 * how many events to report now, all those pending, or 0 when nothing is due. */
uint64_t rpc_ratelog_count(struct rpc_ratelog *r, uint64_t n, int64_t now);
/* Returns the events not reported yet, whatever the time (at shutdown). */
uint64_t rpc_ratelog_flush(struct rpc_ratelog *r);

#endif
