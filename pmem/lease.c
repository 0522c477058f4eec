/*
 * pmem/lease.c: the lease manager (see pmem/lease.h).
 *
 * Job: F_SETLEASE on backend objects' data descriptors with F_SETSIG set to a
 * real-time signal, so that a break queues a siginfo naming the descriptor;
 * the signal is blocked everywhere and read from a signalfd, so breaks are
 * events of the event loop. Computes the holder's deadline from
 * /proc/sys/fs/lease-break-time minus a safety margin, and notices when the
 * kernel broke a lease by force (the holder never released it).
 * The one descriptor callers poll is an epoll set of: the signalfd, a timerfd
 * (the kernel's deadlines of breaking leases), and an eventfd (leases released
 * by us, whose "gone" events wait for the next dispatch so that a subscriber
 * is never called back from inside its own release call).
 * Calls: libc, Linux syscalls, conf/log. Called by: pmem/posix_io.c, server/.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "conf/log.h"
#include "pmem/lease.h"
#include "pmem/lease_priv.h"

#define MOD "lease"
#define LEASE_SIG (SIGRTMIN + 3)
#define RECHECK_NS 100000000ll   /* poll period once a kernel deadline passed */

enum entry_state { LS_ACTIVE = 1, LS_BREAKING };

struct lease_entry {
	struct lease_entry *next;
	int fd;
	struct pmem_obj *obj;
	void *cookie;
	enum pmem_lease_kind kind;
	enum entry_state state;
	int64_t kernel_deadline;   /* CLOCK_MONOTONIC ns, while breaking */
	pmem_lease_lost_fn lost;
};

/* An event collected under the lock and delivered after it. */
struct lease_event {
	struct lease_event *next;
	bool breaking;
	bool lost;                 /* kernel broke it: call entry's lost first */
	int fd;
	struct pmem_obj *obj;      /* reference held (gone events only) */
	void *cookie;
	struct timespec deadline;
	pmem_lease_lost_fn lost_fn;
};

static struct {
	pthread_mutex_t lock;
	bool started;
	struct pmem_lease_events ev;
	int epfd, sigfd, timerfd, evfd;
	struct lease_entry *entries;
	struct lease_event *pending;   /* gone events of released leases */
} mgr = { .lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .sigfd = -1, .timerfd = -1, .evfd = -1 };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sigset_lease(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, LEASE_SIG);
	sigaddset(set, SIGIO);   /* what the kernel sends when the RT queue overflows */
}

int pmem_lease_block_signal(void)
{
	sigset_t set;
	int rc;

	sigset_lease(&set);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	return -rc;
}

int pmem_lease_break_time(unsigned *seconds)
{
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%u", seconds) != 1)
		rc = -EIO;
	fclose(f);
	return rc;
}

/* The holder's share of the kernel's time: a quarter up to 5 s is kept back
 * for the release itself and for the delay between the break and our signal. */
static int64_t margin_ns(unsigned bt)
{
	int64_t m = (int64_t)bt * 250000000ll;

	return m > 5000000000ll ? 5000000000ll : m;
}

int64_t pmem_lease_holder_ms(unsigned break_s)
{
	return ((int64_t)break_s * 1000000000ll - margin_ns(break_s)) / 1000000;
}

