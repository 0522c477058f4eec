/*
 * server/metrics.c: per-thread counter blocks and their rendering in the
 * Prometheus text exposition format (see metrics.h).
 */
#include "server/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Status numbers: 0..70 (NFS4_OK to NFS4ERR_STALE) and 10001..10127 (the
 * NFS4ERR_* of RFC 8881, 7862, 8276 and beyond) each have their own
 * counter; anything else shares the last one. */
#define LOW_STATUSES 71
#define HIGH_FIRST 10001
#define HIGH_STATUSES 127
#define NSTATUS (LOW_STATUSES + HIGH_STATUSES + 1)
#define OTHER_STATUS (NSTATUS - 1)

/* Upper bounds of the latency buckets, in ns: 5 us to 10 s; +Inf after. */
static const uint64_t bucket_ns[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000ull,
	5000000000ull, 10000000000ull,
};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]) + 1)
/* The same bounds as Prometheus writes them in le="". */
static const char *const bucket_le[] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
};

_Static_assert(sizeof(bucket_le) / sizeof(bucket_le[0]) == NBUCKETS, "buckets and le labels");

/* The wide set of struct metrics_histogram: the same, then on to an hour. */
static const uint64_t wide_bucket_ns[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000ull,
	5000000000ull, 10000000000ull, 15000000000ull, 20000000000ull, 30000000000ull,
	45000000000ull, 60000000000ull, 120000000000ull, 300000000000ull,
	600000000000ull, 1800000000000ull, 3600000000000ull,
};
static const char *const wide_bucket_le[] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "10", "15", "20", "30",
	"45", "60", "120", "300", "600", "1800", "3600", "+Inf",
};
_Static_assert(sizeof(wide_bucket_ns) / sizeof(wide_bucket_ns[0]) + 1 == METRICS_HIST_BUCKETS,
	       "the wide buckets and their le labels");
_Static_assert(sizeof(wide_bucket_le) / sizeof(wide_bucket_le[0]) == METRICS_HIST_BUCKETS,
	       "the wide buckets and their le labels");

/* Written by its thread only (relaxed load and store: no locked
 * instruction), read by the scraper (relaxed loads). */
typedef _Atomic uint64_t counter;

struct metrics_thread {
	struct metrics_thread *next;
	counter ops[METRICS_MAX_OPS][NSTATUS];
	counter latency[METRICS_MAX_OPS][NBUCKETS];
	counter latency_sum_ns[METRICS_MAX_OPS];
	counter bytes[METRICS_NTRANSPORTS][2];   /* [tr][0]: read, [1]: written */
};

#define MAX_COLLECTORS 16

struct metrics {
	pthread_key_t key;
	pthread_mutex_t lock;                  /* the block list: registration and scrapes */
	struct metrics_thread *threads;
	const char *(*op_name)(unsigned op);
	const char *(*status_name)(uint32_t st, char *buf, size_t cap);
	struct {
		metrics_collect_fn fn;
		void *ctx;
	} collectors[MAX_COLLECTORS];
	unsigned ncollectors;
};

static const char *const transport_name[METRICS_NTRANSPORTS] = { "tcp", "rdma" };

