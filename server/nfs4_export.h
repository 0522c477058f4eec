/*
 * server/nfs4_export.h: the exports the server serves.
 *
 * Job: one struct nfs4_export per EXPORT block: the config, the backend
 * export opened on its Path, a referenced root object and its wire handle,
 * and the pseudo-fs node it is mounted on. Built at start
 * (nfs4_exports_init in nfs4_server.h); a reload (nfs4_exports_reload)
 * publishes a new set of objects and keeps the old ones until exit, so an
 * object, once found, is immutable and valid for the daemon's life and
 * handlers use the pointers without references or locks. The same export
 * (Export_Id) shares its backend across reloads: nfs4_export_same, not the
 * export pointers, tells whether two handles are in one export. Also
 * applies an export's squash rules to a caller's RPC credential.
 * Calls: pmem/backend.h, server/nfs4_pseudo.h, conf/.
 * Called by: server/nfs4_fh.c and the namespace handlers.
 */
#ifndef DAXNFS_SERVER_NFS4_EXPORT_H
#define DAXNFS_SERVER_NFS4_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "pmem/backend.h"
#include "rpc/rpc.h"

struct nfs4_pseudo_node;
struct export_backend;

struct nfs4_export {
	struct conf_export conf;
	struct export_backend *be;         /* referenced; pexp, root... are its */
	struct pmem_export *pexp;
	struct pmem_obj *root;             /* referenced for the export's life */
	uint64_t root_fileid;
	bool xattr_user;                   /* the filesystem keeps "user." attributes */
	struct nfs4_pseudo_node *node;     /* where Pseudo mounts it */
};

/* The export with this Export_Id, or NULL. */
struct nfs4_export *nfs4_export_by_id(uint16_t id);
/* The pseudo fs tree of the current exports (nfs4_pseudo_root). */
struct nfs4_pseudo_node *nfs4_export_pseudo_root(void);

/* The caller's credential after exp's squash rules (exp NULL: the pseudo fs,
 * where the caller is used as is). AUTH_NONE callers are anonymous. */
void nfs4_export_cred(const struct nfs4_export *exp, const struct rpc_cred *rc,
		      struct pmem_cred *out);

/* True when a and b (NULL: the pseudo fs) are the same export, across a
 * reload too (the same backend). */
bool nfs4_export_same(const struct nfs4_export *a, const struct nfs4_export *b);

/* True when obj is exp's root directory. */
bool nfs4_export_is_root(const struct nfs4_export *exp, const struct pmem_obj *obj);

/* Largest READ/WRITE payload advertised (maxread/maxwrite), from the config's
 * record size. */
uint32_t nfs4_export_max_io(void);
/* NFSV4.Domain, for owner@domain strings. */
const char *nfs4_export_domain(void);
/* When the current export table was built (pseudo-fs times and change:
 * a reload changes them, so clients see the pseudo fs anew). */
int64_t nfs4_export_boot_ns(void);

#endif
