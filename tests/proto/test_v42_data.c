/*
 * tests/proto/test_v42_data.c: NFSv4.2 CLONE, COPY, READ_PLUS, SEEK, ALLOCATE
 * and DEALLOCATE (RFC 7862 §15.13, §15.2, §15.10, §15.11, §15.1, §15.4) against a real daxnfsd exporting a
 * real XFS with reflink (a loop image, Pseudo /xfs) and a tmpfs (Pseudo
 * /tmpfs), over real sockets:
 *  - CLONE of a whole file and of a range on XFS: the bytes match, the
 *    server's files share their extents (FIEMAP_EXTENT_SHARED), a write to
 *    the source after it leaves the clone as it was;
 *  - CLONE's errors: unaligned ranges, a range past the source's end,
 *    overlapping ranges of one file (NFS4ERR_INVAL), a directory
 *    (NFS4ERR_ISDIR), a read-only destination stateid (NFS4ERR_OPENMODE),
 *    tmpfs (NFS4ERR_NOTSUPP: the client copies instead), two exports
 *    (NFS4ERR_XDEV);
 *  - a CLONE onto a file another client holds a write delegation on (the
 *    anonymous stateid: no OPEN of the cloning client recalls first):
 *    DELAY and CB_RECALL, then the clone after DELEGRETURN; what the holder
 *    wrote outside the cloned range is still there; a COPY from a file
 *    another client holds a write delegation on: recalled first, and what
 *    the holder wrote under it is what is copied;
 *  - COPY (done at once, short of nothing here): a whole file and a range
 *    on tmpfs; on XFS the copy shares extents; two exports NFS4ERR_XDEV;
 *    a range past the source's end and overlapping ranges of one file
 *    (NFS4ERR_INVAL), another server's file (NFS4ERR_NOTSUPP), a read-only
 *    destination (NFS4ERR_OPENMODE);
 *  - READ_PLUS: holes as hole segments, data as data segments (bytes
 *    checked), a count ending in a hole, past the end of the file;
 *  - SEEK of data and holes (exact on XFS), sr_eof at the end, NFS4ERR_NXIO
 *    past it; DEALLOCATE punches a hole and keeps the size; ALLOCATE grows
 *    the file; length 0 is NFS4ERR_INVAL, a read-only stateid
 *    NFS4ERR_OPENMODE.
 * Needs root, mkfs.xfs and a loop device (skipped without them).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

#define KIB 1024u

static struct proto_server srv;
static char xfs_dir[1024], tmpfs_dir[1024], img[1100];
static bool xfs_mounted, tmpfs_mounted;

static int group_teardown(void **state);

static int group_setup(void **state)
{
	struct proto_server_opts o = { .nfsv4_conf = "Recall_Timeout = 4;" };
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	char cmd[8192], exports[3000];

	(void)state;
	snprintf(xfs_dir, sizeof(xfs_dir), "%.900s/v42-xfs-%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%.900s/v42-tmpfs-%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(img, sizeof(img), "%s.img", xfs_dir);
	if (geteuid() != 0)
		return 0;   /* the tests skip */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s' && truncate -s 300M '%s' && "
		 "mkfs.xfs -q -m reflink=1 '%s' >/dev/null 2>&1 && mount -o loop '%s' '%s' 2>/dev/null",
		 xfs_dir, tmpfs_dir, img, img, img, xfs_dir);
	xfs_mounted = system(cmd) == 0;
	tmpfs_mounted = xfs_mounted && mount("tmpfs", tmpfs_dir, "tmpfs", 0, "size=64m") == 0;
	if (!xfs_mounted || !tmpfs_mounted)
		return 0;
	snprintf(exports, sizeof(exports),
		 "EXPORT { Export_Id = 1; Path = \"%s\"; Pseudo = /xfs; Access_Type = RW; "
		 "Squash = none; }\n"
		 "EXPORT { Export_Id = 2; Path = \"%s\"; Pseudo = /tmpfs; Access_Type = RW; "
		 "Squash = none; }\n", xfs_dir, tmpfs_dir);
	o.exports_conf = exports;
	cur = &srv;
	if (proto_server_start(&srv, "v42-data", &o) < 0) {
		/* cmocka runs no teardown after a failed setup */
		srv.pid = 0;
		group_teardown(state);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[4096];
	int rc = 0;

	(void)state;
	if (srv.pid)
		rc = proto_server_stop_checked(&srv);
	if (tmpfs_mounted)
		umount(tmpfs_dir);
	if (xfs_mounted) {
		snprintf(cmd, sizeof(cmd), "umount '%s'", xfs_dir);
		if (system(cmd) != 0)
			rc = -1;
	}
	rmdir(tmpfs_dir);
	rmdir(xfs_dir);
	unlink(img);
	return rc;
}

