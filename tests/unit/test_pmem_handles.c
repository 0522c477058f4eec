/*
 * tests/unit/test_pmem_handles.c: export roots and persistent handles of the
 * POSIX backend, on XFS (loop image) and tmpfs.
 * Proves: handles survive a restart of the backend; one inode is one object;
 * a removed file's handle is -ESTALE; a handle from another filesystem and
 * garbage bytes are refused; fsid/fileid are stable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/pmem/fixture.h"

static struct pmem_obj *mkfile(struct pmem_obj *root, const char *name, const char *data)
{
	struct pmem_obj *o = NULL;
	enum pmem_stable c;
	size_t n;

	assert_int_equal(root->ops->create_file(root, &fx_root, name, 0644, true, &o), 0);
	assert_int_equal(o->ops->write(o, 0, data, strlen(data), PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(n, strlen(data));
	return o;
}

static void handles_on(const char *path)
{
	struct pmem_export *exp = NULL;
	struct pmem_obj *root, *o, *o2, *again;
	struct pmem_attr a1, a2;
	uint8_t h[PMEM_HANDLE_MAX], hdel[PMEM_HANDLE_MAX];
	size_t hl = sizeof(h), hdl = sizeof(hdel), n;
	char buf[32];
	bool eof;

	assert_int_equal(pmem_posix_export_open(path, 7, &exp), 0);
	assert_int_equal(exp->ops->root(exp, &root), 0);
	assert_int_equal(root->type, PMEM_TYPE_DIR);
	o = mkfile(root, "keep", "persistent");
	o2 = mkfile(root, "gone", "deleted");
	assert_int_equal(o->ops->to_handle(o, h, &hl), 0);
	assert_int_equal(o2->ops->to_handle(o2, hdel, &hdl), 0);
	assert_true(hl > 4 && hl <= PMEM_HANDLE_MAX);
	assert_int_equal(o->ops->getattr(o, &a1), 0);

	/* Same inode reached twice is the same object. */
	assert_int_equal(root->ops->lookup(root, &fx_root, "keep", &again), 0);
	assert_ptr_equal(again, o);
	pmem_obj_put(again);
	assert_int_equal(exp->ops->from_handle(exp, h, hl, &again), 0);
	assert_ptr_equal(again, o);
	pmem_obj_put(again);

	/* Removed while the server still holds it (an NFS open of an unlinked
	 * file): still reachable by handle; once released, stale. */
	assert_int_equal(root->ops->remove(root, &fx_root, "gone"), 0);
	assert_int_equal(exp->ops->from_handle(exp, hdel, hdl, &again), 0);
	assert_ptr_equal(again, o2);
	pmem_obj_put(again);
	pmem_obj_put(o2);
	assert_int_equal(exp->ops->from_handle(exp, hdel, hdl, &again), -ESTALE);
	pmem_obj_put(o);
	pmem_obj_put(root);
	pmem_export_put(exp);

	/* "Restart": a new export instance decodes the saved bytes. */
	exp = NULL;
	assert_int_equal(pmem_posix_export_open(path, 7, &exp), 0);
	assert_int_equal(exp->ops->from_handle(exp, h, hl, &o), 0);
	assert_int_equal(o->ops->getattr(o, &a2), 0);
	assert_int_equal(a2.fileid, a1.fileid);
	assert_int_equal(a2.fsid_major, a1.fsid_major);
	assert_int_equal(a2.fsid_minor, a1.fsid_minor);
	assert_int_equal(o->ops->read(o, 0, buf, sizeof(buf), &n, &eof), 0);
	assert_int_equal(n, 10);
	assert_true(eof);
	assert_memory_equal(buf, "persistent", 10);
	pmem_obj_put(o);
	assert_int_equal(exp->ops->from_handle(exp, hdel, hdl, &o), -ESTALE);

	/* Garbage is no handle. */
	assert_int_equal(exp->ops->from_handle(exp, "ab", 2, &o), -EBADF);
	assert_int_equal(exp->ops->from_handle(exp, h, PMEM_HANDLE_MAX + 1, &o), -EBADF);
	pmem_export_put(exp);
}

