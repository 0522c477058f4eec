/*
 * server/nfs4_recovery.h: the stable client records in Recovery_Dir (RFC
 * 8881 §8.4.3): written before a client's first CREATE_SESSION reply, read at
 * start to know who may reclaim; and the server owner and scope that stay the
 * same across restarts.
 * Calls: nothing in server/. Called by: nfs4_server.c, nfs4_session.c,
 * nfs4_client.c, nfs4_grace.c.
 */
#ifndef DAXNFS_SERVER_NFS4_RECOVERY_H
#define DAXNFS_SERVER_NFS4_RECOVERY_H

#include <stdbool.h>

#include "rpc/nfs4_xdr_gen.h"

struct nfs4_client;

int nfs4_recovery_init(const char *dir);      /* loads the records of the last run */
void nfs4_recovery_shutdown(void);
/* Writes and syncs the record of clp (before CREATE_SESSION's reply). 0 or -errno. */
int nfs4_recovery_add(const struct nfs4_client *clp);
void nfs4_recovery_remove(const struct nfs4_client *clp);
/* True when owner was recorded by the previous run (may reclaim). */
bool nfs4_recovery_was_known(const struct xdr_opaque *owner);
/* Marks owner as done reclaiming; returns how many previous-run owners remain. */
unsigned nfs4_recovery_reclaimed(const struct xdr_opaque *owner);
unsigned nfs4_recovery_previous_count(void);
/* Forgets the previous run's owners that did not come back (grace ended). */
void nfs4_recovery_end_grace(void);
/* The server owner/scope, stable across restarts. */
const char *nfs4_server_owner(void);

#endif
