/*
 * tests/unit/test_pmem_cred.c: pmem/posix_cred.c, taking a caller's identity
 * for one operation.
 * Proves: when root, the thread takes fsuid, fsgid and groups and gives them
 * back; an identity that does not take (uid or gid (uid_t)-1, which
 * setfsuid/setfsgid treat as "no change", or any uid in a process without
 * CAP_SETUID) is -EPERM, with the thread's fsuid, fsgid and groups as they
 * were, so that nothing runs as the daemon on the caller's behalf. Each case
 * runs in a child process, whose identity and capabilities it may change.
 * As another user than root only the "(uid_t)-1" cases run (setgroups then
 * refuses first, which is -EPERM too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

static uid_t fsuid_now(void)
{
	return (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
}

static gid_t fsgid_now(void)
{
	return (gid_t)syscall(SYS_setfsgid, (gid_t)-1);
}

static int groups_now(gid_t *out, int cap)
{
	return (int)syscall(SYS_getgroups, cap, out);
}

/* Removes cap from this process's effective, permitted and inheritable sets. */
static int drop_cap(unsigned cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	data[cap / 32].permitted &= ~(1u << (cap % 32));
	data[cap / 32].inheritable &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* In a child: enter must fail with -EPERM and leave the thread as it was. */
static int refused_in_child(uint32_t uid, uint32_t gid, int drop)
{
	struct pmem_cred cred = { .uid = uid, .gid = gid, .ngroups = 2, .groups = { 4242, 4343 } };
	struct posix_cred_save save;
	gid_t before[64], after[64];
	uid_t fsuid;
	gid_t fsgid;
	int nb, na, rc;

	if (drop >= 0 && drop_cap((unsigned)drop) < 0)
		return 10;
	fsuid = fsuid_now();
	fsgid = fsgid_now();
	nb = groups_now(before, 64);
	rc = posix_cred_enter(&cred, &save);
	if (rc != -EPERM)
		return rc == 0 ? 11 : 12;
	if (save.active)
		return 13;
	if (fsuid_now() != fsuid || fsgid_now() != fsgid)
		return 14;
	na = groups_now(after, 64);
	if (na != nb || memcmp(before, after, (size_t)(na > 0 ? na : 0) * sizeof(gid_t)) != 0)
		return 15;
	posix_cred_leave(&save);   /* nothing to give back */
	return fsuid_now() == fsuid ? 0 : 16;
}

/* In a child (root): enter takes the identity, leave gives it back. */
static int taken_in_child(void)
{
	struct pmem_cred cred = { .uid = 1000, .gid = 1001, .ngroups = 1, .groups = { 1002 } };
	struct posix_cred_save save;
	gid_t g[8];

	if (posix_cred_enter(&cred, &save) != 0)
		return 20;
	if (fsuid_now() != 1000 || fsgid_now() != 1001 || groups_now(g, 8) != 1 || g[0] != 1002)
		return 21;
	posix_cred_leave(&save);
	if (fsuid_now() != 0 || fsgid_now() != 0)
		return 22;
	return 0;
}

enum child_case { TAKEN, UID_MINUS_ONE, GID_MINUS_ONE, NO_SETUID, NO_SETGID };

static int run_case(enum child_case what)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = 99;

		switch (what) {
		case TAKEN: rc = taken_in_child(); break;
		case UID_MINUS_ONE: rc = refused_in_child(4294967295u, 100, -1); break;
		case GID_MINUS_ONE: rc = refused_in_child(1000, 4294967295u, -1); break;
		case NO_SETUID: rc = refused_in_child(1000, 1000, CAP_SETUID); break;
		case NO_SETGID: rc = refused_in_child(1000, 1000, CAP_SETGID); break;
		}
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_identity_taken_and_given_back(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(run_case(TAKEN), 0);
}

static void test_uid_or_gid_minus_one_is_eperm(void **state)
{
	(void)state;
	assert_int_equal(run_case(UID_MINUS_ONE), 0);
	assert_int_equal(run_case(GID_MINUS_ONE), 0);
}

static void test_without_setuid_or_setgid_is_eperm(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(run_case(NO_SETUID), 0);
	assert_int_equal(run_case(NO_SETGID), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_taken_and_given_back),
		cmocka_unit_test(test_uid_or_gid_minus_one_is_eperm),
		cmocka_unit_test(test_without_setuid_or_setgid_is_eperm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
