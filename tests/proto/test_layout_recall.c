/*
 * tests/proto/test_layout_recall.c: the recall timeline of pNFS layouts
 * (ARCHITECTURE.md's invariant; RFC 8881 §12.5.5, §20.3) against a real
 * daxnfsd with Enable_pNFS, with real local leases on the export's file
 * system and processes on the server that truncate, open or reflink a
 * file while protocol clients (with a back channel) hold RW layouts on it:
 *  - a cooperating holder gets CB_LAYOUTRECALL (its file, its stateid,
 *    the whole file), nobody gets a layout of the file meanwhile
 *    (NFS4ERR_RECALLCONFLICT), the process stays blocked until the
 *    LAYOUTRETURN and then proceeds; the bytes are what the client wrote
 *    through the data server plus what the process did;
 *  - a holder that answers the recall but never returns is revoked at the
 *    deadline (Recall_Timeout 2 s here; measured), its data-server WRITE
 *    with the layout stateid then fails NFS4ERR_BAD_STATEID, its SEQUENCE
 *    carries SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID;
 *    another holder's recall on another file completes meanwhile;
 *  - a delegation and a layout on one file share the lease: both are
 *    recalled, and the process waits for both;
 *  - no layout while a local process holds the file open
 *    (NFS4ERR_LAYOUTTRYLATER), nor on a lease that is breaking
 *    (NFS4ERR_RECALLCONFLICT); a client's WRITE through the server to a
 *    file with READ layouts goes through, recalling them first when a
 *    local reader keeps the lease from becoming a write lease;
 *  - CB_LAYOUTRECALL answered NFS4ERR_NOMATCHING_LAYOUT counts as a
 *    return, NFS4ERR_DELAY is asked again;
 *  - a revoked holder gets a new layout stateid by LAYOUTGET before it
 *    frees the old one;
 *  - a reflink of the file on XFS (skipped, saying so, without root, XFS
 *    or a loop device);
 *  - a Revoke_Margin that leaves no time before lease-break-time stops the
 *    daemon at start, naming the key.
 */
#include "tests/proto/test_layout_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/proto/lib/proto_proc.h"

#define RECALL_TIMEOUT_MS 2000

static struct proto_server srv;
static struct proto_server *cur = &srv;

static int group_setup(void **st)
{
	struct proto_server_opts o = { .nfsv4_conf = "Enable_pNFS = true; Recall_Timeout = 2;" };

	(void)st;
	return proto_server_start(&srv, "layout-recall", &o) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop_checked(&srv);
}

/* ---- processes on the server ---- */

enum local_act { LOCAL_TRUNCATE, LOCAL_WRITE, LOCAL_READ, LOCAL_REFLINK };

struct local_job {
	char path[PATH_MAX + 64];
	char dst[PATH_MAX + 64];       /* LOCAL_REFLINK: the clone */
	enum local_act act;
	off_t size;                    /* LOCAL_TRUNCATE */
	const char *data;              /* LOCAL_WRITE: written at 0 */
	int rc;
	int64_t start_ms, end_ms;
};

