/*
 * rdma/rdma_listen.c: the RDMA connection manager side: listening, its
 * events, the periodic check of closing connections, the figures, and
 * closing everything down.
 *
 * The event channel's descriptor is watched by the event loop, so every
 * connection-manager event (CONNECT_REQUEST, ESTABLISHED, DISCONNECTED,
 * DEVICE_REMOVAL, ...) is handled on the loop thread, the same thread that
 * reaps completions: a connection's state changes in one place.
 * DEVICE_REMOVAL closes the connections on that device (their flushed work
 * requests may never come back: the drain timer ends them) and, when the
 * listener itself was bound to that device, stops listening on RDMA; TCP
 * and connections on other devices go on.
 * Calls: librdmacm, rpc/svc, rdma_conn.c, conf/log. Called by: server/main.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rdma/rdma_internal.h"
#include "rpc/netaddr.h"

#define RDMA_BACKLOG 128
#define CM_EVENTS_PER_WAKE 64

int64_t rdma_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool rdma_on_owner(const struct rdma_listener *l)
{
	return pthread_equal(pthread_self(), l->owner);
}

void rdma_wake(struct rdma_listener *l)
{
	uint64_t one = 1;

	/* callers hold l->q_lock: rdma_listener_close takes it before it
	 * closes wake_fd and frees l */
	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already set: the loop wakes anyway */
	}
}

void rdma_release_queued_bufs(struct rdma_listener *l)
{
	struct rdma_buf *bufs, *b;

	pthread_mutex_lock(&l->q_lock);
	bufs = l->release_bufs;
	l->release_bufs = NULL;
	pthread_mutex_unlock(&l->q_lock);
	while ((b = bufs) != NULL) {
		bufs = b->next;
		rdma_buf_free(b);
	}
}

void rdma_run_deferred(struct rdma_listener *l)
{
	struct rdma_send *posts, *s;
	struct rdma_conn *destroys, *disconnects, *c;

	pthread_mutex_lock(&l->q_lock);
	posts = l->post_head;
	l->post_head = l->post_tail = NULL;
	destroys = l->destroy_conns;
	l->destroy_conns = NULL;
	disconnects = l->disconnect_conns;
	l->disconnect_conns = NULL;
	pthread_mutex_unlock(&l->q_lock);
	while ((s = posts) != NULL) {
		posts = s->qnext;
		c = s->c;
		rdma_send_post(s);
		rpc_xprt_put(&c->xprt);   /* send_queue's reference */
	}
	while ((c = disconnects) != NULL) {
		disconnects = c->dnext;
		pthread_mutex_lock(&l->q_lock);
		c->disconnect_queued = false;
		pthread_mutex_unlock(&l->q_lock);
		rdma_conn_close(c, "shut down by the server");
		rpc_xprt_put(&c->xprt);
	}
	rdma_release_queued_bufs(l);
	while ((c = destroys) != NULL) {
		destroys = c->dnext;
		rdma_conn_free(c);
	}
}

static void on_wake(void *ctx, int fd, uint32_t events)
{
	struct rdma_listener *l = ctx;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: woken already */
	}
	rdma_run_deferred(l);
}

static void stop_listening(struct rdma_listener *l, const char *why)
{
	if (!l->listen_id)
		return;
	log_warn("rdma", "no longer listening on RDMA port %u: %s", l->port, why);
	rdma_destroy_id(l->listen_id);
	l->listen_id = NULL;
}

/* Closes every connection on the device of verbs (loop thread). */
static void device_removed(struct rdma_listener *l, struct ibv_context *verbs)
{
	struct rdma_conn *c, *next;

	for (;;) {
		pthread_mutex_lock(&l->lock);
		for (c = l->conns; c; c = c->next)
			if (c->id->verbs == verbs && c->state <= RDMA_CONN_CONNECTED)
				break;
		next = c;
		pthread_mutex_unlock(&l->lock);
		if (!next)
			break;
		rdma_conn_close(next, "device removed");
	}
}

/* Handles one event. A connection's verbs objects and id go with its last
 * reference, and destroying an id waits until its events are acked: so the
 * connection an event is about is held until after the ack. */
