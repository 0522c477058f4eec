/*
 * server/nfs4_fh.h: NFSv4 file handles and the namespace helpers other
 * handlers share.
 *
 * Wire format (at most 4 + PMEM_HANDLE_MAX + 16 bytes, under NFS4_FHSIZE):
 *   byte 0      NFS4_FH_VERSION
 *   byte 1      kind: NFS4_FH_PSEUDO or NFS4_FH_OBJ
 *   bytes 2..3  export id, big endian (0 for pseudo nodes)
 *   bytes 4..   pseudo: the node id (8 bytes, big endian);
 *               obj: the backend's handle bytes (persistent: name_to_handle_at)
 *   last 16     MAC over everything before it (nfs4_fh_mac.h)
 * Handles do not expire (FH4_PERSISTENT). A handle whose MAC does not verify
 * (forged, relabelled, re-encoded, or from another server) or that is
 * garbled -> NFS4ERR_BADHANDLE, checked before the kernel sees any of it; an
 * unknown export or pseudo node, a removed file, or one that left its
 * export -> NFS4ERR_STALE.
 *
 * Calls: nfs4_export.h, nfs4_pseudo.h, pmem/backend.h.
 * Called by: every handler that takes or sets a filehandle.
 */
#ifndef DAXNFS_SERVER_NFS4_FH_H
#define DAXNFS_SERVER_NFS4_FH_H

#include <stdbool.h>
#include <stdint.h>

#include "server/nfs4_compound.h"
#include "server/nfs4_export.h"
#include "server/nfs4_pseudo.h"

#define NFS4_FH_VERSION 2   /* 1: before handles carried a MAC */
#define NFS4_FH_PSEUDO 1
#define NFS4_FH_OBJ 2
#define NFS4_FH_HDR 4

/* Resolves wire bytes into out (which must be empty/cleared). */
nfsstat4 nfs4_fh_from_wire(const void *data, uint32_t len, struct nfs4_fh *out);
/* Makes out the handle of obj in exp; consumes the caller's reference on obj
 * (also on failure). */
nfsstat4 nfs4_fh_from_obj(struct nfs4_export *exp, struct pmem_obj *obj, struct nfs4_fh *out);
/* The handle of a pseudo node: the export root when an export is mounted there. */
nfsstat4 nfs4_fh_from_node(struct nfs4_pseudo_node *n, struct nfs4_fh *out);
/* Moves fh into c->cur (c->cur's old contents released; fh left empty) and
 * re-applies the squash rules of the new current export to c->cred. */
void nfs4_fh_set_current(struct nfs4_compound *c, struct nfs4_fh *fh);

/* Type of the object behind fh (pseudo nodes are directories). */
enum pmem_obj_type nfs4_fh_type(const struct nfs4_fh *fh);
/* NFS4ERR_ROFS on pseudo nodes and read-only exports, NFS4ERR_ACCESS on
 * Access_Type = None; NFS4_OK when fh's export may be modified. */
nfsstat4 nfs4_fh_check_writable(const struct nfs4_compound *c, const struct nfs4_fh *fh);
/* NFS4_OK for a directory; else NFS4ERR_NOTDIR (NFS4ERR_SYMLINK for a symlink
 * when symlink_err). */
nfsstat4 nfs4_fh_check_dir(const struct nfs4_fh *fh, bool symlink_err);
/* Current fh must be a regular file (OPEN/READ/WRITE... helpers): ISDIR for
 * a directory, SYMLINK for a symlink, INVAL for anything else. */
nfsstat4 nfs4_fh_check_reg(const struct nfs4_fh *fh);

/* Checks a component4 (RFC 8881 §14.4, §18.x): empty -> INVAL, not UTF-8
 * (nfs4_utf8_valid) -> INVAL, longer than NAME_MAX -> NAMETOOLONG, '/' or NUL -> BADCHAR,
 * "." or ".." -> BADNAME. On success *out is a NUL-terminated arena copy. */
nfsstat4 nfs4_name_check(struct nfs4_compound *c, const struct xdr_opaque *name, char **out);
/* Valid UTF-8 (no overlongs, no surrogates), without U+FFFE and U+FFFF. */
bool nfs4_utf8_valid(const uint8_t *s, size_t len);

/* The change attribute of a directory, for change_info4 (0 when unknown). */
uint64_t nfs4_fh_change(const struct nfs4_fh *fh);

/*
 * Hook for the open/lock engineer (nfs4_open.c): SETATTR of size with stateid
 * sid on obj; checks the stateid (special ones allowed) and conflicts with
 * other clients' share deny modes and byte-range locks (RFC 8881 §18.30.4).
 * Referenced weakly by nfs4_getattr.c: while nobody defines it, SETATTR
 * falls back to nfs4_stid_lookup alone.
 */
nfsstat4 nfs4_open_check_setattr_size(struct nfs4_compound *c, const stateid4 *sid,
				      struct pmem_obj *obj);

#endif
