/*
 * server/nfs4_export.c: the export table (see nfs4_export.h).
 *
 * Built by nfs4_exports_init before the server takes requests, replaced
 * whole by nfs4_exports_reload (SIGHUP) and torn down by
 * nfs4_exports_shutdown after the last request. Lookups read the current
 * table through one atomic pointer and take no lock. Squash rules are
 * applied here and nowhere else.
 * Calls: pmem/backend.h, nfs4_pseudo.c, conf/log. Called by: server/main.c
 * (through nfs4_server.h), nfs4_fh.c, the namespace handlers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "conf/log.h"
#include "server/nfs4_export.h"
#include "server/nfs4_pseudo.h"
#include "server/nfs4_server.h"

#define ANON_ID 65534u
#define MIN_IO 4096u
#define RECORD_OVERHEAD 8192u   /* RPC + COMPOUND headers around a READ/WRITE payload */

/* One generation of exports: the table lookups see, published whole with
 * one atomic store at start and at each reload (RCU-like: a request reads
 * the table once per handle and keeps using what it found). A table and
 * its export objects are never changed after they are published, and the
 * ones a reload replaced are kept until exit, since a request that began
 * before the reload may still hold them (about 5 KB per export and
 * reload). */
struct export_table {
	struct nfs4_export *exps[CONF_MAX_EXPORTS];
	unsigned n;
	struct nfs4_pseudo_node *root;
	int64_t built_ns;                  /* CLOCK_REALTIME: the pseudo fs's times and change */
	struct export_table *older;        /* the retired tables, newest first */
};

/* What an export opened on its Path: shared by the export objects of every
 * table that serves that Export_Id, closed at exit.
 * Why an Export_Id stays bound to its directory for the daemon's life: the
 * handles of its files carry the id, and a second backend for the same
 * inodes would give them a second object, so state on one would not see
 * state on the other (share reservations, locks, delegations). A reload
 * may spell the Path another way, or bring back an export it removed, and
 * gets the same backend; another directory under the same id is refused. */
struct export_backend {
	struct pmem_export *pexp;
	struct pmem_obj *root;
	uint64_t root_fileid;
	bool xattr_user;
	uint16_t export_id;
	dev_t dev;                         /* of the directory opened */
	ino_t ino;
	unsigned refs;                     /* export objects, and the registry's */
	struct export_backend *next;       /* in g_backends */
};

static _Atomic(struct export_table *) g_table;
static struct export_table *g_retired;
static struct export_backend *g_backends;   /* every one opened, until exit */
static pthread_mutex_t g_reload_lock = PTHREAD_MUTEX_INITIALIZER;   /* reloads, shutdown */
static uint32_t g_max_io = 1u << 20;
static char g_domain[256] = "localdomain";

static struct export_table *current_table(void)
{
	return atomic_load_explicit(&g_table, memory_order_acquire);
}

struct nfs4_export *nfs4_export_by_id(uint16_t id)
{
	struct export_table *t = current_table();

	for (unsigned i = 0; t && i < t->n; i++)
		if (t->exps[i]->conf.export_id == id)
			return t->exps[i];
	return NULL;
}

struct nfs4_pseudo_node *nfs4_export_pseudo_root(void)
{
	struct export_table *t = current_table();

	return t ? t->root : NULL;
}

uint32_t nfs4_export_max_io(void) { return g_max_io; }
const char *nfs4_export_domain(void) { return g_domain; }
int64_t nfs4_export_boot_ns(void)
{
	struct export_table *t = current_table();

	return t ? t->built_ns : 0;
}

bool nfs4_export_same(const struct nfs4_export *a, const struct nfs4_export *b)
{
	if (!a || !b)
		return a == b;
	return a->be == b->be;
}

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

static void backend_put(struct export_backend *be)
{
	if (!be || --be->refs > 0)
		return;
	pmem_obj_put(be->root);
	pmem_export_put(be->pexp);
	free(be);
}

