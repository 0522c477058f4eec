/*
 * pmem/posix_dir.c: directory operations.
 *
 * Job: lookup, create, mknode, symlink, link, remove, rename, readdir and
 * readlink, each run with the caller's credentials (posix_cred.c) on the
 * directory's O_PATH descriptor, so the kernel checks permissions and gives
 * new files the caller's ownership. Nothing here opens a file for reading or
 * writing (files are created with mknodat), so no lease is ever broken by a
 * namespace operation of the server's own.
 * Calls: libc, Linux syscalls, posix_cred.c, posix_export.c.
 * Called by: the backend object table.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

#define READDIR_BUF 32768

/* The object for name in dir, looked up as whoever the thread is now. */
static int open_child(struct posix_obj *d, const char *name, struct pmem_obj **out)
{
	int fd = openat(d->path_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0 && posix_objcache_trim_for_fds(posix_exp(d->pub.exp), -errno))
		fd = openat(d->path_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = posix_obj_from_fd(posix_exp(d->pub.exp), fd, out);
	if (rc == 0)
		posix_subtree_reached(posix_obj(*out), d);
	return rc;
}

static int dir_check(struct pmem_obj *dir, const char *name)
{
	if (dir->type != PMEM_TYPE_DIR)
		return -ENOTDIR;
	if (!posix_name_ok(name))
		return -EINVAL;
	return 0;
}

/* dir_check, then act as the caller; on success the caller must
 * posix_cred_leave(save). */
static int dir_enter(struct pmem_obj *dir, const char *name, const struct pmem_cred *cred,
		     struct posix_cred_save *save)
{
	int rc = dir_check(dir, name);

	return rc ? rc : posix_cred_enter(cred, save);
}

/* The cached object for name in d, found by the name's kernel handle
 * without opening anything: 0; 1 when there is none (open it); or the
 * answer an open would give (no such name, no search permission). The name
 * was linked a moment ago, so no nlink check is needed; a name on another
 * mount (a mount point) is never taken for one of ours. */
static int cached_child(struct posix_obj *d, const char *name, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(d->pub.exp);
	uint8_t h[POSIX_KHANDLE_MAX];
	size_t hlen = 0;
	int mnt, rc;

	rc = posix_at_khandle(d->path_fd, name, 0, h, &hlen, &mnt);
	if (rc == -ENOENT || rc == -EACCES)
		return rc;
	if (rc < 0 || mnt != exp->mount_id ||
	    posix_objcache_find(exp, h, hlen, POSIX_FIND_NAMED, out, NULL) < 0)
		return 1;
	posix_subtree_reached(posix_obj(*out), d);
	return 0;
}

int posix_lookup(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name, struct pmem_obj **out)
{
	struct posix_cred_save save;
	int rc = dir_enter(dir, name, cred, &save);

	if (rc)
		return rc;
	rc = cached_child(posix_obj(dir), name, out);
	if (rc == 1)
		rc = open_child(posix_obj(dir), name, out);
	posix_cred_leave(&save);
	return rc;
}

int posix_lookup_parent(struct pmem_obj *dir, const struct pmem_cred *cred, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(dir->exp);
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	int fd, rc;

	if (dir->type != PMEM_TYPE_DIR)
		return -ENOTDIR;
	if (d->ino == exp->root_ino && d->dev == exp->dev)
		return -ENOENT;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	fd = openat(d->path_fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	rc = fd < 0 ? -errno : posix_obj_from_fd(exp, fd, out);
	posix_cred_leave(&save);
	return rc;
}

/* After mknodat/mkdirat made name: set its mode and open it. Those calls
 * apply the process umask; the NFS caller already applied its own, so the
 * mode asked for is set exactly (as the new owner). */
static int finish_create(struct posix_obj *d, const char *name, uint32_t mode,
			 struct pmem_obj **out)
{
	if (fchmodat(d->path_fd, name, mode & 07777, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return -errno;
	return open_child(d, name, out);
}

int posix_create_file(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		      uint32_t mode, bool exclusive, struct pmem_obj **out)
{
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	int rc = dir_enter(dir, name, cred, &save);

	if (rc)
		return rc;
	/* mknodat, not open(O_CREAT): an open would break leases on an
	 * existing file, ours included. */
	if (mknodat(d->path_fd, name, S_IFREG | (mode & 07777), 0) < 0) {
		rc = -errno;
		if (rc != -EEXIST || exclusive)
			goto out;
		rc = open_child(d, name, out);
		if (rc == 0 && (*out)->type != PMEM_TYPE_REG) {
			pmem_obj_put(*out);
			*out = NULL;
			rc = -EEXIST;
		}
		goto out;
	}
	rc = finish_create(d, name, mode, out);
out:
	posix_cred_leave(&save);
	return rc;
}

int posix_mknode(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		 enum pmem_obj_type type, uint32_t mode, uint32_t rdev_major,
		 uint32_t rdev_minor, struct pmem_obj **out)
{
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	mode_t fmt;
	dev_t rdev = 0;
	int rc = dir_check(dir, name);

	if (rc)
		return rc;
	switch (type) {
	case PMEM_TYPE_DIR: fmt = S_IFDIR; break;
	case PMEM_TYPE_FIFO: fmt = S_IFIFO; break;
	case PMEM_TYPE_SOCK: fmt = S_IFSOCK; break;
	case PMEM_TYPE_BLK: fmt = S_IFBLK; rdev = makedev(rdev_major, rdev_minor); break;
	case PMEM_TYPE_CHR: fmt = S_IFCHR; rdev = makedev(rdev_major, rdev_minor); break;
	default: return -EINVAL;
	}
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	if (fmt == S_IFDIR)
		rc = mkdirat(d->path_fd, name, mode & 07777);
	else
		rc = mknodat(d->path_fd, name, fmt | (mode & 07777), rdev);
	if (rc < 0) {
		rc = -errno;
		goto out;
	}
	rc = finish_create(d, name, mode, out);
out:
	posix_cred_leave(&save);
	return rc;
}

int posix_symlink(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		  const char *target, struct pmem_obj **out)
{
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	int rc = dir_check(dir, name);

	if (rc)
		return rc;
	if (!target || !*target || strlen(target) >= 4096)
		return -EINVAL;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	if (symlinkat(target, d->path_fd, name) < 0)
		rc = -errno;
	else
		rc = open_child(d, name, out);
	posix_cred_leave(&save);
	return rc;
}

int posix_readlink(struct pmem_obj *obj, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	if (obj->type != PMEM_TYPE_LNK)
		return -EINVAL;
	n = readlinkat(posix_obj(obj)->path_fd, "", buf, cap);
	if (n < 0)
		return -errno;
	if ((size_t)n == cap)
		return -ENAMETOOLONG;   /* may be cut short */
	*len = (size_t)n;
	return 0;
}

int posix_link(struct pmem_obj *obj, struct pmem_obj *dir, const struct pmem_cred *cred, const char *name)
{
	struct posix_cred_save save;
	char path[64];
	int rc = dir_check(dir, name);

	if (rc)
		return rc;
	if (obj->type == PMEM_TYPE_DIR)
		return -EISDIR;
	if (obj->exp != dir->exp)
		return -EXDEV;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	/* Through the /proc magic link: linkat(AT_EMPTY_PATH) needs
	 * CAP_DAC_READ_SEARCH, which the caller's credentials do not have. */
	posix_fd_path(posix_obj(obj)->path_fd, path);
	if (linkat(AT_FDCWD, path, posix_obj(dir)->path_fd, name, AT_SYMLINK_FOLLOW) < 0)
		rc = -errno;
	posix_cred_leave(&save);
	return rc;
}

int posix_remove(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name)
{
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	uint8_t h[POSIX_KHANDLE_MAX];
	size_t hlen = 0;
	int mnt = -1;
	int rc = dir_enter(dir, name, cred, &save);

	if (rc)
		return rc;
	/* The victim's handle, to close its cached object once unlinked. */
	if (posix_at_khandle(d->path_fd, name, 0, h, &hlen, &mnt) < 0 ||
	    mnt != posix_exp(dir->exp)->mount_id)
		hlen = 0;
	if (unlinkat(d->path_fd, name, 0) < 0) {
		rc = -errno;
		if (rc == -EISDIR)
			rc = unlinkat(d->path_fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	posix_cred_leave(&save);
	if (rc == 0 && hlen)
		posix_objcache_forget(posix_exp(dir->exp), h, hlen);
	return rc;
}

int posix_rename(struct pmem_obj *sdir, const char *sname, struct pmem_obj *ddir,
		 const char *dname, const struct pmem_cred *cred)
{
	struct posix_cred_save save;
	uint8_t h[POSIX_KHANDLE_MAX];
	size_t hlen = 0;
	int mnt = -1;
	int rc = dir_check(sdir, sname);

	if (rc == 0)
		rc = dir_check(ddir, dname);
	if (rc)
		return rc;
	if (sdir->exp != ddir->exp)
		return -EXDEV;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	/* What the new name may replace, to close its cached object after. */
	if (posix_at_khandle(posix_obj(ddir)->path_fd, dname, 0, h, &hlen, &mnt) < 0 ||
	    mnt != posix_exp(ddir->exp)->mount_id)
		hlen = 0;
	if (renameat(posix_obj(sdir)->path_fd, sname, posix_obj(ddir)->path_fd, dname) < 0)
		rc = -errno;
	posix_cred_leave(&save);
	if (rc == 0 && hlen)
		posix_objcache_forget(posix_exp(ddir->exp), h, hlen);
	return rc;
}

static enum pmem_obj_type dt_type(unsigned char t)
{
	switch (t) {
	case DT_DIR: return PMEM_TYPE_DIR;
	case DT_BLK: return PMEM_TYPE_BLK;
	case DT_CHR: return PMEM_TYPE_CHR;
	case DT_LNK: return PMEM_TYPE_LNK;
	case DT_SOCK: return PMEM_TYPE_SOCK;
	case DT_FIFO: return PMEM_TYPE_FIFO;
	default: return PMEM_TYPE_REG;
	}
}

int posix_readdir(struct pmem_obj *dir, const struct pmem_cred *cred, uint64_t cookie,
		  pmem_readdir_cb cb, void *ctx, bool *eof)
{
	struct posix_obj *d = posix_obj(dir);
	struct posix_cred_save save;
	char *buf = NULL;
	ssize_t n, pos;
	int fd = -1, rc;

	*eof = false;
	if (dir->type != PMEM_TYPE_DIR)
		return -ENOTDIR;
	buf = malloc(READDIR_BUF);
	if (!buf)
		return -ENOMEM;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		goto out;
	/* Opening as the caller checks read permission on the directory. */
	fd = openat(d->path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	posix_cred_leave(&save);
	if (rc)
		goto out;
	/* Cookies are the filesystem's directory offsets (d_off). */
	if (cookie && lseek(fd, (off_t)cookie, SEEK_SET) < 0) {
		rc = errno == EINVAL ? -EINVAL : -errno;
		goto out;
	}
	for (;;) {
		n = getdents64(fd, buf, READDIR_BUF);
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0) {
			*eof = true;
			break;
		}
		for (pos = 0; pos < n;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + pos);

			pos += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!cb(ctx, de->d_name, strlen(de->d_name), (uint64_t)de->d_off,
				de->d_ino, dt_type(de->d_type)))
				goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
