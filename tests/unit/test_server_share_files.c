/*
 * tests/unit/test_server_share_files.c: the per-file state table of
 * server/nfs4_file.c — one record per backend object, a reference on the
 * object while the record lives, released with the last user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/nfs4_file.h"

static int released;

static void fake_release(struct pmem_obj *o)
{
	(void)o;
	released++;
}

static const struct pmem_obj_ops fake_ops = { .release = fake_release };

static void obj_init(struct pmem_obj *o)
{
	*o = (struct pmem_obj){ .ops = &fake_ops, .type = PMEM_TYPE_REG };
	atomic_init(&o->refs, 1);
}

static void test_one_record_per_object(void **st)
{
	static struct nfs4_file_table files;
	struct pmem_obj a, b;
	struct nfs4_file *fa, *fa2, *fb;

	(void)st;
	released = 0;
	obj_init(&a);
	obj_init(&b);
	assert_null(nfs4_file_find(&files, &a));
	fa = nfs4_file_get(&files, &a);
	assert_non_null(fa);
	assert_int_equal(atomic_load(&a.refs), 2);   /* the record holds one */
	fa2 = nfs4_file_get(&files, &a);
	assert_ptr_equal(fa, fa2);
	assert_ptr_equal(nfs4_file_find(&files, &a), fa);
	fb = nfs4_file_get(&files, &b);
	assert_ptr_not_equal(fa, fb);
	assert_int_equal(nfs4_file_count(&files), 2);
	assert_true(list_empty(&fa->shares));
	assert_true(list_empty(&fa->locks));
	/* three references on fa: get, get, find */
	nfs4_file_put(fa);
	nfs4_file_put(fa2);
	assert_int_equal(nfs4_file_count(&files), 2);
	assert_int_equal(atomic_load(&a.refs), 2);
	nfs4_file_put(fa);
	assert_int_equal(nfs4_file_count(&files), 1);
	assert_int_equal(atomic_load(&a.refs), 1);   /* the record's reference is gone */
	assert_null(nfs4_file_find(&files, &a));
	nfs4_file_put(fb);
	assert_int_equal(nfs4_file_count(&files), 0);
	assert_int_equal(released, 0);              /* our own references remain */
	pmem_obj_put(&a);
	pmem_obj_put(&b);
	assert_int_equal(released, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_record_per_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
