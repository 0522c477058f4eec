/*
 * rpc/svc.c: the event loop and worker pool (see svc.h).
 *
 * Watched descriptors are kept in a small table keyed by fd so that
 * rpc_svc_del_fd can retire a handler while epoll may still hold an event for
 * it from the same epoll_wait batch: handlers are looked up by fd at dispatch
 * time, never through a pointer stored in the event.
 */
#include "rpc/svc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "conf/log.h"

struct svc_watch {
	int fd;                  /* -1 when free */
	rpc_svc_fd_fn fn;
	void *ctx;
};

struct svc_job {
	rpc_svc_job_fn fn;
	void *arg;
	struct svc_job *next;
};

struct rpc_svc {
	int epfd, stopfd, timerfd;
	pthread_mutex_t watch_lock;
	struct svc_watch *watches;   /* indexed by fd */
	size_t n_watches;
	rpc_svc_tick_fn tick;
	void *tick_ctx;
	bool stop;

	pthread_mutex_t q_lock;
	pthread_cond_t q_cv;
	struct svc_job *q_head, *q_tail;
	bool q_closing;
	unsigned n_threads;
	pthread_t *threads;
	size_t reply_cap;
};

static _Atomic(struct rpc_svc *) current_svc;
static _Thread_local bool on_loop_thread;

struct rpc_svc *rpc_svc_current(void)
{
	return atomic_load(&current_svc);
}

bool rpc_svc_in_loop(void)
{
	return on_loop_thread;
}

static void *worker_main(void *arg)
{
	struct rpc_svc *s = arg;
	struct svc_job *j;
	uint8_t *buf = malloc(s->reply_cap);

	if (!buf)
		log_err("svc", "worker: no memory for a %zu-byte reply buffer", s->reply_cap);
	for (;;) {
		pthread_mutex_lock(&s->q_lock);
		while (!s->q_head && !s->q_closing)
			pthread_cond_wait(&s->q_cv, &s->q_lock);
		j = s->q_head;
		if (j) {
			s->q_head = j->next;
			if (!s->q_head)
				s->q_tail = NULL;
		}
		pthread_mutex_unlock(&s->q_lock);
		if (!j)
			break;   /* closing and drained */
		/* a job must always run: it owns what it was given (a record, a reference) */
		j->fn(j->arg, buf, buf ? s->reply_cap : 0);
		free(j);
	}
	free(buf);
	return NULL;
}

int rpc_svc_create(unsigned threads, size_t reply_cap, struct rpc_svc **out)
{
	struct rpc_svc *s;
	struct epoll_event ev = { .events = EPOLLIN };
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	unsigned i;
	int rc;

	if (threads == 0)
		threads = 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->epfd = s->stopfd = s->timerfd = -1;
	pthread_mutex_init(&s->watch_lock, NULL);
	pthread_mutex_init(&s->q_lock, NULL);
	pthread_cond_init(&s->q_cv, NULL);
	s->reply_cap = reply_cap;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0 || s->timerfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (timerfd_settime(s->timerfd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	ev.data.fd = s->stopfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	ev.data.fd = s->timerfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->timerfd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	s->threads = calloc(threads, sizeof(*s->threads));
	if (!s->threads) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < threads; i++) {
		rc = pthread_create(&s->threads[i], NULL, worker_main, s);
		if (rc) {
			rc = -rc;
			goto fail;
		}
		s->n_threads++;
	}
	atomic_store(&current_svc, s);
	*out = s;
	return 0;
fail:
	log_err("svc", "cannot set up the event loop: %s", strerror(-rc));
	rpc_svc_destroy(s);
	return rc;
}

void rpc_svc_destroy(struct rpc_svc *s)
{
	struct svc_job *j;
	unsigned i;

	if (!s)
		return;
	atomic_compare_exchange_strong(&current_svc, &(struct rpc_svc *){ s }, NULL);
	pthread_mutex_lock(&s->q_lock);
	s->q_closing = true;
	pthread_cond_broadcast(&s->q_cv);
	pthread_mutex_unlock(&s->q_lock);
	for (i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	/* no workers: nothing is queued unless creation failed half-way */
	while ((j = s->q_head) != NULL) {
		s->q_head = j->next;
		j->fn(j->arg, NULL, 0);
		free(j);
	}
	free(s->threads);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	free(s->watches);
	pthread_cond_destroy(&s->q_cv);
	pthread_mutex_destroy(&s->q_lock);
	pthread_mutex_destroy(&s->watch_lock);
	free(s);
}

int rpc_svc_add_fd(struct rpc_svc *s, int fd, uint32_t events, rpc_svc_fd_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct svc_watch *nw;
	size_t n, i;
	int rc = 0;

	if (fd < 0 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&s->watch_lock);
	if ((size_t)fd >= s->n_watches) {
		n = s->n_watches ? s->n_watches : 64;
		while (n <= (size_t)fd)
			n *= 2;
		nw = realloc(s->watches, n * sizeof(*nw));
		if (!nw) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = s->n_watches; i < n; i++)
			nw[i].fd = -1;
		s->watches = nw;
		s->n_watches = n;
	}
	s->watches[fd].fd = fd;
	s->watches[fd].fn = fn;
	s->watches[fd].ctx = ctx;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		s->watches[fd].fd = -1;
	}
out:
	pthread_mutex_unlock(&s->watch_lock);
	return rc;
}