static void need_fs(void)
{
	if (!xfs_mounted || !tmpfs_mounted) {
		print_message("SKIPPED: no XFS with reflink and tmpfs here (root, mkfs.xfs, a loop device)\n");
		skip();
	}
}

/* ---- one compound per operation ---- */

static nfsstat4 write_at(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			 uint64_t off, const void *data, uint32_t len)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add_write(&cp, sid, off, data, len, FILE_SYNC4);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* READ of len bytes at off into buf (zero-filled past what came back). */
static nfsstat4 read_at(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			uint64_t off, void *buf, uint32_t len)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfsstat4 st;

	memset(buf, 0, len);
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add_read(&cp, sid, off, len);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_READ);
	if (st == NFS4_OK && r) {
		assert_true(r->u.opread.u.resok4.data.len <= len);
		memcpy(buf, r->u.opread.u.resok4.data.val, r->u.opread.u.resok4.data.len);
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 clone_op(struct nfs4_cl *cl, const nfs_fh4 *src, const stateid4 *ssid,
			 const nfs_fh4 *dst, const stateid4 *dsid, uint64_t soff, uint64_t doff,
			 uint64_t count)
{
	struct nfs4_cl_compound cp;
	CLONE4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *src;
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *dst;
	a = &nfs4_cl_add(&cp, OP_CLONE)->u.opclone;
	a->cl_src_stateid = *ssid;
	a->cl_dst_stateid = *dsid;
	a->cl_src_offset = soff;
	a->cl_dst_offset = doff;
	a->cl_count = count;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* COPY; *count the bytes copied (wr_count) when it succeeds. */
static nfsstat4 copy_op(struct nfs4_cl *cl, const nfs_fh4 *src, const stateid4 *ssid,
			const nfs_fh4 *dst, const stateid4 *dsid, uint64_t soff, uint64_t doff,
			uint64_t count, bool with_source_server, uint64_t *copied)
{
	struct nfs4_cl_compound cp;
	COPY4args *a;
	nfs_resop4 *r;
	netloc4 loc;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *src;
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *dst;
	a = &nfs4_cl_add(&cp, OP_COPY)->u.opcopy;
	a->ca_src_stateid = *ssid;
	a->ca_dst_stateid = *dsid;
	a->ca_src_offset = soff;
	a->ca_dst_offset = doff;
	a->ca_count = count;
	a->ca_consecutive = true;
	a->ca_synchronous = false;   /* as the Linux client asks; the server may do it at once */
	if (with_source_server) {
		memset(&loc, 0, sizeof(loc));
		loc.nl_type = NL4_NAME;
		loc.u.nl_name.len = 9;
		loc.u.nl_name.val = (uint8_t *)"elsewhere";
		a->ca_source_server.len = 1;
		a->ca_source_server.val = &loc;
	}
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_COPY);
	if (st == NFS4_OK && r) {
		const COPY4resok *ok = &r->u.opcopy.u.cr_resok4;

		assert_int_equal(ok->cr_response.wr_callback_id.len, 0);   /* done at once */
		assert_true(ok->cr_requirements.cr_synchronous);
		*copied = ok->cr_response.wr_count;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 seek_op(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, uint64_t off,
			data_content4 what, uint64_t *found, bool *eof)
{
	struct nfs4_cl_compound cp;
	SEEK4args *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	a = &nfs4_cl_add(&cp, OP_SEEK)->u.opseek;
	a->sa_stateid = *sid;
	a->sa_offset = off;
	a->sa_what = what;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_SEEK);
	if (st == NFS4_OK && r) {
		*found = r->u.opseek.u.resok4.sr_offset;
		*eof = r->u.opseek.u.resok4.sr_eof;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

/* READ_PLUS: the segments as text ("D0+65536 H65536+983040 ..."), eof,
 * and the data segments' bytes checked against want (the file's content). */
static nfsstat4 read_plus(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, uint64_t off,
			  uint32_t count, const uint8_t *want, char *segs, size_t cap, bool *eof)
{
	struct nfs4_cl_compound cp;
	READ_PLUS4args *a;
	nfs_resop4 *r;
	nfsstat4 st;

	segs[0] = '\0';
	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	a = &nfs4_cl_add(&cp, OP_READ_PLUS)->u.opread_plus;
	a->rpa_stateid = *sid;
	a->rpa_offset = off;
	a->rpa_count = count;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_READ_PLUS);
	if (st == NFS4_OK && r) {
		const read_plus_res4 *ok = &r->u.opread_plus.u.rp_resok4;

		*eof = ok->rpr_eof;
		for (uint32_t i = 0; i < ok->rpr_contents.len; i++) {
			const read_plus_content *c = &ok->rpr_contents.val[i];
			size_t n = strlen(segs);

			if (c->rpc_content == NFS4_CONTENT_DATA) {
				snprintf(segs + n, cap - n, "%sD%llu+%u", n ? " " : "",
					 (unsigned long long)c->u.rpc_data.d_offset,
					 c->u.rpc_data.d_data.len);
				assert_memory_equal(c->u.rpc_data.d_data.val, want + c->u.rpc_data.d_offset,
						    c->u.rpc_data.d_data.len);
			} else {
				snprintf(segs + n, cap - n, "%sH%llu+%llu", n ? " " : "",
					 (unsigned long long)c->u.rpc_hole.di_offset,
					 (unsigned long long)c->u.rpc_hole.di_length);
			}
		}
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 space(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, uint64_t off,
		      uint64_t len, bool allocate)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	if (allocate) {
		a = nfs4_cl_add(&cp, OP_ALLOCATE);
		a->u.opallocate.aa_stateid = *sid;
		a->u.opallocate.aa_offset = off;
		a->u.opallocate.aa_length = len;
	} else {
		a = nfs4_cl_add(&cp, OP_DEALLOCATE);
		a->u.opdeallocate.da_stateid = *sid;
		a->u.opdeallocate.da_offset = off;
		a->u.opdeallocate.da_length = len;
	}
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* A directory's handle (the export root of dir). */
static nfs_fh4 dir_fh(struct nfs4_cl *cl, const char *dir)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfs_fh4 fh;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, dir);
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

/* Does the server's file share an extent (FIEMAP_EXTENT_SHARED)? */
static bool server_file_shares(const char *dir, const char *name)
{
	char path[2048];
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[32];
	} m;
	bool shared = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	memset(&m, 0, sizeof(m));
	m.fm.fm_length = FIEMAP_MAX_OFFSET;
	m.fm.fm_flags = FIEMAP_FLAG_SYNC;
	m.fm.fm_extent_count = 32;
	assert_int_equal(ioctl(fd, FS_IOC_FIEMAP, &m.fm), 0);
	for (unsigned i = 0; i < m.fm.fm_mapped_extents; i++)
		if (m.ext[i].fe_flags & FIEMAP_EXTENT_SHARED)
			shared = true;
	close(fd);
	return shared;
}

static off_t server_file_size(const char *dir, const char *name)
{
	char path[2048];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + i / 4096);
}

/* ---- CLONE ---- */

static void test_clone_shares_extents_on_xfs(void **state)
{
	struct nfs4_cl *cl;
	struct opened s, d, d2, ro;
	static uint8_t data[192 * KIB], got[192 * KIB], fresh[64 * KIB];

	(void)state;
	need_fs();
	cl = client_plain("v42-a1");
	cl->minorversion = 2;
	fill(data, sizeof(data), 1);
	open_in(cl, 2, "xfs", "s1", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s);
	assert_int_equal(s.status, NFS4_OK);
	for (uint32_t off = 0; off < sizeof(data); off += 64 * KIB)
		assert_int_equal(write_at(cl, &s.fh, &s.sid, off, data + off, 64 * KIB), NFS4_OK);
	open_in(cl, 2, "xfs", "d1", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &d);
	assert_int_equal(d.status, NFS4_OK);

	/* The whole file (count 0: to the source's end). */
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d.fh, &d.sid, 0, 0, 0), NFS4_OK);
	assert_int_equal(server_file_size(xfs_dir, "d1"), (off_t)sizeof(data));
	for (uint32_t off = 0; off < sizeof(data); off += 64 * KIB)
		assert_int_equal(read_at(cl, &d.fh, &d.sid, off, got + off, 64 * KIB), NFS4_OK);
	assert_memory_equal(got, data, sizeof(data));
	assert_true(server_file_shares(xfs_dir, "d1"));
	assert_true(server_file_shares(xfs_dir, "s1"));
	/* A write to the source leaves the clone as it was. */
	fill(fresh, sizeof(fresh), 9);
	assert_int_equal(write_at(cl, &s.fh, &s.sid, 0, fresh, sizeof(fresh)), NFS4_OK);
	assert_int_equal(read_at(cl, &d.fh, &d.sid, 0, got, 64 * KIB), NFS4_OK);
	assert_memory_equal(got, data, 64 * KIB);

	/* A range: the source's second 64 KiB to 128 KiB in another file. */
	open_in(cl, 2, "xfs", "d2", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &d2);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 64 * KIB, 128 * KIB, 64 * KIB),
			 NFS4_OK);
	assert_int_equal(server_file_size(xfs_dir, "d2"), (off_t)(192 * KIB));
	assert_int_equal(read_at(cl, &d2.fh, &d2.sid, 128 * KIB, got, 64 * KIB), NFS4_OK);
	assert_memory_equal(got, data + 64 * KIB, 64 * KIB);
	assert_true(server_file_shares(xfs_dir, "d2"));

	/* Errors: unaligned, past the source's end, overlapping in one file,
	 * a directory, a destination opened for reading only. */
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 100, 0, 4 * KIB),
			 NFS4ERR_INVAL);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 0, 0, 1000),
			 NFS4ERR_INVAL);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 128 * KIB, 0, 128 * KIB),
			 NFS4ERR_INVAL);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &s.fh, &s.sid, 0, 64 * KIB, 128 * KIB),
			 NFS4ERR_INVAL);
	{
		nfs_fh4 root = dir_fh(cl, "xfs");

		assert_int_equal(clone_op(cl, &root, &s.sid, &d2.fh, &d2.sid, 0, 0, 0),
				 NFS4ERR_ISDIR);
		free(root.val);
	}
	close_opened(cl, &d2);
	open_in(cl, 2, "xfs", "d2", false, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &ro);
	assert_int_equal(ro.status, NFS4_OK);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &ro.fh, &ro.sid, 0, 0, 64 * KIB),
			 NFS4ERR_OPENMODE);
	close_opened(cl, &ro);
	close_opened(cl, &d);
	close_opened(cl, &s);
	nfs4_cl_close(cl, true);
}

