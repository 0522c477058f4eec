/*
 * tests/proto/test_xattr.c: extended attributes (RFC 8276: GETXATTR,
 * SETXATTR, LISTXATTRS, REMOVEXATTR, ACCESS4_XA*, xattr_support) of a real
 * daxnfsd over real sockets, on the test export's filesystem and, where a
 * FAT image can be made and mounted (mkfs.vfat, the vfat module), on one
 * without them (a host without vfat skips that case; vm.pmem runs this test
 * in its guest, which has vfat):
 *  - set with CREATE / REPLACE / EITHER, get, list with cookies and
 *    maxcount, remove; the attributes are the file's "user." ones on the
 *    server (set there, seen by the client and the other way round);
 *  - the errors: EXIST, NOXATTR, XATTR2BIG past 64 KiB, NAMETOOLONG,
 *    INVAL for an empty name, TOOSMALL, BAD_COOKIE, a non-owner's SETXATTR
 *    on a file it may not write (ACCESS);
 *  - another client's read delegation is recalled before a change (DELAY
 *    until DELEGRETURN);
 *  - NOTSUPP and xattr_support false where the filesystem keeps none.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

static struct proto_server srv;

static int group_setup(void **state)
{
	struct proto_server_opts o = { .nfsv4_conf = "Recall_Timeout = 4;" };

	(void)state;
	cur = &srv;
	return proto_server_start(&srv, "xattr", &o) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static struct nfs4_cl *client42(const char *owner)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, cur->host, cur->port), 0);
	cl->minorversion = 2;
	nfs4_cl_set_owner(cl, owner, (uint64_t)proto_now_ms());
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	return cl;
}

static xattrkey4 key(const char *k)
{
	xattrkey4 x = { (uint32_t)strlen(k), (uint8_t *)k };

	return x;
}

static nfsstat4 setx(struct nfs4_cl *cl, const nfs_fh4 *fh, setxattr_option4 how, const char *k,
		     const void *v, uint32_t vlen, change_info4 *ci)
{
	struct nfs4_cl_compound cp;
	SETXATTR4args *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	a = &nfs4_cl_add(&cp, OP_SETXATTR)->u.opsetxattr;
	a->sxa_option = how;
	a->sxa_key = key(k);
	a->sxa_value.len = vlen;
	a->sxa_value.val = (void *)v;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_SETXATTR);
	if (st == NFS4_OK && r && ci)
		*ci = r->u.opsetxattr.u.sxr_info;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* GETXATTR into buf (NUL-ended); *len the value's length. */
