/*
 * server/nfs4_ops.h: every COMPOUND operation handler, by file of concern.
 * The one table that names them is server/nfs4_ops.c.
 */
#ifndef DAXNFS_SERVER_NFS4_OPS_H
#define DAXNFS_SERVER_NFS4_OPS_H

#include "server/nfs4_compound.h"

/* Every handler: (compound, decoded arguments, results to fill) -> status.
 * Each is spelled out here and where it is defined, so that grep, ctags and
 * a debugger's backtrace find it by name. */

/* nfs4_session.c: clients and sessions (RFC 8881 §18.35-18.37, 18.46, 18.49-18.51) */
nfsstat4 nfs4_op_exchange_id(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_create_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_destroy_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_sequence(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_bind_conn_to_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_destroy_clientid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_reclaim_complete(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_backchannel_ctl(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_stateid.c */
nfsstat4 nfs4_op_test_stateid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_free_stateid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_layout.c: pNFS (RFC 8881 §18.40-18.44) */
nfsstat4 nfs4_op_getdeviceinfo(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_getdevicelist(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_layoutcommit(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_layouterror(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_layoutstats(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_layoutget(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_layoutreturn(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_fh.c: filehandles */
nfsstat4 nfs4_op_putfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_putrootfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_putpubfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_getfh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_savefh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_restorefh(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_getattr.c: attributes and access */
nfsstat4 nfs4_op_getattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_setattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_verify(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_nverify(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_access(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_lookup.c */
nfsstat4 nfs4_op_lookup(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_lookupp(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_secinfo(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_secinfo_no_name(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_readdir.c */
nfsstat4 nfs4_op_readdir(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_dirop.c */
nfsstat4 nfs4_op_create(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_remove(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_rename(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_link(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_readlink(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_open.c */
nfsstat4 nfs4_op_open(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_open_downgrade(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_close(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_io.c */
nfsstat4 nfs4_op_read(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_write(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_commit(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_lock.c */
nfsstat4 nfs4_op_lock(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_lockt(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_locku(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* nfs4_deleg.c */
nfsstat4 nfs4_op_delegreturn(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_delegpurge(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_want_delegation(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* NFSv4.2 data operations (nfs4_v42_data.c) */
nfsstat4 nfs4_op_clone(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_copy(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_allocate(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_deallocate(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_seek(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_read_plus(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* Asynchronous copies (nfs4_copy.c) */
nfsstat4 nfs4_op_offload_status(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_offload_cancel(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* Extended attributes, RFC 8276 (nfs4_xattr.c) */
nfsstat4 nfs4_op_getxattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_setxattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_listxattrs(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
nfsstat4 nfs4_op_removexattr(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);
/* Table hooks (struct nfs4_op_desc), beside their operations. */
uint32_t nfs4_read_payload_estimate(const nfs_argop4 *args);      /* nfs4_io.c */
uint32_t nfs4_readdir_payload_estimate(const nfs_argop4 *args);   /* nfs4_readdir.c */
void nfs4_open_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res);
void nfs4_open_downgrade_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res);
void nfs4_close_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res);
void nfs4_lock_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res);
void nfs4_locku_set_current_stateid(struct nfs4_compound *c, const nfs_resop4 *res);

#endif