static int backend_open(const struct conf_export *ce, struct export_backend **out)
{
	struct export_backend *be = calloc(1, sizeof(*be));
	struct pmem_fsstat fs;
	struct pmem_attr a;
	struct stat st;
	int err;

	*out = NULL;
	if (!be)
		return -ENOMEM;
	be->refs = 1;
	be->export_id = ce->export_id;
	if (stat(ce->path, &st) < 0) {
		err = -errno;
		log_err("export", "export %u (line %u): cannot open '%s': %s",
			ce->export_id, ce->src_line, ce->path, strerror(-err));
		goto fail;
	}
	be->dev = st.st_dev;
	be->ino = st.st_ino;
	err = pmem_posix_export_open(ce->path, ce->export_id, &be->pexp);
	if (err) {
		log_err("export", "export %u (line %u): cannot open '%s': %s",
			ce->export_id, ce->src_line, ce->path, strerror(-err));
		goto fail;
	}
	err = be->pexp->ops->root(be->pexp, &be->root);
	if (err) {
		log_err("export", "export %u: root of '%s': %s", ce->export_id, ce->path,
			strerror(-err));
		goto fail;
	}
	err = be->root->ops->getattr(be->root, &a);
	if (err) {
		log_err("export", "export %u: stat '%s': %s", ce->export_id, ce->path,
			strerror(-err));
		goto fail;
	}
	be->root_fileid = a.fileid;
	be->xattr_user = be->pexp->ops->fsstat(be->pexp, &fs) == 0 && fs.xattr_user;
	*out = be;
	return 0;
fail:
	backend_put(be);
	return err;
}

static void export_free(struct nfs4_export *e)
{
	if (!e)
		return;
	backend_put(e->be);
	free(e);
}

/* A new export object for ce on backend be (a reference is taken). */
static struct nfs4_export *export_new(const struct conf_export *ce, struct export_backend *be)
{
	struct nfs4_export *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->conf = *ce;
	e->be = be;
	be->refs++;
	e->pexp = be->pexp;
	e->root = be->root;
	e->root_fileid = be->root_fileid;
	e->xattr_user = be->xattr_user;
	return e;
}

static void table_free(struct export_table *t)
{
	if (!t)
		return;
	nfs4_pseudo_free_tree(t->root);
	for (unsigned i = 0; i < t->n; i++)
		export_free(t->exps[i]);
	free(t);
}

static const char *access_name(enum conf_access a)
{
	return a == CONF_ACCESS_RW ? "rw" : a == CONF_ACCESS_RO ? "ro" : "none";
}

static const char *squash_name(enum conf_squash q)
{
	return q == CONF_SQUASH_NONE ? "none" : q == CONF_SQUASH_ROOT ? "root" : "all";
}

static struct nfs4_export *table_find(const struct export_table *t, uint16_t id)
{
	for (unsigned i = 0; t && i < t->n; i++)
		if (t->exps[i]->conf.export_id == id)
			return t->exps[i];
	return NULL;
}

/* The backend ce's Export_Id has had since start (*out NULL: none yet),
 * when ce's Path is its directory; -EINVAL (logged) when it is another. */
static int backend_find(const struct conf_export *ce, struct export_backend **out)
{
	struct export_backend *be;
	struct stat st;

	*out = NULL;
	for (be = g_backends; be && be->export_id != ce->export_id; be = be->next)
		;
	if (!be)
		return 0;
	if (stat(ce->path, &st) < 0) {
		log_err("export", "export %u (line %u): '%s': %s", ce->export_id, ce->src_line,
			ce->path, strerror(errno));
		return -errno;
	}
	if (st.st_dev != be->dev || st.st_ino != be->ino) {
		log_err("export", "export %u (line %u): '%s' is another directory than the one this "
			"Export_Id has served since start; the handles clients hold carry the id: "
			"give the new directory a new Export_Id, or restart", ce->export_id,
			ce->src_line, ce->path);
		return -EINVAL;
	}
	*out = be;
	return 0;
}

/* A table for cfg's EXPORT blocks. An Export_Id that has a backend keeps it
 * (open directory, root, the objects clients hold); any other is opened
 * now. Nothing is published. 0 or -errno, logged. */