static void test_clone_refused_on_tmpfs_and_across_exports(void **state)
{
	struct nfs4_cl *cl;
	struct opened s, d, x;
	static uint8_t data[64 * KIB];

	(void)state;
	need_fs();
	cl = client_plain("v42-a2");
	cl->minorversion = 2;
	fill(data, sizeof(data), 2);
	open_in(cl, 2, "tmpfs", "s1", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s);
	assert_int_equal(write_at(cl, &s.fh, &s.sid, 0, data, sizeof(data)), NFS4_OK);
	open_in(cl, 2, "tmpfs", "d1", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &d);
	/* tmpfs cannot reflink: the client falls back to a copy. */
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &d.fh, &d.sid, 0, 0, 0), NFS4ERR_NOTSUPP);
	assert_int_equal(server_file_size(tmpfs_dir, "d1"), 0);
	/* Two exports. */
	open_in(cl, 2, "xfs", "x1", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &x);
	assert_int_equal(clone_op(cl, &s.fh, &s.sid, &x.fh, &x.sid, 0, 0, 0), NFS4ERR_XDEV);
	close_opened(cl, &x);
	close_opened(cl, &d);
	close_opened(cl, &s);
	nfs4_cl_close(cl, true);
}

/* CLONE onto a file another client holds delegated (the cloning client
 * names it with the anonymous stateid, so no OPEN of its own recalls
 * first): the CLONE answers DELAY and recalls; after DELEGRETURN it goes
 * through, and what the holder wrote outside the cloned range is there. */
