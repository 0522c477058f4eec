/*
 * pmem/posix_export.c: export roots, persistent handles and the object cache.
 *
 * Job: open an export (a directory on a local filesystem), turn objects into
 * handle bytes and back (name_to_handle_at / open_by_handle_at, which survive
 * a restart and go stale when the inode is deleted or reused), and keep one
 * struct posix_obj per inode (hash on the handle bytes) so that the object
 * can own the inode's one data descriptor. Also the object operation table.
 * Handle bytes: 4 bytes handle_type (little endian) + the kernel's f_handle.
 * Calls: libc, Linux syscalls, conf/log. Called by: server/, layout/ via the
 * backend tables; pmem/posix_*.c (posix_obj_from_fd).
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
#define SUBTREE_MAX_DEPTH 4096

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

static uint32_t handle_hash(const uint8_t *h, size_t len)
{
	uint32_t x = 2166136261u;   /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		x = (x ^ h[i]) * 16777619u;
	return x;
}

/* Encodes the kernel handle of fd into out (PMEM_HANDLE_MAX bytes). */
static int fd_handle(int fd, uint8_t *out, size_t *outlen)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int mount_id;
	uint32_t t;

	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", &u.fh, &mount_id, AT_EMPTY_PATH) < 0)
		return -errno;
	if (u.fh.handle_bytes + 4 > PMEM_HANDLE_MAX)
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

/* Takes a reference unless the object is already dying (refs 0). */
static bool obj_tryget(struct posix_obj *o)
{
	int r = atomic_load(&o->pub.refs);

	while (r > 0)
		if (atomic_compare_exchange_weak(&o->pub.refs, &r, r + 1))
			return true;
	return false;
}

