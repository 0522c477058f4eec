/*
 * rpc/xprt_tcp.c: ONC RPC over TCP (see xprt_tcp.h).
 *
 * Threads: the loop thread accepts, reads and closes; worker threads serve
 * calls and send replies. A connection holds one reference for the loop
 * (dropped when the loop closes it) and one per queued or running request,
 * and its descriptor is closed only in destroy, after the last reference:
 * the fd number cannot be reused while a worker may still send on it.
 * The limits on connections (how many, how long a record may take, how
 * long a sessionless connection may idle, how much unfinished records may
 * hold, what happens when descriptors run out) live in xprt_tcp_guard.c;
 * this file calls it at accept, after each read and at close.
 */
#include "rpc/xprt_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/log.h"
#include "rpc/netaddr.h"
#include "rpc/record.h"
#include "rpc/rpc.h"
#include "rpc/xprt_tcp_internal.h"

#define TCP_SEND_TIMEOUT_MS 30000
#define TCP_READ_CHUNK (64u * 1024)
#define TCP_READS_PER_EVENT 16       /* then let other connections have a turn */
/* A fragment body with at least this much still to come is received straight
 * into the record (no copy from buf); less is not worth a system call of
 * its own, as the next header and requests may come in the same read. */
#define TCP_DIRECT_MIN (8u * 1024)
#define TCP_MAX_IOV 16
#define TCP_ACCEPTS_PER_EVENT 64     /* likewise for the listening socket */
/* Requests queued or running per connection before we stop reading from it:
 * a client that pipelines without bound must not fill our memory. Reading
 * resumes when half of them are done. */
#define TCP_MAX_INFLIGHT 128
#define TCP_EVENTS (EPOLLIN | EPOLLRDHUP)

struct tcp_job {
	struct tcp_conn *c;
	uint8_t *rec;
	size_t len;
};

static int tcp_send(struct rpc_xprt *x, const struct iovec *iov, int iovcnt);
static void tcp_shutdown(struct rpc_xprt *x);
static void tcp_destroy(struct rpc_xprt *x);

static const struct rpc_xprt_ops tcp_ops = {
	.netid = "tcp",
	.send = tcp_send,
	.shutdown = tcp_shutdown,
	.destroy = tcp_destroy,
};

/* ---- sending (any thread) ---- */

static int tcp_send(struct rpc_xprt *x, const struct iovec *iov, int iovcnt)
{
	struct tcp_conn *c = (struct tcp_conn *)x;
	struct iovec v[TCP_MAX_IOV + 1], *p = v;
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	struct msghdr mh;
	uint64_t total = 0;
	uint32_t mark;
	ssize_t w;
	int n, i, rc = 0;

	if (iovcnt < 0 || iovcnt > TCP_MAX_IOV)
		return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		v[i + 1] = iov[i];
		total += iov[i].iov_len;
	}
	if (total > x->max_record || total > ~RPC_REC_LAST_FRAG)
		return -EMSGSIZE;
	mark = htonl((uint32_t)total | RPC_REC_LAST_FRAG);
	v[0].iov_base = &mark;
	v[0].iov_len = 4;
	n = iovcnt + 1;
	pthread_mutex_lock(&c->send_lock);
	while (n > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = p;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				rc = (errno == EPIPE || errno == ENOTCONN) ? -ECONNRESET : -errno;
				break;
			}
			/* the peer reads slowly: wait, but not forever */
			rc = poll(&pfd, 1, TCP_SEND_TIMEOUT_MS);
			if (rc == 0) {
				log_warn("tcp", "%s: peer not reading for %d ms, closing",
					 c->peer_str, TCP_SEND_TIMEOUT_MS);
				shutdown(c->fd, SHUT_RDWR);
				rc = -ETIMEDOUT;
				break;
			}
			rc = 0;
			continue;
		}
		while (n > 0 && (size_t)w >= p->iov_len) {
			w -= (ssize_t)p->iov_len;
			p++;
			n--;
		}
		if (n > 0) {
			p->iov_base = (uint8_t *)p->iov_base + w;
			p->iov_len -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&c->send_lock);
	return rc;
}

static void tcp_shutdown(struct rpc_xprt *x)
{
	struct tcp_conn *c = (struct tcp_conn *)x;

	/* the loop sees the end of the stream and closes the connection there */
	shutdown(c->fd, SHUT_RDWR);
}

static void tcp_destroy(struct rpc_xprt *x)
{
	struct tcp_conn *c = (struct tcp_conn *)x;

	log_trace("tcp", "%s: freed", c->peer_str);
	close(c->fd);
	rpc_rec_release(&c->rb);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->flow_lock);
	free(c);
}

/* ---- the loop side ---- */

