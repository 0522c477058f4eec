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
 *
 * Calls: libc. Called by: tests/vm/guest/workload.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "mmap-write") == 0)
		return vmtool_mmap_write(argv[2], atol(argv[3]), atol(argv[4]), atoi(argv[5]));
	if (argc == 4 && strcmp(argv[1], "lock-hold") == 0)
		return vmtool_lock(argv[2], 1, atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "lock-try") == 0)
		return vmtool_lock(argv[2], 0, 0);
	fprintf(stderr, "usage: vmtool mmap-write FILE OFF LEN BYTE | lock-hold FILE SECS | lock-try FILE\n");
	return 2;
}
