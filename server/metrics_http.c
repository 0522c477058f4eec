/*
 * server/metrics_http.c: GET /metrics over libmicrohttpd (see metrics_http.h).
 */
#include "server/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/netaddr.h"
#include "server/metrics.h"

struct metrics_http {
	struct metrics *m;
	struct MHD_Daemon *d;
	int fd;
	uint16_t port;
};

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code,
				  const char *type, char *body, size_t len,
				  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	static char not_found[] = "daxnfsd serves /metrics only\n";
	static char bad_method[] = "GET or HEAD only\n";
	static char no_memory[] = "out of memory\n";
	struct metrics_http *h = cls;
	struct metrics_buf b = { 0 };

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	/* Answered at the first call, which has the headers only: a body is
	 * never read (libmicrohttpd closes such a connection after the answer),
	 * so an endless one costs nothing. */
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
				  sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
				  sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
	if (metrics_render(h->m, &b) < 0) {
		free(b.p);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", no_memory,
				  sizeof(no_memory) - 1, MHD_RESPMEM_PERSISTENT);
	}
	return reply_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			  b.p, b.len, MHD_RESPMEM_MUST_FREE);
}

static int listen_on(const char *addr, uint16_t port, int *fd_out, uint16_t *port_out)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, rc;

	if (rpc_addr_parse(addr, port, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*fd_out = fd;
	*port_out = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
	return 0;
}

int metrics_http_start(struct metrics *m, const char *addr, uint16_t port,
		       struct metrics_http **out)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->m = m;
	rc = listen_on(addr, port, &h->fd, &h->port);
	if (rc < 0) {
		free(h);
		return rc;
	}
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
				(strchr(addr, ':') ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				on_request, h,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)8,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
				MHD_OPTION_END);
	if (!h->d) {
		/* Not closed here: libmicrohttpd 0.9.75 closes the socket it was
		 * given on most of its failure paths, and a second close could hit
		 * a descriptor another thread has just opened. At worst, on a
		 * failure before it took the socket, one descriptor leaks. */
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);   /* closes the listening socket it was given */
	free(h);
}
