/*
 * server/main.c: the daxnfsd daemon.
 *
 *   daxnfsd [-f config] [-b base_dir] [-l level] [-p port] [-h]
 *
 * Job: read the config (errors: message, exit 2), set up logging, block the
 * signals that are read through descriptors (the lease signal; SIGINT,
 * SIGTERM and SIGHUP through a signalfd in the event loop, never a
 * handler; SIGHUP reloads the configuration), bring up
 * exports, drop the capabilities it does not need (nfs4_privileges.c),
 * bring up the NFSv4 server, the worker pool and the TCP transport, register
 * program 100003 version 4 with the local rpcbind (Rpcbind_Register), the
 * metrics endpoint when the METRICS block asks for it, tell
 * systemd READY=1 (service_notify.c; watchdog pings and STATUS from the
 * tick), run the loop, and on SIGINT/SIGTERM take everything down in
 * reverse order so that nothing is left allocated. The base directory (the @BASE@ of the embedded
 * default config) is -b, else the directory above the one holding the
 * binary: build/ for build/server/daxnfsd, so scripts/run.sh serves
 * build/export.
 * Calls: conf/, rpc/, rpc/rpcbind, pmem/lease, server/nfs4_server,
 * server/nfs4_privileges, server/service_notify, server/metrics*,
 * server/nfs4_metrics.
 * Called by: the admin.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "pmem/lease.h"
#include "rdma/rdma_xprt.h"
#include "rpc/rpc.h"
#include "rpc/rpcbind/rpcb.h"
#include "rpc/svc.h"
#include "rpc/xprt_tcp.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/nfs4_admin.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_compound.h"
#include "server/nfs4_metrics.h"
#include "server/nfs4_privileges.h"
#include "server/nfs4_server.h"
#include "server/service_notify.h"

#ifndef DAXNFS_VERSION   /* from the project() of CMakeLists.txt */
#define DAXNFS_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: daxnfsd [-f config] [-b base_dir] [-l level] [-p port] [-h]\n"
		"  -f config    configuration file (default: the embedded default config)\n"
		"  -b base_dir  replaces @BASE@ in the config (default: the directory above\n"
		"               the one holding this binary, e.g. build/ for build/server/daxnfsd)\n"
		"  -l level     log level: error, warn, info, debug, trace (overrides LOG.Level)\n"
		"  -p port      TCP port (overrides NFS_CORE_PARAM.NFS_Port; 0 = any free port)\n"
		"  -h           this help\n");
}

