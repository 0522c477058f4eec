/*
 * rpc/netaddr.h: socket addresses as the configuration and the logs write
 * them, and as RPC's universal addresses (RFC 5665 §5.2.3).
 *
 * Job: turn an IPv4 or IPv6 literal and a port into a socket address (what
 * every listener binds to), an address back into "a.b.c.d:port" or
 * "[v6]:port" for the logs, and into the universal address a client is
 * told to connect to (pNFS device addresses).
 * Calls: libc. Called by: rpc/xprt_tcp.c, rdma/, server/metrics_http.c,
 * server/nfs4_layout.c.
 */
#ifndef DAXNFS_RPC_NETADDR_H
#define DAXNFS_RPC_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 0 with *ss and *len filled, or -EINVAL when addr is not a literal. */
int rpc_addr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
/* "a.b.c.d:port", "[v6]:port", or "?" for another family or NULL. */
void rpc_addr_format(const struct sockaddr *sa, char *buf, size_t len);
/* The universal address of sa's host with port ("a.b.c.d.p1.p2",
 * "v6.p1.p2"); an IPv4-mapped IPv6 address gives the IPv4 form. *v6 says
 * which (for the netid: "tcp" or "tcp6"). 0, -EAFNOSUPPORT, -ENOSPC. */
int rpc_addr_uaddr(const struct sockaddr *sa, uint16_t port, char *buf, size_t len, bool *v6);

#endif
