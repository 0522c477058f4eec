/*
 * tests/unit/test_pmem_reflink.c: clone, allocate, deallocate and seek of the
 * POSIX backend.
 * Proves: on XFS with reflink a clone shares extents (FIEMAP_EXTENT_SHARED on
 * both files); a write to the source after the clone leaves the clone as it
 * was; a range clone at unaligned offsets is -EINVAL, one ending at the
 * source's EOF is accepted; tmpfs says -EOPNOTSUPP; allocate, punch hole and
 * seek data/hole behave on XFS and tmpfs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "tests/pmem/fixture.h"

#define MIB (1u << 20)

/* Are all extents of path shared (and is there at least one)? */
static bool all_shared(const char *path)
{
	union {
		struct fiemap fm;
		uint8_t raw[sizeof(struct fiemap) + 64 * sizeof(struct fiemap_extent)];
	} u;
	bool shared;
	unsigned i;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	memset(&u, 0, sizeof(u));
	u.fm.fm_length = FIEMAP_MAX_OFFSET;
	u.fm.fm_flags = FIEMAP_FLAG_SYNC;
	u.fm.fm_extent_count = 64;
	assert_int_equal(ioctl(fd, FS_IOC_FIEMAP, &u.fm), 0);
	close(fd);
	shared = u.fm.fm_mapped_extents > 0;
	for (i = 0; i < u.fm.fm_mapped_extents; i++)
		if (!(u.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED))
			shared = false;
	return shared;
}

static struct pmem_obj *mk(struct pmem_obj *root, const char *name, const uint8_t *data, size_t len)
{
	struct pmem_obj *o;
	enum pmem_stable c;
	size_t n;

	assert_int_equal(root->ops->create_file(root, &fx_root, name, 0644, true, &o), 0);
	if (len) {
		assert_int_equal(o->ops->write(o, 0, data, len, PMEM_FILE_SYNC, &n, &c), 0);
		assert_int_equal(n, len);
	}
	return o;
}