static void *local_thread(void *arg)
{
	struct local_job *j = arg;
	int fd = -1, dfd = -1;

	switch (j->act) {
	case LOCAL_TRUNCATE:
		j->rc = truncate(j->path, j->size) < 0 ? -errno : 0;
		break;
	case LOCAL_WRITE:
		fd = open(j->path, O_WRONLY);
		j->rc = fd < 0 ? -errno : 0;
		if (fd >= 0 && pwrite(fd, j->data, strlen(j->data), 0) != (ssize_t)strlen(j->data))
			j->rc = -EIO;
		break;
	case LOCAL_READ:
		fd = open(j->path, O_RDONLY);
		j->rc = fd < 0 ? -errno : 0;
		break;
	case LOCAL_REFLINK:
		fd = open(j->path, O_RDONLY);
		j->rc = fd < 0 ? -errno : 0;
		if (fd < 0)
			break;
		dfd = open(j->dst, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (dfd < 0 || ioctl(dfd, FICLONE, fd) < 0)
			j->rc = -errno;
		break;
	}
	__atomic_store_n(&j->end_ms, proto_now_ms(), __ATOMIC_SEQ_CST);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void local_start(struct local_job *j, pthread_t *th, const char *name, enum local_act act,
			off_t size, const char *data)
{
	memset(j, 0, sizeof(*j));
	j->size = size;
	j->data = data;
	snprintf(j->path, sizeof(j->path), "%s/%s", cur->export_dir, name);
	snprintf(j->dst, sizeof(j->dst), "%s/%s.clone", cur->export_dir, name);
	j->act = act;
	/* (here, not in the thread: the test reads it while the thread runs) */
	j->start_ms = proto_now_ms();
	assert_int_equal(pthread_create(th, NULL, local_thread, j), 0);
}

static bool local_done(struct local_job *j)
{
	return __atomic_load_n(&j->end_ms, __ATOMIC_SEQ_CST) != 0;
}

/* The file's bytes as the server's file system has them. */
static ssize_t local_read(const char *name, void *buf, size_t len)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cur->export_dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = pread(fd, buf, len, 0);
	close(fd);
	return n;
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

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed);
}

/* ---- the tests ---- */

/* A local truncate while a client holds an RW layout: CB_LAYOUTRECALL of
 * the whole file with the layout stateid; RECALLCONFLICT for anyone's
 * LAYOUTGET meanwhile; the truncate waits for the LAYOUTRETURN. */