int rpc_svc_mod_fd(struct rpc_svc *s, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int rc = 0;

	pthread_mutex_lock(&s->watch_lock);
	if (fd < 0 || (size_t)fd >= s->n_watches || s->watches[fd].fd != fd)
		rc = -ENOENT;
	else if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		rc = -errno;
	pthread_mutex_unlock(&s->watch_lock);
	return rc;
}

int rpc_svc_del_fd(struct rpc_svc *s, int fd)
{
	int rc = 0;

	pthread_mutex_lock(&s->watch_lock);
	if (fd < 0 || (size_t)fd >= s->n_watches || s->watches[fd].fd != fd) {
		rc = -ENOENT;
		goto out;
	}
	s->watches[fd].fd = -1;
	if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		rc = -errno;
out:
	pthread_mutex_unlock(&s->watch_lock);
	return rc;
}

void rpc_svc_set_tick(struct rpc_svc *s, rpc_svc_tick_fn fn, void *ctx)
{
	s->tick = fn;
	s->tick_ctx = ctx;
}

void rpc_svc_stop(struct rpc_svc *s)
{
	uint64_t one = 1;

	if (write(s->stopfd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the loop will stop anyway */
	}
}

int rpc_svc_run(struct rpc_svc *s)
{
	struct epoll_event evs[64];
	struct svc_watch w;
	uint64_t v;
	int n, i, fd;

	s->stop = false;
	on_loop_thread = true;
	while (!s->stop) {
		n = epoll_wait(s->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("svc", "epoll_wait: %s", strerror(errno));
			on_loop_thread = false;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == s->stopfd) {
				if (read(s->stopfd, &v, sizeof(v)) < 0) {
					/* nothing to do: we stop either way */
				}
				s->stop = true;
				continue;
			}
			if (fd == s->timerfd) {
				if (read(s->timerfd, &v, sizeof(v)) == (ssize_t)sizeof(v) && s->tick)
					s->tick(s->tick_ctx);
				continue;
			}
			pthread_mutex_lock(&s->watch_lock);
			w = (struct svc_watch){ .fd = -1 };
			if ((size_t)fd < s->n_watches)
				w = s->watches[fd];
			pthread_mutex_unlock(&s->watch_lock);
			if (w.fd == fd)
				w.fn(w.ctx, fd, evs[i].events);
		}
	}
	on_loop_thread = false;
	return 0;
}

int rpc_svc_submit(struct rpc_svc *s, rpc_svc_job_fn fn, void *arg)
{
	struct svc_job *j = malloc(sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&s->q_lock);
	if (s->q_closing) {
		pthread_mutex_unlock(&s->q_lock);
		free(j);
		return -ESHUTDOWN;
	}
	if (s->q_tail)
		s->q_tail->next = j;
	else
		s->q_head = j;
	s->q_tail = j;
	pthread_cond_signal(&s->q_cv);
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}
