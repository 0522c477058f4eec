/*
 * rdma/rdma_xprt.h: ONC RPC over RDMA (RFC 8166 version 1, RFC 8267 for
 * NFS, RFC 8167 for the backchannel), on rdma-core's librdmacm and
 * libibverbs.
 *
 * Job: listen with the RDMA connection manager on an address and port
 * (20049 by default), accept connections (negotiating inline sizes with the
 * RFC 8797 private data), keep receives posted for the credits granted,
 * pull Read chunks (a WRITE's data, a long call) with RDMA Read into
 * registered memory before a call is served, and send each reply inline,
 * with its READ payload put into the client's Write chunk by RDMA Write, or
 * whole into the Reply chunk; carry NFSv4.1 callbacks inline on the same
 * connection. Everything above rpc/rpc.h stays transport-blind: a
 * connection is an rpc_xprt with netid "rdma".
 * Calls: rdma-core, rpc/rpc (the seam: rpc_serve_record, rpc_route_reply),
 * rpc/rpcrdma (the header codec), rpc/svc, conf/log.
 * Called by: server/main.c.
 */
#ifndef DAXNFS_RDMA_RDMA_XPRT_H
#define DAXNFS_RDMA_RDMA_XPRT_H

#include <stdint.h>

#include "rpc/svc.h"

#define RDMA_DEFAULT_PORT 20049

struct rdma_listener;

/* Starts listening on addr:port (an IPv4 or IPv6 literal) with the
 * connection manager, its events and every connection's completions
 * served by the loop of s. max_record bounds a call and a reply. 0, or
 * -errno (-ENODEV when this host has no RDMA connection manager). */
int rdma_listener_start(struct rpc_svc *s, const char *addr, uint16_t port, uint32_t max_record,
		struct rdma_listener **out);
/* Connections open now. Any thread. */
unsigned rdma_listener_nconns(struct rdma_listener *l);

/* What happened since the start, for the metrics and tests. Any thread. */
struct rdma_stats {
	unsigned connections;
	uint64_t accepted, refused;
	uint64_t calls, replies_inline, replies_write_chunk, replies_reply_chunk;
	uint64_t bytes_rdma_read, bytes_rdma_write;
	uint64_t errors_sent;       /* RDMA_ERROR answers (ERR_VERS, ERR_CHUNK) */
	uint64_t dropped;           /* messages nothing could be answered to */
	uint64_t credit_overruns;   /* calls past the credits granted */
	uint64_t registrations;     /* memory registrations alive now */
};
void rdma_listener_stats(struct rdma_listener *l, struct rdma_stats *out);

/* Stops listening, disconnects and frees every connection (their close
 * hooks run) and device resource. Loop thread, or after the loop stopped. */
void rdma_listener_close(struct rdma_listener *l);

#endif
