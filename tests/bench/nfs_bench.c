/*
 * tests/bench/nfs_bench.c: NFSv4.1 load generator and benchmark (not a test).
 *
 * Job: against any NFSv4.1 server at host:port (AUTH_SYS root), in a
 * directory nfs_bench.<pid> it creates under the export root and removes at
 * the end, measure and print one line per workload and run, then the median
 * run (by ops/s):
 *   seq_write     UNSTABLE writes of io-size over a new file, then one COMMIT
 *   seq_read      the same file read sequentially in io-size requests
 *   rand_read_qd1 4 KiB random reads, one session, one request in flight
 *   rand_read_xN  the same from N threads, one connection and session each
 *   getattr_qd1 / getattr_xN  PUTFH+GETATTR of the file (a client's usual attributes)
 *   sync_write_qd1 / sync_write_xN  4 KiB FILE_SYNC writes at random offsets
 *                 of the file (each one durable before its reply)
 * With -q D every timed workload keeps D requests in flight per session
 * (slots 0..D-1 of the session), named ..._qdD and ..._xN_qdD.
 * With -p PID the server's CPU time (/proc/PID/stat), its file read and write
 * system calls (/proc/PID/io syscr+syscw: read, pread, write, pwrite and
 * their vector forms; not the socket calls, which /proc does not count) and
 * context switches (every thread's /proc/PID/task/T/status) are printed per
 * request for every run.
 *   small_create  per file: OPEN(create)+GETFH, WRITE 4 KiB FILE_SYNC, CLOSE
 *   small_remove  REMOVE of those files
 *   tcp_pingpong  the floor: 128 bytes out, 4 KiB back over loopback TCP between
 *                 two threads of nfs_bench, one at a time (no NFS)
 *   tcp_stream    the floor: the sequential file's size in 1 MiB chunks, each
 *                 acknowledged before the next (no NFS)
 * Latency is per request (per file for small_create), measured around the
 * round trip. Read data is checked (each 4 KiB block starts with its offset).
 * Calls: tests/bench/nfs_bench_cl, libc, pthreads. Called by: scripts/bench.sh, a person.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/nfs_bench_cl.h"
#include "tests/bench/nfs_bench_crowd.h"
#include "tests/bench/nfs_bench_tcp.h"

#define NB_MAX_RUNS 9
#define NB_MAX_THREADS 64
#define NB_SMALL_IO 4096u
#define NB_MAX_QD 16            /* the test client's session asks for 16 slots */

struct nb_opts {
	const char *host;
	uint16_t port;
	unsigned file_mib, io_kib, threads, secs, nfiles, runs, qd;
	unsigned crowd, crowd_rate;  /* the crowd workload's clients and READs/s */
	const char *only;          /* comma-separated workload names, NULL = all */
	pid_t server_pid;          /* 0: no server figures */
};

/* The server's counters, from /proc (see nb_srv_sample). */
struct nb_srv {
	int64_t cpu_ms;
	uint64_t syscalls, ctxsw;
	bool ok;
};

struct nb_lat {
	uint64_t *ns;
	size_t n, cap;
};

struct nb_result {
	double secs;
	uint64_t ops, bytes;
	struct nb_lat lat;
	struct nb_srv srv;         /* the server's counters over the run (-p) */
};

struct nb_ctx {
	struct nb_opts o;
	struct nb_conn c;
	nfs_fh4 root, dir;
	char dirname[64];
	uint8_t *data;             /* io-size write buffer */
	bool have_seq;             /* the "seq" file exists */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int lat_push(struct nb_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint64_t *p = realloc(l->ns, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->ns = p;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
	return 0;
}

static int lat_append(struct nb_lat *dst, const struct nb_lat *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (lat_push(dst, src->ns[i]) != 0)
			return -ENOMEM;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0-100) in microseconds; the array gets sorted. */
static double lat_pct(struct nb_lat *l, double p)
{
	size_t i;

	if (!l->n)
		return 0;
	qsort(l->ns, l->n, sizeof(uint64_t), cmp_u64);
	i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	return (double)l->ns[i] / 1000.0;
}

static void result_free(struct nb_result *r)
{
	free(r->lat.ns);
	memset(r, 0, sizeof(*r));
}

static void print_result(const char *label, const char *name, struct nb_result *r)
{
	double ops = r->secs > 0 ? (double)r->ops / r->secs : 0;
	double mib = r->secs > 0 ? (double)r->bytes / r->secs / (1024.0 * 1024.0) : 0;
	double n = r->ops ? (double)r->ops : 1;

	printf("%-7s %-16s %10.0f ops/s %9.1f MiB/s  p50 %9.1f us  p99 %9.1f us  (%llu ops, %.2f s)",
	       label, name, ops, mib, lat_pct(&r->lat, 50), lat_pct(&r->lat, 99),
	       (unsigned long long)r->ops, r->secs);
	if (r->srv.ok)
		printf("  srv_cpu_us/op %.1f srv_io_syscalls/op %.2f srv_ctxsw/op %.2f",
		       (double)r->srv.cpu_ms * 1000.0 / n, (double)r->srv.syscalls / n,
		       (double)r->srv.ctxsw / n);
	printf("\n");
	fflush(stdout);
}

/* ---- the server's figures from /proc ---- */

static bool read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0;
}

/* utime + stime of the whole process (field 14 and 15 of /proc/PID/stat). */
static bool srv_cpu_ms(pid_t pid, int64_t *ms)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_file(path, buf, sizeof(buf)) || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2 ||
	    hz <= 0)
		return false;
	*ms = (int64_t)((ut + st) * 1000ull / (unsigned long long)hz);
	return true;
}

