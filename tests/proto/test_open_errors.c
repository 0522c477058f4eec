/*
 * tests/proto/test_open_errors.c: the refusals of OPEN and friends against a
 * real daxnfsd: non-regular files (directory, symlink, fifo), a non-directory
 * as the CLAIM_NULL directory, delegation claims and operations of a server
 * that grants no delegations, reclaims outside grace, EXCLUSIVE4 (the v4.0
 * create mode, still accepted), and a read-only export.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "tests/proto/test_open_util.h"

static struct proto_server srv;

static int group_setup(void **st)
{
	(void)st;
	return proto_server_start(&srv, "open-errors", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop(&srv) == 0 ? 0 : -1;
}

static void test_non_regular_files(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "types");
	struct ot_open_res r, p;
	struct nfs4_cl_compound cp;
	char path[PATH_MAX + 32];
	OPEN4args *o;

	(void)st;
	snprintf(path, sizeof(path), "%s/adir", srv.export_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/alink", srv.export_dir);
	assert_int_equal(symlink("adir", path), 0);
	snprintf(path, sizeof(path), "%s/afifo", srv.export_dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(ot_open_simple(cl, "adir", false, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4ERR_ISDIR);
	assert_int_equal(ot_open_simple(cl, "alink", false, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4ERR_SYMLINK);
	assert_int_equal(ot_open_simple(cl, "afifo", false, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4ERR_SYMLINK);
	/* UNCHECKED4 on an existing directory name opens it: ISDIR too */
	assert_int_equal(ot_open_simple(cl, "adir", true, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4ERR_ISDIR);

	/* CLAIM_NULL needs a directory as the current fh */
	assert_int_equal(ot_open_simple(cl, "plain", true, OPEN4_SHARE_ACCESS_BOTH, 0, &p),
			 NFS4_OK);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &p.fh);
	o = &nfs4_cl_add(&cp, OP_OPEN)->u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_READ;
	o->owner.owner = ot_str(&cp, "x", 1);
	o->openhow.opentype = OPEN4_NOCREATE;
	o->claim.claim = CLAIM_NULL;
	o->claim.u.file = ot_str(&cp, "y", 1);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NOTDIR);
	nfs4_cl_compound_free(&cp);
	/* bad names */
	assert_int_equal(ot_open_simple(cl, "", true, OPEN4_SHARE_ACCESS_BOTH, 0, &r),
			 NFS4ERR_INVAL);
	assert_int_equal(ot_open_simple(cl, "..", true, OPEN4_SHARE_ACCESS_BOTH, 0, &r),
			 NFS4ERR_BADNAME);
	assert_int_equal(ot_close(cl, &p.fh, &p.sid, NULL), NFS4_OK);
	ot_fh_free(&p.fh);
	nfs4_cl_close(cl, true);
}

