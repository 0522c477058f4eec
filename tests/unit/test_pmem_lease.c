/*
 * tests/unit/test_pmem_lease.c: the lease manager with real leases and a
 * second process, on XFS (loop image) and tmpfs.
 * Proves: a read lease breaks when another process opens for writing (the
 * opener stays blocked until we release, then completes) and on truncate; a
 * write lease breaks on a read-only open, including the one real
 * `cp --reflink=always` makes of its source; the server's own I/O through the
 * backend does not break its own lease; a lease never released is broken by
 * the kernel after lease-break-time and reported gone; the breaking event
 * comes through the signalfd with a deadline before the kernel's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/file.h>

#include "pmem/lease.h"
#include "pmem/posix_priv.h"
#include "tests/pmem/fixture.h"

struct evlog {
	int breaking, gone;
	struct pmem_obj *obj;
	void *cookie_b, *cookie_g;
	struct timespec deadline;
	int64_t t_breaking, t_gone;
};

struct lfx {
	struct fx *f;
	struct evlog log;
	unsigned old_break_time;
};

static void on_breaking(void *ctx, struct pmem_obj *obj, void *cookie, struct timespec dl)
{
	struct evlog *l = ctx;

	l->breaking++;
	l->obj = obj;
	l->cookie_b = cookie;
	l->deadline = dl;
	l->t_breaking = fx_now_ns();
}

static void on_gone(void *ctx, struct pmem_obj *obj, void *cookie)
{
	struct evlog *l = ctx;

	l->gone++;
	l->cookie_g = cookie;
	l->t_gone = fx_now_ns();
}

static int set_break_time(unsigned s)
{
	FILE *fp = fopen("/proc/sys/fs/lease-break-time", "w");

	if (!fp)
		return -1;
	fprintf(fp, "%u\n", s);
	return fclose(fp);
}

static int lfx_setup(void **state)
{
	struct lfx *l = calloc(1, sizeof(*l));
	struct pmem_lease_events ev = { on_breaking, on_gone, NULL };

	if (!l)
		return -1;
	fx_setup((void **)&l->f);
	*state = l;
	ev.ctx = &l->log;
	/* 2 is the value this test sets: found there, a run of it died before
	 * its teardown, and the kernel's default is what belongs there. */
	if (pmem_lease_break_time(&l->old_break_time) != 0 || l->old_break_time == 2)
		l->old_break_time = 45;
	return pmem_lease_manager_start(&ev) == 0 ? 0 : -1;
}

static int lfx_teardown(void **state)
{
	struct lfx *l = *state;
	void *f = l->f;

	pmem_lease_manager_stop();
	if (geteuid() == 0)
		set_break_time(l->old_break_time);
	fx_teardown(&f);
	free(l);
	return 0;
}

/* Dispatches events until *counter reaches want or ms pass. */
static bool wait_event(struct evlog *log, int *counter, int want, int ms)
{
	int64_t end = fx_now_ns() + (int64_t)ms * 1000000;
	struct pollfd p = { .fd = pmem_lease_event_fd(), .events = POLLIN };

	(void)log;
	while (*counter < want) {
		int64_t left = (end - fx_now_ns()) / 1000000;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) > 0)
			assert_int_equal(pmem_lease_dispatch(), 0);
	}
	return true;
}

/* A child that runs what (open flags, or truncate when flags < 0) on path and
 * then sends the CLOCK_MONOTONIC time it got through. */
static pid_t breaker(const char *path, int flags, int *rfd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int64_t t;

		close(p[0]);
		if (flags < 0) {
			if (truncate(path, 0) < 0)
				_exit(2);
		} else if (open(path, flags) < 0) {
			_exit(2);
		}
		t = fx_now_ns();
		_exit(write(p[1], &t, sizeof(t)) == sizeof(t) ? 0 : 3);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static bool child_done(int rfd, int ms, int64_t *t)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return false;
	return read(rfd, t, sizeof(*t)) == sizeof(*t);
}

static struct pmem_obj *file_in(const char *dir, struct pmem_export **exp, const char *name)
{
	struct pmem_obj *root, *o;
	enum pmem_stable c;
	size_t n;

