/*
 * tests/unit/test_server_stateid.c: the stateid rules of RFC 8881 §8.2 as
 * server/nfs4_stateid.c applies them: special stateids (anonymous,
 * READ-bypass, current), seqid 0 = any, OLD_STATEID / BAD_STATEID for older
 * and newer seqids, another client's stateid, revoked and closed state, the
 * seqid wrap that skips 0, and unhashing on destroy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/nfs4_instance.h"
#include "server/nfs4_session.h"

/* The server the test's clients belong to: its epoch and limits are what
 * nfs4_stid_new reads. */
static struct nfs4_server test_srv = {
	.lease_seconds = 90,
	.boot_epoch = 0x5eed,
	.limits = { .max_clients = 16, .max_sessions_per_client = 4, .max_owners_per_client = 16,
		    .max_stateids_per_client = 1024, .max_delegations = 16 },
};

static struct nfs4_client *mk_client(void)
{
	struct nfs4_client *clp = calloc(1, sizeof(*clp));

	assert_non_null(clp);
	clp->srv = &test_srv;
	list_init(&clp->sessions);
	list_init(&clp->stids);
	list_init(&clp->openowners);
	list_init(&clp->lockowners);
	return clp;
}

static void test_special_stateids(void **state)
{
	struct nfs4_compound c;
	struct nfs4_stid *out = (void *)1;
	stateid4 anon, bypass, cur;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.srv = &test_srv;
	memset(&anon, 0, sizeof(anon));
	memset(&bypass, 0xff, sizeof(bypass));
	memset(&cur, 0, sizeof(cur));
	cur.seqid = 1;
	assert_int_equal(nfs4_stid_lookup(&c, &anon, NFS4_STID_OPEN, true, &out), NFS4_OK);
	assert_null(out);
	assert_int_equal(nfs4_stid_lookup(&c, &bypass, NFS4_STID_OPEN, true, &out), NFS4_OK);
	assert_int_equal(nfs4_stid_lookup(&c, &anon, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_BAD_STATEID);
	/* the current stateid with none set */
	assert_int_equal(nfs4_stid_lookup(&c, &cur, NFS4_STID_OPEN, true, &out),
			 NFS4ERR_BAD_STATEID);
	/* all-ones other with another seqid is not special */
	bypass.seqid = 5;
	assert_int_equal(nfs4_stid_lookup(&c, &bypass, NFS4_STID_OPEN, true, &out),
			 NFS4ERR_BAD_STATEID);
}

static void test_seqid_rules_and_owner(void **state)
{
	struct nfs4_client *a = mk_client(), *b = mk_client();
	struct nfs4_compound c;
	struct nfs4_stid *st, *out;
	stateid4 sid, cur;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.srv = &test_srv;
	c.client = a;
	st = nfs4_stid_new(a, NFS4_STID_OPEN, sizeof(*st) + 16, NULL);
	assert_non_null(st);
	assert_int_equal(st->sid.seqid, 1);
	nfs4_stid_bump(st);
	nfs4_stid_bump(st);   /* now 3 */
	sid = st->sid;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out), NFS4_OK);
	assert_ptr_equal(out, st);
	sid.seqid = 0;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out), NFS4_OK);
	sid.seqid = 2;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_OLD_STATEID);
	sid.seqid = 4;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_BAD_STATEID);
	sid.seqid = 3;
	/* wrong type, wrong client */
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_LOCK, false, &out),
			 NFS4ERR_BAD_STATEID);
	c.client = b;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_BAD_STATEID);
	c.client = a;
	/* the current stateid stands for the one set last */
	nfs4_set_current_stateid(&c, &st->sid);
	memset(&cur, 0, sizeof(cur));
	cur.seqid = 1;
	assert_int_equal(nfs4_stid_lookup(&c, &cur, NFS4_STID_OPEN, false, &out), NFS4_OK);
	assert_ptr_equal(out, st);
	/* revoked and closed */
	st->state = NFS4_STID_REVOKED;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_ADMIN_REVOKED);
	st->state = NFS4_STID_CLOSED;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_BAD_STATEID);
	/* an expired client */
	st->state = NFS4_STID_ACTIVE;
	a->expired = true;
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_EXPIRED);
	a->expired = false;
	/* destroyed: unknown */
	nfs4_stid_destroy(st);
	assert_true(list_empty(&a->stids));
	assert_int_equal(nfs4_stid_lookup(&c, &sid, NFS4_STID_OPEN, false, &out),
			 NFS4ERR_BAD_STATEID);
	free(a);
	free(b);
}

static void test_bump_skips_zero_and_others_are_unique(void **state)
{
	struct nfs4_client *a = mk_client();
	struct nfs4_stid *s1, *s2;

	(void)state;
	s1 = nfs4_stid_new(a, NFS4_STID_DELEG, 0, NULL);
	s2 = nfs4_stid_new(a, NFS4_STID_DELEG, 0, NULL);
	assert_memory_not_equal(s1->sid.other, s2->sid.other, 12);
	s1->sid.seqid = 0xffffffffu;
	nfs4_stid_bump(s1);
	assert_int_equal(s1->sid.seqid, 1);
	s1->state = NFS4_STID_REVOKED;
	{
		struct nfs4_compound c;
		struct nfs4_stid *out;

		memset(&c, 0, sizeof(c));
		c.srv = &test_srv;
		c.client = a;
		assert_int_equal(nfs4_stid_lookup(&c, &s1->sid, NFS4_STID_DELEG, false, &out),
				 NFS4ERR_DELEG_REVOKED);
	}
	nfs4_stid_destroy(s1);
	nfs4_stid_destroy(s2);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_special_stateids),
		cmocka_unit_test(test_seqid_rules_and_owner),
		cmocka_unit_test(test_bump_skips_zero_and_others_are_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
