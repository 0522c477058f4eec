/*
 * conf/conf.h: the daemon's configuration.
 *
 * Job: parse a Ganesha-style block config file into struct daxnfs_config,
 * fill defaults, validate, and report every error as "FILE:LINE: key 'K': why".
 * With no file, the embedded default config (conf/default_config.c) is parsed
 * through the same path, so the default is proven by the same code.
 *
 *   NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 2049; Threads = 8;
 *                    Max_Record_Size = 1048576; Max_Connections = 4096;
 *                    Record_Timeout = 30; Idle_Unbound_Timeout = 120;
 *                    Max_Partial_Record_Bytes = 256M; }
 *   NFSV4 { Lease_Lifetime = 90; Grace_Period = 90; Recovery_Dir = "/var/lib/daxnfs";
 *           Domain = "localdomain"; }
 *   LOG { Level = info; Destination = stderr; }
 *   EXPORT { Export_Id = 1; Path = /srv/pmem; Pseudo = /; Access_Type = RW;
 *            Squash = none; }
 *
 * The connection limits of the configuration loaded last are kept for the
 * TCP transport, which reads them when it starts listening
 * (conf_conn_limits_current): the daemon loads one configuration.
 * Calls: libc, conf/log. Called by: server/main.c, rpc/xprt_tcp_guard.c, tests.
 */
#ifndef DAXNFS_CONF_CONF_H
#define DAXNFS_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_EXPORTS 64

enum conf_access { CONF_ACCESS_RW = 0, CONF_ACCESS_RO, CONF_ACCESS_NONE };
enum conf_squash { CONF_SQUASH_NONE = 0, CONF_SQUASH_ROOT, CONF_SQUASH_ALL };

struct conf_export {
	uint16_t export_id;
	char path[4096];      /* local directory */
	char pseudo[1024];    /* place in the NFSv4 pseudo file system, "/" or "/a/b" */
	enum conf_access access;
	enum conf_squash squash;
	uint32_t anon_uid, anon_gid;
	unsigned src_line;    /* where it was defined, for later messages */
};

/* NFS_CORE_PARAM's limits on connections (docs/security.md). */
struct conf_conn_limits {
	uint32_t max_connections;          /* open at once; more are refused */
	uint32_t record_timeout;           /* s from a record's first byte to its end */
	uint32_t idle_unbound_timeout;     /* s of silence before a sessionless connection closes */
	uint64_t max_partial_record_bytes; /* bytes all unfinished records may hold */
};

/* Bounds on what clients may make the server hold (NFSV4 block). */
struct conf_state_limits {
	uint32_t max_clients;             /* client records, confirmed or not */
	uint32_t max_sessions_per_client;
	uint32_t max_owners_per_client;   /* open-owners and lock-owners together */
	uint32_t max_stateids_per_client; /* open, lock, delegation, layout stateids */
	uint32_t max_delegations;         /* outstanding in the whole server */
};

struct daxnfs_config {
	char source[4096];            /* file name, or "<embedded default>" */
	/* NFS_CORE_PARAM */
	char bind_addr[64];
	uint16_t nfs_port;
	unsigned threads;
	uint32_t max_record_size;     /* largest RPC record accepted, bytes */
	struct conf_conn_limits conn;
	bool rpcbind_register;        /* register with the local rpcbind (default on) */
	bool enable_rdma;             /* listen for RPC-over-RDMA too (default off) */
	char admin_socket[256];       /* daxnfsctl's socket (server/nfs4_admin.h) */
	uint16_t nfs_rdma_port;
	/* NFSV4 */
	uint32_t lease_lifetime;      /* seconds */
	uint32_t grace_period;        /* seconds */
	char recovery_dir[4096];      /* stable client records; "" = beside the state of the first export? no: required */
	char domain[256];             /* owner@domain */
	struct conf_state_limits state;   /* NFSV4 Max_* (docs/security.md) */
	uint32_t recall_timeout;      /* seconds a client has to return recalled state; 0 = choose */
	bool deleg_timestamps;        /* offer RFC 9754 delegated timestamps (default off) */
	bool open_xor_delegation;     /* honour RFC 9754 OPEN_XOR_DELEGATION (default off) */
	bool enable_pnfs;             /* pNFS metadata and data server, flex files (default off) */
	uint32_t revoke_margin_ms;    /* layouts revoked this long before a lease break ends */
	uint32_t max_async_copies;    /* asynchronous COPYs running at once (0: none) */
	uint32_t max_async_copies_per_client;
	uint32_t async_copy_max_rate; /* MiB/s of one asynchronous copy, 0 = unlimited */
	/* METRICS (off unless the block is given) */
	bool metrics_on;
	char metrics_addr[64];        /* default 127.0.0.1 */
	uint16_t metrics_port;        /* default 9740; 0: any free port (logged) */
	/* LOG */
	char log_level[16];
	char log_destination[16];
	/* EXPORT blocks */
	struct conf_export exports[CONF_MAX_EXPORTS];
	unsigned n_exports;
};

/*
 * Parses path (or the embedded default when path is NULL). On error returns
 * -EINVAL (or -errno for I/O) and writes one line "FILE:LINE: key 'K': reason"
 * into err. base_dir, when non-NULL, replaces the token @BASE@ in string values
 * (the embedded default exports @BASE@/export; main passes the build tree).
 */
int conf_load(const char *path, const char *base_dir, struct daxnfs_config *cfg,
	      char *err, size_t errlen);
/* The connection limits the TCP transport takes when it starts listening:
 * what main published from the configuration it started with (a reload's
 * configuration does not change them), else the defaults. Thread-safe. */
void conf_conn_limits_publish(const struct conf_conn_limits *c);
void conf_conn_limits_current(struct conf_conn_limits *out);
/*
 * One key of the parser's own table, described for people: the man page
 * daxnfs.conf(5) is generated from these (conf/conf_keys_roff.c), and
 * unit.test_conf_keys checks docs/admin-guide.md against them, so that the
 * parser and what is written about it cannot drift. `x` in the texts marks
 * a literal.
 */
struct conf_key_info {
	const char *block;        /* NFS_CORE_PARAM, NFSV4, LOG, METRICS, EXPORT */
	const char *name;
	const char *doc;          /* what the key does */
	const char *unit;         /* "s", "MiB/s", or NULL */
	bool required;
	char allowed[160];        /* the values the parser accepts */
	char def[160];            /* the default as a config would spell it; "" if required */
};
/* Key i, counting from 0 over the blocks in order; 0, -ENOENT past the
 * last key, -ENOMEM. */
int conf_key_describe(unsigned i, struct conf_key_info *out);

/* fn(block, key) for every key outside the EXPORT blocks whose value
 * differs between a and b (what a reload cannot apply is logged with it). */
void conf_changed_keys(const struct daxnfs_config *a, const struct daxnfs_config *b,
		       void (*fn)(const char *block, const char *key, void *ctx), void *ctx);

/* The embedded default config text. */
extern const char conf_default_text[];

#endif