/* File read and write system calls (read, pread, write, pwrite, ...); the
 * kernel does not count recvmsg/sendmsg here. */
static bool srv_syscalls(pid_t pid, uint64_t *n)
{
	char path[64], buf[1024], *p;
	unsigned long long r, w;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (!read_file(path, buf, sizeof(buf)) || !(p = strstr(buf, "syscr:")) ||
	    sscanf(p, "syscr: %llu", &r) != 1 || !(p = strstr(buf, "syscw:")) ||
	    sscanf(p, "syscw: %llu", &w) != 1)
		return false;
	*n = r + w;
	return true;
}

/* Voluntary and involuntary context switches of every thread. */
static bool srv_ctxsw(pid_t pid, uint64_t *n)
{
	char path[96], buf[4096], *p;
	unsigned long long v;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	*n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/status", (int)pid, de->d_name);
		if (!read_file(path, buf, sizeof(buf)))
			continue;   /* the thread ended meanwhile */
		if ((p = strstr(buf, "voluntary_ctxt_switches:")) &&
		    sscanf(p, "voluntary_ctxt_switches: %llu", &v) == 1)
			*n += v;
		if ((p = strstr(buf, "nonvoluntary_ctxt_switches:")) &&
		    sscanf(p, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
			*n += v;
	}
	closedir(d);
	return true;
}

static struct nb_srv srv_sample(pid_t pid)
{
	struct nb_srv s = { 0 };

	if (pid > 0)
		s.ok = srv_cpu_ms(pid, &s.cpu_ms) && srv_syscalls(pid, &s.syscalls) &&
		       srv_ctxsw(pid, &s.ctxsw);
	return s;
}

static struct nb_srv srv_delta(struct nb_srv a, struct nb_srv b)
{
	struct nb_srv d = { 0 };

	if (a.ok && b.ok) {
		d.cpu_ms = b.cpu_ms - a.cpu_ms;
		d.syscalls = b.syscalls - a.syscalls;
		d.ctxsw = b.ctxsw - a.ctxsw;
		d.ok = true;
	}
	return d;
}

/* Each 4 KiB block of the test file starts with its own offset. */
static void fill_pattern(uint8_t *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 4096) {
		uint64_t v = off + i;

		memcpy(buf + i, &v, 8);
	}
}

static bool check_pattern(const uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t v;

	if (len < 8)
		return true;
	memcpy(&v, buf, 8);
	return v == off;
}

/* ---- seq_write, seq_read (main session) ---- */

static int wl_seq_write(struct nb_ctx *x, struct nb_result *r)
{
	uint64_t size = (uint64_t)x->o.file_mib << 20, io = (uint64_t)x->o.io_kib << 10, off, t0, t;
	nfs_fh4 fh = { 0, NULL };
	stateid4 sid;
	int rc;

	if (x->have_seq)
		(void)nb_remove(&x->c, &x->dir, "seq");
	x->have_seq = false;
	rc = nb_open(&x->c, &x->dir, "seq", true, OPEN4_SHARE_ACCESS_BOTH, &sid, &fh);
	if (rc != 0)
		goto out;
	x->have_seq = true;
	t0 = now_ns();
	for (off = 0; off < size && rc == 0; off += io) {
		struct nfs4_cl_compound cp;
		nfs_resop4 *w;

		fill_pattern(x->data, io, off);
		nfs4_cl_compound_init(&cp, x->c.cl);
		nb_add_putfh(&cp, &fh);
		nb_add_write(&cp, &sid, off, x->data, (uint32_t)io, UNSTABLE4);
		t = now_ns();
		rc = nb_call(&x->c, &cp);
		if (rc == 0)
			rc = lat_push(&r->lat, now_ns() - t);
		w = nfs4_cl_res(&cp, OP_WRITE);
		if (rc == 0 && (!w || w->u.opwrite.u.resok4.count != io)) {
			fprintf(stderr, "nfs_bench: short WRITE at %llu\n", (unsigned long long)off);
			rc = -EIO;
		}
		nfs4_cl_compound_free(&cp);
		r->ops++;
	}
	if (rc == 0)
		rc = nb_commit(&x->c, &fh);
	r->secs = (double)(now_ns() - t0) / 1e9;
	r->bytes = size;
	if (rc == 0)
		rc = nb_close(&x->c, &fh, &sid);
out:
	free(fh.val);
	return rc;
}