static void on_cm_event(struct rdma_listener *l, struct rdma_cm_event *ev)
{
	struct rdma_cm_id *destroy = NULL;
	struct rdma_conn *c = NULL;
	bool listener_gone = false;

	log_trace("rdma", "connection manager: %s", rdma_event_str(ev->event));
	if (ev->event != RDMA_CM_EVENT_CONNECT_REQUEST && ev->id != l->listen_id &&
	    ev->id->context) {
		c = ev->id->context;
		/* a late event (TIMEWAIT_EXIT, our own DISCONNECTED) may come
		 * for a connection already queued to be freed: leave it be */
		if (!rpc_xprt_tryget(&c->xprt))
			c = NULL;
	}
	switch (ev->event) {
	case RDMA_CM_EVENT_CONNECT_REQUEST:
		destroy = rdma_conn_accept(l, ev, &c);
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		if (c)
			rdma_conn_established(c);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
		if (c)
			rdma_conn_close(c, rdma_event_str(ev->event));
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		log_warn("rdma", "device %s removed",
			 ev->id->verbs ? ibv_get_device_name(ev->id->verbs->device) : "?");
		if (ev->id->verbs)
			device_removed(l, ev->id->verbs);
		listener_gone = ev->id == l->listen_id;
		break;
	default:
		break;
	}
	rdma_ack_cm_event(ev);
	if (destroy)
		rdma_destroy_id(destroy);
	if (listener_gone)
		stop_listening(l, "its device was removed");
	if (c)
		rpc_xprt_put(&c->xprt);
}

static void on_cm_readable(void *ctx, int fd, uint32_t events)
{
	struct rdma_listener *l = ctx;
	struct rdma_cm_event *ev;
	int i;

	(void)fd;
	(void)events;
	for (i = 0; i < CM_EVENTS_PER_WAKE; i++) {
		if (rdma_get_cm_event(l->ch, &ev)) {
			if (errno != EAGAIN)
				log_warn("rdma", "connection manager events: %s", strerror(errno));
			return;
		}
		on_cm_event(l, ev);
	}
}

static void on_timer(void *ctx, int fd, uint32_t events)
{
	struct rdma_listener *l = ctx;
	struct rdma_conn *c, *next;
	int64_t now = rdma_now_ms();
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing: the next tick comes anyway */
	}
	pthread_mutex_lock(&l->lock);
	c = l->conns;
	pthread_mutex_unlock(&l->lock);
	while (c) {
		pthread_mutex_lock(&l->lock);
		next = c->next;
		pthread_mutex_unlock(&l->lock);
		/* may unlink (and free) c: its successor was read first */
		rdma_conn_drain_check(c, now);
		c = next;
	}
}

