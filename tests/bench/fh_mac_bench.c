/*
 * tests/bench/fh_mac_bench.c: what the file handle MAC costs per handle
 * (a benchmark, not a test): nfs4_fh_mac_check on handles of the sizes
 * daxnfsd makes (a pseudo node, an XFS object in a whole-filesystem export,
 * a non-directory with its parent in a sub-directory export, the largest),
 * nanoseconds per check, to set beside PUTFH+GETATTR's round trip measured
 * by nfs_bench (scripts/bench.sh, "daxnfsd" against "daxnfsd-nomac").
 * Calls: server/nfs4_fh_mac.c. Called by: a person (docs/benchmarks.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/nfs4_fh_mac.h"

#define ROUNDS 2000000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	static const size_t sizes[] = { 12, 17, 41, 100 };   /* bytes under the MAC */
	uint8_t h[128];
	size_t i;
	int r;

	for (i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(i * 37u + 11u);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned ok = 0;
		double t0, t1;

		nfs4_fh_mac_compute(h, n, h + n);
		t0 = now_ns();
		for (r = 0; r < ROUNDS; r++)
			ok += nfs4_fh_mac_check(h, n, h + n);
		t1 = now_ns();
		printf("fh_mac_check %3zu+16 bytes: %6.1f ns per handle (%u of %d verified)\n", n,
		       (t1 - t0) / ROUNDS, ok, ROUNDS);
	}
	return 0;
}
