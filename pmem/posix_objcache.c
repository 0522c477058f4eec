/*
 * pmem/posix_objcache.c: the object cache of the POSIX backend.
 *
 * Job: hand out the one struct posix_obj of an inode, found by its kernel
 * handle (so that it can own the inode's one data descriptor: posix_priv.h),
 * and keep an object nobody holds any more ("idle") open for a while, with
 * its O_PATH and data descriptors, so that the next request on that file
 * costs one fstat instead of open_by_handle_at, name_to_handle_at, two fstats
 * and a close, and its READ or WRITE reuses the data descriptor (issue 14:
 * that was most of the system calls of a GETATTR or a 4 KiB READ).
 *
 * Bounds: at most exp->idle_max idle objects per export (the least recently
 * used go first), none idle longer than POSIX_IDLE_MS (posix_export_trim,
 * from the server's tick); when an open of this export's runs out of
 * descriptors, all of its idle objects are closed and the open is tried
 * again (posix_objcache_trim_for_fds; other exports' are not). An idle
 * object keeps its data descriptor only when it is read-only: a writable
 * one would make a local exec fail (ETXTBSY) and a local read lease (and a
 * read delegation through another export of the same files) be refused.
 * Why an idle object may be closed without asking anyone:
 * nobody holds it, and a lease holds a reference (lease.c), so an idle object
 * has no lease, no open state and no mapping in use.
 * Removed files: REMOVE and RENAME forget the object of the name they unlink
 * (posix_objcache_forget), so that its space is freed when its last holder
 * lets go rather than when it ages out; a file unlinked by someone else is
 * caught at its next lookup by handle (nlink 0: stale unless held; checked
 * under the cache lock when the object is idle, so that two lookups cannot
 * keep each other's unlinked file reachable).
 *
 * Locking: exp->lock guards the hash chains, the idle list and every field
 * of it named in posix_priv.h; descriptors are closed after it is dropped.
 * Calls: libc, posix_io.c (posix_data_close). Called by: posix_export.c,
 * posix_dir.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

static uint32_t handle_hash(const uint8_t *h, size_t len)
{
	uint32_t x = 2166136261u;   /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		x = (x ^ h[i]) * 16777619u;
	return x;
}

unsigned posix_objcache_default_max(void)
{
	struct rlimit rl;

	/* Up to two descriptors per idle object; leave most of the budget to
	 * connections, open files in use and other exports. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur / 16 >= POSIX_IDLE_MAX)
		return POSIX_IDLE_MAX;
	return (unsigned)(rl.rlim_cur / 16);
}

/* exp->lock held. */
static void idle_unlink(struct posix_export *exp, struct posix_obj *o)
{
	if (o->idle_newer)
		o->idle_newer->idle_older = o->idle_older;
	else
		exp->idle_newest = o->idle_older;
	if (o->idle_older)
		o->idle_older->idle_newer = o->idle_newer;
	else
		exp->idle_oldest = o->idle_newer;
	o->idle_newer = o->idle_older = NULL;
	o->idle = false;
	exp->idle_count--;
}

/* exp->lock held. */
static void idle_push(struct posix_export *exp, struct posix_obj *o, int64_t now_ms)
{
	o->idle = true;
	o->idle_since_ms = now_ms;
	o->idle_newer = NULL;
	o->idle_older = exp->idle_newest;
	if (exp->idle_newest)
		exp->idle_newest->idle_newer = o;
	else
		exp->idle_oldest = o;
	exp->idle_newest = o;
	exp->idle_count++;
}

