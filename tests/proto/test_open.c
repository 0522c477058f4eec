/*
 * tests/proto/test_open.c: OPEN, OPEN_DOWNGRADE and CLOSE against a real
 * daxnfsd (RFC 8881 §18.16, §18.18, §18.2): create modes, exclusive create
 * retries, share reservations between clients and owners, upgrades,
 * downgrades, the stateid rules of CLOSE, claims by file handle.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "open", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

static bool bit(const uint32_t *w, unsigned n)
{
	return n < 96 && (w[n / 32] >> (n % 32)) & 1u;
}

static void test_create_unchecked_then_open_existing(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "open-create");
	struct ot_open_res r1, r2, r3;
	struct ot_open_args oa = { .createmode = OT_NOCREATE, .owner = "second-owner" };

	(void)st;
	assert_int_equal(ot_open_simple(cl, "unchecked", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4_OK);
	assert_true(r1.rflags & OPEN4_RESULT_LOCKTYPE_POSIX);
	assert_false(r1.rflags & OPEN4_RESULT_CONFIRM);
	assert_int_equal(r1.deleg, OPEN_DELEGATE_NONE);
	assert_int_equal(r1.sid.seqid, 1);
	assert_true(bit(r1.attrset, FATTR4_MODE));
	assert_true(r1.cinfo.after != r1.cinfo.before);
	/* the same name again with UNCHECKED4: opened, not created */
	assert_int_equal(ot_open_simple(cl, "unchecked", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &r2), NFS4_OK);
	assert_false(bit(r2.attrset, FATTR4_MODE));
	assert_int_equal(r2.fh.len, r1.fh.len);
	assert_memory_equal(r2.fh.val, r1.fh.val, r1.fh.len);
	/* another owner gets another stateid for the same file */
	assert_int_equal(ot_open(cl, "unchecked", &oa, &r3), NFS4_OK);
	assert_memory_not_equal(r3.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	assert_memory_equal(r3.fh.val, r1.fh.val, r1.fh.len);
	assert_int_equal(ot_close(cl, &r3.fh, &r3.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	ot_fh_free(&r3.fh);
	/* NOCREATE of a missing name */
	assert_int_equal(ot_open_simple(cl, "no-such-file", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4ERR_NOENT);
	nfs4_cl_close(cl, true);
}

static void test_guarded_exists(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "open-guarded");
	struct ot_open_args oa = { .createmode = GUARDED4 };
	struct ot_open_res r;

	(void)st;
	assert_int_equal(ot_open(cl, "guarded", &oa, &r), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	assert_int_equal(ot_open(cl, "guarded", &oa, &r), NFS4ERR_EXIST);
	nfs4_cl_close(cl, true);
}

static void test_exclusive41_retry(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "open-excl");
	struct ot_open_args oa = { .createmode = EXCLUSIVE4_1, .verf = "verif-A" };
	struct ot_open_res r1, r2;

	(void)st;
	assert_int_equal(ot_open(cl, "exclusive", &oa, &r1), NFS4_OK);
	/* the verifier is kept in the times, and attrset says so */
	assert_true(bit(r1.attrset, FATTR4_TIME_ACCESS));
	assert_true(bit(r1.attrset, FATTR4_TIME_MODIFY));
	assert_true(bit(r1.attrset, FATTR4_MODE));
	/* a retry with the same verifier is the same create */
	assert_int_equal(ot_open(cl, "exclusive", &oa, &r2), NFS4_OK);
	assert_int_equal(r2.fh.len, r1.fh.len);
	assert_memory_equal(r2.fh.val, r1.fh.val, r1.fh.len);
	assert_memory_equal(r2.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	/* another verifier: the file exists */
	memcpy(oa.verf, "verif-B", 8);
	assert_int_equal(ot_open(cl, "exclusive", &oa, &r1), NFS4ERR_EXIST);
	nfs4_cl_close(cl, true);
}

static void test_share_deny_between_clients(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "share-a"), *b = ot_client(&srv, "share-b");
	struct ot_open_res ra, rb;
	struct ot_open_args other_owner = { .access = OPEN4_SHARE_ACCESS_WRITE,
					    .createmode = OT_NOCREATE, .owner = "a-owner-2" };

	(void)st;
	assert_int_equal(ot_open_simple(a, "shared", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_WRITE, &ra), NFS4_OK);
	/* B may not write while A denies writers */
	assert_int_equal(ot_open_simple(b, "shared", false, OPEN4_SHARE_ACCESS_WRITE,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_SHARE_DENIED);
	assert_int_equal(ot_open_simple(b, "shared", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4ERR_SHARE_DENIED);
	/* nor deny A's read */
	assert_int_equal(ot_open_simple(b, "shared", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_READ, &rb), NFS4ERR_SHARE_DENIED);
	/* another owner of the same client is refused too */
	assert_int_equal(ot_open(a, "shared", &other_owner, &rb), NFS4ERR_SHARE_DENIED);
	/* reading alongside is fine */
	assert_int_equal(ot_open_simple(b, "shared", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);
	ot_fh_free(&rb.fh);
	/* once A closes, B may write */
	assert_int_equal(ot_close(a, &ra.fh, &ra.sid, NULL), NFS4_OK);
	assert_int_equal(ot_open_simple(b, "shared", false, OPEN4_SHARE_ACCESS_WRITE,
					OPEN4_SHARE_DENY_NONE, &rb), NFS4_OK);
	assert_int_equal(ot_close(b, &rb.fh, &rb.sid, NULL), NFS4_OK);
	ot_fh_free(&ra.fh);
	ot_fh_free(&rb.fh);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_upgrade_downgrade_close(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "updown");
	struct ot_open_res r1, r2;
	stateid4 sid, closed;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "updown", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4_OK);
	/* upgrade by the same owner: same "other", seqid + 1 */
	assert_int_equal(ot_open_simple(cl, "updown", false, OPEN4_SHARE_ACCESS_WRITE,
					OPEN4_SHARE_DENY_NONE, &r2), NFS4_OK);
	assert_memory_equal(r2.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	assert_int_equal(r2.sid.seqid, r1.sid.seqid + 1);
	/* downgrade to a mode never opened: INVAL; to READ: OK, seqid + 1 */
	assert_int_equal(ot_downgrade(cl, &r2.fh, &r2.sid, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_WRITE, &sid), NFS4ERR_INVAL);
	assert_int_equal(ot_downgrade(cl, &r2.fh, &r2.sid, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_NONE, &sid), NFS4_OK);
	assert_int_equal(sid.seqid, r2.sid.seqid + 1);
	/* BOTH is no subset of READ any more */
	assert_int_equal(ot_downgrade(cl, &r2.fh, &sid, OPEN4_SHARE_ACCESS_BOTH,
				      OPEN4_SHARE_DENY_NONE, NULL), NFS4ERR_INVAL);
	/* an older seqid */
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4ERR_OLD_STATEID);
	assert_int_equal(ot_downgrade(cl, &r2.fh, &r1.sid, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_NONE, NULL), NFS4ERR_OLD_STATEID);
	/* CLOSE answers the invalid special stateid (RFC 8881 §18.2.4) */
	assert_int_equal(ot_close(cl, &r2.fh, &sid, &closed), NFS4_OK);
	assert_int_equal(closed.seqid, UINT32_MAX);
	{
		static const uint8_t zero[NFS4_OTHER_SIZE];

		assert_memory_equal(closed.other, zero, NFS4_OTHER_SIZE);
	}
	/* and the stateid is gone */
	assert_int_equal(ot_close(cl, &r2.fh, &sid, NULL), NFS4ERR_BAD_STATEID);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	nfs4_cl_close(cl, true);
}

static void test_claim_fh_and_wrong_types(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "claimfh");
	struct ot_open_res r1, r2;
	struct ot_open_args oa = { .createmode = OT_NOCREATE, .claim = CLAIM_FH };
	struct nfs4_cl_compound cp;
	OPEN4args *o;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "claimfh", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4_OK);
	oa.fh_in = &r1.fh;
	oa.owner = "fh-owner";
	assert_int_equal(ot_open(cl, NULL, &oa, &r2), NFS4_OK);
	assert_memory_equal(r2.fh.val, r1.fh.val, r1.fh.len);
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r1.fh, &r1.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);

	/* the root directory by fh: ISDIR */
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	o = &nfs4_cl_add(&cp, OP_OPEN)->u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_READ;
	o->owner.owner = ot_str(&cp, "x", 1);
	o->openhow.opentype = OPEN4_NOCREATE;
	o->claim.claim = CLAIM_FH;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_ISDIR);
	nfs4_cl_compound_free(&cp);

	/* bad share values */
	assert_int_equal(ot_open_simple(cl, "claimfh", false, 4, OPEN4_SHARE_DENY_NONE, &r1),
			 NFS4ERR_INVAL);
	assert_int_equal(ot_open_simple(cl, "claimfh", false, OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4ERR_INVAL);
	assert_int_equal(ot_open_simple(cl, "claimfh", false, OPEN4_SHARE_ACCESS_READ, 4, &r1),
			 NFS4ERR_INVAL);
	/* a delegation want that is not granted says why */
	assert_int_equal(ot_open_simple(cl, "claimfh", false,
					OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
					OPEN4_SHARE_DENY_NONE, &r1), NFS4_OK);
	assert_int_equal(r1.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(ot_close(cl, &r1.fh, &r1.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	nfs4_cl_close(cl, true);
}

static void test_truncate_on_open(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "trunc");
	struct ot_open_args oa = { .createmode = UNCHECKED4, .truncate = true };
	struct ot_open_res r;
	uint8_t buf[16];
	uint32_t n;
	bool eof;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "trunc", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, "0123456789", 10, FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	/* truncation needs write access */
	oa.access = OPEN4_SHARE_ACCESS_READ;
	assert_int_equal(ot_open(cl, "trunc", &oa, &r), NFS4ERR_INVAL);
	oa.access = OPEN4_SHARE_ACCESS_BOTH;
	assert_int_equal(ot_open(cl, "trunc", &oa, &r), NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 0);
	assert_true(eof);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_unchecked_then_open_existing),
		cmocka_unit_test(test_guarded_exists),
		cmocka_unit_test(test_exclusive41_retry),
		cmocka_unit_test(test_share_deny_between_clients),
		cmocka_unit_test(test_upgrade_downgrade_close),
		cmocka_unit_test(test_claim_fh_and_wrong_types),
		cmocka_unit_test(test_truncate_on_open),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
