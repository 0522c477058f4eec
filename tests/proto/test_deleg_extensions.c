/*
 * tests/proto/test_deleg_extensions.c: delegations beyond OPEN's, on a real
 * daxnfsd with real back channels and real local leases, the RFC 9754
 * extensions turned on (Delegated_Timestamps, Open_Xor_Delegation):
 *  - WANT_DELEGATION (RFC 8881 §18.49) on a file the client has not
 *    opened: granted, answered again, an upgrade refused with the reason,
 *    a directory refused, I/O under it, recalled by another client's OPEN
 *    for write; a write delegation needs an open for write;
 *  - OPEN_XOR_DELEGATION: the delegation and no open stateid
 *    (OPEN4_RESULT_NO_OPEN_STATEID); I/O under the delegation; not when the
 *    open denies something;
 *  - an OPEN that denies read recalls another client's read delegation;
 *  - delegated timestamps: OPEN_DELEGATE_WRITE_ATTRS_DELEG for an NFSv4.2
 *    client that asks, supported_attrs with time_deleg_access/modify in
 *    minor version 2 only, SETATTR of time_deleg_modify only under that
 *    delegation, a stale time ignored and a future one made now, and
 *    another client's GETATTR of mtime answered with the holder's time
 *    (CB_GETATTR asks for the delegated times).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

#define W1(a) (1u << ((a) - 32))
#define W2(a) (1u << ((a) - 64))

static struct proto_server srv;

static int group_setup(void **state)
{
	struct proto_server_opts o = {
		.nfsv4_conf = "Recall_Timeout = 4; Delegated_Timestamps = true; "
			      "Open_Xor_Delegation = true;"
	};

	(void)state;
	cur = &srv;
	return proto_server_start(&srv, "deleg-ext", &o) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

/* The handle of name in the export root (LOOKUP, no OPEN); malloc'd. */
static nfs_fh4 lookup_fh(struct nfs4_cl *cl, const char *name)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfs_fh4 fh;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, name);
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_GETFH);
	fh.len = r->u.opgetfh.u.resok4.object.len;
	fh.val = malloc(fh.len);
	assert_non_null(fh.val);
	memcpy(fh.val, r->u.opgetfh.u.resok4.object.val, fh.len);
	nfs4_cl_compound_free(&cp);
	return fh;
}

/* WANT_DELEGATION on fh (NULL: the root) with want and claim. */
static nfsstat4 want_deleg(struct nfs4_cl *cl, const nfs_fh4 *fh, uint32_t want,
			   open_claim_type4 claim, open_delegation4 *out)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	if (fh) {
		a = nfs4_cl_add(&cp, OP_PUTFH);
		a->u.opputfh.object = *fh;
	} else {
		nfs4_cl_add_path(&cp, "");
	}
	a = nfs4_cl_add(&cp, OP_WANT_DELEGATION);
	a->u.opwant_delegation.wda_want = want;
	a->u.opwant_delegation.wda_claim.dc_claim = claim;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_WANT_DELEGATION);
	memset(out, 0, sizeof(*out));
	if (st == NFS4_OK && r)
		*out = r->u.opwant_delegation.u.wdr_resok4;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* READ of up to 64 bytes at 0 under sid; the bytes go to buf (NUL-ended). */
