/*
 * tests/proto/test_objcache.c: the descriptors daxnfsd keeps open between
 * requests (pmem/posix_objcache.c), seen from outside in /proc/PID/fd:
 * reused by later requests on the same file, closed when the file is
 * removed or renamed over through NFS, closed and its handle stale when the
 * file is unlinked on the server, closed after they sat idle, never kept
 * writable once idle (a local read lease can then be taken); and a LOOKUP
 * that finds a cached object by its name's handle finds the right one.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "tests/proto/lib/proto_proc.h"
#include "test_ns_util.h"

#define MAX_FDS 16
/* POSIX_IDLE_MS (pmem/posix_priv.h) plus two ticks and some slack. */
#define IDLE_CLOSE_WAIT_MS 16000

static int setup(void **state)
{
	return ns_setup_opts(state, "objcache", NULL);
}

/* The canonical path of name in the export, with suffix appended. */
static void export_path(const struct ns_fix *f, const char *name, const char *suffix, char *out,
			size_t cap)
{
	char dir[PATH_MAX];

	assert_non_null(realpath(f->srv.export_dir, dir));
	snprintf(out, cap, "%s/%s%s", dir, name, suffix);
}

static int fds_on(const struct ns_fix *f, const char *link, int fds[MAX_FDS])
{
	int n = proto_proc_fds_on(f->srv.pid, link, fds, MAX_FDS);

	assert_true(n >= 0);
	return n;
}

/* A READ of the file's first 4 KiB (zeros: ns_mkfile's files are holes). */
static nfsstat4 putfh_read(struct nfs4_cl *cl, const nfs_fh4 *fh)
{
	char data[4097];

	return ns_putfh_read(cl, fh, data, sizeof(data));
}

/* A file of size bytes, read once through NFS: its handle into fh. */
static void file_read_once(struct ns_fix *f, const char *name, size_t size, nfs_fh4 *fh)
{
	ns_mkfile(f->srv.export_dir, name, size);
	assert_int_equal(ns_path_fh(f->cl, name, fh), NFS4_OK);
	assert_int_equal(putfh_read(f->cl, fh), NFS4_OK);
}

static void test_descriptors_reused_by_later_requests(void **state)
{
	struct ns_fix *f = *state;
	int first[MAX_FDS], later[MAX_FDS], n, i;
	char path[PATH_MAX + 64];
	nfs_fh4 fh = { 0 };

	file_read_once(f, "kept", 65536, &fh);
	export_path(f, "kept", "", path, sizeof(path));
	/* The request is over; its O_PATH and data descriptors stay. */
	n = fds_on(f, path, first);
	assert_in_range(n, 1, 2);
	for (i = 0; i < 50; i++) {
		assert_int_equal(putfh_read(f->cl, &fh), NFS4_OK);
		assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4_OK);
	}
	/* the same descriptors, not new ones that happen to exist */
	assert_int_equal(fds_on(f, path, later), n);
	assert_memory_equal(first, later, (size_t)n * sizeof(int));
	ns_fh_free(&fh);
}

static void test_remove_closes_descriptors(void **state)
{
	struct ns_fix *f = *state;
	char deleted[PATH_MAX + 64];
	int fds[MAX_FDS];
	nfs_fh4 fh = { 0 };

	file_read_once(f, "removed", 1 << 20, &fh);
	export_path(f, "removed", " (deleted)", deleted, sizeof(deleted));
	assert_int_equal(ns_remove(f->cl, "", "removed", NULL), NFS4_OK);
	/* nothing keeps the unlinked file's space */
	assert_int_equal(fds_on(f, deleted, fds), 0);
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_STALE);
	ns_fh_free(&fh);
}

static void test_rename_over_closes_replaced_descriptors(void **state)
{
	struct ns_fix *f = *state;
	char deleted[PATH_MAX + 64], live[PATH_MAX + 64];
	nfs_fh4 src = { 0 }, victim = { 0 };
	int fds[MAX_FDS];

	file_read_once(f, "newer", 8192, &src);
	file_read_once(f, "older", 8192, &victim);
	assert_int_equal(ns_rename(f->cl, "", "newer", "", "older", NULL), NFS4_OK);
	export_path(f, "older", " (deleted)", deleted, sizeof(deleted));
	export_path(f, "older", "", live, sizeof(live));
	assert_int_equal(fds_on(f, deleted, fds), 0);
	assert_int_equal(ns_putfh_getattr(f->cl, &victim), NFS4ERR_STALE);
	/* the renamed file keeps its handle, its descriptors and its bytes */
	assert_in_range(fds_on(f, live, fds), 1, 2);
	assert_int_equal(putfh_read(f->cl, &src), NFS4_OK);
	ns_fh_free(&src);
	ns_fh_free(&victim);
}

static void test_unlinked_on_server_is_stale_and_closed(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64], deleted[PATH_MAX + 64];
	int fds[MAX_FDS];
	nfs_fh4 fh = { 0 };

	file_read_once(f, "local_rm", 8192, &fh);
	export_path(f, "local_rm", "", path, sizeof(path));
	export_path(f, "local_rm", " (deleted)", deleted, sizeof(deleted));
	assert_int_equal(unlink(path), 0);
	/* still open in the cache until a request looks at it ... */
	assert_in_range(fds_on(f, deleted, fds), 1, 2);
	/* ... which finds it gone, says so and closes it */
	assert_int_equal(ns_putfh_getattr(f->cl, &fh), NFS4ERR_STALE);
	assert_int_equal(fds_on(f, deleted, fds), 0);
	ns_fh_free(&fh);
}

