/*
 * server/nfs4_attr.h: NFSv4 file attributes (fattr4) to and from the backend's
 * attributes, owner strings, and the errno -> nfsstat4 table.
 * Implemented by: nfs4_attr.c, nfs4_idmap.c, nfs4_errno.c.
 * Called by: GETATTR/SETATTR/VERIFY/READDIR/OPEN/CREATE handlers.
 */
#ifndef DAXNFS_SERVER_NFS4_ATTR_H
#define DAXNFS_SERVER_NFS4_ATTR_H

#include "server/nfs4_compound.h"

/* The one errno -> status translation (negative or positive errno accepted). */
nfsstat4 nfs4_errno_to_status(int err);

/* Encodes the attributes in want that fh supports as a fattr4 (attrmask of
 * what was encoded + attr_vals) allocated from c->arena. */
nfsstat4 nfs4_fattr_encode(struct nfs4_compound *c, const struct nfs4_fh *fh,
			   const bitmap4 *want, fattr4 *out);

/* Decodes a client's fattr4 for SETATTR/CREATE/OPEN into a backend setattr.
 * Unsupported attributes -> NFS4ERR_ATTRNOTSUPP; read-only ones -> NFS4ERR_INVAL;
 * malformed values -> NFS4ERR_BADXDR; bad owner strings -> NFS4ERR_BADOWNER.
 * *set (arena) receives the mask of attributes that will be set. */
nfsstat4 nfs4_fattr_to_setattr(struct nfs4_compound *c, const fattr4 *in,
			       struct pmem_setattr *out, bitmap4 *set);

/* Lets OPEN/CREATE tell which attributes may be set at exclusive create
 * (suppattr_exclcreat). */
void nfs4_suppattr_exclcreat(bitmap4 *out, struct arena *a);

#endif
