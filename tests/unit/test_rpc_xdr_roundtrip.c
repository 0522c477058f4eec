/*
 * tests/unit/test_rpc_xdr_roundtrip.c: the generated NFSv4.1/4.2 codecs
 * (build/rpc/nfs4_xdr_gen.[ch]) encode representative messages to the bytes
 * the RFC prescribes, decode them back field for field, and re-encode the
 * decoded value to identical bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rpc_xdr_samples.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes buf into *v (arena-backed), asserts all bytes were used, re-encodes
 * and asserts the bytes are identical. */
static void decode_reencode(xdrs_dec_fn dec, xdrs_enc_fn enc, const uint8_t *buf, size_t len,
			    void *v, struct arena *a)
{
	struct xdr_stream x;
	uint8_t *again = NULL;
	size_t again_len;

	xdr_init_decode(&x, buf, len, a);
	assert_true(dec(&x, v));
	assert_true(xdr_ok(&x));
	assert_int_equal(xdr_pos(&x), len);
	assert_true(xdrs_encode(enc, v, &again, &again_len));
	assert_int_equal(again_len, len);
	assert_memory_equal(again, buf, len);
	free(again);
}

static void test_compound_args(void **state)
{
	COMPOUND4args c, d;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_compound_args(&c);
	assert_true(xdrs_encode(xdrs_enc_COMPOUND4args, &c, &buf, &len));
	/* tag<> "open-create" (11 bytes + 1 pad), minorversion, count, first op */
	assert_int_equal(be32(buf), 11);
	assert_memory_equal(buf + 4, "open-create", 11);
	assert_int_equal(buf[15], 0);
	assert_int_equal(be32(buf + 16), 1);
	assert_int_equal(be32(buf + 20), 4);
	assert_int_equal(be32(buf + 24), OP_SEQUENCE);
	assert_memory_equal(buf + 28, c.argarray.val[0].u.opsequence.sa_sessionid, 16);

	arena_init(&a, 0);
	memset(&d, 0xee, sizeof(d));
	decode_reencode(xdrs_dec_COMPOUND4args, xdrs_enc_COMPOUND4args, buf, len, &d, &a);
	assert_int_equal(d.minorversion, 1);
	assert_int_equal(d.argarray.len, 4);
	assert_int_equal(d.argarray.val[0].argop, OP_SEQUENCE);
	assert_int_equal(d.argarray.val[0].u.opsequence.sa_sequenceid, 7);
	assert_true(d.argarray.val[0].u.opsequence.sa_cachethis);
	assert_int_equal(d.argarray.val[1].argop, OP_PUTFH);
	assert_int_equal(d.argarray.val[1].u.opputfh.object.len, 24);
	/* opaques are decoded in place: they point into the receive buffer */
	assert_true(d.argarray.val[1].u.opputfh.object.val >= buf &&
		    d.argarray.val[1].u.opputfh.object.val < buf + len);
	assert_memory_equal(d.argarray.val[1].u.opputfh.object.val, xdrs_fh_bytes, 24);

	const OPEN4args *o = &d.argarray.val[2].u.opopen;
	assert_int_equal(d.argarray.val[2].argop, OP_OPEN);
	assert_int_equal(o->share_access, OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG);
	assert_int_equal(o->owner.clientid, 0x1122334455667788ull);
	assert_int_equal(o->owner.owner.len, 12);
	assert_memory_equal(o->owner.owner.val, "open-owner-1", 12);
	assert_int_equal(o->openhow.opentype, OPEN4_CREATE);
	assert_int_equal(o->openhow.u.how.mode, EXCLUSIVE4_1);
	assert_memory_equal(o->openhow.u.how.u.ch_createboth.cva_verf, "verifier", 8);
	assert_int_equal(o->openhow.u.how.u.ch_createboth.cva_attrs.attrmask.len, 2);
	assert_int_equal(o->openhow.u.how.u.ch_createboth.cva_attrs.attrmask.val[1], 0x00b0a23a);
	assert_int_equal(o->claim.claim, CLAIM_NULL);
	assert_int_equal(o->claim.u.file.len, 11);
	assert_memory_equal(o->claim.u.file.val, "newfile.txt", 11);
	assert_int_equal(d.argarray.val[3].argop, OP_GETATTR);
	assert_int_equal(d.argarray.val[3].u.opgetattr.attr_request.val[0], 0x0010011a);
	arena_release(&a);
	free(buf);
}

