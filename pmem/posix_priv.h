/*
 * pmem/posix_priv.h: private structures of the POSIX backend (pmem/posix_*.c).
 *
 * Job: the export and object structs that embed the public pmem_export /
 * pmem_obj, and the functions the posix_*.c files call in each other.
 * Calls: nothing. Called by: pmem/posix_*.c, tests/bench/pmem_bench.c.
 *
 * Descriptor rules (why they are as they are):
 *  - Each object keeps one O_PATH descriptor for namespace operations and
 *    attributes. O_PATH opens never break leases and never count as opens
 *    for the lease checks, so they may exist freely.
 *  - Each regular file object opens at most one data descriptor, lazily, and
 *    every read, write, mapping and lease of the server goes through it:
 *    a second open by the server would break the server's own lease.
 *  - A read lease needs a read-only data descriptor and no writable open of
 *    the inode anywhere (mappings keep their struct file open), so taking a
 *    read lease drops the mappings and reopens the data descriptor read-only.
 */
#ifndef DAXNFS_PMEM_POSIX_PRIV_H
#define DAXNFS_PMEM_POSIX_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "pmem/backend.h"

#define POSIX_HASH_BUCKETS 1024
/* A kernel handle as we keep it: 4 bytes of handle_type + f_handle. Two of
 * them (object and parent) and a length byte fit PMEM_HANDLE_MAX. */
#define POSIX_KHANDLE_MAX 44
#define POSIX_MAP_CHUNK    (2u << 20)         /* mapping cache window */
#define POSIX_MAP_LIMIT    (1ull << 30)       /* default bound on mapped bytes */
/* POSIX_IO_AUTO maps requests of at least this size (docs/benchmarks.md). */
#define POSIX_MAP_MIN      (1u << 20)
/* Objects nobody holds stay open this long, this many per export at most
 * (fewer when RLIMIT_NOFILE is low: posix_objcache_default_max). */
#define POSIX_IDLE_MS      10000
#define POSIX_IDLE_MAX     1024u

/* How read and write move data: pread/pwrite, the mapping cache, or by size
 * (the default: the mapping for large requests inside EOF). */
enum posix_io_path { POSIX_IO_PREAD = 0, POSIX_IO_MAP = 1, POSIX_IO_AUTO = 2 };

struct posix_map;

struct posix_export {
	struct pmem_export pub;
	int root_fd;                 /* O_RDONLY|O_DIRECTORY; mount_fd for open_by_handle_at */
	dev_t dev;
	int mount_id;                /* of root_fd: a name's handle from elsewhere is not ours */
	ino_t root_ino;
	bool root_is_mount_root;     /* export = whole fs: no subtree check needed */
	char *path;
	char *real_path;             /* the root's canonical path, for posix_subtree.c */
	size_t real_len;
	enum posix_io_path io_path;
	bool xattr_user;             /* posix_xattr_probe at open */

	pthread_mutex_t lock;        /* the object cache (posix_objcache.c) */
	struct posix_obj *buckets[POSIX_HASH_BUCKETS];
	struct posix_obj *idle_newest, *idle_oldest;   /* objects nobody holds */
	unsigned idle_count, idle_max;

	pthread_mutex_t map_lock;    /* the mapping cache (all objects) */
	uint64_t mapped_bytes, map_limit;
	struct posix_map *map_lru;   /* least recently used first */
	struct posix_map *map_mru;
};

struct posix_obj {
	struct pmem_obj pub;
	struct posix_obj *hnext;
	bool hashed;                 /* under exp->lock, as the five below */
	bool idle;                   /* nobody holds it: on the export's idle list */
	bool forgotten;              /* its name was unlinked: closed, not kept, when let go */
	struct posix_obj *idle_newer, *idle_older;
	int64_t idle_since_ms;
	uint32_t hash;
	uint8_t handle[POSIX_KHANDLE_MAX];   /* the kernel handle (the cache key) */
	size_t hlen;
	/* The directory a non-directory was first reached through; its handle
	 * rides in the object's handle in a sub-directory export, set once so
	 * that the object's handle never changes (posix_subtree.c). */
	uint8_t parent[POSIX_KHANDLE_MAX];
	size_t plen;
	/* The last "inside the export" verdict: good until inside_until_ms
	 * while the inode's ctime is still inside_ctime. All under exp->lock. */
	int64_t inside_until_ms;
	struct timespec inside_ctime;
	int path_fd;                 /* O_PATH|O_NOFOLLOW */
	dev_t dev;
	ino_t ino;

	/* The data descriptor; fd_lock held shared for I/O, exclusive to change it. */
	pthread_rwlock_t fd_lock;
	int data_fd;                 /* -1 until needed */
	int data_flags;              /* O_RDWR or O_RDONLY */
	enum pmem_lease_kind lease;  /* 0 when none */
	bool dax;                    /* from statx when data_fd was opened */

