/*
 * tests/bench/pmem_bench.c: read and write throughput through the backend.
 *
 * Job: on a directory (argv[1], default /tmp), through the backend's read and
 * write operations, measure sequential throughput for 4 KiB and 1 MiB
 * (and 64/256 KiB, to place the switch-over) requests over a file of argv[2] MiB (default 256), once through
 * pread/pwrite and once through the mapping cache, and print a table. Writes
 * are UNSTABLE overwrites inside EOF (the only writes the mapping path takes);
 * one extra row per path measures 4 KiB DATA_SYNC writes (fdatasync, or a
 * cache flush on DAX). Not a test: figures go to docs/benchmarks.md.
 * Calls: pmem/backend.h, pmem/posix_priv.h. Called by: a person.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pmem/posix_priv.h"

static const struct pmem_cred bench_cred = { 0, 0, 0, { 0 } };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sequential pass over the first total bytes; returns MiB/s or -1. */
static double pass(struct pmem_obj *o, bool write, size_t req, uint64_t total,
		   enum pmem_stable st, uint8_t *buf)
{
	enum pmem_stable c;
	uint64_t off;
	double t0, t;
	size_t n;
	bool eof;
	int rc;

	t0 = now_s();
	for (off = 0; off + req <= total; off += req) {
		if (write)
			rc = o->ops->write(o, off, buf, req, st, &n, &c);
		else
			rc = o->ops->read(o, off, buf, req, &n, &eof);
		if (rc || n != req) {
			fprintf(stderr, "%s at %llu: %s\n", write ? "write" : "read",
				(unsigned long long)off, strerror(-rc));
			return -1;
		}
	}
	t = now_s() - t0;
	return (double)total / (1 << 20) / t;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
	uint64_t total = mib << 20, off;
	static const size_t reqs[] = { 4096, 64 << 10, 256 << 10, 1 << 20 };
	static const char *paths[] = { "pread/pwrite", "mapping" };
	struct pmem_export *exp = NULL;
	struct pmem_obj *root = NULL, *o = NULL;
	struct pmem_attr at;
	enum pmem_stable c;
	char name[64];
	uint8_t *buf;
	size_t n, i;
	int rc, p;

	buf = malloc(1 << 20);
	if (!buf || mib == 0)
		return 1;
	memset(buf, 0xa5, 1 << 20);
	snprintf(name, sizeof(name), "pmem_bench.%d", (int)getpid());
	rc = pmem_posix_export_open(dir, 1, &exp);
	if (rc == 0)
		rc = exp->ops->root(exp, &root);
	if (rc == 0)
		rc = root->ops->create_file(root, &bench_cred, name, 0600, true, &o);
	for (off = 0; rc == 0 && off < total; off += 1 << 20)
		rc = o->ops->write(o, off, buf, 1 << 20, PMEM_UNSTABLE, &n, &c);
	if (rc == 0)
		rc = o->ops->commit(o, 0, 0);
	if (rc == 0)
		rc = o->ops->getattr(o, &at);
	if (rc) {
		fprintf(stderr, "pmem_bench: %s: %s\n", dir, strerror(-rc));
		goto out;
	}
	printf("pmem_bench: %s, file %llu MiB, DAX %s, flush %s\n", dir,
	       (unsigned long long)mib, at.dax ? "yes" : "no", posix_flush_name());
	printf("%-14s %-10s %12s %12s\n", "path", "request", "read MiB/s", "write MiB/s");
	for (p = 0; p < 2; p++) {
		posix_export_set_io_path(exp, p ? POSIX_IO_MAP : POSIX_IO_PREAD);
		for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
			/* Warm the page cache / mapping windows once, then measure. */
			pass(o, false, reqs[i], total, PMEM_UNSTABLE, buf);
			double w = pass(o, true, reqs[i], total, PMEM_UNSTABLE, buf);
			double r = pass(o, false, reqs[i], total, PMEM_UNSTABLE, buf);

			printf("%-14s %4zu KiB   %12.0f %12.0f\n", paths[p], reqs[i] >> 10, r, w);
		}
		/* Stable small writes: what a FILE_SYNC-less DATA_SYNC costs. */
		double ws = pass(o, true, 4096, total < (16 << 20) ? total : (16 << 20),
				 PMEM_DATA_SYNC, buf);
		printf("%-14s %-10s %12s %12.1f\n", paths[p], "4 KiB sync", "-", ws);
	}
out:
	if (o)
		pmem_obj_put(o);
	if (root) {
		root->ops->remove(root, &bench_cred, name);
		pmem_obj_put(root);
	}
	pmem_export_put(exp);
	free(buf);
	return rc ? 1 : 0;
}
