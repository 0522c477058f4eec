/*
 * tests/unit/test_server_attr.c: unit tests of the namespace modules of
 * server/: the errno table, UTF-8 and component-name checks, owner strings,
 * fattr4 encode/decode, file handles and the pseudo fs, over real exports
 * (the POSIX backend on directories under $DAXNFS_TEST_TMP or /tmp).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_fh_mac.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_server.h"

static char g_base[512];

static void mkdir_p(const char *p)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "mkdir -p '%s'", p);
	assert_int_equal(system(buf), 0);
}

/* The server the compounds run on: what the attribute code reads of it is
 * the lease time and the delegation options. */
static struct nfs4_server test_srv = { .lease_seconds = 90 };

static void setup_compound(struct nfs4_compound *c, struct arena *a)
{
	memset(c, 0, sizeof(*c));
	c->srv = &test_srv;
	arena_init(a, 0);
	c->arena = a;
	c->minorversion = 1;
}

static void end_compound(struct nfs4_compound *c)
{
	nfs4_fh_clear(&c->cur);
	nfs4_fh_clear(&c->saved);
	arena_release(c->arena);
}

/* Exports: id 1 at /a, id 2 at /b/c (read-only). */
static int setup_exports(void **state)
{
	static struct daxnfs_config cfg;
	const char *tmp = getenv("DAXNFS_TEST_TMP");

	(void)state;
	snprintf(g_base, sizeof(g_base), "%s/unit-attr-%d", tmp ? tmp : "/tmp", (int)getpid());
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.source, sizeof(cfg.source), "unit");
	cfg.max_record_size = 1 << 20;
	snprintf(cfg.domain, sizeof(cfg.domain), "example.org");
	cfg.n_exports = 2;
	cfg.exports[0].export_id = 1;
	snprintf(cfg.exports[0].path, sizeof(cfg.exports[0].path), "%s/ea", g_base);
	snprintf(cfg.exports[0].pseudo, sizeof(cfg.exports[0].pseudo), "/a");
	cfg.exports[1].export_id = 2;
	snprintf(cfg.exports[1].path, sizeof(cfg.exports[1].path), "%s/ebc", g_base);
	snprintf(cfg.exports[1].pseudo, sizeof(cfg.exports[1].pseudo), "/b/c");
	cfg.exports[1].access = CONF_ACCESS_RO;
	mkdir_p(cfg.exports[0].path);
	mkdir_p(cfg.exports[1].path);
	return nfs4_exports_init(&cfg);
}

static int teardown_exports(void **state)
{
	char buf[1024];

	(void)state;
	nfs4_exports_shutdown();
	snprintf(buf, sizeof(buf), "rm -rf '%s'", g_base);
	return system(buf);
}

static void test_errno_table(void **state)
{
	(void)state;
	assert_int_equal(nfs4_errno_to_status(0), NFS4_OK);
	assert_int_equal(nfs4_errno_to_status(-ENOENT), NFS4ERR_NOENT);
	assert_int_equal(nfs4_errno_to_status(ENOENT), NFS4ERR_NOENT);
	assert_int_equal(nfs4_errno_to_status(-EEXIST), NFS4ERR_EXIST);
	assert_int_equal(nfs4_errno_to_status(-ENOTDIR), NFS4ERR_NOTDIR);
	assert_int_equal(nfs4_errno_to_status(-EISDIR), NFS4ERR_ISDIR);
	assert_int_equal(nfs4_errno_to_status(-EACCES), NFS4ERR_ACCESS);
	assert_int_equal(nfs4_errno_to_status(-EPERM), NFS4ERR_PERM);
	assert_int_equal(nfs4_errno_to_status(-ENOSPC), NFS4ERR_NOSPC);
	assert_int_equal(nfs4_errno_to_status(-EROFS), NFS4ERR_ROFS);
	assert_int_equal(nfs4_errno_to_status(-ENAMETOOLONG), NFS4ERR_NAMETOOLONG);
	assert_int_equal(nfs4_errno_to_status(-ENOTEMPTY), NFS4ERR_NOTEMPTY);
	assert_int_equal(nfs4_errno_to_status(-ESTALE), NFS4ERR_STALE);
	assert_int_equal(nfs4_errno_to_status(-EXDEV), NFS4ERR_XDEV);
	assert_int_equal(nfs4_errno_to_status(-EMLINK), NFS4ERR_MLINK);
	assert_int_equal(nfs4_errno_to_status(-EFBIG), NFS4ERR_FBIG);
	assert_int_equal(nfs4_errno_to_status(-EDQUOT), NFS4ERR_DQUOT);
	assert_int_equal(nfs4_errno_to_status(-EINVAL), NFS4ERR_INVAL);
	assert_int_equal(nfs4_errno_to_status(-EOPNOTSUPP), NFS4ERR_NOTSUPP);
	assert_int_equal(nfs4_errno_to_status(-EBADF), NFS4ERR_BADHANDLE);
	assert_int_equal(nfs4_errno_to_status(-ELOOP), NFS4ERR_SYMLINK);
	assert_int_equal(nfs4_errno_to_status(-EAGAIN), NFS4ERR_DELAY);
	assert_int_equal(nfs4_errno_to_status(-EIO), NFS4ERR_IO);
	assert_int_equal(nfs4_errno_to_status(-ENXIO), NFS4ERR_NXIO);
	assert_int_equal(nfs4_errno_to_status(-ENOMEM), NFS4ERR_SERVERFAULT);
	assert_int_equal(nfs4_errno_to_status(-12345), NFS4ERR_SERVERFAULT);
}