	struct posix_map *maps;      /* this object's cached windows, under exp->map_lock */
};

static inline struct posix_export *posix_exp(struct pmem_export *e)
{
	return (struct posix_export *)e;
}
static inline struct posix_obj *posix_obj(struct pmem_obj *o)
{
	return (struct posix_obj *)o;
}

/* posix_cred.c: run the calling thread, and only it, as cred. */
struct posix_cred_save {
	int fsuid, fsgid;
	int ngroups;
	gid_t groups[PMEM_MAX_GROUPS + 1];
	bool active;
};
int posix_cred_enter(const struct pmem_cred *cred, struct posix_cred_save *save);
void posix_cred_leave(struct posix_cred_save *save);

/* posix_objcache.c */
/* Object for an O_PATH descriptor (consumed on every path); cached by handle. */
int posix_obj_from_fd(struct posix_export *exp, int fd, struct pmem_obj **out);
/* How posix_objcache_find may answer. */
enum posix_find {
	POSIX_FIND_HELD,     /* only an object somebody holds (no idle one) */
	POSIX_FIND_LINKED,   /* also an idle one if its file still has a name */
	POSIX_FIND_NAMED,    /* also an idle one, unchecked (just found by name) */
};
/* A reference on the cached object of kernel handle h, and its fstat into
 * *st when st is given (needed for POSIX_FIND_LINKED). -ENOENT when none is
 * cached (open it), -ESTALE when an idle one's file lost its last name
 * (closed then), -errno. */
int posix_objcache_find(struct posix_export *exp, const uint8_t *h, size_t hlen,
			enum posix_find how, struct pmem_obj **out, struct stat *st);
/* The object's last reference went (the backend table's release). */
void posix_obj_release(struct pmem_obj *obj);
/* The file of handle h lost a name: close its object now if idle, else when
 * its last holder lets go. */
void posix_objcache_forget(struct posix_export *exp, const uint8_t *h, size_t hlen);
/* Closes the idle objects older than POSIX_IDLE_MS, or all of them. */
void posix_objcache_trim(struct posix_export *exp, bool all);
/* err (a negative errno from an open) says descriptors ran out: closes all
 * of the export's idle objects; true when that freed any (try again). */
bool posix_objcache_trim_for_fds(struct posix_export *exp, int err);
/* At the export's release: closes every object left (all idle). */
void posix_objcache_drain(struct posix_export *exp);
/* How many idle objects an export keeps, from RLIMIT_NOFILE. */
unsigned posix_objcache_default_max(void);

/* posix_export.c */
extern const struct pmem_obj_ops posix_obj_ops;
bool posix_name_ok(const char *name);
enum pmem_obj_type posix_mode_type(mode_t mode);
/* "/proc/self/fd/N" for fd. */
void posix_fd_path(int fd, char buf[64]);
/* The kernel handle of fd (POSIX_KHANDLE_MAX bytes at most). */
int posix_fd_khandle(int fd, uint8_t *out, size_t *outlen);
/* The same for name in dirfd (name_to_handle_at flags: 0 does not follow
 * a symbolic link), and the mount it is on if mount_id is not NULL. */
int posix_at_khandle(int dirfd, const char *name, int flags, uint8_t *out, size_t *outlen,
		     int *mount_id);
/* open_by_handle_at of kernel handle bytes k (as posix_fd_khandle makes
 * them) with flags (O_CLOEXEC added): the descriptor, or -errno (-EBADF for
 * a length no kernel handle has). */
int posix_khandle_open(struct posix_export *exp, const uint8_t *k, size_t klen, int flags);
int64_t posix_now_ms(void);

/* posix_subtree.c: is an object inside its export (sub-directory exports) */
/* o was reached through directory dir (lookup, create): inside by
 * construction; remembers dir as o's parent if it has none. */
void posix_subtree_reached(struct posix_obj *o, struct posix_obj *dir);
/* o, opened by handle as fd (stat st), with the parent handle bytes the
 * handle carried (plen may be 0): 0 when inside the export, -ESTALE when
 * not, -errno. Cached per object. */
int posix_subtree_check(struct posix_export *exp, struct posix_obj *o, int fd,
			const struct stat *st, const uint8_t *parent, size_t plen);

/* posix_obj.c */
int posix_getattr(struct pmem_obj *obj, struct pmem_attr *attr);
int posix_setattr(struct pmem_obj *obj, const struct pmem_cred *cred, const struct pmem_setattr *sa);
int posix_access(struct pmem_obj *obj, const struct pmem_cred *cred, uint32_t want, uint32_t *granted);

/* posix_reflink.c (the rest is in the backend table only) */
int posix_copy(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst, uint64_t dst_off,
	       uint64_t len, uint64_t *copied);

