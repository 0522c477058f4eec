/*
 * tests/proto/test_grace_reclaim.c: how long the grace period after a restart
 * lasts, against a real daxnfsd killed with SIGKILL and started again on the
 * same state directory (RFC 8881 §8.4.2, §18.51 RECLAIM_COMPLETE):
 *  - a client that held state before the restart and reclaims late in grace
 *    (15 s into 20 s) is served, even when the other clients of the previous
 *    run came back at once and sent RECLAIM_COMPLETE, and even when those
 *    clients then let their leases run out;
 *  - grace ends early only when every client of the previous run has sent
 *    RECLAIM_COMPLETE (a new client's RECLAIM_COMPLETE does not count);
 *  - reclaims that keep arriving at the end of grace extend it, but never
 *    past Grace_Period + Lease_Lifetime; grace that saw no late reclaim ends
 *    on time;
 *  - a client whose record is on disk twice (under an older file name and
 *    the current one) is one client: its RECLAIM_COMPLETE ends grace.
 * Times are measured from the moment the restarted daemon accepts
 * connections; the daemon's own clock started a little earlier, and it
 * checks its timers once a second, so the windows allow about 2 s of slack.
 */
#include "tests/proto/test_open_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define NFILES 24

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until t0 + at seconds, renewing the leases of the clients given
 * (NULL-terminated) every 2 s, as a live client does. */
static void wait_until(double t0, double at, struct nfs4_cl **renew)
{
	double next = now_s();

	while (now_s() < t0 + at) {
		if (now_s() >= next) {
			for (struct nfs4_cl **c = renew; c && *c; c++)
				assert_int_equal(nfs4_cl_sequence(*c), NFS4_OK);
			next = now_s() + 2;
		}
		usleep(100 * 1000);
	}
}

/* The same client instance as before the restart: same owner, same verifier. */
static struct nfs4_cl *known_client(struct proto_server *s, const char *owner)
{
	struct nfs4_cl *cl = NULL;

	assert_int_equal(nfs4_cl_connect(&cl, s->host, s->port), 0);
	nfs4_cl_set_owner(cl, owner, 7);
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	return cl;
}

/* Before the restart: owner confirms, finishes its (empty) reclaim, opens
 * nfiles files g<i> (their handles into fhs) and goes away without a word. */
static void holder_before_restart(struct proto_server *s, const char *owner, unsigned nfiles,
				  nfs_fh4 *fhs)
{
	struct nfs4_cl *cl = known_client(s, owner);
	struct ot_open_res r;
	char name[32];

	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	for (unsigned i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "g%s%u", owner, i);
		assert_int_equal(ot_open_simple(cl, name, true, OPEN4_SHARE_ACCESS_BOTH,
						OPEN4_SHARE_DENY_NONE, &r),
				 NFS4_OK);
		fhs[i] = r.fh;
	}
	nfs4_cl_close(cl, false);
}

static nfsstat4 reclaim_open(struct nfs4_cl *cl, const nfs_fh4 *fh)
{
	struct ot_open_args oa = { .access = OPEN4_SHARE_ACCESS_BOTH,
				   .deny = OPEN4_SHARE_DENY_NONE,
				   .createmode = OT_NOCREATE, .claim = CLAIM_PREVIOUS,
				   .fh_in = fh };
	struct ot_open_res r;
	nfsstat4 st = ot_open(cl, NULL, &oa, &r);

	ot_fh_free(&r.fh);
	return st;
}

/* A new client's OPEN (create) of name: NFS4ERR_GRACE while grace lasts. */
static nfsstat4 fresh_open(struct nfs4_cl *cl, const char *name)
{
	struct ot_open_res r;
	nfsstat4 st = ot_open_simple(cl, name, true, OPEN4_SHARE_ACCESS_READ,
				     OPEN4_SHARE_DENY_NONE, &r);

	if (st == NFS4_OK)
		assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	return st;
}

static void free_fhs(nfs_fh4 *fhs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ot_fh_free(&fhs[i]);
}

static void restart(struct proto_server *s, double *t0)
{
	assert_int_equal(proto_server_kill(s), 0);
	assert_int_equal(proto_server_restart(s), 0);
	*t0 = now_s();
}

/*
 * Grace 20 s, lease 10 s. Three clients had state; after the restart two of
 * them come back at once and send RECLAIM_COMPLETE (one keeps renewing, one
 * goes silent and loses its lease at about 10 s); the third reclaims at 15 s.
 */