static void test_handles_survive_restart_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	handles_on(f->xfs);
}

static void test_handles_survive_restart_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	handles_on(f->tmpfs);
}

static void test_handle_from_other_fs_refused(void **state)
{
	struct fx *f = *state;
	struct pmem_obj *rx, *rt, *ox, *ot, *got = NULL;
	uint8_t hx[PMEM_HANDLE_MAX], ht[PMEM_HANDLE_MAX];
	size_t hxl = sizeof(hx), htl = sizeof(ht);
	int rc;

	FX_REQUIRE(f);
	assert_int_equal(pmem_posix_export_open(f->xfs, 1, &f->exp_xfs), 0);
	assert_int_equal(pmem_posix_export_open(f->tmpfs, 2, &f->exp_tmpfs), 0);
	assert_int_equal(f->exp_xfs->ops->root(f->exp_xfs, &rx), 0);
	assert_int_equal(f->exp_tmpfs->ops->root(f->exp_tmpfs, &rt), 0);
	assert_int_equal(rx->ops->create_file(rx, &fx_root, "x", 0644, true, &ox), 0);
	assert_int_equal(rt->ops->create_file(rt, &fx_root, "t", 0644, true, &ot), 0);
	assert_int_equal(ox->ops->to_handle(ox, hx, &hxl), 0);
	assert_int_equal(ot->ops->to_handle(ot, ht, &htl), 0);

	rc = f->exp_xfs->ops->from_handle(f->exp_xfs, ht, htl, &got);
	assert_true(rc == -ESTALE || rc == -EBADF);
	assert_null(got);
	rc = f->exp_tmpfs->ops->from_handle(f->exp_tmpfs, hx, hxl, &got);
	assert_true(rc == -ESTALE || rc == -EBADF);
	assert_null(got);

	pmem_obj_put(ox);
	pmem_obj_put(ot);
	pmem_obj_put(rx);
	pmem_obj_put(rt);
}

static void test_export_root_and_subdir_export(void **state)
{
	struct fx *f = *state;
	struct pmem_export *sub = NULL;
	struct pmem_obj *root, *d, *p, *o;
	uint8_t h[PMEM_HANDLE_MAX];
	size_t hl = sizeof(h);
	struct pmem_fsstat st;
	char path[PATH_MAX + 32];

	FX_REQUIRE(f);
	assert_int_equal(pmem_posix_export_open(f->xfs, 1, &f->exp_xfs), 0);
	assert_int_equal(f->exp_xfs->ops->fsstat(f->exp_xfs, &st), 0);
	assert_true(st.bytes_total > 200ull << 20);
	assert_true(st.block_size >= 512);
	assert_int_equal(f->exp_xfs->ops->root(f->exp_xfs, &root), 0);
	assert_int_equal(root->ops->lookup_parent(root, &fx_root, &p), -ENOENT);
	assert_int_equal(root->ops->mknode(root, &fx_root, "sub", PMEM_TYPE_DIR, 0755, 0, 0, &d), 0);
	assert_int_equal(root->ops->mknode(root, &fx_root, "outside", PMEM_TYPE_DIR, 0755, 0, 0, &o), 0);
	assert_int_equal(d->ops->lookup_parent(d, &fx_root, &p), 0);
	assert_ptr_equal(p, root);
	pmem_obj_put(p);
	assert_int_equal(o->ops->to_handle(o, h, &hl), 0);

	/* An export of a subdirectory refuses a directory outside it. */
	snprintf(path, sizeof(path), "%s/sub", f->xfs);
	assert_int_equal(pmem_posix_export_open(path, 3, &sub), 0);
	assert_int_equal(sub->ops->from_handle(sub, h, hl, &p), -ESTALE);
	pmem_export_put(sub);
	assert_int_equal(pmem_posix_export_open("/nonexistent/dir", 4, &sub), -ENOENT);
	pmem_obj_put(o);
	pmem_obj_put(d);
	pmem_obj_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handles_survive_restart_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handles_survive_restart_tmpfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handle_from_other_fs_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_export_root_and_subdir_export, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
