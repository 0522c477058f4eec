/*
 * pmem/backend.h: the storage backend interface ("FSAL" in NFS-Ganesha's terms).
 *
 * Job: everything the NFS layer needs from storage, as two operation tables:
 * export operations and object operations. daxnfs has one implementation
 * (pmem/posix_*.c: any local filesystem, with DAX mappings and MAP_SYNC where
 * the file is DAX, reflink on XFS); another backend, or another server
 * embedding this one, sits on the same tables. Implementations embed
 * struct pmem_export / struct pmem_obj first in their private structs.
 *
 * Rules every implementation keeps:
 *  - Errors are negative errno values (-ENOENT, -ESTALE, -EXDEV, ...); server/
 *    translates them to NFS status codes once, in one table.
 *  - Objects are reference counted and unique per inode within a process
 *    (the same file reached twice is the same struct pmem_obj), so that the
 *    object can own the one data descriptor on which I/O and leases happen:
 *    the server's own I/O must never break the server's own lease.
 *  - Namespace operations and setattr run with the caller's credentials
 *    (per-thread fsuid/fsgid/groups), so the kernel checks permissions and new
 *    files get the caller's ownership; handle resolution runs as the daemon.
 *  - Stable writes and commits return only once data (and the metadata needed
 *    to read it back) are durable: docs/persistence.md says how, per path.
 * Calls: libc, Linux syscalls, conf/log. Called by: server/, layout/.
 */
#ifndef DAXNFS_PMEM_BACKEND_H
#define DAXNFS_PMEM_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define PMEM_HANDLE_MAX 96   /* backend handle bytes; the NFS fh adds its own header */
#define PMEM_MAX_GROUPS 32

enum pmem_obj_type {
	PMEM_TYPE_REG = 1, PMEM_TYPE_DIR, PMEM_TYPE_BLK, PMEM_TYPE_CHR,
	PMEM_TYPE_LNK, PMEM_TYPE_SOCK, PMEM_TYPE_FIFO,
};

struct pmem_cred {
	uint32_t uid, gid;
	uint32_t ngroups;
	uint32_t groups[PMEM_MAX_GROUPS];
};

struct pmem_time {
	int64_t sec;
	uint32_t nsec;
};

struct pmem_attr {
	enum pmem_obj_type type;
	uint32_t mode;               /* permission bits only (07777) */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t space_used;
	uint32_t rdev_major, rdev_minor;
	uint64_t fsid_major, fsid_minor;
	uint64_t fileid;
	struct pmem_time atime, mtime, ctime, btime;
	uint64_t change;             /* changes whenever data or metadata change */
	bool dax;                    /* statx STATX_ATTR_DAX, per file */
};

enum pmem_setattr_flags {
	PMEM_SET_MODE = 1u << 0, PMEM_SET_UID = 1u << 1, PMEM_SET_GID = 1u << 2,
	PMEM_SET_SIZE = 1u << 3, PMEM_SET_ATIME = 1u << 4, PMEM_SET_ATIME_NOW = 1u << 5,
	PMEM_SET_MTIME = 1u << 6, PMEM_SET_MTIME_NOW = 1u << 7,
};

struct pmem_setattr {
	uint32_t valid;              /* PMEM_SET_* */
	uint32_t mode, uid, gid;
	uint64_t size;
	struct pmem_time atime, mtime;
};

struct pmem_fsstat {
	uint64_t bytes_total, bytes_free, bytes_avail;
	uint64_t files_total, files_free, files_avail;
	uint32_t name_max;
	uint64_t max_file_size;
	uint32_t block_size;         /* preferred I/O size; also the clone alignment */
	bool xattr_user;             /* the filesystem keeps "user." extended attributes */
};

/* SETXATTR's choice: either, only a new one, only an existing one. */
enum pmem_xattr_how { PMEM_XATTR_EITHER = 0, PMEM_XATTR_CREATE = 1, PMEM_XATTR_REPLACE = 2 };