static int wl_seq_read(struct nb_ctx *x, struct nb_result *r)
{
	uint64_t size = (uint64_t)x->o.file_mib << 20, io = (uint64_t)x->o.io_kib << 10, off, t0, t;
	nfs_fh4 fh = { 0, NULL };
	stateid4 sid;
	int rc;

	rc = nb_open(&x->c, &x->dir, "seq", false, OPEN4_SHARE_ACCESS_READ, &sid, &fh);
	if (rc != 0)
		goto out;
	t0 = now_ns();
	for (off = 0; off < size && rc == 0; off += io) {
		struct nfs4_cl_compound cp;
		nfs_resop4 *rd;

		nfs4_cl_compound_init(&cp, x->c.cl);
		nb_add_putfh(&cp, &fh);
		nfs4_cl_add_read(&cp, &sid, off, (uint32_t)io);
		t = now_ns();
		rc = nb_call(&x->c, &cp);
		if (rc == 0)
			rc = lat_push(&r->lat, now_ns() - t);
		rd = nfs4_cl_res(&cp, OP_READ);
		if (rc == 0 && (!rd || rd->u.opread.u.resok4.data.len != io ||
				!check_pattern(rd->u.opread.u.resok4.data.val, io, off))) {
			fprintf(stderr, "nfs_bench: bad READ at %llu\n", (unsigned long long)off);
			rc = -EIO;
		}
		nfs4_cl_compound_free(&cp);
		r->ops++;
		r->bytes += io;
	}
	r->secs = (double)(now_ns() - t0) / 1e9;
	if (rc == 0)
		rc = nb_close(&x->c, &fh, &sid);
out:
	free(fh.val);
	return rc;
}

/* ---- timed workloads from N threads, one session each ---- */

enum nb_kind { NB_RAND_READ, NB_GETATTR, NB_SYNC_WRITE };

struct nb_thread {
	struct nb_ctx *x;
	enum nb_kind kind;
	unsigned idx;
	pthread_barrier_t *bar;
	struct nb_result r;
	int rc;
};

/* One request in flight on one session slot. */
struct nb_req {
	struct nfs4_cl_compound cp;
	uint64_t off, sent;
	uint8_t data[NB_SMALL_IO];   /* a WRITE's bytes (the pattern for off) */
};

static uint64_t next_random(uint64_t *rnd)
{
	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 7;
	*rnd ^= *rnd << 17;
	return *rnd;
}

/* Builds and sends the next request of the workload on slot. */
static int req_start(struct nb_thread *th, struct nb_conn *c, struct nb_req *q, uint32_t slot,
		     const nfs_fh4 *fh, const stateid4 *sid, uint64_t *rnd)
{
	uint64_t blocks = ((uint64_t)th->x->o.file_mib << 20) / NB_SMALL_IO;

	nfs4_cl_compound_init(&q->cp, c->cl);
	q->cp.slot = slot;
	nb_add_putfh(&q->cp, fh);
	q->off = (next_random(rnd) % blocks) * NB_SMALL_IO;
	switch (th->kind) {
	case NB_RAND_READ:
		nfs4_cl_add_read(&q->cp, sid, q->off, NB_SMALL_IO);
		break;
	case NB_SYNC_WRITE:
		fill_pattern(q->data, NB_SMALL_IO, q->off);
		nb_add_write(&q->cp, sid, q->off, q->data, NB_SMALL_IO, FILE_SYNC4);
		break;
	case NB_GETATTR:
		nfs4_cl_add_getattr(&q->cp,
			(1u << FATTR4_TYPE) | (1u << FATTR4_CHANGE) | (1u << FATTR4_SIZE) |
			(1u << FATTR4_FSID) | (1u << FATTR4_FILEID),
			(1u << (FATTR4_MODE - 32)) | (1u << (FATTR4_NUMLINKS - 32)) |
			(1u << (FATTR4_OWNER - 32)) | (1u << (FATTR4_OWNER_GROUP - 32)) |
			(1u << (FATTR4_SPACE_USED - 32)) | (1u << (FATTR4_TIME_ACCESS - 32)) |
			(1u << (FATTR4_TIME_METADATA - 32)) | (1u << (FATTR4_TIME_MODIFY - 32)));
		break;
	}
	q->sent = now_ns();
	return nb_start(c, &q->cp);
}

