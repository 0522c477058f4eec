/*
 * pmem/posix_obj.c: attributes of an object: getattr, setattr, access.
 *
 * Job: read attributes with statx (including STATX_ATTR_DAX, per file),
 * change them as the caller (so the kernel applies its ownership and
 * permission rules), and answer access checks as the kernel would for the
 * caller (faccessat with AT_EACCESS under the caller's fs credentials, so
 * ACLs count too).
 * Calls: libc, Linux syscalls. Called by: the backend object table.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

int posix_getattr(struct pmem_obj *obj, struct pmem_attr *a)
{
	struct posix_obj *o = posix_obj(obj);
	struct statx stx;

	if (statx(o->path_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
		  STATX_BASIC_STATS | STATX_BTIME, &stx) < 0)
		return -errno;
	memset(a, 0, sizeof(*a));
	a->type = posix_mode_type(stx.stx_mode);
	a->mode = stx.stx_mode & 07777;
	a->nlink = stx.stx_nlink;
	a->uid = stx.stx_uid;
	a->gid = stx.stx_gid;
	a->size = stx.stx_size;
	a->space_used = stx.stx_blocks * 512;
	a->rdev_major = stx.stx_rdev_major;
	a->rdev_minor = stx.stx_rdev_minor;
	a->fsid_major = stx.stx_dev_major;
	a->fsid_minor = stx.stx_dev_minor;
	a->fileid = stx.stx_ino;
	a->atime = (struct pmem_time){ stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec };
	a->mtime = (struct pmem_time){ stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec };
	a->ctime = (struct pmem_time){ stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec };
	if (stx.stx_mask & STATX_BTIME)
		a->btime = (struct pmem_time){ stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec };
	else
		a->btime = a->ctime;
	/* Every data or metadata change moves ctime; with the kernel's
	 * fine-grained timestamps two changes in a row differ in nsec. */
	a->change = (uint64_t)stx.stx_ctime.tv_sec * 1000000000ull + stx.stx_ctime.tv_nsec;
	a->dax = (stx.stx_attributes_mask & STATX_ATTR_DAX) && (stx.stx_attributes & STATX_ATTR_DAX);
	return 0;
}

static int set_size(struct posix_obj *o, uint64_t size)
{
	char path[64];
	int rc = 0;

	if (o->pub.type == PMEM_TYPE_DIR)
		return -EISDIR;
	if (o->pub.type != PMEM_TYPE_REG)
		return -EINVAL;
	if (size > INT64_MAX)
		return -EFBIG;
	/* truncate(2) on the path checks the caller's write permission; it also
	 * breaks leases, ours included. Under our own write lease (a write
	 * delegation's holder truncating) the leased descriptor is truncated
	 * instead, after the same permission check (faccessat2 with
	 * AT_EACCESS checks as the fsuid the caller runs as); under a read
	 * lease the caller recalls first. */
	pthread_rwlock_rdlock(&o->fd_lock);
	if (o->lease == PMEM_LEASE_WRITE && o->data_fd >= 0 && o->data_flags == O_RDWR) {
		if (faccessat(o->path_fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS) < 0 ||
		    ftruncate(o->data_fd, (off_t)size) < 0)
			rc = -errno;
		pthread_rwlock_unlock(&o->fd_lock);
		if (rc == 0)
			posix_map_drop(o);
		return rc;
	}
	if (o->lease)
		rc = -EAGAIN;
	pthread_rwlock_unlock(&o->fd_lock);
	if (rc)
		return rc;
	posix_fd_path(o->path_fd, path);
	if (truncate(path, (off_t)size) < 0)
		return -errno;
	/* Windows past the new EOF would fault: forget them (in-use ones stay). */
	posix_map_drop(o);
	return 0;
}

int posix_setattr(struct pmem_obj *obj, const struct pmem_cred *cred, const struct pmem_setattr *sa)
{
	struct posix_obj *o = posix_obj(obj);
	struct posix_cred_save save;
	struct timespec ts[2];
	char path[64];
	int rc;

	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	if (sa->valid & (PMEM_SET_UID | PMEM_SET_GID)) {
		uid_t uid = (sa->valid & PMEM_SET_UID) ? sa->uid : (uid_t)-1;
		gid_t gid = (sa->valid & PMEM_SET_GID) ? sa->gid : (gid_t)-1;

		if (fchownat(o->path_fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -errno;
			goto out;
		}
	}
	/* After chown, which clears set-id bits, so an explicit mode wins. */
	if ((sa->valid & PMEM_SET_MODE) && o->pub.type != PMEM_TYPE_LNK) {
		posix_fd_path(o->path_fd, path);
		if (chmod(path, sa->mode & 07777) < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (sa->valid & PMEM_SET_SIZE) {
		rc = set_size(o, sa->size);
		if (rc)
			goto out;
	}
	if (sa->valid & (PMEM_SET_ATIME | PMEM_SET_ATIME_NOW | PMEM_SET_MTIME | PMEM_SET_MTIME_NOW)) {
		ts[0].tv_sec = sa->atime.sec;
		ts[0].tv_nsec = sa->atime.nsec;
		ts[1].tv_sec = sa->mtime.sec;
		ts[1].tv_nsec = sa->mtime.nsec;
		if (sa->valid & PMEM_SET_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (!(sa->valid & PMEM_SET_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		if (sa->valid & PMEM_SET_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (!(sa->valid & PMEM_SET_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		if (utimensat(o->path_fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -errno;
			goto out;
		}
	}
	rc = 0;
out:
	posix_cred_leave(&save);
	return rc;
}

int posix_access(struct pmem_obj *obj, const struct pmem_cred *cred, uint32_t want, uint32_t *granted)
{
	static const struct { uint32_t acc; int mode; } bits[] = {
		{ PMEM_ACC_READ, R_OK }, { PMEM_ACC_WRITE, W_OK }, { PMEM_ACC_EXEC, X_OK },
	};
	struct posix_obj *o = posix_obj(obj);
	struct posix_cred_save save;
	size_t i;
	int rc;

	*granted = 0;
	rc = posix_cred_enter(cred, &save);
	if (rc)
		return rc;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(want & bits[i].acc))
			continue;
		/* AT_EACCESS: check with the fs credentials just set, not the real uid. */
		if (faccessat(o->path_fd, "", bits[i].mode, AT_EACCESS | AT_EMPTY_PATH) == 0)
			*granted |= bits[i].acc;
		else if (errno != EACCES && errno != EPERM && errno != EROFS && errno != ETXTBSY) {
			rc = -errno;
			break;
		}
	}
	posix_cred_leave(&save);
	return rc;
}
