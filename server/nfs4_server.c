/*
 * server/nfs4_server.c: bring-up, periodic work and tear-down of the NFSv4
 * state: the state lock, boot epoch, write verifier, lease and grace times,
 * stable records, the lease manager, the callback engine, and program
 * 100003 registration.
 *
 * The boot epoch goes into every clientid, sessionid and stateid "other", so
 * nothing a previous instance handed out matches in this one; it is random
 * (not the start time) so that a restart within the same second still gets
 * a new one. The write verifier is derived from the start time and random
 * bits and changes at every start (RFC 8881 §18.32.3).
 * Calls: nfs4_recovery.c, nfs4_grace.c, nfs4_client.c, nfs4_callback.c,
 * nfs4_copy.c,
 * nfs4_compound.c. Called by: server/main.c.
 */
#include "server/nfs4_server.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "conf/log.h"
#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_fh_mac.h"
#include "server/nfs4_file_lease.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_recovery.h"
#include "server/nfs4_session.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t lease_seconds = 90;
static uint32_t grace_seconds = 90;
static uint32_t boot_epoch;
static verifier4 write_verf;
static struct conf_state_limits state_limits = {
	.max_clients = 4096, .max_sessions_per_client = 16,
	.max_owners_per_client = 4096, .max_stateids_per_client = 65536,
	.max_delegations = 100000,
};
static bool started;

const struct conf_state_limits *nfs4_state_limits(void)
{
	return &state_limits;
}

void nfs4_state_lock(void)
{
	pthread_mutex_lock(&state_lock);
}

void nfs4_state_unlock(void)
{
	pthread_mutex_unlock(&state_lock);
}

int nfs4_state_wait(pthread_cond_t *cond, const struct timespec *deadline)
{
	return pthread_cond_timedwait(cond, &state_lock, deadline);
}

uint32_t nfs4_lease_time(void)
{
	return lease_seconds;
}

uint32_t nfs4_grace_time(void)
{
	return grace_seconds;
}

uint32_t nfs4_boot_epoch(void)
{
	return boot_epoch;
}

void nfs4_write_verifier(verifier4 out)
{
	memcpy(out, write_verf, sizeof(verifier4));
}

static void make_identity(void)
{
	uint32_t rnd[2] = { 0, 0 };
	uint32_t now = (uint32_t)time(NULL);
	int i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd[0] = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
		rnd[1] = (uint32_t)ts.tv_sec * 2654435761u;
	}
	boot_epoch = rnd[0] ? rnd[0] : now;
	for (i = 0; i < 4; i++) {
		write_verf[i] = (uint8_t)(now >> (24 - 8 * i));
		write_verf[4 + i] = (uint8_t)(rnd[1] >> (24 - 8 * i));
	}
}

int nfs4_server_init(const struct daxnfs_config *cfg, struct metrics *m)
{
	int rc;

	lease_seconds = cfg->lease_lifetime ? cfg->lease_lifetime : 90;
	grace_seconds = cfg->grace_period;
	if (cfg->state.max_clients)   /* a config from conf_load always has them */
		state_limits = cfg->state;
	nfs4_deleg_set_options(&(struct nfs4_deleg_options){
		.timestamps = cfg->deleg_timestamps,
		.open_xor = cfg->open_xor_delegation,
	});
	nfs4_copy_set_options(&(struct nfs4_copy_options){
		.max_async = cfg->max_async_copies,
		.max_async_per_client = cfg->max_async_copies_per_client,
		.max_rate_mib = cfg->async_copy_max_rate,
	});
	make_identity();
	rc = nfs4_fh_mac_init(cfg->recovery_dir);
	if (rc < 0)
		return rc;
	rc = nfs4_recovery_init(cfg->recovery_dir);
	if (rc < 0)
		return rc;
	nfs4_grace_start(grace_seconds, nfs4_recovery_previous_count());
	rc = nfs4_file_lease_start(cfg->recall_timeout);
	if (rc < 0)
		goto fail;
	rc = nfs4_cb_init();
	if (rc < 0) {
		log_err("nfs4", "cannot start the callback engine: %s", strerror(-rc));
		nfs4_file_lease_stop();
		goto fail;
	}
	rc = nfs4_program_register(m);
	if (rc < 0) {
		log_err("nfs4", "cannot register program 100003 v4: %s", strerror(-rc));
		nfs4_cb_shutdown();
		nfs4_file_lease_stop();
		goto fail;
	}
	started = true;
	log_info("nfs4", "NFSv4.1 server: lease %u s, grace %u s, server owner %s",
		 lease_seconds, grace_seconds, nfs4_server_owner());
	return 0;
fail:
	nfs4_recovery_shutdown();
	return rc;
}

void nfs4_server_tick(void)
{
	time_t now = nfs4_now();

	nfs4_state_lock();
	nfs4_clients_expire(now);
	nfs4_grace_tick(now);
	nfs4_copy_reap();
	nfs4_state_unlock();
}

void nfs4_server_status(char *buf, size_t len)
{
	unsigned n;

	nfs4_state_lock();
	n = nfs4_client_count();
	nfs4_state_unlock();
	snprintf(buf, len, "%s; %u client%s", nfs4_in_grace() ? "in grace" : "grace over", n,
		 n == 1 ? "" : "s");
}

void nfs4_server_shutdown(void)
{
	struct nfs4_deleg_stats ds;
	struct nfs4_copy_stats cs;

	if (!started)
		return;
	nfs4_cb_shutdown();
	nfs4_state_lock();
	nfs4_deleg_stats(&ds);
	log_info("nfs4", "delegations: %llu granted, %llu returned, %llu recalled, %llu revoked; "
		 "%llu with delegated timestamps (%llu SETATTRs of them), %llu OPENs without "
		 "an open stateid",
		 (unsigned long long)ds.granted, (unsigned long long)ds.returned,
		 (unsigned long long)ds.recalls, (unsigned long long)ds.revoked,
		 (unsigned long long)ds.granted_timestamps, (unsigned long long)ds.times_set,
		 (unsigned long long)ds.open_xor);
	nfs4_clients_shutdown();
	nfs4_copy_shutdown();
	nfs4_copy_stats(&cs);
	log_info("nfs4", "asynchronous copies: %llu started, %llu completed, %llu cancelled, "
		 "%llu refused at the limits; %llu CB_OFFLOADs answered",
		 (unsigned long long)cs.started, (unsigned long long)cs.completed,
		 (unsigned long long)cs.cancelled, (unsigned long long)cs.refused,
		 (unsigned long long)cs.callbacks_answered);
	nfs4_stids_shutdown();
	nfs4_state_unlock();
	nfs4_file_lease_stop();
	nfs4_recovery_shutdown();
	started = false;
}
