/*
 * pmem/posix_export.c: export roots, persistent handles and the object cache.
 *
 * Job: open an export (a directory on a local filesystem), turn objects into
 * handle bytes and back (name_to_handle_at / open_by_handle_at, which survive
 * a restart and go stale when the inode is deleted or reused), through the
 * object cache (posix_objcache.c) first. Also the object operation table.
 * Handle bytes: a length byte n, the object's kernel handle (n bytes: 4 bytes
 * handle_type, little endian, + the kernel's f_handle), then, for a
 * non-directory in a sub-directory export, its parent directory's kernel
 * handle (posix_subtree.c). The server authenticates the whole (MAC), so the
 * bytes here are always ones this backend produced.
 * Calls: libc, Linux syscalls, conf/log, posix_objcache.c. Called by:
 * server/, layout/ via the backend tables; pmem/posix_*.c (posix_fd_khandle,
 * posix_at_khandle, posix_khandle_open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "conf/log.h"
#include "pmem/lease.h"
#include "pmem/posix_priv.h"

#define MOD "pmem"

void posix_fd_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

bool posix_name_ok(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > 255 || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

enum pmem_obj_type posix_mode_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return PMEM_TYPE_DIR;
	case S_IFBLK: return PMEM_TYPE_BLK;
	case S_IFCHR: return PMEM_TYPE_CHR;
	case S_IFLNK: return PMEM_TYPE_LNK;
	case S_IFSOCK: return PMEM_TYPE_SOCK;
	case S_IFIFO: return PMEM_TYPE_FIFO;
	default: return PMEM_TYPE_REG;
	}
}

int64_t posix_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int posix_at_khandle(int dirfd, const char *name, int flags, uint8_t *out, size_t *outlen,
		     int *mount_id_out)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int mount_id;
	uint32_t t;

	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dirfd, name, &u.fh, &mount_id, flags) < 0)
		return -errno;
	if (mount_id_out)
		*mount_id_out = mount_id;
	if (u.fh.handle_bytes + 4 > POSIX_KHANDLE_MAX)
		return -EOVERFLOW;
	t = (uint32_t)u.fh.handle_type;
	out[0] = t & 0xff;
	out[1] = (t >> 8) & 0xff;
	out[2] = (t >> 16) & 0xff;
	out[3] = (t >> 24) & 0xff;
	memcpy(out + 4, u.fh.f_handle, u.fh.handle_bytes);
	*outlen = 4 + u.fh.handle_bytes;
	return 0;
}

static int posix_to_handle(struct pmem_obj *obj, void *buf, size_t *len)
{
	struct posix_obj *o = posix_obj(obj);
	struct posix_export *exp = posix_exp(obj->exp);
	uint8_t *b = buf;
	size_t plen = 0;
	int rc = 0;

	pthread_mutex_lock(&exp->lock);
	if (!exp->root_is_mount_root && obj->type != PMEM_TYPE_DIR)
		plen = o->plen;
	if (*len < 1 + o->hlen + plen) {
		rc = -EOVERFLOW;
	} else {
		b[0] = (uint8_t)o->hlen;
		memcpy(b + 1, o->handle, o->hlen);
		memcpy(b + 1 + o->hlen, o->parent, plen);
		*len = 1 + o->hlen + plen;
	}
	pthread_mutex_unlock(&exp->lock);
	return rc;
}

static int posix_root(struct pmem_export *e, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(e);
	int fd = openat(exp->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return posix_obj_from_fd(exp, fd, out);
}

int posix_fd_khandle(int fd, uint8_t *out, size_t *outlen)
{
	return posix_at_khandle(fd, "", AT_EMPTY_PATH, out, outlen, NULL);
}

int posix_khandle_open(struct posix_export *exp, const uint8_t *k, size_t klen, int flags)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + POSIX_KHANDLE_MAX];
	} u;
	int fd;

	if (klen <= 4 || klen > POSIX_KHANDLE_MAX)
		return -EBADF;
	u.fh.handle_type = (int)((uint32_t)k[0] | (uint32_t)k[1] << 8 |
				 (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24);
	u.fh.handle_bytes = (unsigned)(klen - 4);
	memcpy(u.fh.f_handle, k + 4, klen - 4);
	fd = open_by_handle_at(exp->root_fd, &u.fh, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The kernel's descriptor for kernel handle k, once more with the idle
 * objects closed when descriptors ran out. */
