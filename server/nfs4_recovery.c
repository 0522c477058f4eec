/*
 * server/nfs4_recovery.c: stable client records (NFSV4.Recovery_Dir) and the
 * server owner that must stay the same across restarts.
 *
 *   <dir>/server_owner      "daxnfs-<random>", created once
 *   <dir>/clients/<name>    one file per confirmed client: its co_ownerid bytes
 *
 * A record's name is the hex BLAKE2b-128 of the co_ownerid. Any client picks
 * its own co_ownerid, so the name must not collide on purpose: with a weak
 * hash (releases before this one used 64-bit FNV-1a) a client could choose
 * an owner whose record name is a victim's and overwrite the victim's
 * record, or delete it when its own lease ran out; after a restart the
 * victim, no longer known, would be refused its reclaims (NFS4ERR_NO_GRACE).
 * Records under other names (FNV ones) are still read, since the name of
 * each loaded record is kept and used to remove it; an owner found in two
 * files is counted once and the second file removed, so that one owner
 * cannot keep the grace period from ending early.
 *
 * A record is written to a temporary name, fsync'd, renamed into place and
 * the directory fsync'd before the CREATE_SESSION reply that confirms the
 * client, so a client that was ever told "confirmed" is known after a crash.
 * At start the records of the previous run are loaded: those clients may
 * reclaim during grace. A record goes with DESTROY_CLIENTID or lease expiry,
 * and previous-run records whose client never came back go when grace ends.
 * Has its own mutex (writes happen without the state lock).
 * Calls: libc, libsodium (BLAKE2b), conf/log. Called by: nfs4_session.c, nfs4_client.c,
 * nfs4_grace.c, nfs4_server.c.
 */
#include "server/nfs4_recovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/log.h"
#include "server/nfs4_client.h"

#define RECORD_HASH_BYTES 16u   /* BLAKE2b-128: 32 hex digits */

struct nfs4_prev_client {
	uint8_t owner[NFS4_OPAQUE_LIMIT];
	uint32_t len;
	bool reclaimed;      /* sent RECLAIM_COMPLETE in this run */
	bool rewritten;      /* confirmed again in this run: the record is current */
	char file[NAME_MAX + 1];   /* the record's name when loaded */
};


/* The record's file name (no directory) for owner. */
static void record_base(const uint8_t *owner, uint32_t len, char out[2 * RECORD_HASH_BYTES + 1])
{
	uint8_t h[RECORD_HASH_BYTES];

	crypto_generichash(h, sizeof(h), owner, len, NULL, 0);
	sodium_bin2hex(out, 2 * RECORD_HASH_BYTES + 1, h, sizeof(h));
}

static void record_path(const struct nfs4_recovery *r, const char *base, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", r->clients_dir, base);
}

/* Removes the record file base; a record that is already gone is fine. */
static void record_unlink(const struct nfs4_recovery *r, const char *base)
{
	char path[4500];

	record_path(r, base, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("nfs4", "cannot remove client record %s: %s", path, strerror(errno));
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

static int load_owner(struct nfs4_recovery *r)
{
	char path[4200], random_part[17];
	uint64_t rnd = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/server_owner", r->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, r->server_owner, sizeof(r->server_owner) - 1);
		close(fd);
		if (n > 0) {
			r->server_owner[n] = '\0';
			return 0;
		}
	}
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
			rnd = 0;
		close(fd);
	}
	if (!rnd)
		rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	snprintf(random_part, sizeof(random_part), "%016llx", (unsigned long long)rnd);
	snprintf(r->server_owner, sizeof(r->server_owner), "daxnfs-%s", random_part);
	return write_durable(r->dir, path, r->server_owner, strlen(r->server_owner));
}

static struct nfs4_prev_client *prev_find(struct nfs4_recovery *r, const uint8_t *owner,
					 uint32_t len);

static int load_clients(struct nfs4_recovery *r)
{
	DIR *d = opendir(r->clients_dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[4500];
		struct nfs4_prev_client *grown, *pc;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		if (strstr(e->d_name, ".tmp")) {
			record_unlink(r, e->d_name);   /* a record whose write did not finish */
			continue;
		}
		grown = realloc(r->prev, (r->n_prev + 1) * sizeof(*r->prev));
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		r->prev = grown;
		pc = &r->prev[r->n_prev];
		memset(pc, 0, sizeof(*pc));
		record_path(r, e->d_name, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_warn("nfs4", "cannot read client record %s: %s", path, strerror(errno));
			continue;
		}
		n = read(fd, pc->owner, sizeof(pc->owner));
		if (n < 0)
			log_warn("nfs4", "cannot read client record %s: %s", path, strerror(errno));
		close(fd);
		if (n <= 0)
			continue;
		pc->len = (uint32_t)n;
		if (prev_find(r, pc->owner, pc->len)) {
			/* The same owner twice (an old name and a new one): one
			 * client, and one RECLAIM_COMPLETE must account for it. */
			log_info("nfs4", "client record %s repeats another one: removed", path);
			record_unlink(r, e->d_name);
			continue;
		}
		snprintf(pc->file, sizeof(pc->file), "%s", e->d_name);
		r->n_prev++;
	}
	closedir(d);
	return rc;
}

