/*
 * server/nfs4_export.c: the export table (see nfs4_export.h).
 *
 * Built once by nfs4_exports_init before the server takes requests and torn
 * down by nfs4_exports_shutdown after the last request, so lookups need no
 * lock. Squash rules are applied here and nowhere else.
 * Calls: pmem/backend.h, nfs4_pseudo.c, conf/log. Called by: server/main.c
 * (through nfs4_server.h), nfs4_fh.c, the namespace handlers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"
#include "server/nfs4_export.h"
#include "server/nfs4_pseudo.h"
#include "server/nfs4_server.h"

#define ANON_ID 65534u
#define MIN_IO 4096u
#define RECORD_OVERHEAD 8192u   /* RPC + COMPOUND headers around a READ/WRITE payload */

static struct nfs4_export *g_exports;
static unsigned g_nexports;
static uint32_t g_max_io = 1u << 20;
static char g_domain[256] = "localdomain";
static int64_t g_boot_ns;

struct nfs4_export *nfs4_export_by_id(uint16_t id)
{
	for (unsigned i = 0; i < g_nexports; i++)
		if (g_exports[i].conf.export_id == id)
			return &g_exports[i];
	return NULL;
}

unsigned nfs4_export_count(void) { return g_nexports; }

struct nfs4_export *nfs4_export_at(unsigned i)
{
	return i < g_nexports ? &g_exports[i] : NULL;
}

uint32_t nfs4_export_max_io(void) { return g_max_io; }
const char *nfs4_export_domain(void) { return g_domain; }
int64_t nfs4_export_boot_ns(void) { return g_boot_ns; }

/* Objects are unique per inode while referenced (pmem/backend.h) and the
 * export holds its root, so identity is exact; comparing fileids would also
 * match the root of another filesystem mounted below the export. */
bool nfs4_export_is_root(const struct nfs4_export *exp, const struct pmem_obj *obj)
{
	return exp && obj && obj == exp->root;
}

void nfs4_export_cred(const struct nfs4_export *exp, const struct rpc_cred *rc,
		      struct pmem_cred *out)
{
	uint32_t anon_uid = exp ? exp->conf.anon_uid : ANON_ID;
	uint32_t anon_gid = exp ? exp->conf.anon_gid : ANON_ID;
	enum conf_squash sq = exp ? exp->conf.squash : CONF_SQUASH_NONE;

	memset(out, 0, sizeof(*out));
	if (!rc || rc->flavor != RPC_AUTH_SYS || sq == CONF_SQUASH_ALL) {
		out->uid = anon_uid;
		out->gid = anon_gid;
		return;
	}
	out->uid = rc->uid;
	out->gid = rc->gid;
	out->ngroups = rc->ngids < PMEM_MAX_GROUPS ? rc->ngids : PMEM_MAX_GROUPS;
	memcpy(out->groups, rc->gids, out->ngroups * sizeof(out->groups[0]));
	if (sq == CONF_SQUASH_ROOT) {
		if (out->uid == 0)
			out->uid = anon_uid;
		if (out->gid == 0)
			out->gid = anon_gid;
		for (uint32_t i = 0; i < out->ngroups; i++)
			if (out->groups[i] == 0)
				out->groups[i] = anon_gid;
	}
}

static void export_release(struct nfs4_export *e)
{
	pmem_obj_put(e->root);
	pmem_export_put(e->pexp);
	e->root = NULL;
	e->pexp = NULL;
}

static int export_open(struct nfs4_export *e, const struct conf_export *ce)
{
	struct pmem_attr a;
	int err;

	e->conf = *ce;
	err = pmem_posix_export_open(ce->path, ce->export_id, &e->pexp);
	if (err) {
		log_err("export", "export %u (line %u): cannot open '%s': %s",
			ce->export_id, ce->src_line, ce->path, strerror(-err));
		goto out;
	}
	err = e->pexp->ops->root(e->pexp, &e->root);
	if (err) {
		log_err("export", "export %u: root of '%s': %s", ce->export_id, ce->path,
			strerror(-err));
		goto out;
	}
	err = e->root->ops->getattr(e->root, &a);
	if (err) {
		log_err("export", "export %u: stat '%s': %s", ce->export_id, ce->path,
			strerror(-err));
		goto out;
	}
	e->root_fileid = a.fileid;
	{
		struct pmem_fsstat fs;

		e->xattr_user = e->pexp->ops->fsstat(e->pexp, &fs) == 0 && fs.xattr_user;
	}
	log_info("export", "export %u: '%s' at pseudo '%s' (%s)", ce->export_id, ce->path,
		 ce->pseudo, ce->access == CONF_ACCESS_RW ? "rw" :
		 ce->access == CONF_ACCESS_RO ? "ro" : "none");
out:
	return err;
}

int nfs4_exports_init(const struct daxnfs_config *cfg)
{
	struct timespec ts;
	unsigned i = 0;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	g_boot_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (cfg->domain[0])
		snprintf(g_domain, sizeof(g_domain), "%s", cfg->domain);
	if (cfg->max_record_size > RECORD_OVERHEAD + MIN_IO)
		g_max_io = (cfg->max_record_size - RECORD_OVERHEAD) & ~(MIN_IO - 1);
	else
		g_max_io = MIN_IO;

	if (cfg->n_exports == 0) {
		log_err("export", "%s: no EXPORT block", cfg->source);
		return -EINVAL;
	}
	g_exports = calloc(cfg->n_exports, sizeof(*g_exports));
	if (!g_exports)
		return -ENOMEM;
	for (i = 0; i < cfg->n_exports; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (cfg->exports[j].export_id == cfg->exports[i].export_id) {
				log_err("export", "%s:%u: Export_Id %u used twice", cfg->source,
					cfg->exports[i].src_line, cfg->exports[i].export_id);
				err = -EINVAL;
				goto fail;
			}
		}
		err = export_open(&g_exports[i], &cfg->exports[i]);
		if (err) {
			i++;
			goto fail;
		}
	}
	g_nexports = cfg->n_exports;
	err = nfs4_pseudo_build(g_exports, g_nexports);
	if (err) {
		log_err("export", "%s: cannot build the pseudo file system: %s", cfg->source,
			strerror(-err));
		goto fail;
	}
	return 0;
fail:
	while (i-- > 0)
		export_release(&g_exports[i]);
	free(g_exports);
	g_exports = NULL;
	g_nexports = 0;
	return err;
}

void nfs4_exports_shutdown(void)
{
	nfs4_pseudo_free();
	for (unsigned i = 0; i < g_nexports; i++)
		export_release(&g_exports[i]);
	free(g_exports);
	g_exports = NULL;
	g_nexports = 0;
}