	assert_int_equal(pmem_posix_export_open(dir, 1, exp), 0);
	assert_int_equal((*exp)->ops->root(*exp, &root), 0);
	assert_int_equal(root->ops->create_file(root, &fx_root, name, 0666, true, &o), 0);
	assert_int_equal(o->ops->write(o, 0, "hello lease", 11, PMEM_FILE_SYNC, &n, &c), 0);
	pmem_obj_put(root);
	return o;
}

static void breaks_and_blocks(struct lfx *l, const char *dir, struct pmem_export **exp,
			      enum pmem_lease_kind kind, int flags)
{
	char path[PATH_MAX + 32];
	struct pmem_obj *o = file_in(dir, exp, "f");
	struct timespec now;
	int cookie, rfd, st;
	int64_t t, dl;
	unsigned bt;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(pmem_lease_break_time(&bt), 0);
	assert_int_equal(o->ops->lease_acquire(o, kind, &cookie), 0);
	pid = breaker(path, flags, &rfd);
	assert_true(wait_event(&l->log, &l->log.breaking, 1, 5000));
	assert_ptr_equal(l->log.obj, o);
	assert_ptr_equal(l->log.cookie_b, &cookie);
	clock_gettime(CLOCK_MONOTONIC, &now);
	dl = (int64_t)l->log.deadline.tv_sec * 1000000000ll + l->log.deadline.tv_nsec;
	assert_true(dl > fx_now_ns());
	assert_true(dl < fx_now_ns() + (int64_t)bt * 1000000000ll);
	/* The other process waits for us. */
	assert_false(child_done(rfd, 500, &t));
	assert_int_equal(l->log.gone, 0);
	assert_int_equal(o->ops->lease_release(o), 0);
	assert_true(child_done(rfd, 3000, &t));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(rfd);
	assert_true(wait_event(&l->log, &l->log.gone, 1, 2000));
	assert_ptr_equal(l->log.cookie_g, &cookie);
	assert_int_equal(l->log.breaking, 1);
	assert_int_equal(o->ops->lease_release(o), -ENOENT);
	pmem_obj_put(o);
}

static void test_read_lease_breaks_on_open_for_write_xfs(void **state)
{
	struct lfx *l = *state;

	FX_REQUIRE(l->f);
	breaks_and_blocks(l, l->f->xfs, &l->f->exp_xfs, PMEM_LEASE_READ, O_WRONLY);
}

static void test_read_lease_breaks_on_open_for_write_tmpfs(void **state)
{
	struct lfx *l = *state;

	FX_REQUIRE(l->f);
	breaks_and_blocks(l, l->f->tmpfs, &l->f->exp_tmpfs, PMEM_LEASE_READ, O_RDWR);
}

static void test_read_lease_breaks_on_truncate_xfs(void **state)
{
	struct lfx *l = *state;

	FX_REQUIRE(l->f);
	breaks_and_blocks(l, l->f->xfs, &l->f->exp_xfs, PMEM_LEASE_READ, -1);
}

static void test_write_lease_breaks_on_read_open_tmpfs(void **state)
{
	struct lfx *l = *state;

	FX_REQUIRE(l->f);
	breaks_and_blocks(l, l->f->tmpfs, &l->f->exp_tmpfs, PMEM_LEASE_WRITE, O_RDONLY);
}

static void test_write_lease_breaks_on_cp_reflink_xfs(void **state)
{
	struct lfx *l = *state;
	struct fx *f = l->f;
	char src[PATH_MAX + 32], dst[PATH_MAX + 32], buf[32];
	struct pmem_obj *o;
	int st, fd;
	pid_t pid;

	FX_REQUIRE(f);
	o = file_in(f->xfs, &f->exp_xfs, "src");
	snprintf(src, sizeof(src), "%s/src", f->xfs);
	snprintf(dst, sizeof(dst), "%s/dst", f->xfs);
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_WRITE, NULL), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execlp("cp", "cp", "--reflink=always", src, dst, (char *)NULL);
		_exit(127);
	}
	assert_true(wait_event(&l->log, &l->log.breaking, 1, 5000));
	assert_ptr_equal(l->log.obj, o);
	usleep(300000);
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);   /* cp still blocked */
	assert_int_equal(o->ops->lease_release(o), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	fd = open(dst, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 11);
	close(fd);
	assert_memory_equal(buf, "hello lease", 11);
	assert_true(wait_event(&l->log, &l->log.gone, 1, 2000));
	pmem_obj_put(o);
}