static int table_build(const struct daxnfs_config *cfg, struct export_table **out)
{
	struct export_table *t;
	unsigned i;
	int err = 0;

	*out = NULL;
	if (cfg->n_exports == 0) {
		log_err("export", "%s: no EXPORT block", cfg->source);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < cfg->n_exports && !err; i++) {
		const struct conf_export *ce = &cfg->exports[i];
		struct export_backend *be = NULL;

		if (table_find(t, ce->export_id)) {
			log_err("export", "%s:%u: Export_Id %u used twice", cfg->source, ce->src_line,
				ce->export_id);
			err = -EINVAL;
			break;
		}
		err = backend_find(ce, &be);
		if (err)
			break;
		if (be) {
			be->refs++;
		} else {
			err = backend_open(ce, &be);
			if (err)
				break;
			be->next = g_backends;   /* the registry's reference */
			g_backends = be;
			be->refs++;
		}
		t->exps[t->n] = export_new(ce, be);
		backend_put(be);   /* the export object holds it now */
		if (!t->exps[t->n]) {
			err = -ENOMEM;
			break;
		}
		t->n++;
	}
	if (!err) {
		struct timespec ts;

		/* a new table is a new pseudo fs: clients see its change */
		clock_gettime(CLOCK_REALTIME, &ts);
		t->built_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		err = nfs4_pseudo_build(t->exps, t->n, &t->root);
		if (err)
			log_err("export", "%s: cannot build the pseudo file system: %s", cfg->source,
				strerror(-err));
	}
	if (err) {
		table_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int nfs4_exports_init(const struct daxnfs_config *cfg)
{
	struct export_table *t;
	int err;

	if (cfg->domain[0])
		snprintf(g_domain, sizeof(g_domain), "%s", cfg->domain);
	if (cfg->max_record_size > RECORD_OVERHEAD + MIN_IO)
		g_max_io = (cfg->max_record_size - RECORD_OVERHEAD) & ~(MIN_IO - 1);
	else
		g_max_io = MIN_IO;
	err = table_build(cfg, &t);
	if (err) {
		while (g_backends) {
			struct export_backend *be = g_backends;

			g_backends = be->next;
			backend_put(be);
		}
		return err;
	}
	for (unsigned i = 0; i < t->n; i++)
		log_info("export", "export %u: '%s' at pseudo '%s' (%s)", t->exps[i]->conf.export_id,
			 t->exps[i]->conf.path, t->exps[i]->conf.pseudo,
			 access_name(t->exps[i]->conf.access));
	atomic_store_explicit(&g_table, t, memory_order_release);
	return 0;
}

/* The parts of an export a client can tell apart: all of its block. */
static bool export_same(const struct conf_export *a, const struct conf_export *b)
{
	return strcmp(a->path, b->path) == 0 && strcmp(a->pseudo, b->pseudo) == 0 &&
	       a->access == b->access && a->squash == b->squash &&
	       a->anon_uid == b->anon_uid && a->anon_gid == b->anon_gid;
}

int nfs4_exports_reload(const struct daxnfs_config *cfg, struct nfs4_exports_change *chg)
{
	struct export_table *old, *t;
	int err;

	memset(chg, 0, sizeof(*chg));
	pthread_mutex_lock(&g_reload_lock);
	old = current_table();
	err = table_build(cfg, &t);
	if (err)
		goto out;
	for (unsigned i = 0; i < t->n; i++) {
		const struct conf_export *ce = &t->exps[i]->conf;
		const struct nfs4_export *prev = table_find(old, ce->export_id);

		if (!prev) {
			chg->added++;
			log_info("export", "reload: export %u added: '%s' at pseudo '%s' (%s)",
				 ce->export_id, ce->path, ce->pseudo, access_name(ce->access));
		} else if (!export_same(&prev->conf, ce)) {
			chg->changed++;
			log_info("export", "reload: export %u changed: '%s' at pseudo '%s' (%s, squash "
				 "%s, anonymous %u:%u)", ce->export_id, ce->path, ce->pseudo,
				 access_name(ce->access), squash_name(ce->squash), ce->anon_uid,
				 ce->anon_gid);
		} else {
			chg->unchanged++;
		}
	}
	for (unsigned i = 0; old && i < old->n; i++) {
		if (table_find(t, old->exps[i]->conf.export_id))
			continue;
		chg->removed++;
		log_info("export", "reload: export %u removed ('%s' at pseudo '%s'): its handles "
			 "are stale from now on", old->exps[i]->conf.export_id,
			 old->exps[i]->conf.path, old->exps[i]->conf.pseudo);
	}
	atomic_store_explicit(&g_table, t, memory_order_release);
	if (old) {
		old->older = g_retired;
		g_retired = old;
	}
out:
	pthread_mutex_unlock(&g_reload_lock);
	return err;
}

void nfs4_exports_trim(void)
{
	struct export_backend *be;

	pthread_mutex_lock(&g_reload_lock);
	for (be = g_backends; be; be = be->next)
		if (be->pexp->ops->trim)
			be->pexp->ops->trim(be->pexp);
	pthread_mutex_unlock(&g_reload_lock);
}

void nfs4_exports_shutdown(void)
{
	struct export_table *t;

	pthread_mutex_lock(&g_reload_lock);
	t = current_table();
	atomic_store_explicit(&g_table, NULL, memory_order_release);
	table_free(t);
	while (g_retired) {
		t = g_retired;
		g_retired = t->older;
		table_free(t);
	}
	while (g_backends) {   /* the registry's references, the last ones */
		struct export_backend *be = g_backends;

		g_backends = be->next;
		backend_put(be);
	}
	pthread_mutex_unlock(&g_reload_lock);
}