/* The server decodes argarray op by op with xdr_dec_nfs_argop4. */
static void test_compound_args_op_by_op(void **state)
{
	COMPOUND4args c;
	struct xdr_stream x;
	struct xdr_opaque tag;
	uint32_t minor, n;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_compound_args(&c);
	assert_true(xdrs_encode(xdrs_enc_COMPOUND4args, &c, &buf, &len));
	arena_init(&a, 0);
	xdr_init_decode(&x, buf, len, &a);
	assert_true(xdr_dec_utf8str_cs(&x, &tag));
	assert_true(xdr_get_u32(&x, &minor));
	assert_true(xdr_get_array_len(&x, 0, 4, &n));
	assert_int_equal(n, 4);
	for (uint32_t i = 0; i < n; i++) {
		nfs_argop4 op;

		assert_true(xdr_dec_nfs_argop4(&x, &op));
		assert_int_equal(op.argop, c.argarray.val[i].argop);
	}
	assert_int_equal(xdr_pos(&x), len);
	arena_release(&a);
	free(buf);
}

static void test_compound_res(void **state)
{
	COMPOUND4res c, d;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_compound_res(&c);
	assert_true(xdrs_encode(xdrs_enc_COMPOUND4res, &c, &buf, &len));
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_COMPOUND4res, xdrs_enc_COMPOUND4res, buf, len, &d, &a);
	assert_int_equal(d.resarray.len, 4);
	assert_int_equal(d.resarray.val[2].u.opopen.status, NFS4_OK);
	assert_int_equal(d.resarray.val[2].u.opopen.u.resok4.delegation.delegation_type,
			 OPEN_DELEGATE_READ);
	assert_memory_equal(d.resarray.val[2].u.opopen.u.resok4.delegation.u.read.permissions.who.val,
			    "EVERYONE@", 9);
	arena_release(&a);
	free(buf);
}

static void test_exchange_id_res(void **state)
{
	EXCHANGE_ID4res r, d;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_exchange_id_res(&r);
	assert_true(xdrs_encode(xdrs_enc_EXCHANGE_ID4res, &r, &buf, &len));
	assert_int_equal(be32(buf), NFS4_OK);
	assert_int_equal(be32(buf + 4), 0xfeedface);
	assert_int_equal(be32(buf + 8), 0xcafebeef);
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_EXCHANGE_ID4res, xdrs_enc_EXCHANGE_ID4res, buf, len, &d, &a);
	assert_int_equal(d.eir_status, NFS4_OK);
	assert_int_equal(d.u.eir_resok4.eir_flags, EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_CONFIRMED_R);
	assert_int_equal(d.u.eir_resok4.eir_state_protect.spr_how, SP4_NONE);
	assert_int_equal(d.u.eir_resok4.eir_server_owner.so_minor_id, 42);
	assert_int_equal(d.u.eir_resok4.eir_server_impl_id.len, 1);
	assert_int_equal(d.u.eir_resok4.eir_server_impl_id.val[0].nii_date.seconds, 1700000000);
	arena_release(&a);
	free(buf);
}

static void test_readdir_res(void **state)
{
	READDIR4res r, d;
	const entry4 *e;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;
	unsigned n = 0;

	(void)state;
	xdrs_readdir_res(&r);
	assert_true(xdrs_encode(xdrs_enc_READDIR4res, &r, &buf, &len));
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_READDIR4res, xdrs_enc_READDIR4res, buf, len, &d, &a);
	assert_true(d.u.resok4.reply.eof);
	for (e = d.u.resok4.reply.entries; e; e = e->nextentry, n++) {
		assert_int_equal(e->cookie, 100 + n);
		assert_int_equal(e->name.len, n + 1);
		assert_int_equal(e->attrs.attr_vals.len, 12);
	}
	assert_int_equal(n, 3);
	arena_release(&a);
	free(buf);
}

static void test_create_session_args(void **state)
{
	CREATE_SESSION4args s, d;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_create_session_args(&s);
	assert_true(xdrs_encode(xdrs_enc_CREATE_SESSION4args, &s, &buf, &len));
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_CREATE_SESSION4args, xdrs_enc_CREATE_SESSION4args, buf, len, &d, &a);
	assert_int_equal(d.csa_fore_chan_attrs.ca_maxrequests, 64);
	assert_int_equal(d.csa_fore_chan_attrs.ca_rdma_ird.len, 0);
	assert_int_equal(d.csa_back_chan_attrs.ca_rdma_ird.len, 1);
	assert_int_equal(d.csa_back_chan_attrs.ca_rdma_ird.val[0], 4);
	assert_int_equal(d.csa_sec_parms.len, 2);
	assert_int_equal(d.csa_sec_parms.val[0].cb_secflavor, AUTH_SYS);
	assert_int_equal(d.csa_sec_parms.val[0].u.cbsp_sys_cred.gids.len, 3);
	assert_int_equal(d.csa_sec_parms.val[0].u.cbsp_sys_cred.gids.val[2], 30);
	assert_int_equal(d.csa_sec_parms.val[1].cb_secflavor, AUTH_NONE);
	arena_release(&a);
	free(buf);
}

