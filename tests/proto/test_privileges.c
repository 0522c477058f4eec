/*
 * tests/proto/test_privileges.c: what a running daxnfsd may do, against a
 * real daemon:
 *  - started as root, it keeps only the capabilities it serves with
 *    (server/nfs4_privileges.c), in every thread: CapEff = CapPrm = CapBnd =
 *    that set, nothing inheritable or ambient, NoNewPrivs 1
 *    (/proc/<pid>/task/<tid>/status);
 *  - a caller whose identity cannot be taken is refused, never served as
 *    the daemon: AUTH_SYS uid or gid 4294967295 (which setfsuid and setfsgid
 *    take as "no change"), and, with a daemon started without CAP_SETUID,
 *    any uid but the daemon's: NFS4ERR_PERM, nothing created;
 *  - a write by a client clears the file's set-user-ID and set-group-ID
 *    bits (the daemon writes as fsuid 0 without CAP_FSETID);
 *  - a non-root client still creates and writes its own files.
 * The capability and set-ID checks need the tests to run as root (the
 * daemon then starts as root); as another user they are skipped.
 * Started with DAXNFS_TEST_DROP_SETUID set, this program is instead a
 * wrapper: it drops CAP_SETUID from every capability set and executes
 * $DAXNFS_TEST_REAL_DAXNFSD with its arguments.
 */
#include "test_ns_util.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* What the daemon keeps (NFS_Port is not below 1024 in these tests). */
static const unsigned kept_caps[] = {
	CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, CAP_MKNOD,
	CAP_SETUID, CAP_SETGID, CAP_LEASE, CAP_IPC_LOCK,
};

static uint64_t kept_mask(void)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		m |= 1ull << kept_caps[i];
	return m;
}

static int setup(void **state)
{
	return ns_setup_opts(state, "privileges", NULL);
}

/* ---- /proc ---- */

struct proc_caps {
	uint64_t inh, prm, eff, bnd, amb;
	int no_new_privs;
};

static int read_caps(const char *path, struct proc_caps *pc)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned long long v;
	int seen = 0;

	if (!f)
		return -1;
	memset(pc, 0, sizeof(*pc));
	pc->no_new_privs = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapInh: %llx", &v) == 1)
			pc->inh = v, seen++;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			pc->prm = v, seen++;
		else if (sscanf(line, "CapEff: %llx", &v) == 1)
			pc->eff = v, seen++;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			pc->bnd = v, seen++;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			pc->amb = v, seen++;
		else if (sscanf(line, "NoNewPrivs: %d", &pc->no_new_privs) == 1)
			seen++;
	}
	fclose(f);
	return seen == 6 ? 0 : -1;
}

static void test_capabilities_reduced_in_every_thread(void **state)
{
	struct ns_fix *f = *state;
	struct proc_caps self, pc;
	char dir[64], path[64 + 256 + 16];
	struct dirent *e;
	uint64_t want;
	unsigned threads = 0;
	DIR *d;

	if (geteuid() != 0)
		skip();
	assert_int_equal(read_caps("/proc/self/status", &self), 0);
	/* what we had to give, less what the daemon does not keep */
	want = kept_mask() & self.prm;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)f->srv.pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, e->d_name);
		if (read_caps(path, &pc) < 0)
			continue;   /* a thread that just ended */
		if (pc.eff != want || pc.prm != want || pc.bnd != want)
			print_error("thread %s: CapEff %llx CapPrm %llx CapBnd %llx, want %llx\n",
				    e->d_name, (unsigned long long)pc.eff,
				    (unsigned long long)pc.prm, (unsigned long long)pc.bnd,
				    (unsigned long long)want);
		assert_true(pc.eff == want);
		assert_true(pc.prm == want);
		assert_true(pc.bnd == want);
		assert_true(pc.inh == 0);
		assert_true(pc.amb == 0);
		assert_int_equal(pc.no_new_privs, 1);
		threads++;
	}
	closedir(d);
	assert_true(threads >= 3);   /* main, callback thread, workers */
	/* and it still serves */
	assert_int_equal(nfs4_cl_sequence(f->cl), NFS4_OK);
}