/* posix_xattr.c */
int posix_getxattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
		   void *buf, size_t cap, size_t *len);
int posix_setxattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name,
		   const void *val, size_t len, enum pmem_xattr_how how);
int posix_listxattr(struct pmem_obj *obj, const struct pmem_cred *cred, char *buf, size_t cap,
		    size_t *len);
int posix_removexattr(struct pmem_obj *obj, const struct pmem_cred *cred, const char *name);
/* Does the filesystem of root_fd keep user attributes? (once, at export open) */
bool posix_xattr_probe(int root_fd);

/* posix_dir.c */
int posix_lookup(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name, struct pmem_obj **out);
int posix_lookup_parent(struct pmem_obj *dir, const struct pmem_cred *cred, struct pmem_obj **out);
int posix_create_file(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		      uint32_t mode, bool exclusive, struct pmem_obj **out);
int posix_mknode(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		 enum pmem_obj_type type, uint32_t mode, uint32_t rdev_major,
		 uint32_t rdev_minor, struct pmem_obj **out);
int posix_symlink(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name,
		  const char *target, struct pmem_obj **out);
int posix_readlink(struct pmem_obj *obj, char *buf, size_t cap, size_t *len);
int posix_link(struct pmem_obj *obj, struct pmem_obj *dir, const struct pmem_cred *cred, const char *name);
int posix_remove(struct pmem_obj *dir, const struct pmem_cred *cred, const char *name);
int posix_rename(struct pmem_obj *sdir, const char *sname, struct pmem_obj *ddir,
		 const char *dname, const struct pmem_cred *cred);
int posix_readdir(struct pmem_obj *dir, const struct pmem_cred *cred, uint64_t cookie,
		  pmem_readdir_cb cb, void *ctx, bool *eof);

/* posix_io.c */
/* Takes fd_lock shared and returns the data descriptor, writable if asked;
 * posix_data_put drops the lock. */
int posix_data_get(struct posix_obj *o, bool writable, int *fd);
void posix_data_put(struct posix_obj *o);
void posix_data_close(struct posix_obj *o);
/* Closes the data descriptor if it is writable (an object going idle keeps
 * only a read-only one: no ETXTBSY, no refused read lease for others). */
void posix_data_close_writable(struct posix_obj *o);
int posix_read(struct pmem_obj *obj, uint64_t off, void *buf, size_t len, size_t *n, bool *eof);
int posix_write(struct pmem_obj *obj, uint64_t off, const void *buf, size_t len,
		enum pmem_stable stable, size_t *n, enum pmem_stable *committed);
int posix_commit(struct pmem_obj *obj, uint64_t off, uint64_t len);
int posix_lease_acquire(struct pmem_obj *obj, enum pmem_lease_kind kind, void *cookie);
int posix_lease_release(struct pmem_obj *obj);
/* Selects pread/pwrite or the mapping for read and write (benchmark, config). */
void posix_export_set_io_path(struct pmem_export *exp, enum posix_io_path path);

/* posix_map.c */
int posix_map(struct pmem_obj *obj, uint64_t off, size_t len, bool writable, void **addr);
void posix_unmap(struct pmem_obj *obj, void *addr, size_t len);
/* Copy through the cached mapping windows; -ERANGE when the range is past EOF
 * (the caller falls back to pread/pwrite). fd_lock is held shared by the caller.
 * posix_map_write returns 1 when flush was asked and every byte went to a
 * MAP_SYNC window and was flushed (durable), 0 when written only. */
int posix_map_read(struct posix_obj *o, int fd, uint64_t off, void *buf, size_t len);
int posix_map_write(struct posix_obj *o, int fd, uint64_t off, const void *buf, size_t len,
		    bool flush);
/* memcpy that returns -EFAULT instead of dying when src or dst is a file
 * mapping whose page went away (SIGBUS: the file was truncated under us). */
int posix_copy_guarded(void *dst, const void *src, size_t n);
/* Drops the object's cached windows; -EBUSY when one is in use by map(). */
int posix_map_drop(struct posix_obj *o);
/* Unmaps every window, map() ones included: the object is going away. */
void posix_map_drop_all(struct posix_obj *o);
/* Flushes CPU caches over [addr, addr+len) to the persistence domain;
 * false when this CPU has no way to (the caller then uses fdatasync). */
bool posix_flush_range(const void *addr, size_t len);
const char *posix_flush_name(void);

/* posix_reflink.c */
int posix_clone(struct pmem_obj *src, uint64_t src_off, struct pmem_obj *dst,
		uint64_t dst_off, uint64_t len);
int posix_allocate(struct pmem_obj *obj, uint64_t off, uint64_t len);
int posix_deallocate(struct pmem_obj *obj, uint64_t off, uint64_t len);
int posix_seek(struct pmem_obj *obj, uint64_t off, enum pmem_seek_what what, uint64_t *result);

#endif
