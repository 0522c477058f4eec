/*
 * tests/proto/test_fh_forged.c: the export boundary against hostile file
 * handles (issue 8, findings 1, 2, 7, 8), over a real daxnfsd.
 *
 * Three exports on one filesystem: /ro (read-only, every caller squashed),
 * /rw (read-write, no squash) and /sub, a sub-directory export whose parent
 * directory also holds a file no export contains. The attacker is a client
 * that knows how daxnfsd lays out a handle and can compute kernel handles
 * (name_to_handle_at: inode and generation, guessable on a real server):
 * - a handle whose kernel handle is swapped for that of the file outside
 *   the exports is refused (BADHANDLE) and never reads the file;
 * - a handle from /ro relabelled with /rw's export id is refused and writes
 *   nothing;
 * - a second encoding of a legitimate handle (a flag bit in the kernel
 *   handle type) is refused;
 * - a file or directory an administrator moves out of the export is STALE
 *   to the handle given out before, also once the kernel forgot its path;
 *   a file the client renames inside the export keeps its handle;
 * - a directory 5,000 levels deep is reachable by its handle.
 * Every handle is compared as bytes, so the tests hold for any handle layout
 * that carries the kernel handle (they also ran against the layout without
 * a MAC, and failed there).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/test_ns_util.h"

#define SECRET "TOPSECRET: outside every export\n"
#define DEEP_LEVELS 5000
#define LOOKUPS_PER_COMPOUND 28

static char g_dir[PATH_MAX];

static void local(const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", g_dir, rel);
}

static void write_local(const char *rel, const char *data)
{
	char p[PATH_MAX + 64];
	FILE *f;

	local(rel, p, sizeof(p));
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	static char conf[4 * PATH_MAX];
	struct proto_server_opts o = { 0 };
	static const char *const dirs[] = { "ro", "rw", "sub", "sub/d" };

	if (ns_scratch_mkdirs(g_dir, sizeof(g_dir), "fh_forged", dirs, 4) < 0)
		return -1;
	write_local("secret", SECRET);
	write_local("ro/victim", "read-only data\n");
	write_local("sub/inside", "inside the export\n");
	snprintf(conf, sizeof(conf),
		 "EXPORT { Export_Id = 1; Path = \"%s/ro\"; Pseudo = \"/ro\"; Access_Type = RO; Squash = All; }\n"
		 "EXPORT { Export_Id = 2; Path = \"%s/rw\"; Pseudo = \"/rw\"; Access_Type = RW; Squash = None; }\n"
		 "EXPORT { Export_Id = 3; Path = \"%s/sub\"; Pseudo = \"/sub\"; Access_Type = RW; Squash = None; }\n",
		 g_dir, g_dir, g_dir);
	o.exports_conf = conf;
	return ns_setup_opts(state, "fh_forged", &o);
}

static int teardown(void **state)
{
	return ns_teardown_scratch(state, g_dir);
}

/* The kernel handle of a local path as daxnfsd keeps it: handle_type (4
 * bytes, little endian), then f_handle. */
static size_t kernel_handle(const char *rel, uint8_t *out)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	char p[PATH_MAX + 64];
	uint32_t t;
	int mnt;

	local(rel, p, sizeof(p));
	u.fh.handle_bytes = MAX_HANDLE_SZ;
	assert_int_equal(name_to_handle_at(AT_FDCWD, p, &u.fh, &mnt, 0), 0);
	t = (uint32_t)u.fh.handle_type;
	out[0] = (uint8_t)t;
	out[1] = (uint8_t)(t >> 8);
	out[2] = (uint8_t)(t >> 16);
	out[3] = (uint8_t)(t >> 24);
	memcpy(out + 4, u.fh.f_handle, u.fh.handle_bytes);
	return 4 + u.fh.handle_bytes;
}

/* Where the kernel handle k sits in fh (asserted present). */
static size_t find_in(const nfs_fh4 *fh, const uint8_t *k, size_t klen)
{
	const uint8_t *at = memmem(fh->val, fh->len, k, klen);

	assert_non_null(at);
	return (size_t)(at - (const uint8_t *)fh->val);
}

