/*
 * server/nfs4_fh_mac.c: the file handle key (see nfs4_fh_mac.h).
 *
 * The key is process state set once at start-up, before any request is
 * served, and only read after that; it is kept here rather than in each
 * export because one key serves every export (the export id is under the
 * MAC).
 * Calls: libsodium, libc. Called by: nfs4_fh.c, nfs4_server.c.
 */
#include "server/nfs4_fh_mac.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/log.h"

#define KEY_FILE "fh-key"

static uint8_t fh_key[crypto_shorthash_siphashx24_KEYBYTES];

_Static_assert(crypto_shorthash_siphashx24_BYTES == NFS4_FH_MAC_LEN, "MAC size");

static int key_read(const char *path)
{
	uint8_t buf[sizeof(fh_key) + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		rc = -errno;
	} else if ((size_t)n != sizeof(fh_key)) {
		log_err("nfs4", "%s: %zd bytes, a file handle key has %zu: refusing to start "
			"(remove it to make a new key; every client's handles then go stale)",
			path, n, sizeof(fh_key));
		rc = -EINVAL;
	} else {
		memcpy(fh_key, buf, sizeof(fh_key));
	}
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* A new key: written to a temporary file, synced, renamed into place and
 * the directory synced, so a crash leaves either no key or the whole key. */
static int key_create(const char *dir, const char *path)
{
	char tmp[PATH_MAX];
	int fd = -1, dfd = -1, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/%s.new", dir, KEY_FILE) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	randombytes_buf(fh_key, sizeof(fh_key));
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (write(fd, fh_key, sizeof(fh_key)) != (ssize_t)sizeof(fh_key) || fsync(fd) < 0) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rc = -errno;
	if (rc == 0)
		log_info("nfs4", "made a new file handle key in %s", path);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc && fd >= 0)
		unlink(tmp);
	return rc;
}

int nfs4_fh_mac_init(const char *dir)
{
	char path[PATH_MAX];
	int rc;

	if (sodium_init() < 0)
		return -EIO;
	if (snprintf(path, sizeof(path), "%s/%s", dir, KEY_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = key_read(path);
	if (rc == -ENOENT)
		rc = key_create(dir, path);
	if (rc < 0)
		log_err("nfs4", "file handle key %s: %s", path, strerror(-rc));
	return rc;
}

#ifndef DAXNFS_BENCH_FH_NO_MAC
void nfs4_fh_mac_compute(const uint8_t *p, size_t n, uint8_t out[NFS4_FH_MAC_LEN])
{
	crypto_shorthash_siphashx24(out, p, n, fh_key);
}

bool nfs4_fh_mac_check(const uint8_t *p, size_t n, const uint8_t mac[NFS4_FH_MAC_LEN])
{
	uint8_t want[NFS4_FH_MAC_LEN];

	crypto_shorthash_siphashx24(want, p, n, fh_key);
	return sodium_memcmp(want, mac, NFS4_FH_MAC_LEN) == 0;
}
#else
/* Only scripts/bench.sh's "daxnfsd-nomac" server defines this: the same
 * daemon without the MAC's work, to measure what the MAC costs (an A/B in
 * one run). Never a build to serve anyone with: every handle verifies. */
void nfs4_fh_mac_compute(const uint8_t *p, size_t n, uint8_t out[NFS4_FH_MAC_LEN])
{
	(void)p;
	(void)n;
	memset(out, 0, NFS4_FH_MAC_LEN);
}

bool nfs4_fh_mac_check(const uint8_t *p, size_t n, const uint8_t mac[NFS4_FH_MAC_LEN])
{
	(void)p;
	(void)n;
	(void)mac;
	return true;
}
#endif
