/*
 * tests/fuzz/fuzz_common.c: helpers shared by the libFuzzer harnesses (see
 * fuzz_common.h).
 *
 * The scratch area is a tmpfs in a private mount namespace when we can make
 * one: the COMPOUND harness creates, writes and removes files there at
 * thousands of inputs a second, which must neither wear a disk nor leave
 * anything behind, and the namespace makes the mount vanish with the process
 * even when a crash ends it.
 */
#include "tests/fuzz/fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "server/nfs4_fh_mac.h"
#include "server/nfs4_server.h"

void fuzz_check_at(bool cond, const char *what, const char *file, int line)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz: invariant broken at %s:%d: %s\n", file, line, what);
	abort();
}

uint32_t fuzz_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void fuzz_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- the in-memory transport ---- */

void fuzz_xprt_keep(struct fuzz_xprt *fx, const uint8_t *msg, size_t len)
{
	if (len > FUZZ_SENT_MAX)
		len = FUZZ_SENT_MAX;
	memcpy(fx->sent, msg, len);
	fx->sent_len = len;
}

static int fx_send(struct rpc_xprt *x, const struct iovec *iov, int iovcnt)
{
	struct fuzz_xprt *fx = (struct fuzz_xprt *)x;
	uint8_t *msg;
	size_t len = 0, off = 0;
	int i, rc;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	/* joined so that the hooks see one message, as the peer would */
	msg = malloc(len ? len : 1);
	if (!msg)
		return -ENOMEM;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(msg + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (fx->on_send) {
		rc = fx->on_send(fx, msg, len);
	} else {
		fuzz_xprt_keep(fx, msg, len);
		rc = 0;
	}
	/* only sends that went out count: a hook refuses the callback
	 * thread's calls, and that thread must not touch the counter */
	if (rc == 0)
		fx->nsent++;
	free(msg);
	return rc;
}

static void fx_shutdown(struct rpc_xprt *x)
{
	(void)x;
}

static void fx_destroy(struct rpc_xprt *x)
{
	/* the harness holds a reference for the whole run: never reached */
	(void)x;
	fuzz_check(false, "fuzz transport destroyed: a reference was dropped twice");
}

static const struct rpc_xprt_ops fx_ops = {
	.netid = "fuzz",
	.send = fx_send,
	.shutdown = fx_shutdown,
	.destroy = fx_destroy,
};

void fuzz_xprt_init(struct fuzz_xprt *fx, fuzz_send_fn on_send, void *ctx)
{
	memset(fx, 0, sizeof(*fx));
	rpc_xprt_init(&fx->x, &fx_ops);
	fx->x.max_record = 1u << 20;
	fx->on_send = on_send;
	fx->ctx = ctx;
	fx->sent = malloc(FUZZ_SENT_MAX);
	fuzz_check(fx->sent != NULL, "no memory for the fuzz transport");
}

void fuzz_xprt_reset(struct fuzz_xprt *fx)
{
	fx->sent_len = 0;
	fx->nsent = 0;
}

/* ---- scratch directories ---- */

struct nfs4_server *fuzz_srv;

static char scratch_path[512];
static bool scratch_remove_at_exit, scratch_mounted;

static int remove_tree(int parent_fd, const char *name);

/* Removes every entry of the directory open as fd (closes fd). */
static int empty_fd(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rc = 0, r;

	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = remove_tree(dirfd(d), e->d_name);
		if (r < 0 && rc == 0)
			rc = r;
	}
	closedir(d);
	return rc;
}