/* The answer to q: 0 when it is what the workload expects. */
static int req_check(struct nb_thread *th, struct nb_req *q)
{
	nfs_resop4 *r;

	if (q->cp.accept_stat != RPC_SUCCESS)
		return -EPROTO;
	if (q->cp.status != NFS4_OK)
		return (int)q->cp.status;
	switch (th->kind) {
	case NB_RAND_READ:
		r = nfs4_cl_res(&q->cp, OP_READ);
		if (!r || r->u.opread.u.resok4.data.len != NB_SMALL_IO ||
		    !check_pattern(r->u.opread.u.resok4.data.val, NB_SMALL_IO, q->off)) {
			fprintf(stderr, "nfs_bench: bad random READ at %llu\n",
				(unsigned long long)q->off);
			return -EIO;
		}
		th->r.bytes += NB_SMALL_IO;
		break;
	case NB_SYNC_WRITE:
		r = nfs4_cl_res(&q->cp, OP_WRITE);
		if (!r || r->u.opwrite.u.resok4.count != NB_SMALL_IO ||
		    r->u.opwrite.u.resok4.committed != FILE_SYNC4) {
			fprintf(stderr, "nfs_bench: WRITE at %llu not written durably\n",
				(unsigned long long)q->off);
			return -EIO;
		}
		th->r.bytes += NB_SMALL_IO;
		break;
	case NB_GETATTR:
		break;
	}
	return 0;
}

/* Keeps o.qd requests in flight on this session (one per slot) until the
 * time is up, then lets the last ones come back. */
static int thread_loop(struct nb_thread *th, struct nb_conn *c, const nfs_fh4 *fh,
		       const stateid4 *sid)
{
	struct nb_ctx *x = th->x;
	unsigned qd = x->o.qd, i, busy = 0;
	struct nfs4_cl_compound *cps[NB_MAX_QD];
	uint64_t rnd = 0x9e3779b97f4a7c15ull * (th->idx + 1) ^ (uint64_t)getpid();
	uint64_t t0, t, end;
	struct nb_req *q;
	int rc = 0, k;

	if (qd > c->cl->nslots)
		qd = c->cl->nslots;
	q = calloc(qd, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (i = 0; i < qd; i++)
		cps[i] = &q[i].cp;
	t0 = now_ns();
	end = t0 + (uint64_t)x->o.secs * 1000000000u;
	for (i = 0; i < qd && rc == 0; i++) {
		rc = req_start(th, c, &q[i], i, fh, sid, &rnd);
		if (rc == 0)
			busy++;
		else
			nfs4_cl_compound_free(&q[i].cp);
	}
	while (busy > 0) {
		k = nb_finish_any(cps, (int)qd);
		if (k < 0) {
			rc = k;   /* the connection is unusable: the rest never come */
			for (i = 0; i < qd; i++)
				if (q[i].cp.in_flight)
					nfs4_cl_compound_free(&q[i].cp);
			break;
		}
		t = now_ns();
		busy--;
		if (rc == 0)
			rc = req_check(th, &q[k]);
		if (rc == 0)
			rc = lat_push(&th->r.lat, t - q[k].sent);
		th->r.ops++;
		nfs4_cl_compound_free(&q[k].cp);
		if (rc == 0 && t < end) {
			rc = req_start(th, c, &q[k], (uint32_t)k, fh, sid, &rnd);
			if (rc == 0)
				busy++;
			else
				nfs4_cl_compound_free(&q[k].cp);
		}
	}
	th->r.secs = (double)(now_ns() - t0) / 1e9;
	free(q);
	return rc;
}

static void *thread_main(void *arg)
{
	struct nb_thread *th = arg;
	struct nb_ctx *x = th->x;
	struct nb_conn c;
	nfs_fh4 fh = { 0, NULL };
	stateid4 sid;
	char owner[96];
	int rc;

	snprintf(owner, sizeof(owner), "nfs_bench-%d-%s-t%u", (int)getpid(),
		 th->kind == NB_RAND_READ ? "r" : th->kind == NB_GETATTR ? "g" : "w", th->idx);
	rc = nb_conn_open(&c, x->o.host, x->o.port, owner);
	if (rc == 0) {
		rc = nb_open(&c, &x->dir, "seq", false,
			     th->kind == NB_SYNC_WRITE ? OPEN4_SHARE_ACCESS_BOTH : OPEN4_SHARE_ACCESS_READ,
			     &sid, &fh);
		if (rc != 0)
			nb_conn_close(&c);
	}
	/* Everyone waits at the barrier, also after a failure, so nobody hangs. */
	pthread_barrier_wait(th->bar);
	if (rc != 0)
		goto out;
	rc = thread_loop(th, &c, &fh, &sid);
	if (rc == 0)
		rc = nb_close(&c, &fh, &sid);
	nb_conn_close(&c);
out:
	free(fh.val);
	th->rc = rc;
	return NULL;
}

static int wl_threads(struct nb_ctx *x, enum nb_kind kind, unsigned n, struct nb_result *r)
{
	struct nb_thread th[NB_MAX_THREADS];
	pthread_t tid[NB_MAX_THREADS];
	pthread_barrier_t bar;
	unsigned i, started = 0;
	int rc = 0;

	if (pthread_barrier_init(&bar, NULL, n) != 0)
		return -ENOMEM;
	memset(th, 0, sizeof(th));
	for (i = 0; i < n; i++) {
		th[i].x = x;
		th[i].kind = kind;
		th[i].idx = i;
		th[i].bar = &bar;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, thread_main, &th[i]) != 0) {
			rc = -EAGAIN;
			break;
		}
		started++;
	}
	if (started < n) {
		/* The barrier would never open: a benchmark without its threads is
		 * worthless, so give up loudly. */
		fprintf(stderr, "nfs_bench: cannot start %u threads\n", n);
		exit(1);
	}
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (th[i].rc != 0 && rc == 0)
			rc = th[i].rc;
		r->ops += th[i].r.ops;
		r->bytes += th[i].r.bytes;
		if (th[i].r.secs > r->secs)
			r->secs = th[i].r.secs;
		if (rc == 0)
			rc = lat_append(&r->lat, &th[i].r.lat);
		result_free(&th[i].r);
	}
	pthread_barrier_destroy(&bar);
	return rc;
}