/* ---- identities ---- */

static nfsstat4 create_as(struct nfs4_cl *cl, uint32_t uid, uint32_t gid, const char *path)
{
	uint32_t save_uid = cl->cred.uid, save_gid = cl->cred.gid;
	nfsstat4 st;
	stateid4 sid;
	nfs_fh4 fh = { 0 };

	cl->cred.uid = uid;
	cl->cred.gid = gid;
	st = nfs4_cl_open_file(cl, path, true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			       &sid, &fh);
	if (st == NFS4_OK)
		assert_int_equal(nfs4_cl_close_file(cl, &fh, &sid), NFS4_OK);
	free(fh.val);
	cl->cred.uid = save_uid;
	cl->cred.gid = save_gid;
	return st;
}

static bool exists(const struct ns_fix *f, const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->srv.export_dir, name);
	return stat(path, &st) == 0;
}

/* A directory anyone may create files in. */
static void open_dir(const struct ns_fix *f, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", f->srv.export_dir, name);
	assert_int_equal(mkdir(path, 0777), 0);
	assert_int_equal(chmod(path, 01777), 0);
}

static void test_identity_not_taken_is_perm(void **state)
{
	struct ns_fix *f = *state;

	/* the export root belongs to the daemon's user, mode 0755: only the
	 * daemon itself could create here */
	assert_int_equal(create_as(f->cl, 4294967295u, 100, "uid-minus-1"), NFS4ERR_PERM);
	assert_false(exists(f, "uid-minus-1"));
	open_dir(f, "pub");
	assert_int_equal(create_as(f->cl, 4294967295u, 100, "pub/uid-minus-1"), NFS4ERR_PERM);
	assert_false(exists(f, "pub/uid-minus-1"));
	assert_int_equal(create_as(f->cl, 1000, 4294967295u, "pub/gid-minus-1"), NFS4ERR_PERM);
	assert_false(exists(f, "pub/gid-minus-1"));
}

static void test_other_user_creates_and_writes(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64], buf[16] = { 0 };
	struct nfs4_cl_compound cp;
	struct stat st;
	nfs_fh4 fh = { 0 };
	stateid4 sid;
	int fd;

	if (geteuid() != 0)
		skip();   /* a daemon that is not root can only be itself */
	open_dir(f, "home");
	f->cl->cred.uid = 1000;
	f->cl->cred.gid = 1000;
	assert_int_equal(nfs4_cl_open_file(f->cl, "home/mine", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sid, &fh),
			 NFS4_OK);
	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add_write(&cp, &sid, 0, "written", 7, FILE_SYNC4);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(nfs4_cl_close_file(f->cl, &fh, &sid), NFS4_OK);
	free(fh.val);
	f->cl->cred.uid = 0;
	f->cl->cred.gid = 0;
	snprintf(path, sizeof(path), "%s/home/mine", f->srv.export_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	assert_memory_equal(buf, "written", 7);
}

static void test_write_clears_setid_bits(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64];
	struct nfs4_cl_compound cp;
	struct stat st;
	nfs_fh4 fh = { 0 };
	stateid4 sid;

	if (geteuid() != 0)
		skip();
	/* a set-ID program of uid 1000 that its group may write */
	ns_mkfile(f->srv.export_dir, "setid", 16);
	snprintf(path, sizeof(path), "%s/setid", f->srv.export_dir);
	assert_int_equal(chown(path, 1000, 1000), 0);
	assert_int_equal(chmod(path, 06775), 0);
	f->cl->cred.uid = 1001;
	f->cl->cred.gid = 1000;
	assert_int_equal(nfs4_cl_open_file(f->cl, "setid", false, OPEN4_SHARE_ACCESS_WRITE,
					   OPEN4_SHARE_DENY_NONE, &sid, &fh),
			 NFS4_OK);
	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add_write(&cp, &sid, 0, "patched", 7, FILE_SYNC4);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(nfs4_cl_close_file(f->cl, &fh, &sid), NFS4_OK);
	free(fh.val);
	f->cl->cred.uid = 0;
	f->cl->cred.gid = 0;
	assert_int_equal(stat(path, &st), 0);
	if (st.st_mode & 06000)
		print_error("mode after the write: %o\n", (unsigned)st.st_mode & 07777);
	assert_int_equal(st.st_mode & 06000, 0);
	assert_int_equal(st.st_mode & 0777, 0775);
}