static nfsstat4 getx(struct nfs4_cl *cl, const nfs_fh4 *fh, const char *k, char *buf, size_t cap,
		     uint32_t *len)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add(&cp, OP_GETXATTR)->u.opgetxattr.gxa_name = key(k);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_GETXATTR);
	if (st == NFS4_OK && r) {
		*len = r->u.opgetxattr.u.gxr_value.len;
		assert_true(*len < cap);
		memcpy(buf, r->u.opgetxattr.u.gxr_value.val, *len);
		buf[*len] = '\0';
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 removex(struct nfs4_cl *cl, const nfs_fh4 *fh, const char *k)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add(&cp, OP_REMOVEXATTR)->u.opremovexattr.rxa_name = key(k);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* LISTXATTRS: the names, comma-joined into out, and the cookie and eof. */
static nfsstat4 listx(struct nfs4_cl *cl, const nfs_fh4 *fh, uint64_t cookie, uint32_t maxcount,
		      char *out, size_t cap, uint64_t *next, bool *eof)
{
	struct nfs4_cl_compound cp;
	LISTXATTRS4args *a;
	nfs_resop4 *r;
	nfsstat4 st;

	out[0] = '\0';
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	a = &nfs4_cl_add(&cp, OP_LISTXATTRS)->u.oplistxattrs;
	a->lxa_cookie = cookie;
	a->lxa_maxcount = maxcount;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_LISTXATTRS);
	if (st == NFS4_OK && r) {
		const LISTXATTRS4resok *ok = &r->u.oplistxattrs.u.lxr_value;

		for (uint32_t i = 0; i < ok->lxr_names.len; i++) {
			size_t n = strlen(out);

			snprintf(out + n, cap - n, "%s%.*s", n ? "," : "",
				 (int)ok->lxr_names.val[i].len, ok->lxr_names.val[i].val);
		}
		*next = ok->lxr_cookie;
		*eof = ok->lxr_eof;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

/* GETATTR xattr_support (and ACCESS with the xattr bits) of fh. */
static bool xattr_support(struct nfs4_cl *cl, const nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	uint32_t want[3] = { 0, 0, 1u << (FATTR4_XATTR_SUPPORT - 64) };
	nfs_argop4 *g;
	nfs_resop4 *r;
	bool v;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	g = nfs4_cl_add(&cp, OP_GETATTR);
	g->u.opgetattr.attr_request.len = 3;
	g->u.opgetattr.attr_request.val = want;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_GETATTR);
	assert_int_equal(r->u.opgetattr.u.resok4.obj_attributes.attr_vals.len, 4);
	v = r->u.opgetattr.u.resok4.obj_attributes.attr_vals.val[3] != 0;
	nfs4_cl_compound_free(&cp);
	return v;
}

static uint32_t access_of(struct nfs4_cl *cl, const nfs_fh4 *fh, uint32_t want)
{
	struct nfs4_cl_compound cp;
	uint32_t got;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add(&cp, OP_ACCESS)->u.opaccess.access = want;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	got = nfs4_cl_res(&cp, OP_ACCESS)->u.opaccess.u.resok4.access;
	nfs4_cl_compound_free(&cp);
	return got;
}

static void test_xattr_set_get_list_remove(void **state)
{
	const uint32_t xa = ACCESS4_XAREAD | ACCESS4_XAWRITE | ACCESS4_XALIST;
	struct nfs4_cl *cl = client42("xa-1");
	struct opened f;
	change_info4 ci;
	char buf[256], path[PATH_MAX + 8], names[256], big_name[300];
	static char big[65537], got[4096];
	uint64_t next = 0;
	uint32_t len = 0;
	bool eof = false;
	ssize_t n;

	(void)state;
	open_name(cl, "f1", true, OPEN4_SHARE_ACCESS_BOTH, &f);
	assert_int_equal(f.status, NFS4_OK);
	snprintf(path, sizeof(path), "%s/f1", cur->export_dir);
	assert_true(xattr_support(cl, &f.fh));
	assert_int_equal(access_of(cl, &f.fh, xa | ACCESS4_READ), xa | ACCESS4_READ);

	/* CREATE, then REPLACE / CREATE rules */
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_CREATE, "k1", "v1", 2, &ci), NFS4_OK);
	assert_true(ci.after != ci.before);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_CREATE, "k1", "x", 1, NULL), NFS4ERR_EXIST);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_REPLACE, "k2", "x", 1, NULL), NFS4ERR_NOXATTR);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "k2", "", 0, NULL), NFS4_OK);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_REPLACE, "k2", "two", 3, NULL), NFS4_OK);
	assert_int_equal(getx(cl, &f.fh, "k1", buf, sizeof(buf), &len), NFS4_OK);
	assert_int_equal(len, 2);
	assert_string_equal(buf, "v1");
	assert_int_equal(getx(cl, &f.fh, "nope", buf, sizeof(buf), &len), NFS4ERR_NOXATTR);
	/* They are the file's "user." attributes on the server, and back. */
	n = getxattr(path, "user.k2", buf, sizeof(buf));
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(setxattr(path, "user.srv", "from the server", 15, 0), 0);
	assert_int_equal(getx(cl, &f.fh, "srv", buf, sizeof(buf), &len), NFS4_OK);
	assert_string_equal(buf, "from the server");

	/* LISTXATTRS: all, then one at a time by cookie (one name of 2 bytes
	 * takes cookie 8 + count 4 + eof 4 + 4 + 4 = 24), too small, past the end */
	assert_int_equal(listx(cl, &f.fh, 0, 4096, names, sizeof(names), &next, &eof), NFS4_OK);
	assert_true(eof);
	assert_int_equal(next, 3);
	assert_non_null(strstr(names, "k1"));
	assert_non_null(strstr(names, "k2"));
	assert_non_null(strstr(names, "srv"));
	assert_null(strstr(names, "user."));
	next = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(listx(cl, &f.fh, next, 24, names, sizeof(names), &next, &eof),
				 NFS4_OK);
		assert_int_equal(next, (uint64_t)i + 1);
		assert_null(strchr(names, ','));   /* one name each time */
		assert_int_equal(eof, i == 2);
	}
	assert_int_equal(listx(cl, &f.fh, 0, 16, names, sizeof(names), &next, &eof),
			 NFS4ERR_TOOSMALL);
	assert_int_equal(listx(cl, &f.fh, 4, 4096, names, sizeof(names), &next, &eof),
			 NFS4ERR_BAD_COOKIE);

	/* Sizes and names. */
	memset(big, 'b', sizeof(big));
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "big", big, sizeof(big), NULL),
			 NFS4ERR_XATTR2BIG);
	/* (what fits below 64 KiB is the filesystem's say: ext4 keeps a block) */
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "big", big, 2000, NULL), NFS4_OK);
	assert_int_equal(getx(cl, &f.fh, "big", (char *)got, sizeof(got), &len), NFS4_OK);
	assert_int_equal(len, 2000);
	assert_int_equal(removex(cl, &f.fh, "big"), NFS4_OK);
	memset(big_name, 'n', 251);
	big_name[251] = '\0';
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, big_name, "x", 1, NULL),
			 NFS4ERR_NAMETOOLONG);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "", "x", 1, NULL), NFS4ERR_INVAL);

	/* REMOVEXATTR */
	assert_int_equal(removex(cl, &f.fh, "k1"), NFS4_OK);
	assert_int_equal(getx(cl, &f.fh, "k1", buf, sizeof(buf), &len), NFS4ERR_NOXATTR);
	assert_int_equal(removex(cl, &f.fh, "k1"), NFS4ERR_NOXATTR);
	assert_int_equal(getxattr(path, "user.k1", buf, sizeof(buf)), -1);

	/* A non-owner may not set them on a file it cannot write. */
	assert_int_equal(chmod(path, 0644), 0);
	cl->cred.uid = 1000;
	cl->cred.gid = 1000;
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "k3", "x", 1, NULL), NFS4ERR_ACCESS);
	assert_int_equal(getx(cl, &f.fh, "k2", buf, sizeof(buf), &len), NFS4_OK);
	assert_int_equal(access_of(cl, &f.fh, xa), ACCESS4_XAREAD | ACCESS4_XALIST);
	cl->cred.uid = 0;
	cl->cred.gid = 0;
	close_opened(cl, &f);
	nfs4_cl_close(cl, true);
}

