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
/* "NFS4ERR_BADSESSION" and the like, for log lines; buf (16 bytes or more)
 * holds "NFS4ERR_#n" for codes without a name here. */
const char *nfs4_status_name(nfsstat4 st, char *buf, size_t cap);

/* Encodes the attributes in want that fh supports as a fattr4 (attrmask of
 * what was encoded + attr_vals) allocated from c->arena. */
nfsstat4 nfs4_fattr_encode(struct nfs4_compound *c, const struct nfs4_fh *fh,
			   const bitmap4 *want, fattr4 *out);

/* Decodes a client's fattr4 for SETATTR/CREATE/OPEN into a backend setattr.
 * Unsupported attributes -> NFS4ERR_ATTRNOTSUPP; read-only ones -> NFS4ERR_INVAL,
 * and the delegated times (RFC 9754) too unless deleg_times (SETATTR only);
 * malformed values -> NFS4ERR_BADXDR; bad owner strings -> NFS4ERR_BADOWNER.
 * *set (arena) receives the mask of attributes that will be set. */
nfsstat4 nfs4_fattr_to_setattr(struct nfs4_compound *c, const fattr4 *in, bool deleg_times,
			       struct pmem_setattr *out, bitmap4 *set);

/* Lets OPEN/CREATE tell which attributes may be set at exclusive create
 * (suppattr_exclcreat). */
void nfs4_suppattr_exclcreat(bitmap4 *out, struct arena *a);

/* ---- additions by the namespace engineer (nfs4_attr.c, nfs4_idmap.c) ---- */

/* Options for encoding one READDIR entry's attributes. */
struct nfs4_fattr_opts {
	/* != NFS4_OK: the object could not be reached; only rdattr_error (and
	 * mounted_on_fileid when have_mounted_on) are encoded. */
	nfsstat4 rdattr_error;
	bool have_mounted_on;
	uint64_t mounted_on_fileid;
	/* size and change as the holder of a write delegation reported them
	 * (CB_GETATTR), in place of the server's own */
	bool have_deleg_attrs;
	uint64_t deleg_size, deleg_change;
	/* atime (and mtime) as the holder of a delegation with delegated
	 * timestamps reported them (RFC 9754), in place of the server's own */
	bool have_deleg_atime, have_deleg_mtime;
	struct pmem_time deleg_atime, deleg_mtime;
};

/* nfs4_fattr_encode with options (opts may be NULL). */
nfsstat4 nfs4_fattr_encode_ex(struct nfs4_compound *c, const struct nfs4_fh *fh,
			      const bitmap4 *want, const struct nfs4_fattr_opts *opts,
			      fattr4 *out);
/* XDR size of an encoded fattr4. */
size_t nfs4_fattr_xdr_size(const fattr4 *f);
/* Is attribute number n supported (GETATTR-able or settable) at c's minor version? */
bool nfs4_attr_supported(const struct nfs4_compound *c, unsigned n);
/* Is n a write-only attribute (time_access_set, time_modify_set)? */
bool nfs4_attr_write_only(unsigned n);
/* Is bit n set in b? */
bool nfs4_bitmap_isset(const bitmap4 *b, unsigned n);
/* Bits worth looking at in b (words past those the server knows are not). */
unsigned nfs4_bitmap_nbits(const bitmap4 *b);
/* Any bit set past the attributes the server knows (all unsupported)? */
bool nfs4_bitmap_beyond(const bitmap4 *b);

/* Owner strings (nfs4_idmap.c): numeric "1000" or "name@domain" in;
 * out numeric unless names (then name@domain when the id has a name). */
nfsstat4 nfs4_owner_decode(const struct xdr_opaque *s, bool group, uint32_t *id);
bool nfs4_owner_encode(struct arena *a, uint32_t id, bool group, bool names,
		       struct xdr_opaque *out);

#endif