static void test_reclaim_at_15s_of_20s_grace(void **state)
{
	struct proto_server srv;
	struct proto_server_opts o = { .lease_lifetime = 10, .grace_period = 20 };
	struct nfs4_cl *early, *silent, *late, *fresh;
	struct nfs4_cl *renew[3] = { NULL, NULL, NULL };
	nfs_fh4 fhs[2] = { { 0 } };
	nfs_fh4 unused[1] = { { 0 } };
	double t0;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "grace_late", &o), 0);
	holder_before_restart(&srv, "late", 2, fhs);
	holder_before_restart(&srv, "early", 1, unused);
	holder_before_restart(&srv, "silent", 0, NULL);
	restart(&srv, &t0);

	early = known_client(&srv, "early");
	silent = known_client(&srv, "silent");
	assert_int_equal(nfs4_cl_reclaim_complete(early), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(silent), NFS4_OK);
	fresh = ot_client(&srv, "fresh");   /* never seen before: nothing to reclaim */
	assert_int_equal(fresh_open(fresh, "new0"), NFS4ERR_GRACE);

	/* the silent client's lease (10 s) runs out meanwhile (whether the
	 * server then drops it or keeps it as a courtesy does not matter) */
	renew[0] = early;
	renew[1] = fresh;
	wait_until(t0, 14, renew);
	assert_int_equal(fresh_open(fresh, "new1"), NFS4ERR_GRACE);
	wait_until(t0, 15, renew);

	late = known_client(&srv, "late");
	assert_int_equal(reclaim_open(late, &fhs[0]), NFS4_OK);
	assert_int_equal(reclaim_open(late, &fhs[1]), NFS4_OK);
	assert_true(now_s() - t0 < 18);
	/* the last client of the previous run is done: grace ends at once */
	assert_int_equal(nfs4_cl_reclaim_complete(late), NFS4_OK);
	assert_int_equal(fresh_open(fresh, "new2"), NFS4_OK);
	assert_int_equal(reclaim_open(late, &fhs[0]), NFS4ERR_NO_GRACE);

	free_fhs(fhs, 2);
	free_fhs(unused, 1);
	nfs4_cl_close(silent, false);
	nfs4_cl_close(late, true);
	nfs4_cl_close(early, true);
	nfs4_cl_close(fresh, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

/* Grace ends before its time only when the last client of the previous run
 * has sent RECLAIM_COMPLETE; a new client's does not count. */
static void test_grace_ends_early_only_when_all_known_done(void **state)
{
	struct proto_server srv;
	struct proto_server_opts o = { .lease_lifetime = 10, .grace_period = 30 };
	static const char *const owners[3] = { "k1", "k2", "k3" };
	struct nfs4_cl *known[3], *fresh;
	double t0;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "grace_early", &o), 0);
	for (unsigned i = 0; i < 3; i++)
		holder_before_restart(&srv, owners[i], 0, NULL);
	restart(&srv, &t0);

	fresh = ot_client(&srv, "fresh");
	for (unsigned i = 0; i < 3; i++)
		known[i] = known_client(&srv, owners[i]);
	assert_int_equal(fresh_open(fresh, "n0"), NFS4ERR_GRACE);
	assert_int_equal(nfs4_cl_reclaim_complete(known[0]), NFS4_OK);
	assert_int_equal(fresh_open(fresh, "n1"), NFS4ERR_GRACE);
	assert_int_equal(nfs4_cl_reclaim_complete(known[1]), NFS4_OK);
	assert_int_equal(fresh_open(fresh, "n2"), NFS4ERR_GRACE);
	/* a known client that has not finished may still reclaim */
	assert_int_equal(nfs4_cl_reclaim_complete(known[2]), NFS4_OK);
	assert_int_equal(fresh_open(fresh, "n3"), NFS4_OK);
	assert_true(now_s() - t0 < 10);   /* long before the 30 s were up */

	for (unsigned i = 0; i < 3; i++)
		nfs4_cl_close(known[i], true);
	nfs4_cl_close(fresh, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

/*
 * Grace 10 s, lease 10 s; a client of the previous run never comes back, so
 * only time ends grace. Another one reclaims a file every second from 6 s
 * on: grace goes on past 10 s while reclaims arrive, and ends at the bound,
 * 10 + 10 = 20 s, although they keep coming.
 */
static void test_grace_extended_by_reclaims_up_to_bound(void **state)
{
	struct proto_server srv;
	struct proto_server_opts o = { .lease_lifetime = 10, .grace_period = 10 };
	struct nfs4_cl *busy, *fresh;
	struct nfs4_cl *renew[2] = { NULL, NULL };
	nfs_fh4 fhs[NFILES] = { { 0 } };
	double t0, t_end = 0;
	unsigned i, served_after_10 = 0;
	nfsstat4 st;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "grace_bound", &o), 0);
	holder_before_restart(&srv, "busy", NFILES, fhs);
	holder_before_restart(&srv, "gone", 0, NULL);
	restart(&srv, &t0);

	busy = known_client(&srv, "busy");
	fresh = ot_client(&srv, "fresh");
	renew[0] = fresh;
	wait_until(t0, 6, renew);
	for (i = 0; i < NFILES; i++) {
		st = reclaim_open(busy, &fhs[i]);
		if (st != NFS4_OK)
			break;
		if (now_s() - t0 > 11)
			served_after_10++;
		/* new state is still refused while reclaims are served */
		assert_int_equal(fresh_open(fresh, "x"), NFS4ERR_GRACE);
		wait_until(t0, 7 + i, renew);
	}
	t_end = now_s() - t0;
	assert_int_equal(st, NFS4ERR_NO_GRACE);
	/* extended: reclaims well past the 10 s */
	assert_true(served_after_10 >= 5);
	/* bounded: over by 20 s (+ the tick and the start-up slack) */
	assert_true(t_end <= 22.5);
	assert_true(t_end >= 18);
	assert_int_equal(fresh_open(fresh, "x"), NFS4_OK);

	free_fhs(fhs, NFILES);
	nfs4_cl_close(busy, true);
	nfs4_cl_close(fresh, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

/* The same, but the reclaims stop at 6 s: grace ends at its time (10 s). */
static void test_grace_not_extended_without_late_reclaims(void **state)
{
	struct proto_server srv;
	struct proto_server_opts o = { .lease_lifetime = 10, .grace_period = 10 };
	struct nfs4_cl *busy, *fresh;
	struct nfs4_cl *renew[3] = { NULL, NULL, NULL };
	nfs_fh4 fhs[2] = { { 0 } };
	double t0, t;
	nfsstat4 st;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "grace_ontime", &o), 0);
	holder_before_restart(&srv, "busy", 2, fhs);
	holder_before_restart(&srv, "gone", 0, NULL);
	restart(&srv, &t0);

	busy = known_client(&srv, "busy");
	fresh = ot_client(&srv, "fresh");
	renew[0] = fresh;
	renew[1] = busy;
	wait_until(t0, 6, renew);
	assert_int_equal(reclaim_open(busy, &fhs[0]), NFS4_OK);
	for (;;) {
		st = fresh_open(fresh, "y");
		t = now_s() - t0;
		if (st != NFS4ERR_GRACE || t > 25)
			break;
		wait_until(t0, t + 0.5, renew);
	}
	assert_int_equal(st, NFS4_OK);
	assert_true(t >= 9);
	assert_true(t <= 12.5);
	assert_int_equal(reclaim_open(busy, &fhs[1]), NFS4ERR_NO_GRACE);

	free_fhs(fhs, 2);
	nfs4_cl_close(busy, true);
	nfs4_cl_close(fresh, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

/* Copies the only record in the state directory to a second name; returns
 * how many records there are afterwards (or -1). */
static int duplicate_record(const struct proto_server *s)
{
	char dir[PATH_MAX + 16], from[PATH_MAX + 300], to[PATH_MAX + 300], buf[2048];
	struct dirent *e;
	int n = 0, in = -1, out = -1, rc = -1;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/clients", s->state_dir);
	d = opendir(dir);
	if (!d)
		return -1;
	from[0] = '\0';
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
			n++;
		}
	closedir(d);
	if (n != 1)
		return -1;
	snprintf(to, sizeof(to), "%s/0123456789abcdef", dir);   /* an FNV-style name */
	in = open(from, O_RDONLY);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (in < 0 || out < 0)
		goto out;
	len = read(in, buf, sizeof(buf));
	if (len <= 0 || write(out, buf, (size_t)len) != len)
		goto out;
	rc = 2;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static void test_record_on_disk_twice_is_one_client(void **state)
{
	struct proto_server srv;
	struct proto_server_opts o = { .lease_lifetime = 10, .grace_period = 30 };
	struct nfs4_cl *twice, *fresh;
	double t0;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "grace_twice", &o), 0);
	holder_before_restart(&srv, "twice", 0, NULL);
	assert_int_equal(proto_server_kill(&srv), 0);
	assert_int_equal(duplicate_record(&srv), 2);
	assert_int_equal(proto_server_restart(&srv), 0);
	t0 = now_s();

	fresh = ot_client(&srv, "fresh");
	twice = known_client(&srv, "twice");
	assert_int_equal(fresh_open(fresh, "z0"), NFS4ERR_GRACE);
	assert_int_equal(nfs4_cl_reclaim_complete(twice), NFS4_OK);
	assert_int_equal(fresh_open(fresh, "z1"), NFS4_OK);
	assert_true(now_s() - t0 < 10);

	nfs4_cl_close(twice, true);
	nfs4_cl_close(fresh, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_at_15s_of_20s_grace),
		cmocka_unit_test(test_grace_ends_early_only_when_all_known_done),
		cmocka_unit_test(test_grace_extended_by_reclaims_up_to_bound),
		cmocka_unit_test(test_grace_not_extended_without_late_reclaims),
		cmocka_unit_test(test_record_on_disk_twice_is_one_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
