/*
 * tests/bench/nfs_bench_cl.h: the NFS benchmark's thin layer over the test client.
 *
 * Job: one NFSv4.1 session per connection (the test client is one thread per
 * connection), compounds encoded into a buffer owned by the connection (the
 * library's nfs4_cl_send mallocs 2 MiB per call), retries on GRACE/DELAY, and
 * the handful of file operations the workloads need, all relative to file
 * handles so that no operation walks a path.
 * Calls: tests/proto/lib/nfs4_client. Called by: tests/bench/nfs_bench.c.
 */
#ifndef DAXNFS_TESTS_NFS_BENCH_CL_H
#define DAXNFS_TESTS_NFS_BENCH_CL_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/proto/lib/nfs4_client.h"

struct nb_conn {
	struct nfs4_cl *cl;
	uint8_t *buf;          /* encode buffer, NB_SEND_CAP bytes */
};

/* Connects, EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE. 0, -errno or nfsstat4. */
int nb_conn_open(struct nb_conn *c, const char *host, uint16_t port, const char *owner);
void nb_conn_close(struct nb_conn *c);

/* Sends cp (SEQUENCE prepended). Returns 0 (NFS4_OK), a positive nfsstat4,
 * or -errno when no usable reply came. GRACE and DELAY are retried for up to
 * two minutes (a server just started may be in its grace period). */
int nb_call(struct nb_conn *c, struct nfs4_cl_compound *cp);

/* Pipelining (cp->slot set by the caller, one compound per slot): sends cp
 * without waiting; nb_finish_any waits for the next reply to one of
 * cps[0..n) and returns its index, or -errno. No GRACE/DELAY retry. */
int nb_start(struct nb_conn *c, struct nfs4_cl_compound *cp);
int nb_finish_any(struct nfs4_cl_compound *const *cps, int n);

void nb_add_putfh(struct nfs4_cl_compound *cp, const nfs_fh4 *fh);
/* WRITE whose data points at the caller's buffer (no copy into the arena). */
void nb_add_write(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		  const void *data, uint32_t len, stable_how4 how);

/* fh->val is malloc'd in every helper below; free with free(). */
int nb_root_fh(struct nb_conn *c, nfs_fh4 *fh);
int nb_mkdir(struct nb_conn *c, const nfs_fh4 *dir, const char *name, nfs_fh4 *fh);
/* OPEN name in dir (created UNCHECKED when create); no delegation wanted. */
int nb_open(struct nb_conn *c, const nfs_fh4 *dir, const char *name, bool create,
	    uint32_t access, stateid4 *sid, nfs_fh4 *fh);
int nb_close(struct nb_conn *c, const nfs_fh4 *fh, const stateid4 *sid);
int nb_remove(struct nb_conn *c, const nfs_fh4 *dir, const char *name);
int nb_commit(struct nb_conn *c, const nfs_fh4 *fh);

#endif
