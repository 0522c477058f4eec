/*
 * rpc/xprt_tcp_internal.h: the connection and listener objects that
 * rpc/xprt_tcp.c (accepting, reading, sending, closing) and
 * rpc/xprt_tcp_guard.c (the limits on connections, see docs/security.md)
 * share, and the calls between those two files. Nothing else includes it.
 */
#ifndef DAXNFS_RPC_XPRT_TCP_INTERNAL_H
#define DAXNFS_RPC_XPRT_TCP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/ratelog.h"
#include "rpc/record.h"
#include "rpc/rpc.h"
#include "rpc/svc.h"

struct rpc_tcp_listener;

struct tcp_conn {
	struct rpc_xprt xprt;            /* first: the rpc layer sees only this */
	int fd;
	struct rpc_svc *svc;
	struct rpc_tcp_listener *l;
	pthread_mutex_t send_lock;
	pthread_mutex_t flow_lock;       /* inflight, paused and their epoll changes */
	unsigned inflight;
	bool paused;
	struct rpc_recbuf rb;            /* loop thread only */
	bool closed;                     /* loop thread only */
	char peer_str[64];
	struct tcp_conn *prev, *next;    /* listener's list, under l->lock */
	/* the guard's bookkeeping, loop thread only */
	int64_t rec_started_ms;          /* first byte of the unfinished record; 0: none */
	int64_t last_rx_ms;              /* bytes last received (or accepted) */
	size_t held;                     /* bytes of that record counted in partial_bytes */
};

/* Events a peer can cause at will: counted, logged once per interval. */
enum tcp_event {
	TCP_EV_ACCEPT_FAILED,            /* out of descriptors or memory: accepting paused */
	TCP_EV_REFUSED,                  /* past Max_Connections */
	TCP_EV_RECORD_TIMEOUT,           /* a record incomplete for Record_Timeout */
	TCP_EV_IDLE,                     /* no session, silent for Idle_Unbound_Timeout */
	TCP_EV_BUDGET,                   /* dropped for Max_Partial_Record_Bytes */
	TCP_EV_OVERSIZE,                 /* announced a record past Max_Record_Size */
	TCP_EV_NOMEM,                    /* no memory for a record */
	TCP_EV_COUNT
};

/* The limits and their state; loop thread only. */
struct tcp_guard {
	unsigned max_connections;
	int64_t record_timeout_ms;
	int64_t idle_unbound_ms;
	uint64_t max_partial_bytes;
	int timer_fd;                    /* periodic: deadlines, re-arming accept, reports */
	bool accept_paused;              /* the listening fd is not watched */
	int64_t accept_resume_ms;
	int accept_errno;                /* the last error that paused it */
	uint64_t partial_bytes;          /* held by all unfinished records */
	/* Copies for readers on other threads (rpc_tcp_listener_stats), kept
	 * with relaxed atomic stores by the loop thread. */
	_Atomic uint64_t partial_bytes_seen;
	_Atomic uint64_t events_total[TCP_EV_COUNT];
	uint64_t released_bytes;         /* of those freed since the last heap trim */
	struct rpc_ratelog logs[TCP_EV_COUNT];
};

struct rpc_tcp_listener {
	struct rpc_svc *svc;
	int fd;                          /* -1 once closed */
	uint16_t port;
	uint32_t max_record;
	pthread_mutex_t lock;
	struct tcp_conn *conns;
	unsigned nconns;
	struct tcp_guard g;
};

/* ---- rpc/xprt_tcp.c, for the guard ---- */
/* Closes c on the loop thread (its close hooks run; c may be freed). */
void rpc_tcp_conn_close(struct tcp_conn *c, const char *why);
/* Reading paused for c (too many requests in flight), and how many are. */
void rpc_tcp_conn_flow(struct tcp_conn *c, bool *paused, unsigned *inflight);

/* ---- rpc/xprt_tcp_guard.c, for the transport (loop thread) ---- */
int64_t rpc_tcp_now_ms(void);
/* Reads the limits (conf_conn_limits_current) and starts the timer. 0 or -errno. */
int rpc_tcp_guard_start(struct rpc_tcp_listener *l);
void rpc_tcp_guard_stop(struct rpc_tcp_listener *l);
/* accept failed with err: true when the next accept may be tried now,
 * false when accepting is paused (resource shortage or a lasting error). */
bool rpc_tcp_guard_accept_failed(struct rpc_tcp_listener *l, int err);
/* A connection was accepted as fd: true to keep it, false when it was
 * refused (past Max_Connections) and fd is closed. */
bool rpc_tcp_guard_admit(struct rpc_tcp_listener *l, int fd);
void rpc_tcp_guard_conn_opened(struct tcp_conn *c);
/* After bytes read on c were fed to its record buffer (records_before: the
 * buffer's record count before): updates the deadlines and the bytes held,
 * enforcing Max_Partial_Record_Bytes. False when that closed c itself. */
bool rpc_tcp_guard_after_feed(struct tcp_conn *c, uint64_t records_before);
/* The record buffer of c grew before any bytes came (room made for a
 * direct receive): counts it against Max_Partial_Record_Bytes now, before
 * the read. False when that closed c itself. */
bool rpc_tcp_guard_charge(struct tcp_conn *c);
/* c is closing: what its record held is released; accepting resumes. */
void rpc_tcp_guard_conn_closing(struct tcp_conn *c);
/* Counts an event (and logs it when due). */
void rpc_tcp_guard_event(struct rpc_tcp_listener *l, enum tcp_event e);

#endif
