/*
 * server/nfs4_ops.c: the one COMPOUND operation table (op number -> codec,
 * handler, flags, reply estimate), in the manner of knfsd's nfsd4_ops[].
 *
 * Every ordering rule the compound loop enforces comes from these flags.
 * An operation with no handler answers NFS4ERR_NOTSUPP without decoding its
 * arguments (RFC 8881 §15.2: NOTSUPP is allowed for every optional op, and
 * required for the NFSv4.0-only ops in a v4.1 compound).
 * Calls: generated codecs, handlers named in nfs4_ops.h. Called by: nfs4_compound.c.
 */
#include "server/nfs4_ops.h"

/* Typed codecs to the table's void* shape, one pair per operation type. */
#define CODEC_ARGS(T) static bool dec_##T(struct xdr_stream *x, void *v) { return xdr_dec_##T(x, v); }
#define CODEC_RES(T)  static bool enc_##T(struct xdr_stream *x, const void *v) { return xdr_enc_##T(x, v); }
#define CODEC(OP) CODEC_ARGS(OP##4args) CODEC_RES(OP##4res)
#define CODEC_NOARGS(OP) CODEC_RES(OP##4res)

CODEC(ACCESS) CODEC(CLOSE) CODEC(COMMIT) CODEC(CREATE) CODEC(DELEGPURGE)
CODEC(DELEGRETURN) CODEC(GETATTR) CODEC_NOARGS(GETFH) CODEC(LINK) CODEC(LOCK)
CODEC(LOCKT) CODEC(LOCKU) CODEC(LOOKUP) CODEC_NOARGS(LOOKUPP) CODEC(NVERIFY)
CODEC(OPEN) CODEC(OPEN_DOWNGRADE) CODEC(PUTFH) CODEC_NOARGS(PUTPUBFH)
CODEC_NOARGS(PUTROOTFH) CODEC_ARGS(READ4args) CODEC(READDIR) CODEC_NOARGS(READLINK)
CODEC(REMOVE) CODEC(RENAME) CODEC_NOARGS(RESTOREFH) CODEC_NOARGS(SAVEFH)
CODEC(SECINFO) CODEC(SETATTR) CODEC(VERIFY) CODEC(WRITE) CODEC(BACKCHANNEL_CTL)
CODEC(BIND_CONN_TO_SESSION) CODEC(EXCHANGE_ID) CODEC(CREATE_SESSION)
CODEC(DESTROY_SESSION) CODEC(FREE_STATEID) CODEC(SECINFO_NO_NAME) CODEC(SEQUENCE)
CODEC(TEST_STATEID) CODEC(WANT_DELEGATION) CODEC(DESTROY_CLIENTID) CODEC(RECLAIM_COMPLETE)
CODEC(CLONE) CODEC(COPY) CODEC(READ_PLUS) CODEC(ALLOCATE) CODEC(DEALLOCATE) CODEC(SEEK) CODEC(GETXATTR) CODEC(SETXATTR)
CODEC(LISTXATTRS) CODEC(REMOVEXATTR) CODEC(OFFLOAD_STATUS) CODEC(OFFLOAD_CANCEL)
CODEC_NOARGS(ILLEGAL)

/* READ's data may travel in req->tail_iov, straight from where the handler
 * read it (nfs4_io.c, when READ is the compound's last op): a resok whose
 * data has a length and no bytes here puts only eof and the length in the
 * stream; the bytes and their padding follow as the tail. */
static bool enc_READ4res(struct xdr_stream *x, const void *v)
{
	const READ4res *r = v;

	if (r->status == NFS4_OK && !r->u.resok4.data.val && r->u.resok4.data.len)
		return xdr_put_u32(x, (uint32_t)r->status) && xdr_put_bool(x, r->u.resok4.eof) &&
		       xdr_put_u32(x, r->u.resok4.data.len);
	return xdr_enc_READ4res(x, v);
}