/* DELEGRETURN of sid on fh; the status. */
static nfsstat4 delegreturn(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	nfs4_cl_add(&cp, OP_DELEGRETURN)->u.opdelegreturn.deleg_stateid = *sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* OPEN of fh for reading with a delegation claim (deleg_sid for the _CUR_
 * claims); the status. */
static nfsstat4 open_deleg_claim(struct nfs4_cl *cl, const nfs_fh4 *fh, open_claim_type4 claim,
				 const stateid4 *deleg_sid)
{
	struct nfs4_cl_compound cp;
	OPEN4args *o;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	o = &nfs4_cl_add(&cp, OP_OPEN)->u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_READ;
	o->owner.owner = ot_str(&cp, "d", 1);
	o->openhow.opentype = OPEN4_NOCREATE;
	o->claim.claim = claim;
	if (deleg_sid)
		o->claim.u.oc_delegate_stateid = *deleg_sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_no_delegations(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "delegs");
	struct ot_open_res r;
	struct nfs4_cl_compound cp;
	stateid4 anon;

	(void)st;
	memset(&anon, 0, sizeof(anon));
	assert_int_equal(ot_open_simple(cl, "deleg", true, OPEN4_SHARE_ACCESS_BOTH, 0, &r),
			 NFS4_OK);
	/* DELEGRETURN of an open stateid, of a special one */
	assert_int_equal(delegreturn(cl, &r.fh, &r.sid), NFS4ERR_BAD_STATEID);
	assert_int_equal(delegreturn(cl, &r.fh, &anon), NFS4ERR_BAD_STATEID);
	/* DELEGPURGE: CLAIM_DELEGATE_PREV is not supported */
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_DELEGPURGE)->u.opdelegpurge.clientid = cl->clientid;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NOTSUPP);
	nfs4_cl_compound_free(&cp);
	/* delegation claims */
	assert_int_equal(open_deleg_claim(cl, &r.fh, CLAIM_DELEG_CUR_FH, &r.sid),
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(open_deleg_claim(cl, &r.fh, CLAIM_DELEG_PREV_FH, NULL), NFS4ERR_NOTSUPP);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_reclaims_outside_grace(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "nograce");
	struct ot_open_res r, rr;
	struct ot_open_args oa = { .access = OPEN4_SHARE_ACCESS_READ, .createmode = OT_NOCREATE,
				   .claim = CLAIM_PREVIOUS };
	struct nfs4_cl_compound cp;
	LOCK4args *a;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "nograce", true, OPEN4_SHARE_ACCESS_BOTH, 0, &r),
			 NFS4_OK);
	oa.fh_in = &r.fh;
	assert_int_equal(ot_open(cl, NULL, &oa, &rr), NFS4ERR_NO_GRACE);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	a = &nfs4_cl_add(&cp, OP_LOCK)->u.oplock;
	a->locktype = READ_LT;
	a->reclaim = true;
	a->length = 1;
	a->locker.new_lock_owner = true;
	a->locker.u.open_owner.open_stateid = r.sid;
	a->locker.u.open_owner.lock_owner.owner = ot_str(&cp, "l", 1);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_NO_GRACE);
	nfs4_cl_compound_free(&cp);
	/* nothing was made: CLOSE is not held up by locks */
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_exclusive4(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "excl40");
	struct ot_open_args oa = { .createmode = EXCLUSIVE4, .verf = "v40-one" };
	struct ot_open_res r1, r2;

	(void)st;
	assert_int_equal(ot_open(cl, "excl40", &oa, &r1), NFS4_OK);
	assert_int_equal(ot_open(cl, "excl40", &oa, &r2), NFS4_OK);
	assert_memory_equal(r1.fh.val, r2.fh.val, r1.fh.len);
	assert_int_equal(ot_close(cl, &r2.fh, &r2.sid, NULL), NFS4_OK);
	ot_fh_free(&r1.fh);
	ot_fh_free(&r2.fh);
	memcpy(oa.verf, "v40-two", 8);
	assert_int_equal(ot_open(cl, "excl40", &oa, &r1), NFS4ERR_EXIST);
	nfs4_cl_close(cl, true);
}

static void test_read_only_export(void **st)
{
	struct proto_server ro;
	struct proto_server_opts opts = { 0 };
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char dir[PATH_MAX], file[PATH_MAX + 16], conf[2 * PATH_MAX];
	struct nfs4_cl *cl;
	struct ot_open_res r;
	stateid4 anon;
	FILE *f;

	(void)st;
	memset(&anon, 0, sizeof(anon));
	snprintf(dir, sizeof(dir), "%s/open-ro-export-%d", tmp ? tmp : "/tmp", (int)getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/ro-file", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("read only", f);
	fclose(f);
	snprintf(conf, sizeof(conf),
		 "EXPORT {\n  Export_Id = 1;\n  Path = \"%s\";\n  Pseudo = /;\n"
		 "  Access_Type = RO;\n  Squash = none;\n}\n", dir);
	opts.exports_conf = conf;
	assert_int_equal(proto_server_start(&ro, "open-ro", &opts), 0);
	cl = ot_client(&ro, "ro-client");
	assert_int_equal(ot_open_simple(cl, "ro-file", false, OPEN4_SHARE_ACCESS_WRITE, 0, &r),
			 NFS4ERR_ROFS);
	assert_int_equal(ot_open_simple(cl, "new-file", true, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4ERR_ROFS);
	assert_int_equal(ot_open_simple(cl, "ro-file", false, OPEN4_SHARE_ACCESS_READ, 0, &r),
			 NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &anon, 0, "x", 1, FILE_SYNC4, NULL), NFS4ERR_ROFS);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, "x", 1, FILE_SYNC4, NULL), NFS4ERR_ROFS);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop(&ro), 0);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_non_regular_files),
		cmocka_unit_test(test_no_delegations),
		cmocka_unit_test(test_reclaims_outside_grace),
		cmocka_unit_test(test_exclusive4),
		cmocka_unit_test(test_read_only_export),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
