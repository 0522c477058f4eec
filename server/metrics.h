/*
 * server/metrics.h: the counters daxnfsd exports in the Prometheus text
 * format (server/metrics_http.c serves them).
 *
 * Job: per-thread blocks of counters that the request path bumps without a
 * lock or an atomic read-modify-write (one writer per block: the thread
 * that owns it), summed only when a scrape renders them; plus collectors,
 * functions the upper layers hand over that write their gauges (clients,
 * sessions, stateids...) at scrape time. Counters: COMPOUND operations by
 * operation and status, their latency histograms (5 us to 10 s), payload
 * bytes read and written by transport.
 * Why per-thread blocks found through a pthread key of the registry: a
 * worker finds its own block with no lock shared with any other request,
 * and the registry, not a file-scope variable, owns the blocks. A block
 * outlives its thread (its counts stay in the sums, so counters never go
 * back); only threads that serve requests get one, a bounded pool.
 * Calls: libc, pthread. Called by: server/nfs4_compound.c (counting),
 * server/metrics_http.c (rendering), server/main.c (creation),
 * server/nfs4_deleg.c (the recall histogram), server/nfs4_metrics.c.
 */
#ifndef DAXNFS_SERVER_METRICS_H
#define DAXNFS_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Operation numbers 0..METRICS_MAX_OPS-1 (OP_REMOVEXATTR is 75); every
 * other number (OP_ILLEGAL, unknown ones) is counted as 0, "ILLEGAL". */
#define METRICS_MAX_OPS 76
/* Transports whose bytes are told apart. */
enum metrics_transport { METRICS_TCP = 0, METRICS_RDMA, METRICS_NTRANSPORTS };

struct metrics;
struct metrics_thread;

/* A latency histogram for state that a module already guards with its own
 * lock (the recall latency under the state lock): plain counters. Its
 * buckets are the operations' (5 us to 10 s) and go on to an hour, since a
 * recall may take up to Recall_Timeout (at most 3600 s), then +Inf. */
#define METRICS_HIST_BUCKETS 31
struct metrics_histogram {
	uint64_t bucket[METRICS_HIST_BUCKETS];   /* not cumulative */
	uint64_t sum_ns;
};
void metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns);

/* A growing text buffer a scrape renders into. */
struct metrics_buf {
	char *p;
	size_t len, cap;
	int failed;            /* an allocation failed: the text is incomplete */
};
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A collector writes its families (HELP, TYPE and samples) into b. It runs
 * on the scraping thread; it may take the locks its module takes. */
typedef void (*metrics_collect_fn)(struct metrics_buf *b, void *ctx);

/* op_name(op) names operation op (NULL: not an operation: no samples);
 * status_name(st, buf, cap) names a status. 0 or -ENOMEM / -errno. */
int metrics_create(const char *(*op_name)(unsigned op),
		   const char *(*status_name)(uint32_t st, char *buf, size_t cap),
		   struct metrics **out);
void metrics_destroy(struct metrics *m);
/* Adds a collector (at most 16) before the first scrape can run: only
 * metrics_render reads the list, the counting threads never do. */
int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *ctx);

/* The calling thread's block; NULL when it cannot have one (no memory). */
struct metrics_thread *metrics_thread_block(struct metrics *m);
/* Monotonic nanoseconds, for the durations below. */
uint64_t metrics_now_ns(void);
/* One operation ended with status st after ns nanoseconds. */
void metrics_count_op(struct metrics_thread *t, uint32_t op, uint32_t st, uint64_t ns);
/* Payload bytes a READ (or READ_PLUS) sent, a WRITE received. */
void metrics_count_bytes(struct metrics_thread *t, enum metrics_transport tr, int write,
			 uint64_t n);

/* Writes h as the samples of histogram family name (in seconds) with the
 * labels (e.g. "state=\"delegation\""; "" for none); HELP and TYPE are
 * the caller's. */
void metrics_render_histogram(struct metrics_buf *b, const char *name, const char *labels,
			      const struct metrics_histogram *h);

/* The whole exposition: the counters summed over threads, then every
 * collector. 0, or -ENOMEM (b holds what fit). The caller frees b->p. */
int metrics_render(struct metrics *m, struct metrics_buf *b);

#endif