static nfsstat4 name_status(struct nfs4_compound *c, const char *s, size_t len)
{
	struct xdr_opaque o = { (uint32_t)len, (uint8_t *)s };
	char *out;

	return nfs4_name_check(c, &o, &out);
}

static void test_names(void **state)
{
	struct nfs4_compound c;
	struct arena a;
	char longname[300];
	struct xdr_opaque o = { 3, (uint8_t *)"abc" };
	char *out = NULL;

	(void)state;
	setup_compound(&c, &a);
	assert_int_equal(nfs4_name_check(&c, &o, &out), NFS4_OK);
	assert_string_equal(out, "abc");
	assert_int_equal(name_status(&c, "", 0), NFS4ERR_INVAL);
	assert_int_equal(name_status(&c, ".", 1), NFS4ERR_BADNAME);
	assert_int_equal(name_status(&c, "..", 2), NFS4ERR_BADNAME);
	assert_int_equal(name_status(&c, "...", 3), NFS4_OK);
	assert_int_equal(name_status(&c, "a/b", 3), NFS4ERR_BADCHAR);
	assert_int_equal(name_status(&c, "a\0b", 3), NFS4ERR_BADCHAR);
	assert_int_equal(name_status(&c, "\xc3\xa9t\xc3\xa9", 5), NFS4_OK);   /* été */
	assert_int_equal(name_status(&c, "\xff", 1), NFS4ERR_INVAL);
	assert_int_equal(name_status(&c, "\xc0\xaf", 2), NFS4ERR_INVAL);      /* overlong '/' */
	assert_int_equal(name_status(&c, "\xed\xa0\x80", 3), NFS4ERR_INVAL);  /* surrogate */
	assert_int_equal(name_status(&c, "\xe2\x82", 2), NFS4ERR_INVAL);      /* truncated */
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(name_status(&c, longname, 255), NFS4_OK);
	assert_int_equal(name_status(&c, longname, 256), NFS4ERR_NAMETOOLONG);
	end_compound(&c);
}

static nfsstat4 owner_decode(const char *s, bool group, uint32_t *id)
{
	struct xdr_opaque o = { (uint32_t)strlen(s), (uint8_t *)s };

	return nfs4_owner_decode(&o, group, id);
}

static void test_owners(void **state)
{
	struct arena a;
	struct xdr_opaque o;
	uint32_t id = 77;

	(void)state;
	assert_int_equal(owner_decode("1000", false, &id), NFS4_OK);
	assert_int_equal(id, 1000);
	assert_int_equal(owner_decode("0", true, &id), NFS4_OK);
	assert_int_equal(id, 0);
	assert_int_equal(owner_decode("4294967295", false, &id), NFS4_OK);
	assert_int_equal(id, 4294967295u);
	assert_int_equal(owner_decode("4294967296", false, &id), NFS4ERR_BADOWNER);
	id = 77;
	assert_int_equal(owner_decode("root@example.org", false, &id), NFS4_OK);
	assert_int_equal(id, 0);
	id = 77;
	assert_int_equal(owner_decode("root@EXAMPLE.org", true, &id), NFS4_OK);
	assert_int_equal(id, 0);
	assert_int_equal(owner_decode("root@other.org", false, &id), NFS4ERR_BADOWNER);
	assert_int_equal(owner_decode("no_such_user_xyz@example.org", false, &id), NFS4ERR_BADOWNER);
	assert_int_equal(owner_decode("", false, &id), NFS4ERR_BADOWNER);
	assert_int_equal(owner_decode("@example.org", false, &id), NFS4ERR_BADOWNER);

	arena_init(&a, 0);
	assert_true(nfs4_owner_encode(&a, 1000, false, false, &o));
	assert_int_equal(o.len, 4);
	assert_memory_equal(o.val, "1000", 4);
	assert_true(nfs4_owner_encode(&a, 0, false, true, &o));
	assert_int_equal(o.len, strlen("root@example.org"));
	assert_memory_equal(o.val, "root@example.org", o.len);
	arena_release(&a);
}

