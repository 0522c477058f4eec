/*
 * server/nfs4_instance.h: struct nfs4_server, the object one running NFSv4
 * server is: its constants for this start (boot epoch, write verifier, lease
 * and grace times, the NFSV4 limits), the metrics block its COMPOUNDs count
 * into, its tables (clients, sessions, stateids, files, open- and
 * lock-owners), grace, the stable records, the delegation bookkeeping, the
 * asynchronous copies, the callback engine and the READDIR cookies issued.
 *
 * Who reaches it how (as knfsd reaches struct nfsd_net from a client's
 * cl_net): main owns it (nfs4_server_init makes it, nfs4_server_shutdown
 * frees it); every COMPOUND carries it (c->srv, from the RPC program's
 * context); every client record points to it (clp->srv), so whatever holds
 * a client, a session or a stateid finds the server from there. Nothing
 * reaches it through a global.
 * State still outside it (in file-scope variables of their modules, each to
 * move here in its own step of the state core, docs/decisions/0007): the
 * state lock, the export tables, the handle MAC key (nfs4_fh_mac.c), the
 * hash-table key (nfs4_htable.c); and the lease manager of pmem/ is one per
 * process, with this server as its one subscriber (nfs4_file_lease.c).
 * Calls: nothing. Called by: server/ (the session core and the handlers).
 */
#ifndef DAXNFS_SERVER_NFS4_INSTANCE_H
#define DAXNFS_SERVER_NFS4_INSTANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "rpc/nfs4_xdr_gen.h"
#include "server/list.h"
#include "server/nfs4_copy.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_file.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_htable.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_recovery.h"
#include "server/nfs4_state.h"

struct metrics;
struct nfs4_cb_engine;

/* Buckets of the owner tables: many owners per client (one per process
 * that opens, one per lock owner) and many clients. */
#define NFS4_OWNER_BUCKETS 65536u

/* One line a minute per limit: a flood must not become a flood of logs. */
#define NFS4_LIMIT_LOG_KEYS 8

struct nfs4_limit_log_entry {
	const char *key;          /* the config key of the limit; NULL: unused */
	time_t last;              /* the last report (CLOCK_MONOTONIC seconds) */
	unsigned refused;         /* since the last report */
	uint64_t total;           /* every refusal, for the metrics */
};

/* Clients by clientid and by co_ownerid, sessions by sessionid (keyed hash
 * tables, nfs4_client.c), and lists of both for the walks of the tick. */
#define NFS4_SESSION_LOCK_STRIPES 64u
struct nfs4_client_table {
	struct list_node clients;                 /* struct nfs4_client.node */
	struct list_node sessions;                /* struct nfs4_session.node */
	struct nfs4_htable by_id, by_owner, sessions_by_id;
	/* sessions_by_id's chains, by hash % stripes: SEQUENCE's lookup takes
	 * one; a change takes the state lock and one (nfs4_client.c) */
	pthread_mutex_t session_locks[NFS4_SESSION_LOCK_STRIPES];
	unsigned nclients;
	struct nfs4_limit_log_entry limit_log[NFS4_LIMIT_LOG_KEYS];
};

/* The last cookie of recent READDIR replies, by directory (nfs4_readdir.c):
 * direct-mapped, a newer entry replaces an older one in its slot (which then
 * takes the slow check); 64 KiB. Its own lock. */
#define NFS4_READDIR_ISSUED_SLOTS 4096u
struct nfs4_issued_cookie {
	uint64_t dir;             /* hash of the directory's file handle; 0 = free */
	uint64_t cookie;
};
struct nfs4_readdir_issued {
	pthread_mutex_t lock;
	struct nfs4_issued_cookie slots[NFS4_READDIR_ISSUED_SLOTS];
};

struct nfs4_server {
	uint32_t lease_seconds;                   /* NFSV4 Lease_Lifetime */
	uint32_t grace_seconds;                   /* NFSV4 Grace_Period */
	/* Random, in every clientid, sessionid and stateid "other", so that
	 * nothing a previous instance handed out matches in this one. */
	uint32_t boot_epoch;
	verifier4 write_verf;                     /* changes at every start */
	struct conf_state_limits limits;          /* the NFSV4 Max_* keys */
	struct metrics *metrics;                  /* NULL: not counted */
	struct nfs4_client_table clients;
	struct nfs4_stid_table stids;
	struct nfs4_file_table files;
	/* open- and lock-owners of every client, by (clientid, owner bytes);
	 * made at the first owner */
	struct nfs4_htable openowners, lockowners;
	struct nfs4_delegations delegs;
	struct nfs4_copies copies;
	struct nfs4_cb_engine *cb_engine;          /* nfs4_callback.c; NULL when stopped */
	struct nfs4_readdir_issued readdir_issued;
	struct nfs4_grace grace;
	struct nfs4_recovery recovery;
	struct nfs4_pnfs pnfs;                     /* nfs4_layout.c; off unless Enable_pNFS */
};

#endif