static void bump(counter *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static uint64_t read_counter(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static unsigned status_index(uint32_t st)
{
	if (st < LOW_STATUSES)
		return st;
	if (st >= HIGH_FIRST && st < HIGH_FIRST + HIGH_STATUSES)
		return LOW_STATUSES + (st - HIGH_FIRST);
	return OTHER_STATUS;
}

static uint32_t status_of_index(unsigned i)
{
	return i < LOW_STATUSES ? i : HIGH_FIRST + (i - LOW_STATUSES);
}

int metrics_create(const char *(*op_name)(unsigned op),
		   const char *(*status_name)(uint32_t st, char *buf, size_t cap),
		   struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	rc = pthread_key_create(&m->key, NULL);
	if (rc != 0) {
		free(m);
		return -rc;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->op_name = op_name;
	m->status_name = status_name;
	*out = m;
	return 0;
}

void metrics_destroy(struct metrics *m)
{
	struct metrics_thread *t, *next;

	if (!m)
		return;
	for (t = m->threads; t; t = next) {
		next = t->next;
		free(t);
	}
	pthread_key_delete(m->key);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *ctx)
{
	if (m->ncollectors == MAX_COLLECTORS)
		return -ENOSPC;
	m->collectors[m->ncollectors].fn = fn;
	m->collectors[m->ncollectors].ctx = ctx;
	m->ncollectors++;
	return 0;
}

struct metrics_thread *metrics_thread_block(struct metrics *m)
{
	struct metrics_thread *t = pthread_getspecific(m->key);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (pthread_setspecific(m->key, t) != 0) {
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	t->next = m->threads;
	m->threads = t;
	pthread_mutex_unlock(&m->lock);
	return t;
}

uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned b = 0;

	while (b < NBUCKETS - 1 && ns > bucket_ns[b])
		b++;
	return b;
}

void metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns)
{
	unsigned b = 0;

	while (b < METRICS_HIST_BUCKETS - 1 && ns > wide_bucket_ns[b])
		b++;
	h->bucket[b]++;
	h->sum_ns += ns;
}

void metrics_render_histogram(struct metrics_buf *b, const char *name, const char *labels,
			      const struct metrics_histogram *h)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;
	unsigned i;

	for (i = 0; i < METRICS_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		metrics_printf(b, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, labels, sep,
			       wide_bucket_le[i], cum);
	}
	metrics_printf(b, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %" PRIu64 "\n",
		       name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		       (double)h->sum_ns / 1e9,
		       name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "", cum);
}

void metrics_count_op(struct metrics_thread *t, uint32_t op, uint32_t st, uint64_t ns)
{
	unsigned b = bucket_of(ns);

	if (op >= METRICS_MAX_OPS)
		op = 0;
	bump(&t->ops[op][status_index(st)], 1);
	bump(&t->latency[op][b], 1);
	bump(&t->latency_sum_ns[op], ns);
}

void metrics_count_bytes(struct metrics_thread *t, enum metrics_transport tr, int write,
			 uint64_t n)
{
	if ((unsigned)tr >= METRICS_NTRANSPORTS)
		return;
	bump(&t->bytes[tr][write ? 1 : 0], n);
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 16384;
			char *p;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->failed = 1;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

/* The sums over every block, taken under the list's lock (held by scrapes
 * and by a thread's first request only). */
struct sums {
	uint64_t ops[METRICS_MAX_OPS][NSTATUS];
	uint64_t latency[METRICS_MAX_OPS][NBUCKETS];
	uint64_t latency_sum_ns[METRICS_MAX_OPS];
	uint64_t bytes[METRICS_NTRANSPORTS][2];
};

static void sum_threads(struct metrics *m, struct sums *s)
{
	struct metrics_thread *t;
	unsigned i, j;

	pthread_mutex_lock(&m->lock);
	for (t = m->threads; t; t = t->next) {
		for (i = 0; i < METRICS_MAX_OPS; i++) {
			for (j = 0; j < NSTATUS; j++)
				s->ops[i][j] += read_counter(&t->ops[i][j]);
			for (j = 0; j < NBUCKETS; j++)
				s->latency[i][j] += read_counter(&t->latency[i][j]);
			s->latency_sum_ns[i] += read_counter(&t->latency_sum_ns[i]);
		}
		for (i = 0; i < METRICS_NTRANSPORTS; i++)
			for (j = 0; j < 2; j++)
				s->bytes[i][j] += read_counter(&t->bytes[i][j]);
	}
	pthread_mutex_unlock(&m->lock);
}

static const char *op_label(struct metrics *m, unsigned op)
{
	return op == 0 ? "ILLEGAL" : m->op_name(op);
}

static void render_ops(struct metrics *m, const struct sums *s, struct metrics_buf *b)
{
	char buf[32];
	unsigned i, j;

	metrics_printf(b, "# HELP daxnfs_nfs_operations_total COMPOUND operations answered, "
			  "by operation and status.\n"
			  "# TYPE daxnfs_nfs_operations_total counter\n");
	for (i = 0; i < METRICS_MAX_OPS; i++) {
		const char *op = op_label(m, i);

		if (!op)
			continue;
		for (j = 0; j < NSTATUS; j++) {
			const char *status;

			if (!s->ops[i][j])
				continue;
			status = j == OTHER_STATUS ? "other"
				 : m->status_name(status_of_index(j), buf, sizeof(buf));
			metrics_printf(b, "daxnfs_nfs_operations_total{op=\"%s\",status=\"%s\"} %" PRIu64 "\n",
				       op, status, s->ops[i][j]);
		}
	}
	metrics_printf(b, "# HELP daxnfs_nfs_operation_duration_seconds Time from an "
			  "operation's decoding to its result, by operation.\n"
			  "# TYPE daxnfs_nfs_operation_duration_seconds histogram\n");
	for (i = 0; i < METRICS_MAX_OPS; i++) {
		const char *op = op_label(m, i);
		uint64_t cum = 0;

		if (!op)
			continue;
		for (j = 0; j < NBUCKETS; j++)
			cum += s->latency[i][j];
		if (!cum)
			continue;
		cum = 0;
		for (j = 0; j < NBUCKETS; j++) {
			cum += s->latency[i][j];
			metrics_printf(b, "daxnfs_nfs_operation_duration_seconds_bucket{op=\"%s\",le=\"%s\"} %" PRIu64 "\n",
				       op, bucket_le[j], cum);
		}
		metrics_printf(b, "daxnfs_nfs_operation_duration_seconds_sum{op=\"%s\"} %.9f\n"
				  "daxnfs_nfs_operation_duration_seconds_count{op=\"%s\"} %" PRIu64 "\n",
			       op, (double)s->latency_sum_ns[i] / 1e9, op, cum);
	}
}

static void render_bytes(const struct sums *s, struct metrics_buf *b)
{
	static const char *const fam[2] = { "daxnfs_nfs_read_bytes_total",
					    "daxnfs_nfs_written_bytes_total" };
	static const char *const help[2] = {
		"Payload bytes READ and READ_PLUS sent, by transport.",
		"Payload bytes WRITE received, by transport.",
	};
	unsigned w, tr;

	for (w = 0; w < 2; w++) {
		metrics_printf(b, "# HELP %s %s\n# TYPE %s counter\n", fam[w], help[w], fam[w]);
		for (tr = 0; tr < METRICS_NTRANSPORTS; tr++)
			metrics_printf(b, "%s{transport=\"%s\"} %" PRIu64 "\n", fam[w],
				       transport_name[tr], s->bytes[tr][w]);
	}
}

int metrics_render(struct metrics *m, struct metrics_buf *b)
{
	struct sums *s = calloc(1, sizeof(*s));
	unsigned i;

	if (!s) {
		b->failed = 1;
		return -ENOMEM;
	}
	sum_threads(m, s);
	render_ops(m, s, b);
	render_bytes(s, b);
	free(s);
	for (i = 0; i < m->ncollectors; i++)
		m->collectors[i].fn(b, m->collectors[i].ctx);
	return b->failed ? -ENOMEM : 0;
}
