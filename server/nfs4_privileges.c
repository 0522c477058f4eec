/*
 * server/nfs4_privileges.c: reduce daxnfsd to the capabilities it serves
 * with (see nfs4_privileges.h for when).
 *
 * Kept in the permitted and effective sets (and only these stay in the
 * bounding set), each for a reason in the table below. The daemon keeps
 * uid 0: the backend switches only fsuid/fsgid/groups per request
 * (pmem/posix_cred.c), and the kernel raises the file-system capabilities
 * among these (DAC_*, FOWNER, CHOWN, MKNOD) from the permitted set whenever
 * fsuid is 0 again, so they must stay permitted. Dropped, among others:
 *  - CAP_FSETID: the backend writes client data through its own descriptor
 *    as fsuid 0; with CAP_FSETID the kernel would never clear set-user-ID
 *    and set-group-ID bits on such writes, so whoever may write a set-ID
 *    program would keep its set-ID bit. Without it a write clears them, as
 *    a local write by an unprivileged user does. The price: a root client
 *    (no root squash) that sets S_ISGID on a file whose group it is not in
 *    sees the bit cleared, as a local user without CAP_FSETID would;
 *  - CAP_NET_BIND_SERVICE unless NFS_Port is below 1024 (2049 is not a
 *    privileged port). When it is kept it stays while the daemon runs: the
 *    listener binds after the worker threads exist, and a capability
 *    dropped in one thread stays in the others;
 *  - CAP_NET_RAW: RPC-over-RDMA uses reliable-connected queue pairs through
 *    librdmacm, which need no privilege (only raw packet QPs do);
 *  - CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SETPCAP, CAP_KILL,
 *    CAP_SYS_RESOURCE, CAP_LINUX_IMMUTABLE, CAP_NET_ADMIN and the rest:
 *    nothing the daemon does while serving needs them.
 * Calls: libcap, prctl, conf/log. Called by: server/main.c.
 */
#include "server/nfs4_privileges.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "conf/log.h"

struct kept_cap {
	cap_value_t cap;
	const char *why;
};

static const struct kept_cap kept[] = {
	{ CAP_DAC_READ_SEARCH, "open_by_handle_at for every file handle; linkat of a descriptor" },
	{ CAP_DAC_OVERRIDE, "a file's data descriptor is opened read-write by the daemon "
			    "whatever its mode, after the NFS layer checked the caller (an "
			    "owner writes a file it created read-only through that OPEN)" },
	{ CAP_FOWNER, "root clients (no root squash) change modes and times of any file" },
	{ CAP_CHOWN, "root clients change owners and groups" },
	{ CAP_MKNOD, "root clients CREATE block and character devices" },
	{ CAP_SETUID, "setfsuid to the caller's uid for each request" },
	{ CAP_SETGID, "setfsgid and setgroups to the caller's groups for each request" },
	{ CAP_LEASE, "F_SETLEASE on files the daemon does not own (layouts)" },
	{ CAP_IPC_LOCK, "RPC-over-RDMA pins registered buffers beyond RLIMIT_MEMLOCK "
			"at run time" },
};

#define N_KEPT (sizeof(kept) / sizeof(kept[0]))

static bool is_kept(cap_value_t c, bool bind_low)
{
	unsigned i;

	if (c == CAP_NET_BIND_SERVICE)
		return bind_low;
	for (i = 0; i < N_KEPT; i++)
		if (kept[i].cap == c)
			return true;
	return false;
}

/* True when cap is in set's flag (a cap_get_flag failure counts as no). */
static bool has(cap_t set, cap_value_t c, cap_flag_t flag)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(set, c, flag, &v) == 0 && v == CAP_SET;
}

static void log_name_missing(cap_value_t c, const char *why)
{
	char *name = cap_to_name(c);

	log_warn("main", "%s is not permitted to this process, so %s will fail", name ? name : "?",
		 why);
	cap_free(name);
}

int nfs4_privileges_drop(uint16_t nfs_port)
{
	bool bind_low = nfs_port > 0 && nfs_port < 1024;
	cap_value_t c, max = cap_max_bits();
	cap_t now = NULL, want = NULL;
	char *text = NULL;
	bool any = false;
	unsigned i;
	int rc = 0;

	now = cap_get_proc();
	want = cap_init();   /* every flag clear */
	if (!now || !want) {
		rc = -errno;
		log_err("main", "cannot read the capabilities: %s", strerror(-rc));
		goto out;
	}
	for (c = 0; c < max; c++)
		any |= has(now, c, CAP_PERMITTED);
	if (!any) {
		log_info("main", "started without privileges (euid %u): no capabilities to drop; "
			 "requests of other users than this one fail", (unsigned)geteuid());
		goto out;
	}
	for (c = 0; c < max; c++) {
		if (!is_kept(c, bind_low))
			continue;
		if (!has(now, c, CAP_PERMITTED)) {
			for (i = 0; i < N_KEPT; i++)
				if (kept[i].cap == c)
					log_name_missing(c, kept[i].why);
			continue;
		}
		if (cap_set_flag(want, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0) {
			rc = -errno;
			log_err("main", "cannot build the capability set: %s", strerror(-rc));
			goto out;
		}
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * the new set no longer has. Without CAP_SETPCAP (some containers) the
	 * bounding set stays; no_new_privs and a daemon that never executes
	 * anything keep it from mattering. */
	for (c = 0; c < max; c++) {
		if (is_kept(c, bind_low) || cap_get_bound(c) <= 0)
			continue;
		if (cap_drop_bound(c) < 0) {
			log_warn("main", "cannot clear the capability bounding set (%s); "
				 "it stays as it was", strerror(errno));
			break;
		}
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		log_warn("main", "cannot clear the ambient capabilities: %s", strerror(errno));
	if (cap_set_proc(want) < 0) {
		rc = -errno;
		log_err("main", "cannot reduce the capabilities: %s", strerror(-rc));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		log_err("main", "cannot set no_new_privs: %s", strerror(-rc));
		goto out;
	}
	text = cap_to_text(want, NULL);
	log_info("main", "capabilities kept: %s; no_new_privs set", text ? text : "?");
out:
	cap_free(text);
	cap_free(want);
	cap_free(now);
	return rc;
}
