/*
 * rpc/netaddr.c: socket addresses from and to text (see netaddr.h).
 */
#include "rpc/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int rpc_addr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

void rpc_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(((const struct sockaddr_in *)sa)->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a,
			 ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

int rpc_addr_uaddr(const struct sockaddr *sa, uint16_t port, char *buf, size_t len, bool *v6)
{
	char a[INET6_ADDRSTRLEN];
	struct in_addr mapped;
	int n;

	if (!sa)
		return -EAFNOSUPPORT;
	if (sa->sa_family == AF_INET) {
		if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a)))
			return -EINVAL;
		*v6 = false;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; they
		 * reach us on IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			memcpy(&mapped, &in6->s6_addr[12], sizeof(mapped));
			if (!inet_ntop(AF_INET, &mapped, a, sizeof(a)))
				return -EINVAL;
			*v6 = false;
		} else {
			if (!inet_ntop(AF_INET6, in6, a, sizeof(a)))
				return -EINVAL;
			*v6 = true;
		}
	} else {
		return -EAFNOSUPPORT;
	}
	n = snprintf(buf, len, "%s.%u.%u", a, port >> 8, port & 0xffu);
	return n > 0 && (size_t)n < len ? 0 : -ENOSPC;
}
