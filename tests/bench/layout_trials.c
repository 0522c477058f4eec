/*
 * tests/bench/layout_trials.c: the layout recall timeline under random
 * timing, and its latency, against a running daxnfsd with Enable_pNFS whose
 * export directory this process can reach (scripts/layout-trials.sh starts
 * both on an XFS loop image, so that reflinks work).
 *
 * Trials (--trials N): each trial makes a fresh file; one to three holder
 * clients (a pool with back channels, reused) open it, take an RW flexible
 * file layout and write random pieces of their own 64 KiB region through the
 * data server (FILE_SYNC4) until they are recalled; a process on the server
 * side, at a random moment, truncates the file to a random size, writes a
 * random piece into it, or reflinks it (FICLONE). A holder cooperates
 * (LAYOUTRETURN on CB_LAYOUTRECALL) or, in one trial of ten, ignores the
 * recall: it stops writing and never returns, and once the process went on
 * its next data-server WRITE must fail NFS4ERR_BAD_STATEID and its SEQUENCE
 * must carry SEQ4_STATUS_RECALLABLE_STATE_REVOKED. Checked per trial: the
 * file (and a clone) is exactly every acknowledged write followed by the
 * process's change; the process waited at most Recall_Timeout plus slack,
 * always less than the kernel's lease-break-time, and with an ignoring
 * holder at least Recall_Timeout. Any mismatch stops the run (exit 1).
 *
 * Bench (--bench): the time from a local truncate's start (the lease break)
 * to its end (every layout returned, the lease released), p50/p99 over
 * rounds, with 1 holder and with C holders (default 100) on one file, each
 * holder answering from its own thread.
 *
 * usage: layout_trials HOST PORT EXPORT_DIR RECALL_TIMEOUT_MS --trials N [--seed S]
 *        layout_trials HOST PORT EXPORT_DIR RECALL_TIMEOUT_MS --bench [-n ROUNDS] [-c C]
 * Not a test of ctest: the script runs it (docs/benchmarks.md, docs/vm-testbed.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout/layout_flexfiles.h"
#include "rpc/xdr.h"
#include "tests/proto/lib/nfs4_client.h"

#define REGION (64u * 1024u)
#define MAX_HOLDERS 3u
#define MAX_WRITES 64u
#define POOL_MAX 128u

static const char *host, *export_dir;
static uint16_t port;
static int64_t recall_timeout_ms;
static unsigned lease_break_s = 45;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* msg names what went wrong; a and b are the figures that show it. */
static void fail(const char *msg, const char *what, long long a, long long b)
{
	fprintf(stderr, "layout_trials: FAILED: %s: %s (%lld, %lld)\n", what, msg, a, b);
	exit(1);
}

/* ---- one holder client ---- */

struct pool_cl {
	struct nfs4_cl *cl;
	/* callback state, written by the handler (the client's own thread) */
	unsigned recalls;
	stateid4 recall_sid;
	int64_t recall_ms;
};

static nfsstat4 cb_handler(struct nfs4_cl *cl, const nfs_cb_argop4 *op, nfs_cb_resop4 *res,
			   struct arena *arena, void *ctx)
{
	struct pool_cl *p = ctx;

	(void)cl;
	(void)arena;
	if (op->argop != OP_CB_LAYOUTRECALL) {
		res->u.opcbrecall.status = NFS4ERR_NOTSUPP;
		return NFS4ERR_NOTSUPP;
	}
	p->recalls++;
	p->recall_sid = op->u.opcblayoutrecall.clora_recall.u.lor_layout.lor_stateid;
	__atomic_store_n(&p->recall_ms, now_ms(), __ATOMIC_SEQ_CST);
	res->u.opcblayoutrecall.clorr_status = NFS4_OK;
	return NFS4_OK;
}

static int pool_cl_setup(struct pool_cl *p, const char *owner)
{
	memset(p, 0, sizeof(*p));
	return nfs4_cl_open_session_cb(&p->cl, host, port, owner, 1, cb_handler, p);
}

