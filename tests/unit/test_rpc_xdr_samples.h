/*
 * tests/unit/test_rpc_xdr_samples.h: representative NFSv4.1/4.2 messages
 * built as C values, shared by the XDR round-trip, hostile-input and
 * mutation tests (and the fuzz corpus seeds).
 *
 * Every builder fills a caller-provided value from static storage; the
 * values never need freeing. xdrs_encode() runs any generated encoder into
 * a heap buffer of exactly the needed size so that ASan sees any overrun.
 */
#ifndef DAXNFS_TEST_RPC_XDR_SAMPLES_H
#define DAXNFS_TEST_RPC_XDR_SAMPLES_H

#include <stdlib.h>
#include <string.h>

#include "rpc/nfs4_xdr_gen.h"

#define XDRS_BUF 65536u

static inline struct xdr_opaque xdrs_str(const char *s)
{
	struct xdr_opaque o = { (uint32_t)strlen(s), (uint8_t *)s };
	return o;
}

static uint8_t xdrs_fh_bytes[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				     13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
static uint32_t xdrs_mask_words[2] = { 0x0010011a, 0x00b0a23a };
static uint8_t xdrs_attr_bytes[12] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x10, 0 };

static inline void xdrs_fattr(fattr4 *f)
{
	f->attrmask.len = 2;
	f->attrmask.val = xdrs_mask_words;
	f->attr_vals.len = sizeof(xdrs_attr_bytes);
	f->attr_vals.val = xdrs_attr_bytes;
}

static inline void xdrs_sessionid(sessionid4 sid)
{
	for (unsigned i = 0; i < NFS4_SESSIONID_SIZE; i++)
		sid[i] = (uint8_t)(0xa0 + i);
}

/* SEQUENCE + PUTFH + OPEN(CLAIM_NULL, EXCLUSIVE4_1) + GETATTR */
static nfs_argop4 xdrs_ops[4];

static inline void xdrs_compound_args(COMPOUND4args *c)
{
	nfs_argop4 *op = xdrs_ops;
	OPEN4args *o;

	memset(c, 0, sizeof(*c));
	memset(xdrs_ops, 0, sizeof(xdrs_ops));
	c->tag = xdrs_str("open-create");
	c->minorversion = 1;

	op[0].argop = OP_SEQUENCE;
	xdrs_sessionid(op[0].u.opsequence.sa_sessionid);
	op[0].u.opsequence.sa_sequenceid = 7;
	op[0].u.opsequence.sa_slotid = 1;
	op[0].u.opsequence.sa_highest_slotid = 3;
	op[0].u.opsequence.sa_cachethis = true;

	op[1].argop = OP_PUTFH;
	op[1].u.opputfh.object.len = sizeof(xdrs_fh_bytes);
	op[1].u.opputfh.object.val = xdrs_fh_bytes;

	op[2].argop = OP_OPEN;
	o = &op[2].u.opopen;
	o->seqid = 0;
	o->share_access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = 0x1122334455667788ull;
	o->owner.owner = xdrs_str("open-owner-1");
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.u.how.mode = EXCLUSIVE4_1;
	memcpy(o->openhow.u.how.u.ch_createboth.cva_verf, "verifier", NFS4_VERIFIER_SIZE);
	xdrs_fattr(&o->openhow.u.how.u.ch_createboth.cva_attrs);
	o->claim.claim = CLAIM_NULL;
	o->claim.u.file = xdrs_str("newfile.txt");

	op[3].argop = OP_GETATTR;
	op[3].u.opgetattr.attr_request.len = 2;
	op[3].u.opgetattr.attr_request.val = xdrs_mask_words;

	c->argarray.len = 4;
	c->argarray.val = xdrs_ops;
}

static nfs_impl_id4 xdrs_impl;

static inline void xdrs_exchange_id_res(EXCHANGE_ID4res *r)
{
	EXCHANGE_ID4resok *ok = &r->u.eir_resok4;

	memset(r, 0, sizeof(*r));
	r->eir_status = NFS4_OK;
	ok->eir_clientid = 0xfeedfacecafebeefull;
	ok->eir_sequenceid = 1;
	ok->eir_flags = EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_CONFIRMED_R;
	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 42;
	ok->eir_server_owner.so_major_id = xdrs_str("daxnfs-major");
	ok->eir_server_scope = xdrs_str("scope");
	xdrs_impl.nii_domain = xdrs_str("example.org");
	xdrs_impl.nii_name = xdrs_str("daxnfs 0.1");
	xdrs_impl.nii_date.seconds = 1700000000;
	xdrs_impl.nii_date.nseconds = 5;
	ok->eir_server_impl_id.len = 1;
	ok->eir_server_impl_id.val = &xdrs_impl;
}

static entry4 xdrs_entries[3];