int rdma_listener_start(struct rpc_svc *s, const char *addr, uint16_t port, uint32_t max_record,
		struct rdma_listener **out)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct conf_conn_limits limits;
	struct rdma_listener *l;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fl, rc;

	if (rpc_addr_parse(addr, port, &ss, &sl) < 0) {
		log_err("rdma", "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->q_lock, NULL);
	l->owner = pthread_self();
	conf_conn_limits_current(&limits);
	l->max_connections = limits.max_connections;
	l->svc = s;
	l->port = port;
	l->max_record = max_record;
	l->timer_fd = -1;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0) {
		rc = -errno;
		goto fail;
	}
	l->ch = rdma_create_event_channel();
	if (!l->ch) {
		/* no /dev/infiniband/rdma_cm: this host has no RDMA */
		rc = errno == ENOENT || errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
		goto fail;
	}
	fl = fcntl(l->ch->fd, F_GETFL);
	if (fl < 0 || fcntl(l->ch->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	if (rdma_create_id(l->ch, &l->listen_id, l, RDMA_PS_TCP)) {
		rc = -errno;
		goto fail;
	}
	if (rdma_bind_addr(l->listen_id, (struct sockaddr *)&ss) ||
	    rdma_listen(l->listen_id, RDMA_BACKLOG)) {
		rc = -errno;
		/* an address no RDMA device serves */
		if (rc == -ENODEV || rc == -EADDRNOTAVAIL)
			rc = -ENODEV;
		goto fail;
	}
	l->port = ntohs(rdma_get_src_port(l->listen_id));
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timer_fd < 0 || timerfd_settime(l->timer_fd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = rpc_svc_add_fd(s, l->ch->fd, EPOLLIN, on_cm_readable, l);
	if (rc < 0)
		goto fail;
	rc = rpc_svc_add_fd(s, l->timer_fd, EPOLLIN, on_timer, l);
	if (rc < 0) {
		rpc_svc_del_fd(s, l->ch->fd);
		goto fail;
	}
	rc = rpc_svc_add_fd(s, l->wake_fd, EPOLLIN, on_wake, l);
	if (rc < 0) {
		rpc_svc_del_fd(s, l->timer_fd);
		rpc_svc_del_fd(s, l->ch->fd);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->listen_id)
		rdma_destroy_id(l->listen_id);
	if (l->ch)
		rdma_destroy_event_channel(l->ch);
	pthread_mutex_destroy(&l->q_lock);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return rc;
}

unsigned rdma_listener_nconns(struct rdma_listener *l)
{
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->nconns;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static uint64_t get(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void rdma_listener_stats(struct rdma_listener *l, struct rdma_stats *out)
{
	out->connections = rdma_listener_nconns(l);
	out->accepted = get(&l->accepted);
	out->refused = get(&l->refused);
	out->calls = get(&l->calls);
	out->replies_inline = get(&l->replies_inline);
	out->replies_write_chunk = get(&l->replies_write_chunk);
	out->replies_reply_chunk = get(&l->replies_reply_chunk);
	out->bytes_rdma_read = get(&l->bytes_rdma_read);
	out->bytes_rdma_write = get(&l->bytes_rdma_write);
	out->errors_sent = get(&l->errors_sent);
	out->dropped = get(&l->dropped);
	out->credit_overruns = get(&l->credit_overruns);
	out->registrations = get(&l->registrations);
}

/* What the transport did, once at exit (tests read this line). */
static void log_stats(struct rdma_listener *l)
{
	struct rdma_stats st;

	rdma_listener_stats(l, &st);
	log_info("rdma", "at exit: %llu connections accepted, %llu refused; %llu calls; replies "
		 "%llu inline, %llu through the Reply chunk, %llu with a Write chunk; RDMA Read "
		 "%llu bytes, RDMA Write %llu bytes; %llu RDMA_ERROR sent, %llu messages dropped, "
		 "%llu calls past the credits; %llu registrations left",
		 (unsigned long long)st.accepted, (unsigned long long)st.refused,
		 (unsigned long long)st.calls, (unsigned long long)st.replies_inline,
		 (unsigned long long)st.replies_reply_chunk,
		 (unsigned long long)st.replies_write_chunk, (unsigned long long)st.bytes_rdma_read,
		 (unsigned long long)st.bytes_rdma_write, (unsigned long long)st.errors_sent,
		 (unsigned long long)st.dropped, (unsigned long long)st.credit_overruns,
		 (unsigned long long)st.registrations);
}

/* Connection objects (closed or not) and devices not yet freed. */
static bool listener_alive(struct rdma_listener *l)
{
	bool alive;

	pthread_mutex_lock(&l->lock);
	alive = l->alive > 0 || l->devices != NULL;
	pthread_mutex_unlock(&l->lock);
	return alive;
}

void rdma_listener_close(struct rdma_listener *l)
{
	struct rdma_conn *c;
	int64_t deadline;

	if (!l)
		return;
	rpc_svc_del_fd(l->svc, l->timer_fd);
	close(l->timer_fd);
	rpc_svc_del_fd(l->svc, l->wake_fd);
	if (l->listen_id) {
		rdma_destroy_id(l->listen_id);
		l->listen_id = NULL;
	}
	/* Close every connection, then wait (bounded) for the flushes, here on
	 * the owner thread after the loop stopped: completions and what workers
	 * queue are run by hand. */
	for (;;) {
		rdma_run_deferred(l);
		pthread_mutex_lock(&l->lock);
		for (c = l->conns; c && c->state >= RDMA_CONN_CLOSING; c = c->next)
			;
		pthread_mutex_unlock(&l->lock);
		if (!c)
			break;
		rdma_conn_close(c, "server shutting down");
	}
	deadline = rdma_now_ms() + RDMA_DRAIN_TIMEOUT_MS;
	for (;;) {
		rdma_run_deferred(l);
		pthread_mutex_lock(&l->lock);
		c = l->conns;
		pthread_mutex_unlock(&l->lock);
		if (!c)
			break;
		rdma_cq_event(c, c->cc->fd, EPOLLIN);   /* may close and unlink it */
		pthread_mutex_lock(&l->lock);
		c = l->conns == c ? c : NULL;
		pthread_mutex_unlock(&l->lock);
		if (!c)
			continue;
		if (rdma_now_ms() < deadline)
			usleep(1000);
		else
			rdma_conn_drain_check(c, deadline + RDMA_DRAIN_TIMEOUT_MS);
	}
	/* calls still in service hold their connections (and the ids on our
	 * channel, and the devices that point here): their workers end them */
	deadline = rdma_now_ms() + 10 * RDMA_DRAIN_TIMEOUT_MS;
	for (;;) {
		rdma_run_deferred(l);
		if (!listener_alive(l) || rdma_now_ms() >= deadline)
			break;
		usleep(1000);
	}
	rpc_svc_del_fd(l->svc, l->ch->fd);
	if (listener_alive(l)) {
		/* freeing now would pull memory from under them: left to exit */
		log_warn("rdma", "connections still in use at shutdown: not freed");
		return;
	}
	rdma_destroy_event_channel(l->ch);
	/* a worker that queued the last thing may still be in rdma_wake */
	pthread_mutex_lock(&l->q_lock);
	pthread_mutex_unlock(&l->q_lock);
	close(l->wake_fd);
	log_stats(l);
	pthread_mutex_destroy(&l->q_lock);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
