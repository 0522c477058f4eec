/*
 * server/nfs4_file_lease.h: the local lease behind a file's recallable
 * state, and the dispatcher of lease events.
 *
 * Job: hold at most one lease per struct nfs4_file (read or write, the
 * stronger of what its delegations and its layouts need), and route the
 * lease manager's events ("F is breaking, give it back by T", "F's lease is
 * gone") to whoever holds state on F: the delegations (nfs4_deleg.c) and
 * the layouts (nfs4_layout.c, which runs layout/'s recall timeline). Events name the file by its
 * backend object and a generation cookie, so an event about a lease we
 * already released (or replaced) is recognised and dropped.
 * Everything here runs under the state lock; the events arrive on the event
 * loop thread (pmem_lease_dispatch), which takes it.
 * Calls: pmem/lease.h, the backend's lease ops, nfs4_deleg.h, nfs4_layout.h.
 * Called by: nfs4_deleg.c, nfs4_layout.c, nfs4_server.c (start, stop).
 */
#ifndef DAXNFS_SERVER_NFS4_FILE_LEASE_H
#define DAXNFS_SERVER_NFS4_FILE_LEASE_H

#include "pmem/backend.h"
#include "server/nfs4_file.h"

/* Takes (or changes to) a lease of kind on fp's file; a write lease held
 * already stays (it covers a read lease's needs). 0, -EAGAIN when a local
 * open conflicts or the lease is breaking, -ENOTCONN without the lease
 * manager, -errno. A failed change of kind takes the old kind back, and
 * when even that fails revokes the file's delegations and layouts. */
int nfs4_file_lease_take(struct nfs4_file *fp, enum pmem_lease_kind kind);
/* Releases fp's lease, if it holds one. */
void nfs4_file_lease_drop(struct nfs4_file *fp);
/* Releases fp's lease when neither a delegation nor a layout segment on
 * the file needs it any more. */
void nfs4_file_lease_drop_unused(struct nfs4_file *fp);

/* Starts the lease manager with the dispatcher as its subscriber (events
 * find their file in srv's table) and checks Recall_Timeout against
 * /proc/sys/fs/lease-break-time: recall_timeout_s 0 = choose (30 s, or less
 * to fit). 0 or -errno (logged, naming the key). */
struct nfs4_server;
int nfs4_file_lease_start(struct nfs4_server *srv, unsigned recall_timeout_s);
void nfs4_file_lease_stop(void);

#endif
