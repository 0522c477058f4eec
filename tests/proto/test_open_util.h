/*
 * tests/proto/test_open_util.h: helpers shared by the open, I/O and lock
 * protocol tests (test_open*.c, test_io*.c, test_lock*.c): one compound per
 * helper, files in the export root, results copied out of the compound.
 * Static functions only; each test includes it once.
 */
#ifndef DAXNFS_TESTS_PROTO_OPEN_UTIL_H
#define DAXNFS_TESTS_PROTO_OPEN_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"

#define OT_NOCREATE (-1)

/* One OPEN's arguments; zero fields mean the usual. */
struct ot_open_args {
	uint32_t access;             /* [OPEN4_SHARE_ACCESS_BOTH] */
	uint32_t deny;               /* [OPEN4_SHARE_DENY_NONE] */
	int createmode;              /* OT_NOCREATE or createmode4 [OT_NOCREATE] */
	bool truncate;               /* UNCHECKED4 with size 0 */
	uint8_t verf[NFS4_VERIFIER_SIZE];
	const char *owner;           /* open owner [nfs4_cl_open_owner] */
	open_claim_type4 claim;      /* [CLAIM_NULL]; CLAIM_FH/PREVIOUS use fh_in */
	const nfs_fh4 *fh_in;
};

struct ot_open_res {
	stateid4 sid;
	nfs_fh4 fh;                  /* val malloc'd; ot_fh_free */
	uint32_t rflags;
	uint32_t attrset[3];
	change_info4 cinfo;
	open_delegation_type4 deleg;
	stateid4 deleg_sid;          /* when deleg is READ or WRITE */
};

static inline void ot_fh_free(nfs_fh4 *fh)
{
	free(fh->val);
	fh->val = NULL;
	fh->len = 0;
}

static inline struct xdr_opaque ot_str(struct nfs4_cl_compound *cp, const void *s, size_t n)
{
	struct xdr_opaque o;

	o.val = arena_memdup(&cp->arena, s, n ? n : 1);
	o.len = (uint32_t)n;
	return o;
}

static inline void ot_putfh(struct nfs4_cl_compound *cp, const nfs_fh4 *fh)
{
	nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = *fh;
}

/* A session for owner, past RECLAIM_COMPLETE (as a Linux client does). */
/* A client instance owner/verf with a session (no back channel), not past
 * RECLAIM_COMPLETE: the same owner and verifier after a server restart are
 * the same client, who may reclaim. */
static inline struct nfs4_cl *ot_client_verf(struct proto_server *s, const char *owner,
					     uint64_t verf)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, s->host, s->port), 0);
	nfs4_cl_set_owner(cl, owner, verf);
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	return cl;
}

static inline struct nfs4_cl *ot_client(struct proto_server *s, const char *owner)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_open_session(&cl, s->host, s->port, owner, 0), 0);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	return cl;
}

static inline nfsstat4 ot_open(struct nfs4_cl *cl, const char *name, const struct ot_open_args *oa,
			       struct ot_open_res *out)
{
	struct nfs4_cl_compound cp;
	const char *owner = oa->owner ? oa->owner : nfs4_cl_open_owner;
	OPEN4args *o;
	nfs_resop4 *r;
	nfsstat4 st;

