/*
 * server/nfs4_deleg.c: DELEGRETURN and DELEGPURGE (RFC 8881 §18.6, §18.5).
 *
 * Job: the server grants no delegations yet, so DELEGRETURN can only meet
 * stateids that are not delegations: nfs4_stid_lookup with the delegation
 * type answers them (NFS4ERR_BAD_STATEID for an open or lock stateid or a
 * special one, OLD/ EXPIRED/ ADMIN_REVOKED as §8.2 says). DELEGPURGE exists
 * for CLAIM_DELEGATE_PREV, which is not supported: NFS4ERR_NOTSUPP, as the
 * RFC asks of such servers.
 * Calls: nfs4_state.h. Called by: the compound loop.
 */
#include "server/nfs4_fh.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_state.h"

nfsstat4 nfs4_op_delegreturn(struct nfs4_compound *c, void *args, void *res)
{
	DELEGRETURN4args *a = args;
	struct nfs4_stid *stid = NULL;
	nfsstat4 st;

	nfs4_state_lock();
	st = nfs4_stid_lookup(c, &a->deleg_stateid, NFS4_STID_DELEG, false, &stid);
	if (st == NFS4_OK && (!stid || stid->type != NFS4_STID_DELEG))
		st = NFS4ERR_BAD_STATEID;
	if (st == NFS4_OK)
		nfs4_stid_destroy(stid);
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_delegpurge(struct nfs4_compound *c, void *args, void *res)
{
	return NFS4ERR_NOTSUPP;
}
