/*
 * tests/proto/test_pynfs_open.c: the open/I/O/lock scenarios of the pynfs
 * NFSv4.1 suite (st_open.py, st_current_stateid.py, st_delegation.py), sent
 * as pynfs sends them (GUARDED4 creates with mode 0644 and WANT_NO_DELEG,
 * OPEN + GETFH in one compound, seqid-0 stateids) against a real daxnfsd,
 * each asserting what RFC 8881 requires: the current stateid rules of
 * §16.2.3.1.2 within one compound, open stateid seqids (§8.2.2), exclusive
 * create verifiers (§18.16.3), I/O with open and anonymous stateids, and the
 * "no delegation" answers (§18.16.3, why_no_delegation4).
 * pynfs test codes are named in each test's comment.
 */
#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "pynfs-open", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

/* The current stateid (RFC 8881 §8.2.3): seqid 1, other all zeros. */
static const stateid4 cur_sid = { .seqid = 1 };

#define NO_DELEG (OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG)

/* PUTROOTFH, OPEN(create GUARDED4 mode 0644 as pynfs's create_file), GETFH. */
static void add_create(struct nfs4_cl_compound *cp, const char *name, uint32_t access)
{
	OPEN4args *o;

	nfs4_cl_add_path(cp, "");
	nfs4_cl_add_open(cp, name, true, access, OPEN4_SHARE_DENY_NONE);
	o = &cp->ops[cp->nops - 1].u.opopen;
	o->openhow.u.how.mode = GUARDED4;
	nfs4_cl_add(cp, OP_GETFH);
}

/* Result of the first op opnum in cp, asserted present. */
static nfs_resop4 *res_of(struct nfs4_cl_compound *cp, nfs_opnum4 op)
{
	nfs_resop4 *r = nfs4_cl_res(cp, op);

	assert_non_null(r);
	return r;
}

/* A malloc'd copy of the compound's GETFH result into out (ot_fh_free). */
static void take_getfh(struct nfs4_cl_compound *cp, nfs_fh4 *out)
{
	const nfs_fh4 *fh = &res_of(cp, OP_GETFH)->u.opgetfh.u.resok4.object;

	out->len = fh->len;
	out->val = malloc(fh->len);
	assert_non_null(out->val);
	memcpy(out->val, fh->val, fh->len);
}

/* A file created and left open (BOTH, WANT_NO_DELEG) by cl. */
static void create_open(struct nfs4_cl *cl, const char *name, struct ot_open_res *out)
{
	struct ot_open_args oa = { .access = NO_DELEG, .createmode = GUARDED4 };

	assert_int_equal(ot_open(cl, name, &oa, out), NFS4_OK);
	assert_int_equal(out->sid.seqid, 1);   /* OPEN1: seqids start at one */
}