static void own_io_on(struct lfx *l, const char *dir, struct pmem_export **exp)
{
	struct pmem_obj *o = file_in(dir, exp, "own"), *again, *root;
	struct posix_obj *po = posix_obj(o);
	struct pmem_setattr sa = { .valid = PMEM_SET_SIZE, .size = 1 };
	uint8_t h[PMEM_HANDLE_MAX], buf[64];
	size_t hl = sizeof(h), n;
	char path[PATH_MAX + 32];
	struct pmem_attr at;
	enum pmem_stable c;
	uint64_t pos;
	int rfd, st;
	int64_t t;
	bool eof;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/own", dir);
	/* Write lease: all of the server's own I/O on the same object. */
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_WRITE, NULL), 0);
	assert_int_equal(fcntl(po->data_fd, F_GETLEASE), F_WRLCK);
	assert_int_equal(o->ops->write(o, 0, "0123456789", 10, PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(o->ops->write(o, 4096, "x", 1, PMEM_DATA_SYNC, &n, &c), 0);
	assert_int_equal(o->ops->read(o, 0, buf, sizeof(buf), &n, &eof), 0);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(o->ops->commit(o, 0, 0), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(o->ops->seek(o, 0, PMEM_SEEK_DATA, &pos), 0);
	assert_int_equal(o->ops->to_handle(o, h, &hl), 0);
	assert_int_equal((*exp)->ops->from_handle(*exp, h, hl, &again), 0);
	assert_ptr_equal(again, o);
	pmem_obj_put(again);
	assert_int_equal((*exp)->ops->root(*exp, &root), 0);
	assert_int_equal(root->ops->lookup(root, &fx_root, "own", &again), 0);
	assert_ptr_equal(again, o);
	pmem_obj_put(again);
	pmem_obj_put(root);
	/* A size change goes through the leased descriptor (a write
	 * delegation's holder truncating): the lease stays unbroken. */
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(at.size, 1);
	assert_false(wait_event(&l->log, &l->log.breaking, 1, 300));
	assert_int_equal(fcntl(po->data_fd, F_GETLEASE), F_WRLCK);
	assert_int_equal(o->ops->write(o, 0, "0123456789", 10, PMEM_FILE_SYNC, &n, &c), 0);
	assert_int_equal(o->ops->lease_release(o), 0);
	assert_true(wait_event(&l->log, &l->log.gone, 1, 1000));

	/* Read lease after writes: the writable descriptor must go first. */
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_READ, NULL), 0);
	assert_int_equal(fcntl(po->data_fd, F_GETLEASE), F_RDLCK);
	assert_int_equal(o->ops->read(o, 0, buf, 10, &n, &eof), 0);
	assert_memory_equal(buf, "0123456789", 10);
	/* A write would need a writable open, which breaks the lease: refused. */
	assert_int_equal(o->ops->write(o, 0, "y", 1, PMEM_UNSTABLE, &n, &c), -EAGAIN);
	assert_false(wait_event(&l->log, &l->log.breaking, 1, 300));
	assert_int_equal(fcntl(po->data_fd, F_GETLEASE), F_RDLCK);
	/* Still a live lease: another process's write open breaks it. */
	pid = breaker(path, O_WRONLY, &rfd);
	assert_true(wait_event(&l->log, &l->log.breaking, 1, 5000));
	assert_int_equal(o->ops->lease_release(o), 0);
	assert_true(child_done(rfd, 3000, &t));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(rfd);
	/* After the release the server writes again (reopened read-write). */
	assert_int_equal(o->ops->write(o, 0, "z", 1, PMEM_UNSTABLE, &n, &c), 0);
	pmem_obj_put(o);
}

static void test_own_io_keeps_own_lease_xfs(void **state)
{
	struct lfx *l = *state;

	FX_REQUIRE(l->f);
	own_io_on(l, l->f->xfs, &l->f->exp_xfs);
}