void rpc_tcp_conn_close(struct tcp_conn *c, const char *why)
{
	struct rpc_tcp_listener *l = c->l;

	if (c->closed)
		return;
	c->closed = true;
	rpc_tcp_guard_conn_closing(c);
	rpc_svc_del_fd(c->svc, c->fd);
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&l->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	pthread_mutex_unlock(&l->lock);
	if (rpc_rec_partial(&c->rb))
		log_debug("tcp", "%s: closed in the middle of a record", c->peer_str);
	rpc_rec_release(&c->rb);
	log_debug("tcp", "%s: connection closed (%s)", c->peer_str, why);
	rpc_xprt_closed(&c->xprt);
	rpc_xprt_put(&c->xprt);   /* the loop's reference */
}

static void serve_job(void *arg, uint8_t *reply_buf, size_t reply_cap)
{
	struct tcp_job *j = arg;
	struct tcp_conn *c = j->c;

	rpc_serve_record(&c->xprt, j->rec, j->len, NULL, reply_buf, reply_cap);
	pthread_mutex_lock(&c->flow_lock);
	c->inflight--;
	if (c->paused && c->inflight <= TCP_MAX_INFLIGHT / 2) {
		c->paused = false;
		rpc_svc_mod_fd(c->svc, c->fd, TCP_EVENTS);   /* -ENOENT once closed: fine */
	}
	pthread_mutex_unlock(&c->flow_lock);
	rpc_xprt_put(&c->xprt);
	free(j);
}

static void on_record(void *ctx, uint8_t *rec, size_t len)
{
	struct tcp_conn *c = ctx;
	struct tcp_job *j;

	if (rpc_route_reply(&c->xprt, rec, len))
		return;
	j = malloc(sizeof(*j));
	if (!j) {
		log_warn("tcp", "%s: out of memory, record dropped", c->peer_str);
		free(rec);
		return;
	}
	j->c = c;
	j->rec = rec;
	j->len = len;
	rpc_xprt_get(&c->xprt);
	pthread_mutex_lock(&c->flow_lock);
	c->inflight++;
	if (c->inflight >= TCP_MAX_INFLIGHT && !c->paused) {
		c->paused = true;
		rpc_svc_mod_fd(c->svc, c->fd, 0);
		log_debug("tcp", "%s: %u requests in flight, reading paused", c->peer_str,
			  c->inflight);
	}
	pthread_mutex_unlock(&c->flow_lock);
	if (rpc_svc_submit(c->svc, serve_job, j) < 0) {
		pthread_mutex_lock(&c->flow_lock);
		c->inflight--;
		pthread_mutex_unlock(&c->flow_lock);
		rpc_xprt_put(&c->xprt);
		free(rec);
		free(j);
	}
}

void rpc_tcp_conn_flow(struct tcp_conn *c, bool *paused, unsigned *inflight)
{
	pthread_mutex_lock(&c->flow_lock);
	*paused = c->paused;
	*inflight = c->inflight;
	pthread_mutex_unlock(&c->flow_lock);
}

static bool conn_paused(struct tcp_conn *c)
{
	unsigned inflight;
	bool p;

	rpc_tcp_conn_flow(c, &p, &inflight);
	return p;
}

static void on_readable(void *ctx, int fd, uint32_t events)
{
	struct tcp_conn *c = ctx;
	uint8_t buf[TCP_READ_CHUNK];
	uint64_t records_before;
	uint8_t *direct;
	long room;
	ssize_t r;
	int i, rc;

	for (i = 0; i < TCP_READS_PER_EVENT; i++) {
		room = rpc_rec_direct_room(&c->rb, &direct);
		if (room < 0) {
			rpc_tcp_guard_event(c->l, TCP_EV_NOMEM);
			rpc_tcp_conn_close(c, "out of memory");
			return;
		}
		/* the room is memory held before the bytes come: in the budget
		 * now, whatever the read brings (EAGAIN included) */
		if (!rpc_tcp_guard_charge(c))
			return;
		if (room >= (long)TCP_DIRECT_MIN)
			r = recv(fd, direct, (size_t)room, 0);
		else
			r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			rpc_tcp_conn_close(c, strerror(errno));
			return;
		}
		if (r == 0) {
			rpc_tcp_conn_close(c, "peer closed");
			return;
		}
		records_before = c->rb.records;
		if (room >= (long)TCP_DIRECT_MIN)
			rc = rpc_rec_direct_done(&c->rb, (size_t)r, on_record, c);
		else
			rc = rpc_rec_feed(&c->rb, buf, (size_t)r, on_record, c);
		if (rc < 0) {
			/* one line per interval, not per peer: any peer can do this */
			rpc_tcp_guard_event(c->l, rc == -EMSGSIZE ? TCP_EV_OVERSIZE : TCP_EV_NOMEM);
			rpc_tcp_conn_close(c, rc == -EMSGSIZE ? "record larger than Max_Record_Size"
							   : "out of memory");
			return;
		}
		if (!rpc_tcp_guard_after_feed(c, records_before))
			return;   /* closed for the partial-record budget */
		if (conn_paused(c))
			return;
	}
}

/* Sets up the connection accepted as fd. False when that failed for lack
 * of resources and accepting is paused. */
