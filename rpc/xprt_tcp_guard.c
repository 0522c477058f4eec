/*
 * rpc/xprt_tcp_guard.c: the limits on TCP connections (docs/security.md,
 * "Connections and limits").
 *
 * Job: keep hostile or broken peers from taking the server's descriptors,
 * memory or log:
 * - when accept fails for lack of descriptors or memory, stop watching the
 *   listening socket and try again after TCP_ACCEPT_BACKOFF_MS or as soon as
 *   a connection closes (a level-triggered listener would otherwise wake the
 *   loop for the same failure without end);
 * - past Max_Connections, accept and close at once;
 * - close a connection whose record stays incomplete Record_Timeout after its
 *   first byte, and one bound to no session that stays silent
 *   Idle_Unbound_Timeout;
 * - keep the bytes held by all unfinished records under
 *   Max_Partial_Record_Bytes by closing the connection whose unfinished
 *   record is the oldest (a stalled one: a record a client is sending now
 *   started recently);
 * - count every such event and log each kind at most once per
 *   TCP_LOG_INTERVAL_MS.
 * Memory of closed connections' records is freed at close; the periodic
 * timer then gives it back to the system (malloc_trim), so that the
 * resident size returns to where it was.
 * Everything runs on the loop thread: a timerfd in the event loop drives the
 * deadlines, no thread per connection.
 * Calls: rpc/xprt_tcp.c (close, flow state), rpc/svc, rpc/record,
 * rpc/ratelog, conf (conf_conn_limits_current), conf/log.
 * Called by: rpc/xprt_tcp.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rpc/xprt_tcp_internal.h"

#define TCP_GUARD_TICK_MS 250            /* resolution of every deadline here */
#define TCP_ACCEPT_BACKOFF_MS 200        /* accept paused at least this long */
#define TCP_LOG_INTERVAL_MS 10000        /* one line per kind of event at most */
#define TCP_TRIM_AFTER_BYTES (4u << 20)  /* give freed record memory back past this */
/* Descriptors the daemon needs besides connections (files, the loop's own):
 * a Max_Connections that leaves fewer than this is reported at start. */
#define TCP_FD_RESERVE 64

int64_t rpc_tcp_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC counts from boot: never 0, which marks "no record" */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

/* ---- reports ---- */

static void report(const struct tcp_guard *g, enum tcp_event e, uint64_t n)
{
	unsigned long long count = (unsigned long long)n;

	switch (e) {
	case TCP_EV_ACCEPT_FAILED:
		log_warn("tcp", "accept: %s: not accepting for %d ms at a time while it lasts "
			 "(%llu failures since the last report)", strerror(g->accept_errno),
			 TCP_ACCEPT_BACKOFF_MS, count);
		break;
	case TCP_EV_REFUSED:
		log_warn("tcp", "Max_Connections %u reached: %llu connections refused since the "
			 "last report", g->max_connections, count);
		break;
	case TCP_EV_RECORD_TIMEOUT:
		log_warn("tcp", "closed %llu connections whose record stayed incomplete for "
			 "Record_Timeout %lld s (since the last report)", count,
			 (long long)(g->record_timeout_ms / 1000));
		break;
	case TCP_EV_IDLE:
		log_info("tcp", "closed %llu connections bound to no session and idle for "
			 "Idle_Unbound_Timeout %lld s (since the last report)", count,
			 (long long)(g->idle_unbound_ms / 1000));
		break;
	case TCP_EV_BUDGET:
		log_warn("tcp", "unfinished records held more than Max_Partial_Record_Bytes "
			 "%llu: closed %llu connections, oldest unfinished record first (since "
			 "the last report)", (unsigned long long)g->max_partial_bytes, count);
		break;
	case TCP_EV_OVERSIZE:
		log_warn("tcp", "closed %llu connections that announced a record larger than "
			 "Max_Record_Size (since the last report)", count);
		break;
	case TCP_EV_NOMEM:
		log_warn("tcp", "out of memory for a record: closed %llu connections (since the "
			 "last report)", count);
		break;
	case TCP_EV_COUNT:
		break;
	}
}

static void count_events(struct tcp_guard *g, enum tcp_event e, uint64_t n, int64_t now)
{
	uint64_t due = rpc_ratelog_count(&g->logs[e], n, now);

	atomic_store_explicit(&g->events_total[e],
			      atomic_load_explicit(&g->events_total[e], memory_order_relaxed) + n,
			      memory_order_relaxed);

	if (due)
		report(g, e, due);
}

void rpc_tcp_guard_event(struct rpc_tcp_listener *l, enum tcp_event e)
{
	count_events(&l->g, e, 1, rpc_tcp_now_ms());
}

/* ---- accepting ---- */

static void accept_resume(struct rpc_tcp_listener *l)
{
	struct tcp_guard *g = &l->g;

	if (!g->accept_paused || l->fd < 0)
		return;
	if (rpc_svc_mod_fd(l->svc, l->fd, EPOLLIN) < 0)
		return;   /* stays paused: the next tick tries again */
	g->accept_paused = false;
}