/* ---- the loopback floor ---- */

static int lat_push_ctx(void *ctx, uint64_t ns)
{
	return lat_push(ctx, ns);
}

static int wl_tcp_pingpong(struct nb_ctx *x, struct nb_result *r)
{
	r->bytes = 0;
	return nb_tcp_pingpong(128, NB_SMALL_IO, x->o.secs, lat_push_ctx, &r->lat, &r->ops,
			       &r->secs);
}

static int wl_tcp_stream(struct nb_ctx *x, struct nb_result *r)
{
	size_t total = (size_t)x->o.file_mib << 20;
	int rc = nb_tcp_stream(1u << 20, total, &r->secs);

	r->ops = total >> 20;
	r->bytes = total;
	return rc;
}

/* ---- small files ---- */

static int small_one(struct nb_ctx *x, const char *name)
{
	struct nfs4_cl_compound cp;
	nfs_fh4 fh = { 0, NULL };
	stateid4 sid;
	nfs_resop4 *w;
	int rc;

	rc = nb_open(&x->c, &x->dir, name, true, OPEN4_SHARE_ACCESS_BOTH, &sid, &fh);
	if (rc != 0)
		goto out;
	nfs4_cl_compound_init(&cp, x->c.cl);
	nb_add_putfh(&cp, &fh);
	nb_add_write(&cp, &sid, 0, x->data, NB_SMALL_IO, FILE_SYNC4);
	rc = nb_call(&x->c, &cp);
	w = nfs4_cl_res(&cp, OP_WRITE);
	if (rc == 0 && (!w || w->u.opwrite.u.resok4.count != NB_SMALL_IO))
		rc = -EIO;
	nfs4_cl_compound_free(&cp);
	if (rc == 0)
		rc = nb_close(&x->c, &fh, &sid);
out:
	free(fh.val);
	return rc;
}

static int wl_small(struct nb_ctx *x, unsigned run, struct nb_result *cr, struct nb_result *rr)
{
	char name[64];
	uint64_t t0, t;
	unsigned i, made = 0;
	int rc = 0;

	fill_pattern(x->data, NB_SMALL_IO, 0);
	t0 = now_ns();
	for (i = 0; i < x->o.nfiles && rc == 0; i++) {
		snprintf(name, sizeof(name), "s%u.%u", run, i);
		t = now_ns();
		rc = small_one(x, name);
		if (rc == 0) {
			made++;
			rc = lat_push(&cr->lat, now_ns() - t);
		}
		cr->ops++;
		cr->bytes += NB_SMALL_IO;
	}
	cr->secs = (double)(now_ns() - t0) / 1e9;
	t0 = now_ns();
	/* Remove what was made even after a failure, so that cleanup works. */
	for (i = 0; i < made; i++) {
		int rrc;

		snprintf(name, sizeof(name), "s%u.%u", run, i);
		t = now_ns();
		rrc = nb_remove(&x->c, &x->dir, name);
		if (rrc == 0)
			rrc = lat_push(&rr->lat, now_ns() - t);
		if (rrc != 0 && rc == 0)
			rc = rrc;
		rr->ops++;
	}
	rr->secs = (double)(now_ns() - t0) / 1e9;
	return rc;
}