/* ---- a daemon without CAP_SETUID ---- */

static int drop_setuid_and_exec(char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	const char *real = getenv("DAXNFS_TEST_REAL_DAXNFSD");

	if (!real)
		return 127;
	if (prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0) < 0 ||
	    syscall(SYS_capget, &hdr, data) < 0) {
		perror("drop CAP_SETUID");
		return 127;
	}
	data[0].effective &= ~(1u << CAP_SETUID);
	data[0].permitted &= ~(1u << CAP_SETUID);
	data[0].inheritable &= ~(1u << CAP_SETUID);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		perror("capset");
		return 127;
	}
	unsetenv("DAXNFS_TEST_DROP_SETUID");
	argv[0] = (char *)real;
	execv(real, argv);
	perror("execv");
	return 127;
}

static void test_daemon_without_setuid_refuses_other_users(void **state)
{
	static char real_env[PATH_MAX + 64];
	static const char *env[3];
	const char *real = getenv("DAXNFSD");
	char self[PATH_MAX], logbuf[65536];
	struct proto_server srv;
	struct proto_server_opts o = { 0 };
	struct nfs4_cl *cl;
	ssize_t n;
	FILE *lf;
	int rc;

	(void)state;
	/* under valgrind the wrapper, not the daemon, would be watched */
	if (geteuid() != 0 || !real || getenv("DAXNFS_TEST_VALGRIND"))
		skip();
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(real_env, sizeof(real_env), "DAXNFS_TEST_REAL_DAXNFSD=%s", real);
	env[0] = "DAXNFS_TEST_DROP_SETUID=1";
	env[1] = real_env;
	env[2] = NULL;
	o.env = env;
	/* proto_server starts $DAXNFSD: this program, as the wrapper */
	assert_int_equal(setenv("DAXNFSD", self, 1), 0);
	rc = proto_server_start(&srv, "privileges_nosetuid", &o);
	assert_int_equal(setenv("DAXNFSD", real, 1), 0);
	assert_int_equal(rc, 0);

	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "nosetuid", 0), 0);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	{
		struct ns_fix fx = { .srv = srv, .cl = cl };

		open_dir(&fx, "pub");
		assert_int_equal(create_as(cl, 1000, 1000, "pub/as-1000"), NFS4ERR_PERM);
		assert_false(exists(&fx, "pub/as-1000"));
		/* root (the daemon's own uid) is still served */
		assert_int_equal(create_as(cl, 0, 0, "pub/as-root"), NFS4_OK);
		assert_true(exists(&fx, "pub/as-root"));
	}
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	/* it said at start that such requests would fail */
	lf = fopen(srv.log_path, "r");
	assert_non_null(lf);
	n = (ssize_t)fread(logbuf, 1, sizeof(logbuf) - 1, lf);
	fclose(lf);
	logbuf[n > 0 ? n : 0] = '\0';
	assert_non_null(strstr(logbuf, "cap_setuid is not permitted"));
	proto_server_cleanup(&srv);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capabilities_reduced_in_every_thread, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_identity_not_taken_is_perm, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_other_user_creates_and_writes, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_write_clears_setid_bits, setup, ns_teardown),
		cmocka_unit_test(test_daemon_without_setuid_refuses_other_users),
	};

	(void)argc;
	if (getenv("DAXNFS_TEST_DROP_SETUID"))
		return drop_setuid_and_exec(argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
