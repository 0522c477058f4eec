/*
 * rpc/netaddr.h: socket addresses as the configuration and the logs write
 * them.
 *
 * Job: turn an IPv4 or IPv6 literal and a port into a socket address (what
 * every listener binds to), and an address back into "a.b.c.d:port" or
 * "[v6]:port" for the logs.
 * Calls: libc. Called by: rpc/xprt_tcp.c, rdma/, server/metrics_http.c.
 */
#ifndef DAXNFS_RPC_NETADDR_H
#define DAXNFS_RPC_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 0 with *ss and *len filled, or -EINVAL when addr is not a literal. */
int rpc_addr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
/* "a.b.c.d:port", "[v6]:port", or "?" for another family or NULL. */
void rpc_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