static inline void xdrs_readdir_res(READDIR4res *r)
{
	static const char *names[3] = { "a", "bb", "ccc" };

	memset(r, 0, sizeof(*r));
	memset(xdrs_entries, 0, sizeof(xdrs_entries));
	r->status = NFS4_OK;
	memcpy(r->u.resok4.cookieverf, "cookieve", NFS4_VERIFIER_SIZE);
	for (unsigned i = 0; i < 3; i++) {
		xdrs_entries[i].cookie = 100 + i;
		xdrs_entries[i].name = xdrs_str(names[i]);
		xdrs_fattr(&xdrs_entries[i].attrs);
		xdrs_entries[i].nextentry = i < 2 ? &xdrs_entries[i + 1] : NULL;
	}
	r->u.resok4.reply.entries = &xdrs_entries[0];
	r->u.resok4.reply.eof = true;
}

static callback_sec_parms4 xdrs_secparms[2];
static uint32_t xdrs_gids[3] = { 10, 20, 30 };
static uint32_t xdrs_ird = 4;

static inline void xdrs_create_session_args(CREATE_SESSION4args *a)
{
	memset(a, 0, sizeof(*a));
	memset(xdrs_secparms, 0, sizeof(xdrs_secparms));
	a->csa_clientid = 0xfeedfacecafebeefull;
	a->csa_sequence = 1;
	a->csa_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	a->csa_fore_chan_attrs.ca_headerpadsize = 0;
	a->csa_fore_chan_attrs.ca_maxrequestsize = 1049620;
	a->csa_fore_chan_attrs.ca_maxresponsesize = 1049480;
	a->csa_fore_chan_attrs.ca_maxresponsesize_cached = 7584;
	a->csa_fore_chan_attrs.ca_maxoperations = 16;
	a->csa_fore_chan_attrs.ca_maxrequests = 64;
	a->csa_back_chan_attrs = a->csa_fore_chan_attrs;
	a->csa_back_chan_attrs.ca_rdma_ird.len = 1;
	a->csa_back_chan_attrs.ca_rdma_ird.val = &xdrs_ird;
	a->csa_cb_program = 0x40000000;
	xdrs_secparms[0].cb_secflavor = AUTH_SYS;
	xdrs_secparms[0].u.cbsp_sys_cred.stamp = 99;
	xdrs_secparms[0].u.cbsp_sys_cred.machinename = xdrs_str("client.example.org");
	xdrs_secparms[0].u.cbsp_sys_cred.uid = 1000;
	xdrs_secparms[0].u.cbsp_sys_cred.gid = 1000;
	xdrs_secparms[0].u.cbsp_sys_cred.gids.len = 3;
	xdrs_secparms[0].u.cbsp_sys_cred.gids.val = xdrs_gids;
	xdrs_secparms[1].cb_secflavor = AUTH_NONE;
	a->csa_sec_parms.len = 2;
	a->csa_sec_parms.val = xdrs_secparms;
}

static nfs_cb_argop4 xdrs_cbops[2];
static referring_call_list4 xdrs_rcl;
static referring_call4 xdrs_rc[2] = { { 5, 0 }, { 9, 2 } };

/* CB_SEQUENCE + CB_LAYOUTRECALL(FILE) */
static inline void xdrs_cb_compound_args(CB_COMPOUND4args *c)
{
	CB_LAYOUTRECALL4args *lr;

	memset(c, 0, sizeof(*c));
	memset(xdrs_cbops, 0, sizeof(xdrs_cbops));
	c->tag = xdrs_str("cb");
	c->minorversion = 1;
	c->callback_ident = 0;
	xdrs_cbops[0].argop = OP_CB_SEQUENCE;
	xdrs_sessionid(xdrs_cbops[0].u.opcbsequence.csa_sessionid);
	xdrs_cbops[0].u.opcbsequence.csa_sequenceid = 3;
	xdrs_cbops[0].u.opcbsequence.csa_slotid = 0;
	xdrs_cbops[0].u.opcbsequence.csa_highest_slotid = 0;
	xdrs_cbops[0].u.opcbsequence.csa_cachethis = false;
	xdrs_sessionid(xdrs_rcl.rcl_sessionid);
	xdrs_rcl.rcl_referring_calls.len = 2;
	xdrs_rcl.rcl_referring_calls.val = xdrs_rc;
	xdrs_cbops[0].u.opcbsequence.csa_referring_call_lists.len = 1;
	xdrs_cbops[0].u.opcbsequence.csa_referring_call_lists.val = &xdrs_rcl;

	xdrs_cbops[1].argop = OP_CB_LAYOUTRECALL;
	lr = &xdrs_cbops[1].u.opcblayoutrecall;
	lr->clora_type = LAYOUT4_NFSV4_1_FILES;
	lr->clora_iomode = LAYOUTIOMODE4_ANY;
	lr->clora_changed = true;
	lr->clora_recall.lor_recalltype = LAYOUTRECALL4_FILE;
	lr->clora_recall.u.lor_layout.lor_fh.len = sizeof(xdrs_fh_bytes);
	lr->clora_recall.u.lor_layout.lor_fh.val = xdrs_fh_bytes;
	lr->clora_recall.u.lor_layout.lor_offset = 0;
	lr->clora_recall.u.lor_layout.lor_length = NFS4_UINT64_MAX;
	lr->clora_recall.u.lor_layout.lor_stateid.seqid = 2;
	memcpy(lr->clora_recall.u.lor_layout.lor_stateid.other, "0123456789ab", NFS4_OTHER_SIZE);

	c->argarray.len = 2;
	c->argarray.val = xdrs_cbops;
}