/* exp->lock held. */
static void unhash(struct posix_export *exp, struct posix_obj *o)
{
	struct posix_obj **pp;

	for (pp = &exp->buckets[o->hash % POSIX_HASH_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	o->hnext = NULL;
	o->hashed = false;
}

/* Closes what o holds and frees it; nothing may reach it any more. */
static void obj_destroy(struct posix_obj *o)
{
	posix_data_close(o);
	close(o->path_fd);
	pthread_rwlock_destroy(&o->fd_lock);
	free(o);
}

/* Objects unhashed by the caller and chained through hnext. */
static void destroy_chain(struct posix_obj *o)
{
	struct posix_obj *next;

	for (; o; o = next) {
		next = o->hnext;
		obj_destroy(o);
	}
}

/* Idle o leaves the cache onto *chain. exp->lock held. */
static void evict(struct posix_export *exp, struct posix_obj *o, struct posix_obj **chain)
{
	idle_unlink(exp, o);
	unhash(exp, o);
	o->hnext = *chain;
	*chain = o;
}

/* Brings idle o back to life for the caller: one reference, and the export
 * held again. exp->lock held; the caller holds the export. */
static void revive(struct posix_export *exp, struct posix_obj *o)
{
	idle_unlink(exp, o);
	atomic_store(&o->pub.refs, 1);
	atomic_fetch_add(&exp->pub.refs, 1);
}

/* A reference on o unless its last one is being dropped (refs 0, not idle:
 * dying). */
static bool obj_tryget(struct posix_obj *o)
{
	int r = atomic_load(&o->pub.refs);

	while (r > 0)
		if (atomic_compare_exchange_weak(&o->pub.refs, &r, r + 1))
			return true;
	return false;
}

/* A reference on o, reviving it when idle. exp->lock held. */
static bool obj_take(struct posix_export *exp, struct posix_obj *o)
{
	if (o->idle) {
		revive(exp, o);
		return true;
	}
	return obj_tryget(o);
}

int posix_objcache_find(struct posix_export *exp, const uint8_t *h, size_t hlen,
			enum posix_find how, struct pmem_obj **out, struct stat *st)
{
	struct posix_obj *p, *victims = NULL;
	bool stated = false;
	int rc = -ENOENT;

	pthread_mutex_lock(&exp->lock);
	for (p = exp->buckets[handle_hash(h, hlen) % POSIX_HASH_BUCKETS]; p; p = p->hnext) {
		if (p->hlen != hlen || memcmp(p->handle, h, hlen))
			continue;
		if (p->idle) {
			if (how == POSIX_FIND_HELD)
				break;
			/* Checked under the lock, so that no other request can take
			 * an unlinked file's object meanwhile and keep it reachable. */
			if (how == POSIX_FIND_LINKED) {
				if (fstat(p->path_fd, st) < 0 || st->st_nlink == 0) {
					evict(exp, p, &victims);
					rc = -ESTALE;
					break;
				}
				stated = true;
			}
			revive(exp, p);
		} else if (!obj_tryget(p)) {
			break;   /* dying: the caller opens it anew */
		}
		*out = &p->pub;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&exp->lock);
	destroy_chain(victims);
	/* Somebody holds it: an unlinked file stays reachable (an NFS open of a
	 * file removed meanwhile), so nlink is not judged here. */
	if (rc == 0 && st && !stated && fstat(posix_obj(*out)->path_fd, st) < 0) {
		rc = -errno;
		pmem_obj_put(*out);
	}
	return rc;
}

int posix_obj_from_fd(struct posix_export *exp, int fd, struct pmem_obj **out)
{
	struct posix_obj *o = NULL, *p;
	uint8_t h[POSIX_KHANDLE_MAX];
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
	rc = posix_fd_khandle(fd, h, &hlen);
	if (rc)
		goto out;
	hash = handle_hash(h, hlen);

	pthread_mutex_lock(&exp->lock);
	for (p = exp->buckets[hash % POSIX_HASH_BUCKETS]; p; p = p->hnext) {
		if (p->hlen != hlen || memcmp(p->handle, h, hlen))
			continue;
		if (obj_take(exp, p)) {
			pthread_mutex_unlock(&exp->lock);
			*out = &p->pub;
			rc = 0;
			goto out;   /* fd closed below: the cached object has its own */
		}
		/* Dying: unhash it so its release does not touch the bucket. */
		unhash(exp, p);
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

void posix_obj_release(struct pmem_obj *obj)
{
	struct posix_obj *o = posix_obj(obj), *victims = NULL;
	struct posix_export *exp = posix_exp(obj->exp);
	bool keep;

	/* Nobody can reach o now (refs 0 and not idle: dying to lookups), so
	 * its writable descriptor can go before it is kept. */
	posix_data_close_writable(o);
	pthread_mutex_lock(&exp->lock);
	keep = o->hashed && !o->forgotten && exp->idle_max > 0;
	if (keep) {
		idle_push(exp, o, posix_now_ms());
		while (exp->idle_count > exp->idle_max)
			evict(exp, exp->idle_oldest, &victims);
	} else if (o->hashed) {
		unhash(exp, o);
	}
	pthread_mutex_unlock(&exp->lock);
	destroy_chain(victims);
	if (!keep)
		obj_destroy(o);
	/* An idle object does not hold its export: the export's release
	 * closes whatever is still idle (posix_objcache_drain). */
	pmem_export_put(&exp->pub);
}

void posix_objcache_forget(struct posix_export *exp, const uint8_t *h, size_t hlen)
{
	struct posix_obj *p, *victims = NULL;

	pthread_mutex_lock(&exp->lock);
	for (p = exp->buckets[handle_hash(h, hlen) % POSIX_HASH_BUCKETS]; p; p = p->hnext) {
		if (p->hlen != hlen || memcmp(p->handle, h, hlen))
			continue;
		if (p->idle)
			evict(exp, p, &victims);
		else
			p->forgotten = true;   /* its last holder closes it */
		break;
	}
	pthread_mutex_unlock(&exp->lock);
	destroy_chain(victims);
}

void posix_objcache_trim(struct posix_export *exp, bool all)
{
	struct posix_obj *victims = NULL;
	int64_t cutoff = posix_now_ms() - POSIX_IDLE_MS;

	pthread_mutex_lock(&exp->lock);
	while (exp->idle_oldest && (all || exp->idle_oldest->idle_since_ms <= cutoff))
		evict(exp, exp->idle_oldest, &victims);
	pthread_mutex_unlock(&exp->lock);
	destroy_chain(victims);
}

bool posix_objcache_trim_for_fds(struct posix_export *exp, int err)
{
	unsigned before;

	if (err != -EMFILE && err != -ENFILE)
		return false;
	pthread_mutex_lock(&exp->lock);
	before = exp->idle_count;
	pthread_mutex_unlock(&exp->lock);
	posix_objcache_trim(exp, true);
	return before > 0;
}

void posix_objcache_drain(struct posix_export *exp)
{
	/* Only idle objects are left: any other would hold the export. */
	posix_objcache_trim(exp, true);
}
