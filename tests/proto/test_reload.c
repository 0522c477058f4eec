/*
 * tests/proto/test_reload.c: SIGHUP reloads the configuration while a
 * client works (issue 18, "Reload"):
 *  - exports A (/a), C (/c, read-write) and D (/d) at start; a client holds
 *    an open file in A, and handles in C and D;
 *  - the configuration is rewritten (A the same, B added at /b, C made
 *    read-only, D removed, LOG Level debug) and daxnfsd gets SIGHUP: the
 *    client goes on writing and reading its open file in A with the same
 *    session and stateid, reaches B, gets NFS4ERR_ROFS writing in C and
 *    NFS4ERR_STALE for D's handle; the log says what changed;
 *  - a configuration with an error (FILE:LINE in the log), one whose new
 *    export's Path does not exist, and one that gives A another directory,
 *    are refused whole: B is still there, D still stale, A still written;
 *  - D brought back (its Path spelled another way): its old handle works;
 *  - 20 reloads in a row (B removed and added again each time) while
 *    another client writes and reads a file in A on its own thread as fast
 *    as it can: not one of its operations fails.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/test_ns_util.h"

static char dir[PATH_MAX];
static struct proto_server srv;

/* Appends to out (cap bytes) the EXPORT block of export id: dir/sub at
 * pseudo /sub with access. */
static void add_export(char *out, size_t cap, unsigned id, const char *sub, const char *access)
{
	size_t n = strlen(out);

	snprintf(out + n, cap - n, "EXPORT { Export_Id = %u; Path = \"%s/%s\"; Pseudo = /%s; "
				   "Access_Type = %s; Squash = none; }\n", id, dir, sub, sub, access);
}