static void test_truncate_recalls_cooperating_holder(void **st)
{
	struct holder h;
	struct nfs4_cl *other = ot_client(cur, "lr-trunc-other");
	struct ot_open_res oo;
	struct lg_res lg;
	struct local_job job;
	pthread_t th;
	uint8_t data[8192], back[8192];
	uint32_t n;
	bool eof;
	int64_t t_return;

	(void)st;
	fill(data, sizeof(data), 7);
	hold(cur, &h, "lr-trunc", "tr1", false, data, sizeof(data));
	assert_int_equal(ot_open_simple(other, "tr1", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &oo), NFS4_OK);

	local_start(&job, &th, "tr1", LOCAL_TRUNCATE, 5000, NULL);
	wait_layout_recall(h.cl, &h.log, 1, 5000);
	assert_int_equal(h.log.lr.clora_type, LAYOUT4_FLEX_FILES);
	assert_int_equal(h.log.lr.clora_iomode, LAYOUTIOMODE4_ANY);
	assert_true(h.log.lr.clora_changed);
	assert_int_equal(h.log.lr.clora_recall.lor_recalltype, LAYOUTRECALL4_FILE);
	assert_int_equal(h.log.lr_fh_len, h.open.fh.len);
	assert_memory_equal(h.log.lr_fh, h.open.fh.val, h.open.fh.len);
	assert_true(h.log.lr.clora_recall.u.lor_layout.lor_offset == 0);
	assert_true(h.log.lr.clora_recall.u.lor_layout.lor_length == NFS4_UINT64_MAX);
	assert_memory_equal(h.log.lr.clora_recall.u.lor_layout.lor_stateid.other, h.lg.sid.other,
			    sizeof(h.lg.sid.other));
	/* The recall moves the stateid on (§12.5.5.2.1.3; the Linux client
	 * refuses one that is not newer than what it has). */
	assert_int_equal(h.log.lr.clora_recall.u.lor_layout.lor_stateid.seqid, h.lg.sid.seqid + 1);
	/* Nobody gets the file's layouts while the recall runs. */
	assert_int_equal(layoutget(other, &oo.fh, &oo.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4ERR_RECALLCONFLICT);
	lg_free(&lg);
	assert_int_equal(layoutget(h.cl, &h.open.fh, &h.lg.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &lg),
			 NFS4ERR_RECALLCONFLICT);
	lg_free(&lg);
	usleep(100000);
	assert_false(local_done(&job));   /* the truncate waits in the kernel */

	t_return = proto_now_ms();
	/* Returned with the recall's stateid, as the Linux client does. */
	assert_int_equal(layoutreturn(h.cl, &h.open.fh, LAYOUTRETURN4_FILE,
				      &h.log.lr.clora_recall.u.lor_layout.lor_stateid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	print_message("local truncate: CB_LAYOUTRECALL %lld ms after it began; it went on %lld ms "
		      "after the LAYOUTRETURN\n", (long long)(h.log.lr_when_ms - job.start_ms),
		      (long long)(job.end_ms - t_return));
	/* What the client wrote through the data server, cut by the truncate. */
	assert_int_equal(local_read("tr1", back, sizeof(back)), 5000);
	assert_memory_equal(back, data, 5000);
	assert_int_equal(ot_read(other, &oo.fh, &oo.sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_int_equal(n, 5000);
	/* The returned layout stateid is gone from the data server; a new
	 * LAYOUTGET works again. */
	assert_int_equal(ot_write(h.cl, &h.open.fh, &h.ds_sid, 0, data, 10, FILE_SYNC4, NULL),
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(layoutget(h.cl, &h.open.fh, &h.open.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	/* A second truncate soon after: the holder is asked again at once
	 * (the first recall's callback may still be in the engine, waiting
	 * for its deadline), not when that first deadline comes. */
	local_start(&job, &th, "tr1", LOCAL_TRUNCATE, 100, NULL);
	wait_layout_recall(h.cl, &h.log, 2, 5000);
	print_message("second truncate: CB_LAYOUTRECALL %lld ms after it began\n",
		      (long long)(h.log.lr_when_ms - job.start_ms));
	assert_true(h.log.lr_when_ms - job.start_ms < RECALL_TIMEOUT_MS / 2);
	assert_memory_equal(h.log.lr.clora_recall.u.lor_layout.lor_stateid.other, lg.sid.other,
			    sizeof(lg.sid.other));
	assert_int_equal(layoutreturn(h.cl, &h.open.fh, LAYOUTRETURN4_FILE, &lg.sid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	assert_int_equal(local_read("tr1", back, sizeof(back)), 100);
	lg_free(&lg);
	assert_int_equal(ot_close(other, &oo.fh, &oo.sid, NULL), NFS4_OK);
	ot_fh_free(&oo.fh);
	nfs4_cl_close(other, true);
	unhold(&h);
}

/* A holder that answers CB_LAYOUTRECALL and never returns: revoked at the
 * deadline; meanwhile another holder's recall of another file completes at
 * once. */
static void test_ignoring_holder_revoked_at_deadline(void **st)
{
	struct holder a, b;
	struct local_job ja, jb;
	pthread_t ta, tb;
	uint8_t data[4096], back[4096];
	uint32_t n;
	bool eof, present;
	stateid4 recalled;
	struct lg_res again;
	int64_t late;

	(void)st;
	fill(data, sizeof(data), 3);
	hold(cur, &a, "lr-ignore", "ig1", false, data, sizeof(data));
	hold(cur, &b, "lr-coop", "ig2", false, data, sizeof(data));

	local_start(&ja, &ta, "ig1", LOCAL_WRITE, 0, "LOCAL");
	local_start(&jb, &tb, "ig2", LOCAL_WRITE, 0, "local");
	/* b returns as soon as it is asked. */
	wait_layout_recall(b.cl, &b.log, 1, 5000);
	assert_int_equal(layoutreturn(b.cl, &b.open.fh, LAYOUTRETURN4_FILE, &b.lg.sid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(jb.rc, 0);
	/* a is asked, answers, keeps its lease up and returns nothing. */
	wait_layout_recall(a.cl, &a.log, 1, 5000);
	assert_false(local_done(&ja));
	while (!local_done(&ja) && proto_now_ms() - ja.start_ms < 3 * RECALL_TIMEOUT_MS) {
		assert_true(nfs4_cl_poll(a.cl, 100, true) >= 0);
		assert_int_equal(nfs4_cl_sequence(a.cl), NFS4_OK);
	}
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(ja.rc, 0);
	/* The lease went at the revoke: Recall_Timeout after the break (the
	 * process's open), never before it. */
	late = ja.end_ms - ja.start_ms - RECALL_TIMEOUT_MS;
	print_message("revoked holder: the local open went on %lld ms after it began "
		      "(Recall_Timeout %d ms: %+lld ms); the other file's open after %lld ms\n",
		      (long long)(ja.end_ms - ja.start_ms), RECALL_TIMEOUT_MS, (long long)late,
		      (long long)(jb.end_ms - jb.start_ms));
	assert_true(late >= -100);
	assert_true(late <= 1000);   /* ±100 ms on an idle machine; sanitizers slow it */
	assert_true(jb.end_ms < ja.end_ms);

	/* The revoked layout stateid: BAD_STATEID on the data server and for
	 * LAYOUTRETURN; the client is told until it frees it. */
	assert_int_equal(ot_write(a.cl, &a.open.fh, &a.ds_sid, 0, data, 10, FILE_SYNC4, NULL),
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(nfs4_cl_sequence(a.cl), NFS4_OK);
	assert_true(a.cl->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	recalled = a.log.lr.clora_recall.u.lor_layout.lor_stateid;
	assert_int_equal(layoutreturn(a.cl, &a.open.fh, LAYOUTRETURN4_FILE, &recalled,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, &present, NULL),
			 NFS4ERR_BAD_STATEID);
	/* A client that comes back gets a layout only by a new LAYOUTGET,
	 * with a new stateid, also before it frees the revoked one. */
	assert_int_equal(layoutget(a.cl, &a.open.fh, &a.open.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &again), NFS4_OK);
	assert_memory_not_equal(again.sid.other, recalled.other, sizeof(recalled.other));
	assert_int_equal(free_stateid(a.cl, &recalled), NFS4_OK);
	assert_int_equal(nfs4_cl_sequence(a.cl), NFS4_OK);
	assert_false(a.cl->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	assert_int_equal(layoutreturn(a.cl, &a.open.fh, LAYOUTRETURN4_FILE, &again.sid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	lg_free(&again);

	/* Each file: what its client wrote, then what the process wrote. */
	assert_int_equal(ot_read(a.cl, &a.open.fh, &a.open.sid, 0, sizeof(back), back, &n, &eof),
			 NFS4_OK);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(back, "LOCAL", 5);
	assert_memory_equal(back + 5, data + 5, sizeof(data) - 5);
	assert_int_equal(local_read("ig2", back, sizeof(back)), (ssize_t)sizeof(data));
	assert_memory_equal(back, "local", 5);
	assert_memory_equal(back + 5, data + 5, sizeof(data) - 5);
	unhold(&a);
	unhold(&b);
}

/* A write delegation and an RW layout of one client on one file: a local
 * reader breaks the one lease behind both; it waits for both returns. */
static void test_delegation_and_layout_share_the_lease(void **st)
{
	struct holder h;
	struct lg_res lg;
	struct local_job job;
	pthread_t th;
	uint8_t data[1000];

	(void)st;
	fill(data, sizeof(data), 11);
	hold(cur, &h, "lr-both", "both1", true, data, sizeof(data));
	local_start(&job, &th, "both1", LOCAL_READ, 0, NULL);
	wait_layout_recall(h.cl, &h.log, 1, 5000);
	for (int ms = 0; h.log.recall_n == 0 && ms < 5000; ms += 100)
		assert_true(nfs4_cl_poll(h.cl, 100, true) >= 0);
	assert_int_equal(h.log.recall_n, 1);
	assert_memory_equal(h.log.recall_sid.other, h.open.deleg_sid.other,
			    sizeof(h.open.deleg_sid.other));
	assert_int_equal(layoutreturn(h.cl, &h.open.fh, LAYOUTRETURN4_FILE, &h.lg.sid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	usleep(200000);
	assert_false(local_done(&job));   /* the delegation still holds the lease */
	/* The layouts' recall is over but the lease is still breaking: no
	 * new layout on it (nothing would recall it). */
	assert_int_equal(layoutget(h.cl, &h.open.fh, &h.open.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &lg),
			 NFS4ERR_RECALLCONFLICT);
	lg_free(&lg);
	assert_int_equal(nfs4_cl_delegreturn(h.cl, &h.open.fh, &h.open.deleg_sid), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	unhold(&h);
}

/* No layout while a local process has the file open (no write lease can
 * be taken); READ layouts do not keep other clients from writing through
 * the server. */
static void test_local_open_and_read_layouts(void **st)
{
	struct nfs4_cl *cl = ot_client(cur, "lr-local-open");
	struct nfs4_cl *rd = ot_client(cur, "lr-reader");
	struct ot_open_res r, rr;
	struct lg_res lg;
	char path[PATH_MAX + 64];
	uint8_t data[100], back[100];
	uint32_t n;
	bool eof;
	int fd;

	(void)st;
	fill(data, sizeof(data), 5);
	assert_int_equal(ot_open_simple(cl, "lo1", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	snprintf(path, sizeof(path), "%s/lo1", cur->export_dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4ERR_LAYOUTTRYLATER);
	lg_free(&lg);
	close(fd);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &lg.sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	lg_free(&lg);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);

	/* A reader's READ layout (a read lease), then a writer through the
	 * server: the write goes through, the reader's layout stays. */
	assert_int_equal(ot_open_simple(rd, "lo1", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &rr), NFS4_OK);
	assert_int_equal(layoutget(rd, &rr.fh, &rr.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	ot_fh_free(&r.fh);
	assert_int_equal(ot_open_simple(cl, "lo1", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, data, sizeof(data), FILE_SYNC4, NULL),
			 NFS4_OK);
	/* (read through the server: a local open now would break the lease
	 * and recall the reader's layout) */
	assert_int_equal(ot_read(rd, &rr.fh, &rr.sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(layoutreturn(rd, &rr.fh, LAYOUTRETURN4_FILE, &lg.sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	lg_free(&lg);
	assert_int_equal(ot_close(rd, &rr.fh, &rr.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	ot_fh_free(&rr.fh);
	nfs4_cl_close(cl, true);
	nfs4_cl_close(rd, true);
}

/* The holder's other answers to CB_LAYOUTRECALL: NFS4ERR_NOMATCHING_LAYOUT
 * counts as a return (the process goes on without a LAYOUTRETURN, the
 * stateid is gone); NFS4ERR_DELAY is asked again (about a second later),
 * and the holder returns then. */
static void test_recall_answers_nomatching_and_delay(void **st)
{
	struct holder h, d;
	struct local_job job;
	pthread_t th;
	uint8_t data[512];

	(void)st;
	fill(data, sizeof(data), 13);
	hold(cur, &h, "lr-nomatch", "nm1", false, data, sizeof(data));
	h.log.lr_answer = NFS4ERR_NOMATCHING_LAYOUT;
	local_start(&job, &th, "nm1", LOCAL_TRUNCATE, 10, NULL);
	wait_layout_recall(h.cl, &h.log, 1, 5000);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	assert_int_equal(ot_write(h.cl, &h.open.fh, &h.ds_sid, 0, data, 10, FILE_SYNC4, NULL),
			 NFS4ERR_BAD_STATEID);
	unhold(&h);

	hold(cur, &d, "lr-delay", "dl1", false, data, sizeof(data));
	d.log.lr_script[0] = NFS4ERR_DELAY;
	local_start(&job, &th, "dl1", LOCAL_TRUNCATE, 10, NULL);
	wait_layout_recall(d.cl, &d.log, 1, 5000);
	assert_false(local_done(&job));
	wait_layout_recall(d.cl, &d.log, 2, 5000);
	print_message("CB_LAYOUTRECALL answered NFS4ERR_DELAY: asked again %lld ms after the "
		      "process began\n", (long long)(d.log.lr_when_ms - job.start_ms));
	assert_int_equal(layoutreturn(d.cl, &d.open.fh, LAYOUTRETURN4_FILE,
				      &d.log.lr.clora_recall.u.lor_layout.lor_stateid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	unhold(&d);
}

/* A READ layout holds a read lease; a local process has the file open for
 * reading, so no write lease can be had: another client's WRITE through the
 * server recalls the READ layout (NFS4ERR_DELAY meanwhile) and goes through
 * once it is returned. */
static void test_write_under_local_reader_recalls_read_layouts(void **st)
{
	struct nfs4_cl *wr = ot_client(cur, "lr-writer");
	struct cb_log rlog;
	struct nfs4_cl *rd;
	struct ot_open_res rr, w;
	struct lg_res lg;
	char path[PATH_MAX + 64];
	uint8_t data[100], back[100];
	uint32_t n;
	bool eof;
	nfsstat4 st_w;
	int fd;

	(void)st;
	fill(data, sizeof(data), 17);
	assert_int_equal(ot_open_simple(wr, "rl1", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &w), NFS4_OK);
	assert_int_equal(ot_close(wr, &w.fh, &w.sid, NULL), NFS4_OK);
	ot_fh_free(&w.fh);
	rd = lo_client_cb(cur, "lr-reader-cb", &rlog);
	assert_int_equal(ot_open_simple(rd, "rl1", false,
					OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
					OPEN4_SHARE_DENY_NONE, &rr), NFS4_OK);
	assert_int_equal(layoutget(rd, &rr.fh, &rr.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	snprintf(path, sizeof(path), "%s/rl1", cur->export_dir);
	fd = open(path, O_RDONLY);   /* a read lease allows it; a write lease would not */
	assert_true(fd >= 0);
	assert_int_equal(ot_open_simple(wr, "rl1", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &w), NFS4_OK);
	st_w = ot_write(wr, &w.fh, &w.sid, 0, data, sizeof(data), FILE_SYNC4, NULL);
	assert_int_equal(st_w, NFS4ERR_DELAY);
	wait_layout_recall(rd, &rlog, 1, 5000);
	assert_int_equal(rlog.lr.clora_iomode, LAYOUTIOMODE4_READ);
	assert_int_equal(ot_write(wr, &w.fh, &w.sid, 0, data, sizeof(data), FILE_SYNC4, NULL),
			 NFS4ERR_DELAY);
	assert_int_equal(layoutreturn(rd, &rr.fh, LAYOUTRETURN4_FILE,
				      &rlog.lr.clora_recall.u.lor_layout.lor_stateid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(ot_write(wr, &w.fh, &w.sid, 0, data, sizeof(data), FILE_SYNC4, NULL),
			 NFS4_OK);
	assert_int_equal(pread(fd, back, sizeof(back), 0), (ssize_t)sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	close(fd);
	assert_int_equal(ot_read(rd, &rr.fh, &rr.sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_int_equal(n, sizeof(data));
	lg_free(&lg);
	assert_int_equal(ot_close(rd, &rr.fh, &rr.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(wr, &w.fh, &w.sid, NULL), NFS4_OK);
	ot_fh_free(&rr.fh);
	ot_fh_free(&w.fh);
	nfs4_cl_close(rd, true);
	nfs4_cl_close(wr, true);
}

/* cp --reflink of a file with an RW layout on XFS: recalled, returned, the
 * clone holds what the client wrote through the data server. */
static void test_reflink_recalls_on_xfs(void **st)
{
	struct proto_server_opts o = { .nfsv4_conf = "Enable_pNFS = true; Recall_Timeout = 2;" };
	struct proto_server xsrv;
	char img[1024], mnt[1024], cmd[8192], exports[1200];
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	struct holder h;
	struct local_job job;
	pthread_t th;
	uint8_t data[6000], back[6000];

	(void)st;
	snprintf(img, sizeof(img), "%.900s/layout-xfs-%d.img", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(mnt, sizeof(mnt), "%.900s/layout-xfs-%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && truncate -s 300M '%s' && "
		 "mkfs.xfs -q -m reflink=1 '%s' >/dev/null 2>&1 && mount -o loop '%s' '%s' 2>/dev/null",
		 mnt, img, img, img, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		print_message("SKIPPED: no XFS with reflink here (root, mkfs.xfs, a loop device)\n");
		unlink(img);
		rmdir(mnt);
		skip();
	}
	snprintf(exports, sizeof(exports), "EXPORT { Export_Id = 1; Path = \"%s\"; Pseudo = /; "
		 "Access_Type = RW; Squash = none; }\n", mnt);
	o.exports_conf = exports;
	memset(&xsrv, 0, sizeof(xsrv));
	assert_int_equal(proto_server_start(&xsrv, "layout-xfs", &o), 0);
	snprintf(xsrv.export_dir, sizeof(xsrv.export_dir), "%s", mnt);
	cur = &xsrv;

	fill(data, sizeof(data), 9);
	hold(cur, &h, "lr-reflink", "x1", false, data, sizeof(data));
	local_start(&job, &th, "x1", LOCAL_REFLINK, 0, NULL);
	wait_layout_recall(h.cl, &h.log, 1, 5000);
	usleep(100000);
	assert_false(local_done(&job));
	assert_int_equal(layoutreturn(h.cl, &h.open.fh, LAYOUTRETURN4_FILE, &h.lg.sid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	assert_int_equal(local_read("x1.clone", back, sizeof(back)), (ssize_t)sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	unhold(&h);

	cur = &srv;
	assert_int_equal(proto_server_stop_checked(&xsrv), 0);
	proto_server_cleanup(&xsrv);
	snprintf(cmd, sizeof(cmd), "umount '%s' && rmdir '%s'", mnt, mnt);
	assert_int_equal(system(cmd), 0);
	unlink(img);
}

/* A Revoke_Margin that leaves no recall time before the kernel's
 * lease-break-time stops the daemon at start, naming the key. */
static void test_revoke_margin_must_fit_lease_break_time(void **st)
{
	struct proto_server_opts o = { .nfsv4_conf = "Enable_pNFS = true; Revoke_Margin = 60000;" };
	unsigned bt = proto_lease_break_time();

	(void)st;
	if (bt > 60) {
		print_message("lease-break-time %u s: a margin of 60 s fits; nothing to check\n", bt);
		return;
	}
	assert_true(proto_server_refuses_start("layout-badmargin", &o,
					       "Revoke_Margin = 60000 ms does not leave",
					       "lease-break-time"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncate_recalls_cooperating_holder),
		cmocka_unit_test(test_ignoring_holder_revoked_at_deadline),
		cmocka_unit_test(test_delegation_and_layout_share_the_lease),
		cmocka_unit_test(test_local_open_and_read_layouts),
		cmocka_unit_test(test_recall_answers_nomatching_and_delay),
		cmocka_unit_test(test_write_under_local_reader_recalls_read_layouts),
		cmocka_unit_test(test_reflink_recalls_on_xfs),
		cmocka_unit_test(test_revoke_margin_must_fit_lease_break_time),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