bool rpc_tcp_guard_accept_failed(struct rpc_tcp_listener *l, int err)
{
	struct tcp_guard *g = &l->g;
	int64_t now;

	switch (err) {
	case EINTR:
	case ECONNABORTED:
	/* accept(2): errors of the new connection passed on; retry at once */
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENETUNREACH:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ENONET:
	case EOPNOTSUPP:
		return true;
	default:
		break;
	}
	/* EMFILE, ENFILE, ENOBUFS, ENOMEM, or an error that would come back at
	 * once: the listening socket stays readable, so watching it now would
	 * only spin */
	now = rpc_tcp_now_ms();
	if (!g->accept_paused && l->fd >= 0 && rpc_svc_mod_fd(l->svc, l->fd, 0) == 0)
		g->accept_paused = true;
	g->accept_resume_ms = now + TCP_ACCEPT_BACKOFF_MS;
	g->accept_errno = err;
	count_events(g, TCP_EV_ACCEPT_FAILED, 1, now);
	return false;
}

bool rpc_tcp_guard_admit(struct rpc_tcp_listener *l, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->nconns;
	pthread_mutex_unlock(&l->lock);
	if (n < l->g.max_connections)
		return true;
	/* a reset, not an orderly close: the peer learns at once, and no
	 * TIME_WAIT is left here for each refused connection */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
		/* an orderly close then: refused all the same */
	}
	close(fd);
	rpc_tcp_guard_event(l, TCP_EV_REFUSED);
	return false;
}

/* ---- connections ---- */

void rpc_tcp_guard_conn_opened(struct tcp_conn *c)
{
	c->rec_started_ms = 0;
	c->last_rx_ms = rpc_tcp_now_ms();
	c->held = 0;
}

void rpc_tcp_guard_conn_closing(struct tcp_conn *c)
{
	struct tcp_guard *g = &c->l->g;

	/* the caller frees the record buffer right after this */
	g->partial_bytes -= c->held;
	atomic_store_explicit(&g->partial_bytes_seen, g->partial_bytes, memory_order_relaxed);
	g->released_bytes += c->held;
	c->held = 0;
	c->rec_started_ms = 0;
	/* a descriptor is about to be free: accept what waits in the backlog */
	accept_resume(c->l);
}

/* Closes the connections with the oldest unfinished records until the
 * budget holds again. False when cur was one of them. */
static bool budget_enforce(struct rpc_tcp_listener *l, struct tcp_conn *cur, int64_t now)
{
	struct tcp_guard *g = &l->g;
	struct tcp_conn *c, *oldest;
	uint64_t dropped = 0;
	bool cur_open = true;

	while (g->partial_bytes > g->max_partial_bytes) {
		oldest = NULL;
		for (c = l->conns; c; c = c->next)   /* the loop thread alone changes the list */
			if (c->held > 0 && (!oldest || c->rec_started_ms < oldest->rec_started_ms))
				oldest = c;
		if (!oldest)
			break;   /* cannot happen: every held byte belongs to a connection */
		if (oldest == cur)
			cur_open = false;
		rpc_tcp_conn_close(oldest, "Max_Partial_Record_Bytes exceeded");
		dropped++;
	}
	count_events(g, TCP_EV_BUDGET, dropped, now);
	return cur_open;
}

/* Counts what c's record buffer holds now against the budget, enforcing
 * it. False when that closed c itself. */
static bool charge_held(struct tcp_conn *c, int64_t now)
{
	struct tcp_guard *g = &c->l->g;
	size_t held = rpc_rec_held(&c->rb);

	g->partial_bytes = g->partial_bytes - c->held + held;
	atomic_store_explicit(&g->partial_bytes_seen, g->partial_bytes, memory_order_relaxed);
	c->held = held;
	if (g->partial_bytes <= g->max_partial_bytes)
		return true;
	return budget_enforce(c->l, c, now);
}

bool rpc_tcp_guard_charge(struct tcp_conn *c)
{
	if (rpc_rec_held(&c->rb) == c->held)
		return true;
	return charge_held(c, rpc_tcp_now_ms());
}

bool rpc_tcp_guard_after_feed(struct tcp_conn *c, uint64_t records_before)
{
	int64_t now = rpc_tcp_now_ms();

	c->last_rx_ms = now;
	/* the deadline runs from the first byte of the record being received:
	 * a record that began in these bytes (after others ended) starts now */
	if (!rpc_rec_partial(&c->rb))
		c->rec_started_ms = 0;
	else if (c->rec_started_ms == 0 || c->rb.records != records_before)
		c->rec_started_ms = now;
	return charge_held(c, now);
}