/* Another owner may open name with deny BOTH: nobody holds it open. */
static void assert_not_open(struct nfs4_cl *cl, const char *name)
{
	struct ot_open_args oa = { .access = OPEN4_SHARE_ACCESS_BOTH,
				   .deny = OPEN4_SHARE_DENY_BOTH,
				   .createmode = OT_NOCREATE, .owner = "probe-owner" };
	struct ot_open_res r;

	assert_int_equal(ot_open(cl, name, &oa, &r), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
}

/* CSID1, DELEG4: OPEN then CLOSE(current stateid) in one compound; the
 * open said "no delegation, not wanted". */
static void test_csid1_open_close(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid1");
	struct nfs4_cl_compound cp;
	OPEN4resok *ok;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid1", NO_DELEG);
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	ok = &res_of(&cp, OP_OPEN)->u.opopen.u.resok4;
	assert_int_equal(ok->stateid.seqid, 1);
	assert_int_equal(ok->delegation.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(ok->delegation.u.od_whynone.ond_why, WND4_NOT_WANTED);
	nfs4_cl_compound_free(&cp);
	assert_not_open(cl, "csid1");
	nfs4_cl_close(cl, true);
}

/* CSID2: LOCK (new lock owner) then LOCKU(current stateid). */
static void test_csid2_lock_locku(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid2");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	LOCK4args *l;
	LOCKU4args *u;
	stateid4 lsid, usid;

	(void)st;
	create_open(cl, "csid2", &r);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	l = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	l->locktype = WRITE_LT;
	l->length = UINT64_MAX;
	l->locker.new_lock_owner = true;
	l->locker.u.open_owner.open_stateid = r.sid;
	l->locker.u.open_owner.lock_owner.clientid = cl->clientid;
	l->locker.u.open_owner.lock_owner.owner = ot_str(&cp, "lock1", 5);
	u = &nfs4_cl_add(&cp, OP_LOCKU)->u.oplocku;
	u->locktype = WRITE_LT;
	u->lock_stateid = cur_sid;
	u->length = UINT64_MAX;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	lsid = res_of(&cp, OP_LOCK)->u.oplock.u.resok4.lock_stateid;
	usid = res_of(&cp, OP_LOCKU)->u.oplocku.u.lock_stateid;
	nfs4_cl_compound_free(&cp);
	/* LOCKU acted on the LOCK's stateid */
	assert_memory_equal(usid.other, lsid.other, NFS4_OTHER_SIZE);
	assert_int_equal(usid.seqid, lsid.seqid + 1);
	/* and released the lock: CLOSE is not refused with LOCKS_HELD */
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* CSID3: OPEN, WRITE(current), CLOSE(current); the data landed. */
static void test_csid3_open_write_close(void **st)
{
	static const char data[] = "write test data";
	struct nfs4_cl *cl = ot_client(&srv, "csid3");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	char buf[64];
	uint32_t n = 0;
	bool eof = false;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid3", NO_DELEG);
	nfs4_cl_add_write(&cp, &cur_sid, 5, data, sizeof(data) - 1, FILE_SYNC4);
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(res_of(&cp, OP_WRITE)->u.opwrite.u.resok4.count, sizeof(data) - 1);
	memset(&r, 0, sizeof(r));
	take_getfh(&cp, &r.fh);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ot_read(cl, &r.fh, &(stateid4){ 0 }, 0, sizeof(buf), buf, &n, &eof),
			 NFS4_OK);
	assert_int_equal(n, 5 + sizeof(data) - 1);
	assert_true(eof);
	assert_memory_equal(buf, "\0\0\0\0\0", 5);
	assert_memory_equal(buf + 5, data, sizeof(data) - 1);
	assert_not_open(cl, "csid3");
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* CSID4: LOCK, WRITE(current = the lock stateid), LOCKU(current), CLOSE. */
static void test_csid4_lock_write_locku(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid4");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	LOCK4args *l;
	LOCKU4args *u;

	(void)st;
	create_open(cl, "csid4", &r);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	l = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	l->locktype = WRITE_LT;
	l->length = UINT64_MAX;
	l->locker.new_lock_owner = true;
	l->locker.u.open_owner.open_stateid = r.sid;
	l->locker.u.open_owner.lock_owner.clientid = cl->clientid;
	l->locker.u.open_owner.lock_owner.owner = ot_str(&cp, "lock1", 5);
	nfs4_cl_add_write(&cp, &cur_sid, 5, "data", 4, FILE_SYNC4);
	u = &nfs4_cl_add(&cp, OP_LOCKU)->u.oplocku;
	u->locktype = WRITE_LT;
	u->lock_stateid = cur_sid;
	u->length = UINT64_MAX;
	nfs4_cl_add_close(&cp, &r.sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(cp.nres, 6);   /* SEQUENCE PUTFH LOCK WRITE LOCKU CLOSE */
	nfs4_cl_compound_free(&cp);
	assert_not_open(cl, "csid4");
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* RFC 8881 §16.2.3.1.2: the current stateid stands for any stateid
 * argument, LOCK's open_stateid included: OPEN, LOCK(open_stateid =
 * current), WRITE(current = the lock stateid), LOCKU(current). */
static void test_lock_from_current_open_stateid(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid-lock-open");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	LOCK4args *l;
	LOCKU4args *u;
	stateid4 lsid;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid-lock-open", NO_DELEG);
	l = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	l->locktype = WRITE_LT;
	l->length = UINT64_MAX;
	l->locker.new_lock_owner = true;
	l->locker.u.open_owner.open_stateid = cur_sid;
	l->locker.u.open_owner.lock_owner.clientid = cl->clientid;
	l->locker.u.open_owner.lock_owner.owner = ot_str(&cp, "lock-cur", 8);
	nfs4_cl_add_write(&cp, &cur_sid, 0, "abc", 3, FILE_SYNC4);
	u = &nfs4_cl_add(&cp, OP_LOCKU)->u.oplocku;
	u->locktype = WRITE_LT;
	u->lock_stateid = cur_sid;
	u->length = UINT64_MAX;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	memset(&r, 0, sizeof(r));
	r.sid = res_of(&cp, OP_OPEN)->u.opopen.u.resok4.stateid;
	lsid = res_of(&cp, OP_LOCK)->u.oplock.u.resok4.lock_stateid;
	assert_memory_not_equal(lsid.other, r.sid.other, NFS4_OTHER_SIZE);
	assert_int_equal(res_of(&cp, OP_LOCKU)->u.oplocku.u.lock_stateid.seqid, lsid.seqid + 1);
	take_getfh(&cp, &r.fh);
	nfs4_cl_compound_free(&cp);
	/* the lock is gone, so the open closes */
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* CSID5: a LOOKUP after OPEN leaves no current stateid: CLOSE(current) is
 * BAD_STATEID, and the open is still there. */
static void test_csid5_open_lookup_close(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid5");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid5", NO_DELEG);
	nfs4_cl_add_path(&cp, "csid5");
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_BAD_STATEID);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_CLOSE);
	memset(&r, 0, sizeof(r));
	r.sid = res_of(&cp, OP_OPEN)->u.opopen.u.resok4.stateid;
	take_getfh(&cp, &r.fh);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* CSID6: PUTFH then CLOSE(current): no op set a current stateid. */
static void test_csid6_close_no_stateid(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid6");
	struct ot_open_res r;

	(void)st;
	create_open(cl, "csid6", &r);
	assert_int_equal(ot_close(cl, &r.fh, &cur_sid, NULL), NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* CSID9: FREE_STATEID(current = an open stateid) is LOCKS_HELD (§18.38.3). */
static void test_csid9_open_free_stateid(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid9");
	struct nfs4_cl_compound cp;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid9", NO_DELEG);
	nfs4_cl_add(&cp, OP_FREE_STATEID)->u.opfree_stateid.fsa_stateid = cur_sid;
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_LOCKS_HELD);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_FREE_STATEID);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(cl, true);
}

/* CSID10: SAVEFH keeps the current stateid with the fh, PUTFH drops it,
 * RESTOREFH brings it back: CLOSE(current) closes the open. */
static void test_csid10_savefh_restorefh(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "csid10");
	struct nfs4_cl_compound cp;
	nfs_fh4 root;

	(void)st;
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, "");
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	take_getfh(&cp, &root);
	nfs4_cl_compound_free(&cp);

	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid10", NO_DELEG);
	nfs4_cl_add(&cp, OP_SAVEFH);
	ot_putfh(&cp, &root);
	nfs4_cl_add(&cp, OP_RESTOREFH);
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);
	assert_not_open(cl, "csid10");

	/* without SAVEFH/RESTOREFH the PUTFH leaves no current stateid */
	nfs4_cl_compound_init(&cp, cl);
	add_create(&cp, "csid10b", NO_DELEG);
	ot_putfh(&cp, &root);
	nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ot_str(&cp, "csid10b", 7);
	nfs4_cl_add_close(&cp, &cur_sid);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_BAD_STATEID);
	nfs4_cl_compound_free(&cp);
	free(root.val);
	nfs4_cl_close(cl, true);
}

