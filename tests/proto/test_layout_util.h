/*
 * tests/proto/test_layout_util.h: LAYOUTGET and LAYOUTRETURN for the pNFS
 * protocol tests (test_layout.c, test_layout_recall.c), over the OPEN
 * helpers of test_open_util.h. Static functions only.
 */
#ifndef DAXNFS_TESTS_PROTO_LAYOUT_UTIL_H
#define DAXNFS_TESTS_PROTO_LAYOUT_UTIL_H

#include "tests/proto/test_open_util.h"

#include "rpc/xdr.h"
#include "layout/layout_flexfiles.h"

/* One LAYOUTGET's outcome. */
struct lg_res {
	nfsstat4 status;
	stateid4 sid;
	bool roc;
	uint64_t offset, length;
	layoutiomode4 iomode;
	ff_layout4 ff;                 /* decoded into arena */
	struct arena arena;
};

static inline void lg_free(struct lg_res *r)
{
	arena_release(&r->arena);
}

static inline nfsstat4 layoutget(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			  layouttype4 type, layoutiomode4 iomode, uint64_t off, uint64_t len,
			  uint64_t minlen, uint32_t maxcount, struct lg_res *out)
{
	struct nfs4_cl_compound cp;
	LAYOUTGET4args *a;

	memset(out, 0, sizeof(*out));
	arena_init(&out->arena, 1 << 20);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LAYOUTGET)->u.oplayoutget;
	a->loga_layout_type = type;
	a->loga_iomode = iomode;
	a->loga_offset = off;
	a->loga_length = len;
	a->loga_minlength = minlen;
	a->loga_stateid = *sid;
	a->loga_maxcount = maxcount;
	out->status = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (out->status == NFS4_OK) {
		LAYOUTGET4resok *ok = &nfs4_cl_res(&cp, OP_LAYOUTGET)->u.oplayoutget.u.logr_resok4;
		layout4 *lo;
		struct xdr_stream x;

		assert_int_equal(ok->logr_layout.len, 1);
		lo = &ok->logr_layout.val[0];
		out->sid = ok->logr_stateid;
		out->roc = ok->logr_return_on_close;
		out->offset = lo->lo_offset;
		out->length = lo->lo_length;
		out->iomode = lo->lo_iomode;
		assert_int_equal(lo->lo_content.loc_type, LAYOUT4_FLEX_FILES);
		xdr_init_decode(&x, lo->lo_content.loc_body.val, lo->lo_content.loc_body.len,
				&out->arena);
		assert_true(xdr_dec_ff_layout4(&x, &out->ff));
		assert_int_equal(xdr_remaining(&x), 0);
	}
	nfs4_cl_compound_free(&cp);
	return out->status;
}

static inline nfsstat4 layoutreturn(struct nfs4_cl *cl, const nfs_fh4 *fh, layoutreturn_type4 how,
			     const stateid4 *sid, layoutiomode4 iomode, uint64_t off, uint64_t len,
			     bool *present, stateid4 *out)
{
	struct nfs4_cl_compound cp;
	LAYOUTRETURN4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LAYOUTRETURN)->u.oplayoutreturn;
	a->lora_layout_type = LAYOUT4_FLEX_FILES;
	a->lora_iomode = iomode;
	a->lora_layoutreturn.lr_returntype = how;
	if (how == LAYOUTRETURN4_FILE) {
		a->lora_layoutreturn.u.lr_layout.lrf_offset = off;
		a->lora_layoutreturn.u.lr_layout.lrf_length = len;
		a->lora_layoutreturn.u.lr_layout.lrf_stateid = *sid;
	}
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK && present) {
		layoutreturn_stateid *r = &nfs4_cl_res(&cp, OP_LAYOUTRETURN)->u.oplayoutreturn.u.lorr_stateid;

		*present = r->lrs_present;
		if (r->lrs_present && out)
			*out = r->u.lrs_stateid;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

#endif
