/*
 * pmem/posix_map.c: file mappings, the mapping cache, and CPU cache flushes.
 *
 * Job: map file ranges of an object's data descriptor, with
 * MAP_SHARED_VALIDATE|MAP_SYNC when the file is DAX (so that the block
 * mapping behind a written page is durable when the page fault returns and a
 * CPU cache flush is all a stable write needs), plain MAP_SHARED otherwise.
 * Keeps a cache of POSIX_MAP_CHUNK windows per export for the read/write
 * mapping path, bounded in mapped bytes (least recently used idle windows go
 * first), and the explicit map()/unmap() windows that layouts use.
 * Flushes with clwb or clflushopt + sfence where the CPU has them, clflush
 * otherwise (detected once with cpuid). Copies through a window are guarded:
 * a file truncated under us by another process makes the copy fault with
 * SIGBUS, which turns into -EFAULT here instead of killing the daemon.
 * Calls: libc, Linux syscalls. Called by: posix_io.c, the backend table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "pmem/posix_priv.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

struct posix_map {
	struct posix_obj *obj;
	struct posix_map *onext;            /* the object's list */
	struct posix_map *prev, *next;      /* export LRU (cache windows only) */
	uint64_t off;
	size_t len;
	uint8_t *addr;
	bool writable, sync, explicit_map;
	int users;                          /* copies in progress, or 1 for map() */
};

/* ---- CPU cache flush ---------------------------------------------------- */

enum flush_kind { FLUSH_NONE, FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT, FLUSH_CLWB };
static enum flush_kind flush_kind;
static unsigned flush_line = 64;
static pthread_once_t flush_once = PTHREAD_ONCE_INIT;

static void flush_detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19))) {
		flush_kind = FLUSH_CLFLUSH;
		if ((b >> 8) & 0xff)
			flush_line = ((b >> 8) & 0xff) * 8;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		if (b & (1u << 23))
			flush_kind = FLUSH_CLFLUSHOPT;
		if (b & (1u << 24))
			flush_kind = FLUSH_CLWB;
	}
#endif
}

const char *posix_flush_name(void)
{
	static const char *names[] = { "none", "clflush", "clflushopt+sfence", "clwb+sfence" };

	pthread_once(&flush_once, flush_detect);
	return names[flush_kind];
}

bool posix_flush_range(const void *addr, size_t len)
{
	uintptr_t p, end;

	pthread_once(&flush_once, flush_detect);
	if (flush_kind == FLUSH_NONE)
		return false;
	if (len == 0)
		return true;
	p = (uintptr_t)addr & ~((uintptr_t)flush_line - 1);
	end = (uintptr_t)addr + len;
#if defined(__x86_64__) || defined(__i386__)
	for (; p < end; p += flush_line) {
		switch (flush_kind) {
		case FLUSH_CLWB:
			__asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
			break;
		case FLUSH_CLFLUSHOPT:
			__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
			break;
		default:
			__asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
			break;
		}
	}
	/* clwb/clflushopt are weakly ordered: fence before the reply goes out.
	 * clflush is ordered with respect to stores already. */
	if (flush_kind != FLUSH_CLFLUSH)
		__asm__ volatile("sfence" ::: "memory");
#else
	(void)p;
	(void)end;
#endif
	return true;
}

/* ---- SIGBUS-guarded copies -------------------------------------------- */

static __thread sigjmp_buf *bus_env;
static struct sigaction bus_old;
static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	if (bus_env)
		siglongjmp(*bus_env, 1);
	/* Not a guarded copy: whoever handled SIGBUS before us, or the default. */
	if ((bus_old.sa_flags & SA_SIGINFO) && bus_old.sa_sigaction) {
		bus_old.sa_sigaction(sig, si, uc);
	} else if (bus_old.sa_handler != SIG_DFL && bus_old.sa_handler != SIG_IGN) {
		bus_old.sa_handler(sig);
	} else {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
	}
}

/* Installs the handler unless it is in place. Checked on every guarded copy
 * (one syscall, small next to a copy of a window) because someone else may
 * have set SIGBUS since: a test harness, a library. */
static void bus_install(void)
{
	struct sigaction sa, cur;

	if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == bus_handler)
		return;
	pthread_mutex_lock(&bus_lock);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = bus_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &cur);
	if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == bus_handler))
		bus_old = cur;
	pthread_mutex_unlock(&bus_lock);
}

