/*
 * tests/vm/vmtool.c: small file-system probes for the VM guest scripts.
 *
 * Job: the few operations the guest's shell tools cannot do: write through a
 * shared mmap (msync'd), and hold or try POSIX (fcntl) byte-range locks, so
 * that two processes on the NFS client contend for them. Built statically on
 * the host (no sanitizer), run in the guest from the 9p share.
 *
 *   vmtool mmap-write FILE OFFSET LEN BYTE   file must be >= OFFSET+LEN bytes
 *   vmtool lock-hold FILE SECONDS            F_SETLKW write lock, "held" on stdout
 *   vmtool lock-try FILE                     exit 0 locked, 1 conflict, 2 error
 *   vmtool randio read|write FILE SECS       QD1 4 KiB O_DIRECT I/O at random offsets
 *                                            for SECS: "ops N secs S iops X" (benchmarks)
 *   vmtool mktree DIR SEED [N]               10 dirs x (N/2 files + sub/ with N/2
 *                                            files); N = 100 (1,000 files) by default
 *
 * mktree exists because a process start costs ~0.1 s in a TCG guest: 1,000
 * files made by 1,000 shell commands would take longer than copying them.
 *
 * Calls: libc. Called by: tests/vm/guest/workload.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int vmtool_mmap_write(const char *path, long off, long len, int byte)
{
	int rc = 2;
	int fd = -1;
	long pg = sysconf(_SC_PAGESIZE);
	long start = off - off % pg;
	char *map = MAP_FAILED;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vmtool: open %s: %s\n", path, strerror(errno));
		goto out;
	}
	map = mmap(NULL, (size_t)(off - start + len), PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, start);
	if (map == MAP_FAILED) {
		fprintf(stderr, "vmtool: mmap %s: %s\n", path, strerror(errno));
		goto out;
	}
	memset(map + (off - start), byte, (size_t)len);
	if (msync(map, (size_t)(off - start + len), MS_SYNC) != 0) {
		fprintf(stderr, "vmtool: msync %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (map != MAP_FAILED && munmap(map, (size_t)(off - start + len)) != 0 && rc == 0) {
		fprintf(stderr, "vmtool: munmap: %s\n", strerror(errno));
		rc = 2;
	}
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		fprintf(stderr, "vmtool: close %s: %s\n", path, strerror(errno));
		rc = 2;
	}
	return rc;
}

static int vmtool_lock(const char *path, int wait, int secs)
{
	int rc = 2;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "vmtool: open %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) != 0) {
		if (!wait && (errno == EAGAIN || errno == EACCES)) {
			rc = 1;
			goto out;
		}
		fprintf(stderr, "vmtool: fcntl lock %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (wait) {
		printf("held\n");
		fflush(stdout);
		sleep((unsigned)secs);
	}
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		fprintf(stderr, "vmtool: fcntl unlock %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int vmtool_write_file(const char *path, size_t len, uint64_t *state)
{
	int rc = 2;
	char buf[4096];
	size_t i;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "vmtool: create %s: %s\n", path, strerror(errno));
		return 2;
	}
	for (i = 0; i < len; i++) {
		/* xorshift64: cheap, deterministic per seed, not compressible */
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		buf[i] = (char)(*state >> 24);
	}
	if (fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "vmtool: write %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "vmtool: close %s: %s\n", path, strerror(errno));
		rc = 2;
	}
	return rc;
}

static int vmtool_mktree(const char *dir, uint64_t seed, int per_dir)
{
	char path[4096];
	uint64_t state = seed | 1;
	int i, j;

	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/d%d/sub", dir, i);
		if ((mkdir(dir, 0755) != 0 && errno != EEXIST) ||
		    (snprintf(path, sizeof(path), "%s/d%d", dir, i), mkdir(path, 0755) != 0) ||
		    (snprintf(path, sizeof(path), "%s/d%d/sub", dir, i), mkdir(path, 0755) != 0)) {
			fprintf(stderr, "vmtool: mkdir %s: %s\n", path, strerror(errno));
			return 2;
		}
		for (j = 0; j < per_dir; j++) {
			snprintf(path, sizeof(path), "%s/d%d/%sfile%d", dir, i,
				 j < per_dir / 2 ? "" : "sub/", j);
			if (vmtool_write_file(path, (size_t)((i * 100 + j) % 4000 + 1), &state) != 0)
				return 2;
		}
	}
	return 0;
}

/* QD1 4 KiB O_DIRECT preads or pwrites at random aligned offsets of FILE
 * for SECONDS; prints the count and the rate (a benchmark's figure). */
static int vmtool_randio(const char *mode, const char *path, int seconds)
{
	bool wr = strcmp(mode, "write") == 0;
	struct timespec t0, t;
	uint64_t rnd = 88172645463325252ull, ops = 0, blocks;
	double el = 0;
	void *buf = NULL;
	struct stat st;
	int fd, rc = 1;

	fd = open(path, (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4096 ||
	    posix_memalign(&buf, 4096, 4096)) {
		perror("vmtool: randio");
		goto out;
	}
	memset(buf, 0x5a, 4096);
	blocks = (uint64_t)st.st_size / 4096;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		off_t off;
		ssize_t n;

		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		off = (off_t)(rnd % blocks) * 4096;
		n = wr ? pwrite(fd, buf, 4096, off) : pread(fd, buf, 4096, off);
		if (n != 4096) {
			perror("vmtool: randio: I/O");
			goto out;
		}
		ops++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	} while (el < seconds);
	printf("ops %llu secs %.3f iops %.0f\n", (unsigned long long)ops, el, (double)ops / el);
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "randio") == 0 &&
	    (strcmp(argv[2], "read") == 0 || strcmp(argv[2], "write") == 0))
		return vmtool_randio(argv[2], argv[3], atoi(argv[4]));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "mktree") == 0) {
		int n = argc == 5 ? atoi(argv[4]) : 100;

		if (n < 2 || n > 10000) {
			fprintf(stderr, "vmtool: mktree: N must be 2..10000\n");
			return 2;
		}
		return vmtool_mktree(argv[2], strtoull(argv[3], NULL, 0), n);
	}
	if (argc == 6 && strcmp(argv[1], "mmap-write") == 0)
		return vmtool_mmap_write(argv[2], atol(argv[3]), atol(argv[4]), atoi(argv[5]));
	if (argc == 4 && strcmp(argv[1], "lock-hold") == 0)
		return vmtool_lock(argv[2], 1, atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "lock-try") == 0)
		return vmtool_lock(argv[2], 0, 0);
	fprintf(stderr, "usage: vmtool mmap-write FILE OFF LEN BYTE | lock-hold FILE SECS | lock-try FILE | "
		"mktree DIR SEED [N] | randio read|write FILE SECS\n");
	return 2;
}