/* The directory above the one holding /proc/self/exe. */
static int default_base_dir(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int i;

	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	for (i = 0; i < 2; i++) {
		slash = strrchr(exe, '/');
		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	if (!exe[0])
		strcpy(exe, "/");
	if (strlen(exe) >= len)
		return -ENAMETOOLONG;
	strcpy(out, exe);
	return 0;
}

/* The STATUS line: what it serves (160), the server's state (96), a refused
 * reload's note (43), separators: room for all of it, so none is cut. */
#define STATUS_LINE_MAX 320

struct main_ctx {
	struct rpc_svc *svc;
	int sigfd;
	struct service_notify notify;
	char serving[160];             /* the first part of the STATUS line */
	/* for a reload (SIGHUP): where the config came from, what the command
	 * line overrides, and the configuration running now */
	const char *conf_path;         /* NULL: the embedded default */
	const char *base;
	long port_override;            /* -p, or -1 */
	bool level_override;           /* -l given: the config's Level is not used */
	struct daxnfs_config *cfg;
	bool last_reload_refused;      /* shown in the STATUS line */
	/* the NFSv4 gauges a scrape reads, taken by the tick (METRICS only) */
	struct nfs4_metrics_snapshot *snapshot;
	struct nfs4_server *srv;       /* the NFSv4 server (NULL until it is up) */
};

/* The STATUS line for systemd: what it serves, grace, clients. */
static void status_line(const struct main_ctx *m, char *out, size_t cap)
{
	char state[96];

	nfs4_server_status(m->srv, state, sizeof(state));
	snprintf(out, cap, "%s; %s%s", m->serving, state,
		 m->last_reload_refused ? "; the last reload was refused (see the log)" : "");
}

static void log_unapplied_key(const char *block, const char *key, void *ctx)
{
	(void)ctx;
	if (strcmp(block, "LOG") == 0)
		return;   /* applied */
	log_warn("main", "reload: %s %s changed: it takes effect at the next start", block, key);
}

/* SIGHUP: the configuration read again and applied where it can be, whole
 * or not at all: exports (added, changed, removed; nfs4_exports_reload) and
 * the LOG block now; every other changed key is logged as waiting for a
 * restart. A configuration with an error is refused, FILE:LINE logged, and
 * the running one stays. */
static void reload(struct main_ctx *m)
{
	struct daxnfs_config *n = malloc(sizeof(*n));
	struct nfs4_exports_change chg;
	char err[1024], line[STATUS_LINE_MAX];
	enum log_level lvl;
	int rc;

	service_notify_reloading(&m->notify);
	m->last_reload_refused = true;   /* until it is applied */
	if (!n) {
		log_err("main", "reload refused: out of memory; the running configuration stays");
		goto out;
	}
	rc = conf_load(m->conf_path, m->base, n, err, sizeof(err));
	if (rc < 0) {
		log_err("main", "reload refused, the running configuration stays: %s", err);
		goto out;
	}
	if (m->port_override >= 0)
		n->nfs_port = (uint16_t)m->port_override;
	rc = nfs4_exports_reload(n, &chg);
	if (rc < 0) {
		log_err("main", "reload refused (exports: %s); the running configuration stays",
			strerror(-rc));
		goto out;
	}
	if (!m->level_override && log_level_parse(n->log_level, &lvl) == 0) {
		if (strcmp(n->log_level, m->cfg->log_level) != 0)
			log_info("main", "reload: log level %s", n->log_level);
		log_set_level(lvl);
	}
	log_set_destination(n->log_destination);
	conf_changed_keys(m->cfg, n, log_unapplied_key, NULL);
	/* what runs now: the exports and LOG; every other key stays what the
	 * daemon started with, so a later reload reports it again */
	memcpy(m->cfg->exports, n->exports, sizeof(n->exports));
	m->cfg->n_exports = n->n_exports;
	memcpy(m->cfg->log_level, n->log_level, sizeof(n->log_level));
	memcpy(m->cfg->log_destination, n->log_destination, sizeof(n->log_destination));
	m->last_reload_refused = false;
	log_info("main", "reload of %s: exports %u added, %u changed, %u removed, %u unchanged",
		 n->source, chg.added, chg.changed, chg.removed, chg.unchanged);
out:
	free(n);
	if (m->notify.enabled) {
		status_line(m, line, sizeof(line));
		service_notify_ready(&m->notify, line);
	}
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct main_ctx *m = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("main", "signal %u (%s): reloading %s", si.ssi_signo,
				 strsignal((int)si.ssi_signo),
				 m->conf_path ? m->conf_path : "the embedded default configuration");
			reload(m);
			continue;
		}
		log_info("main", "signal %u (%s): shutting down", si.ssi_signo,
			 strsignal((int)si.ssi_signo));
		rpc_svc_stop(m->svc);
	}
}

static void on_lease_event(void *ctx, int fd, uint32_t events)
{
	int rc = pmem_lease_dispatch();

	if (rc < 0)
		log_warn("main", "lease events: %s", strerror(-rc));
}


/* The transport's figures for a scrape; ctx is the TCP listener. */
static void transport_collect(struct metrics_buf *b, void *ctx)
{
	struct rpc_tcp_stats s;

	rpc_tcp_listener_stats(ctx, &s);
	metrics_printf(b, "# HELP daxnfs_connections Connections open, by transport.\n"
			  "# TYPE daxnfs_connections gauge\n"
			  "daxnfs_connections{transport=\"tcp\"} %u\n"
			  "# HELP daxnfs_partial_record_bytes Bytes held by records not yet "
			  "received whole (bounded by Max_Partial_Record_Bytes).\n"
			  "# TYPE daxnfs_partial_record_bytes gauge\n"
			  "daxnfs_partial_record_bytes{transport=\"tcp\"} %llu\n",
		       s.connections, (unsigned long long)s.partial_record_bytes);
	metrics_printf(b, "# HELP daxnfs_connections_refused_total Connections not served, "
			  "by transport and reason.\n"
			  "# TYPE daxnfs_connections_refused_total counter\n"
			  "daxnfs_connections_refused_total{transport=\"tcp\",reason=\"max_connections\"} %llu\n"
			  "daxnfs_connections_refused_total{transport=\"tcp\",reason=\"accept_failed\"} %llu\n",
		       (unsigned long long)s.refused, (unsigned long long)s.accept_failed);
	metrics_printf(b, "# HELP daxnfs_connections_dropped_total Connections the server "
			  "closed, by transport and reason.\n"
			  "# TYPE daxnfs_connections_dropped_total counter\n"
			  "daxnfs_connections_dropped_total{transport=\"tcp\",reason=\"record_timeout\"} %llu\n"
			  "daxnfs_connections_dropped_total{transport=\"tcp\",reason=\"idle_unbound\"} %llu\n"
			  "daxnfs_connections_dropped_total{transport=\"tcp\",reason=\"partial_record_budget\"} %llu\n"
			  "daxnfs_connections_dropped_total{transport=\"tcp\",reason=\"oversize_record\"} %llu\n"
			  "daxnfs_connections_dropped_total{transport=\"tcp\",reason=\"no_memory\"} %llu\n",
		       (unsigned long long)s.record_timeouts, (unsigned long long)s.idle_unbound,
		       (unsigned long long)s.partial_budget, (unsigned long long)s.oversize,
		       (unsigned long long)s.no_memory);
}