static nfs_cb_resop4 xdrs_cbres[2];

static inline void xdrs_cb_compound_res(CB_COMPOUND4res *c)
{
	memset(c, 0, sizeof(*c));
	memset(xdrs_cbres, 0, sizeof(xdrs_cbres));
	c->status = NFS4ERR_NOMATCHING_LAYOUT;
	c->tag = xdrs_str("cb");
	xdrs_cbres[0].resop = OP_CB_SEQUENCE;
	xdrs_cbres[0].u.opcbsequence.csr_status = NFS4_OK;
	xdrs_sessionid(xdrs_cbres[0].u.opcbsequence.u.csr_resok4.csr_sessionid);
	xdrs_cbres[0].u.opcbsequence.u.csr_resok4.csr_sequenceid = 3;
	xdrs_cbres[0].u.opcbsequence.u.csr_resok4.csr_target_highest_slotid = 7;
	xdrs_cbres[1].resop = OP_CB_LAYOUTRECALL;
	xdrs_cbres[1].u.opcblayoutrecall.clorr_status = NFS4ERR_NOMATCHING_LAYOUT;
	c->resarray.len = 2;
	c->resarray.val = xdrs_cbres;
}

static nfs_resop4 xdrs_res[4];

static inline void xdrs_compound_res(COMPOUND4res *c)
{
	OPEN4resok *ok;

	memset(c, 0, sizeof(*c));
	memset(xdrs_res, 0, sizeof(xdrs_res));
	c->status = NFS4_OK;
	c->tag = xdrs_str("open-create");
	xdrs_res[0].resop = OP_SEQUENCE;
	xdrs_res[0].u.opsequence.sr_status = NFS4_OK;
	xdrs_sessionid(xdrs_res[0].u.opsequence.u.sr_resok4.sr_sessionid);
	xdrs_res[1].resop = OP_PUTFH;
	xdrs_res[2].resop = OP_OPEN;
	ok = &xdrs_res[2].u.opopen.u.resok4;
	ok->stateid.seqid = 1;
	ok->cinfo.atomic = true;
	ok->cinfo.before = 1;
	ok->cinfo.after = 2;
	ok->rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
	ok->attrset.len = 2;
	ok->attrset.val = xdrs_mask_words;
	ok->delegation.delegation_type = OPEN_DELEGATE_READ;
	ok->delegation.u.read.recall = false;
	ok->delegation.u.read.permissions.who = xdrs_str("EVERYONE@");
	xdrs_res[3].resop = OP_GETATTR;
	xdrs_fattr(&xdrs_res[3].u.opgetattr.u.resok4.obj_attributes);
	c->resarray.len = 4;
	c->resarray.val = xdrs_res;
}

/* Codecs of the sample types with a void* shape, for table-driven tests. */
typedef bool (*xdrs_enc_fn)(struct xdr_stream *, const void *);
typedef bool (*xdrs_dec_fn)(struct xdr_stream *, void *);
#define XDRS_CODEC(T) \
	static inline bool xdrs_enc_##T(struct xdr_stream *x, const void *v) { return xdr_enc_##T(x, v); } \
	static inline bool xdrs_dec_##T(struct xdr_stream *x, void *v) { return xdr_dec_##T(x, v); }
XDRS_CODEC(COMPOUND4args)
XDRS_CODEC(COMPOUND4res)
XDRS_CODEC(EXCHANGE_ID4res)
XDRS_CODEC(READDIR4res)
XDRS_CODEC(CREATE_SESSION4args)
XDRS_CODEC(CB_COMPOUND4args)
XDRS_CODEC(CB_COMPOUND4res)
XDRS_CODEC(fattr4)

/* Encodes val with enc into *out (malloc'd, exactly *len bytes). */
#define xdrs_encode(enc, val, out, len) xdrs_encode_((enc), (val), (out), (len))

static inline bool xdrs_encode_(bool (*enc)(struct xdr_stream *, const void *), const void *val,
				uint8_t **out, size_t *len)
{
	uint8_t *buf = malloc(XDRS_BUF);
	struct xdr_stream x;

	if (!buf)
		return false;
	xdr_init_encode(&x, buf, XDRS_BUF);
	if (!enc(&x, val)) {
		free(buf);
		return false;
	}
	*len = xdr_pos(&x);
	*out = malloc(*len ? *len : 1);
	if (!*out) {
		free(buf);
		return false;
	}
	memcpy(*out, buf, *len);
	free(buf);
	return true;
}

#endif