/* OPEN2, OPEN8: a second OPEN by the same owner bumps the seqid of the
 * same stateid; CLOSE accepts seqid 0 ("the current one"). */
static void test_open2_seqid_bump_close_seqid0(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "open2");
	struct ot_open_args wr = { .access = OPEN4_SHARE_ACCESS_WRITE |
					     OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				   .createmode = GUARDED4, .owner = "owner_open2" };
	struct ot_open_args rd = { .access = OPEN4_SHARE_ACCESS_READ |
					     OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				   .createmode = OT_NOCREATE, .owner = "owner_open2" };
	struct ot_open_res r1, r2;
	stateid4 zero_seq;

	(void)st;
	assert_int_equal(ot_open(cl, "open2", &wr, &r1), NFS4_OK);
	assert_int_equal(r1.sid.seqid, 1);
	assert_int_equal(ot_open(cl, "open2", &rd, &r2), NFS4_OK);
	assert_int_equal(r2.sid.seqid, 2);
	assert_memory_equal(r2.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	/* the old seqid is now OLD_STATEID */
	assert_int_equal(ot_close(cl, &r2.fh, &r1.sid, NULL), NFS4ERR_OLD_STATEID);
	zero_seq = r2.sid;
	zero_seq.seqid = 0;
	assert_int_equal(ot_close(cl, &r2.fh, &zero_seq, NULL), NFS4_OK);
	assert_not_open(cl, "open2");
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	nfs4_cl_close(cl, true);
}