static void *pool_cl_setup_thread(void *arg)
{
	struct pool_cl *p = arg;
	char owner[64];

	snprintf(owner, sizeof(owner), "layout-trials-%p-%d", arg, (int)getpid());
	return pool_cl_setup(p, owner) == 0 ? NULL : (void *)1;
}

static void pool_setup(struct pool_cl *pool, unsigned n)
{
	pthread_t th[POOL_MAX];
	void *rc;

	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, pool_cl_setup_thread, &pool[i]) != 0)
			fail("cannot start a thread (client, 0)", "setup", i, 0);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], &rc);
		if (rc)
			fail("a client has no back channel (client, clients)", "setup", i, n);
	}
}

/* ---- compounds ---- */

static nfsstat4 open_rw(struct nfs4_cl *cl, const char *name, bool create, stateid4 *sid,
			nfs_fh4 *fh)
{
	return nfs4_cl_open_file(cl, name, create,
				 OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
				 OPEN4_SHARE_DENY_NONE, sid, fh);
}

static void putfh(struct nfs4_cl_compound *cp, const nfs_fh4 *fh)
{
	nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = *fh;
}

/* An RW layout of the whole file: its stateid and the data server's. */
static nfsstat4 layoutget_rw(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *open_sid,
			     stateid4 *lsid, stateid4 *ds_sid)
{
	struct nfs4_cl_compound cp;
	LAYOUTGET4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LAYOUTGET)->u.oplayoutget;
	a->loga_layout_type = LAYOUT4_FLEX_FILES;
	a->loga_iomode = LAYOUTIOMODE4_RW;
	a->loga_length = NFS4_UINT64_MAX;
	a->loga_stateid = *open_sid;
	a->loga_maxcount = 4096;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK) {
		LAYOUTGET4resok *ok = &nfs4_cl_res(&cp, OP_LAYOUTGET)->u.oplayoutget.u.logr_resok4;
		struct xdr_stream x;
		ff_layout4 ff;

		*lsid = ok->logr_stateid;
		xdr_init_decode(&x, ok->logr_layout.val[0].lo_content.loc_body.val,
				ok->logr_layout.val[0].lo_content.loc_body.len, &cp.arena);
		if (!xdr_dec_ff_layout4(&x, &ff) || ff.ffl_mirrors.len < 1 ||
		    ff.ffl_mirrors.val[0].ffm_data_servers.len < 1)
			st = NFS4ERR_BADXDR;
		else
			*ds_sid = ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_stateid;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 ds_write(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, uint64_t off,
			 const void *data, uint32_t len)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	putfh(&cp, fh);
	nfs4_cl_add_write(&cp, sid, off, data, len, FILE_SYNC4);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 layoutreturn_file(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	LAYOUTRETURN4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LAYOUTRETURN)->u.oplayoutreturn;
	a->lora_layout_type = LAYOUT4_FLEX_FILES;
	a->lora_iomode = LAYOUTIOMODE4_ANY;
	a->lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
	a->lora_layoutreturn.u.lr_layout.lrf_length = NFS4_UINT64_MAX;
	a->lora_layoutreturn.u.lr_layout.lrf_stateid = *sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 free_stateid(struct nfs4_cl *cl, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_FREE_STATEID)->u.opfree_stateid.fsa_stateid = *sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* ---- processes on the server ---- */

enum action { ACT_TRUNCATE, ACT_WRITE, ACT_REFLINK };

struct local_job {
	char path[4200], clone[4300];
	enum action act;
	int delay_us;
	off_t size, off;               /* truncate size; write offset */
	uint8_t data[4096];
	uint32_t len;
	int rc;
	int64_t start_ms, end_ms;
};

static void *local_thread(void *arg)
{
	struct local_job *j = arg;
	int fd = -1, dfd = -1;

	usleep((useconds_t)j->delay_us);
	j->start_ms = now_ms();
	switch (j->act) {
	case ACT_TRUNCATE:
		j->rc = truncate(j->path, j->size) < 0 ? -errno : 0;
		break;
	case ACT_WRITE:
		fd = open(j->path, O_WRONLY);
		if (fd < 0)
			j->rc = -errno;
		else if (pwrite(fd, j->data, j->len, j->off) != (ssize_t)j->len)
			j->rc = -EIO;
		break;
	case ACT_REFLINK:
		fd = open(j->path, O_RDONLY);
		dfd = fd < 0 ? -1 : open(j->clone, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (dfd < 0 || ioctl(dfd, FICLONE, fd) < 0)
			j->rc = -errno;
		break;
	}
	__atomic_store_n(&j->end_ms, now_ms(), __ATOMIC_SEQ_CST);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ---- one trial ---- */

struct acked {
	uint64_t off;
	uint32_t len;
	uint8_t data[16384];
};

struct trial_holder {
	struct pool_cl *p;
	unsigned index;                /* its region */
	bool ignore;
	unsigned seed;
	stateid4 open_sid, lsid, ds_sid;
	nfs_fh4 fh;
	struct acked *writes;          /* MAX_WRITES */
	unsigned nwrites;
	const struct local_job *job;
	/* outcome */
	const char *error;
	long long error_a, error_b;
	bool revoked_seen;
};

static void holder_error(struct trial_holder *h, const char *what, long long a, long long b)
{
	if (!h->error) {
		h->error = what;
		h->error_a = a;
		h->error_b = b;
	}
}

static void *holder_thread(void *arg)
{
	struct trial_holder *h = arg;
	struct nfs4_cl *cl = h->p->cl;
	unsigned recalls0 = h->p->recalls;
	nfsstat4 st;

	/* Write until recalled (or the log is full: then only wait). */
	while (h->p->recalls == recalls0) {
		if (h->nwrites < MAX_WRITES) {
			struct acked *w = &h->writes[h->nwrites];

			w->len = 512 + rand_r(&h->seed) % (sizeof(w->data) - 512);
			w->off = (uint64_t)h->index * REGION + rand_r(&h->seed) % (REGION - w->len);
			for (uint32_t i = 0; i < w->len; i++)
				w->data[i] = (uint8_t)rand_r(&h->seed);
			st = ds_write(cl, &h->fh, &h->ds_sid, w->off, w->data, w->len);
			if (st == NFS4_OK)
				h->nwrites++;
			else if (st != NFS4ERR_DELAY)
				holder_error(h, "data-server WRITE failed before the recall (status, recalls)",
					     st, h->p->recalls);
		}
		if (nfs4_cl_poll(cl, h->nwrites < MAX_WRITES ? 0 : 5, false) < 0) {
			holder_error(h, "poll failed", 0, 0);
			return NULL;
		}
	}
	if (!h->ignore) {
		st = layoutreturn_file(cl, &h->fh, &h->p->recall_sid);
		if (st != NFS4_OK)
			holder_error(h, "LAYOUTRETURN after the recall failed (status)", st, 0);
		return NULL;
	}
	/* Ignoring: keep the lease, answer callbacks, return nothing, until
	 * the process went on. */
	while (!__atomic_load_n(&h->job->end_ms, __ATOMIC_SEQ_CST)) {
		if (nfs4_cl_poll(cl, 20, false) < 0 || nfs4_cl_sequence(cl) != NFS4_OK) {
			holder_error(h, "lost the session while ignoring", 0, 0);
			return NULL;
		}
	}
	/* Revoked: no write through it any more, and the client is told. */
	st = ds_write(cl, &h->fh, &h->ds_sid, (uint64_t)h->index * REGION, "x", 1);
	if (st != NFS4ERR_BAD_STATEID)
		holder_error(h, "data-server WRITE after the revoke (status, expected)", st,
			     NFS4ERR_BAD_STATEID);
	if (nfs4_cl_sequence(cl) != NFS4_OK ||
	    !(cl->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED))
		holder_error(h, "no RECALLABLE_STATE_REVOKED after the revoke", 0, 0);
	h->revoked_seen = true;
	if (free_stateid(cl, &h->p->recall_sid) != NFS4_OK)
		holder_error(h, "FREE_STATEID of the revoked layout", 0, 0);
	return NULL;
}

static ssize_t read_all(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, cap, 0);
	close(fd);
	return n;
}

/* The model: data written at off into buf of *size bytes. */
static void model_write(uint8_t *buf, size_t *size, uint64_t off, const void *data, uint32_t len)
{
	if (off > *size)
		memset(buf + *size, 0, off - *size);
	memcpy(buf + off, data, len);
	if (off + len > *size)
		*size = off + len;
}

static void run_trial(unsigned t, struct pool_cl *pool, unsigned npool, unsigned *seed,
		      bool reflink_ok, unsigned *ignored_trials, int64_t *worst_wait)
{
	static struct acked writes[MAX_HOLDERS][MAX_WRITES];
	static uint8_t model[MAX_HOLDERS * REGION + 8192], back[MAX_HOLDERS * REGION + 8192];
	struct trial_holder hs[MAX_HOLDERS];
	pthread_t th[MAX_HOLDERS], lt;
	struct local_job job;
	char name[64];
	unsigned k = 1 + rand_r(seed) % MAX_HOLDERS, first = rand_r(seed) % npool;
	bool any_ignore = rand_r(seed) % 10 == 0;
	size_t size = 0;
	int64_t waited;
	ssize_t n;

	snprintf(name, sizeof(name), "trial-%u-%d", t, (int)getpid());
	memset(hs, 0, sizeof(hs));
	memset(&job, 0, sizeof(job));
	snprintf(job.path, sizeof(job.path), "%s/%s", export_dir, name);
	snprintf(job.clone, sizeof(job.clone), "%s/%s.clone", export_dir, name);
	job.act = (enum action)(rand_r(seed) % (reflink_ok ? 3 : 2));
	job.delay_us = rand_r(seed) % 20000;
	for (unsigned i = 0; i < k; i++) {
		struct trial_holder *h = &hs[i];

		h->p = &pool[(first + i) % npool];
		h->index = i;
		h->ignore = any_ignore && i == 0;
		h->seed = rand_r(seed);
		h->writes = writes[i];
		h->job = &job;
		if (open_rw(h->p->cl, name, i == 0, &h->open_sid, &h->fh) != NFS4_OK)
			fail("OPEN failed (trial, holder)", "trial", t, i);
		if (layoutget_rw(h->p->cl, &h->fh, &h->open_sid, &h->lsid, &h->ds_sid) != NFS4_OK)
			fail("LAYOUTGET failed (trial, holder)", "trial", t, i);
	}
	for (unsigned i = 0; i < k; i++)
		if (pthread_create(&th[i], NULL, holder_thread, &hs[i]) != 0)
			fail("cannot start a thread", "trial", 0, 0);
	/* the process's change, decided now: its size and bytes */
	job.size = rand_r(seed) % (k * REGION + 4096);
	job.off = rand_r(seed) % (k * REGION);
	job.len = 1 + rand_r(seed) % sizeof(job.data);
	for (uint32_t i = 0; i < job.len; i++)
		job.data[i] = (uint8_t)rand_r(seed);
	if (pthread_create(&lt, NULL, local_thread, &job) != 0)
		fail("cannot start a thread", "trial", 0, 0);
	pthread_join(lt, NULL);
	for (unsigned i = 0; i < k; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < k; i++)
		if (hs[i].error)
			fail(hs[i].error, "trial holder", hs[i].error_a, hs[i].error_b);
	if (job.rc != 0)
		fail("the process failed (trial, -errno)", "local", t, job.rc);
	waited = job.end_ms - job.start_ms;
	if (waited > *worst_wait)
		*worst_wait = waited;
	/* never past the kernel's own break; a revoke not before its time */
	if (waited >= (int64_t)lease_break_s * 1000 || waited > recall_timeout_ms + 1000)
		fail("the process waited too long (trial, ms)", "deadline", t, waited);
	if (any_ignore && waited < recall_timeout_ms - 100)
		fail("revoked before Recall_Timeout (trial, ms)", "deadline", t,
		     waited);
	*ignored_trials += any_ignore;

	/* every acknowledged write, then the process */
	for (unsigned i = 0; i < k; i++)
		for (unsigned w = 0; w < hs[i].nwrites; w++)
			model_write(model, &size, hs[i].writes[w].off, hs[i].writes[w].data,
				    hs[i].writes[w].len);
	if (job.act == ACT_REFLINK) {
		n = read_all(job.clone, back, sizeof(back));
		if (n != (ssize_t)size || memcmp(back, model, size) != 0)
			fail("the clone differs from the model (trial, its bytes)", "data", t, n);
		unlink(job.clone);
	} else if (job.act == ACT_TRUNCATE) {
		if ((size_t)job.size > size)
			memset(model + size, 0, (size_t)job.size - size);
		size = (size_t)job.size;
	} else {
		model_write(model, &size, (uint64_t)job.off, job.data, job.len);
	}
	n = read_all(job.path, back, sizeof(back));
	if (n != (ssize_t)size || memcmp(back, model, size) != 0)
		fail("the file differs from the model (trial, its bytes)", "data", t, n);
	for (unsigned i = 0; i < k; i++) {
		nfs4_cl_close_file(hs[i].p->cl, &hs[i].fh, &hs[i].open_sid);
		free(hs[i].fh.val);
	}
	unlink(job.path);
}

/* ---- the bench ---- */

struct bench_holder {
	struct pool_cl *p;
	stateid4 open_sid, lsid, ds_sid;
	nfs_fh4 fh;
	volatile bool stop;
};

static void *bench_holder_thread(void *arg)
{
	struct bench_holder *b = arg;
	unsigned seen = b->p->recalls;

	while (!b->stop) {
		if (nfs4_cl_poll(b->p->cl, 10, true) < 0)
			return (void *)1;
		if (b->p->recalls != seen) {
			seen = b->p->recalls;
			if (layoutreturn_file(b->p->cl, &b->fh, &b->p->recall_sid) != NFS4_OK)
				return (void *)1;
		}
	}
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench(struct pool_cl *pool, unsigned c, unsigned rounds)
{
	struct bench_holder *bh = calloc(c, sizeof(*bh));
	pthread_t *th = calloc(c, sizeof(*th));
	int64_t *wait_us = calloc(rounds, sizeof(*wait_us));
	char name[64], path[4200];
	struct timespec a, b;

	if (!bh || !th || !wait_us)
		fail("out of memory", "bench", 0, 0);
	snprintf(name, sizeof(name), "bench-%u-%d", c, (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", export_dir, name);
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < c; i++) {
			bh[i].p = &pool[i];
			bh[i].stop = false;
			if (open_rw(pool[i].cl, name, true, &bh[i].open_sid, &bh[i].fh) != NFS4_OK ||
			    layoutget_rw(pool[i].cl, &bh[i].fh, &bh[i].open_sid, &bh[i].lsid,
					 &bh[i].ds_sid) != NFS4_OK)
				fail("OPEN or LAYOUTGET failed (round, holder)", "bench", r, i);
			if (pthread_create(&th[i], NULL, bench_holder_thread, &bh[i]) != 0)
				fail("cannot start a thread", "trial", 0, 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (truncate(path, 0) < 0)
			fail("truncate failed (errno)", "bench", errno, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		wait_us[r] = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
		for (unsigned i = 0; i < c; i++) {
			void *rc;

			bh[i].stop = true;
			pthread_join(th[i], &rc);
			if (rc)
				fail("a holder failed (round, holder)", "bench", r, i);
			nfs4_cl_close_file(pool[i].cl, &bh[i].fh, &bh[i].open_sid);
			free(bh[i].fh.val);
		}
	}
	qsort(wait_us, rounds, sizeof(*wait_us), cmp_i64);
	printf("| %u | %u | %.2f | %.2f |\n", c, rounds, wait_us[rounds / 2] / 1000.0,
	       wait_us[(rounds * 99) / 100 < rounds ? (rounds * 99) / 100 : rounds - 1] / 1000.0);
	unlink(path);
	free(bh);
	free(th);
	free(wait_us);
}

int main(int argc, char **argv)
{
	static struct pool_cl pool[POOL_MAX];
	unsigned trials = 0, seed = (unsigned)time(NULL), rounds = 50, c = 100, ignored = 0;
	bool do_bench = false, reflink_ok;
	int64_t worst = 0;
	FILE *f;

	if (argc < 6) {
		fprintf(stderr, "usage: %s HOST PORT EXPORT_DIR RECALL_TIMEOUT_MS --trials N [--seed S]\n"
				"       %s HOST PORT EXPORT_DIR RECALL_TIMEOUT_MS --bench [-n ROUNDS] [-c C]\n",
			argv[0], argv[0]);
		return 2;
	}
	host = argv[1];
	port = (uint16_t)atoi(argv[2]);
	export_dir = argv[3];
	recall_timeout_ms = atoll(argv[4]);
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc)
			trials = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--bench") == 0)
			do_bench = true;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			c = (unsigned)atoi(argv[++i]);
	}
	if (c < 1 || c > POOL_MAX || rounds < 1)
		return 2;
	f = fopen("/proc/sys/fs/lease-break-time", "r");
	if (f) {
		if (fscanf(f, "%u", &lease_break_s) != 1)
			lease_break_s = 45;
		fclose(f);
	}
	if (do_bench) {
		pool_setup(pool, c);
		printf("| holders | rounds | lease break -> all returned -> lease released, p50 ms | p99 ms |\n");
		printf("|---|---|---|---|\n");
		bench(pool, 1, rounds);
		if (c > 1)
			bench(pool, c, rounds);
		for (unsigned i = 0; i < c; i++)
			nfs4_cl_close(pool[i].cl, true);
		return 0;
	}
	{
		/* reflinks where the export's file system makes them */
		char a[4200], b[4300];
		int fa, fb;

		snprintf(a, sizeof(a), "%s/.reflink-probe-%d", export_dir, (int)getpid());
		snprintf(b, sizeof(b), "%s.clone", a);
		fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644);
		fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0644);
		reflink_ok = fa >= 0 && fb >= 0 && ioctl(fb, FICLONE, fa) == 0;
		if (fa >= 0)
			close(fa);
		if (fb >= 0)
			close(fb);
		unlink(a);
		unlink(b);
	}
	pool_setup(pool, 4);
	printf("layout_trials: %u trials, seed %u, Recall_Timeout %lld ms, lease-break-time %u s, "
	       "actions: truncate, write%s\n", trials, seed, (long long)recall_timeout_ms,
	       lease_break_s, reflink_ok ? ", reflink" : " (no reflink on this file system)");
	for (unsigned t = 0; t < trials; t++) {
		run_trial(t, pool, 4, &seed, reflink_ok, &ignored, &worst);
		if ((t + 1) % 100 == 0)
			printf("layout_trials: %u trials passed (%u with an ignoring holder; the longest "
			       "wait %lld ms)\n", t + 1, ignored, (long long)worst);
		fflush(stdout);
	}
	for (unsigned i = 0; i < 4; i++)
		nfs4_cl_close(pool[i].cl, true);
	printf("layout_trials: all %u trials passed\n", trials);
	return 0;
}