int posix_copy_guarded(void *dst, const void *src, size_t n)
{
	sigjmp_buf env;

	bus_install();
	if (sigsetjmp(env, 1)) {
		bus_env = NULL;
		return -EFAULT;
	}
	bus_env = &env;
	memcpy(dst, src, n);
	bus_env = NULL;
	return 0;
}

/* ---- windows ------------------------------------------------------------ */

static size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

static void lru_unlink(struct posix_export *exp, struct posix_map *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else if (exp->map_lru == m)
		exp->map_lru = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else if (exp->map_mru == m)
		exp->map_mru = m->prev;
	m->prev = m->next = NULL;
}

static void lru_push(struct posix_export *exp, struct posix_map *m)
{
	m->prev = exp->map_mru;
	m->next = NULL;
	if (exp->map_mru)
		exp->map_mru->next = m;
	else
		exp->map_lru = m;
	exp->map_mru = m;
}

/* Removes m from its object and the LRU and unmaps it; map_lock held. */
static void window_free(struct posix_export *exp, struct posix_map *m)
{
	struct posix_map **pp;

	for (pp = &m->obj->maps; *pp; pp = &(*pp)->onext)
		if (*pp == m) {
			*pp = m->onext;
			break;
		}
	if (!m->explicit_map)
		lru_unlink(exp, m);
	munmap(m->addr, m->len);
	exp->mapped_bytes -= m->len;
	free(m);
}

/* Makes room for len more mapped bytes by unmapping idle cache windows. */
static int make_room(struct posix_export *exp, size_t len)
{
	struct posix_map *m = exp->map_lru, *next;

	while (exp->mapped_bytes + len > exp->map_limit && m) {
		next = m->next;
		if (m->users == 0)
			window_free(exp, m);
		m = next;
	}
	return exp->mapped_bytes + len > exp->map_limit ? -ENOMEM : 0;
}

static int do_mmap(struct posix_obj *o, int fd, uint64_t off, size_t len, bool writable,
		   uint8_t **addr, bool *sync)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *p = MAP_FAILED;

	*sync = false;
	if (o->dax) {
		p = mmap(NULL, len, prot, MAP_SHARED_VALIDATE | MAP_SYNC, fd, (off_t)off);
		/* EOPNOTSUPP: the file is not DAX (any more): see ARCHITECTURE.md. */
		*sync = p != MAP_FAILED;
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int posix_map(struct pmem_obj *obj, uint64_t off, size_t len, bool writable, void **addr)
{
	struct posix_obj *o = posix_obj(obj);
	struct posix_export *exp = posix_exp(obj->exp);
	struct posix_map *m = NULL;
	uint64_t aoff;
	size_t alen;
	struct stat st;
	int fd, rc;

	if (len == 0 || off > INT64_MAX || len > INT64_MAX - off)
		return -EINVAL;
	aoff = off & ~((uint64_t)page_size() - 1);
	alen = (size_t)(off + len - aoff);
	rc = posix_data_get(o, writable, &fd);
	if (rc)
		return rc;
	/* Pages past EOF would fault (SIGBUS) on first touch. */
	if (fstat(fd, &st) < 0 || off + len > (uint64_t)st.st_size) {
		rc = -ENXIO;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&exp->map_lock);
	rc = make_room(exp, alen);
	pthread_mutex_unlock(&exp->map_lock);
	if (rc)
		goto out;
	rc = do_mmap(o, fd, aoff, alen, writable, &m->addr, &m->sync);
	if (rc)
		goto out;
	m->obj = o;
	m->off = aoff;
	m->len = alen;
	m->writable = writable;
	m->explicit_map = true;
	m->users = 1;
	pthread_mutex_lock(&exp->map_lock);
	m->onext = o->maps;
	o->maps = m;
	exp->mapped_bytes += alen;
	pthread_mutex_unlock(&exp->map_lock);
	*addr = m->addr + (off - aoff);
	m = NULL;
out:
	posix_data_put(o);
	free(m);
	return rc;
}

void posix_unmap(struct pmem_obj *obj, void *addr, size_t len)
{
	struct posix_obj *o = posix_obj(obj);
	struct posix_export *exp = posix_exp(obj->exp);
	struct posix_map *m;

	pthread_mutex_lock(&exp->map_lock);
	for (m = o->maps; m; m = m->onext)
		if (m->explicit_map && (uint8_t *)addr >= m->addr && (uint8_t *)addr < m->addr + m->len) {
			window_free(exp, m);
			break;
		}
	pthread_mutex_unlock(&exp->map_lock);
	(void)len;
}

/* The cache window holding file offset off, mapped and marked in use. */
static int window_get(struct posix_obj *o, int fd, uint64_t off, bool writable, struct posix_map **out)
{
	struct posix_export *exp = posix_exp(o->pub.exp);
	uint64_t base = off - off % POSIX_MAP_CHUNK;
	struct posix_map *m;
	int rc = 0;

	pthread_mutex_lock(&exp->map_lock);
	for (m = o->maps; m; m = m->onext)
		if (!m->explicit_map && m->off == base && (m->writable || !writable))
			break;
	if (m) {
		m->users++;
		lru_unlink(exp, m);
		lru_push(exp, m);
		goto out;
	}
	rc = make_room(exp, POSIX_MAP_CHUNK);
	if (rc)
		goto out;
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = -ENOMEM;
		goto out;
	}
	/* Writable whenever the descriptor is, so one window serves both. */
	m->writable = o->data_flags == O_RDWR;
	rc = do_mmap(o, fd, base, POSIX_MAP_CHUNK, m->writable, &m->addr, &m->sync);
	if (rc) {
		free(m);
		m = NULL;
		goto out;
	}
	m->obj = o;
	m->off = base;
	m->len = POSIX_MAP_CHUNK;
	m->users = 1;
	m->onext = o->maps;
	o->maps = m;
	lru_push(exp, m);
	exp->mapped_bytes += m->len;
out:
	pthread_mutex_unlock(&exp->map_lock);
	*out = m;
	return rc;
}