	memset(out, 0, sizeof(*out));
	nfs4_cl_compound_init(&cp, cl);
	if (oa->claim == CLAIM_NULL)
		nfs4_cl_add_path(&cp, "");
	else
		ot_putfh(&cp, oa->fh_in);
	o = &nfs4_cl_add(&cp, OP_OPEN)->u.opopen;
	o->share_access = oa->access ? oa->access : OPEN4_SHARE_ACCESS_BOTH;
	o->share_deny = oa->deny;
	o->owner.clientid = cl->clientid;
	o->owner.owner = ot_str(&cp, owner, strlen(owner));
	o->openhow.opentype = oa->createmode == OT_NOCREATE ? OPEN4_NOCREATE : OPEN4_CREATE;
	if (oa->createmode != OT_NOCREATE) {
		createhow4 *how = &o->openhow.u.how;
		uint32_t *mask = arena_alloc(&cp.arena, 2 * sizeof(uint32_t));
		uint8_t *vals = arena_alloc(&cp.arena, 12);
		fattr4 *fa;

		how->mode = (createmode4)oa->createmode;
		fa = how->mode == EXCLUSIVE4_1 ? &how->u.ch_createboth.cva_attrs : &how->u.createattrs;
		if (how->mode == EXCLUSIVE4)
			memcpy(how->u.createverf, oa->verf, NFS4_VERIFIER_SIZE);
		if (how->mode == EXCLUSIVE4_1)
			memcpy(how->u.ch_createboth.cva_verf, oa->verf, NFS4_VERIFIER_SIZE);
		if (how->mode != EXCLUSIVE4 && mask && vals) {
			fa->attrmask.len = 2;
			fa->attrmask.val = mask;
			fa->attr_vals.val = vals;
			if (oa->truncate) {
				/* size (4) = 0 */
				mask[0] = 1u << FATTR4_SIZE;
				fa->attr_vals.len = 8;
			} else {
				/* mode (33) = 0644 */
				mask[1] = 1u << (FATTR4_MODE - 32);
				vals[2] = 0x01;
				vals[3] = 0xa4;
				fa->attr_vals.len = 4;
			}
		}
	}
	o->claim.claim = oa->claim;
	if (oa->claim == CLAIM_NULL)
		o->claim.u.file = ot_str(&cp, name, strlen(name));
	else if (oa->claim == CLAIM_PREVIOUS)
		o->claim.u.delegate_type = OPEN_DELEGATE_NONE;
	nfs4_cl_add(&cp, OP_GETFH);
	if (nfs4_cl_send(&cp) < 0 || cp.accept_stat != 0) {
		st = NFS4ERR_SERVERFAULT;
		goto out;
	}
	st = cp.status;
	if (st != NFS4_OK)
		goto out;
	r = nfs4_cl_res(&cp, OP_OPEN);
	assert_non_null(r);
	{
		OPEN4resok *ok = &r->u.opopen.u.resok4;
		uint32_t i;

		out->sid = ok->stateid;
		out->rflags = ok->rflags;
		out->cinfo = ok->cinfo;
		out->deleg = ok->delegation.delegation_type;
		if (out->deleg == OPEN_DELEGATE_READ)
			out->deleg_sid = ok->delegation.u.read.stateid;
		else if (out->deleg == OPEN_DELEGATE_WRITE)
			out->deleg_sid = ok->delegation.u.write.stateid;
		for (i = 0; i < ok->attrset.len && i < 3; i++)
			out->attrset[i] = ok->attrset.val[i];
	}
	r = nfs4_cl_res(&cp, OP_GETFH);
	assert_non_null(r);
	out->fh.len = r->u.opgetfh.u.resok4.object.len;
	out->fh.val = malloc(out->fh.len);
	assert_non_null(out->fh.val);
	memcpy(out->fh.val, r->u.opgetfh.u.resok4.object.val, out->fh.len);
out:
	nfs4_cl_compound_free(&cp);
	return st;
}

/* The simplest OPEN: name in the root, created UNCHECKED4 when create. */
static inline nfsstat4 ot_open_simple(struct nfs4_cl *cl, const char *name, bool create,
				      uint32_t access, uint32_t deny, struct ot_open_res *out)
{
	struct ot_open_args oa = { .access = access, .deny = deny,
				   .createmode = create ? UNCHECKED4 : OT_NOCREATE };

	return ot_open(cl, name, &oa, out);
}

static inline nfsstat4 ot_close(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
				stateid4 *out)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	nfs4_cl_add_close(&cp, sid);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK && out)
		*out = nfs4_cl_res(&cp, OP_CLOSE)->u.opclose.u.open_stateid;
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ot_downgrade(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
				    uint32_t access, uint32_t deny, stateid4 *out)
{
	struct nfs4_cl_compound cp;
	OPEN_DOWNGRADE4args *d;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	d = &nfs4_cl_add(&cp, OP_OPEN_DOWNGRADE)->u.opopen_downgrade;
	d->open_stateid = *sid;
	d->share_access = access;
	d->share_deny = deny;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK && out)
		*out = nfs4_cl_res(&cp, OP_OPEN_DOWNGRADE)->u.opopen_downgrade.u.resok4.open_stateid;
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ot_write(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
				uint64_t off, const void *data, uint32_t len, stable_how4 how,
				WRITE4resok *out)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	nfs4_cl_add_write(&cp, sid, off, data, len, how);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK && out)
		*out = nfs4_cl_res(&cp, OP_WRITE)->u.opwrite.u.resok4;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* READ into buf (capacity count); *n bytes, *eof. */