static void test_forged_handle_outside_export_is_badhandle(void **state)
{
	struct ns_fix *f = *state;
	uint8_t kin[MAX_HANDLE_SZ + 4], kout[MAX_HANDLE_SZ + 4];
	size_t lin = kernel_handle("sub/inside", kin), lout = kernel_handle("secret", kout), at;
	nfs_fh4 fh = { 0 };
	char data[4096];

	assert_int_equal(ns_path_fh(f->cl, "sub/inside", &fh), NFS4_OK);
	assert_int_equal(ns_putfh_read(f->cl, &fh, data, sizeof(data)), NFS4_OK);
	assert_string_equal(data, "inside the export\n");
	/* same filesystem, same handle type: same length */
	assert_int_equal(lin, lout);
	at = find_in(&fh, kin, lin);
	memcpy((uint8_t *)fh.val + at, kout, lout);
	assert_int_equal(ns_putfh_read(f->cl, &fh, data, sizeof(data)), NFS4ERR_BADHANDLE);
	assert_null(strstr(data, "TOPSECRET"));
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_BADHANDLE);
	/* the directory above the export, the same way */
	lout = kernel_handle("", kout);
	if (lout == lin) {
		memcpy((uint8_t *)fh.val + at, kout, lout);
		assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_BADHANDLE);
	}
	ns_fh_free(&fh);
}

static void test_relabelled_handle_is_badhandle(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	nfs_fh4 fh = { 0 };
	stateid4 anon;
	char p[PATH_MAX + 64], buf[64] = { 0 };
	FILE *lf;

	assert_int_equal(ns_path_fh(f->cl, "ro/victim", &fh), NFS4_OK);
	assert_true(fh.len > 4);
	/* export id 1 (bytes 2..3, big endian) becomes the read-write export 2 */
	assert_int_equal(((uint8_t *)fh.val)[2], 0);
	assert_int_equal(((uint8_t *)fh.val)[3], 1);
	((uint8_t *)fh.val)[3] = 2;
	memset(&anon, 0, sizeof(anon));
	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add_write(&cp, &anon, 0, "hacked\n", 7, FILE_SYNC4);
	assert_int_equal(ns_send(&cp), NFS4ERR_BADHANDLE);
	assert_int_equal(nfs4_cl_last_op(&cp), OP_PUTFH);
	nfs4_cl_compound_free(&cp);
	local("ro/victim", p, sizeof(p));
	lf = fopen(p, "r");
	assert_non_null(lf);
	assert_non_null(fgets(buf, sizeof(buf), lf));
	fclose(lf);
	assert_string_equal(buf, "read-only data\n");
	ns_fh_free(&fh);
}

static void test_second_encoding_is_badhandle(void **state)
{
	struct ns_fix *f = *state;
	uint8_t kin[MAX_HANDLE_SZ + 4];
	size_t lin = kernel_handle("sub/inside", kin), at;
	nfs_fh4 fh = { 0 }, orig = { 0 };
	int bit;

	assert_int_equal(ns_path_fh(f->cl, "sub/inside", &orig), NFS4_OK);
	at = find_in(&orig, kin, lin);
	/* the flag bits of the handle type (FILEID_IS_CONNECTABLE,
	 * FILEID_IS_DIR, ...) and a bit of the handle itself */
	for (bit = 16; bit < 24; bit++) {
		ns_fh_dup(&fh, &orig);
		((uint8_t *)fh.val)[at + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_BADHANDLE);
		ns_fh_free(&fh);
	}
	ns_fh_dup(&fh, &orig);
	((uint8_t *)fh.val)[fh.len - 1] ^= 1;
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_BADHANDLE);
	ns_fh_free(&fh);
	/* and the handle as given still works */
	assert_int_equal(ns_putfh_getattr(f->cl, &orig), NFS4_OK);
	ns_fh_free(&orig);
}

static void drop_dentries(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		assert_int_equal(write(fd, "2", 1), 1);
		close(fd);
	}
}