enum pmem_stable { PMEM_UNSTABLE = 0, PMEM_DATA_SYNC = 1, PMEM_FILE_SYNC = 2 };
enum pmem_access { PMEM_ACC_READ = 1, PMEM_ACC_WRITE = 2, PMEM_ACC_EXEC = 4 };
enum pmem_seek_what { PMEM_SEEK_DATA = 0, PMEM_SEEK_HOLE = 1 };
enum pmem_lease_kind { PMEM_LEASE_READ = 1, PMEM_LEASE_WRITE = 2 };

struct pmem_export;
struct pmem_obj;

/* Called once per directory entry; returns false to stop (the entry is then
 * not consumed: the next readdir starting at its cookie returns it again). */
typedef bool (*pmem_readdir_cb)(void *ctx, const char *name, size_t namelen,
				uint64_t cookie_after, uint64_t fileid, enum pmem_obj_type type);

struct pmem_export_ops {
	void (*release)(struct pmem_export *exp);
	/* New reference to the export's root directory. */
	int (*root)(struct pmem_export *exp, struct pmem_obj **out);
	/* Handle bytes (from to_handle) back to an object; -ESTALE when the file
	 * is gone or the inode was reused, -EBADF for bytes that are no handle. */
	int (*from_handle)(struct pmem_export *exp, const void *h, size_t len, struct pmem_obj **out);
	int (*fsstat)(struct pmem_export *exp, struct pmem_fsstat *st);
	/* Lets go of what the backend keeps open for speed and nobody used
	 * lately (the server's tick, once a second); may be NULL. */
	void (*trim)(struct pmem_export *exp);
};

struct pmem_obj_ops {
	void (*release)(struct pmem_obj *obj);   /* last reference dropped */
	/* *len: in the capacity of buf (>= PMEM_HANDLE_MAX), out the handle length. */
	int (*to_handle)(struct pmem_obj *obj, void *buf, size_t *len);
	int (*getattr)(struct pmem_obj *obj, struct pmem_attr *attr);
	int (*setattr)(struct pmem_obj *obj, const struct pmem_cred *cred, const struct pmem_setattr *sa);
	/* Which of want (PMEM_ACC_*) the caller may do; never fails for a denial. */
	int (*access)(struct pmem_obj *obj, const struct pmem_cred *cred, uint32_t want, uint32_t *granted);

	/* Directory operations: obj is the directory; names are one component,
	 * not "." or "..", no '/', no NUL (the NFS layer checks; the backend too). */
	int (*lookup)(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name, struct pmem_obj **out);
	/* Parent of a directory; the export root answers -ENOENT. */
	int (*lookup_parent)(struct pmem_obj *dir, const struct pmem_cred *cred, struct pmem_obj **out);
	/* Creates a regular file; exclusive makes an existing name -EEXIST. */
	int (*create_file)(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
			   uint32_t mode, bool exclusive, struct pmem_obj **out);
	/* Directory, fifo, socket, block/char device (rdev used for devices). */
	int (*mknode)(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		      enum pmem_obj_type type, uint32_t mode, uint32_t rdev_major,
		      uint32_t rdev_minor, struct pmem_obj **out);
	int (*symlink)(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		       const char *target, struct pmem_obj **out);
	int (*readlink)(struct pmem_obj *obj, char *buf, size_t cap, size_t *len);
	int (*link)(struct pmem_obj *obj, struct pmem_obj *dir, const struct pmem_cred *cred, const char *name);
	/* Removes a file or an empty directory. */
	int (*remove)(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name);
	int (*rename)(struct pmem_obj *sdir, const char *sname, struct pmem_obj *ddir,
		      const char *dname, const struct pmem_cred *cred);
	/* Entries after cookie (0 = from the start), without "." and "..". */
	int (*readdir)(struct pmem_obj *dir, const struct pmem_cred *cred, uint64_t cookie,
		       pmem_readdir_cb cb, void *ctx, bool *eof);

