/*
 * pmem/posix_subtree.c: is an object inside its export? (sub-directory
 * exports only: a whole-filesystem export needs no check).
 *
 * A handle is authenticated by the server (server/nfs4_fh_mac.c), so only
 * handles the server gave out get here; what can still go wrong is that the
 * object left the export since (an administrator moved it out). Asked when
 * a handle is decoded, answered from the object's cached verdict while it is
 * fresh (POSIX_INSIDE_TTL_MS, and only while the inode's ctime is unchanged:
 * a rename of the object itself changes it), else:
 * - a directory: walk ".." up to the export root (or the filesystem root:
 *   outside). Depth is bounded only by a sanity limit far beyond any real
 *   tree, and the verdict is cached, so deep trees work and cost one walk
 *   per TTL;
 * - anything else: inside when the kernel's path of the descriptor lies
 *   under the export's root (the usual case: the inode's dentry is known),
 *   or when the directory whose handle the object's handle carries is inside
 *   and still holds an entry with the object's inode number. A file renamed
 *   into another directory and then forgotten by the kernel's dentry cache
 *   is STALE, as with knfsd's subtree_check (docs/security.md).
 * An object reached through a directory (lookup, create) is inside by
 * construction.
 * Calls: libc, Linux syscalls. Called by: posix_export.c, posix_dir.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

#define POSIX_INSIDE_TTL_MS 5000
/* Not a limit on trees (PATH_MAX does not bound depth): a guard against a
 * walk that never ends on a filesystem that misreports "..". */
#define SUBTREE_MAX_DEPTH (1u << 20)
#define SCAN_BUF 32768

struct linux_dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void verdict_store(struct posix_export *exp, struct posix_obj *o, const struct stat *st)
{
	pthread_mutex_lock(&exp->lock);
	o->inside_until_ms = posix_now_ms() + POSIX_INSIDE_TTL_MS;
	o->inside_ctime = st->st_ctim;
	pthread_mutex_unlock(&exp->lock);
}

static bool verdict_fresh(struct posix_export *exp, struct posix_obj *o, const struct stat *st)
{
	bool fresh;

	pthread_mutex_lock(&exp->lock);
	fresh = o->inside_until_ms > posix_now_ms() &&
		o->inside_ctime.tv_sec == st->st_ctim.tv_sec &&
		o->inside_ctime.tv_nsec == st->st_ctim.tv_nsec;
	pthread_mutex_unlock(&exp->lock);
	return fresh;
}

void posix_subtree_reached(struct posix_obj *o, struct posix_obj *dir)
{
	struct posix_export *exp = posix_exp(o->pub.exp);
	struct stat st;

	if (exp->root_is_mount_root)
		return;
	if (o->pub.type != PMEM_TYPE_DIR) {
		pthread_mutex_lock(&exp->lock);
		if (o->plen == 0 && dir->hlen <= sizeof(o->parent)) {
			memcpy(o->parent, dir->handle, dir->hlen);
			o->plen = dir->hlen;
		}
		pthread_mutex_unlock(&exp->lock);
	}
	if (fstat(o->path_fd, &st) == 0)
		verdict_store(exp, o, &st);
}

/* Is directory fd inside the export? */
static int dir_walk(struct posix_export *exp, int fd)
{
	struct stat st, pst;
	unsigned depth;
	int cur, up, rc = -ESTALE;

	cur = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	for (depth = 0; depth < SUBTREE_MAX_DEPTH; depth++) {
		if (fstat(cur, &st) < 0) {
			rc = -errno;
			break;
		}
		if (st.st_ino == exp->root_ino && st.st_dev == exp->dev) {
			rc = 0;
			break;
		}
		up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up < 0) {
			rc = -errno;
			break;
		}
		if (fstat(up, &pst) < 0 || (pst.st_ino == st.st_ino && pst.st_dev == st.st_dev)) {
			close(up);
			break;   /* reached the filesystem root: outside */
		}
		close(cur);
		cur = up;
	}
	close(cur);
	return rc;
}

/* The kernel's path of fd lies under the export root. */
static bool path_inside(struct posix_export *exp, int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	posix_fd_path(fd, link);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n >= sizeof(path) - 1)
		return false;
	path[n] = '\0';
	return (size_t)n > exp->real_len && memcmp(path, exp->real_path, exp->real_len) == 0 &&
	       (exp->real_len == 1 || path[exp->real_len] == '/');
}

/* Directory dirfd (readable) has an entry with inode ino. */
static bool dir_has_ino(int dirfd, ino_t ino)
{
	char *buf = malloc(SCAN_BUF);
	bool found = false;
	long n;

	if (!buf)
		return false;
	while (!found && (n = syscall(SYS_getdents64, dirfd, buf, SCAN_BUF)) > 0) {
		long off = 0;

		while (off < n) {
			struct linux_dirent64_hdr *d = (struct linux_dirent64_hdr *)(buf + off);

			if (d->d_ino == (uint64_t)ino && strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0) {
				found = true;
				break;
			}
			off += d->d_reclen;
		}
	}
	free(buf);
	return found;
}

/* The directory named by parent (kernel handle bytes) is inside the export
 * and holds an entry for ino. */
static int parent_holds(struct posix_export *exp, const uint8_t *parent, size_t plen, ino_t ino)
{
	struct stat st;
	int fd, rc;

	fd = posix_khandle_open(exp, parent, plen, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -ESTALE;
	if (fstat(fd, &st) < 0 || st.st_dev != exp->dev || !S_ISDIR(st.st_mode)) {
		rc = -ESTALE;
		goto out;
	}
	rc = dir_walk(exp, fd);
	if (rc == 0 && !dir_has_ino(fd, ino))
		rc = -ESTALE;
out:
	close(fd);
	return rc;
}

int posix_subtree_check(struct posix_export *exp, struct posix_obj *o, int fd,
			const struct stat *st, const uint8_t *parent, size_t plen)
{
	int rc;

	if (exp->root_is_mount_root || verdict_fresh(exp, o, st))
		return 0;
	if (S_ISDIR(st->st_mode))
		rc = dir_walk(exp, fd);
	else if (path_inside(exp, fd))
		rc = 0;
	else
		rc = parent_holds(exp, parent, plen, st->st_ino);
	if (rc == 0)
		verdict_store(exp, o, st);
	return rc;
}
