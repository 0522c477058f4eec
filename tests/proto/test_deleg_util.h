/*
 * tests/proto/test_deleg_util.h: helpers shared by the delegation protocol
 * tests (test_deleg.c, test_deleg_extensions.c): protocol clients with and
 * without a back channel, a callback handler that logs CB_RECALL,
 * CB_GETATTR and CB_RECALL_ANY and answers them as told, and one-compound
 * helpers for OPEN, GETATTR and the like in the export root.
 * Static functions only; each test includes it once and points cur at the
 * server the helpers talk to.
 */
#ifndef DAXNFS_TESTS_PROTO_DELEG_UTIL_H
#define DAXNFS_TESTS_PROTO_DELEG_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"

#define PATH_DOWN (SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION)

/* The server the client helpers talk to. */
static struct proto_server *cur;

/* What a client saw of CB_RECALL. */
struct recall_log {
	unsigned n;
	stateid4 sid;
	int64_t when_ms;
	nfsstat4 answer;                  /* what CB_RECALL answers (NFS4_OK) */
	/* CB_GETATTR: how many, and the change and size answered */
	unsigned ga_n;
	uint64_t ga_change, ga_size;
	/* with delegated timestamps (a three-word request, RFC 9754): the
	 * request's third word, and the times answered */
	uint32_t ga_mask2;
	int64_t ga_atime_sec, ga_mtime_sec;
	nfsstat4 ga_answer;               /* an error to answer CB_GETATTR with (0: the values) */
	/* CB_RECALL_ANY: how many, and the last one's arguments */
	unsigned ra_n;
	uint32_t ra_keep, ra_mask;
};

#define CHANGE_SIZE ((1u << FATTR4_CHANGE) | (1u << FATTR4_SIZE))

static inline void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline nfsstat4 cb_op_recall(struct nfs4_cl *cl, const nfs_cb_argop4 *op, nfs_cb_resop4 *res,
			     struct arena *arena, void *ctx)
{
	struct recall_log *l = ctx;

	(void)cl;
	if (op->argop == OP_CB_RECALL_ANY) {
		l->ra_n++;
		l->ra_keep = op->u.opcbrecall_any.craa_objects_to_keep;
		l->ra_mask = op->u.opcbrecall_any.craa_type_mask.len
			     ? op->u.opcbrecall_any.craa_type_mask.val[0] : 0;
		res->u.opcbrecall_any.crar_status = NFS4_OK;
		return NFS4_OK;
	}
	if (op->argop == OP_CB_GETATTR) {
		fattr4 *fa = &res->u.opcbgetattr.u.resok4.obj_attributes;
		uint32_t *mask = arena_alloc(arena, 3 * sizeof(*mask));
		uint8_t *vals = arena_alloc(arena, 40);
		const bitmap4 *req = &op->u.opcbgetattr.attr_request;

		l->ga_n++;
		if (l->ga_answer != NFS4_OK) {
			res->u.opcbgetattr.status = l->ga_answer;
			return l->ga_answer;
		}
		if (!mask || !vals || op->u.opcbgetattr.attr_request.len < 1 ||
		    op->u.opcbgetattr.attr_request.val[0] != CHANGE_SIZE) {
			res->u.opcbgetattr.status = NFS4ERR_INVAL;
			return NFS4ERR_INVAL;
		}
		mask[0] = CHANGE_SIZE;
		put_u64(vals, l->ga_change);
		put_u64(vals + 8, l->ga_size);
		fa->attrmask.len = 1;
		fa->attrmask.val = mask;
		fa->attr_vals.len = 16;
		fa->attr_vals.val = vals;
		l->ga_mask2 = req->len >= 3 ? req->val[2] : 0;
		if (l->ga_mask2) {   /* time_deleg_access, time_deleg_modify: nfstime4 */
			mask[1] = 0;
			mask[2] = l->ga_mask2;
			fa->attrmask.len = 3;
			put_u64(vals + 16, (uint64_t)l->ga_atime_sec);
			memset(vals + 24, 0, 4);
			put_u64(vals + 28, (uint64_t)l->ga_mtime_sec);
			memset(vals + 36, 0, 4);
			fa->attr_vals.len = 40;
		}
		res->u.opcbgetattr.status = NFS4_OK;
		return NFS4_OK;
	}
	if (op->argop != OP_CB_RECALL) {
		res->u.opcbrecall.status = NFS4ERR_NOTSUPP;
		return NFS4ERR_NOTSUPP;
	}
	l->n++;
	l->sid = op->u.opcbrecall.stateid;
	l->when_ms = proto_now_ms();
	res->u.opcbrecall.status = l->answer;
	return l->answer;
}

/* A client of minor version minor with a working back channel (probe
 * answered, path up). */
static inline struct nfs4_cl *client_cb_minor(const char *owner, struct recall_log *log,
					      uint32_t minor)
{
	struct nfs4_cl *cl = NULL;

	log->answer = NFS4_OK;
	assert_int_equal(nfs4_cl_open_session_cb(&cl, cur->host, cur->port, owner, minor,
						 cb_op_recall, log), 0);
	assert_int_equal(cl->last_status_flags & PATH_DOWN, 0);
	return cl;
}

/* The same in minor version 1. */
static inline struct nfs4_cl *client_cb(const char *owner, struct recall_log *log)
{
	return client_cb_minor(owner, log, 1);
}

/* A client without a back channel (it never gets a delegation). */
static inline struct nfs4_cl *client_plain(const char *owner)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_open_session(&cl, cur->host, cur->port, owner, 0), 0);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	return cl;
}

