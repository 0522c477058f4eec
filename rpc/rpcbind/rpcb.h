/*
 * rpc/rpcbind/rpcb.h: registration of an RPC program with the local rpcbind
 * (RFC 1833), through libtirpc's rpcb_set/rpcb_unset, as knfsd's rpc.nfsd
 * and NFS-Ganesha do, so that `rpcinfo -p` shows what this server serves.
 *
 * Job: register one program and version for the address a listener is
 * bound to, per netid ("tcp" for IPv4; "tcp6" for IPv6, and "tcp" too for
 * the IPv6 wildcard, which takes IPv4 as well), and take it back at exit.
 * The local rpcbind is found by connecting to its socket (libtirpc's
 * _PATH_RPCBINDSOCK, /var/run/rpcbind.sock, which is /run/rpcbind.sock); when nothing accepts there,
 * nothing is tried (libtirpc would fall back to the network and may wait).
 * Built apart from the rest of rpc/ (its own target): libtirpc's headers
 * are <rpc/...> too and must not meet this tree's.
 * Calls: libtirpc. Called by: server/main.c.
 */
#ifndef DAXNFS_RPC_RPCBIND_RPCB_H
#define DAXNFS_RPC_RPCBIND_RPCB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct rpc_rpcb_reg {
	uint32_t prog, vers;
	bool tcp, tcp6;                 /* registered for these netids */
};

/*
 * Registers prog/vers at the listener address sa (any stale registration of
 * prog/vers is taken back first). 0 when registered for at least one
 * netid (reg says which); -ENOENT when no rpcbind runs here; -EAFNOSUPPORT
 * for an address that is not IPv4 or IPv6; -EIO when rpcbind refused.
 */
int rpc_rpcb_register(uint32_t prog, uint32_t vers, const struct sockaddr *sa, socklen_t len,
		      struct rpc_rpcb_reg *reg);
/* Takes back what rpc_rpcb_register registered (nothing when it did not). */
void rpc_rpcb_unregister(struct rpc_rpcb_reg *reg);

#endif
