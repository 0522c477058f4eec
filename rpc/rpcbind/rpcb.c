/*
 * rpc/rpcbind/rpcb.c: see rpcb.h.
 */
#include "rpcb.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <rpc/rpc.h>          /* libtirpc's: this target's include path starts with it */
#include <rpc/rpcb_clnt.h>

#define SET_TRIES 5
#define SET_RETRY_US 200000

/* An rpcbind accepts on its local socket. A socket file alone says
 * nothing: rpcbind leaves it behind when it stops. */
static bool rpcbind_listens(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	strncpy(sun.sun_path, _PATH_RPCBINDSOCK, sizeof(sun.sun_path) - 1);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* rpcb_unset then rpcb_set of prog/vers on netid at addr; true when set. */
static bool set_one(uint32_t prog, uint32_t vers, const char *netid, struct sockaddr *addr,
		    socklen_t len)
{
	struct netconfig *nc = getnetconfigent(netid);
	struct netbuf nb = { .maxlen = len, .len = len, .buf = addr };
	bool ok = false;

	if (!nc)
		return false;
	/* A refused connection to the local socket was seen now and then
	 * right after rpcbind started (ECONNREFUSED from libtirpc's call, the
	 * socket having accepted a moment before): a few tries. */
	for (int i = 0; i < SET_TRIES; i++) {
		rpcb_unset(prog, vers, nc);
		ok = rpcb_set(prog, vers, nc, &nb);
		if (ok)
			break;
		usleep(SET_RETRY_US);
	}
	freenetconfigent(nc);
	return ok;
}

static void unset_one(uint32_t prog, uint32_t vers, const char *netid)
{
	struct netconfig *nc = getnetconfigent(netid);

	if (!nc)
		return;
	rpcb_unset(prog, vers, nc);
	freenetconfigent(nc);
}

int rpc_rpcb_register(uint32_t prog, uint32_t vers, const struct sockaddr *sa, socklen_t len,
		      struct rpc_rpcb_reg *reg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in v4;

	memset(reg, 0, sizeof(*reg));
	reg->prog = prog;
	reg->vers = vers;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (len > sizeof(ss))
		return -EINVAL;
	if (!rpcbind_listens())
		return -ENOENT;
	memcpy(&ss, sa, len);
	if (sa->sa_family == AF_INET) {
		reg->tcp = set_one(prog, vers, "tcp", (struct sockaddr *)&ss, len);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		reg->tcp6 = set_one(prog, vers, "tcp6", (struct sockaddr *)&ss, len);
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
			memset(&v4, 0, sizeof(v4));
			v4.sin_family = AF_INET;
			v4.sin_port = s6->sin6_port;
			v4.sin_addr.s_addr = htonl(INADDR_ANY);
			reg->tcp = set_one(prog, vers, "tcp", (struct sockaddr *)&v4, sizeof(v4));
		}
	}
	return reg->tcp || reg->tcp6 ? 0 : -EIO;
}

void rpc_rpcb_unregister(struct rpc_rpcb_reg *reg)
{
	if (reg->tcp)
		unset_one(reg->prog, reg->vers, "tcp");
	if (reg->tcp6)
		unset_one(reg->prog, reg->vers, "tcp6");
	reg->tcp = reg->tcp6 = false;
}