static const char *metrics_op_name(unsigned op)
{
	return op < nfs4_op_table_len ? nfs4_op_table[op].name : NULL;
}

static const char *metrics_status_name(uint32_t st, char *buf, size_t cap)
{
	return nfs4_status_name((nfsstat4)st, buf, cap);
}

/* METRICS block: the registry the COMPOUND path counts into (before the
 * server starts); the endpoint comes up after the listener (metrics_serve),
 * whose collector is added then: the workers never read the collector
 * list, and the HTTP thread that does starts after it is complete. */
static int metrics_setup(const struct daxnfs_config *cfg, struct nfs4_metrics_snapshot *snap,
			 struct metrics **out)
{
	int rc;

	*out = NULL;
	if (!cfg->metrics_on)
		return 0;
	rc = metrics_create(metrics_op_name, metrics_status_name, out);
	if (rc == 0)
		rc = metrics_add_collector(*out, nfs4_metrics_collect, snap);
	if (rc < 0)
		log_err("main", "metrics: %s", strerror(-rc));
	return rc;
}

static int metrics_serve(const struct daxnfs_config *cfg, struct metrics *mx,
			 struct nfs4_metrics_snapshot *snap, struct nfs4_server *srv,
			 struct rpc_tcp_listener *tcp, struct metrics_http **out)
{
	int rc;

	*out = NULL;
	if (!mx)
		return 0;
	nfs4_metrics_snapshot_take(snap, srv);   /* the first scrape has the gauges */
	rc = metrics_add_collector(mx, transport_collect, tcp);
	if (rc == 0)
		rc = metrics_http_start(mx, cfg->metrics_addr, cfg->metrics_port, out);
	if (rc < 0) {
		/* NFS is served all the same: clients matter more than the
		 * window on them, and a scraper sees the target down. */
		log_err("main", "no metrics: cannot serve http://%s:%u/metrics (METRICS "
			"Metrics_Addr, Metrics_Port): %s", cfg->metrics_addr, cfg->metrics_port,
			strerror(-rc));
		return 0;
	}
	log_info("main", "metrics on http://%s%s%s:%u/metrics",
		 strchr(cfg->metrics_addr, ':') ? "[" : "", cfg->metrics_addr,
		 strchr(cfg->metrics_addr, ':') ? "]" : "", metrics_http_port(*out));
	return 0;
}

/* Program 100003 version 4 with the local rpcbind, for the listener's
 * address; a missing rpcbind is one line, not an error. */
static void rpcbind_register(const struct rpc_tcp_listener *tcp, struct rpc_rpcb_reg *reg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = rpc_tcp_listener_addr(tcp, &ss, &len);

	if (rc == 0)
		rc = rpc_rpcb_register(100003, 4, (struct sockaddr *)&ss, len, reg);
	if (rc == 0)
		log_info("main", "rpcbind: program 100003 version 4 registered for %s%s%s",
			 reg->tcp ? "tcp" : "", reg->tcp && reg->tcp6 ? " and " : "",
			 reg->tcp6 ? "tcp6" : "");
	else if (rc == -ENOENT)
		log_info("main", "rpcbind: none runs here (nothing accepts on /run/rpcbind.sock); "
			 "not registered");
	else
		log_warn("main", "rpcbind: program 100003 version 4 not registered: %s",
			 strerror(-rc));
}

