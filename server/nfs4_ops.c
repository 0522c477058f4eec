/*
 * server/nfs4_ops.c: the one COMPOUND operation table (op number -> name,
 * handler, flags, reply estimate, hooks), in the manner of knfsd's
 * nfsd4_ops[], and the encoding of one result.
 *
 * Every ordering rule the compound loop enforces comes from these flags.
 * An operation with no handler answers NFS4ERR_NOTSUPP without decoding its
 * arguments (RFC 8881 §15.2: NOTSUPP is allowed for every optional op, and
 * required for the NFSv4.0-only ops in a v4.1 compound).
 * Arguments are decoded and results encoded by the generated codecs of
 * nfs_argop4 and nfs_resop4 (one pair for every operation), the handlers
 * see their own arm of each.
 * Calls: generated codecs, handlers and hooks named in nfs4_ops.h.
 * Called by: nfs4_compound.c.
 */
#include "server/nfs4_ops.h"

/* READ's data may travel as the request's payload, straight from where the
 * handler read it (nfs4_io.c, when READ is the compound's last op): a resok
 * whose data has a length and no bytes here puts only eof and the length in
 * the stream; the compound places the payload right after it. */
static bool read_result_encode_head(struct xdr_stream *x, const READ4res *r)
{
	return xdr_put_u32(x, OP_READ) && xdr_put_u32(x, (uint32_t)r->status) &&
	       xdr_put_bool(x, r->u.resok4.eof) && xdr_put_u32(x, r->u.resok4.data.len);
}

bool nfs4_op_result_encode(struct xdr_stream *x, const nfs_resop4 *res)
{
	const READ4res *r = &res->u.opread;

	if (res->resop == OP_READ && r->status == NFS4_OK && !r->u.resok4.data.val &&
	    r->u.resok4.data.len)
		return read_result_encode_head(x, r);
	return xdr_enc_nfs_resop4(x, res);
}