static void test_clone_recalls_delegation(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a, *b;
	struct opened s, da, db;
	static uint8_t data[64 * KIB], got[64 * KIB];
	static const stateid4 anon;
	const char held[] = "written by the holder";
	char tail[sizeof(held)];
	int64_t end;
	stateid4 ds;
	nfsstat4 st;

	(void)state;
	need_fs();
	a = client_cb("v42-a3", &la);
	b = client_plain("v42-b3");
	b->minorversion = 2;
	fill(data, sizeof(data), 3);
	open_in(b, 2, "xfs", "src3", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s);
	assert_int_equal(write_at(b, &s.fh, &s.sid, 0, data, sizeof(data)), NFS4_OK);
	open_in(b, 2, "xfs", "dst3", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &db);
	close_opened(b, &db);
	/* a holds dst3 delegated for writing and writes past the range. */
	open_in(a, 1, "xfs", "dst3", false, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &da);
	assert_int_equal(da.deleg.delegation_type, OPEN_DELEGATE_WRITE);
	ds = deleg_sid(&da);
	assert_int_equal(write_at(a, &da.fh, &ds, 200 * KIB, held, sizeof(held)), NFS4_OK);

	assert_int_equal(clone_op(b, &s.fh, &s.sid, &da.fh, &anon, 0, 0, 64 * KIB),
			 NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.n, 1);
	assert_int_equal(nfs4_cl_delegreturn(a, &da.fh, &ds), NFS4_OK);
	for (end = proto_now_ms() + 3000;
	     (st = clone_op(b, &s.fh, &s.sid, &da.fh, &anon, 0, 0, 64 * KIB)) == NFS4ERR_DELAY &&
	     proto_now_ms() < end;)
		usleep(20000);
	assert_int_equal(st, NFS4_OK);
	assert_int_equal(read_at(b, &da.fh, &anon, 0, got, sizeof(got)), NFS4_OK);
	assert_memory_equal(got, data, sizeof(got));
	assert_int_equal(read_at(b, &da.fh, &anon, 200 * KIB, tail, sizeof(tail)), NFS4_OK);
	assert_memory_equal(tail, held, sizeof(held));
	assert_true(server_file_shares(xfs_dir, "dst3"));
	close_opened(a, &da);
	close_opened(b, &s);

	/* The source: a holds it delegated for writing and has written under
	 * the delegation; b's COPY from it (anonymous source stateid) recalls
	 * first, then copies what a wrote. */
	open_in(b, 2, "xfs", "src4", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s);
	close_opened(b, &s);
	open_in(b, 2, "xfs", "dst4", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &db);
	open_in(a, 1, "xfs", "src4", false, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &da);
	assert_int_equal(da.deleg.delegation_type, OPEN_DELEGATE_WRITE);
	ds = deleg_sid(&da);
	assert_int_equal(write_at(a, &da.fh, &ds, 0, held, sizeof(held)), NFS4_OK);
	{
		uint64_t copied = 0;

		assert_int_equal(copy_op(b, &da.fh, &anon, &db.fh, &db.sid, 0, 0, 0, false, &copied),
				 NFS4ERR_DELAY);
		wait_recall(a, &la, 2, 3000);
		assert_int_equal(la.n, 2);
		assert_int_equal(nfs4_cl_delegreturn(a, &da.fh, &ds), NFS4_OK);
		for (end = proto_now_ms() + 3000;
		     (st = copy_op(b, &da.fh, &anon, &db.fh, &db.sid, 0, 0, 0, false, &copied)) ==
		     NFS4ERR_DELAY && proto_now_ms() < end;)
			usleep(20000);
		assert_int_equal(st, NFS4_OK);
		assert_int_equal(copied, sizeof(held));
	}
	assert_int_equal(read_at(b, &db.fh, &db.sid, 0, tail, sizeof(tail)), NFS4_OK);
	assert_memory_equal(tail, held, sizeof(held));
	close_opened(a, &da);
	close_opened(b, &db);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* ---- COPY ---- */

static void test_copy_server_side(void **state)
{
	struct nfs4_cl *cl;
	struct opened s, d, d2, x;
	static uint8_t data[3 * 1024 * KIB], got[1024 * KIB];
	uint64_t copied = 0;

	(void)state;
	need_fs();
	cl = client_plain("v42-a5");
	cl->minorversion = 2;
	fill(data, sizeof(data), 5);
	open_in(cl, 2, "tmpfs", "cs", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &s);
	for (uint32_t off = 0; off < sizeof(data); off += 512 * KIB)   /* records are <= 1 MiB */
		assert_int_equal(write_at(cl, &s.fh, &s.sid, off, data + off, 512 * KIB), NFS4_OK);
	/* The whole file (count 0) on tmpfs, which cannot reflink. */
	open_in(cl, 2, "tmpfs", "cd", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &d);
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &d.fh, &d.sid, 0, 0, 0, false, &copied), NFS4_OK);
	assert_int_equal(copied, sizeof(data));
	assert_int_equal(server_file_size(tmpfs_dir, "cd"), (off_t)sizeof(data));
	for (uint32_t off = 0; off < sizeof(data); off += 512 * KIB) {
		assert_int_equal(read_at(cl, &d.fh, &d.sid, off, got, 512 * KIB), NFS4_OK);
		assert_memory_equal(got, data + off, 512 * KIB);
	}
	/* A range to an offset of another file. */
	open_in(cl, 2, "tmpfs", "cd2", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &d2);
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 1024 * KIB, 5 * 1024 * KIB,
				 1024 * KIB, false, &copied), NFS4_OK);
	assert_int_equal(copied, 1024 * KIB);
	assert_int_equal(server_file_size(tmpfs_dir, "cd2"), (off_t)(6 * 1024 * KIB));
	assert_int_equal(read_at(cl, &d2.fh, &d2.sid, 5 * 1024 * KIB, got, 512 * KIB), NFS4_OK);
	assert_memory_equal(got, data + 1024 * KIB, 512 * KIB);
	/* To the other export: NFS4ERR_XDEV (the caller's credential is the
	 * destination export's; the client copies by itself then). */
	open_in(cl, 2, "xfs", "cx", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &x);
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &x.fh, &x.sid, 0, 0, 0, false, &copied),
			 NFS4ERR_XDEV);
	for (uint32_t off = 0; off < sizeof(data); off += 512 * KIB)
		assert_int_equal(write_at(cl, &x.fh, &x.sid, off, data + off, 512 * KIB), NFS4_OK);
	/* Within XFS copy_file_range shares the extents. */
	{
		struct opened x2;

		open_in(cl, 2, "xfs", "cx2", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &x2);
		assert_int_equal(copy_op(cl, &x.fh, &x.sid, &x2.fh, &x2.sid, 0, 0, 0, false, &copied),
				 NFS4_OK);
		assert_int_equal(copied, sizeof(data));
		assert_true(server_file_shares(xfs_dir, "cx2"));
		assert_int_equal(read_at(cl, &x2.fh, &x2.sid, 2 * 1024 * KIB, got, 512 * KIB),
				 NFS4_OK);
		assert_memory_equal(got, data + 2 * 1024 * KIB, 512 * KIB);
		close_opened(cl, &x2);
	}
	/* Errors: past the source's end, overlapping in one file, another
	 * server's file, a destination opened for reading. */
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 0, 0, sizeof(data) + 1, false,
				 &copied), NFS4ERR_INVAL);
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &s.fh, &s.sid, 0, 4096, 8192, false, &copied),
			 NFS4ERR_INVAL);
	assert_int_equal(copy_op(cl, &s.fh, &s.sid, &d2.fh, &d2.sid, 0, 0, 0, true, &copied),
			 NFS4ERR_NOTSUPP);
	close_opened(cl, &d2);
	{
		struct opened ro;

		open_in(cl, 2, "tmpfs", "cd2", false, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			&ro);
		assert_int_equal(copy_op(cl, &s.fh, &s.sid, &ro.fh, &ro.sid, 0, 0, 4096, false,
					 &copied), NFS4ERR_OPENMODE);
		close_opened(cl, &ro);
	}
	close_opened(cl, &x);
	close_opened(cl, &d);
	close_opened(cl, &s);
	nfs4_cl_close(cl, true);
}