static void test_lookup_after_local_replace_finds_new_file(void **state)
{
	struct ns_fix *f = *state;
	char from[PATH_MAX + 64], to[PATH_MAX + 64];
	nfs_fh4 old = { 0 }, again = { 0 }, fresh = { 0 };
	struct ns_attrs a;
	int fds[MAX_FDS];

	file_read_once(f, "name", 8192, &old);
	/* looked up again while cached: the same handle, no new descriptor */
	assert_int_equal(ns_path_fh(f->cl, "name", &again), NFS4_OK);
	assert_int_equal(again.len, old.len);
	assert_memory_equal(again.val, old.val, old.len);
	export_path(f, "name", "", to, sizeof(to));
	assert_in_range(fds_on(f, to, fds), 1, 2);
	/* another file takes the name on the server */
	ns_mkfile(f->srv.export_dir, "other", 12288);
	export_path(f, "other", "", from, sizeof(from));
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(ns_path_fh(f->cl, "name", &fresh), NFS4_OK);
	assert_false(fresh.len == old.len && memcmp(fresh.val, old.val, old.len) == 0);
	assert_int_equal(ns_getattr_fh(f->cl, &fresh, &a), NFS4_OK);
	assert_int_equal(a.size, 12288);
	assert_int_equal(ns_putfh_getattr(f->cl, &old), NFS4ERR_STALE);
	ns_fh_free(&old);
	ns_fh_free(&again);
	ns_fh_free(&fresh);
}

/* The open flags of descriptor fd of pid (/proc/PID/fdinfo), or -1. */
static int fd_flags(pid_t pid, int fd)
{
	char path[64], line[128];
	unsigned flags;
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			found = (int)flags;
	fclose(f);
	return found;
}

static void test_idle_keeps_no_writable_descriptor(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64];
	static const char data[] = "written through NFS";
	struct nfs4_cl_compound cp;
	int fds[MAX_FDS], n, i, fd;
	nfs_fh4 fh = { 0 };
	stateid4 anon;

	file_read_once(f, "written", 8192, &fh);
	export_path(f, "written", "", path, sizeof(path));
	memset(&anon, 0, sizeof(anon));
	nfs4_cl_compound_init(&cp, f->cl);
	ns_putfh(&cp, &fh);
	nfs4_cl_add_write(&cp, &anon, 0, data, sizeof(data) - 1, FILE_SYNC4);
	assert_int_equal(ns_send(&cp), NFS4_OK);
	nfs4_cl_compound_free(&cp);
	/* the request is over: what stays open is read-only */
	n = fds_on(f, path, fds);
	assert_in_range(n, 1, 2);
	for (i = 0; i < n; i++) {
		int fl = fd_flags(f->srv.pid, fds[i]);

		assert_true(fl >= 0);
		assert_int_equal(fl & O_ACCMODE, O_RDONLY);
	}
	/* so a local process may take a read lease (no writer anywhere) */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETLEASE, F_RDLCK), 0);
	assert_int_equal(fcntl(fd, F_SETLEASE, F_UNLCK), 0);
	close(fd);
	/* and the next read still finds the bytes written */
	{
		char got[64];

		assert_int_equal(ns_putfh_read(f->cl, &fh, got, sizeof(data)), NFS4_OK);
		assert_string_equal(got, data);
	}
	ns_fh_free(&fh);
}

static void test_idle_descriptors_closed(void **state)
{
	struct ns_fix *f = *state;
	char path[PATH_MAX + 64];
	int fds[MAX_FDS], n;
	nfs_fh4 fh = { 0 };
	int64_t t0;

	file_read_once(f, "idle", 8192, &fh);
	export_path(f, "idle", "", path, sizeof(path));
	t0 = proto_now_ms();
	assert_in_range(fds_on(f, path, fds), 1, 2);
	while ((n = fds_on(f, path, fds)) > 0 && proto_now_ms() - t0 < IDLE_CLOSE_WAIT_MS) {
		proto_sleep_ms(250);
		assert_int_equal(nfs4_cl_sequence(f->cl), NFS4_OK);   /* the lease, not the file */
	}
	printf("idle descriptors closed after %lld ms\n", (long long)(proto_now_ms() - t0));
	assert_int_equal(n, 0);
	/* and the handle still works, through a new descriptor */
	assert_int_equal(putfh_read(f->cl, &fh), NFS4_OK);
	ns_fh_free(&fh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_descriptors_reused_by_later_requests, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_remove_closes_descriptors, setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_rename_over_closes_replaced_descriptors, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_unlinked_on_server_is_stale_and_closed, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_lookup_after_local_replace_finds_new_file, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_idle_keeps_no_writable_descriptor, setup,
						ns_teardown),
		cmocka_unit_test_setup_teardown(test_idle_descriptors_closed, setup, ns_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