	/* Data. read returns bytes read in *n and *eof when the read reached EOF. */
	int (*read)(struct pmem_obj *obj, uint64_t off, void *buf, size_t len, size_t *n, bool *eof);
	/* *committed is the stability actually reached (>= stable). */
	int (*write)(struct pmem_obj *obj, uint64_t off, const void *buf, size_t len,
		     enum pmem_stable stable, size_t *n, enum pmem_stable *committed);
	/* Makes [off, off+len) durable (len 0 = to end of file). */
	int (*commit)(struct pmem_obj *obj, uint64_t off, uint64_t len);
	/* Reflink: len 0 = to the end of src; whole-file when all three are 0. */
	int (*clone)(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst,
		     uint64_t dst_off, uint64_t len);
	/* Server-side copy of up to len bytes (fewer at the source's end):
	 * copy_file_range, which shares extents where the filesystem can;
	 * *copied says how many were copied, also on an error after some. */
	int (*copy)(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst,
		    uint64_t dst_off, uint64_t len, uint64_t *copied);
	int (*allocate)(struct pmem_obj *obj, uint64_t off, uint64_t len);
	int (*deallocate)(struct pmem_obj *obj, uint64_t off, uint64_t len);
	/* -ENXIO when there is no data/hole at or after off. */
	int (*seek)(struct pmem_obj *obj, uint64_t off, enum pmem_seek_what what, uint64_t *result);

	/* Mapping of a file range for direct access (layouts, and reads/writes
	 * where measured faster). MAP_SHARED_VALIDATE|MAP_SYNC when the file is DAX. */
	int (*map)(struct pmem_obj *obj, uint64_t off, size_t len, bool writable, void **addr);
	void (*unmap)(struct pmem_obj *obj, void *addr, size_t len);

	/* Extended attributes of the user namespace of a regular file or a
	 * directory, as cred; names without the "user." prefix. -ENODATA: no
	 * such attribute; -EEXIST: CREATE of one that exists; -EOPNOTSUPP: the
	 * filesystem keeps none; -ERANGE: buf too small; -E2BIG: value too big;
	 * -EPERM: another type of object. listxattr puts the names, each
	 * NUL-ended, into buf. */
	int (*getxattr)(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
			void *buf, size_t cap, size_t *len);
	int (*setxattr)(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
			const void *val, size_t len, enum pmem_xattr_how how);
	int (*listxattr)(struct pmem_obj *obj, const struct pmem_cred *cred, char *buf, size_t cap,
			 size_t *len);
	int (*removexattr)(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name);

	/* Leases on the object's own data descriptor (see pmem/lease.h). */
	int (*lease_acquire)(struct pmem_obj *obj, enum pmem_lease_kind kind, void *cookie);
	int (*lease_release)(struct pmem_obj *obj);
};

struct pmem_export {
	const struct pmem_export_ops *ops;
	const struct pmem_obj_ops *obj_ops;
	uint16_t export_id;
	atomic_int refs;
};

struct pmem_obj {
	const struct pmem_obj_ops *ops;
	struct pmem_export *exp;
	atomic_int refs;
	enum pmem_obj_type type;
	uint64_t fileid;
};

/* The one real backend: a directory on a local filesystem (XFS on FS-DAX,
 * or any other). Fails with -ENOTDIR, -EACCES, -EOPNOTSUPP (no file handle
 * support on that filesystem), ... */
int pmem_posix_export_open(const char *path, uint16_t export_id, struct pmem_export **out);

static inline void pmem_obj_get(struct pmem_obj *o) { atomic_fetch_add(&o->refs, 1); }
static inline void pmem_obj_put(struct pmem_obj *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1)
		o->ops->release(o);
}
static inline void pmem_export_put(struct pmem_export *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		e->ops->release(e);
}

#endif