static int khandle_open_path(struct posix_export *exp, const uint8_t *k, size_t klen)
{
	int fd = posix_khandle_open(exp, k, klen, O_PATH | O_NOFOLLOW);

	if (posix_objcache_trim_for_fds(exp, fd))
		fd = posix_khandle_open(exp, k, klen, O_PATH | O_NOFOLLOW);
	return fd;
}

static int posix_from_handle(struct pmem_export *e, const void *h, size_t len, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(e);
	const uint8_t *b = h, *k, *parent;
	struct pmem_obj *obj = NULL;
	size_t klen, plen;
	struct stat st;
	int fd = -1, rc;

	if (!h || len < 2 || len > PMEM_HANDLE_MAX)
		return -EBADF;
	klen = b[0];
	if (klen <= 4 || klen > POSIX_KHANDLE_MAX || 1 + klen > len)
		return -EBADF;
	k = b + 1;
	parent = k + klen;
	plen = len - 1 - klen;
	if (plen > POSIX_KHANDLE_MAX)
		return -EBADF;
	rc = posix_objcache_find(exp, k, klen, POSIX_FIND_LINKED, &obj, &st);
	if (rc == 0)
		goto found;
	if (rc != -ENOENT)
		goto out;
	fd = khandle_open_path(exp, k, klen);
	if (fd < 0) {
		rc = fd;
		/* Bytes the filesystem cannot decode are as good as a deleted file. */
		if (rc == -EINVAL || rc == -ENOENT || rc == -ELOOP)
			rc = -ESTALE;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	/* A handle made on another filesystem must not open a file here. */
	if (st.st_dev != exp->dev) {
		rc = -ESTALE;
		goto out;
	}
	/* An unlinked file stays reachable while the server itself still holds
	 * it (an NFS open of a file renamed over or removed, as knfsd keeps it);
	 * otherwise its handle is stale. */
	if (st.st_nlink == 0) {
		rc = posix_objcache_find(exp, k, klen, POSIX_FIND_HELD, out, NULL);
		if (rc == -ENOENT)
			rc = -ESTALE;
		goto out;
	}
	rc = posix_obj_from_fd(exp, fd, &obj);   /* consumes fd */
	fd = -1;
	if (rc == -EXDEV)
		rc = -ESTALE;
	if (rc)
		goto out;
found:
	if (posix_obj(obj)->plen == 0 && plen > 0 && obj->type != PMEM_TYPE_DIR) {
		pthread_mutex_lock(&exp->lock);
		if (posix_obj(obj)->plen == 0) {
			memcpy(posix_obj(obj)->parent, parent, plen);
			posix_obj(obj)->plen = plen;
		}
		pthread_mutex_unlock(&exp->lock);
	}
	rc = posix_subtree_check(exp, posix_obj(obj), posix_obj(obj)->path_fd, &st, parent, plen);
	if (rc) {
		pmem_obj_put(obj);
		goto out;
	}
	*out = obj;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int posix_fsstat(struct pmem_export *e, struct pmem_fsstat *out)
{
	struct posix_export *exp = posix_exp(e);
	struct statfs sf;

	if (fstatfs(exp->root_fd, &sf) < 0)
		return -errno;
	memset(out, 0, sizeof(*out));
	out->bytes_total = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
	out->bytes_free = (uint64_t)sf.f_bfree * (uint64_t)sf.f_bsize;
	out->bytes_avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
	out->files_total = sf.f_files;
	out->files_free = sf.f_ffree;
	out->files_avail = sf.f_ffree;
	out->name_max = (uint32_t)sf.f_namelen;
	out->max_file_size = INT64_MAX;
	out->block_size = (uint32_t)sf.f_bsize;
	out->xattr_user = exp->xattr_user;
	return 0;
}

static void posix_export_release(struct pmem_export *e)
{
	struct posix_export *exp = posix_exp(e);

	posix_objcache_drain(exp);
	close(exp->root_fd);
	pthread_mutex_destroy(&exp->lock);
	pthread_mutex_destroy(&exp->map_lock);
	free(exp->real_path);
	free(exp->path);
	free(exp);
}

static void posix_export_trim(struct pmem_export *e)
{
	posix_objcache_trim(posix_exp(e), false);
}

static const struct pmem_export_ops posix_export_ops = {
	.release = posix_export_release,
	.trim = posix_export_trim,
	.root = posix_root,
	.from_handle = posix_from_handle,
	.fsstat = posix_fsstat,
};

const struct pmem_obj_ops posix_obj_ops = {
	.release = posix_obj_release,
	.to_handle = posix_to_handle,
	.getattr = posix_getattr,
	.setattr = posix_setattr,
	.access = posix_access,
	.lookup = posix_lookup,
	.lookup_parent = posix_lookup_parent,
	.create_file = posix_create_file,
	.mknode = posix_mknode,
	.symlink = posix_symlink,
	.readlink = posix_readlink,
	.link = posix_link,
	.remove = posix_remove,
	.rename = posix_rename,
	.readdir = posix_readdir,
	.read = posix_read,
	.write = posix_write,
	.commit = posix_commit,
	.clone = posix_clone,
	.copy = posix_copy,
	.allocate = posix_allocate,
	.deallocate = posix_deallocate,
	.seek = posix_seek,
	.getxattr = posix_getxattr,
	.setxattr = posix_setxattr,
	.listxattr = posix_listxattr,
	.removexattr = posix_removexattr,
	.map = posix_map,
	.unmap = posix_unmap,
	.lease_acquire = posix_lease_acquire,
	.lease_release = posix_lease_release,
};

int pmem_posix_export_open(const char *path, uint16_t export_id, struct pmem_export **out)
{
	struct posix_export *exp = NULL;
	uint8_t h[POSIX_KHANDLE_MAX];
	struct statx stx;
	size_t hlen = 0;
	int rc;

	exp = calloc(1, sizeof(*exp));
	if (!exp)
		return -ENOMEM;
	exp->root_fd = -1;
	pthread_mutex_init(&exp->lock, NULL);
	pthread_mutex_init(&exp->map_lock, NULL);
	exp->map_limit = POSIX_MAP_LIMIT;
	exp->idle_max = posix_objcache_default_max();
	exp->io_path = POSIX_IO_AUTO;
	exp->path = strdup(path);
	if (!exp->path) {
		rc = -ENOMEM;
		goto fail;
	}
	/* A real descriptor, not O_PATH: open_by_handle_at refuses O_PATH mount fds. */
	exp->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (exp->root_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (statx(exp->root_fd, "", AT_EMPTY_PATH, STATX_INO, &stx) < 0) {
		rc = -errno;
		goto fail;
	}
	exp->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	exp->root_ino = stx.stx_ino;
	exp->root_is_mount_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
				  (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	exp->xattr_user = posix_xattr_probe(exp->root_fd);
	exp->real_path = realpath(path, NULL);
	if (!exp->real_path) {
		rc = -errno;
		goto fail;
	}
	exp->real_len = strlen(exp->real_path);
	rc = posix_at_khandle(exp->root_fd, "", AT_EMPTY_PATH, h, &hlen, &exp->mount_id);
	if (rc) {
		if (rc == -ENOTSUP)
			rc = -EOPNOTSUPP;
		log_err(MOD, "export %s: no file handles on this filesystem (%s)", path, strerror(-rc));
		goto fail;
	}
	exp->pub.ops = &posix_export_ops;
	exp->pub.obj_ops = &posix_obj_ops;
	exp->pub.export_id = export_id;
	atomic_init(&exp->pub.refs, 1);
	log_info(MOD, "export %u: %s (dev %u:%u%s)", export_id, path, major(exp->dev),
		 minor(exp->dev), exp->root_is_mount_root ? ", filesystem root" : "");
	*out = &exp->pub;
	return 0;
fail:
	if (exp->root_fd >= 0)
		close(exp->root_fd);
	pthread_mutex_destroy(&exp->lock);
	pthread_mutex_destroy(&exp->map_lock);
	free(exp->real_path);
	free(exp->path);
	free(exp);
	return rc;
}
