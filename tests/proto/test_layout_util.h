/*
 * tests/proto/test_layout_util.h: LAYOUTGET and LAYOUTRETURN for the pNFS
 * protocol tests (test_layout.c, test_layout_recall.c), over the OPEN
 * helpers of test_open_util.h. Static functions only.
 */
#ifndef DAXNFS_TESTS_PROTO_LAYOUT_UTIL_H
#define DAXNFS_TESTS_PROTO_LAYOUT_UTIL_H

#include "tests/proto/test_open_util.h"

#include <unistd.h>

#include "rpc/xdr.h"
#include "layout/layout_flexfiles.h"
#include "tests/proto/lib/proto_proc.h"

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

/* ---- holders with a back channel (test_layout_recall.c, test_admin.c) ---- */

/* What a client saw of its callbacks, and how it answers them. */
struct cb_log {
	unsigned lr_n;                 /* CB_LAYOUTRECALLs */
	CB_LAYOUTRECALL4args lr;       /* the last one (its handle copied below) */
	uint8_t lr_fh[NFS4_FHSIZE];
	uint32_t lr_fh_len;
	int64_t lr_when_ms;
	nfsstat4 lr_answer;            /* NFS4_OK unless told */
	nfsstat4 lr_script[4];         /* answers to the first recalls (0: lr_answer) */
	unsigned recall_n;             /* CB_RECALLs (delegations) */
	stateid4 recall_sid;
};

static inline nfsstat4 lo_cb_handler(struct nfs4_cl *cl, const nfs_cb_argop4 *op, nfs_cb_resop4 *res,
			   struct arena *arena, void *ctx)
{
	struct cb_log *l = ctx;

	(void)cl;
	(void)arena;
	if (op->argop == OP_CB_RECALL) {
		l->recall_n++;
		l->recall_sid = op->u.opcbrecall.stateid;
		res->u.opcbrecall.status = NFS4_OK;
		return NFS4_OK;
	}
	if (op->argop != OP_CB_LAYOUTRECALL) {
		res->u.opcbrecall.status = NFS4ERR_NOTSUPP;
		return NFS4ERR_NOTSUPP;
	}
	l->lr_n++;
	l->lr = op->u.opcblayoutrecall;
	if (l->lr.clora_recall.lor_recalltype == LAYOUTRECALL4_FILE) {
		const nfs_fh4 *fh = &l->lr.clora_recall.u.lor_layout.lor_fh;

		l->lr_fh_len = fh->len <= NFS4_FHSIZE ? fh->len : 0;
		memcpy(l->lr_fh, fh->val, l->lr_fh_len);
		l->lr.clora_recall.u.lor_layout.lor_fh.val = NULL;   /* the call's memory */
	}
	l->lr_when_ms = proto_now_ms();
	{
		nfsstat4 answer = l->lr_n <= 4 && l->lr_script[l->lr_n - 1] ? l->lr_script[l->lr_n - 1]
									 : l->lr_answer;

		res->u.opcblayoutrecall.clorr_status = answer;
		return answer;
	}
}

/* A client of s with a working back channel (the probe answered). */
static inline struct nfs4_cl *lo_client_cb(struct proto_server *s, const char *owner,
					   struct cb_log *log)
{
	struct nfs4_cl *cl = NULL;

	memset(log, 0, sizeof(*log));
	assert_int_equal(nfs4_cl_open_session_cb(&cl, s->host, s->port, owner, 1, lo_cb_handler,
						 log), 0);
	return cl;
}

/* Polls cl (answering callbacks) until it has seen n layout recalls. */
static inline void wait_layout_recall(struct nfs4_cl *cl, struct cb_log *l, unsigned n, int ms)
{
	int64_t end = proto_now_ms() + ms;

	while (l->lr_n < n && proto_now_ms() < end)
		assert_true(nfs4_cl_poll(cl, 100, true) >= 0);
	assert_int_equal(l->lr_n, n);
}

/* One holder: its open, its RW layout, the data server's stateid. */
struct holder {
	struct nfs4_cl *cl;
	struct cb_log log;
	struct ot_open_res open;
	struct lg_res lg;
	stateid4 ds_sid;
};

/* A client of s opens name (created) for reading and writing, without a
 * delegation unless want_deleg, takes an RW layout and writes data through
 * the data server. */
static inline void hold(struct proto_server *s, struct holder *h, const char *owner,
			const char *name, bool want_deleg, const void *data, uint32_t len)
{
	uint32_t access = OPEN4_SHARE_ACCESS_BOTH |
			  (want_deleg ? OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG
				      : OPEN4_SHARE_ACCESS_WANT_NO_DELEG);

	h->cl = lo_client_cb(s, owner, &h->log);
	assert_int_equal(ot_open_simple(h->cl, name, true, access, OPEN4_SHARE_DENY_NONE, &h->open),
			 NFS4_OK);
	if (want_deleg)
		assert_int_equal(h->open.deleg, OPEN_DELEGATE_WRITE);
	assert_int_equal(layoutget(h->cl, &h->open.fh, &h->open.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &h->lg), NFS4_OK);
	h->ds_sid = h->lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_stateid;
	if (len)
		assert_int_equal(ot_write(h->cl, &h->open.fh, &h->ds_sid, 0, data, len, FILE_SYNC4,
					  NULL), NFS4_OK);
}

static inline void unhold(struct holder *h)
{
	assert_int_equal(ot_close(h->cl, &h->open.fh, &h->open.sid, NULL), NFS4_OK);
	ot_fh_free(&h->open.fh);
	lg_free(&h->lg);
	nfs4_cl_close(h->cl, true);
}

#endif
