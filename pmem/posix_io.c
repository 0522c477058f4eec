/*
 * pmem/posix_io.c: the data descriptor, read, write, commit, and leases.
 *
 * Job: own each regular file's one data descriptor (O_RDONLY until a write
 * needs O_RDWR, O_RDONLY while a read lease is held or when the file cannot
 * be opened for writing), do the server's reads
 * and writes through it (pread/pwrite, or the mapping cache when the export
 * is set to), make writes durable as asked (docs/persistence.md), and take
 * and release leases on that same descriptor so that the server's own I/O
 * never breaks the server's own lease.
 * Calls: libc, Linux syscalls, posix_map.c, lease.c. Called by: the backend table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pmem/lease_priv.h"
#include "pmem/posix_priv.h"

/* Opens the data descriptor with flags (O_RDWR or O_RDONLY); fd_lock held
 * exclusive, no lease held. O_RDWR falls back to O_RDONLY when refused. */
static int data_open(struct posix_obj *o, int flags)
{
	struct statx stx;
	char path[64];
	int fd;

	if (o->pub.type == PMEM_TYPE_DIR)
		return -EISDIR;
	if (o->pub.type != PMEM_TYPE_REG)
		return -EINVAL;
	/* Reopening through the magic link runs as the daemon (root), so the
	 * NFS layer's own permission checks are the ones that count. */
	posix_fd_path(o->path_fd, path);
	fd = open(path, flags | O_CLOEXEC);
	/* Other objects of the export are idle, never this one (held). */
	if (fd < 0 && posix_objcache_trim_for_fds(posix_exp(o->pub.exp), -errno))
		fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 && flags == O_RDWR && (errno == EACCES || errno == EROFS ||
					  errno == EPERM || errno == ETXTBSY)) {
		flags = O_RDONLY;
		fd = open(path, flags | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (o->data_fd >= 0) {
		/* Windows of the old descriptor keep it open (and writable). */
		posix_map_drop(o);
		close(o->data_fd);
	}
	o->data_fd = fd;
	o->data_flags = flags;
	o->dax = statx(fd, "", AT_EMPTY_PATH, 0, &stx) == 0 &&
		 (stx.stx_attributes_mask & STATX_ATTR_DAX) && (stx.stx_attributes & STATX_ATTR_DAX);
	return 0;
}

int posix_data_get(struct posix_obj *o, bool writable, int *fd)
{
	int rc;

	for (;;) {
		pthread_rwlock_rdlock(&o->fd_lock);
		if (o->data_fd >= 0 && (!writable || o->data_flags == O_RDWR)) {
			*fd = o->data_fd;
			return 0;   /* fd_lock stays held shared until posix_data_put */
		}
		pthread_rwlock_unlock(&o->fd_lock);

		pthread_rwlock_wrlock(&o->fd_lock);
		if (o->data_fd >= 0 && writable && o->data_flags != O_RDWR) {
			/* A writable open now would break our own lease; and a
			 * descriptor that fell back to O_RDONLY stays that way. */
			rc = o->lease ? -EAGAIN : data_open(o, O_RDWR);
			if (rc == 0 && o->data_flags != O_RDWR)
				rc = -EBADF;
		} else if (o->data_fd < 0) {
			/* Read-only until a write needs more: that is the
			 * descriptor an idle object may keep (posix_objcache.c). */
			rc = data_open(o, writable ? O_RDWR : O_RDONLY);
		} else {
			rc = 0;   /* someone else opened it meanwhile */
		}
		pthread_rwlock_unlock(&o->fd_lock);
		if (rc)
			return rc;
	}
}

void posix_data_put(struct posix_obj *o)
{
	pthread_rwlock_unlock(&o->fd_lock);
}

void posix_data_close_writable(struct posix_obj *o)
{
	pthread_rwlock_wrlock(&o->fd_lock);
	if (o->data_fd >= 0 && o->data_flags == O_RDWR) {
		posix_map_drop_all(o);
		close(o->data_fd);
		o->data_fd = -1;
	}
	pthread_rwlock_unlock(&o->fd_lock);
}

void posix_data_close(struct posix_obj *o)
{
	pthread_rwlock_wrlock(&o->fd_lock);
	posix_map_drop_all(o);
	if (o->data_fd >= 0)
		close(o->data_fd);
	o->data_fd = -1;
	pthread_rwlock_unlock(&o->fd_lock);
}

void posix_export_set_io_path(struct pmem_export *exp, enum posix_io_path path)
{
	posix_exp(exp)->io_path = path;
}

static bool use_map(struct pmem_obj *obj, size_t len)
{
	enum posix_io_path p = posix_exp(obj->exp)->io_path;

	return len && (p == POSIX_IO_MAP || (p == POSIX_IO_AUTO && len >= POSIX_MAP_MIN));
}

int posix_read(struct pmem_obj *obj, uint64_t off, void *buf, size_t len, size_t *n, bool *eof)
{
	struct posix_obj *o = posix_obj(obj);
	bool more = false;
	struct stat st;
	size_t done = 0;
	uint8_t beyond;
	ssize_t r;
	int fd, rc;

	*n = 0;
	*eof = false;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EINVAL;
	rc = posix_data_get(o, false, &fd);
	if (rc)
		return rc;
	if (use_map(obj, len) && posix_map_read(o, fd, off, buf, len) == 0) {
		*n = len;
		if (fstat(fd, &st) == 0)
			*eof = off + len >= (uint64_t)st.st_size;
		goto out;
	}
	/* One byte more than asked, into a scratch byte: whether it came says
	 * whether the file goes on, so EOF needs no fstat (a regular file's
	 * read is short only at its end). A READ of 0 bytes reads just that. */
	for (;;) {
		struct iovec iov[2];
		int niov = 0;

		/* (a READ of 0 bytes may come with no buffer at all) */
		if (done < len) {
			iov[niov].iov_base = (char *)buf + done;
			iov[niov++].iov_len = len - done;
		}
		iov[niov].iov_base = &beyond;
		iov[niov++].iov_len = 1;
		r = preadv(fd, iov, niov, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		if ((size_t)r > len - done) {
			done = len;
			more = true;
			break;
		}
		done += (size_t)r;
		if (done == len)
			break;   /* the scratch byte did not come: the end */
	}
	*eof = !more;
	*n = done;
out:
	posix_data_put(o);
	return rc;
}

int posix_write(struct pmem_obj *obj, uint64_t off, const void *buf, size_t len,
		enum pmem_stable stable, size_t *n, enum pmem_stable *committed)
{
	struct posix_obj *o = posix_obj(obj);
	bool flushed = false;
	size_t done = 0;
	ssize_t r;
	int fd, rc, mr = -1;

	*n = 0;
	*committed = PMEM_UNSTABLE;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EFBIG;
	rc = posix_data_get(o, true, &fd);
	if (rc)
		return rc;
	if (use_map(obj, len))
		mr = posix_map_write(o, fd, off, buf, len, stable != PMEM_UNSTABLE && o->dax);
	if (mr >= 0) {
		done = len;
		/* MAP_SYNC window + cache flush: data and the block mapping are durable. */
		flushed = mr == 1;
	} else {
		while (done < len) {
			r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				goto out;
			}
			done += (size_t)r;
		}
	}
	*n = done;
	if (stable == PMEM_FILE_SYNC) {
		if (fsync(fd) < 0) {
			rc = -errno;
			goto out;
		}
		*committed = PMEM_FILE_SYNC;
	} else if (stable == PMEM_DATA_SYNC) {
		if (!flushed && fdatasync(fd) < 0) {
			rc = -errno;
			goto out;
		}
		*committed = PMEM_DATA_SYNC;
	}
out:
	posix_data_put(o);
	return rc;
}

int posix_commit(struct pmem_obj *obj, uint64_t off, uint64_t len)
{
	struct posix_obj *o = posix_obj(obj);
	int fd, rc;

	/* fdatasync is per inode: it covers writes made through any descriptor
	 * and, on DAX, flushes the CPU caches over dirty mapped ranges. */
	rc = posix_data_get(o, false, &fd);
	if (rc)
		return rc;
	if (fdatasync(fd) < 0)
		rc = -errno;
	posix_data_put(o);
	return rc;
}

/* The kernel broke our lease by force: forget it (see lease_priv.h). */
static void lease_lost(struct pmem_obj *obj, int fd)
{
	struct posix_obj *o = posix_obj(obj);

	pthread_rwlock_wrlock(&o->fd_lock);
	if (o->data_fd == fd)
		o->lease = 0;
	pthread_rwlock_unlock(&o->fd_lock);
}

int posix_lease_acquire(struct pmem_obj *obj, enum pmem_lease_kind kind, void *cookie)
{
	struct posix_obj *o = posix_obj(obj);
	int want, rc = 0;

	if (obj->type != PMEM_TYPE_REG)
		return obj->type == PMEM_TYPE_DIR ? -EISDIR : -EINVAL;
	if (kind != PMEM_LEASE_READ && kind != PMEM_LEASE_WRITE)
		return -EINVAL;
	/* A read lease needs a read-only descriptor and no writable open of the
	 * inode; a write lease wants the writable one so that our own writes
	 * need no other open. */
	want = kind == PMEM_LEASE_READ ? O_RDONLY : O_RDWR;
	pthread_rwlock_wrlock(&o->fd_lock);
	if (o->data_fd < 0 || o->data_flags != want) {
		if (o->lease) {
			/* Changing kind across descriptors: drop the old lease quietly. */
			pmem_lease_unset(o->data_fd, false);
			o->lease = 0;
		}
		if (want == O_RDONLY && posix_map_drop(o) == -EBUSY) {
			rc = -EBUSY;   /* a map() user keeps a writable mapping */
			goto out;
		}
		rc = data_open(o, want);
		if (rc)
			goto out;
	}
	rc = pmem_lease_set(o->data_fd, obj, kind, cookie, lease_lost);
	if (rc == 0)
		o->lease = kind;
out:
	pthread_rwlock_unlock(&o->fd_lock);
	return rc;
}

int posix_lease_release(struct pmem_obj *obj)
{
	struct posix_obj *o = posix_obj(obj);
	int rc = 0;

	pthread_rwlock_wrlock(&o->fd_lock);
	if (!o->lease)
		rc = -ENOENT;
	else
		rc = pmem_lease_unset(o->data_fd, true);
	o->lease = 0;
	pthread_rwlock_unlock(&o->fd_lock);
	return rc;
}