/* ---- many clients at once ---- */

struct crowd_lat {
	struct nb_result r[4];     /* by enum nb_crowd_sample */
};

static int crowd_push(void *ctx, enum nb_crowd_sample which, uint64_t ns)
{
	struct crowd_lat *cl = ctx;

	cl->r[which].ops++;
	return lat_push(&cl->r[which].lat, ns);
}

/* One run of the crowd workload: the probe's OPEN and READ, idle and busy,
 * and what the crowd did; then the busy ÷ idle ratios of the medians. */
static int wl_crowd(struct nb_ctx *x)
{
	static const char *const names[4] = {
		"crowd_open_idle", "crowd_open_busy", "crowd_read_idle", "crowd_read_busy",
	};
	struct nb_crowd_opts co = {
		.host = x->o.host, .port = x->o.port, .clients = x->o.crowd,
		.threads = x->o.threads, .rate = x->o.crowd_rate, .secs = x->o.secs,
	};
	struct nb_crowd_done done;
	struct crowd_lat cl;
	struct nb_result load;
	unsigned i;
	int rc;

	memset(&cl, 0, sizeof(cl));
	memset(&load, 0, sizeof(load));
	rc = nb_crowd_run(&co, &x->c, &x->dir, crowd_push, &cl, &done);
	if (rc == 0) {
		load.ops = done.ops;
		load.secs = done.secs;
		load.bytes = done.ops * NB_SMALL_IO;
		/* no server figures: the run includes a thousand session set-ups */
		print_result("run1", "crowd_load", &load);
		for (i = 0; i < 4; i++) {
			cl.r[i].secs = x->o.secs;
			print_result("run1", names[i], &cl.r[i]);
		}
		printf("# crowd: p50 busy/idle OPEN %.2f, READ %.2f\n",
		       lat_pct(&cl.r[NB_CROWD_OPEN_BUSY].lat, 50) /
			       lat_pct(&cl.r[NB_CROWD_OPEN_IDLE].lat, 50),
		       lat_pct(&cl.r[NB_CROWD_READ_BUSY].lat, 50) /
			       lat_pct(&cl.r[NB_CROWD_READ_IDLE].lat, 50));
	} else {
		fprintf(stderr, "nfs_bench: crowd failed: %d%s\n", rc, rc > 0 ? " (nfsstat4)" : "");
	}
	for (i = 0; i < 4; i++)
		result_free(&cl.r[i]);
	result_free(&load);
	return rc;
}

/* ---- driver ---- */

