/*
 * server/metrics_http.h: the HTTP endpoint that serves GET /metrics (the
 * Prometheus text exposition format, version 0.0.4) with libmicrohttpd.
 *
 * Job: bind the configured address and port (the socket is ours, so a bind
 * error names its errno), run libmicrohttpd's own polling thread on it, and
 * answer every scrape with metrics_render's text. The NFS threads never
 * wait for it: a scrape reads their counters, it takes none of their locks
 * (the collectors take the state locks a moment, as any request does).
 * Hostile peers: at most 8 connections, 4 from one address, 10 s idle
 * timeout, 16 KiB of request memory each (libmicrohttpd's limits); every
 * request is answered from its headers (a body is never read); anything but
 * GET or HEAD of /metrics is 404 or 405.
 * Calls: libmicrohttpd, server/metrics. Called by: server/main.c.
 */
#ifndef DAXNFS_SERVER_METRICS_HTTP_H
#define DAXNFS_SERVER_METRICS_HTTP_H

#include <stdint.h>

struct metrics;
struct metrics_http;

/* Serves m on addr:port (port 0: any free port). 0 or -errno. */
int metrics_http_start(struct metrics *m, const char *addr, uint16_t port,
		       struct metrics_http **out);
/* The port it listens on. */
uint16_t metrics_http_port(const struct metrics_http *h);
/* Stops the thread and closes the socket; NULL is fine. */
void metrics_http_stop(struct metrics_http *h);

#endif
