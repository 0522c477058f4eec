/*
 * pmem/lease_priv.h: the lease manager's side facing the backend objects.
 *
 * Job: set and unset a lease on a data descriptor that a backend object owns.
 * Calls: nothing. Called by: pmem/posix_io.c.
 */
#ifndef DAXNFS_PMEM_LEASE_PRIV_H
#define DAXNFS_PMEM_LEASE_PRIV_H

#include <stdbool.h>

#include "pmem/backend.h"

/* Called (no manager lock held) when the kernel broke the lease on fd by
 * force, before the "gone" event, so the object can forget it. */
typedef void (*pmem_lease_lost_fn)(struct pmem_obj *obj, int fd);

/* F_SETSIG + F_SETLEASE on fd and registration; a lease already set on fd is
 * changed to kind (and cookie). Holds a reference on obj until the lease is gone.
 * -ENOTCONN when the manager is not started, -EAGAIN when the kernel refuses
 * because of a conflicting open. */
int pmem_lease_set(int fd, struct pmem_obj *obj, enum pmem_lease_kind kind, void *cookie,
		   pmem_lease_lost_fn lost);
/* F_SETLEASE F_UNLCK and deregistration; report_gone queues a "gone" event. */
int pmem_lease_unset(int fd, bool report_gone);

#endif