static bool wanted(const struct nb_opts *o, const char *name)
{
	const char *p = o->only;
	size_t n = strlen(name);

	if (!p)
		return true;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == o->only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static int cmp_result(const void *a, const void *b)
{
	const struct nb_result *x = a, *y = b;
	double rx = x->secs > 0 ? (double)x->ops / x->secs : 0;
	double ry = y->secs > 0 ? (double)y->ops / y->secs : 0;

	return rx < ry ? -1 : rx > ry;
}

/* Runs workload wl (result index 0 or 1 of a two-result workload) o.runs times;
 * prints each run and the median run. */
static int run_workload(struct nb_ctx *x, const char *name, const char *name2, int wl, unsigned n)
{
	struct nb_result r[NB_MAX_RUNS], r2[NB_MAX_RUNS];
	unsigned run, k, done = 0;
	char label[16];
	int rc = 0;

	memset(r, 0, sizeof(r));
	memset(r2, 0, sizeof(r2));
	for (run = 0; run < x->o.runs && rc == 0; run++) {
		struct nb_srv before = srv_sample(x->o.server_pid);

		switch (wl) {
		case 0: rc = wl_seq_write(x, &r[run]); break;
		case 1: rc = wl_seq_read(x, &r[run]); break;
		case 2: rc = wl_threads(x, NB_RAND_READ, n, &r[run]); break;
		case 3: rc = wl_threads(x, NB_GETATTR, n, &r[run]); break;
		case 5: rc = wl_threads(x, NB_SYNC_WRITE, n, &r[run]); break;
		case 6: rc = wl_tcp_pingpong(x, &r[run]); break;
		case 7: rc = wl_tcp_stream(x, &r[run]); break;
		default: rc = wl_small(x, run, &r[run], &r2[run]); break;
		}
		/* A two-result workload's figures are the sum of both halves; the
		 * loopback floor involves no server. */
		if (wl < 6)
			r[run].srv = srv_delta(before, srv_sample(x->o.server_pid));
		if (rc != 0) {
			fprintf(stderr, "nfs_bench: %s run %u failed: %d%s\n", name, run + 1, rc,
				rc > 0 ? " (nfsstat4)" : "");
			break;
		}
		snprintf(label, sizeof(label), "run%u", run + 1);
		print_result(label, name, &r[run]);
		if (name2)
			print_result(label, name2, &r2[run]);
		done++;
	}
	if (rc == 0 && done > 1) {
		qsort(r, done, sizeof(r[0]), cmp_result);
		print_result("median", name, &r[done / 2]);
		if (name2) {
			qsort(r2, done, sizeof(r2[0]), cmp_result);
			print_result("median", name2, &r2[done / 2]);
		}
	}
	for (k = 0; k < NB_MAX_RUNS; k++) {
		result_free(&r[k]);
		result_free(&r2[k]);
	}
	return rc;
}

/* "rand_read_qd1", "rand_read_x4", "rand_read_qd8", "rand_read_x4_qd8" */
static void timed_name(char *buf, size_t cap, const char *base, unsigned threads, unsigned qd)
{
	if (threads == 1)
		snprintf(buf, cap, "%s_qd%u", base, qd);
	else if (qd == 1)
		snprintf(buf, cap, "%s_x%u", base, threads);
	else
		snprintf(buf, cap, "%s_x%u_qd%u", base, threads, qd);
}

static int bench(struct nb_ctx *x)
{
	static const struct { const char *name; int wl; } timed[] = {
		{ "rand_read", 2 }, { "getattr", 3 }, { "sync_write", 5 },
	};
	char name[48];
	unsigned i;
	int rc = 0;

	if (wanted(&x->o, "tcp")) {
		rc = run_workload(x, "tcp_pingpong", NULL, 6, 1);
		if (rc == 0)
			rc = run_workload(x, "tcp_stream", NULL, 7, 1);
	}
	if (rc == 0 && (wanted(&x->o, "seq_write") || !x->have_seq))
		rc = run_workload(x, "seq_write", NULL, 0, 1);
	if (rc == 0 && wanted(&x->o, "seq_read"))
		rc = run_workload(x, "seq_read", NULL, 1, 1);
	for (i = 0; i < sizeof(timed) / sizeof(timed[0]) && rc == 0; i++) {
		if (!wanted(&x->o, timed[i].name))
			continue;
		timed_name(name, sizeof(name), timed[i].name, 1, x->o.qd);
		rc = run_workload(x, name, NULL, timed[i].wl, 1);
		if (rc == 0 && x->o.threads > 1) {
			timed_name(name, sizeof(name), timed[i].name, x->o.threads, x->o.qd);
			rc = run_workload(x, name, NULL, timed[i].wl, x->o.threads);
		}
	}
	if (rc == 0 && wanted(&x->o, "small"))
		rc = run_workload(x, "small_create", "small_remove", 4, 1);
	/* only when named: it opens a thousand connections */
	if (rc == 0 && x->o.only && wanted(&x->o, "crowd"))
		rc = wl_crowd(x);
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nfs_bench [options] HOST PORT\n"
		"  -s MiB      size of the sequential file (256)\n"
		"  -b KiB      sequential request size (1024)\n"
		"  -t N        threads (sessions) for the parallel workloads (4)\n"
		"  -d SECONDS  duration of each timed workload (5)\n"
		"  -n N        number of small files (2000)\n"
		"  -r N        runs of each workload, median printed (1, at most %d)\n"
		"  -q D        requests in flight per session in the timed workloads (1, at most %d)\n"
		"  -p PID      the server's process: its CPU time, system calls and context\n"
		"              switches per request, from /proc\n"
		"  -c N        clients of the crowd workload (1000)\n"
		"  -R N        READs per second of the whole crowd (10000); -t threads drive it\n"
		"  -w LIST     only these workloads:\n"
		"              tcp,seq_write,seq_read,rand_read,getattr,sync_write,small,\n"
		"              crowd (only when named: one client's OPEN and READ latency,\n"
		"              idle and while the crowd works; -d seconds each)\n"
		"HOST is an IP literal; the server must export a writable root (PUTROOTFH).\n",
		NB_MAX_RUNS, NB_MAX_QD);
}