static nfsstat4 read_under(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			   char *buf, size_t cap)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	nfs4_cl_add_read(&cp, sid, 0, 64);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_READ);
	buf[0] = '\0';
	if (st == NFS4_OK && r) {
		size_t n = r->u.opread.u.resok4.data.len < cap - 1 ? r->u.opread.u.resok4.data.len
								      : cap - 1;

		memcpy(buf, r->u.opread.u.resok4.data.val, n);
		buf[n] = '\0';
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static bool sid_is_zero(const stateid4 *sid)
{
	static const stateid4 zero;

	return memcmp(sid, &zero, sizeof(zero)) == 0;
}

/* ---- WANT_DELEGATION ---- */

static void test_want_delegation_without_open(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("x-a1", &la), *b = client_plain("x-b1");
	open_delegation4 d, d2;
	struct opened ob, oa;
	stateid4 ds;
	nfs_fh4 fh;
	char buf[80];

	(void)state;
	make_file(b, "w1", "hello");
	fh = lookup_fh(a, "w1");
	/* What is asked must be a delegation; DELEG_PREV is not served. */
	assert_int_equal(want_deleg(a, &fh, 0, CLAIM_FH, &d), NFS4ERR_INVAL);
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_DELEG_PREV_FH,
				    &d), NFS4ERR_NOTSUPP);
	/* A directory: none, and why. */
	assert_int_equal(want_deleg(a, NULL, OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_FH, &d),
			 NFS4_OK);
	assert_int_equal(d.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(d.u.od_whynone.ond_why, WND4_IS_DIR);
	/* A write delegation needs an open for write. */
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, CLAIM_FH, &d),
			 NFS4_OK);
	assert_int_equal(d.delegation_type, OPEN_DELEGATE_NONE_EXT);

	/* A read delegation on a file the client has not opened. */
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_FH, &d),
			 NFS4_OK);
	assert_int_equal(d.delegation_type, OPEN_DELEGATE_READ);
	ds = d.u.read.stateid;
	/* Asked again: the same one; a write one is an upgrade, refused. */
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_ANY_DELEG, CLAIM_FH, &d2),
			 NFS4_OK);
	assert_int_equal(d2.delegation_type, OPEN_DELEGATE_READ);
	assert_memory_equal(&d2.u.read.stateid.other, &ds.other, sizeof(ds.other));
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, CLAIM_FH, &d2),
			 NFS4_OK);
	assert_int_equal(d2.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(d2.u.od_whynone.ond_why, WND4_NOT_SUPP_UPGRADE);
	/* I/O under it, with no open. */
	assert_int_equal(read_under(a, &fh, &ds, buf, sizeof(buf)), NFS4_OK);
	assert_string_equal(buf, "hello");

	/* Another client's OPEN for write recalls it like any other. */
	open_name(b, "w1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.n, 1);
	assert_memory_equal(&la.sid.other, &ds.other, sizeof(ds.other));
	assert_int_equal(nfs4_cl_delegreturn(a, &fh, &ds), NFS4_OK);
	open_until_granted(b, "w1", OPEN4_SHARE_ACCESS_WRITE, 3000, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	close_opened(b, &ob);

	/* With its own open for write, a write delegation (after the regrant
	 * holdoff of a recalled file). */
	usleep(5200000);
	open_name(a, "w1", false, OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(want_deleg(a, &fh, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, CLAIM_FH, &d),
			 NFS4_OK);
	assert_int_equal(d.delegation_type, OPEN_DELEGATE_WRITE);
	ds = d.u.write.stateid;
	assert_int_equal(nfs4_cl_delegreturn(a, &fh, &ds), NFS4_OK);
	close_opened(a, &oa);
	free(fh.val);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* ---- OPEN_XOR_DELEGATION, deny ---- */

static void test_open_xor_delegation(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("x-a2", &la), *b = client_plain("x-b2");
	struct opened oa, ob;
	stateid4 ds;
	char buf[80];

	(void)state;
	make_file(b, "x1", "xor data");
	open_name(a, "x1", false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG |
				  OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	assert_true(oa.rflags & OPEN4_RESULT_NO_OPEN_STATEID);
	assert_true(sid_is_zero(&oa.sid));
	ds = deleg_sid(&oa);
	/* The delegation is the open: reads go under it; the file reads the
	 * same after DELEGRETURN ends it. */
	assert_int_equal(read_under(a, &oa.fh, &ds, buf, sizeof(buf)), NFS4_OK);
	assert_string_equal(buf, "xor data");
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	assert_int_equal(read_under(a, &oa.fh, &ds, buf, sizeof(buf)), NFS4ERR_BAD_STATEID);
	free(oa.fh.val);

	/* An open that denies something keeps its open stateid. */
	open_name_ex(a, a->minorversion, "x1", false,
		     OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG |
		     OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION, OPEN4_SHARE_DENY_WRITE, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	assert_false(oa.rflags & OPEN4_RESULT_NO_OPEN_STATEID);
	assert_false(sid_is_zero(&oa.sid));
	ds = deleg_sid(&oa);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	close_opened(a, &oa);

	/* Another client's OPEN that denies read, while the only thing the
	 * holder has is its delegation (no open for a share check to meet):
	 * the holder may be reading under it, so it is recalled first. */
	open_name(a, "x1", false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG |
				  OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	assert_true(oa.rflags & OPEN4_RESULT_NO_OPEN_STATEID);
	open_name_ex(b, b->minorversion, "x1", false, OPEN4_SHARE_ACCESS_READ,
		     OPEN4_SHARE_DENY_READ, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.n, 1);
	ds = deleg_sid(&oa);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	free(oa.fh.val);
	open_name_ex(b, b->minorversion, "x1", false, OPEN4_SHARE_ACCESS_READ,
		     OPEN4_SHARE_DENY_READ, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	/* While it denies read, WANT_DELEGATION gives no read delegation. */
	{
		open_delegation4 d;

		assert_int_equal(want_deleg(a, &ob.fh, OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_FH,
					    &d), NFS4_OK);
		assert_int_equal(d.delegation_type, OPEN_DELEGATE_NONE_EXT);
	}
	close_opened(b, &ob);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* ---- delegated timestamps ---- */

/* The file's mtime seconds as cl sees it (GETATTR time_modify). */
static nfsstat4 getattr_mtime(struct nfs4_cl *cl, const nfs_fh4 *fh, int64_t *sec)
{
	struct nfs4_cl_compound cp;
	struct xdr_stream x;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	nfs4_cl_add_getattr(&cp, 0, W1(FATTR4_TIME_MODIFY));
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_GETATTR);
	if (st == NFS4_OK) {
		const fattr4 *fa = &r->u.opgetattr.u.resok4.obj_attributes;

		xdr_init_decode(&x, fa->attr_vals.val, fa->attr_vals.len, NULL);
		assert_true(xdr_get_i64(&x, sec));
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

/* SETATTR of time_deleg_modify = sec under sid, in minor version minor. */
static nfsstat4 setattr_deleg_mtime(struct nfs4_cl *cl, uint32_t minor, const nfs_fh4 *fh,
				    const stateid4 *sid, int64_t sec)
{
	struct nfs4_cl_compound cp;
	struct xdr_stream x;
	SETATTR4args *s;
	nfs_argop4 *a;
	uint32_t *mask;
	uint8_t *vals;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = minor;
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	s = &nfs4_cl_add(&cp, OP_SETATTR)->u.opsetattr;
	s->stateid = *sid;
	mask = arena_alloc(&cp.arena, 3 * sizeof(*mask));
	vals = arena_alloc(&cp.arena, 12);
	assert_non_null(mask);
	assert_non_null(vals);
	mask[0] = mask[1] = 0;
	mask[2] = W2(FATTR4_TIME_DELEG_MODIFY);
	xdr_init_encode(&x, vals, 12);
	xdr_put_u64(&x, (uint64_t)sec);
	xdr_put_u32(&x, 0);
	s->obj_attributes.attrmask.len = 3;
	s->obj_attributes.attrmask.val = mask;
	s->obj_attributes.attr_vals.len = 12;
	s->obj_attributes.attr_vals.val = vals;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* supported_attrs' third word in minor version minor. */
static uint32_t supported_word2(struct nfs4_cl *cl, uint32_t minor)
{
	struct nfs4_cl_compound cp;
	struct xdr_stream x;
	uint32_t n, w[3] = { 0 };
	nfs_resop4 *r;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = minor;
	nfs4_cl_add_path(&cp, "");
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_SUPPORTED_ATTRS, 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_GETATTR);
	xdr_init_decode(&x, r->u.opgetattr.u.resok4.obj_attributes.attr_vals.val,
			r->u.opgetattr.u.resok4.obj_attributes.attr_vals.len, NULL);
	assert_true(xdr_get_u32(&x, &n));
	for (uint32_t i = 0; i < n && i < 3; i++)
		assert_true(xdr_get_u32(&x, &w[i]));
	nfs4_cl_compound_free(&cp);
	return w[2];
}

static void test_delegated_timestamps(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb_minor("x-a3", &la, 2), *b = client_plain("x-b3");
	const uint32_t times2 = W2(FATTR4_TIME_DELEG_ACCESS) | W2(FATTR4_TIME_DELEG_MODIFY);
	struct opened oa, oa2;
	int64_t m0, m, now, end;
	uint64_t change, size;
	stateid4 ds;
	nfsstat4 st;

	(void)state;
	/* Offered to NFSv4.2 only. */
	assert_int_equal(supported_word2(a, 2) & times2, times2);
	assert_int_equal(supported_word2(b, 1) & times2, 0);
	make_file(b, "t1", "t");
	make_file(b, "t2", "t");
	/* Not asked for: an ordinary write delegation. */
	open_name(a, "t2", false, OPEN4_SHARE_ACCESS_BOTH, &oa2);
	assert_int_equal(oa2.deleg.delegation_type, OPEN_DELEGATE_WRITE);
	open_name(a, "t1", false, OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS,
		  &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_WRITE_ATTRS_DELEG);
	ds = deleg_sid(&oa);
	assert_int_equal(getattr_mtime(a, &oa.fh, &m0), NFS4_OK);

	/* Another client's GETATTR of mtime: CB_GETATTR asks for the
	 * delegated times, and the holder's time is the answer (it is later
	 * than the grant's and not in the future). */
	usleep(2100000);
	assert_int_equal(getattr_cs(a, &oa.fh, &change, &size), NFS4_OK);
	la.ga_change = change;
	la.ga_size = size;
	la.ga_atime_sec = m0 + 1;
	la.ga_mtime_sec = m0 + 1;
	st = getattr_mtime(b, &oa.fh, &m);
	for (end = proto_now_ms() + 3000; la.ga_n == 0 && proto_now_ms() < end;)
		assert_true(nfs4_cl_poll(a, 100, true) >= 0);
	assert_int_equal(la.ga_n, 1);
	assert_int_equal(la.ga_mask2, times2);
	for (end = proto_now_ms() + 2000; st == NFS4ERR_DELAY && proto_now_ms() < end;) {
		usleep(20000);
		st = getattr_mtime(b, &oa.fh, &m);
	}
	assert_int_equal(st, NFS4_OK);
	assert_int_equal(m, m0 + 1);
	assert_int_equal(la.n, 0);
	/* The server's own mtime is still the file's. */
	assert_int_equal(getattr_mtime(a, &oa.fh, &m), NFS4_OK);
	assert_int_equal(m, m0);

	/* Only under the delegation that delegates the times; not in 4.1. */
	assert_int_equal(setattr_deleg_mtime(a, 2, &oa.fh, &oa.sid, m0 + 1), NFS4ERR_BAD_STATEID);
	ds = deleg_sid(&oa2);
	assert_int_equal(setattr_deleg_mtime(a, 2, &oa2.fh, &ds, m0 + 1), NFS4ERR_BAD_STATEID);
	ds = deleg_sid(&oa);
	assert_int_equal(setattr_deleg_mtime(a, 1, &oa.fh, &ds, m0 + 1), NFS4ERR_ATTRNOTSUPP);
	/* A time before the grant's is ignored; one in the future is now. */
	assert_int_equal(setattr_deleg_mtime(a, 2, &oa.fh, &ds, m0 - 100), NFS4_OK);
	assert_int_equal(getattr_mtime(a, &oa.fh, &m), NFS4_OK);
	assert_int_equal(m, m0);
	assert_int_equal(setattr_deleg_mtime(a, 2, &oa.fh, &ds, m0 + 3600), NFS4_OK);
	now = (int64_t)time(NULL);
	assert_int_equal(getattr_mtime(a, &oa.fh, &m), NFS4_OK);
	assert_true(m <= now && m >= now - 5);
	assert_true(m > m0);

	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	ds = deleg_sid(&oa2);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa2.fh, &ds), NFS4_OK);
	close_opened(a, &oa);
	close_opened(a, &oa2);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_want_delegation_without_open),
		cmocka_unit_test(test_open_xor_delegation),
		cmocka_unit_test(test_delegated_timestamps),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
