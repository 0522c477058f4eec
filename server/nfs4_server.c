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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "server/nfs4_instance.h"
#include "server/nfs4_recovery.h"
#include "server/nfs4_session.h"

/* The one lock of all NFSv4 state until the state core's lock step
 * (docs/decisions/0007) gives clients and files their own. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

/* What a configuration that does not come from conf_load (the fuzzers')
 * gets: conf_load always sets every limit. */
static const struct conf_state_limits default_limits = {
	.max_clients = 4096, .max_sessions_per_client = 16,
	.max_owners_per_client = 4096, .max_stateids_per_client = 65536,
	.max_delegations = 100000,
};

void nfs4_state_lock(void)
{
	pthread_mutex_lock(&state_lock);
}

void nfs4_state_unlock(void)
{
	pthread_mutex_unlock(&state_lock);
}

int nfs4_monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);

	if (rc != 0)
		return rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

int nfs4_state_wait(pthread_cond_t *cond, const struct timespec *deadline)
{
	return pthread_cond_timedwait(cond, &state_lock, deadline);
}

void nfs4_write_verifier(const struct nfs4_server *srv, verifier4 out)
{
	memcpy(out, srv->write_verf, sizeof(verifier4));
}

static void make_identity(struct nfs4_server *srv)
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
	srv->boot_epoch = rnd[0] ? rnd[0] : now;
	for (i = 0; i < 4; i++) {
		srv->write_verf[i] = (uint8_t)(now >> (24 - 8 * i));
		srv->write_verf[4 + i] = (uint8_t)(rnd[1] >> (24 - 8 * i));
	}
}

/* Frees the tables, locks and bookkeeping nfs4_server_init made, and srv. */
static void server_free(struct nfs4_server *srv)
{
	nfs4_client_table_free(&srv->clients);
	nfs4_htable_free(&srv->openowners);
	nfs4_htable_free(&srv->lockowners);
	nfs4_delegations_destroy(&srv->delegs);
	pthread_mutex_destroy(&srv->readdir_issued.lock);
	free(srv);
}

int nfs4_server_init(const struct daxnfs_config *cfg, struct metrics *m,
		     struct nfs4_server **out)
{
	struct nfs4_server *srv = calloc(1, sizeof(*srv));
	int rc;

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	rc = nfs4_client_table_init(&srv->clients);
	if (rc < 0) {
		free(srv);
		return rc;
	}
	pthread_mutex_init(&srv->readdir_issued.lock, NULL);
	rc = nfs4_delegations_init(&srv->delegs);
	if (rc < 0) {
		pthread_mutex_destroy(&srv->readdir_issued.lock);
		nfs4_client_table_free(&srv->clients);
		free(srv);
		return rc;
	}
	srv->metrics = m;
	srv->lease_seconds = cfg->lease_lifetime ? cfg->lease_lifetime : 90;
	srv->grace_seconds = cfg->grace_period;
	srv->limits = cfg->state.max_clients ? cfg->state : default_limits;
	nfs4_deleg_set_options(srv, &(struct nfs4_deleg_options){
		.timestamps = cfg->deleg_timestamps,
		.open_xor = cfg->open_xor_delegation,
	});
	nfs4_copies_init(&srv->copies);
	nfs4_copy_set_options(srv, &(struct nfs4_copy_options){
		.max_async = cfg->max_async_copies,
		.max_async_per_client = cfg->max_async_copies_per_client,
		.max_rate_mib = cfg->async_copy_max_rate,
	});
	make_identity(srv);
	rc = nfs4_fh_mac_init(cfg->recovery_dir);
	if (rc < 0)
		goto fail_tables;
	rc = nfs4_recovery_init(&srv->recovery, cfg->recovery_dir);
	if (rc < 0)
		goto fail_tables;
	nfs4_grace_start(srv, nfs4_recovery_previous_count(&srv->recovery));
	rc = nfs4_file_lease_start(srv, cfg->recall_timeout);
	if (rc < 0)
		goto fail;
	rc = nfs4_pnfs_init(srv, cfg);
	if (rc < 0) {
		nfs4_file_lease_stop();
		goto fail;
	}
	rc = nfs4_cb_init(srv);
	if (rc < 0) {
		log_err("nfs4", "cannot start the callback engine: %s", strerror(-rc));
		nfs4_file_lease_stop();
		goto fail;
	}
	rc = nfs4_program_register(srv);
	if (rc < 0) {
		log_err("nfs4", "cannot register program 100003 v4: %s", strerror(-rc));
		nfs4_cb_shutdown(srv);
		nfs4_file_lease_stop();
		goto fail;
	}
	log_info("nfs4", "NFSv4.1 server: lease %u s, grace %u s, server owner %s",
		 srv->lease_seconds, srv->grace_seconds, nfs4_server_owner(&srv->recovery));
	*out = srv;
	return 0;
fail:
	nfs4_recovery_shutdown(&srv->recovery);
fail_tables:
	server_free(srv);
	return rc;
}

void nfs4_server_tick(struct nfs4_server *srv)
{
	time_t now = nfs4_now();

	nfs4_state_lock();
	nfs4_clients_expire(srv, now);
	nfs4_grace_tick(srv, now);
	nfs4_copy_reap(srv);
	nfs4_state_unlock();
}

void nfs4_server_status(const struct nfs4_server *srv, char *buf, size_t len)
{
	unsigned n;

	nfs4_state_lock();
	n = nfs4_client_count(srv);
	nfs4_state_unlock();
	snprintf(buf, len, "%s; %u client%s", nfs4_in_grace(srv) ? "in grace" : "grace over", n,
		 n == 1 ? "" : "s");
}

void nfs4_server_shutdown(struct nfs4_server *srv)
{
	struct nfs4_deleg_stats ds;
	struct nfs4_copy_stats cs;
	unsigned copy_workers_left;

	if (!srv)
		return;
	nfs4_cb_shutdown(srv);
	nfs4_state_lock();
	nfs4_deleg_stats(srv, &ds);
	log_info("nfs4", "delegations: %llu granted, %llu returned, %llu recalled, %llu revoked; "
		 "%llu with delegated timestamps (%llu SETATTRs of them), %llu OPENs without "
		 "an open stateid",
		 (unsigned long long)ds.granted, (unsigned long long)ds.returned,
		 (unsigned long long)ds.recalls, (unsigned long long)ds.revoked,
		 (unsigned long long)ds.granted_timestamps, (unsigned long long)ds.times_set,
		 (unsigned long long)ds.open_xor);
	nfs4_pnfs_log(srv);
	nfs4_clients_shutdown(srv);
	copy_workers_left = nfs4_copy_shutdown(srv);
	nfs4_copy_stats(srv, &cs);
	log_info("nfs4", "asynchronous copies: %llu started, %llu completed, %llu cancelled, "
		 "%llu refused at the limits; %llu CB_OFFLOADs answered",
		 (unsigned long long)cs.started, (unsigned long long)cs.completed,
		 (unsigned long long)cs.cancelled, (unsigned long long)cs.refused,
		 (unsigned long long)cs.callbacks_answered);
	nfs4_stids_shutdown(srv);
	nfs4_state_unlock();
	nfs4_file_lease_stop();
	nfs4_recovery_shutdown(&srv->recovery);
	/* A copy worker that did not stop still reaches the server: it is
	 * left for the process's exit rather than freed under it. */
	if (copy_workers_left)
		return;
	server_free(srv);
}
