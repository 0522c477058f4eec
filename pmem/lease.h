/*
 * pmem/lease.h: the lease manager.
 *
 * Job: hold read or write leases (F_SETLEASE) on objects' data descriptors,
 * learn of breaks through F_SETSIG with a real-time signal read from a
 * signalfd (never inside a signal handler), and report two events to the one
 * subscriber (the layout recall engine): "object must give up its access
 * paths by deadline" and "object's lease is gone". Knows the kernel's
 * /proc/sys/fs/lease-break-time so callers can plan deadlines.
 * The real-time signal must be blocked in every thread: call
 * pmem_lease_block_signal() in main before any thread starts.
 * Calls: libc, conf/log. Called by: pmem/posix_*.c (acquire/release on a
 * descriptor), server/ event loop (fd + dispatch), layout/ (subscriber).
 */
#ifndef DAXNFS_PMEM_LEASE_H
#define DAXNFS_PMEM_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pmem/backend.h"

struct pmem_lease_events {
	/* The lease on obj is breaking: give up access paths and release by deadline
	 * (CLOCK_MONOTONIC). */
	void (*breaking)(void *ctx, struct pmem_obj *obj, void *cookie, struct timespec deadline);
	/* The lease on obj is gone (released by us, or broken by the kernel). */
	void (*gone)(void *ctx, struct pmem_obj *obj, void *cookie);
	void *ctx;
};

/* Blocks the lease signal in the calling thread (and so in threads it starts). */
int pmem_lease_block_signal(void);
/* Sets up the process-wide manager; events go to ev (may be NULL for none). */
int pmem_lease_manager_start(const struct pmem_lease_events *ev);
void pmem_lease_manager_stop(void);
/* A descriptor to poll (readable = events pending), and the call that delivers them. */
int pmem_lease_event_fd(void);
int pmem_lease_dispatch(void);
/* /proc/sys/fs/lease-break-time, in seconds (read fresh each call). */
int pmem_lease_break_time(unsigned *seconds);
/* Of a lease-break-time of break_s seconds, the milliseconds a breaking
 * lease's holder is given: the "breaking" event's deadline comes this long
 * after the break (the manager keeps the rest for the release itself). */
int64_t pmem_lease_holder_ms(unsigned break_s);

#endif