static void test_pseudo_tree(void **state)
{
	struct nfs4_pseudo_node *root = nfs4_pseudo_root(), *b, *bc, *a;

	(void)state;
	assert_non_null(root);
	assert_null(root->exp);
	assert_int_equal(root->nchildren, 2);
	a = nfs4_pseudo_child(root, "a", 1);
	b = nfs4_pseudo_child(root, "b", 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(nfs4_pseudo_child_at(root, 0), a);   /* sorted */
	assert_ptr_equal(a->exp, nfs4_export_by_id(1));
	assert_null(b->exp);
	bc = nfs4_pseudo_child(b, "c", 1);
	assert_non_null(bc);
	assert_ptr_equal(bc->exp, nfs4_export_by_id(2));
	assert_string_equal(bc->path, "/b/c");
	assert_ptr_equal(nfs4_pseudo_by_id(b->id), b);
	assert_null(nfs4_pseudo_child(root, "c", 1));
}

static void test_fh_wire(void **state)
{
	struct nfs4_fh fh = { 0 }, fh2 = { 0 };
	struct nfs4_pseudo_node *root = nfs4_pseudo_root();
	uint8_t bad[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };

	(void)state;
	assert_int_equal(nfs4_fh_from_node(root, &fh), NFS4_OK);
	assert_non_null(fh.pseudo);
	assert_int_equal(nfs4_fh_from_wire(fh.data, fh.len, &fh2), NFS4_OK);
	assert_ptr_equal(fh2.pseudo, root);
	nfs4_fh_clear(&fh2);

	/* export 1's root through its node */
	assert_int_equal(nfs4_fh_from_node(nfs4_pseudo_child(root, "a", 1), &fh), NFS4_OK);
	assert_null(fh.pseudo);
	assert_ptr_equal(fh.exp, nfs4_export_by_id(1));
	assert_int_equal(nfs4_fh_from_wire(fh.data, fh.len, &fh2), NFS4_OK);
	assert_ptr_equal(fh2.obj, fh.obj);                 /* objects are unique per inode */
	assert_int_equal(nfs4_fh_check_writable(NULL, &fh2), NFS4_OK);
	nfs4_fh_clear(&fh2);

	/* garbage, truncation, unknown export */
	assert_int_equal(nfs4_fh_from_wire(bad, sizeof(bad), &fh2), NFS4ERR_BADHANDLE);
	assert_int_equal(nfs4_fh_from_wire(fh.data, 3, &fh2), NFS4ERR_BADHANDLE);
	assert_int_equal(nfs4_fh_from_wire(fh.data, NFS4_FH_HDR, &fh2), NFS4ERR_BADHANDLE);
	/* relabelled to another export: the MAC no longer verifies */
	fh.data[3] = 99;
	assert_int_equal(nfs4_fh_from_wire(fh.data, fh.len, &fh2), NFS4ERR_BADHANDLE);
	/* sealed by the server for an export that is gone: stale */
	nfs4_fh_mac_compute(fh.data, fh.len - NFS4_FH_MAC_LEN, fh.data + fh.len - NFS4_FH_MAC_LEN);
	assert_int_equal(nfs4_fh_from_wire(fh.data, fh.len, &fh2), NFS4ERR_STALE);
	/* one bit anywhere in the handle */
	fh.data[fh.len / 2] ^= 0x10;
	assert_int_equal(nfs4_fh_from_wire(fh.data, fh.len, &fh2), NFS4ERR_BADHANDLE);
	nfs4_fh_clear(&fh);

	/* pseudo and read-only exports are not writable */
	assert_int_equal(nfs4_fh_from_node(root, &fh), NFS4_OK);
	assert_int_equal(nfs4_fh_check_writable(NULL, &fh), NFS4ERR_ROFS);
	assert_int_equal(nfs4_fh_from_node(nfs4_export_by_id(2)->node, &fh), NFS4_OK);
	assert_int_equal(nfs4_fh_check_writable(NULL, &fh), NFS4ERR_ROFS);
	nfs4_fh_clear(&fh);
}

/* Decodes the values of type, fsid, mode from attr_vals encoded for mask
 * {TYPE, FSID} / {MODE}. */
static void test_encode_root(void **state)
{
	struct nfs4_compound c;
	struct arena a;
	uint32_t want_w[2] = { (1u << FATTR4_SUPPORTED_ATTRS) | (1u << FATTR4_TYPE) |
			       (1u << FATTR4_FSID) | (1u << FATTR4_ACL),
			       1u << (FATTR4_MODE - 32) };
	bitmap4 want = { 2, want_w };
	fattr4 f;
	struct xdr_stream x;
	uint32_t n, w0, w1, type, mode;
	uint64_t maj, min;

	(void)state;
	setup_compound(&c, &a);
	assert_int_equal(nfs4_op_putrootfh(&c, NULL, NULL), NFS4_OK);
	assert_non_null(c.cur.pseudo);
	assert_int_equal(nfs4_fattr_encode(&c, &c.cur, &want, &f), NFS4_OK);
	/* acl is not supported: left out of the result mask */
	assert_int_equal(f.attrmask.len, 2);
	assert_int_equal(f.attrmask.val[0], want_w[0] & ~(1u << FATTR4_ACL));
	assert_int_equal(f.attrmask.val[1], want_w[1]);
	xdr_init_decode(&x, f.attr_vals.val, f.attr_vals.len, c.arena);
	assert_true(xdr_get_u32(&x, &n));
	assert_true(n >= 2);
	assert_true(xdr_get_u32(&x, &w0));
	assert_true(xdr_get_u32(&x, &w1));
	assert_true(w0 & (1u << FATTR4_RDATTR_ERROR));
	assert_false(w0 & (1u << FATTR4_ACL));
	assert_true(w1 & (1u << (FATTR4_MOUNTED_ON_FILEID - 32)));
	for (uint32_t i = 2; i < n; i++)
		assert_true(xdr_get_u32(&x, &w1));
	assert_true(xdr_get_u32(&x, &type));
	assert_int_equal(type, NF4DIR);
	assert_true(xdr_get_u64(&x, &maj));
	assert_true(xdr_get_u64(&x, &min));
	assert_int_equal(maj, 0);
	assert_int_equal(min, 0);
	assert_true(xdr_get_u32(&x, &mode));
	assert_int_equal(mode, 0555);
	assert_int_equal(xdr_remaining(&x), 0);

	/* into export 1: its own fsid */
	{
		nfs_argop4 la = { .argop = OP_LOOKUP, .u.oplookup.objname = { 1, (uint8_t *)"a" } };
		uint32_t w[1] = { 1u << FATTR4_FSID };
		bitmap4 m = { 1, w };

		assert_int_equal(nfs4_op_lookup(&c, &la, NULL), NFS4_OK);
		assert_non_null(c.cur.obj);
		assert_int_equal(nfs4_fattr_encode(&c, &c.cur, &m, &f), NFS4_OK);
		xdr_init_decode(&x, f.attr_vals.val, f.attr_vals.len, c.arena);
		assert_true(xdr_get_u64(&x, &maj));
		assert_true(xdr_get_u64(&x, &min));
		assert_int_equal(maj, 1);
		assert_int_equal(min, 1);
		/* and back up */
		assert_int_equal(nfs4_op_lookupp(&c, NULL, NULL), NFS4_OK);
		assert_ptr_equal(c.cur.pseudo, nfs4_pseudo_root());
		assert_int_equal(nfs4_op_lookupp(&c, NULL, NULL), NFS4ERR_NOENT);
	}
	end_compound(&c);
}

/* Builds a fattr4 from words and raw XDR bytes. */
static void make_fattr(fattr4 *f, uint32_t *words, uint32_t nwords, uint8_t *buf, size_t len)
{
	f->attrmask.len = nwords;
	f->attrmask.val = words;
	f->attr_vals.len = (uint32_t)len;
	f->attr_vals.val = buf;
}

static void test_decode_setattr(void **state)
{
	struct nfs4_compound c;
	struct arena a;
	struct pmem_setattr sa;
	bitmap4 set;
	fattr4 f;
	uint8_t buf[256];
	struct xdr_stream x;
	uint32_t w[2];

	(void)state;
	setup_compound(&c, &a);

	/* size, mode, owner "1000", time_modify_set = client time */
	w[0] = 1u << FATTR4_SIZE;
	w[1] = (1u << (FATTR4_MODE - 32)) | (1u << (FATTR4_OWNER - 32)) |
	       (1u << (FATTR4_TIME_MODIFY_SET - 32)) | (1u << (FATTR4_TIME_ACCESS_SET - 32));
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u64(&x, 4096);
	xdr_put_u32(&x, 0640);
	xdr_put_opaque(&x, "1000", 4);
	xdr_put_u32(&x, SET_TO_SERVER_TIME4);       /* atime: server */
	xdr_put_u32(&x, SET_TO_CLIENT_TIME4);       /* mtime: client */
	xdr_put_i64(&x, 1234567890);
	xdr_put_u32(&x, 42);
	assert_true(xdr_ok(&x));
	make_fattr(&f, w, 2, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4_OK);
	assert_int_equal(sa.valid, PMEM_SET_SIZE | PMEM_SET_MODE | PMEM_SET_UID |
				   PMEM_SET_ATIME_NOW | PMEM_SET_MTIME);
	assert_int_equal(sa.size, 4096);
	assert_int_equal(sa.mode, 0640);
	assert_int_equal(sa.uid, 1000);
	assert_int_equal(sa.mtime.sec, 1234567890);
	assert_int_equal(sa.mtime.nsec, 42);
	assert_int_equal(set.len, 2);
	assert_int_equal(set.val[0], w[0]);
	assert_int_equal(set.val[1], w[1]);

	/* truncated values */
	make_fattr(&f, w, 2, buf, 10);
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_BADXDR);
	/* trailing garbage */
	w[0] = 0;
	w[1] = 1u << (FATTR4_MODE - 32);
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u32(&x, 0600);
	xdr_put_u32(&x, 0);
	make_fattr(&f, w, 2, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_BADXDR);
	/* mode out of range */
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u32(&x, 010000);
	make_fattr(&f, w, 2, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_INVAL);
	/* read-only attribute */
	w[0] = 1u << FATTR4_TYPE;
	w[1] = 0;
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u32(&x, NF4REG);
	make_fattr(&f, w, 1, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_INVAL);
	/* unsupported attribute (acl) */
	w[0] = 1u << FATTR4_ACL;
	make_fattr(&f, w, 1, buf, 4);
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_ATTRNOTSUPP);
	/* bad owner */
	w[0] = 0;
	w[1] = 1u << (FATTR4_OWNER_GROUP - 32);
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_opaque(&x, "nobody@elsewhere", 16);
	make_fattr(&f, w, 2, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_BADOWNER);
	/* nanoseconds out of range */
	w[1] = 1u << (FATTR4_TIME_ACCESS_SET - 32);
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u32(&x, SET_TO_CLIENT_TIME4);
	xdr_put_i64(&x, 1);
	xdr_put_u32(&x, 1000000000u);
	make_fattr(&f, w, 2, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_INVAL);
	/* empty */
	make_fattr(&f, w, 0, buf, 0);
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4_OK);
	assert_int_equal(sa.valid, 0);
	assert_int_equal(set.len, 0);
	end_compound(&c);
}

