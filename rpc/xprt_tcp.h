/*
 * rpc/xprt_tcp.h: ONC RPC over TCP.
 *
 * Job: listen on an address and port (IPv4 or IPv6 literal), accept
 * connections, read them without blocking from the event loop, reassemble
 * records (rpc/record.h, with the configured size limit: a record that would
 * pass it closes the connection), hand REPLYs (backchannel) to
 * rpc_route_reply on the loop thread and CALLs to the worker pool, and
 * send whole replies (their payload in place, rpc_reply_msg_iov) with
 * record marking under a per-connection lock. Connections are rpc_xprt
 * objects: reference counted, freed after the last request on them finished.
 * The limits on connections of docs/security.md (Max_Connections,
 * Record_Timeout, Idle_Unbound_Timeout, Max_Partial_Record_Bytes, backing
 * off when descriptors run out) are read from the configuration loaded last
 * (conf_conn_limits_current) when listening starts; rpc/xprt_tcp_guard.c
 * enforces them.
 * Calls: rpc/rpc, rpc/svc, rpc/record, rpc/xprt_tcp_guard, conf, conf/log.
 * Called by: server/main.c.
 */
#ifndef DAXNFS_RPC_XPRT_TCP_H
#define DAXNFS_RPC_XPRT_TCP_H

#include <stdint.h>
#include <sys/socket.h>

#include "rpc/svc.h"

struct rpc_tcp_listener;

/* Starts listening on addr:port (port 0 = any free port) and accepting on s. */
int rpc_tcp_listen(struct rpc_svc *s, const char *addr, uint16_t port, uint32_t max_record,
		   struct rpc_tcp_listener **out);
/* The port actually bound. */
uint16_t rpc_tcp_listener_port(const struct rpc_tcp_listener *l);
/* The address it is bound to (getsockname); 0 or -errno. */
int rpc_tcp_listener_addr(const struct rpc_tcp_listener *l, struct sockaddr_storage *ss,
			  socklen_t *len);
/* Number of connections currently open (for logs and tests). */
unsigned rpc_tcp_listener_nconns(struct rpc_tcp_listener *l);
/* What the guard saw since the start, for the metrics; any thread. */
struct rpc_tcp_stats {
	unsigned connections;
	uint64_t partial_record_bytes;     /* held by unfinished records now */
	uint64_t refused;                  /* past Max_Connections */
	uint64_t accept_failed;            /* out of descriptors or memory */
	uint64_t record_timeouts;          /* closed: a record unfinished for Record_Timeout */
	uint64_t idle_unbound;             /* closed: no session, idle for Idle_Unbound_Timeout */
	uint64_t partial_budget;           /* closed for Max_Partial_Record_Bytes */
	uint64_t oversize;                 /* closed: a record past Max_Record_Size */
	uint64_t no_memory;                /* closed: no memory for a record */
};
void rpc_tcp_listener_stats(struct rpc_tcp_listener *l, struct rpc_tcp_stats *out);
/* Stops accepting, closes every connection (their on_close hooks run) and
 * frees the listener. Connections still referenced by requests are freed
 * when those finish. Call from the loop thread or after the loop stopped. */
void rpc_tcp_listener_close(struct rpc_tcp_listener *l);

#endif