static inline nfsstat4 ot_read(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			       uint64_t off, uint32_t count, void *buf, uint32_t *n, bool *eof)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	nfs4_cl_add_read(&cp, sid, off, count);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK) {
		READ4resok *ok = &nfs4_cl_res(&cp, OP_READ)->u.opread.u.resok4;

		assert_true(ok->data.len <= count);
		if (buf && ok->data.len)
			memcpy(buf, ok->data.val, ok->data.len);
		*n = ok->data.len;
		*eof = ok->eof;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ot_commit(struct nfs4_cl *cl, const nfs_fh4 *fh, uint64_t off,
				 uint32_t count, verifier4 verf)
{
	struct nfs4_cl_compound cp;
	COMMIT4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_COMMIT)->u.opcommit;
	a->offset = off;
	a->count = count;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK)
		memcpy(verf, nfs4_cl_res(&cp, OP_COMMIT)->u.opcommit.u.resok4.writeverf,
		       NFS4_VERIFIER_SIZE);
	nfs4_cl_compound_free(&cp);
	return st;
}

/* LOCK (reclaim sets LOCK4args.reclaim): with open_sid set, a new lock owner
 * named lock_owner; else the existing lock stateid *lock_sid. On OK *lock_sid is the new stateid; on
 * DENIED *denied is filled (owner bytes not kept). */
static inline nfsstat4 ot_lock_reclaim(struct nfs4_cl *cl, const nfs_fh4 *fh,
				       nfs_lock_type4 type, uint64_t off, uint64_t len,
				       bool reclaim, const stateid4 *open_sid,
				       const char *lock_owner, stateid4 *lock_sid,
				       LOCK4denied *denied)
{
	struct nfs4_cl_compound cp;
	LOCK4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	a->locktype = type;
	a->reclaim = reclaim;
	a->offset = off;
	a->length = len;
	if (open_sid) {
		a->locker.new_lock_owner = true;
		a->locker.u.open_owner.open_stateid = *open_sid;
		a->locker.u.open_owner.lock_owner.clientid = cl->clientid;
		a->locker.u.open_owner.lock_owner.owner = ot_str(&cp, lock_owner, strlen(lock_owner));
	} else {
		a->locker.new_lock_owner = false;
		a->locker.u.lock_owner.lock_stateid = *lock_sid;
	}
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK)
		*lock_sid = nfs4_cl_res(&cp, OP_LOCK)->u.oplock.u.resok4.lock_stateid;
	if (st == NFS4ERR_DENIED && denied) {
		*denied = nfs4_cl_res(&cp, OP_LOCK)->u.oplock.u.denied;
		denied->owner.owner.val = NULL;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ot_lock(struct nfs4_cl *cl, const nfs_fh4 *fh, nfs_lock_type4 type,
			       uint64_t off, uint64_t len, const stateid4 *open_sid,
			       const char *lock_owner, stateid4 *lock_sid, LOCK4denied *denied)
{
	return ot_lock_reclaim(cl, fh, type, off, len, false, open_sid, lock_owner,
			       lock_sid, denied);
}

static inline nfsstat4 ot_lockt(struct nfs4_cl *cl, const nfs_fh4 *fh, nfs_lock_type4 type,
				uint64_t off, uint64_t len, const char *lock_owner,
				LOCK4denied *denied, char *owner_out, size_t owner_cap)
{
	struct nfs4_cl_compound cp;
	LOCKT4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LOCKT)->u.oplockt;
	a->locktype = type;
	a->offset = off;
	a->length = len;
	a->owner.clientid = cl->clientid;
	a->owner.owner = ot_str(&cp, lock_owner, strlen(lock_owner));
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4ERR_DENIED && denied) {
		*denied = nfs4_cl_res(&cp, OP_LOCKT)->u.oplockt.u.denied;
		if (owner_out)
			snprintf(owner_out, owner_cap, "%.*s", (int)denied->owner.owner.len,
				 (const char *)denied->owner.owner.val);
		denied->owner.owner.val = NULL;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static inline nfsstat4 ot_locku(struct nfs4_cl *cl, const nfs_fh4 *fh, uint64_t off,
				uint64_t len, stateid4 *lock_sid)
{
	struct nfs4_cl_compound cp;
	LOCKU4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LOCKU)->u.oplocku;
	a->locktype = WRITE_LT;
	a->lock_stateid = *lock_sid;
	a->offset = off;
	a->length = len;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK)
		*lock_sid = nfs4_cl_res(&cp, OP_LOCKU)->u.oplocku.u.lock_stateid;
	nfs4_cl_compound_free(&cp);
	return st;
}

#endif
