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

#include <pthread.h>
#include <stdbool.h>

#include "rpc/nfs4_xdr_gen.h"

struct nfs4_client;
struct nfs4_prev_client;

/* A server's stable records (srv->recovery): made by nfs4_recovery_init,
 * which must succeed before any other call. Has its own lock: records are
 * written without the state lock. */
struct nfs4_recovery {
	pthread_mutex_t lock;
	char dir[4096];                   /* Recovery_Dir */
	char clients_dir[4200];           /* <dir>/clients */
	char server_owner[64];
	struct nfs4_prev_client *prev;    /* the previous run's clients */
	unsigned n_prev;
	bool grace_over;                  /* none of them may reclaim any more */
};

/* Loads the records of the last run from dir. 0 or -errno (logged). */
int nfs4_recovery_init(struct nfs4_recovery *r, const char *dir);
void nfs4_recovery_shutdown(struct nfs4_recovery *r);
/* Writes and syncs the record of clp (before CREATE_SESSION's reply). 0 or -errno. */
int nfs4_recovery_add(struct nfs4_recovery *r, const struct nfs4_client *clp);
void nfs4_recovery_remove(struct nfs4_recovery *r, const struct nfs4_client *clp);
/* True when owner was recorded by the previous run (may reclaim). */
bool nfs4_recovery_was_known(struct nfs4_recovery *r, const struct xdr_opaque *owner);
/* Marks owner as done reclaiming; returns how many previous-run owners remain. */
unsigned nfs4_recovery_reclaimed(struct nfs4_recovery *r, const struct xdr_opaque *owner);
unsigned nfs4_recovery_previous_count(const struct nfs4_recovery *r);
/* Forgets the previous run's owners that did not come back (grace ended). */
void nfs4_recovery_end_grace(struct nfs4_recovery *r);
/* The server owner/scope, stable across restarts. */
const char *nfs4_server_owner(const struct nfs4_recovery *r);

#endif
