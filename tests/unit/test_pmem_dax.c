/*
 * tests/unit/test_pmem_dax.c: the DAX path of the POSIX backend.
 * Proves, where an FS-DAX filesystem is mounted (or named by
 * DAXNFS_DAX_DIR): files report attr.dax, mappings are MAP_SYNC, a DATA_SYNC
 * write through the mapping path is made durable by a CPU cache flush and
 * reads back. Without one it says so and skips (the VM test bed covers it).
 * Always: the CPU cache flush instruction is detected and runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pmem/posix_priv.h"
#include "tests/pmem/fixture.h"

/* A directory on a DAX-mounted filesystem, or NULL. */
static const char *find_dax_dir(char *buf, size_t cap)
{
	const char *env = getenv("DAXNFS_DAX_DIR");
	char dev[256], mnt[PATH_MAX], type[64], opts[1024];
	FILE *f;

	if (env && *env)
		return env;
	f = fopen("/proc/mounts", "re");
	if (!f)
		return NULL;
	while (fscanf(f, "%255s %4095s %63s %1023s %*d %*d", dev, mnt, type, opts) == 4) {
		if (strstr(opts, "dax") && strcmp(opts, "dax=never") != 0 &&
		    !strstr(opts, "dax=never")) {
			snprintf(buf, cap, "%s", mnt);
			fclose(f);
			return buf;
		}
	}
	fclose(f);
	return NULL;
}

static void test_cpu_cache_flush_detected(void **state)
{
	char line[256] = { 0 };
	const char *name = posix_flush_name();

	(void)state;
	printf("flush instruction: %s\n", name);
#if defined(__x86_64__)
	/* Every x86-64 CPU has clflush at least. */
	assert_string_not_equal(name, "none");
	assert_true(posix_flush_range(line, sizeof(line)));
	assert_true(posix_flush_range(line + 3, 1));
#else
	(void)line;
#endif
}

static void test_dax_write_flush_read(void **state)
{
	char buf[PATH_MAX], dir[PATH_MAX + 32];
	const char *mnt = find_dax_dir(buf, sizeof(buf));
	struct pmem_export *exp;
	struct pmem_obj *root, *o, *d;
	struct pmem_attr at;
	enum pmem_stable c;
	uint8_t w[8192], r[8192];
	size_t n;
	bool eof;
	void *m;

	(void)state;
	if (!mnt) {
		printf("SKIPPED: no FS-DAX device here (the VM test bed covers it)\n");
		skip();
	}
	assert_int_equal(pmem_posix_export_open(mnt, 1, &exp), 0);
	posix_export_set_io_path(exp, POSIX_IO_MAP);
	assert_int_equal(exp->ops->root(exp, &root), 0);
	snprintf(dir, sizeof(dir), "daxnfs-test.%d", (int)getpid());
	assert_int_equal(root->ops->mknode(root, &fx_root, dir, PMEM_TYPE_DIR, 0755, 0, 0, &d), 0);
	assert_int_equal(d->ops->create_file(d, &fx_root, "f", 0644, true, &o), 0);
	memset(w, 0x11, sizeof(w));
	assert_int_equal(o->ops->write(o, 0, w, sizeof(w), PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	if (!at.dax) {
		printf("SKIPPED: %s is mounted with dax but this file is not DAX\n", mnt);
		goto out;
	}
	/* Inside EOF, DATA_SYNC through a MAP_SYNC window: flushed, not fdatasync'ed. */
	memset(w, 0x22, 4096);
	assert_int_equal(o->ops->write(o, 0, w, 4096, PMEM_DATA_SYNC, &n, &c), 0);
	assert_int_equal(c, PMEM_DATA_SYNC);
	assert_int_equal(o->ops->read(o, 0, r, sizeof(r), &n, &eof), 0);
	assert_memory_equal(r, w, sizeof(w));
	assert_int_equal(o->ops->map(o, 0, 4096, true, &m), 0);
	assert_memory_equal(m, w, 4096);
	o->ops->unmap(o, m, 4096);
out:
	pmem_obj_put(o);
	assert_int_equal(d->ops->remove(d, &fx_root, "f"), 0);
	assert_int_equal(root->ops->remove(root, &fx_root, dir), 0);
	pmem_obj_put(d);
	pmem_obj_put(root);
	pmem_export_put(exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_cache_flush_detected),
		cmocka_unit_test(test_dax_write_flush_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