int nfs4_recovery_init(struct nfs4_recovery *r, const char *dir)
{
	int rc;

	if (!dir || !*dir)
		return -EINVAL;
	pthread_mutex_init(&r->lock, NULL);
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->clients_dir, sizeof(r->clients_dir), "%s/clients", dir);
	r->grace_over = false;
	rc = mkdir_p(r->clients_dir);
	if (rc == 0)
		rc = load_owner(r);
	if (rc == 0)
		rc = load_clients(r);
	if (rc < 0) {
		log_err("nfs4", "recovery directory %s: %s", dir, strerror(-rc));
		/* nothing of it stays: the caller does not shut it down */
		free(r->prev);
		r->prev = NULL;
		r->n_prev = 0;
		pthread_mutex_destroy(&r->lock);
		return rc;
	}
	log_info("nfs4", "recovery directory %s: %u client record(s)", dir, r->n_prev);
	return 0;
}

void nfs4_recovery_shutdown(struct nfs4_recovery *r)
{
	pthread_mutex_lock(&r->lock);
	free(r->prev);
	r->prev = NULL;
	r->n_prev = 0;
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_destroy(&r->lock);
}

static struct nfs4_prev_client *prev_find(struct nfs4_recovery *r, const uint8_t *owner,
					 uint32_t len)
{
	unsigned i;

	for (i = 0; i < r->n_prev; i++)
		if (r->prev[i].len == len && memcmp(r->prev[i].owner, owner, len) == 0)
			return &r->prev[i];
	return NULL;
}

int nfs4_recovery_add(struct nfs4_recovery *r, const struct nfs4_client *clp)
{
	char base[2 * RECORD_HASH_BYTES + 1], path[4500];
	struct nfs4_prev_client *pc;
	int rc;

	pthread_mutex_lock(&r->lock);
	record_base(clp->owner_id.val, clp->owner_id.len, base);
	record_path(r, base, path, sizeof(path));
	rc = write_durable(r->clients_dir, path, clp->owner_id.val, clp->owner_id.len);
	pc = prev_find(r, clp->owner_id.val, clp->owner_id.len);
	if (rc == 0 && pc) {
		pc->rewritten = true;
		if (strcmp(pc->file, base) != 0) {
			/* loaded under an older name: the new record replaces it */
			record_unlink(r, pc->file);
			snprintf(pc->file, sizeof(pc->file), "%s", base);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void nfs4_recovery_remove(struct nfs4_recovery *r, const struct nfs4_client *clp)
{
	char base[2 * RECORD_HASH_BYTES + 1];
	struct nfs4_prev_client *pc;

	pthread_mutex_lock(&r->lock);
	record_base(clp->owner_id.val, clp->owner_id.len, base);
	record_unlink(r, base);
	pc = prev_find(r, clp->owner_id.val, clp->owner_id.len);
	if (pc) {
		if (strcmp(pc->file, base) != 0)
			record_unlink(r, pc->file);
		pc->rewritten = false;
	}
	pthread_mutex_unlock(&r->lock);
}

bool nfs4_recovery_was_known(struct nfs4_recovery *r, const struct xdr_opaque *owner)
{
	bool known;

	pthread_mutex_lock(&r->lock);
	known = !r->grace_over && prev_find(r, owner->val, owner->len) != NULL;
	pthread_mutex_unlock(&r->lock);
	return known;
}

unsigned nfs4_recovery_reclaimed(struct nfs4_recovery *r, const struct xdr_opaque *owner)
{
	struct nfs4_prev_client *pc;
	unsigned i, left = 0;

	pthread_mutex_lock(&r->lock);
	pc = prev_find(r, owner->val, owner->len);
	if (pc)
		pc->reclaimed = true;
	for (i = 0; i < r->n_prev; i++)
		left += !r->prev[i].reclaimed;
	pthread_mutex_unlock(&r->lock);
	return left;
}

unsigned nfs4_recovery_previous_count(const struct nfs4_recovery *r)
{
	return r->n_prev;
}

void nfs4_recovery_end_grace(struct nfs4_recovery *r)
{
	unsigned i;

	pthread_mutex_lock(&r->lock);
	r->grace_over = true;
	for (i = 0; i < r->n_prev; i++)
		if (!r->prev[i].rewritten)
			record_unlink(r, r->prev[i].file);   /* never came back: it cannot reclaim any more */
	pthread_mutex_unlock(&r->lock);
}

const char *nfs4_server_owner(const struct nfs4_recovery *r)
{
	return r->server_owner;
}
