/*
 * pmem/posix_xattr.c: extended attributes of the user namespace, for
 * NFSv4.2's GETXATTR, SETXATTR, LISTXATTRS and REMOVEXATTR (RFC 8276).
 *
 * Job: get, set, list and remove "user." attributes of regular files and
 * directories, as the caller (the kernel checks read permission to get and
 * list, write permission to set and remove), through the object's O_PATH
 * descriptor's /proc/self/fd link. Names come and go without the "user."
 * prefix, as the protocol carries them; no other namespace is reachable.
 * Errors stay the kernel's: -ENODATA (no such attribute), -EEXIST (create
 * of one that exists), -EOPNOTSUPP (the filesystem keeps none), -E2BIG or
 * -ERANGE (past the kernel's limits), -EPERM (not a file or directory).
 * Calls: libc, posix_cred.c. Called by: the backend table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <linux/limits.h>   /* XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX */

#include "pmem/posix_priv.h"

#define USER_PREFIX "user."
#define USER_PREFIX_LEN 5

/* "user." + name into out (XATTR_NAME_MAX + 1 bytes). */
static int user_name(const char *name, char out[XATTR_NAME_MAX + 1])
{
	size_t n = strlen(name);

	if (n == 0)
		return -EINVAL;
	if (USER_PREFIX_LEN + n > XATTR_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(out, USER_PREFIX, USER_PREFIX_LEN);
	memcpy(out + USER_PREFIX_LEN, name, n + 1);
	return 0;
}

/* User attributes live on regular files and directories only (the kernel
 * says EPERM for the others; the proc link of a symlink's O_PATH descriptor
 * would also lead past it). */
static int xattr_obj_check(struct pmem_obj *obj)
{
	return obj->type == PMEM_TYPE_REG || obj->type == PMEM_TYPE_DIR ? 0 : -EPERM;
}

/* The steps get, set and remove share: the object's type, "user." + name,
 * the caller's credential entered, the object's /proc path. */
static int xattr_begin(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
		       char full[XATTR_NAME_MAX + 1], struct posix_cred_save *save, char path[64])
{
	int rc = xattr_obj_check(obj);

	if (rc == 0)
		rc = user_name(name, full);
	if (rc == 0)
		rc = posix_cred_enter(cred, save);
	if (rc == 0)
		posix_fd_path(posix_obj(obj)->path_fd, path);
	return rc;
}

int posix_getxattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
		   void *buf, size_t cap, size_t *len)
{
	struct posix_cred_save save;
	char full[XATTR_NAME_MAX + 1], path[64];
	ssize_t r;
	int rc;

	rc = xattr_begin(obj, cred, name, full, &save, path);
	if (rc)
		return rc;
	r = getxattr(path, full, buf, cap);
	if (r < 0)
		rc = errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	else
		*len = (size_t)r;
	posix_cred_leave(&save);
	return rc;
}

int posix_setxattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
		   const void *val, size_t len, enum pmem_xattr_how how)
{
	struct posix_cred_save save;
	char full[XATTR_NAME_MAX + 1], path[64];
	int rc, flags = how == PMEM_XATTR_CREATE ? XATTR_CREATE
			: how == PMEM_XATTR_REPLACE ? XATTR_REPLACE : 0;

	if (len > XATTR_SIZE_MAX)
		return -E2BIG;
	rc = xattr_begin(obj, cred, name, full, &save, path);
	if (rc)
		return rc;
	if (setxattr(path, full, val, len, flags) < 0)
		rc = errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	posix_cred_leave(&save);
	return rc;
}

int posix_removexattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name)
{
	struct posix_cred_save save;
	char full[XATTR_NAME_MAX + 1], path[64];
	int rc;

	rc = xattr_begin(obj, cred, name, full, &save, path);
	if (rc)
		return rc;
	if (removexattr(path, full) < 0)
		rc = errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	posix_cred_leave(&save);
	return rc;
}

int posix_listxattr(struct pmem_obj *obj, const struct pmem_cred *cred, char *buf, size_t cap,
		    size_t *len)
{
	struct posix_obj *o = posix_obj(obj);
	struct posix_cred_save save;
	char path[64], *all = NULL;
	size_t out = 0;
	ssize_t r;
	int rc;

	rc = xattr_obj_check(obj);
	if (rc)
		return rc;
	all = malloc(XATTR_LIST_MAX);
	if (!all)
		return -ENOMEM;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		goto out;
	posix_fd_path(o->path_fd, path);
	r = listxattr(path, all, XATTR_LIST_MAX);
	if (r < 0)
		rc = errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	posix_cred_leave(&save);
	if (rc)
		goto out;
	/* Keep the user namespace's names, prefix stripped. */
	for (size_t i = 0; i < (size_t)r;) {
		size_t n = strnlen(all + i, (size_t)r - i);

		if (n > USER_PREFIX_LEN && memcmp(all + i, USER_PREFIX, USER_PREFIX_LEN) == 0) {
			size_t k = n - USER_PREFIX_LEN + 1;

			if (out + k > cap) {
				rc = -ERANGE;
				goto out;
			}
			memcpy(buf + out, all + i + USER_PREFIX_LEN, k - 1);
			buf[out + k - 1] = '\0';
			out += k;
		}
		i += n + 1;
	}
	*len = out;
out:
	free(all);
	return rc;
}

bool posix_xattr_probe(int root_fd)
{
	char v;

	/* A name nobody sets: ENODATA where user attributes are kept. */
	return fgetxattr(root_fd, "user.daxnfs.probe", &v, sizeof(v)) >= 0 || errno == ENODATA ||
	       errno == ERANGE;
}