static void test_own_io_keeps_own_lease_map_path_tmpfs(void **state)
{
	struct lfx *l = *state;

	struct pmem_obj *o;
	enum pmem_stable c;
	size_t n;
	bool eof;
	char buf[16];

	FX_REQUIRE(l->f);
	o = file_in(l->f->tmpfs, &l->f->exp_tmpfs, "m");
	posix_export_set_io_path(l->f->exp_tmpfs, POSIX_IO_MAP);
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_WRITE, NULL), 0);
	assert_int_equal(o->ops->write(o, 0, "mapped", 6, PMEM_DATA_SYNC, &n, &c), 0);
	assert_int_equal(o->ops->read(o, 0, buf, 6, &n, &eof), 0);
	assert_memory_equal(buf, "mapped", 6);
	assert_true(posix_exp(l->f->exp_tmpfs)->mapped_bytes > 0);
	assert_false(wait_event(&l->log, &l->log.breaking, 1, 300));
	assert_int_equal(fcntl(posix_obj(o)->data_fd, F_GETLEASE), F_WRLCK);
	/* A read lease needs the writable windows gone: done for us. */
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_READ, NULL), 0);
	assert_int_equal(fcntl(posix_obj(o)->data_fd, F_GETLEASE), F_RDLCK);
	assert_int_equal(o->ops->read(o, 0, buf, 6, &n, &eof), 0);
	assert_memory_equal(buf, "mapped", 6);
	assert_int_equal(o->ops->lease_release(o), 0);
	pmem_obj_put(o);
}

static void test_kernel_breaks_unreleased_lease_xfs(void **state)
{
	struct lfx *l = *state;
	struct fx *f = l->f;
	char path[PATH_MAX + 32];
	struct pmem_obj *o;
	int rfd, st;
	int64_t t_child, dl, t0;
	pid_t pid;

	FX_REQUIRE(f);
	assert_int_equal(set_break_time(2), 0);
	o = file_in(f->xfs, &f->exp_xfs, "f");
	snprintf(path, sizeof(path), "%s/f", f->xfs);
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_WRITE, &st), 0);
	t0 = fx_now_ns();
	pid = breaker(path, O_RDONLY, &rfd);
	assert_true(wait_event(&l->log, &l->log.breaking, 1, 3000));
	dl = (int64_t)l->log.deadline.tv_sec * 1000000000ll + l->log.deadline.tv_nsec;
	/* Never released: the kernel lets the opener through after ~2 s. */
	assert_true(child_done(rfd, 5000, &t_child));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(rfd);
	assert_true(t_child - t0 >= 1500000000ll);
	/* Our deadline came before the kernel's. */
	assert_true(dl < t_child);
	assert_true(wait_event(&l->log, &l->log.gone, 1, 4000));
	assert_true(l->log.t_gone >= dl);
	assert_ptr_equal(l->log.cookie_g, &st);
	assert_int_equal(o->ops->lease_release(o), -ENOENT);
	/* And a new lease can be taken. */
	assert_int_equal(o->ops->lease_acquire(o, PMEM_LEASE_WRITE, NULL), 0);
	assert_int_equal(o->ops->lease_release(o), 0);
	pmem_obj_put(o);
}

static void test_lease_needs_regular_file(void **state)
{
	struct lfx *l = *state;
	struct pmem_obj *root;
	unsigned bt;

	FX_REQUIRE(l->f);
	assert_int_equal(pmem_lease_break_time(&bt), 0);
	assert_true(bt > 0);
	assert_true(pmem_lease_event_fd() >= 0);
	assert_int_equal(pmem_posix_export_open(l->f->tmpfs, 1, &l->f->exp_tmpfs), 0);
	assert_int_equal(l->f->exp_tmpfs->ops->root(l->f->exp_tmpfs, &root), 0);
	assert_int_equal(root->ops->lease_acquire(root, PMEM_LEASE_READ, NULL), -EISDIR);
	pmem_obj_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_lease_breaks_on_open_for_write_xfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_read_lease_breaks_on_open_for_write_tmpfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_read_lease_breaks_on_truncate_xfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_write_lease_breaks_on_read_open_tmpfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_write_lease_breaks_on_cp_reflink_xfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_own_io_keeps_own_lease_xfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_own_io_keeps_own_lease_map_path_tmpfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_kernel_breaks_unreleased_lease_xfs, lfx_setup, lfx_teardown),
		cmocka_unit_test_setup_teardown(test_lease_needs_regular_file, lfx_setup, lfx_teardown),
	};

	/* lease-break-time is global: runs of this test in other build trees
	 * take turns (the lock goes with the process). */
	int lk = open("/tmp/daxnfs-test-lease.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (lk >= 0)
		flock(lk, LOCK_EX);
	/* Before any thread: the lease signal must stay blocked everywhere. */
	if (pmem_lease_block_signal() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