#define OPD(num, OP, fn, argsz, dec, enc, resz, fl, est) \
	[num] = { #OP, argsz, resz, dec, enc, fn, fl, est }
/* An operation with its handler (named in full, so grep finds this table). */
#define OPH(OP, fn, fl, est) \
	OPD(OP_##OP, OP, fn, sizeof(OP##4args), dec_##OP##4args, \
	    enc_##OP##4res, sizeof(OP##4res), fl, est)
/* An operation with a handler and no arguments. */
#define OPV(OP, fn, fl, est) \
	OPD(OP_##OP, OP, fn, 0, NULL, enc_##OP##4res, sizeof(OP##4res), fl, est)
/* An operation that exists in the protocol and is not served (yet). */
#define OPN(OP, fl) [OP_##OP] = { #OP, 0, 0, NULL, NULL, NULL, fl, 8 }

#define FH   OPF_NEEDS_CURFH
#define M1   OPF_MINOR_1
#define M2   OPF_MINOR_2
#define MOD  OPF_MODIFIES_STATE

const struct nfs4_op_desc nfs4_op_table[] = {
	OPH(ACCESS, nfs4_op_access, FH, 16),
	OPH(CLOSE, nfs4_op_close, FH | MOD, 24),
	OPH(COMMIT, nfs4_op_commit, FH, 16),
	OPH(CREATE, nfs4_op_create, FH | MOD, 64),
	OPH(DELEGPURGE, nfs4_op_delegpurge, MOD, 8),
	OPH(DELEGRETURN, nfs4_op_delegreturn, FH | MOD, 8),
	OPH(GETATTR, nfs4_op_getattr, FH, 512),
	OPV(GETFH, nfs4_op_getfh, FH, 8 + NFS4_FHSIZE),
	OPH(LINK, nfs4_op_link, FH | MOD, 32),
	OPH(LOCK, nfs4_op_lock, FH | MOD, 64),
	OPH(LOCKT, nfs4_op_lockt, FH, 64),
	OPH(LOCKU, nfs4_op_locku, FH | MOD, 24),
	OPH(LOOKUP, nfs4_op_lookup, FH, 8),
	OPV(LOOKUPP, nfs4_op_lookupp, FH, 8),
	OPH(NVERIFY, nfs4_op_nverify, FH, 8),
	OPH(OPEN, nfs4_op_open, FH | MOD, 256),
	OPN(OPENATTR, FH),
	OPN(OPEN_CONFIRM, 0),
	OPH(OPEN_DOWNGRADE, nfs4_op_open_downgrade, FH | MOD, 24),
	OPH(PUTFH, nfs4_op_putfh, 0, 8),
	OPV(PUTPUBFH, nfs4_op_putpubfh, 0, 8),
	OPV(PUTROOTFH, nfs4_op_putrootfh, 0, 8),
	OPH(READ, nfs4_op_read, FH, 16),
	OPH(READDIR, nfs4_op_readdir, FH, 16),
	OPV(READLINK, nfs4_op_readlink, FH, 16 + 4096),
	OPH(REMOVE, nfs4_op_remove, FH | MOD, 32),
	OPH(RENAME, nfs4_op_rename, FH | MOD, 56),
	OPN(RENEW, 0),
	OPV(RESTOREFH, nfs4_op_restorefh, 0, 8),
	OPV(SAVEFH, nfs4_op_savefh, FH, 8),
	OPH(SECINFO, nfs4_op_secinfo, FH, 64),
	OPH(SETATTR, nfs4_op_setattr, FH | MOD, 64),
	OPN(SETCLIENTID, 0),
	OPN(SETCLIENTID_CONFIRM, 0),
	OPH(VERIFY, nfs4_op_verify, FH, 8),
	OPH(WRITE, nfs4_op_write, FH | MOD, 32),
	OPN(RELEASE_LOCKOWNER, 0),
	OPH(BACKCHANNEL_CTL, nfs4_op_backchannel_ctl, M1, 8),
	OPH(BIND_CONN_TO_SESSION, nfs4_op_bind_conn_to_session, M1 | OPF_SESSIONLESS | OPF_SOLE_IF_FIRST, 32),
	OPH(EXCHANGE_ID, nfs4_op_exchange_id, M1 | OPF_SESSIONLESS | OPF_SOLE_IF_FIRST | MOD, 2048),
	OPH(CREATE_SESSION, nfs4_op_create_session, M1 | OPF_SESSIONLESS | OPF_SOLE_IF_FIRST | MOD, 128),
	OPH(DESTROY_SESSION, nfs4_op_destroy_session, M1 | OPF_SESSIONLESS | OPF_SOLE_IF_FIRST | MOD, 8),
	OPH(FREE_STATEID, nfs4_op_free_stateid, M1 | MOD, 8),
	OPN(GET_DIR_DELEGATION, M1 | FH),
	OPN(GETDEVICEINFO, M1),
	OPN(GETDEVICELIST, M1 | FH),
	OPN(LAYOUTCOMMIT, M1 | FH),
	OPN(LAYOUTGET, M1 | FH),
	OPN(LAYOUTRETURN, M1 | FH),
	OPH(SECINFO_NO_NAME, nfs4_op_secinfo_no_name, M1 | FH, 64),
	OPH(SEQUENCE, nfs4_op_sequence, M1 | OPF_SESSIONLESS | OPF_IS_SEQUENCE, 48),
	OPN(SET_SSV, M1),
	OPH(TEST_STATEID, nfs4_op_test_stateid, M1, 8),
	OPH(WANT_DELEGATION, nfs4_op_want_delegation, M1 | FH | MOD, 64),
	OPH(DESTROY_CLIENTID, nfs4_op_destroy_clientid, M1 | OPF_SESSIONLESS | OPF_SOLE_IF_FIRST | MOD, 8),
	OPH(RECLAIM_COMPLETE, nfs4_op_reclaim_complete, M1 | MOD, 8),
	/* NFSv4.2 (RFC 7862): CLONE, COPY, ALLOCATE, DEALLOCATE, SEEK in
	 * nfs4_v42_data.c; asynchronous copies, OFFLOAD_CANCEL and
	 * OFFLOAD_STATUS in nfs4_copy.c. */
	OPH(ALLOCATE, nfs4_op_allocate, M2 | FH | MOD, 8),
	OPH(COPY, nfs4_op_copy, M2 | FH | MOD, 64),
	OPN(COPY_NOTIFY, M2 | FH),
	OPH(DEALLOCATE, nfs4_op_deallocate, M2 | FH | MOD, 8),
	OPN(IO_ADVISE, M2 | FH),
	OPN(LAYOUTERROR, M2 | FH),
	OPN(LAYOUTSTATS, M2 | FH),
	OPH(OFFLOAD_CANCEL, nfs4_op_offload_cancel, M2 | FH | MOD, 8),
	OPH(OFFLOAD_STATUS, nfs4_op_offload_status, M2 | FH, 24),
	OPH(READ_PLUS, nfs4_op_read_plus, M2 | FH, 24),
	OPH(SEEK, nfs4_op_seek, M2 | FH, 16),
	OPN(WRITE_SAME, M2 | FH),
	OPH(CLONE, nfs4_op_clone, M2 | FH | MOD, 8),
	/* Extended attributes (RFC 8276) in nfs4_xattr.c; GETXATTR's value is
	 * sized when it is read, LISTXATTRS' names to the room in the reply. */
	OPH(GETXATTR, nfs4_op_getxattr, M2 | FH, 16),
	OPH(SETXATTR, nfs4_op_setxattr, M2 | FH | MOD, 32),
	OPH(LISTXATTRS, nfs4_op_listxattrs, M2 | FH, 24),
	OPH(REMOVEXATTR, nfs4_op_removexattr, M2 | FH | MOD, 32),
};

const unsigned nfs4_op_table_len = sizeof(nfs4_op_table) / sizeof(nfs4_op_table[0]);

/* OP_ILLEGAL is outside the table's range; the loop uses this entry for it and
 * for any number with no name in the table. */
const struct nfs4_op_desc nfs4_op_illegal_desc = {
	"ILLEGAL", 0, sizeof(ILLEGAL4res), NULL, enc_ILLEGAL4res, nfs4_op_illegal, 0, 8
};

nfsstat4 nfs4_op_notsupp(struct nfs4_compound *c, void *args, void *res)
{
	return NFS4ERR_NOTSUPP;
}

nfsstat4 nfs4_op_illegal(struct nfs4_compound *c, void *args, void *res)
{
	return NFS4ERR_OP_ILLEGAL;
}