/* ---- SEEK, ALLOCATE, DEALLOCATE ---- */

static void test_seek_allocate_deallocate(void **state)
{
	struct nfs4_cl *cl;
	struct opened f, ro;
	static uint8_t data[64 * KIB], got[16];
	const uint64_t mib = 1024 * KIB, size = mib + 64 * KIB;
	uint64_t found = 0;
	bool eof = false;

	(void)state;
	need_fs();
	cl = client_plain("v42-a4");
	cl->minorversion = 2;
	fill(data, sizeof(data), 4);
	open_in(cl, 2, "xfs", "sparse", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &f);
	assert_int_equal(write_at(cl, &f.fh, &f.sid, 0, data, sizeof(data)), NFS4_OK);
	assert_int_equal(write_at(cl, &f.fh, &f.sid, mib, data, sizeof(data)), NFS4_OK);

	/* data at [0, 64K), a hole to 1 MiB, data to the end */
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, 0, NFS4_CONTENT_DATA, &found, &eof), NFS4_OK);
	assert_int_equal(found, 0);
	assert_false(eof);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, 0, NFS4_CONTENT_HOLE, &found, &eof), NFS4_OK);
	assert_int_equal(found, 64 * KIB);
	assert_false(eof);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, 64 * KIB, NFS4_CONTENT_DATA, &found, &eof),
			 NFS4_OK);
	assert_int_equal(found, mib);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, mib, NFS4_CONTENT_HOLE, &found, &eof), NFS4_OK);
	assert_int_equal(found, size);
	assert_true(eof);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, size, NFS4_CONTENT_DATA, &found, &eof),
			 NFS4ERR_NXIO);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, size + 4096, NFS4_CONTENT_HOLE, &found, &eof),
			 NFS4ERR_NXIO);

	/* READ_PLUS: the holes as hole segments, the data as data. */
	{
		static uint8_t content[2 * 1024 * KIB];
		char segs[256];

		memcpy(content, data, sizeof(data));
		memcpy(content + mib, data, sizeof(data));
		/* (the server shortens a count past its largest I/O, 1 MiB) */
		assert_int_equal(read_plus(cl, &f.fh, &f.sid, 0, 960 * KIB, content, segs,
					   sizeof(segs), &eof), NFS4_OK);
		assert_string_equal(segs, "D0+65536 H65536+917504");
		assert_false(eof);
		assert_int_equal(read_plus(cl, &f.fh, &f.sid, 960 * KIB, 512 * KIB, content, segs,
					   sizeof(segs), &eof), NFS4_OK);
		assert_string_equal(segs, "H983040+65536 D1048576+65536");
		assert_true(eof);
		assert_int_equal(read_plus(cl, &f.fh, &f.sid, 64 * KIB + 10, 100, content, segs,
					   sizeof(segs), &eof), NFS4_OK);
		assert_string_equal(segs, "H65546+100");
		assert_false(eof);
		assert_int_equal(read_plus(cl, &f.fh, &f.sid, mib + 60 * KIB, 64 * KIB, content, segs,
					   sizeof(segs), &eof), NFS4_OK);
		assert_string_equal(segs, "D1110016+4096");
		assert_true(eof);
		assert_int_equal(read_plus(cl, &f.fh, &f.sid, size + 1, 4096, content, segs,
					   sizeof(segs), &eof), NFS4_OK);
		assert_string_equal(segs, "");
		assert_true(eof);
	}

	/* DEALLOCATE the first 64 KiB: a hole that reads as zeros, same size. */
	assert_int_equal(space(cl, &f.fh, &f.sid, 0, 64 * KIB, false), NFS4_OK);
	assert_int_equal(server_file_size(xfs_dir, "sparse"), (off_t)size);
	assert_int_equal(seek_op(cl, &f.fh, &f.sid, 0, NFS4_CONTENT_DATA, &found, &eof), NFS4_OK);
	assert_int_equal(found, mib);
	assert_int_equal(read_at(cl, &f.fh, &f.sid, 0, got, sizeof(got)), NFS4_OK);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
	/* ALLOCATE past the end grows the file; the space is data. */
	assert_int_equal(space(cl, &f.fh, &f.sid, 2 * mib, 64 * KIB, true), NFS4_OK);
	assert_int_equal(server_file_size(xfs_dir, "sparse"), (off_t)(2 * mib + 64 * KIB));
	/* Errors: length 0, a range past what a file holds, reading only. */
	assert_int_equal(space(cl, &f.fh, &f.sid, 0, 0, true), NFS4ERR_INVAL);
	assert_int_equal(space(cl, &f.fh, &f.sid, UINT64_MAX - 10, 100, false), NFS4ERR_INVAL);
	close_opened(cl, &f);
	open_in(cl, 2, "xfs", "sparse", false, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, &ro);
	assert_int_equal(ro.status, NFS4_OK);
	assert_int_equal(space(cl, &ro.fh, &ro.sid, 0, 4096, true), NFS4ERR_OPENMODE);
	assert_int_equal(space(cl, &ro.fh, &ro.sid, 0, 4096, false), NFS4ERR_OPENMODE);
	/* SEEK needs only reading. */
	assert_int_equal(seek_op(cl, &ro.fh, &ro.sid, 0, NFS4_CONTENT_DATA, &found, &eof), NFS4_OK);
	close_opened(cl, &ro);
	nfs4_cl_close(cl, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clone_shares_extents_on_xfs),
		cmocka_unit_test(test_clone_refused_on_tmpfs_and_across_exports),
		cmocka_unit_test(test_clone_recalls_delegation),
		cmocka_unit_test(test_copy_server_side),
		cmocka_unit_test(test_seek_allocate_deallocate),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