static void test_moved_out_is_stale(void **state)
{
	struct ns_fix *f = *state;
	char from[PATH_MAX + 64], to[PATH_MAX + 64];
	nfs_fh4 file = { 0 }, file2 = { 0 }, dir = { 0 };

	write_local("sub/leaving", "soon outside\n");
	write_local("sub/leaving2", "soon outside too\n");
	local("sub/dleaving", from, sizeof(from));
	assert_int_equal(mkdir(from, 0755), 0);
	assert_int_equal(ns_path_fh(f->cl, "sub/leaving", &file), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "sub/leaving2", &file2), NFS4_OK);
	assert_int_equal(ns_path_fh(f->cl, "sub/dleaving", &dir), NFS4_OK);
	assert_int_equal(ns_putfh_getattr(f->cl, &file), NFS4_OK);
	assert_int_equal(ns_putfh_getattr(f->cl, &dir), NFS4_OK);
	/* an administrator moves them out of the export */
	local("sub/leaving", from, sizeof(from));
	local("left", to, sizeof(to));
	assert_int_equal(rename(from, to), 0);
	local("sub/dleaving", from, sizeof(from));
	local("dleft", to, sizeof(to));
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(ns_putfh_getattr(f->cl, &file), NFS4ERR_STALE);
	assert_int_equal(ns_putfh_getattr(f->cl, &dir), NFS4ERR_STALE);
	/* also when the kernel no longer knows where the file went */
	local("sub/leaving2", from, sizeof(from));
	local("left2", to, sizeof(to));
	assert_int_equal(rename(from, to), 0);
	drop_dentries();
	assert_int_equal(ns_putfh_getattr(f->cl, &file2), NFS4ERR_STALE);
	ns_fh_free(&file);
	ns_fh_free(&file2);
	ns_fh_free(&dir);
}

static void test_renamed_inside_keeps_handle(void **state)
{
	struct ns_fix *f = *state;
	struct nfs4_cl_compound cp;
	RENAME4args *a;
	nfs_fh4 fh = { 0 };

	write_local("sub/moving", "renamed by the client\n");
	assert_int_equal(ns_path_fh(f->cl, "sub/moving", &fh), NFS4_OK);
	nfs4_cl_compound_init(&cp, f->cl);
	nfs4_cl_add_path(&cp, "sub");
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add_path(&cp, "sub/d");
	a = &nfs4_cl_add(&cp, OP_RENAME)->u.oprename;
	a->oldname = ns_str(&cp, "moving");
	a->newname = ns_str(&cp, "moved");
	assert_int_equal(ns_send(&cp), NFS4_OK);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4_OK);
	ns_fh_free(&fh);
}

/* LOOKUP "d" n times from fh; *fh becomes the deepest handle. */
static void lookup_down(struct nfs4_cl *cl, nfs_fh4 *fh, int n)
{
	struct nfs4_cl_compound cp;
	int i;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	for (i = 0; i < n; i++)
		nfs4_cl_add(&cp, OP_LOOKUP)->u.oplookup.objname = ns_str(&cp, "d");
	nfs4_cl_add(&cp, OP_GETFH);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	ns_fh_free(fh);
	ns_fh_dup(fh, &nfs4_cl_res(&cp, OP_GETFH)->u.opgetfh.u.resok4.object);
	nfs4_cl_compound_free(&cp);
}

static void test_deep_tree_reachable_by_handle(void **state)
{
	struct ns_fix *f = *state;
	char p[PATH_MAX + 64];
	nfs_fh4 fh = { 0 };
	int fd, next, i;

	local("sub/deep", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (i = 0; i < DEEP_LEVELS; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	assert_int_equal(ns_path_fh(f->cl, "sub/deep", &fh), NFS4_OK);
	for (i = 0; i < DEEP_LEVELS; i += LOOKUPS_PER_COMPOUND)
		lookup_down(f->cl, &fh, DEEP_LEVELS - i < LOOKUPS_PER_COMPOUND ?
					DEEP_LEVELS - i : LOOKUPS_PER_COMPOUND);
	/* the handle alone, with nothing of the walk down cached by the kernel */
	drop_dentries();
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4_OK);
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4_OK);
	ns_fh_free(&fh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_handle_outside_export_is_badhandle),
		cmocka_unit_test(test_relabelled_handle_is_badhandle),
		cmocka_unit_test(test_second_encoding_is_badhandle),
		cmocka_unit_test(test_moved_out_is_stale),
		cmocka_unit_test(test_renamed_inside_keeps_handle),
		cmocka_unit_test(test_deep_tree_reachable_by_handle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