static void test_clone_shares_extents_xfs(void **state)
{
	struct fx *f = *state;
	struct pmem_obj *root, *src, *dst, *part, *tail;
	uint8_t *data = malloc(MIB), *back = malloc(MIB);
	char p[PATH_MAX + 32];
	enum pmem_stable c;
	struct pmem_attr at;
	size_t i, n;
	bool eof;

	FX_REQUIRE(f);
	for (i = 0; i < MIB; i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(pmem_posix_export_open(f->xfs, 1, &f->exp_xfs), 0);
	assert_int_equal(f->exp_xfs->ops->root(f->exp_xfs, &root), 0);
	src = mk(root, "src", data, MIB);
	dst = mk(root, "dst", NULL, 0);

	assert_int_equal(src->ops->clone(src, 0, dst, 0, 0), 0);
	snprintf(p, sizeof(p), "%s/src", f->xfs);
	assert_true(all_shared(p));
	snprintf(p, sizeof(p), "%s/dst", f->xfs);
	assert_true(all_shared(p));

	/* Copy on write: the source changes, the clone does not. */
	assert_int_equal(src->ops->write(src, 4096, "CHANGED", 7, PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(dst->ops->read(dst, 0, back, MIB, &n, &eof), 0);
	assert_int_equal(n, MIB);
	assert_memory_equal(back, data, MIB);
	assert_int_equal(src->ops->read(src, 4096, back, 7, &n, &eof), 0);
	assert_memory_equal(back, "CHANGED", 7);

	/* Ranges: aligned works; unaligned offsets are -EINVAL. */
	part = mk(root, "part", NULL, 0);
	assert_int_equal(src->ops->clone(src, 64 * 1024, part, 0, 128 * 1024), 0);
	assert_int_equal(part->ops->getattr(part, &at), 0);
	assert_int_equal(at.size, 128 * 1024);
	assert_int_equal(part->ops->read(part, 0, back, 4096, &n, &eof), 0);
	assert_memory_equal(back, data + 64 * 1024, 4096);
	assert_int_equal(src->ops->clone(src, 100, part, 0, 4096), -EINVAL);
	assert_int_equal(src->ops->clone(src, 4096, part, 1000, 4096), -EINVAL);
	/* A length that ends at the source's EOF need not be block aligned. */
	tail = mk(root, "tail", NULL, 0);
	assert_int_equal(src->ops->write(src, MIB, "xyz", 3, PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(src->ops->clone(src, MIB - 4096, tail, 0, 4096 + 3), 0);
	assert_int_equal(tail->ops->getattr(tail, &at), 0);
	assert_int_equal(at.size, 4096 + 3);
	/* Not a regular file. */
	assert_int_equal(src->ops->clone(root, 0, dst, 0, 0), -EISDIR);

	pmem_obj_put(tail);
	pmem_obj_put(part);
	pmem_obj_put(src);
	pmem_obj_put(dst);
	pmem_obj_put(root);
	free(data);
	free(back);
}

static void test_clone_tmpfs_not_supported(void **state)
{
	struct fx *f = *state;
	struct pmem_obj *root, *src, *dst;
	uint8_t data[8192] = { 1 };

	FX_REQUIRE(f);
	assert_int_equal(pmem_posix_export_open(f->tmpfs, 1, &f->exp_tmpfs), 0);
	assert_int_equal(f->exp_tmpfs->ops->root(f->exp_tmpfs, &root), 0);
	src = mk(root, "src", data, sizeof(data));
	dst = mk(root, "dst", NULL, 0);
	assert_int_equal(src->ops->clone(src, 0, dst, 0, 0), -EOPNOTSUPP);
	assert_int_equal(src->ops->clone(src, 0, dst, 0, 4096), -EOPNOTSUPP);
	pmem_obj_put(src);
	pmem_obj_put(dst);
	pmem_obj_put(root);
}

/* exact: the filesystem reports every punched hole. tmpfs may keep a punched
 * range inside a large folio as zeroed data, which SEEK_HOLE is allowed to
 * call data (only the hole at EOF is guaranteed). */
static void space_on(const char *path, struct pmem_export **exp, bool exact)
{
	struct pmem_obj *root, *o, *e;
	uint8_t *data = malloc(MIB), *back = malloc(MIB);
	struct pmem_attr at;
	uint64_t pos;
	size_t n, i;
	bool eof;

	memset(data, 0x5a, MIB);
	assert_int_equal(pmem_posix_export_open(path, 1, exp), 0);
	assert_int_equal((*exp)->ops->root(*exp, &root), 0);
	o = mk(root, "f", data, MIB);

	/* Punch [256K, 512K): size stays, zeros there, a hole seekable. */
	assert_int_equal(o->ops->deallocate(o, 256 * 1024, 256 * 1024), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(at.size, MIB);
	assert_int_equal(o->ops->read(o, 0, back, MIB, &n, &eof), 0);
	for (i = 0; i < MIB; i++)
		assert_int_equal(back[i], (i >= 256 * 1024 && i < 512 * 1024) ? 0 : 0x5a);
	assert_int_equal(o->ops->seek(o, 0, PMEM_SEEK_HOLE, &pos), 0);
	if (exact || pos != MIB)
		assert_int_equal(pos, 256 * 1024);
	assert_int_equal(o->ops->seek(o, 256 * 1024, PMEM_SEEK_DATA, &pos), 0);
	if (exact || pos != 256 * 1024)
		assert_int_equal(pos, 512 * 1024);
	assert_int_equal(o->ops->seek(o, 600 * 1024, PMEM_SEEK_HOLE, &pos), 0);
	assert_int_equal(pos, MIB);   /* the implicit hole at EOF */
	assert_int_equal(o->ops->seek(o, 2 * MIB, PMEM_SEEK_DATA, &pos), -ENXIO);

	/* Allocate: size grows, blocks are there, the file reads as zeros. */
	e = mk(root, "empty", NULL, 0);
	assert_int_equal(e->ops->allocate(e, 0, 2 * MIB), 0);
	assert_int_equal(e->ops->getattr(e, &at), 0);
	assert_int_equal(at.size, 2 * MIB);
	assert_true(at.space_used >= 2 * MIB);
	assert_int_equal(e->ops->read(e, MIB, back, 4096, &n, &eof), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(back[0] | back[4095], 0);
	assert_int_equal(e->ops->allocate(e, 0, 0), -EINVAL);
	assert_int_equal(root->ops->allocate(root, 0, 4096), -EISDIR);

	pmem_obj_put(e);
	pmem_obj_put(o);
	pmem_obj_put(root);
	free(data);
	free(back);
}

static void test_allocate_punch_seek_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	space_on(f->xfs, &f->exp_xfs, true);
}

static void test_allocate_punch_seek_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	space_on(f->tmpfs, &f->exp_tmpfs, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clone_shares_extents_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_clone_tmpfs_not_supported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_allocate_punch_seek_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_allocate_punch_seek_tmpfs, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
