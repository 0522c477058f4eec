/*
 * tests/unit/test_server_share.c: share reservations of server/nfs4_share.c
 * (RFC 8881 §9.7): access vs deny in both directions, an open never
 * conflicting with itself on upgrade, and deny checks for special stateids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/nfs4_file.h"

static void file_init(struct nfs4_file *fp)
{
	*fp = (struct nfs4_file){ 0 };
	list_init(&fp->shares);
	list_init(&fp->locks);
}

static void test_deny_blocks_access(void **st)
{
	struct nfs4_file f;
	struct nfs4_share a;

	(void)st;
	file_init(&f);
	nfs4_share_add(&f, &a, NFS4_SHARE_READ, NFS4_SHARE_WRITE);
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_WRITE, 0, NULL));
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_BOTH, 0, NULL));
	assert_false(nfs4_share_conflicts(&f, NFS4_SHARE_READ, 0, NULL));
	/* a new deny of what the existing open has */
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_READ, NFS4_SHARE_READ, NULL));
	assert_false(nfs4_share_conflicts(&f, NFS4_SHARE_READ, NFS4_SHARE_WRITE, NULL));
	assert_true(nfs4_share_denied(&f, NFS4_SHARE_WRITE));
	assert_false(nfs4_share_denied(&f, NFS4_SHARE_READ));
	nfs4_share_del(&a);
	assert_false(nfs4_share_conflicts(&f, NFS4_SHARE_BOTH, NFS4_SHARE_BOTH, NULL));
}

static void test_self_is_excluded(void **st)
{
	struct nfs4_file f;
	struct nfs4_share a, b;

	(void)st;
	file_init(&f);
	nfs4_share_add(&f, &a, NFS4_SHARE_READ, NFS4_SHARE_BOTH);
	/* the same open upgrading itself */
	assert_false(nfs4_share_conflicts(&f, NFS4_SHARE_BOTH, NFS4_SHARE_BOTH, &a));
	/* anyone else is refused */
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_READ, 0, NULL));
	nfs4_share_del(&a);
	nfs4_share_add(&f, &a, NFS4_SHARE_READ, 0);
	nfs4_share_add(&f, &b, NFS4_SHARE_WRITE, 0);
	/* a downgrade-then-deny of a by itself still sees b's write */
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_READ, NFS4_SHARE_WRITE, &a));
	/* b may deny write (only itself writes) but not read (a reads) */
	assert_false(nfs4_share_conflicts(&f, NFS4_SHARE_WRITE, NFS4_SHARE_WRITE, &b));
	assert_true(nfs4_share_conflicts(&f, NFS4_SHARE_WRITE, NFS4_SHARE_READ, &b));
	nfs4_share_del(&a);
	nfs4_share_del(&b);
	assert_true(list_empty(&f.shares));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_blocks_access),
		cmocka_unit_test(test_self_is_excluded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