static void window_put(struct posix_obj *o, struct posix_map *m)
{
	struct posix_export *exp = posix_exp(o->pub.exp);

	pthread_mutex_lock(&exp->map_lock);
	m->users--;
	pthread_mutex_unlock(&exp->map_lock);
}

/* Copies between buf and the file through the windows; returns 1 when every
 * written byte was flushed to a MAP_SYNC window, 0 otherwise. */
static int map_copy(struct posix_obj *o, int fd, uint64_t off, void *rbuf, const void *wbuf,
		    size_t len, bool flush)
{
	struct posix_map *m;
	struct stat st;
	size_t done = 0, n;
	uint64_t in;
	bool all_flushed = true;
	int rc;

	/* Only inside EOF: past it the pages would fault. A file truncated by
	 * another process during the copy faults too: the guard catches that. */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (off + len > (uint64_t)st.st_size)
		return -ERANGE;
	while (done < len) {
		rc = window_get(o, fd, off + done, wbuf != NULL, &m);
		if (rc)
			return rc;
		in = off + done - m->off;
		n = len - done;
		if (n > m->len - in)
			n = m->len - in;
		if (wbuf) {
			rc = posix_copy_guarded(m->addr + in, (const char *)wbuf + done, n);
			if (rc == 0 && (!flush || !m->sync || !posix_flush_range(m->addr + in, n)))
				all_flushed = false;
		} else {
			rc = posix_copy_guarded((char *)rbuf + done, m->addr + in, n);
		}
		window_put(o, m);
		if (rc)
			return rc;
		done += n;
	}
	return wbuf && flush && all_flushed ? 1 : 0;
}

int posix_map_read(struct posix_obj *o, int fd, uint64_t off, void *buf, size_t len)
{
	return map_copy(o, fd, off, buf, NULL, len, false);
}

int posix_map_write(struct posix_obj *o, int fd, uint64_t off, const void *buf, size_t len, bool flush)
{
	if (o->data_flags != O_RDWR)
		return -EBADF;
	return map_copy(o, fd, off, NULL, buf, len, flush);
}

static int drop(struct posix_obj *o, bool all)
{
	struct posix_export *exp = posix_exp(o->pub.exp);
	struct posix_map *m, *next;
	int rc = 0;

	pthread_mutex_lock(&exp->map_lock);
	for (m = o->maps; m; m = next) {
		next = m->onext;
		if (m->users && !all)
			rc = -EBUSY;
		else
			window_free(exp, m);
	}
	pthread_mutex_unlock(&exp->map_lock);
	return rc;
}

int posix_map_drop(struct posix_obj *o)
{
	return drop(o, false);
}

void posix_map_drop_all(struct posix_obj *o)
{
	drop(o, true);
}
