/*
 * pmem/posix_cred.c: per-thread caller credentials.
 *
 * Job: make the calling thread act as an NFS caller (fsuid, fsgid, groups) for
 * one namespace operation, and back. The raw syscalls are used because glibc's
 * setgroups() changes every thread of the process (it broadcasts with a
 * signal), while the kernel's setfsuid/setfsgid/setgroups are per thread.
 * Changing fsuid away from 0 drops the file capabilities (DAC override,
 * chown, fowner) of this thread; going back to 0 restores them.
 * Calls: Linux syscalls. Called by: pmem/posix_*.c.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

int posix_cred_enter(const struct pmem_cred *cred, struct posix_cred_save *save)
{
	gid_t groups[PMEM_MAX_GROUPS];
	uint32_t n, i;
	long r;

	save->active = false;
	if (!cred)
		return 0;
	n = cred->ngroups > PMEM_MAX_GROUPS ? PMEM_MAX_GROUPS : cred->ngroups;
	r = syscall(SYS_getgroups, PMEM_MAX_GROUPS + 1, save->groups);
	if (r < 0)
		return -errno;
	save->ngroups = (int)r;
	for (i = 0; i < n; i++)
		groups[i] = cred->groups[i];
	if (syscall(SYS_setgroups, (size_t)n, groups) < 0)
		return -errno;
	/* setfsgid before setfsuid: once fsuid is not 0, CAP_SETGID may be gone. */
	save->fsgid = (int)syscall(SYS_setfsgid, cred->gid);
	save->fsuid = (int)syscall(SYS_setfsuid, cred->uid);
	save->active = true;
	return 0;
}

void posix_cred_leave(struct posix_cred_save *save)
{
	if (!save->active)
		return;
	/* fsuid first: it brings back the capabilities the other two need. */
	syscall(SYS_setfsuid, save->fsuid);
	syscall(SYS_setfsgid, save->fsgid);
	syscall(SYS_setgroups, (size_t)save->ngroups, save->groups);
	save->active = false;
}
