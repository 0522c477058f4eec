/*
 * tests/pmem/fixture.h: real filesystems for the pmem backend tests.
 *
 * Job: per test, a fresh 300 MiB XFS image with reflink on a loop device and
 * a tmpfs, in a temporary directory, unmounted and removed in teardown (also
 * after a failed test). When the machine cannot (not root, no mkfs.xfs, no
 * loop device), the test prints "SKIPPED: <reason>" and skips: never a
 * silent pass. Header-only: each test executable includes it once.
 * Calls: libc, mount(8) / mkfs.xfs(8) through system(). Called by: tests/unit/test_pmem_*.c.
 */
#ifndef DAXNFS_TESTS_PMEM_FIXTURE_H
#define DAXNFS_TESTS_PMEM_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pmem/backend.h"

struct fx {
	char dir[PATH_MAX];
	char img[PATH_MAX + 16];
	char xfs[PATH_MAX + 16];
	char tmpfs[PATH_MAX + 16];
	bool xfs_mounted, tmpfs_mounted;
	char skip[256];
	struct pmem_export *exp_xfs, *exp_tmpfs;
};

static __attribute__((unused)) int fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fx_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static __attribute__((unused)) int fx_mount_xfs(struct fx *f)
{
	if (fx_sh("mount -o loop '%s' '%s' 2>/dev/null", f->img, f->xfs) != 0)
		return -1;
	f->xfs_mounted = true;
	return 0;
}

static __attribute__((unused)) void fx_umount(const char *path, bool *mounted)
{
	int i;

	if (!*mounted)
		return;
	for (i = 0; i < 50 && umount(path) < 0 && errno == EBUSY; i++)
		usleep(100000);
	if (i == 50)
		umount2(path, MNT_DETACH);
	*mounted = false;
}

static __attribute__((unused)) int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("DAXNFS_TEST_TMP");

	if (!f)
		return -1;
	*state = f;
	if (geteuid() != 0) {
		snprintf(f->skip, sizeof(f->skip), "not root (mount and loop devices need root)");
		return 0;
	}
	if (fx_sh("command -v mkfs.xfs >/dev/null 2>&1 || test -x /usr/sbin/mkfs.xfs") != 0) {
		snprintf(f->skip, sizeof(f->skip), "mkfs.xfs missing (apt-get install xfsprogs)");
		return 0;
	}
	if (access("/dev/loop-control", F_OK) != 0) {
		snprintf(f->skip, sizeof(f->skip), "no loop devices (/dev/loop-control)");
		return 0;
	}
	if (tmp)
		mkdir(tmp, 0755);
	snprintf(f->dir, sizeof(f->dir), "%s/pmemtest.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir)) {
		snprintf(f->skip, sizeof(f->skip), "mkdtemp: %s", strerror(errno));
		return 0;
	}
	snprintf(f->img, sizeof(f->img), "%s/xfs.img", f->dir);
	snprintf(f->xfs, sizeof(f->xfs), "%s/xfs", f->dir);
	snprintf(f->tmpfs, sizeof(f->tmpfs), "%s/tmpfs", f->dir);
	mkdir(f->xfs, 0755);
	mkdir(f->tmpfs, 0755);
	if (fx_sh("truncate -s 300M '%s' && mkfs.xfs -q -m reflink=1 '%s'", f->img, f->img) != 0) {
		snprintf(f->skip, sizeof(f->skip), "mkfs.xfs failed");
		return 0;
	}
	if (fx_mount_xfs(f) != 0) {
		snprintf(f->skip, sizeof(f->skip), "mount -o loop failed (no free loop device?)");
		return 0;
	}
	if (mount("tmpfs", f->tmpfs, "tmpfs", 0, "size=256m") < 0) {
		snprintf(f->skip, sizeof(f->skip), "tmpfs mount: %s", strerror(errno));
		return 0;
	}
	f->tmpfs_mounted = true;
	return 0;
}

static __attribute__((unused)) int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	pmem_export_put(f->exp_xfs);
	pmem_export_put(f->exp_tmpfs);
	fx_umount(f->xfs, &f->xfs_mounted);
	fx_umount(f->tmpfs, &f->tmpfs_mounted);
	if (f->dir[0]) {
		unlink(f->img);
		rmdir(f->xfs);
		rmdir(f->tmpfs);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

/* At the top of every test: skips, loudly, when the fixture could not be made. */
#define FX_REQUIRE(f)                                                  \
	do {                                                           \
		if ((f)->skip[0]) {                                    \
			printf("SKIPPED: %s\n", (f)->skip);            \
			fflush(stdout);                                \
			skip();                                        \
		}                                                      \
	} while (0)

static __attribute__((unused)) void fx_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static __attribute__((unused)) int64_t fx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static const struct pmem_cred fx_root = { 0, 0, 0, { 0 } };
static const struct pmem_cred fx_user = { 1000, 1000, 1, { 1000 } };

#endif