/* RFC 9754's delegated times: NFSv4.2 and turned on only; SETATTR only
 * (OPEN and CREATE may not set them); one time per SETATTR for atime. */
static void test_decode_deleg_times(void **state)
{
	struct nfs4_compound c;
	struct arena a;
	struct pmem_setattr sa;
	bitmap4 set;
	fattr4 f;
	uint8_t buf[64];
	struct xdr_stream x;
	uint32_t w[3] = { 0, 0, (1u << (FATTR4_TIME_DELEG_ACCESS - 64)) |
				(1u << (FATTR4_TIME_DELEG_MODIFY - 64)) };

	(void)state;
	setup_compound(&c, &a);
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_i64(&x, 1700000000);
	xdr_put_u32(&x, 5);
	xdr_put_i64(&x, 1700000100);
	xdr_put_u32(&x, 7);
	make_fattr(&f, w, 3, buf, xdr_pos(&x));
	/* off, or minor version 1: not supported */
	nfs4_deleg_set_options(&test_srv, &(struct nfs4_deleg_options){ .timestamps = false });
	c.minorversion = 2;
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_ATTRNOTSUPP);
	nfs4_deleg_set_options(&test_srv, &(struct nfs4_deleg_options){ .timestamps = true });
	c.minorversion = 1;
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_ATTRNOTSUPP);
	c.minorversion = 2;
	/* not at OPEN or CREATE */
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, false, &sa, &set), NFS4ERR_INVAL);
	/* SETATTR: both times, as given */
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4_OK);
	assert_int_equal(sa.valid, PMEM_SET_ATIME | PMEM_SET_MTIME);
	assert_int_equal(sa.atime.sec, 1700000000);
	assert_int_equal(sa.atime.nsec, 5);
	assert_int_equal(sa.mtime.sec, 1700000100);
	assert_int_equal(sa.mtime.nsec, 7);
	assert_int_equal(set.len, 3);
	assert_int_equal(set.val[2], w[2]);
	/* nanoseconds out of range */
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_i64(&x, 1);
	xdr_put_u32(&x, 1000000000u);
	xdr_put_i64(&x, 1);
	xdr_put_u32(&x, 0);
	make_fattr(&f, w, 3, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_INVAL);
	/* truncated: the second time cut short */
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_i64(&x, 1);
	xdr_put_u32(&x, 0);
	xdr_put_i64(&x, 2);
	make_fattr(&f, w, 3, buf, 16);
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_BADXDR);
	/* time_access_set and time_deleg_access together: atime twice */
	w[1] = 1u << (FATTR4_TIME_ACCESS_SET - 32);
	w[2] = 1u << (FATTR4_TIME_DELEG_ACCESS - 64);
	xdr_init_encode(&x, buf, sizeof(buf));
	xdr_put_u32(&x, SET_TO_SERVER_TIME4);
	xdr_put_i64(&x, 1);
	xdr_put_u32(&x, 0);
	make_fattr(&f, w, 3, buf, xdr_pos(&x));
	assert_int_equal(nfs4_fattr_to_setattr(&c, &f, true, &sa, &set), NFS4ERR_INVAL);
	nfs4_deleg_set_options(&test_srv, &(struct nfs4_deleg_options){ .timestamps = false });
	end_compound(&c);
}