int posix_obj_from_fd(struct posix_export *exp, int fd, struct pmem_obj **out)
{
	struct posix_obj *o = NULL, *p, **pp;
	uint8_t h[PMEM_HANDLE_MAX];
	struct stat st;
	size_t hlen = 0;
	uint32_t hash;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	/* A mount point inside the export leads to another filesystem, whose
	 * handles open_by_handle_at(root_fd) could not decode. */
	if (st.st_dev != exp->dev) {
		rc = -EXDEV;
		goto out;
	}
	rc = fd_handle(fd, h, &hlen);
	if (rc)
		goto out;
	hash = handle_hash(h, hlen);

	pthread_mutex_lock(&exp->lock);
	pp = &exp->buckets[hash % POSIX_HASH_BUCKETS];
	for (p = *pp; p; pp = &p->hnext, p = p->hnext) {
		if (p->hlen != hlen || memcmp(p->handle, h, hlen))
			continue;
		if (obj_tryget(p)) {
			pthread_mutex_unlock(&exp->lock);
			*out = &p->pub;
			rc = 0;
			goto out;   /* fd closed below: the cached object has its own */
		}
		/* Dying: unhash it so its release does not touch the bucket. */
		*pp = p->hnext;
		p->hashed = false;
		break;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		pthread_mutex_unlock(&exp->lock);
		rc = -ENOMEM;
		goto out;
	}
	o->pub.ops = &posix_obj_ops;
	o->pub.exp = &exp->pub;
	atomic_init(&o->pub.refs, 1);
	o->pub.type = posix_mode_type(st.st_mode);
	o->pub.fileid = st.st_ino;
	o->hash = hash;
	memcpy(o->handle, h, hlen);
	o->hlen = hlen;
	o->path_fd = fd;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->data_fd = -1;
	pthread_rwlock_init(&o->fd_lock, NULL);
	atomic_fetch_add(&exp->pub.refs, 1);
	o->hnext = exp->buckets[hash % POSIX_HASH_BUCKETS];
	exp->buckets[hash % POSIX_HASH_BUCKETS] = o;
	o->hashed = true;
	pthread_mutex_unlock(&exp->lock);
	*out = &o->pub;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static void posix_obj_release(struct pmem_obj *obj)
{
	struct posix_obj *o = posix_obj(obj), **pp;
	struct posix_export *exp = posix_exp(obj->exp);

	pthread_mutex_lock(&exp->lock);
	if (o->hashed) {
		for (pp = &exp->buckets[o->hash % POSIX_HASH_BUCKETS]; *pp; pp = &(*pp)->hnext)
			if (*pp == o) {
				*pp = o->hnext;
				break;
			}
		o->hashed = false;
	}
	pthread_mutex_unlock(&exp->lock);
	/* The lease manager holds a reference while a lease exists, so none is
	 * left here; the data descriptor and the mappings go. */
	posix_data_close(o);
	close(o->path_fd);
	pthread_rwlock_destroy(&o->fd_lock);
	free(o);
	pmem_export_put(&exp->pub);
}

static int posix_to_handle(struct pmem_obj *obj, void *buf, size_t *len)
{
	struct posix_obj *o = posix_obj(obj);

	if (*len < o->hlen)
		return -EOVERFLOW;
	memcpy(buf, o->handle, o->hlen);
	*len = o->hlen;
	return 0;
}

static int posix_root(struct pmem_export *e, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(e);
	int fd = openat(exp->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return posix_obj_from_fd(exp, fd, out);
}

/* Is directory fd inside the export? Walks ".." up to the export root or the
 * filesystem root. Only directories can be walked up; see docs/storage-backend.md. */
static int subtree_check(struct posix_export *exp, int fd)
{
	struct stat st, pst;
	int cur, up, depth, rc = -ESTALE;

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

/* The cached object for handle bytes h, if one is alive; -ESTALE otherwise. */
static int posix_obj_cached(struct posix_export *exp, const uint8_t *h, size_t hlen,
			    struct pmem_obj **out)
{
	struct posix_obj *p;
	int rc = -ESTALE;

	pthread_mutex_lock(&exp->lock);
	for (p = exp->buckets[handle_hash(h, hlen) % POSIX_HASH_BUCKETS]; p; p = p->hnext) {
		if (p->hlen == hlen && !memcmp(p->handle, h, hlen) && obj_tryget(p)) {
			*out = &p->pub;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&exp->lock);
	return rc;
}

static int posix_from_handle(struct pmem_export *e, const void *h, size_t len, struct pmem_obj **out)
{
	struct posix_export *exp = posix_exp(e);
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + PMEM_HANDLE_MAX];
	} u;
	const uint8_t *b = h;
	struct stat st;
	int fd = -1, rc;

	if (!h || len <= 4 || len > PMEM_HANDLE_MAX)
		return -EBADF;
	u.fh.handle_type = (int)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
				 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
	u.fh.handle_bytes = (unsigned)(len - 4);
	memcpy(u.fh.f_handle, b + 4, len - 4);
	fd = open_by_handle_at(exp->root_fd, &u.fh, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
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
		rc = posix_obj_cached(exp, b, len, out);
		goto out;
	}
	if (!exp->root_is_mount_root && S_ISDIR(st.st_mode)) {
		rc = subtree_check(exp, fd);
		if (rc)
			goto out;
	}
	rc = posix_obj_from_fd(exp, fd, out);
	fd = -1;
	if (rc == -EXDEV)
		rc = -ESTALE;
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
	return 0;
}

static void posix_export_release(struct pmem_export *e)
{
	struct posix_export *exp = posix_exp(e);

	close(exp->root_fd);
	pthread_mutex_destroy(&exp->lock);
	pthread_mutex_destroy(&exp->map_lock);
	free(exp->path);
	free(exp);
}

static const struct pmem_export_ops posix_export_ops = {
	.release = posix_export_release,
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
	.allocate = posix_allocate,
	.deallocate = posix_deallocate,
	.seek = posix_seek,
	.map = posix_map,
	.unmap = posix_unmap,
	.lease_acquire = posix_lease_acquire,
	.lease_release = posix_lease_release,
};

int pmem_posix_export_open(const char *path, uint16_t export_id, struct pmem_export **out)
{
	struct posix_export *exp = NULL;
	uint8_t h[PMEM_HANDLE_MAX];
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
	rc = fd_handle(exp->root_fd, h, &hlen);
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
	free(exp->path);
	free(exp);
	return rc;
}
