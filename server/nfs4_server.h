/*
 * server/nfs4_server.h: what the daemon's main calls to bring the NFSv4
 * server up, keep it ticking and bring it down.
 * Called by: server/main.c. Implemented by: nfs4_server.c (state, grace,
 * recovery, program registration) and nfs4_export.c (exports, pseudo fs).
 */
#ifndef DAXNFS_SERVER_NFS4_SERVER_H
#define DAXNFS_SERVER_NFS4_SERVER_H

#include <stddef.h>

#include "conf/conf.h"

/* Opens every EXPORT of cfg through the backend and builds the pseudo fs.
 * Returns 0 or -errno after logging which export failed and why. */
int nfs4_exports_init(const struct daxnfs_config *cfg);
/* What a reload did to the exports (compared by Export_Id). */
struct nfs4_exports_change {
	unsigned added, changed, removed, unchanged;
};
/* Replaces the exports by cfg's, whole or not at all: a new export that
 * cannot be opened leaves the running ones as they are (-errno, logged).
 * Requests in progress finish on what they found; new ones see the new
 * exports; a removed export's handles are NFS4ERR_STALE from then on. */
int nfs4_exports_reload(const struct daxnfs_config *cfg, struct nfs4_exports_change *chg);
void nfs4_exports_shutdown(void);
/* Lets the backends close what they keep open and nobody used lately (the
 * tick). */
void nfs4_exports_trim(void);

/* Client table, stable client records (cfg->recovery_dir), grace period,
 * write verifier, and registration of program 100003 v4 with the RPC layer. */
struct metrics;
/* m (NULL: no metrics) counts the COMPOUND operations (server/metrics.h). */
/* On success *out is the server (struct nfs4_server, nfs4_instance.h),
 * which the caller owns until nfs4_server_shutdown. 0 or -errno. */
struct nfs4_server;
int nfs4_server_init(const struct daxnfs_config *cfg, struct metrics *m,
		     struct nfs4_server **out);
/* Called about once a second: expires clients, ends grace, retries callbacks. */
void nfs4_server_tick(struct nfs4_server *srv);
/* One line for the service manager: grace, clients (takes the state lock). */
void nfs4_server_status(const struct nfs4_server *srv, char *buf, size_t len);
/* Releases every client's state and frees srv (NULL: nothing). */
void nfs4_server_shutdown(struct nfs4_server *srv);

#endif