static int remove_tree(int parent_fd, const char *name)
{
	int fd;

	if (unlinkat(parent_fd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno == ENOENT ? 0 : -errno;
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the fuzzer may have left a directory without write or search bits */
	fchmod(fd, 0700);
	empty_fd(fd);
	return unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int fuzz_empty_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return empty_fd(fd);
}

static void scratch_cleanup(void)
{
	if (!scratch_remove_at_exit)
		return;
	/* the mount point is busy while mounted, even in our own namespace */
	if (scratch_mounted)
		umount2(scratch_path, MNT_DETACH);
	else
		fuzz_empty_dir(scratch_path);
	rmdir(scratch_path);
}

/* As root: a tmpfs on a fresh directory, in a mount namespace of our own
 * whose mounts do not propagate back to the machine's. */
static int private_tmpfs(unsigned size_mb, const char *dir)
{
	char opts[64];

	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	snprintf(opts, sizeof(opts), "size=%um,mode=0755", size_mb);
	if (mount("daxnfs-fuzz", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	return 0;
}

/* A run that crashed (libFuzzer ends it with _exit) left its directory
 * behind: remove those whose process is gone. */
static void remove_stale(const char *parent)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(parent);
	int pid;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "daxnfs-fuzz-%d", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;   /* still running (EPERM: someone else's) */
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		fuzz_empty_dir(path);
		rmdir(path);
	}
	closedir(d);
}

int fuzz_scratch_dir(unsigned size_mb, char *out, size_t cap)
{
	const char *parent = getenv("TMPDIR");
	struct stat st;
	int rc;

	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		parent = "/dev/shm";
	if (!parent)
		parent = "/tmp";
	remove_stale(parent);
	snprintf(scratch_path, sizeof(scratch_path), "%s/daxnfs-fuzz-%d", parent, (int)getpid());
	if (mkdir(scratch_path, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* removed at exit in both cases (after a crash, by the next run; the
	 * mount never outlives the process: it goes with the namespace) */
	scratch_remove_at_exit = true;
	atexit(scratch_cleanup);
	rc = geteuid() == 0 ? private_tmpfs(size_mb, scratch_path) : -EPERM;
	scratch_mounted = rc == 0;
	if (rc == 0)
		fprintf(stderr, "fuzz: scratch area %s: %u MiB tmpfs in a private mount namespace\n",
			scratch_path, size_mb);
	else
		fprintf(stderr, "fuzz: scratch area %s: plain directory (no private tmpfs: %s; "
			"run as root for one)\n", scratch_path, strerror(-rc));
	if ((size_t)snprintf(out, cap, "%s", scratch_path) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- server bring-up ---- */

static int make_dir(const char *base, const char *name, uint32_t owner_uid, char *out, size_t cap)
{
	if ((size_t)snprintf(out, cap, "%s/%s", base, name) >= cap)
		return -ENAMETOOLONG;
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (chown(out, owner_uid, owner_uid) < 0 && geteuid() == 0)
		return -errno;
	return 0;
}

int fuzz_server_up(const char *base, uint32_t owner_uid, bool whole_server)
{
	static struct daxnfs_config cfg;   /* large: off the stack */
	char ea[600], ebc[600], state[600], conf_path[600], err[1024];
	FILE *f;
	int rc;

	rc = make_dir(base, "ea", owner_uid, ea, sizeof(ea));
	if (rc == 0)
		rc = make_dir(base, "ebc", owner_uid, ebc, sizeof(ebc));
	if (rc == 0)
		rc = make_dir(base, "state", 0, state, sizeof(state));
	if (rc < 0)
		goto out;
	snprintf(conf_path, sizeof(conf_path), "%s/daxnfs.conf", base);
	f = fopen(conf_path, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	fprintf(f,
		"NFS_CORE_PARAM { Max_Record_Size = 1114112; }\n"
		"NFSV4 { Recovery_Dir = \"%s\"; Domain = fuzz.example; }\n"
		"LOG { Level = error; Destination = stderr; }\n"
		"EXPORT { Export_Id = 1; Path = \"%s\"; Pseudo = /a; Access_Type = RW; }\n"
		"EXPORT { Export_Id = 2; Path = \"%s\"; Pseudo = /b/c; Access_Type = RO; }\n",
		state, ea, ebc);
	if (fclose(f) != 0) {
		rc = -errno;
		goto out;
	}
	rc = conf_load(conf_path, NULL, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		goto out;
	}
	/* the harnesses run millions of requests: only errors are worth a line */
	log_set_level(LOG_LVL_ERROR);
	rc = nfs4_exports_init(&cfg);
	if (rc < 0)
		goto out;
	rc = whole_server ? nfs4_server_init(&cfg, NULL, &fuzz_srv) : nfs4_fh_mac_init(cfg.recovery_dir);
out:
	if (rc < 0)
		fprintf(stderr, "fuzz: server bring-up under %s failed: %s\n", base, strerror(-rc));
	return rc;
}