/* Random masks and bytes: never a crash or a read past the buffer (ASan),
 * always one of the statuses the decoder may give. */
static void test_decode_random_input(void **state)
{
	struct nfs4_compound c;
	struct arena a;
	struct pmem_setattr sa;
	bitmap4 set;
	fattr4 f;
	uint32_t w[4];
	uint8_t *buf;
	unsigned seed = 12345;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		uint32_t len, nw;
		nfsstat4 st;

		setup_compound(&c, &a);
		nw = (uint32_t)(rand_r(&seed) % 5);
		for (uint32_t i = 0; i < 4; i++) {
			/* mostly settable bits, sometimes anything */
			w[i] = (uint32_t)rand_r(&seed);
			if (rand_r(&seed) % 4)
				w[i] &= i == 0 ? (1u << FATTR4_SIZE)
				      : i == 1 ? ((1u << (FATTR4_MODE - 32)) | (1u << (FATTR4_OWNER - 32)) |
						  (1u << (FATTR4_OWNER_GROUP - 32)) |
						  (1u << (FATTR4_TIME_ACCESS_SET - 32)) |
						  (1u << (FATTR4_TIME_MODIFY_SET - 32)))
				      : 0;
		}
		len = (uint32_t)(rand_r(&seed) % 64);
		buf = malloc(len ? len : 1);   /* exact size: ASan sees any overread */
		assert_non_null(buf);
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(rand_r(&seed) % 4 ? rand_r(&seed) % 8 : rand_r(&seed));
		make_fattr(&f, w, nw, buf, len);
		st = nfs4_fattr_to_setattr(&c, &f, true, &sa, &set);
		assert_true(st == NFS4_OK || st == NFS4ERR_BADXDR || st == NFS4ERR_INVAL ||
			    st == NFS4ERR_ATTRNOTSUPP || st == NFS4ERR_BADOWNER);
		free(buf);
		end_compound(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_table),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_pseudo_tree),
		cmocka_unit_test(test_fh_wire),
		cmocka_unit_test(test_encode_root),
		cmocka_unit_test(test_decode_setattr),
		cmocka_unit_test(test_decode_deleg_times),
		cmocka_unit_test(test_decode_random_input),
	};
	return cmocka_run_group_tests(tests, setup_exports, teardown_exports);
}