/* What OPEN answered. */
struct opened {
	nfsstat4 status;
	stateid4 sid;
	uint32_t rflags;
	open_delegation4 deleg;           /* delegation_type, stateid (whynone) */
	nfs_fh4 fh;                       /* malloc'd */
};

/* OPEN name in directory dir ("" the root) in minor version minor with
 * share_access (WANT_* bits included) and deny. */
static inline void open_in(struct nfs4_cl *cl, uint32_t minor, const char *dir, const char *name,
			   bool create, uint32_t access, uint32_t deny, struct opened *o)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;

	memset(o, 0, sizeof(*o));
	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = minor;
	nfs4_cl_add_path(&cp, dir);
	nfs4_cl_add_open(&cp, name, create, access, deny);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	o->status = cp.status;
	r = nfs4_cl_res(&cp, OP_OPEN);
	if (cp.status == NFS4_OK && r) {
		o->sid = r->u.opopen.u.resok4.stateid;
		o->rflags = r->u.opopen.u.resok4.rflags;
		o->deleg = r->u.opopen.u.resok4.delegation;
	}
	r = nfs4_cl_res(&cp, OP_GETFH);
	if (cp.status == NFS4_OK && r) {
		o->fh.len = r->u.opgetfh.u.resok4.object.len;
		o->fh.val = malloc(o->fh.len);
		assert_non_null(o->fh.val);
		memcpy(o->fh.val, r->u.opgetfh.u.resok4.object.val, o->fh.len);
	}
	nfs4_cl_compound_free(&cp);
}

/* OPEN name in the export root in minor version minor with share_access
 * and deny. */
static inline void open_name_ex(struct nfs4_cl *cl, uint32_t minor, const char *name, bool create,
				uint32_t access, uint32_t deny, struct opened *o)
{
	open_in(cl, minor, "", name, create, access, deny, o);
}

/* OPEN name in the export root in the client's minor version, denying nothing. */
static inline void open_name(struct nfs4_cl *cl, const char *name, bool create, uint32_t access,
			     struct opened *o)
{
	open_name_ex(cl, cl->minorversion, name, create, access, OPEN4_SHARE_DENY_NONE, o);
}

static inline stateid4 deleg_sid(const struct opened *o)
{
	return o->deleg.delegation_type == OPEN_DELEGATE_WRITE ||
	       o->deleg.delegation_type == OPEN_DELEGATE_WRITE_ATTRS_DELEG
	       ? o->deleg.u.write.stateid : o->deleg.u.read.stateid;
}

/* OPEN again every 50 ms while it answers NFS4ERR_DELAY, up to ms. */
static inline void open_until_granted(struct nfs4_cl *cl, const char *name, uint32_t access,
			       int ms, struct opened *o)
{
	int64_t end = proto_now_ms() + ms;

	for (;;) {
		open_name(cl, name, false, access, o);
		if (o->status != NFS4ERR_DELAY || proto_now_ms() >= end)
			return;
		free(o->fh.val);
		usleep(50000);
	}
}

static inline nfsstat4 fh_op(struct nfs4_cl *cl, const nfs_fh4 *fh, nfs_opnum4 opnum,
		      const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	a = nfs4_cl_add(&cp, opnum);
	if (opnum == OP_FREE_STATEID)
		a->u.opfree_stateid.fsa_stateid = *sid;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline void close_opened(struct nfs4_cl *cl, struct opened *o)
{
	assert_int_equal(nfs4_cl_close_file(cl, &o->fh, &o->sid), NFS4_OK);
	free(o->fh.val);
	o->fh.val = NULL;
}

/* Creates name (by a client without delegations) with content. */
static inline void make_file(struct nfs4_cl *plain, const char *name, const char *content)
{
	struct nfs4_cl_compound cp;
	struct opened o;

	open_name(plain, name, true, OPEN4_SHARE_ACCESS_BOTH, &o);
	assert_int_equal(o.status, NFS4_OK);
	assert_int_equal(o.deleg.delegation_type, OPEN_DELEGATE_NONE);
	if (content) {
		nfs4_cl_compound_init(&cp, plain);
		nfs_argop4 *a = nfs4_cl_add(&cp, OP_PUTFH);
		a->u.opputfh.object = o.fh;
		nfs4_cl_add_write(&cp, &o.sid, 0, content, (uint32_t)strlen(content), FILE_SYNC4);
		assert_int_equal(nfs4_cl_send(&cp), 0);
		assert_int_equal(cp.status, NFS4_OK);
		nfs4_cl_compound_free(&cp);
	}
	close_opened(plain, &o);
}

/* Serves callbacks until a CB_RECALL was seen (or ms passed). */
static inline void wait_recall(struct nfs4_cl *cl, struct recall_log *log, unsigned n, int ms)
{
	int64_t end = proto_now_ms() + ms;

	while (log->n < n && proto_now_ms() < end)
		assert_true(nfs4_cl_poll(cl, 100, true) >= 0);
}

static inline nfsstat4 getattr_cs(struct nfs4_cl *cl, const nfs_fh4 *fh, uint64_t *change, uint64_t *size)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	nfs4_cl_add_getattr(&cp, CHANGE_SIZE, 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_GETATTR);
	if (st == NFS4_OK) {
		const fattr4 *fa = &r->u.opgetattr.u.resok4.obj_attributes;

		assert_int_equal(fa->attr_vals.len, 16);
		*change = get_u64(fa->attr_vals.val);
		*size = get_u64(fa->attr_vals.val + 8);
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

#endif