/* Removes the scratch directory. */
static void remove_dir(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The running config up to its first EXPORT block, with Level replaced,
 * then tail; written over the config file. */
static void rewrite_conf(const char *level, const char *tail)
{
	static char text[65536];
	char *p, *lv;
	FILE *f = fopen(srv.conf_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, "EXPORT {");
	assert_non_null(p);
	*p = '\0';
	lv = strstr(text, "Level = ");
	assert_non_null(lv);
	f = fopen(srv.conf_path, "w");
	assert_non_null(f);
	fprintf(f, "%.*sLevel = %s;%s%s", (int)(lv - text), text, level, strchr(lv, ';') + 1, tail);
	assert_int_equal(fclose(f), 0);
}

/* SIGHUP, then waits for the n-th log line containing what. */
static void hup_and_wait(const char *what, long n)
{
	int64_t end = proto_now_ms() + 30000;

	assert_int_equal(kill(srv.pid, SIGHUP), 0);
	while (proto_log_count(srv.log_path, 0, what, 100000) < n && proto_now_ms() < end)
		proto_sleep_ms(50);
	assert_int_equal(proto_log_count(srv.log_path, 0, what, 100000), n);
}

static nfsstat4 write_at(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			 uint64_t off, const char *data)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add_write(&cp, sid, off, data, (uint32_t)strlen(data), FILE_SYNC4);
	st = ns_send(&cp);
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 read_at(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			uint64_t off, uint32_t len, char *out)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ns_putfh(&cp, fh);
	nfs4_cl_add_read(&cp, sid, off, len);
	st = ns_send(&cp);
	if (st == NFS4_OK) {
		READ4resok *r = &nfs4_cl_res(&cp, OP_READ)->u.opread.u.resok4;

		memcpy(out, r->data.val, r->data.len);
		out[r->data.len] = '\0';
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static void check_after_reload(struct nfs4_cl *cl, const nfs_fh4 *fa, const stateid4 *sa,
			       const nfs_fh4 *fc, const nfs_fh4 *fd, uint64_t off, const char *data)
{
	stateid4 anon, sb;
	nfs_fh4 fb = { 0 };
	char back[64];

	memset(&anon, 0, sizeof(anon));
	/* A: the open file, its session and stateid go on */
	assert_int_equal(write_at(cl, fa, sa, off, data), NFS4_OK);
	assert_int_equal(read_at(cl, fa, sa, off, (uint32_t)strlen(data), back), NFS4_OK);
	assert_string_equal(back, data);
	/* B is there */
	assert_int_equal(nfs4_cl_open_file(cl, "b/new", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sb, &fb), NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(cl, &fb, &sb), NFS4_OK);
	free(fb.val);
	/* C is read-only now, and still readable */
	assert_int_equal(write_at(cl, fc, &anon, 0, "no"), NFS4ERR_ROFS);
	assert_int_equal(read_at(cl, fc, &anon, 0, 6, back), NFS4_OK);
	assert_string_equal(back, "c data");
	/* D is gone */
	assert_int_equal(ns_putfh_getattr(cl, fd), NFS4ERR_STALE);
}

struct hammer {
	struct nfs4_cl *cl;
	nfs_fh4 fh;
	stateid4 sid;
	atomic_bool stop;
	unsigned ops, failures;
	nfsstat4 first_failure;
};

/* Writes and reads back 8 bytes again and again; no assert (a thread). */
static void *hammer_loop(void *arg)
{
	struct hammer *h = arg;
	struct nfs4_cl_compound cp;
	char data[16];

	while (!atomic_load(&h->stop)) {
		nfsstat4 st;

		snprintf(data, sizeof(data), "%08u", h->ops % 100000000u);
		nfs4_cl_compound_init(&cp, h->cl);
		ns_putfh(&cp, &h->fh);
		nfs4_cl_add_write(&cp, &h->sid, 0, data, 8, UNSTABLE4);
		nfs4_cl_add_read(&cp, &h->sid, 0, 8);
		st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
		if (st == NFS4_OK &&
		    memcmp(nfs4_cl_res(&cp, OP_READ)->u.opread.u.resok4.data.val, data, 8) != 0)
			st = NFS4ERR_IO;   /* read back something else */
		nfs4_cl_compound_free(&cp);
		h->ops++;
		if (st != NFS4_OK && h->failures++ == 0)
			h->first_failure = st;
	}
	return NULL;
}

static void test_reloads_under_load(void **state)
{
	static const char *const subs[] = { "a", "b" };
	struct proto_server_opts o = { 0 };
	char with_b[2 * 5000], without_b[5000];
	struct hammer h = { 0 };
	pthread_t t;
	long n;

	(void)state;
	assert_int_equal(ns_scratch_mkdirs(dir, sizeof(dir), "reload-load", subs, 2), 0);
	without_b[0] = '\0';
	add_export(without_b, sizeof(without_b), 1, "a", "RW");
	snprintf(with_b, sizeof(with_b), "%s", without_b);
	add_export(with_b, sizeof(with_b), 2, "b", "RW");
	o.exports_conf = with_b;
	assert_int_equal(proto_server_start(&srv, "reload-load", &o), 0);
	h.cl = ns_client(&srv, "reload-hammer");
	assert_int_equal(nfs4_cl_open_file(h.cl, "a/busy", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &h.sid, &h.fh), NFS4_OK);
	assert_int_equal(pthread_create(&t, NULL, hammer_loop, &h), 0);
	for (n = 1; n <= 20; n++) {
		rewrite_conf("info", n % 2 ? without_b : with_b);
		hup_and_wait("reload of ", n);
	}
	atomic_store(&h.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("20 reloads; the other client's WRITE+READ compounds meanwhile: %u, "
		      "failed: %u\n", h.ops, h.failures);
	if (h.failures)
		fail_msg("%u of %u compounds failed during the reloads, the first with %d",
			 h.failures, h.ops, (int)h.first_failure);
	assert_true(h.ops > 0);
	assert_int_equal(proto_log_count(srv.log_path, 0, "exports 0 added, 0 changed, 1 removed",
					 100000), 10);
	assert_int_equal(nfs4_cl_close_file(h.cl, &h.fh, &h.sid), NFS4_OK);
	free(h.fh.val);
	nfs4_cl_close(h.cl, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
	remove_dir();
}

static void test_reload_while_a_client_works(void **state)
{
	static const char *const subs[] = { "a", "b", "c", "d" };
	struct proto_server_opts o = { 0 };
	char exports[4 * 5000], tail[4 * 5000], back[64];
	struct nfs4_cl *cl;
	stateid4 sa, sc, sd;
	nfs_fh4 fa = { 0 }, fc = { 0 }, fd = { 0 };
	stateid4 anon;

	(void)state;
	memset(&anon, 0, sizeof(anon));
	assert_int_equal(ns_scratch_mkdirs(dir, sizeof(dir), "reload", subs, 4), 0);
	exports[0] = '\0';
	add_export(exports, sizeof(exports), 1, "a", "RW");
	add_export(exports, sizeof(exports), 3, "c", "RW");
	add_export(exports, sizeof(exports), 4, "d", "RW");
	o.exports_conf = exports;
	assert_int_equal(proto_server_start(&srv, "reload", &o), 0);

	cl = ns_client(&srv, "reload-client");
	assert_int_equal(nfs4_cl_open_file(cl, "a/f", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sa, &fa), NFS4_OK);
	assert_int_equal(write_at(cl, &fa, &sa, 0, "before the reload;"), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(cl, "c/h", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sc, &fc), NFS4_OK);
	assert_int_equal(write_at(cl, &fc, &sc, 0, "c data"), NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(cl, &fc, &sc), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(cl, "d/g", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sd, &fd), NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(cl, &fd, &sd), NFS4_OK);

	/* A the same, B added, C read-only, D removed; Level debug */
	tail[0] = '\0';
	add_export(tail, sizeof(tail), 1, "a", "RW");
	add_export(tail, sizeof(tail), 2, "b", "RW");
	add_export(tail, sizeof(tail), 3, "c", "RO");
	rewrite_conf("debug", tail);
	hup_and_wait("exports 1 added, 1 changed, 1 removed, 1 unchanged", 1);
	assert_int_equal(proto_log_count(srv.log_path, 0, "reload: log level debug", 100000), 1);
	assert_int_equal(proto_log_count(srv.log_path, 0, "reload: export 4 removed", 100000), 1);
	check_after_reload(cl, &fa, &sa, &fc, &fd, 18, " after it;");

	/* A broken configuration: refused whole, FILE:LINE in the log */
	rewrite_conf("info", "EXPORT { Export_Id = 5; Path = relative; Pseudo = /e; }\n");
	hup_and_wait("reload refused, the running configuration stays", 1);
	assert_true(proto_log_count(srv.log_path, 0, "Path", 100000) >= 1);
	{
		char want[PATH_MAX + 16];

		snprintf(want, sizeof(want), "%s:", srv.conf_path);
		assert_true(proto_log_count(srv.log_path, 0, want, 100000) >= 1);
	}
	check_after_reload(cl, &fa, &sa, &fc, &fd, 28, " still;");

	/* A new export whose Path does not exist: refused too */
	snprintf(tail, sizeof(tail), "EXPORT { Export_Id = 1; Path = \"%s/a\"; Pseudo = /a; }\n"
				     "EXPORT { Export_Id = 6; Path = \"%s/missing\"; Pseudo = /m; }\n",
		 dir, dir);
	rewrite_conf("info", tail);
	hup_and_wait("reload refused (exports:", 1);
	check_after_reload(cl, &fa, &sa, &fc, &fd, 35, " and on.");
	assert_int_equal(read_at(cl, &fa, &sa, 0, 43, back), NFS4_OK);
	assert_string_equal(back, "before the reload; after it; still; and on.");

	/* Export 1 given another directory: refused (its handles carry the id) */
	snprintf(tail, sizeof(tail), "EXPORT { Export_Id = 1; Path = \"%s/b\"; Pseudo = /a; }\n",
		 dir);
	rewrite_conf("info", tail);
	hup_and_wait("reload refused (exports:", 2);
	assert_int_equal(proto_log_count(srv.log_path, 0, "another directory than the one",
					 100000), 1);
	assert_int_equal(read_at(cl, &fa, &sa, 0, 6, back), NFS4_OK);

	/* D back, its Path spelled another way: its old handle works again */
	tail[0] = '\0';
	add_export(tail, sizeof(tail), 1, "a", "RW");
	add_export(tail, sizeof(tail), 2, "b", "RW");
	add_export(tail, sizeof(tail), 3, "c", "RO");
	snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail),
		 "EXPORT { Export_Id = 4; Path = \"%s//d/\"; Pseudo = /d; }\n", dir);
	rewrite_conf("info", tail);
	hup_and_wait("exports 1 added, 0 changed, 0 removed, 3 unchanged", 1);
	assert_int_equal(ns_putfh_getattr(cl, &fd), NFS4_OK);

	assert_int_equal(nfs4_cl_close_file(cl, &fa, &sa), NFS4_OK);
	free(fa.val);
	free(fc.val);
	free(fd.val);
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_while_a_client_works),
		cmocka_unit_test(test_reloads_under_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
