/*
 * server/nfs4_recovery.c: stable client records (NFSV4.Recovery_Dir) and the
 * server owner that must stay the same across restarts.
 *
 *   <dir>/server_owner      "daxnfs-<random>", created once
 *   <dir>/clients/<hash>    one file per confirmed client: its co_ownerid bytes
 *
 * A record is written to a temporary name, fsync'd, renamed into place and
 * the directory fsync'd before the CREATE_SESSION reply that confirms the
 * client, so a client that was ever told "confirmed" is known after a crash.
 * At start the records of the previous run are loaded: those clients may
 * reclaim during grace. A record goes with DESTROY_CLIENTID or lease expiry,
 * and previous-run records whose client never came back go when grace ends.
 * Has its own mutex (writes happen without the state lock).
 * Calls: libc, conf/log. Called by: nfs4_session.c, nfs4_client.c,
 * nfs4_grace.c, nfs4_server.c.
 */
#include "server/nfs4_session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/log.h"

struct prev_client {
	uint8_t owner[NFS4_OPAQUE_LIMIT];
	uint32_t len;
	bool reclaimed;      /* sent RECLAIM_COMPLETE in this run */
	bool rewritten;      /* confirmed again in this run: the record is current */
};

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char rec_dir[4096];
static char clients_dir[4200];
static char server_owner[64];
static struct prev_client *prev;
static unsigned n_prev;
static bool grace_over;

static void record_name(const uint8_t *owner, uint32_t len, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%016llx", clients_dir,
		 (unsigned long long)nfs4_hash_bytes(owner, len));
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Writes len bytes as path, durably (tmp + fsync + rename + fsync dir). */
static int write_durable(const char *dir, const char *path, const void *buf, size_t len)
{
	char tmp[4400];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	else if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(dir);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int mkdir_p(const char *path)
{
	char buf[4200];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

static int load_owner(void)
{
	char path[4200], random_part[17];
	uint64_t r = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/server_owner", rec_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, server_owner, sizeof(server_owner) - 1);
		close(fd);
		if (n > 0) {
			server_owner[n] = '\0';
			return 0;
		}
	}
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			r = 0;
		close(fd);
	}
	if (!r)
		r = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	snprintf(random_part, sizeof(random_part), "%016llx", (unsigned long long)r);
	snprintf(server_owner, sizeof(server_owner), "daxnfs-%s", random_part);
	return write_durable(rec_dir, path, server_owner, strlen(server_owner));
}

static int load_clients(void)
{
	DIR *d = opendir(clients_dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[4500];
		struct prev_client *grown, *pc;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", clients_dir, e->d_name);
		if (strstr(e->d_name, ".tmp")) {
			unlink(path);   /* a record whose write did not finish */
			continue;
		}
		grown = realloc(prev, (n_prev + 1) * sizeof(*prev));
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		prev = grown;
		pc = &prev[n_prev];
		memset(pc, 0, sizeof(*pc));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, pc->owner, sizeof(pc->owner));
		close(fd);
		if (n <= 0)
			continue;
		pc->len = (uint32_t)n;
		n_prev++;
	}
	closedir(d);
	return rc;
}

int nfs4_recovery_init(const char *dir)
{
	int rc;

	if (!dir || !*dir)
		return -EINVAL;
	snprintf(rec_dir, sizeof(rec_dir), "%s", dir);
	snprintf(clients_dir, sizeof(clients_dir), "%s/clients", dir);
	grace_over = false;
	rc = mkdir_p(clients_dir);
	if (rc == 0)
		rc = load_owner();
	if (rc == 0)
		rc = load_clients();
	if (rc < 0)
		log_err("nfs4", "recovery directory %s: %s", dir, strerror(-rc));
	else
		log_info("nfs4", "recovery directory %s: %u client record(s)", dir, n_prev);
	return rc;
}

void nfs4_recovery_shutdown(void)
{
	pthread_mutex_lock(&rec_lock);
	free(prev);
	prev = NULL;
	n_prev = 0;
	pthread_mutex_unlock(&rec_lock);
}

static struct prev_client *prev_find(const uint8_t *owner, uint32_t len)
{
	unsigned i;

	for (i = 0; i < n_prev; i++)
		if (prev[i].len == len && memcmp(prev[i].owner, owner, len) == 0)
			return &prev[i];
	return NULL;
}

int nfs4_recovery_add(const struct nfs4_client *clp)
{
	char path[4300];
	struct prev_client *pc;
	int rc;

	pthread_mutex_lock(&rec_lock);
	record_name(clp->owner_id.val, clp->owner_id.len, path, sizeof(path));
	rc = write_durable(clients_dir, path, clp->owner_id.val, clp->owner_id.len);
	pc = prev_find(clp->owner_id.val, clp->owner_id.len);
	if (rc == 0 && pc)
		pc->rewritten = true;
	pthread_mutex_unlock(&rec_lock);
	return rc;
}

void nfs4_recovery_remove(const struct nfs4_client *clp)
{
	char path[4300];
	struct prev_client *pc;

	pthread_mutex_lock(&rec_lock);
	record_name(clp->owner_id.val, clp->owner_id.len, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("nfs4", "cannot remove client record %s: %s", path, strerror(errno));
	pc = prev_find(clp->owner_id.val, clp->owner_id.len);
	if (pc)
		pc->rewritten = false;
	pthread_mutex_unlock(&rec_lock);
}

bool nfs4_recovery_was_known(const struct xdr_opaque *owner)
{
	bool known;

	pthread_mutex_lock(&rec_lock);
	known = !grace_over && prev_find(owner->val, owner->len) != NULL;
	pthread_mutex_unlock(&rec_lock);
	return known;
}

unsigned nfs4_recovery_reclaimed(const struct xdr_opaque *owner)
{
	struct prev_client *pc;
	unsigned i, left = 0;

	pthread_mutex_lock(&rec_lock);
	pc = prev_find(owner->val, owner->len);
	if (pc)
		pc->reclaimed = true;
	for (i = 0; i < n_prev; i++)
		left += !prev[i].reclaimed;
	pthread_mutex_unlock(&rec_lock);
	return left;
}

unsigned nfs4_recovery_previous_count(void)
{
	return n_prev;
}

void nfs4_recovery_end_grace(void)
{
	char path[4300];
	unsigned i;

	pthread_mutex_lock(&rec_lock);
	grace_over = true;
	for (i = 0; i < n_prev; i++) {
		if (prev[i].rewritten)
			continue;
		record_name(prev[i].owner, prev[i].len, path, sizeof(path));
		unlink(path);   /* never came back: it cannot reclaim any more */
	}
	pthread_mutex_unlock(&rec_lock);
}

const char *nfs4_server_owner(void)
{
	return server_owner;
}