/* Closes connections past their deadlines. */
static void sweep(struct rpc_tcp_listener *l, int64_t now)
{
	struct tcp_guard *g = &l->g;
	struct tcp_conn *c, *next;
	uint64_t timed_out = 0, idle = 0;
	unsigned inflight;
	bool paused;

	for (c = l->conns; c; c = next) {
		next = c->next;   /* closing c leaves the others linked */
		rpc_tcp_conn_flow(c, &paused, &inflight);
		if (paused) {
			/* we stopped reading it (too many requests in flight): its
			 * record waits for us, not for the peer */
			if (c->rec_started_ms)
				c->rec_started_ms = now;
			c->last_rx_ms = now;
			continue;
		}
		if (inflight > 0)
			c->last_rx_ms = now;   /* a peer waiting for replies is not idle */
		if (c->rec_started_ms && now - c->rec_started_ms >= g->record_timeout_ms) {
			rpc_tcp_conn_close(c, "Record_Timeout");
			timed_out++;
		} else if (!rpc_xprt_session_bound(&c->xprt) &&
			   now - c->last_rx_ms >= g->idle_unbound_ms) {
			rpc_tcp_conn_close(c, "Idle_Unbound_Timeout");
			idle++;
		}
	}
	count_events(g, TCP_EV_RECORD_TIMEOUT, timed_out, now);
	count_events(g, TCP_EV_IDLE, idle, now);
}

static void on_tick(void *ctx, int fd, uint32_t events)
{
	struct rpc_tcp_listener *l = ctx;
	struct tcp_guard *g = &l->g;
	uint64_t expirations;
	int64_t now;
	int e;

	if (read(fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
		return;   /* EAGAIN: woken for an expiry already read */
	now = rpc_tcp_now_ms();
	if (g->accept_paused && now >= g->accept_resume_ms)
		accept_resume(l);
	sweep(l, now);
	for (e = 0; e < TCP_EV_COUNT; e++)
		count_events(g, (enum tcp_event)e, 0, now);   /* what a burst left unreported */
	if (g->released_bytes >= TCP_TRIM_AFTER_BYTES) {
		/* free() keeps memory in the heap for reuse; after a burst of
		 * stalled records is dropped, give it back (glibc) */
		malloc_trim(0);
		g->released_bytes = 0;
	}
}

/* ---- start and stop ---- */

int rpc_tcp_guard_start(struct rpc_tcp_listener *l)
{
	struct tcp_guard *g = &l->g;
	struct itimerspec its = {
		.it_interval = { 0, TCP_GUARD_TICK_MS * 1000000L },
		.it_value = { 0, TCP_GUARD_TICK_MS * 1000000L },
	};
	struct conf_conn_limits cl;
	struct rlimit rl;
	int e, rc;

	conf_conn_limits_current(&cl);
	g->max_connections = cl.max_connections;
	g->record_timeout_ms = (int64_t)cl.record_timeout * 1000;
	g->idle_unbound_ms = (int64_t)cl.idle_unbound_timeout * 1000;
	g->max_partial_bytes = cl.max_partial_record_bytes;
	g->accept_paused = false;
	g->partial_bytes = 0;
	g->released_bytes = 0;
	for (e = 0; e < TCP_EV_COUNT; e++)
		rpc_ratelog_init(&g->logs[e], TCP_LOG_INTERVAL_MS);
	g->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (g->timer_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (timerfd_settime(g->timer_fd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = rpc_svc_add_fd(l->svc, g->timer_fd, EPOLLIN, on_tick, l);
	if (rc < 0)
		goto fail;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)g->max_connections + TCP_FD_RESERVE > rl.rlim_cur)
		log_warn("tcp", "Max_Connections %u plus %d descriptors for the rest is more than "
			 "RLIMIT_NOFILE %llu allows: when descriptors run out, accepting pauses "
			 "(raise the limit: ulimit -n, LimitNOFILE=)", g->max_connections,
			 TCP_FD_RESERVE, (unsigned long long)rl.rlim_cur);
	log_info("tcp", "limits: Max_Connections %u, Record_Timeout %u s, Idle_Unbound_Timeout "
		 "%u s, Max_Partial_Record_Bytes %llu", cl.max_connections, cl.record_timeout,
		 cl.idle_unbound_timeout, (unsigned long long)cl.max_partial_record_bytes);
	return 0;
fail:
	log_err("tcp", "cannot start the connection timer: %s", strerror(-rc));
	if (g->timer_fd >= 0)
		close(g->timer_fd);
	g->timer_fd = -1;
	return rc;
}

void rpc_tcp_guard_stop(struct rpc_tcp_listener *l)
{
	struct tcp_guard *g = &l->g;
	uint64_t due;
	int e;

	if (g->timer_fd < 0)
		return;
	for (e = 0; e < TCP_EV_COUNT; e++) {
		due = rpc_ratelog_flush(&g->logs[e]);   /* counted, not yet reported */
		if (due)
			report(g, (enum tcp_event)e, due);
	}
	rpc_svc_del_fd(l->svc, g->timer_fd);   /* -ENOENT if the loop is gone: fine */
	close(g->timer_fd);
	g->timer_fd = -1;
}
