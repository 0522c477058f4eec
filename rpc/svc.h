/*
 * rpc/svc.h: the event loop and the worker pool that transports run on.
 *
 * Job: one epoll loop (run by the caller's thread, normally main) that
 * watches descriptors and calls their handlers, a once-a-second tick, a
 * thread-safe stop; and a pool of worker threads, each owning one reply
 * buffer, that run submitted jobs (one RPC record each) in parallel so a slow
 * request never blocks the loop or other requests.
 * Calls: libc, pthreads, conf/log. Called by: rpc/xprt_tcp.c (connections),
 * server/main.c (signalfd, lease manager fd, tick), tests.
 */
#ifndef DAXNFS_RPC_SVC_H
#define DAXNFS_RPC_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rpc_svc;

/* Handler for a watched descriptor; events are EPOLL* bits. Runs on the loop thread. */
typedef void (*rpc_svc_fd_fn)(void *ctx, int fd, uint32_t events);
/* A job for a worker: reply_buf/reply_cap is the worker's own buffer. */
typedef void (*rpc_svc_job_fn)(void *arg, uint8_t *reply_buf, size_t reply_cap);
typedef void (*rpc_svc_tick_fn)(void *ctx);

/* threads workers, each with a reply buffer of reply_cap bytes. */
int rpc_svc_create(unsigned threads, size_t reply_cap, struct rpc_svc **out);
/* Stops the workers (after running every queued job) and frees the loop.
 * Descriptors still watched are not closed. */
void rpc_svc_destroy(struct rpc_svc *s);

/* Watches fd for events (EPOLLIN, ...), level-triggered. Any thread. */
int rpc_svc_add_fd(struct rpc_svc *s, int fd, uint32_t events, rpc_svc_fd_fn fn, void *ctx);
/* Changes the events watched for fd (0: none for now). Any thread; -ENOENT if
 * fd is not watched any more. */
int rpc_svc_mod_fd(struct rpc_svc *s, int fd, uint32_t events);
/* Stops watching fd; once it returns on the loop thread, fn will not run for fd again. */
int rpc_svc_del_fd(struct rpc_svc *s, int fd);
/* Calls fn(ctx) on the loop thread about once a second (NULL: no tick). */
void rpc_svc_set_tick(struct rpc_svc *s, rpc_svc_tick_fn fn, void *ctx);

/* Runs the loop on the calling thread until rpc_svc_stop. Returns 0 or -errno. */
int rpc_svc_run(struct rpc_svc *s);
/* Makes rpc_svc_run return; safe from any thread (not from a signal handler). */
void rpc_svc_stop(struct rpc_svc *s);

/* Queues a job for the workers; 0 or -ENOMEM / -ESHUTDOWN. */
int rpc_svc_submit(struct rpc_svc *s, rpc_svc_job_fn fn, void *arg);

/* The process's event loop (the last one created and not yet destroyed), so
 * that upper layers can add descriptors or queue work without being handed
 * it; NULL when there is none. */
struct rpc_svc *rpc_svc_current(void);
/* True on the thread running rpc_svc_run. Anything that waits for a reply
 * from the network (rpc_call_sync) must not run there: that thread is the one
 * that reads the reply. From a tick, queue such work with rpc_svc_submit. */
bool rpc_svc_in_loop(void);

#endif