const struct nfs4_op_desc nfs4_op_table[] = {
	[OP_ACCESS] = { .name = "ACCESS", .handler = nfs4_op_access,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 16 },
	[OP_CLOSE] = { .name = "CLOSE", .handler = nfs4_op_close,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 24,
		.set_current_stateid = nfs4_close_set_current_stateid },
	[OP_COMMIT] = { .name = "COMMIT", .handler = nfs4_op_commit,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 16 },
	[OP_CREATE] = { .name = "CREATE", .handler = nfs4_op_create,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_DELEGPURGE] = { .name = "DELEGPURGE", .handler = nfs4_op_delegpurge,
		.reply_estimate = 8 },
	[OP_DELEGRETURN] = { .name = "DELEGRETURN", .handler = nfs4_op_delegreturn,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_GETATTR] = { .name = "GETATTR", .handler = nfs4_op_getattr,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 512 },
	[OP_GETFH] = { .name = "GETFH", .handler = nfs4_op_getfh,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 + NFS4_FHSIZE },
	[OP_LINK] = { .name = "LINK", .handler = nfs4_op_link,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 32 },
	[OP_LOCK] = { .name = "LOCK", .handler = nfs4_op_lock,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64,
		.set_current_stateid = nfs4_lock_set_current_stateid },
	[OP_LOCKT] = { .name = "LOCKT", .handler = nfs4_op_lockt,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_LOCKU] = { .name = "LOCKU", .handler = nfs4_op_locku,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 24,
		.set_current_stateid = nfs4_locku_set_current_stateid },
	[OP_LOOKUP] = { .name = "LOOKUP", .handler = nfs4_op_lookup,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_LOOKUPP] = { .name = "LOOKUPP", .handler = nfs4_op_lookupp,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_NVERIFY] = { .name = "NVERIFY", .handler = nfs4_op_nverify,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_OPEN] = { .name = "OPEN", .handler = nfs4_op_open,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 256,
		.set_current_stateid = nfs4_open_set_current_stateid },
	[OP_OPENATTR] = { .name = "OPENATTR", .flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_OPEN_CONFIRM] = { .name = "OPEN_CONFIRM", .reply_estimate = 8 },
	[OP_OPEN_DOWNGRADE] = { .name = "OPEN_DOWNGRADE", .handler = nfs4_op_open_downgrade,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 24,
		.set_current_stateid = nfs4_open_downgrade_set_current_stateid },
	[OP_PUTFH] = { .name = "PUTFH", .handler = nfs4_op_putfh, .reply_estimate = 8 },
	[OP_PUTPUBFH] = { .name = "PUTPUBFH", .handler = nfs4_op_putpubfh, .reply_estimate = 8 },
	[OP_PUTROOTFH] = { .name = "PUTROOTFH", .handler = nfs4_op_putrootfh, .reply_estimate = 8 },
	[OP_READ] = { .name = "READ", .handler = nfs4_op_read,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 16,
		.payload_estimate = nfs4_read_payload_estimate },
	[OP_READDIR] = { .name = "READDIR", .handler = nfs4_op_readdir,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 16,
		.payload_estimate = nfs4_readdir_payload_estimate },
	[OP_READLINK] = { .name = "READLINK", .handler = nfs4_op_readlink,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 16 + 4096 },
	[OP_REMOVE] = { .name = "REMOVE", .handler = nfs4_op_remove,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 32 },
	[OP_RENAME] = { .name = "RENAME", .handler = nfs4_op_rename,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 56 },
	[OP_RENEW] = { .name = "RENEW", .reply_estimate = 8 },
	[OP_RESTOREFH] = { .name = "RESTOREFH", .handler = nfs4_op_restorefh, .reply_estimate = 8 },
	[OP_SAVEFH] = { .name = "SAVEFH", .handler = nfs4_op_savefh,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_SECINFO] = { .name = "SECINFO", .handler = nfs4_op_secinfo,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_SETATTR] = { .name = "SETATTR", .handler = nfs4_op_setattr,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_SETCLIENTID] = { .name = "SETCLIENTID", .reply_estimate = 8 },
	[OP_SETCLIENTID_CONFIRM] = { .name = "SETCLIENTID_CONFIRM", .reply_estimate = 8 },
	[OP_VERIFY] = { .name = "VERIFY", .handler = nfs4_op_verify,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_WRITE] = { .name = "WRITE", .handler = nfs4_op_write,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 32 },
	[OP_RELEASE_LOCKOWNER] = { .name = "RELEASE_LOCKOWNER", .reply_estimate = 8 },
	[OP_BACKCHANNEL_CTL] = { .name = "BACKCHANNEL_CTL", .handler = nfs4_op_backchannel_ctl,
		.reply_estimate = 8 },
	[OP_BIND_CONN_TO_SESSION] = { .name = "BIND_CONN_TO_SESSION", .handler = nfs4_op_bind_conn_to_session,
		.flags = OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, .reply_estimate = 32 },
	[OP_EXCHANGE_ID] = { .name = "EXCHANGE_ID", .handler = nfs4_op_exchange_id,
		.flags = OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, .reply_estimate = 2048 },
	[OP_CREATE_SESSION] = { .name = "CREATE_SESSION", .handler = nfs4_op_create_session,
		.flags = OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, .reply_estimate = 128 },
	[OP_DESTROY_SESSION] = { .name = "DESTROY_SESSION", .handler = nfs4_op_destroy_session,
		.flags = OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, .reply_estimate = 8 },
	[OP_FREE_STATEID] = { .name = "FREE_STATEID", .handler = nfs4_op_free_stateid,
		.reply_estimate = 8 },
	[OP_GET_DIR_DELEGATION] = { .name = "GET_DIR_DELEGATION", .flags = OPF_NEEDS_CURFH,
		.reply_estimate = 8 },
	/* pNFS (RFC 8881 §18.40-18.44): nfs4_layout.c */
	[OP_GETDEVICEINFO] = { .name = "GETDEVICEINFO", .handler = nfs4_op_getdeviceinfo,
		.reply_estimate = 512 },
	[OP_GETDEVICELIST] = { .name = "GETDEVICELIST", .handler = nfs4_op_getdevicelist,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_LAYOUTCOMMIT] = { .name = "LAYOUTCOMMIT", .handler = nfs4_op_layoutcommit,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 24 },
	[OP_LAYOUTGET] = { .name = "LAYOUTGET", .handler = nfs4_op_layoutget,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 448 },
	[OP_LAYOUTRETURN] = { .name = "LAYOUTRETURN", .handler = nfs4_op_layoutreturn,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 32 },
	[OP_SECINFO_NO_NAME] = { .name = "SECINFO_NO_NAME", .handler = nfs4_op_secinfo_no_name,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_SEQUENCE] = { .name = "SEQUENCE", .handler = nfs4_op_sequence,
		.flags = OPF_SESSIONLESS | OPF_IS_SEQUENCE, .reply_estimate = 48 },
	[OP_SET_SSV] = { .name = "SET_SSV", .reply_estimate = 8 },
	[OP_TEST_STATEID] = { .name = "TEST_STATEID", .handler = nfs4_op_test_stateid,
		.reply_estimate = 8 },
	[OP_WANT_DELEGATION] = { .name = "WANT_DELEGATION", .handler = nfs4_op_want_delegation,
		.flags = OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_DESTROY_CLIENTID] = { .name = "DESTROY_CLIENTID", .handler = nfs4_op_destroy_clientid,
		.flags = OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, .reply_estimate = 8 },
	[OP_RECLAIM_COMPLETE] = { .name = "RECLAIM_COMPLETE", .handler = nfs4_op_reclaim_complete,
		.reply_estimate = 8 },
	/* NFSv4.2 (RFC 7862): CLONE, COPY, ALLOCATE, DEALLOCATE, SEEK in
	 * nfs4_v42_data.c; asynchronous copies, OFFLOAD_CANCEL and
	 * OFFLOAD_STATUS in nfs4_copy.c. */
	[OP_ALLOCATE] = { .name = "ALLOCATE", .handler = nfs4_op_allocate,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_COPY] = { .name = "COPY", .handler = nfs4_op_copy,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 64 },
	[OP_COPY_NOTIFY] = { .name = "COPY_NOTIFY", .flags = OPF_MINOR_2 | OPF_NEEDS_CURFH,
		.reply_estimate = 8 },
	[OP_DEALLOCATE] = { .name = "DEALLOCATE", .handler = nfs4_op_deallocate,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_IO_ADVISE] = { .name = "IO_ADVISE", .flags = OPF_MINOR_2 | OPF_NEEDS_CURFH,
		.reply_estimate = 8 },
	[OP_LAYOUTERROR] = { .name = "LAYOUTERROR", .handler = nfs4_op_layouterror,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_LAYOUTSTATS] = { .name = "LAYOUTSTATS", .handler = nfs4_op_layoutstats,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_OFFLOAD_CANCEL] = { .name = "OFFLOAD_CANCEL", .handler = nfs4_op_offload_cancel,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	[OP_OFFLOAD_STATUS] = { .name = "OFFLOAD_STATUS", .handler = nfs4_op_offload_status,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 24 },
	[OP_READ_PLUS] = { .name = "READ_PLUS", .handler = nfs4_op_read_plus,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 24 },
	[OP_SEEK] = { .name = "SEEK", .handler = nfs4_op_seek,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 16 },
	[OP_WRITE_SAME] = { .name = "WRITE_SAME", .flags = OPF_MINOR_2 | OPF_NEEDS_CURFH,
		.reply_estimate = 8 },
	[OP_CLONE] = { .name = "CLONE", .handler = nfs4_op_clone,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 8 },
	/* Extended attributes (RFC 8276) in nfs4_xattr.c; GETXATTR's value is
	 * sized when it is read, LISTXATTRS' names to the room in the reply. */
	[OP_GETXATTR] = { .name = "GETXATTR", .handler = nfs4_op_getxattr,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 16 },
	[OP_SETXATTR] = { .name = "SETXATTR", .handler = nfs4_op_setxattr,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 32 },
	[OP_LISTXATTRS] = { .name = "LISTXATTRS", .handler = nfs4_op_listxattrs,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 24 },
	[OP_REMOVEXATTR] = { .name = "REMOVEXATTR", .handler = nfs4_op_removexattr,
		.flags = OPF_MINOR_2 | OPF_NEEDS_CURFH, .reply_estimate = 32 },
};

const unsigned nfs4_op_table_len = sizeof(nfs4_op_table) / sizeof(nfs4_op_table[0]);
