/*
 * server/nfs4_ops.h: every COMPOUND operation handler, by file of concern.
 * The one table that names them is server/nfs4_ops.c.
 */
#ifndef DAXNFS_SERVER_NFS4_OPS_H
#define DAXNFS_SERVER_NFS4_OPS_H

#include "server/nfs4_compound.h"

#define NFS4_OP(name) nfsstat4 nfs4_op_##name(struct nfs4_compound *c, void *args, void *res)

/* nfs4_session.c: clients and sessions (RFC 8881 §18.35-18.37, 18.46, 18.49-18.51) */
NFS4_OP(exchange_id); NFS4_OP(create_session); NFS4_OP(destroy_session);
NFS4_OP(sequence); NFS4_OP(bind_conn_to_session); NFS4_OP(destroy_clientid);
NFS4_OP(reclaim_complete); NFS4_OP(backchannel_ctl);
/* nfs4_stateid.c */
NFS4_OP(test_stateid); NFS4_OP(free_stateid);
/* nfs4_fh.c: filehandles */
NFS4_OP(putfh); NFS4_OP(putrootfh); NFS4_OP(putpubfh); NFS4_OP(getfh);
NFS4_OP(savefh); NFS4_OP(restorefh);
/* nfs4_getattr.c: attributes and access */
NFS4_OP(getattr); NFS4_OP(setattr); NFS4_OP(verify); NFS4_OP(nverify); NFS4_OP(access);
/* nfs4_lookup.c */
NFS4_OP(lookup); NFS4_OP(lookupp); NFS4_OP(secinfo); NFS4_OP(secinfo_no_name);
/* nfs4_readdir.c */
NFS4_OP(readdir);
/* nfs4_dirop.c */
NFS4_OP(create); NFS4_OP(remove); NFS4_OP(rename); NFS4_OP(link); NFS4_OP(readlink);
/* nfs4_open.c */
NFS4_OP(open); NFS4_OP(open_downgrade); NFS4_OP(close);
/* nfs4_io.c */
NFS4_OP(read); NFS4_OP(write); NFS4_OP(commit);
/* nfs4_lock.c */
NFS4_OP(lock); NFS4_OP(lockt); NFS4_OP(locku);
/* nfs4_deleg.c */
NFS4_OP(delegreturn); NFS4_OP(delegpurge);
/* nfs4_ops.c: operations that are not in NFSv4.1 or not served */
NFS4_OP(notsupp); NFS4_OP(illegal);

#endif
