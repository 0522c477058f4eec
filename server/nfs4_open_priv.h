/*
 * server/nfs4_open_priv.h: what nfs4_open.c, nfs4_open_state.c, nfs4_lock.c
 * and nfs4_io.c share and nobody else needs.
 */
#ifndef DAXNFS_SERVER_NFS4_OPEN_PRIV_H
#define DAXNFS_SERVER_NFS4_OPEN_PRIV_H

#include "server/nfs4_open.h"

/* The share access bits of share_access (the rest are OPEN4_SHARE_ACCESS_WANT_*). */
#define NFS4_OPEN_ACCESS_MASK 0xffu

/* What nfs4_open_state_get changed, so that OPEN can take it back when a
 * later step (truncation) fails. */
struct nfs4_open_undo {
	struct nfs4_open_state *os;
	bool created;
	uint32_t access, deny, access_bmap, deny_bmap, seqid;
	stateid4 sid;                 /* to find os again */
};

/* Opens obj for c->client's open owner with (access, deny): a new open
 * stateid, or the owner's existing one upgraded (seqid bumped). NFS4ERR_SHARE_DENIED
 * on a conflict with other opens. State lock held. */
nfsstat4 nfs4_open_state_get(struct nfs4_compound *c, const struct xdr_opaque *owner,
			     struct pmem_obj *obj, uint32_t access, uint32_t deny,
			     struct nfs4_open_undo *undo, struct nfs4_open_state **out);
void nfs4_open_state_undo(struct nfs4_compound *c, struct nfs4_open_undo *undo);

/* May the caller use obj with access (NFS4_SHARE_* bits)? The owner always
 * may; others need read (or execute) and/or write permission. Used by OPEN
 * and by I/O under a special stateid. */
nfsstat4 nfs4_open_permission(struct nfs4_compound *c, struct pmem_obj *obj, uint32_t access);

/* True when sid is the READ-bypass special stateid (all ones). */
bool nfs4_stateid_is_bypass(const stateid4 *sid);

#endif