/* OPEN6: EXCLUSIVE4_1 again with another verifier is EXIST; with the same
 * one it is the retry of the create and succeeds. */
static void test_open6_exclusive41_verifier(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "open6");
	struct ot_open_args oa = { .access = NO_DELEG, .createmode = EXCLUSIVE4_1,
				   .verf = "verf0001" };
	struct ot_open_args other = oa;
	struct ot_open_res r1, r2;

	(void)st;
	memcpy(other.verf, "Justtest", NFS4_VERIFIER_SIZE);
	assert_int_equal(ot_open(cl, "open6", &oa, &r1), NFS4_OK);
	assert_int_equal(ot_open(cl, "open6", &other, &r2), NFS4ERR_EXIST);
	assert_int_equal(ot_open(cl, "open6", &oa, &r2), NFS4_OK);
	assert_memory_equal(r2.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	nfs4_cl_close(cl, true);
}

/* OPEN7, OPEN30: CLAIM_FH open by a new owner, WRITE at 5 and READ from 0
 * with the seqid-0 stateid: five zeros, the data, eof. */
static void test_open7_claim_fh_read_write(void **st)
{
	static const char data[] = "write test data";
	struct nfs4_cl *cl = ot_client(&srv, "open7");
	struct ot_open_res r, r2;
	struct ot_open_args byfh = { .access = NO_DELEG, .createmode = OT_NOCREATE,
				     .owner = "My Open Owner 2", .claim = CLAIM_FH };
	stateid4 sid;
	char buf[1000];
	uint32_t n = 0;
	bool eof = false;

	(void)st;
	create_open(cl, "open7", &r);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	byfh.fh_in = &r.fh;
	assert_int_equal(ot_open(cl, NULL, &byfh, &r2), NFS4_OK);
	assert_int_equal(r2.deleg, OPEN_DELEGATE_NONE_EXT);
	sid = r2.sid;
	sid.seqid = 0;
	assert_int_equal(ot_write(cl, &r.fh, &sid, 5, data, sizeof(data) - 1, FILE_SYNC4, NULL),
			 NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &sid, 0, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 5 + sizeof(data) - 1);
	assert_true(eof);
	assert_memory_equal(buf, "\0\0\0\0\0", 5);
	assert_memory_equal(buf + 5, data, sizeof(data) - 1);
	assert_int_equal(ot_close(cl, &r.fh, &sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	ot_fh_free(&r2.fh);
	nfs4_cl_close(cl, true);
}

/* OPEN31: WRITE and READ with the anonymous stateid once the file is closed. */
static void test_open31_anonymous_io(void **st)
{
	static const char data[] = "write test data";
	struct nfs4_cl *cl = ot_client(&srv, "open31");
	const stateid4 anon = { 0 };
	struct ot_open_res r;
	char buf[1000];
	uint32_t n = 0;
	bool eof = false;

	(void)st;
	create_open(cl, "open31", &r);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &anon, 5, data, sizeof(data) - 1, FILE_SYNC4, NULL),
			 NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &anon, 0, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, 5 + sizeof(data) - 1);
	assert_true(eof);
	assert_memory_equal(buf + 5, data, sizeof(data) - 1);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* DELEG1-3, DELEG28/29: a wanted delegation is not granted; the answer is
 * OPEN_DELEGATE_NONE_EXT with a reason other than "not wanted", each OPEN
 * of the same owner bumping one stateid's seqid; DELEG9: never a delegation
 * on a file another client has open for write. */
static void test_deleg_wanted_not_granted(void **st)
{
	struct nfs4_cl *a = ot_client(&srv, "deleg-a"), *b = ot_client(&srv, "deleg-b");
	struct ot_open_args want = { .access = OPEN4_SHARE_ACCESS_READ |
					       OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
				     .createmode = OT_NOCREATE, .claim = CLAIM_FH };
	struct nfs4_cl_compound cp;
	struct ot_open_res w, r1, r2;
	OPEN4resok *ok;

	(void)st;
	{
		struct ot_open_args wr = { .access = OPEN4_SHARE_ACCESS_WRITE |
						     OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
					   .createmode = GUARDED4 };

		assert_int_equal(ot_open(a, "deleg", &wr, &w), NFS4_OK);
	}
	want.fh_in = &w.fh;
	nfs4_cl_compound_init(&cp, b);
	ot_putfh(&cp, &w.fh);
	nfs4_cl_add_open(&cp, "unused", false, OPEN4_SHARE_ACCESS_READ |
			 OPEN4_SHARE_ACCESS_WANT_READ_DELEG, OPEN4_SHARE_DENY_NONE);
	cp.ops[cp.nops - 1].u.opopen.claim.claim = CLAIM_FH;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	ok = &res_of(&cp, OP_OPEN)->u.opopen.u.resok4;
	assert_int_equal(ok->delegation.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_not_equal(ok->delegation.u.od_whynone.ond_why, WND4_NOT_WANTED);
	nfs4_cl_compound_free(&cp);

	assert_int_equal(ot_open(b, NULL, &want, &r1), NFS4_OK);
	assert_int_equal(r1.deleg, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(ot_open(b, NULL, &want, &r2), NFS4_OK);
	assert_memory_equal(r2.sid.other, r1.sid.other, NFS4_OTHER_SIZE);
	assert_int_equal(r2.sid.seqid, r1.sid.seqid + 1);
	assert_int_equal(ot_close(b, &w.fh, &r2.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(a, &w.fh, &w.sid, NULL), NFS4_OK);
	ot_fh_free(&w.fh);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csid1_open_close),
		cmocka_unit_test(test_csid2_lock_locku),
		cmocka_unit_test(test_csid3_open_write_close),
		cmocka_unit_test(test_csid4_lock_write_locku),
		cmocka_unit_test(test_lock_from_current_open_stateid),
		cmocka_unit_test(test_csid5_open_lookup_close),
		cmocka_unit_test(test_csid6_close_no_stateid),
		cmocka_unit_test(test_csid9_open_free_stateid),
		cmocka_unit_test(test_csid10_savefh_restorefh),
		cmocka_unit_test(test_open2_seqid_bump_close_seqid0),
		cmocka_unit_test(test_open6_exclusive41_verifier),
		cmocka_unit_test(test_open7_claim_fh_read_write),
		cmocka_unit_test(test_open31_anonymous_io),
		cmocka_unit_test(test_deleg_wanted_not_granted),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
