/*
 * tests/bench/nfs_bench_tcp.c: the floor nfs_bench compares servers with (see
 * nfs_bench_tcp.h): the same loopback, no NFS, no file system.
 *
 * A responder thread of this process accepts one TCP connection on 127.0.0.1
 * and answers each request of req_len bytes with resp_len bytes. The
 * ping-pong (a READ's shape: a small request, 4 KiB back) times each round
 * trip; the stream (a WRITE's: 1 MiB out, a few bytes back) times the bytes.
 * Both ends use TCP_NODELAY and blocking sockets, as a server and a client
 * that did nothing else would.
 * Calls: libc, pthreads. Called by: tests/bench/nfs_bench.c.
 */
#include "tests/bench/nfs_bench_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct responder {
	int listen_fd;
	size_t req_len, resp_len;
	int rc;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 when len bytes came, 0 at a clean end of stream before any, -errno. */
static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got == 0 ? 0 : -ECONNRESET;
		got += (size_t)n;
	}
	return 1;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t put = 0;
	ssize_t n;

	while (put < len) {
		n = write(fd, buf + put, len - put);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		put += (size_t)n;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *responder_main(void *arg)
{
	struct responder *r = arg;
	uint8_t *req = malloc(r->req_len), *resp = calloc(1, r->resp_len);
	int fd = accept(r->listen_fd, NULL, NULL), rc = 0;

	if (fd < 0 || !req || !resp) {
		r->rc = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	nodelay(fd);
	while ((rc = read_full(fd, req, r->req_len)) == 1)
		if ((rc = write_full(fd, resp, r->resp_len)) < 0)
			break;
	r->rc = rc < 0 ? rc : 0;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(resp);
	return NULL;
}

/* A connected client socket to a new responder thread. */
static int start(struct responder *r, pthread_t *tid, int *client)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int rc;

	*client = -1;
	r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0)
		return -errno;
	if (bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(r->listen_fd, (struct sockaddr *)&a, &alen) < 0 || listen(r->listen_fd, 1) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = pthread_create(tid, NULL, responder_main, r);
	if (rc) {
		rc = -rc;
		goto fail;
	}
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		if (*client >= 0)
			close(*client);
		*client = -1;
		/* the responder waits in accept: wake it with a connection that ends */
		shutdown(r->listen_fd, SHUT_RDWR);
		pthread_join(*tid, NULL);
		goto fail;
	}
	nodelay(*client);
	return 0;
fail:
	close(r->listen_fd);
	return rc;
}

static int finish(struct responder *r, pthread_t tid, int client, int rc)
{
	close(client);   /* the responder sees the end and returns */
	pthread_join(tid, NULL);
	close(r->listen_fd);
	return rc ? rc : r->rc;
}

int nb_tcp_pingpong(size_t req_len, size_t resp_len, unsigned secs,
		    int (*push)(void *ctx, uint64_t ns), void *ctx, uint64_t *ops, double *elapsed)
{
	struct responder r = { .req_len = req_len, .resp_len = resp_len };
	uint8_t *req = calloc(1, req_len), *resp = malloc(resp_len);
	uint64_t t0, t, ts, end;
	pthread_t tid;
	int client, rc;

	*ops = 0;
	if (!req || !resp) {
		free(req);
		free(resp);
		return -ENOMEM;
	}
	rc = start(&r, &tid, &client);
	if (rc)
		goto out;
	t0 = mono_ns();
	end = t0 + (uint64_t)secs * 1000000000u;
	for (t = t0; t < end && rc == 0;) {
		ts = mono_ns();
		rc = write_full(client, req, req_len);
		if (rc == 0)
			rc = read_full(client, resp, resp_len) == 1 ? 0 : -EPROTO;
		t = mono_ns();
		if (rc == 0)
			rc = push(ctx, t - ts);
		(*ops)++;
	}
	*elapsed = (double)(mono_ns() - t0) / 1e9;
	rc = finish(&r, tid, client, rc);
out:
	free(req);
	free(resp);
	return rc;
}

int nb_tcp_stream(size_t chunk, size_t total, double *elapsed)
{
	struct responder r = { .req_len = chunk, .resp_len = 4 };
	uint8_t *buf = calloc(1, chunk), ack[4];
	pthread_t tid;
	size_t sent;
	uint64_t t0;
	int client, rc;

	if (!buf)
		return -ENOMEM;
	rc = start(&r, &tid, &client);
	if (rc)
		goto out;
	t0 = mono_ns();
	/* one chunk in flight, acknowledged, as one 1 MiB WRITE at a time */
	for (sent = 0; sent < total && rc == 0; sent += chunk) {
		rc = write_full(client, buf, chunk);
		if (rc == 0)
			rc = read_full(client, ack, sizeof(ack)) == 1 ? 0 : -EPROTO;
	}
	*elapsed = (double)(mono_ns() - t0) / 1e9;
	rc = finish(&r, tid, client, rc);
out:
	free(buf);
	return rc;
}