static void on_tick(void *ctx)
{
	struct main_ctx *m = ctx;
	char line[STATUS_LINE_MAX];

	nfs4_server_tick(m->srv);
	nfs4_exports_trim();
	if (m->snapshot)
		nfs4_metrics_snapshot_take(m->snapshot, m->srv);
	if (m->notify.enabled) {
		status_line(m, line, sizeof(line));
		service_notify_tick(&m->notify, line);
	}
}

static void log_start(const struct daxnfs_config *cfg, uint16_t port)
{
	char exports[1024];
	size_t n = 0;
	unsigned i;

	exports[0] = '\0';
	for (i = 0; i < cfg->n_exports && n < sizeof(exports) - 1; i++)
		n += (size_t)snprintf(exports + n, sizeof(exports) - n, "%s%u:%s=%s",
				      i ? ", " : "", cfg->exports[i].export_id,
				      cfg->exports[i].pseudo, cfg->exports[i].path);
	log_info("main", "daxnfsd %s serving NFSv4.1/4.2 on tcp %s port %u; exports: %s; "
		 "lease %u s, grace %u s; %u threads, max record %u bytes; config %s",
		 DAXNFS_VERSION, cfg->bind_addr, port, exports, cfg->lease_lifetime,
		 cfg->grace_period, cfg->threads, cfg->max_record_size, cfg->source);
}

/* The RPC-over-RDMA listener, when Enable_RDMA asks for one. A host
 * without RDMA, or an address no RDMA device serves, leaves TCP alone
 * serving: said once, not an error. */
static struct rdma_listener *rdma_start(const struct daxnfs_config *cfg, struct rpc_svc *svc)
{
	struct rdma_listener *l = NULL;
	int rc;

	rc = rdma_listener_start(svc, cfg->bind_addr, cfg->nfs_rdma_port, cfg->max_record_size, &l);
	if (rc == -ENODEV) {
		log_warn("main", "Enable_RDMA: no RDMA device serves %s here: serving TCP only",
			 cfg->bind_addr);
		return NULL;
	}
	if (rc < 0) {
		log_err("main", "Enable_RDMA: cannot listen on %s RDMA port %u: %s: serving TCP only",
			cfg->bind_addr, cfg->nfs_rdma_port, strerror(-rc));
		return NULL;
	}
	log_info("main", "listening on %s RDMA port %u (RPC-over-RDMA version 1)", cfg->bind_addr,
		 cfg->nfs_rdma_port);
	return l;
}