static bool accept_one(struct rpc_tcp_listener *l, int fd)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	int one = 1, rc;

	if (!c) {
		close(fd);
		return rpc_tcp_guard_accept_failed(l, ENOMEM);
	}
	c->fd = fd;
	c->svc = l->svc;
	c->l = l;
	pthread_mutex_init(&c->send_lock, NULL);
	pthread_mutex_init(&c->flow_lock, NULL);
	rpc_rec_init(&c->rb, l->max_record);
	rpc_xprt_init(&c->xprt, &tcp_ops);
	c->xprt.max_record = l->max_record;
	c->xprt.peer_len = sizeof(c->xprt.peer);
	getpeername(fd, (struct sockaddr *)&c->xprt.peer, &c->xprt.peer_len);
	c->xprt.local_len = sizeof(c->xprt.local);
	getsockname(fd, (struct sockaddr *)&c->xprt.local, &c->xprt.local_len);
	rpc_addr_format((const struct sockaddr *)&c->xprt.peer, c->peer_str, sizeof(c->peer_str));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	pthread_mutex_lock(&l->lock);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	pthread_mutex_unlock(&l->lock);
	rpc_tcp_guard_conn_opened(c);
	rc = rpc_svc_add_fd(l->svc, fd, TCP_EVENTS, on_readable, c);
	if (rc < 0) {
		/* no memory for the watch, or epoll's max_user_watches: a shortage
		 * like running out of descriptors */
		rpc_tcp_conn_close(c, "not watched");
		return rpc_tcp_guard_accept_failed(l, -rc);
	}
	log_debug("tcp", "%s: connection accepted (xprt %llu)", c->peer_str,
		  (unsigned long long)c->xprt.id);
	return true;
}

static void on_accept(void *ctx, int lfd, uint32_t events)
{
	struct rpc_tcp_listener *l = ctx;
	int fd, i;

	for (i = 0; i < TCP_ACCEPTS_PER_EVENT; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* the guard pauses accepting when retrying now would fail again */
			if (!rpc_tcp_guard_accept_failed(l, errno))
				return;
			continue;
		}
		if (rpc_tcp_guard_admit(l, fd) && !accept_one(l, fd))
			return;
	}
}

int rpc_tcp_listen(struct rpc_svc *s, const char *addr, uint16_t port, uint32_t max_record,
		   struct rpc_tcp_listener **out)
{
	struct rpc_tcp_listener *l;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, rc;

	if (rpc_addr_parse(addr, port, &ss, &sl) < 0) {
		log_err("tcp", "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->g.timer_fd = -1;
	l->svc = s;
	l->max_record = max_record;
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* a restarted server must get its port back while old connections linger */
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, 128) < 0) {
		rc = -errno;
		log_err("tcp", "cannot listen on %s port %u: %s", addr, port, strerror(-rc));
		goto fail;
	}
	sl = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) < 0) {
		rc = -errno;
		goto fail;
	}
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	rc = rpc_tcp_guard_start(l);
	if (rc < 0)
		goto fail;
	rc = rpc_svc_add_fd(s, l->fd, EPOLLIN, on_accept, l);
	if (rc < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	rpc_tcp_guard_stop(l);
	if (l->fd >= 0)
		close(l->fd);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return rc;
}

uint16_t rpc_tcp_listener_port(const struct rpc_tcp_listener *l)
{
	return l->port;
}

int rpc_tcp_listener_addr(const struct rpc_tcp_listener *l, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(l->fd, (struct sockaddr *)ss, len) < 0 ? -errno : 0;
}

unsigned rpc_tcp_listener_nconns(struct rpc_tcp_listener *l)
{
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->nconns;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static uint64_t events_total(const struct tcp_guard *g, enum tcp_event e)
{
	return atomic_load_explicit(&g->events_total[e], memory_order_relaxed);
}

void rpc_tcp_listener_stats(struct rpc_tcp_listener *l, struct rpc_tcp_stats *out)
{
	const struct tcp_guard *g = &l->g;

	out->connections = rpc_tcp_listener_nconns(l);
	out->partial_record_bytes = atomic_load_explicit(&g->partial_bytes_seen,
							 memory_order_relaxed);
	out->refused = events_total(g, TCP_EV_REFUSED);
	out->accept_failed = events_total(g, TCP_EV_ACCEPT_FAILED);
	out->record_timeouts = events_total(g, TCP_EV_RECORD_TIMEOUT);
	out->idle_unbound = events_total(g, TCP_EV_IDLE);
	out->partial_budget = events_total(g, TCP_EV_BUDGET);
	out->oversize = events_total(g, TCP_EV_OVERSIZE);
	out->no_memory = events_total(g, TCP_EV_NOMEM);
}

void rpc_tcp_listener_close(struct rpc_tcp_listener *l)
{
	struct tcp_conn *c;

	if (!l)
		return;
	rpc_svc_del_fd(l->svc, l->fd);
	close(l->fd);
	l->fd = -1;   /* closing connections must not re-arm it */
	for (;;) {
		pthread_mutex_lock(&l->lock);
		c = l->conns;
		pthread_mutex_unlock(&l->lock);
		if (!c)
			break;
		rpc_tcp_conn_close(c, "server shutting down");
	}
	rpc_tcp_guard_stop(l);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