static int epoll_add(int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(mgr.epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static void close_fds(void)
{
	int *fds[] = { &mgr.epfd, &mgr.sigfd, &mgr.timerfd, &mgr.evfd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int pmem_lease_manager_start(const struct pmem_lease_events *ev)
{
	sigset_t set;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	if (mgr.started) {
		rc = -EALREADY;
		goto out;
	}
	sigset_lease(&set);
	mgr.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	mgr.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	mgr.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	mgr.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (mgr.sigfd < 0 || mgr.timerfd < 0 || mgr.evfd < 0 || mgr.epfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = epoll_add(mgr.sigfd);
	if (rc == 0)
		rc = epoll_add(mgr.timerfd);
	if (rc == 0)
		rc = epoll_add(mgr.evfd);
	if (rc)
		goto fail;
	memset(&mgr.ev, 0, sizeof(mgr.ev));
	if (ev)
		mgr.ev = *ev;
	mgr.started = true;
	goto out;
fail:
	close_fds();
out:
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

void pmem_lease_manager_stop(void)
{
	struct lease_entry *e, *enext;
	struct lease_event *v, *vnext;

	pthread_mutex_lock(&mgr.lock);
	e = mgr.entries;
	v = mgr.pending;
	mgr.entries = NULL;
	mgr.pending = NULL;
	mgr.started = false;
	close_fds();
	pthread_mutex_unlock(&mgr.lock);
	for (; e; e = enext) {
		enext = e->next;
		fcntl(e->fd, F_SETLEASE, F_UNLCK);
		if (e->lost)
			e->lost(e->obj, e->fd);
		pmem_obj_put(e->obj);
		free(e);
	}
	for (; v; v = vnext) {
		vnext = v->next;
		pmem_obj_put(v->obj);
		free(v);
	}
}

int pmem_lease_event_fd(void)
{
	return mgr.epfd;
}

static struct lease_entry *find(int fd, struct lease_entry ***pprev)
{
	struct lease_entry **pp, *e;

	for (pp = &mgr.entries; (e = *pp); pp = &e->next)
		if (e->fd == fd) {
			if (pprev)
				*pprev = pp;
			return e;
		}
	return NULL;
}

int pmem_lease_set(int fd, struct pmem_obj *obj, enum pmem_lease_kind kind, void *cookie,
		   pmem_lease_lost_fn lost)
{
	struct lease_entry *e;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	if (!mgr.started) {
		rc = -ENOTCONN;
		goto out;
	}
	e = find(fd, NULL);
	if (e && e->state == LS_BREAKING) {
		rc = -EAGAIN;   /* must be released first */
		goto out;
	}
	if (fcntl(fd, F_SETSIG, LEASE_SIG) < 0 ||
	    fcntl(fd, F_SETLEASE, kind == PMEM_LEASE_READ ? F_RDLCK : F_WRLCK) < 0) {
		rc = errno == EBUSY ? -EAGAIN : -errno;
		goto out;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			fcntl(fd, F_SETLEASE, F_UNLCK);
			rc = -ENOMEM;
			goto out;
		}
		e->fd = fd;
		e->obj = obj;
		pmem_obj_get(obj);
		e->next = mgr.entries;
		mgr.entries = e;
	}
	e->kind = kind;
	e->cookie = cookie;
	e->lost = lost;
	e->state = LS_ACTIVE;
out:
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

int pmem_lease_unset(int fd, bool report_gone)
{
	struct lease_entry *e, **pp;
	struct lease_event *v = NULL;
	struct pmem_obj *put = NULL;
	uint64_t one = 1;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	e = find(fd, &pp);
	if (!e) {
		rc = -ENOENT;
		goto out;
	}
	*pp = e->next;
	/* Unlocking unblocks whoever broke the lease. */
	if (fcntl(fd, F_SETLEASE, F_UNLCK) < 0 && errno != EAGAIN)
		rc = -errno;
	if (report_gone && mgr.ev.gone)
		v = calloc(1, sizeof(*v));
	if (v) {
		v->obj = e->obj;   /* the entry's reference moves to the event */
		v->cookie = e->cookie;
		v->fd = fd;
		v->next = mgr.pending;
		mgr.pending = v;
		if (write(mgr.evfd, &one, sizeof(one)) < 0)
			log_warn(MOD, "eventfd: %s", strerror(errno));
	} else {
		put = e->obj;
	}
	free(e);
out:
	pthread_mutex_unlock(&mgr.lock);
	/* Not the last reference: the caller holds one on the object. */
	pmem_obj_put(put);
	return rc;
}

enum fd_lease { FDL_NONE, FDL_ACTIVE, FDL_BREAKING };

/* Does fd still carry a lease, and is it breaking? F_GETLEASE first, because
 * it makes the kernel drop (or downgrade) leases whose break time has passed;
 * then the descriptor's lock list in /proc/self/fdinfo. */
static enum fd_lease fd_lease_state(int fd)
{
	enum fd_lease st = FDL_NONE;
	char path[64], line[256];
	FILE *f;

	fcntl(fd, F_GETLEASE);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return FDL_NONE;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "lock:", 5) == 0 && strstr(line, "LEASE"))
			st = strstr(line, "BREAKING") ? FDL_BREAKING : FDL_ACTIVE;
	fclose(f);
	return st;
}

/* What the kernel says the lease is now; while it breaks, F_GETLEASE answers
 * the type it is breaking to, so a breaking lease reads weaker than held. */
static bool entry_breaking(struct lease_entry *e)
{
	int t = fcntl(e->fd, F_GETLEASE);

	if (t < 0)
		return false;
	return e->kind == PMEM_LEASE_READ ? t != F_RDLCK : t != F_WRLCK;
}

static void start_break(struct lease_entry *e, unsigned bt, int64_t now, struct lease_event **evs)
{
	struct lease_event *v;
	int64_t dl;

	e->state = LS_BREAKING;
	e->kernel_deadline = now + (int64_t)bt * 1000000000ll;
	log_info(MOD, "lease on fileid %llu breaking (kernel deadline in %u s)",
		 (unsigned long long)e->obj->fileid, bt);
	v = calloc(1, sizeof(*v));
	if (!v)
		return;   /* the kernel deadline check still reports gone */
	dl = e->kernel_deadline - margin_ns(bt);
	v->breaking = true;
	v->obj = e->obj;
	pmem_obj_get(e->obj);
	v->cookie = e->cookie;
	v->deadline.tv_sec = dl / 1000000000ll;
	v->deadline.tv_nsec = dl % 1000000000ll;
	v->next = *evs;
	*evs = v;
}

static void arm_timer(int64_t now)
{
	struct itimerspec its = { 0 };
	struct lease_entry *e;
	int64_t first = 0, t;

	for (e = mgr.entries; e; e = e->next) {
		if (e->state != LS_BREAKING)
			continue;
		t = e->kernel_deadline > now ? e->kernel_deadline : now + RECHECK_NS;
		if (!first || t < first)
			first = t;
	}
	if (first) {
		its.it_value.tv_sec = first / 1000000000ll;
		its.it_value.tv_nsec = first % 1000000000ll;
	}
	timerfd_settime(mgr.timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void reverse(struct lease_event **list)
{
	struct lease_event *r = NULL, *v, *next;

	for (v = *list; v; v = next) {
		next = v->next;
		v->next = r;
		r = v;
	}
	*list = r;
}

int pmem_lease_dispatch(void)
{
	struct lease_event *evs = NULL, *v, *next;
	struct lease_entry *e, **pp;
	struct signalfd_siginfo si;
	struct pmem_lease_events ev;
	uint64_t cnt;
	unsigned bt = 45;
	bool rescan = false;
	int64_t now;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	if (!mgr.started) {
		pthread_mutex_unlock(&mgr.lock);
		return -ENOTCONN;
	}
	ev = mgr.ev;
	pmem_lease_break_time(&bt);
	now = now_ns();
	if (read(mgr.evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		rc = -errno;
	if (read(mgr.timerfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		rc = -errno;
	evs = mgr.pending;
	mgr.pending = NULL;

	while (read(mgr.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if ((int)si.ssi_signo != LEASE_SIG) {
			rescan = true;   /* SIGIO: the RT queue overflowed, signals lost */
			continue;
		}
		e = find((int)si.ssi_fd, NULL);
		/* A stale signal (the lease was released, the fd reused) reads
		 * as not breaking and is dropped. */
		if (e && e->state == LS_ACTIVE && entry_breaking(e))
			start_break(e, bt, now, &evs);
	}
	if (rescan)
		for (e = mgr.entries; e; e = e->next)
			if (e->state == LS_ACTIVE && entry_breaking(e))
				start_break(e, bt, now, &evs);

	/* Leases whose kernel deadline passed: gone once the kernel dropped
	 * them; a write lease the kernel downgraded to read is released here. */
	for (pp = &mgr.entries; (e = *pp);) {
		enum fd_lease st;

		if (e->state != LS_BREAKING || now < e->kernel_deadline) {
			pp = &e->next;
			continue;
		}
		st = fd_lease_state(e->fd);
		/* Our estimate of the kernel's deadline starts at the signal, after
		 * the break began, so a lease still breaking now is an edge of
		 * jiffies rounding: look again shortly, for at most a second. */
		if (st == FDL_BREAKING && now < e->kernel_deadline + 1000000000ll) {
			pp = &e->next;
			continue;
		}
		if (st != FDL_NONE)
			fcntl(e->fd, F_SETLEASE, F_UNLCK);
		*pp = e->next;
		log_warn(MOD, "lease on fileid %llu broken by the kernel (not released in time)",
			 (unsigned long long)e->obj->fileid);
		v = calloc(1, sizeof(*v));
		if (v) {
			v->lost = true;
			v->lost_fn = e->lost;
			v->fd = e->fd;
			v->obj = e->obj;
			v->cookie = e->cookie;
			v->next = evs;
			evs = v;
		} else {
			if (e->lost)
				e->lost(e->obj, e->fd);
			pmem_obj_put(e->obj);   /* still referenced by the caller's table */
		}
		free(e);
	}
	arm_timer(now);
	pthread_mutex_unlock(&mgr.lock);

	reverse(&evs);
	for (v = evs; v; v = next) {
		next = v->next;
		if (v->breaking) {
			if (ev.breaking)
				ev.breaking(ev.ctx, v->obj, v->cookie, v->deadline);
		} else {
			if (v->lost && v->lost_fn)
				v->lost_fn(v->obj, v->fd);
			if (ev.gone)
				ev.gone(ev.ctx, v->obj, v->cookie);
		}
		pmem_obj_put(v->obj);
		free(v);
	}
	return rc;
}