int main(int argc, char **argv)
{
	static struct daxnfs_config cfg;   /* large: keep it off the stack */
	const char *conf_path = NULL, *level = NULL;
	char base[PATH_MAX], err[1024];
	struct rpc_tcp_listener *tcp = NULL;
	struct rdma_listener *rdma = NULL;
	struct rpc_rpcb_reg rpcb = { 0 };
	struct metrics *mx = NULL;
	struct metrics_http *mx_http = NULL;
	struct nfs4_admin *admin = NULL;
	struct nfs4_metrics_snapshot snapshot;
	struct main_ctx m = { .svc = NULL, .sigfd = -1 };
	bool exports_up = false, server_up = false, have_base = false;
	enum log_level lvl;
	long port = -1;
	char *end;
	sigset_t sigs;
	int opt, rc, status = 1, lfd;

	while ((opt = getopt(argc, argv, "f:b:l:p:h")) != -1) {
		switch (opt) {
		case 'f': conf_path = optarg; break;
		case 'b':
			if (snprintf(base, sizeof(base), "%s", optarg) >= (int)sizeof(base)) {
				fprintf(stderr, "daxnfsd: -b: path too long\n");
				return 2;
			}
			have_base = true;
			break;
		case 'l': level = optarg; break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || port < 0 || port > 65535) {
				fprintf(stderr, "daxnfsd: -p: '%s' is not a port (0-65535)\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!have_base && default_base_dir(base, sizeof(base)) < 0) {
		fprintf(stderr, "daxnfsd: cannot find the binary's directory; use -b\n");
		return 2;
	}
	rc = conf_load(conf_path, base, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "daxnfsd: %s\n", err);
		return 2;
	}
	if (port >= 0)
		cfg.nfs_port = (uint16_t)port;
	conf_conn_limits_publish(&cfg.conn);   /* for the TCP transport's start */
	if (level && log_level_parse(level, &lvl) < 0) {
		fprintf(stderr, "daxnfsd: -l: '%s' is not one of error, warn, info, debug, trace\n",
			level);
		return 2;
	}
	m.conf_path = conf_path;
	m.base = base;
	m.port_override = port;
	m.level_override = level != NULL;
	m.cfg = &cfg;
	if (!level)
		log_level_parse(cfg.log_level, &lvl);
	log_set_level(lvl);
	log_set_destination(cfg.log_destination);

	/* before any thread starts, so that every thread inherits the mask */
	rc = pmem_lease_block_signal();
	if (rc < 0) {
		log_err("main", "cannot block the lease signal: %s", strerror(-rc));
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (m.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_err("main", "cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	service_notify_init(&m.notify);
	if (mkdir(cfg.recovery_dir, 0700) < 0 && errno != EEXIST)
		log_warn("main", "Recovery_Dir %s: %s", cfg.recovery_dir, strerror(errno));

	nfs4_metrics_snapshot_init(&snapshot);   /* before the first goto out */
	rc = nfs4_exports_init(&cfg);
	if (rc < 0) {
		log_err("main", "exports: %s", strerror(-rc));
		goto out;
	}
	exports_up = true;
	/* Before nfs4_server_init starts the first thread: capabilities are
	 * per thread and inherited. The exports are open; Recovery_Dir and the
	 * listener need nothing that is dropped. */
	rc = nfs4_privileges_drop(cfg.nfs_port);
	if (rc < 0)
		goto out;
	if (cfg.metrics_on)
		m.snapshot = &snapshot;
	rc = metrics_setup(&cfg, &snapshot, &mx);
	if (rc < 0)
		goto out;
	rc = nfs4_server_init(&cfg, mx, &m.srv);
	if (rc < 0) {
		log_err("main", "NFSv4 server: %s", strerror(-rc));
		goto out;
	}
	server_up = true;
	nfs4_admin_start(m.srv, cfg.admin_socket, &admin);   /* logged; optional */
	rc = rpc_svc_create(cfg.threads, cfg.max_record_size, &m.svc);
	if (rc < 0)
		goto out;
	rc = rpc_svc_add_fd(m.svc, m.sigfd, EPOLLIN, on_signal, &m);
	if (rc < 0)
		goto out;
	lfd = pmem_lease_event_fd();
	if (lfd >= 0 && (rc = rpc_svc_add_fd(m.svc, lfd, EPOLLIN, on_lease_event, NULL)) < 0)
		goto out;
	rpc_svc_set_tick(m.svc, on_tick, &m);
	rc = rpc_tcp_listen(m.svc, cfg.bind_addr, cfg.nfs_port, cfg.max_record_size, &tcp);
	if (rc < 0)
		goto out;
	log_start(&cfg, rpc_tcp_listener_port(tcp));
	if (cfg.enable_rdma)
		rdma = rdma_start(&cfg, m.svc);
	if (cfg.rpcbind_register)
		rpcbind_register(tcp, &rpcb);
	rc = metrics_serve(&cfg, mx, &snapshot, m.srv, tcp, &mx_http);
	if (rc < 0)
		goto out;
	if (m.notify.enabled) {
		char line[STATUS_LINE_MAX];

		snprintf(m.serving, sizeof(m.serving), "serving NFSv4.1/4.2 on tcp %s port %u%s",
			 cfg.bind_addr, rpc_tcp_listener_port(tcp),
			 rdma ? " and rdma" : "");
		status_line(&m, line, sizeof(line));
		service_notify_ready(&m.notify, line);
	}
	rc = rpc_svc_run(m.svc);
	service_notify_stopping(&m.notify);
	if (rc == 0)
		status = 0;
out:
	/* reverse order: connections (their close hooks reach the server), then
	 * the workers (in-flight requests finish), then the server and exports */
	nfs4_admin_stop(admin);   /* first: no forced recall starts while the rest stops */
	rpc_rpcb_unregister(&rpcb);   /* no client is sent to a closing port */
	metrics_http_stop(mx_http);   /* its collector reads the listener */
	rpc_tcp_listener_close(tcp);
	rdma_listener_close(rdma);   /* waits for its calls in service: workers still run */
	if (m.svc)
		rpc_svc_destroy(m.svc);
	if (server_up)
		nfs4_server_shutdown(m.srv);
	rpc_unregister_programs();
	if (exports_up)
		nfs4_exports_shutdown();
	metrics_destroy(mx);   /* after the workers that counted into it */
	nfs4_metrics_snapshot_destroy(&snapshot);
	if (m.sigfd >= 0)
		close(m.sigfd);
	log_info("main", "daxnfsd stopped%s", status ? " after an error" : "");
	return status;
}