/* A change recalls another client's delegation first. */
static void test_xattr_change_recalls_delegation(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("xa-a2", &la), *b = client42("xa-b2");
	struct opened oa, ob;
	int64_t end;
	stateid4 ds;
	nfsstat4 st;

	(void)state;
	open_name(b, "f2", true, OPEN4_SHARE_ACCESS_BOTH, &ob);
	close_opened(b, &ob);
	open_name(a, "f2", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	assert_int_equal(setx(b, &oa.fh, SETXATTR4_EITHER, "k", "v", 1, NULL), NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.n, 1);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	for (end = proto_now_ms() + 3000;
	     (st = setx(b, &oa.fh, SETXATTR4_EITHER, "k", "v", 1, NULL)) == NFS4ERR_DELAY &&
	     proto_now_ms() < end;)
		usleep(20000);
	assert_int_equal(st, NFS4_OK);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* A filesystem without user attributes: NOTSUPP, xattr_support false. */
static void test_xattr_unsupported_filesystem(void **state)
{
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	struct proto_server_opts o = { 0 };
	struct proto_server esrv;
	char img[1024], mnt[1024], cmd[8192], exports[1200];
	struct nfs4_cl *cl;
	struct opened f;
	char buf[16];
	uint32_t len;

	(void)state;
	snprintf(img, sizeof(img), "%.900s/xattr-vfat-%d.img", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(mnt, sizeof(mnt), "%.900s/xattr-vfat-%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	/* FAT keeps no extended attributes (and ext2/ext4 no longer take
	 * nouser_xattr). */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && truncate -s 16M '%s' && mkfs.vfat '%s' "
		 ">/dev/null 2>&1 && mount -t vfat -o loop '%s' '%s' 2>/dev/null",
		 mnt, img, img, img, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		print_message("SKIPPED: no FAT filesystem here (root, mkfs.vfat, the vfat module, "
			      "a loop device)\n");
		unlink(img);
		rmdir(mnt);
		skip();
	}
	snprintf(exports, sizeof(exports), "EXPORT { Export_Id = 1; Path = \"%s\"; Pseudo = /; "
		 "Access_Type = RW; Squash = none; }\n", mnt);
	o.exports_conf = exports;
	memset(&esrv, 0, sizeof(esrv));
	assert_int_equal(proto_server_start(&esrv, "xattr-vfat", &o), 0);
	cur = &esrv;
	cl = client42("xa-3");
	open_name(cl, "f3", true, OPEN4_SHARE_ACCESS_BOTH, &f);
	assert_int_equal(f.status, NFS4_OK);
	assert_false(xattr_support(cl, &f.fh));
	assert_int_equal(access_of(cl, &f.fh, ACCESS4_READ | ACCESS4_XAREAD), ACCESS4_READ);
	assert_int_equal(setx(cl, &f.fh, SETXATTR4_EITHER, "k", "v", 1, NULL), NFS4ERR_NOTSUPP);
	assert_int_equal(getx(cl, &f.fh, "k", buf, sizeof(buf), &len), NFS4ERR_NOTSUPP);
	close_opened(cl, &f);
	nfs4_cl_close(cl, true);
	cur = &srv;
	assert_int_equal(proto_server_stop_checked(&esrv), 0);
	proto_server_cleanup(&esrv);
	snprintf(cmd, sizeof(cmd), "umount '%s' && rmdir '%s'", mnt, mnt);
	assert_int_equal(system(cmd), 0);
	unlink(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xattr_set_get_list_remove),
		cmocka_unit_test(test_xattr_change_recalls_delegation),
		cmocka_unit_test(test_xattr_unsupported_filesystem),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