static void test_cb_compound(void **state)
{
	CB_COMPOUND4args c, d;
	CB_COMPOUND4res r, dr;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_cb_compound_args(&c);
	assert_true(xdrs_encode(xdrs_enc_CB_COMPOUND4args, &c, &buf, &len));
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_CB_COMPOUND4args, xdrs_enc_CB_COMPOUND4args, buf, len, &d, &a);
	assert_int_equal(d.argarray.len, 2);
	assert_int_equal(d.argarray.val[0].argop, OP_CB_SEQUENCE);
	assert_int_equal(d.argarray.val[0].u.opcbsequence.csa_referring_call_lists.val[0]
			 .rcl_referring_calls.val[1].rc_sequenceid, 9);
	assert_int_equal(d.argarray.val[1].argop, OP_CB_LAYOUTRECALL);
	assert_int_equal(d.argarray.val[1].u.opcblayoutrecall.clora_recall.lor_recalltype,
			 LAYOUTRECALL4_FILE);
	assert_int_equal(d.argarray.val[1].u.opcblayoutrecall.clora_recall.u.lor_layout.lor_length,
			 NFS4_UINT64_MAX);
	assert_memory_equal(d.argarray.val[1].u.opcblayoutrecall.clora_recall.u.lor_layout.lor_stateid.other,
			    "0123456789ab", 12);
	free(buf);

	xdrs_cb_compound_res(&r);
	assert_true(xdrs_encode(xdrs_enc_CB_COMPOUND4res, &r, &buf, &len));
	decode_reencode(xdrs_dec_CB_COMPOUND4res, xdrs_enc_CB_COMPOUND4res, buf, len, &dr, &a);
	assert_int_equal(dr.status, NFS4ERR_NOMATCHING_LAYOUT);
	assert_int_equal(dr.resarray.val[0].u.opcbsequence.u.csr_resok4.csr_target_highest_slotid, 7);
	arena_release(&a);
	free(buf);
}

static void test_fattr4(void **state)
{
	static const uint8_t want[] = {
		0, 0, 0, 2, 0x00, 0x10, 0x01, 0x1a, 0x00, 0xb0, 0xa2, 0x3a,
		0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x10, 0,
	};
	fattr4 f, d;
	struct arena a;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	xdrs_fattr(&f);
	assert_true(xdrs_encode(xdrs_enc_fattr4, &f, &buf, &len));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	arena_init(&a, 0);
	decode_reencode(xdrs_dec_fattr4, xdrs_enc_fattr4, buf, len, &d, &a);
	arena_release(&a);
	free(buf);
}

/* Constants other engineers code against, pinned to the RFC values. */
static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(NFS4_FHSIZE, 128);
	assert_int_equal(NFS4_VERIFIER_SIZE, 8);
	assert_int_equal(NFS4_OTHER_SIZE, 12);
	assert_int_equal(NFS4_OPAQUE_LIMIT, 1024);
	assert_int_equal(NFS4_SESSIONID_SIZE, 16);
	assert_int_equal(sizeof(sessionid4), 16);
	assert_int_equal(sizeof(((stateid4 *)0)->other), 12);
	assert_int_equal(NFS4ERR_BADXDR, 10036);
	assert_int_equal(NFS4ERR_OP_ILLEGAL, 10044);
	assert_int_equal(NFS4ERR_DELEG_REVOKED, 10087);
	assert_int_equal(NFS4ERR_OFFLOAD_NO_REQS, 10094);
	assert_int_equal(OP_ILLEGAL, 10044);
	assert_int_equal(OP_RECLAIM_COMPLETE, 58);
	assert_int_equal(OP_CLONE, 71);
	assert_int_equal(OP_CB_OFFLOAD, 15);
	assert_int_equal(FATTR4_SUPPATTR_EXCLCREAT, 75);
	assert_int_equal(FATTR4_FS_CHARSET_CAP, 76);
	assert_int_equal(FATTR4_CLONE_BLKSIZE, 77);
	assert_int_equal(FATTR4_SEC_LABEL, 80);
	assert_int_equal(EXCHGID4_FLAG_CONFIRMED_R, 0x80000000u);
	assert_int_equal(SEQ4_STATUS_DEVID_DELETED, 0x1000);
	assert_int_equal(NFSPROC4_COMPOUND, 1);
	assert_int_equal(CB_COMPOUND, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compound_args),
		cmocka_unit_test(test_compound_args_op_by_op),
		cmocka_unit_test(test_compound_res),
		cmocka_unit_test(test_exchange_id_res),
		cmocka_unit_test(test_readdir_res),
		cmocka_unit_test(test_create_session_args),
		cmocka_unit_test(test_cb_compound),
		cmocka_unit_test(test_fattr4),
		cmocka_unit_test(test_constants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
