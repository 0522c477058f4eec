/*
 * pmem/posix_cred.c: per-thread caller credentials.
 *
 * Job: make the calling thread act as an NFS caller (fsuid, fsgid, groups) for
 * one namespace operation, and back. The raw syscalls are used because glibc's
 * setgroups() changes every thread of the process (it broadcasts with a
 * signal), while the kernel's setfsuid/setfsgid/setgroups are per thread.
 * Changing fsuid away from 0 drops the file capabilities (DAC override,
 * chown, fowner) of this thread; going back to 0 restores them.
 *
 * setfsuid and setfsgid cannot report failure: they return the previous id
 * whether or not the change happened (without CAP_SETUID/CAP_SETGID, or for
 * the id (uid_t)-1, which they take as "no change"). Going on after such a
 * failure would run the caller's request as the daemon, i.e. as root, so
 * each change is read back with the id -1 (setfsuid(2)) and a change that
 * did not take fails the request with -EPERM, the errno the kernel itself
 * gives for a refused identity change (NFS4ERR_PERM through the server's
 * errno table; the request is refused, never run as someone else).
 * Calls: Linux syscalls, conf/log. Called by: pmem/posix_*.c.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf/log.h"
#include "pmem/posix_priv.h"

/* The thread's fsuid/fsgid now (a change to -1 changes nothing). */
static uid_t current_fsuid(void)
{
	return (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
}

static gid_t current_fsgid(void)
{
	return (gid_t)syscall(SYS_setfsgid, (gid_t)-1);
}

int posix_cred_enter(const struct pmem_cred *cred, struct posix_cred_save *save)
{
	gid_t groups[PMEM_MAX_GROUPS];
	uint32_t n, i;
	long r;
	int rc = 0;

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
	/* Either order works: CAP_SETGID is not one of the file-system
	 * capabilities that a fsuid other than 0 takes away. */
	save->fsgid = (int)syscall(SYS_setfsgid, (gid_t)cred->gid);
	if (current_fsgid() != (gid_t)cred->gid) {
		rc = -EPERM;
		goto undo_groups;
	}
	save->fsuid = (int)syscall(SYS_setfsuid, (uid_t)cred->uid);
	if (current_fsuid() != (uid_t)cred->uid) {
		rc = -EPERM;
		goto undo_fsgid;
	}
	save->active = true;
	return 0;
undo_fsgid:
	syscall(SYS_setfsgid, (gid_t)save->fsgid);
	if (current_fsgid() != (gid_t)save->fsgid)
		log_err("pmem", "cannot restore fsgid %d of this thread", save->fsgid);
undo_groups:
	if (syscall(SYS_setgroups, (size_t)save->ngroups, save->groups) < 0)
		log_err("pmem", "cannot restore the groups of this thread: errno %d", errno);
	return rc;
}

void posix_cred_leave(struct posix_cred_save *save)
{
	if (!save->active)
		return;
	/* fsuid first: it brings back the capabilities the other two need. */
	syscall(SYS_setfsuid, (uid_t)save->fsuid);
	if (current_fsuid() != (uid_t)save->fsuid)
		log_err("pmem", "cannot restore fsuid %d of this thread", save->fsuid);
	syscall(SYS_setfsgid, (gid_t)save->fsgid);
	if (current_fsgid() != (gid_t)save->fsgid)
		log_err("pmem", "cannot restore fsgid %d of this thread", save->fsgid);
	if (syscall(SYS_setgroups, (size_t)save->ngroups, save->groups) < 0)
		log_err("pmem", "cannot restore the groups of this thread: errno %d", errno);
	save->active = false;
}
