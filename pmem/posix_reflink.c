/*
 * pmem/posix_reflink.c: reflink clones, server-side copies, space
 * allocation, and seek data/hole.
 *
 * Job: clone a whole file (FICLONE) or a range (FICLONERANGE) between two
 * objects of one export, copy a range (copy_file_range, which reflinks where
 * the filesystem can; a read/write loop where the kernel cannot),
 * ALLOCATE (fallocate), DEALLOCATE (punch hole, keeping the size) and SEEK
 * to data or hole, all on the objects' own data descriptors. Errors stay the kernel's, made uniform: -EOPNOTSUPP where the
 * filesystem cannot clone, -EINVAL for a range not aligned to the block size
 * (except one that ends at the source's EOF) or a DAX/non-DAX pair, -EXDEV
 * across filesystems. The NFS layer maps them to NOTSUPP / INVAL / XDEV.
 * Calls: libc, Linux syscalls, posix_io.c. Called by: the backend table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

static int reg_check(struct pmem_obj *obj)
{
	if (obj->type == PMEM_TYPE_DIR)
		return -EISDIR;
	return obj->type == PMEM_TYPE_REG ? 0 : -EINVAL;
}

static int clone_errno(int e)
{
	/* ENOTTY/ENOSYS: no remap support at all: same as the fs saying no. */
	if (e == ENOTTY || e == ENOSYS || e == ENOTSUP)
		return -EOPNOTSUPP;
	return -e;
}

int posix_clone(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst,
		uint64_t dst_off, uint64_t len)
{
	struct posix_obj *s = posix_obj(src), *d = posix_obj(dst);
	struct file_clone_range r;
	bool got_src = false, got_dst = false;
	int sfd = -1, dfd, rc;

	rc = reg_check(src);
	if (rc == 0)
		rc = reg_check(dst);
	if (rc)
		return rc;
	if (src->exp != dst->exp || s->dev != d->dev)
		return -EXDEV;
	if (src_off > INT64_MAX || dst_off > INT64_MAX || len > INT64_MAX)
		return -EINVAL;
	rc = posix_data_get(d, true, &dfd);
	if (rc)
		goto out;
	got_dst = true;
	if (s == d) {
		sfd = dfd;   /* one descriptor: taking fd_lock twice could deadlock */
	} else {
		rc = posix_data_get(s, false, &sfd);
		if (rc)
			goto out;
		got_src = true;
	}
	if (src_off == 0 && dst_off == 0 && len == 0) {
		if (ioctl(dfd, FICLONE, sfd) < 0)
			rc = clone_errno(errno);
	} else {
		r.src_fd = sfd;
		r.src_offset = src_off;
		r.src_length = len;   /* 0: to the end of the source */
		r.dest_offset = dst_off;
		if (ioctl(dfd, FICLONERANGE, &r) < 0)
			rc = clone_errno(errno);
	}
out:
	if (got_src)
		posix_data_put(s);
	if (got_dst)
		posix_data_put(d);
	return rc;
}

/* The kernel could not copy between these descriptors: bytes through a
 * bounded buffer. */
static int copy_by_hand(int sfd, uint64_t soff, int dfd, uint64_t doff, uint64_t len,
			uint64_t *copied)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	while (*copied < len) {
		size_t want = len - *copied < chunk ? (size_t)(len - *copied) : chunk;
		ssize_t n = pread(sfd, buf, want, (off_t)(soff + *copied)), w;

		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;   /* the source's end */
		for (ssize_t done = 0; done < n; done += w) {
			w = pwrite(dfd, buf + done, (size_t)(n - done),
				   (off_t)(doff + *copied + (uint64_t)done));
			if (w < 0) {
				rc = -errno;
				goto out;
			}
		}
		*copied += (uint64_t)n;
	}
out:
	free(buf);
	return rc;
}

int posix_copy(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst, uint64_t dst_off,
	       uint64_t len, uint64_t *copied)
{
	struct posix_obj *s = posix_obj(src), *d = posix_obj(dst);
	bool got_src = false, got_dst = false;
	int sfd = -1, dfd, rc;

	*copied = 0;
	rc = reg_check(src);
	if (rc == 0)
		rc = reg_check(dst);
	if (rc)
		return rc;
	if (src_off > INT64_MAX || dst_off > INT64_MAX || len > INT64_MAX - src_off ||
	    len > INT64_MAX - dst_off)
		return -EINVAL;
	rc = posix_data_get(d, true, &dfd);
	if (rc)
		goto out;
	got_dst = true;
	if (s == d) {
		sfd = dfd;
	} else {
		rc = posix_data_get(s, false, &sfd);
		if (rc)
			goto out;
		got_src = true;
	}
	while (*copied < len) {
		loff_t so = (loff_t)(src_off + *copied), dof = (loff_t)(dst_off + *copied);
		ssize_t n = copy_file_range(sfd, &so, dfd, &dof, (size_t)(len - *copied < (1u << 30)
							      ? len - *copied : (1u << 30)), 0);

		if (n < 0) {
			if ((errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS ||
			     errno == EINVAL) && *copied == 0) {
				rc = copy_by_hand(sfd, src_off, dfd, dst_off, len, copied);
				break;
			}
			rc = -errno;
			break;
		}
		if (n == 0)
			break;   /* the source's end */
		*copied += (uint64_t)n;
	}
out:
	if (got_src)
		posix_data_put(s);
	if (got_dst)
		posix_data_put(d);
	return rc;
}

static int falloc(struct pmem_obj *obj, int mode, uint64_t off, uint64_t len)
{
	struct posix_obj *o = posix_obj(obj);
	int fd, rc = reg_check(obj);

	if (rc)
		return rc;
	if (len == 0 || off > INT64_MAX || len > INT64_MAX - off)
		return -EINVAL;
	rc = posix_data_get(o, true, &fd);
	if (rc)
		return rc;
	if (fallocate(fd, mode, (off_t)off, (off_t)len) < 0)
		rc = errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	posix_data_put(o);
	return rc;
}

int posix_allocate(struct pmem_obj *obj, uint64_t off, uint64_t len)
{
	return falloc(obj, 0, off, len);
}

int posix_deallocate(struct pmem_obj *obj, uint64_t off, uint64_t len)
{
	return falloc(obj, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

int posix_seek(struct pmem_obj *obj, uint64_t off, enum pmem_seek_what what, uint64_t *result)
{
	struct posix_obj *o = posix_obj(obj);
	off_t r;
	int fd, rc = reg_check(obj);

	if (rc)
		return rc;
	if (off > INT64_MAX)
		return -ENXIO;
	if (what != PMEM_SEEK_DATA && what != PMEM_SEEK_HOLE)
		return -EINVAL;
	rc = posix_data_get(o, false, &fd);
	if (rc)
		return rc;
	r = lseek(fd, (off_t)off, what == PMEM_SEEK_DATA ? SEEK_DATA : SEEK_HOLE);
	if (r < 0)
		rc = -errno;
	else
		*result = (uint64_t)r;
	posix_data_put(o);
	return rc;
}