static int parse(int argc, char **argv, struct nb_opts *o)
{
	int ch;

	o->file_mib = 256;
	o->io_kib = 1024;
	o->threads = 4;
	o->secs = 5;
	o->nfiles = 2000;
	o->runs = 1;
	o->qd = 1;
	o->crowd = 1000;
	o->crowd_rate = 10000;
	while ((ch = getopt(argc, argv, "s:b:t:d:n:r:q:p:w:c:R:h")) != -1) {
		switch (ch) {
		case 's': o->file_mib = (unsigned)atoi(optarg); break;
		case 'b': o->io_kib = (unsigned)atoi(optarg); break;
		case 't': o->threads = (unsigned)atoi(optarg); break;
		case 'd': o->secs = (unsigned)atoi(optarg); break;
		case 'n': o->nfiles = (unsigned)atoi(optarg); break;
		case 'r': o->runs = (unsigned)atoi(optarg); break;
		case 'q': o->qd = (unsigned)atoi(optarg); break;
		case 'p': o->server_pid = (pid_t)atoi(optarg); break;
		case 'w': o->only = optarg; break;
		case 'c': o->crowd = (unsigned)atoi(optarg); break;
		case 'R': o->crowd_rate = (unsigned)atoi(optarg); break;
		default: return -1;
		}
	}
	if (argc - optind != 2)
		return -1;
	o->host = argv[optind];
	o->port = (uint16_t)atoi(argv[optind + 1]);
	if (!o->port || !o->file_mib || o->io_kib < 4 || o->io_kib > 1024 || o->io_kib % 4 ||
	    !o->threads || o->threads > NB_MAX_THREADS || !o->secs || !o->runs ||
	    o->runs > NB_MAX_RUNS || ((uint64_t)o->file_mib << 10) % o->io_kib || !o->qd ||
	    o->qd > NB_MAX_QD || o->server_pid < 0 || !o->crowd || o->crowd > 100000 ||
	    !o->crowd_rate)
		return -1;
	return 0;
}

/* The machine, its load and the server's program, for the record. */
static void print_machine(pid_t pid)
{
	char model[256] = "?", load[64] = "?", exe[256] = "", path[64], buf[8192], *p, *e;
	struct utsname u;
	ssize_t n;

	if (read_file("/proc/cpuinfo", buf, sizeof(buf)) && (p = strstr(buf, "model name")) &&
	    (p = strchr(p, ':'))) {
		p += 2;
		e = strchr(p, '\n');
		snprintf(model, sizeof(model), "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
	}
	if (read_file("/proc/loadavg", load, sizeof(load)) && (e = strchr(load, '\n')))
		*e = '\0';
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
	}
	printf("# machine: %ld CPUs (%s), kernel %s, load %s%s%s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model, u.release, load, exe[0] ? "; server " : "", exe);
}

int main(int argc, char **argv)
{
	struct nb_ctx x;
	char owner[64];
	int rc, crc;

	memset(&x, 0, sizeof(x));
	if (parse(argc, argv, &x.o) != 0) {
		usage();
		return 2;
	}
	x.data = malloc((size_t)x.o.io_kib << 10);
	if (!x.data)
		return 1;
	snprintf(owner, sizeof(owner), "nfs_bench-%d-main", (int)getpid());
	rc = nb_conn_open(&x.c, x.o.host, x.o.port, owner);
	if (rc != 0) {
		fprintf(stderr, "nfs_bench: no session with %s:%u: %d\n", x.o.host, x.o.port, rc);
		free(x.data);
		return 1;
	}
	snprintf(x.dirname, sizeof(x.dirname), "nfs_bench.%d", (int)getpid());
	rc = nb_root_fh(&x.c, &x.root);
	if (rc == 0)
		rc = nb_mkdir(&x.c, &x.root, x.dirname, &x.dir);
	if (rc != 0) {
		fprintf(stderr, "nfs_bench: cannot create %s in the export root: %d\n", x.dirname, rc);
		goto out;
	}
	printf("# nfs_bench %s:%u file %u MiB, io %u KiB, %u threads, %u in flight each, %u s, "
	       "%u small files, %u runs\n", x.o.host, x.o.port, x.o.file_mib, x.o.io_kib, x.o.threads,
	       x.o.qd, x.o.secs, x.o.nfiles, x.o.runs);
	print_machine(x.o.server_pid);
	rc = bench(&x);
	if (x.have_seq && (crc = nb_remove(&x.c, &x.dir, "seq")) != 0)
		fprintf(stderr, "nfs_bench: removing seq: %d\n", crc);
	if ((crc = nb_remove(&x.c, &x.root, x.dirname)) != 0)
		fprintf(stderr, "nfs_bench: removing %s: %d\n", x.dirname, crc);
out:
	free(x.root.val);
	free(x.dir.val);
	nb_conn_close(&x.c);
	free(x.data);
	return rc == 0 ? 0 : 1;
}
