/*
 * tests/proto/test_deleg.c: read and write delegations of a real daxnfsd,
 * recalled over real back channels (RFC 8881 §10.2, §10.4, §18.16, §20.2
 * CB_RECALL), with two and three protocol clients on real sockets and real
 * local leases on the export's file system:
 *  - a read delegation recalled by another client's OPEN for write, which
 *    gets NFS4ERR_DELAY until DELEGRETURN;
 *  - a write delegation whose data written under it is what another
 *    client reads after the recall; CB_GETATTR for another client's
 *    GETATTR of its size (the holder's size and change are answered), and
 *    a recall when the holder's answer is unusable;
 *  - a client that never answers CB_RECALL loses its delegation at
 *    Recall_Timeout (measured) while a second client's recall on another
 *    file completes meanwhile (measured), then sees
 *    SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID;
 *  - a recall lost with its connection is sent again once the client binds
 *    a new connection (BIND_CONN_TO_SESSION);
 *  - processes on the server (open for write, open for read of a write
 *    delegated file, truncate, a reflink of it on XFS) break the lease: the
 *    delegation is recalled and the process proceeds after DELEGRETURN;
 *  - delegations are reclaimed after a restart (CLAIM_PREVIOUS);
 *  - the WANT_* flags of OPEN and OPEN_DELEGATE_NONE_EXT reasons;
 *  - Max_Delegations, and CB_RECALL_ANY from three quarters of it on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

#define RECALL_TIMEOUT_MS 4000
#define MAX_DELEGATIONS 8

static struct proto_server srv;

static int group_setup(void **state)
{
	struct proto_server_opts o = {
		.nfsv4_conf = "Recall_Timeout = 4; Max_Delegations = 8;"
	};

	(void)state;
	cur = &srv;
	return proto_server_start(&srv, "deleg", &o) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

static void test_read_deleg_recalled_by_other_clients_write_open(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a1", &la), *b = client_plain("deleg-b1");
	struct opened oa, ob;
	stateid4 ds;
	int64_t t0, t_recall, t_return, t_granted;

	(void)state;
	make_file(b, "r1", "read delegated");
	open_name(a, "r1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);

	/* Another reader does not conflict. */
	open_name(b, "r1", false, OPEN4_SHARE_ACCESS_READ, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	close_opened(b, &ob);
	assert_int_equal(la.n, 0);

	/* A writer does: DELAY, the holder gets CB_RECALL for its stateid. */
	t0 = proto_now_ms();
	open_name(b, "r1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 5000);
	t_recall = proto_now_ms();
	assert_int_equal(la.n, 1);
	assert_memory_equal(la.sid.other, ds.other, sizeof(ds.other));
	open_name(b, "r1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);   /* still not returned */
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	t_return = proto_now_ms();
	open_until_granted(b, "r1", OPEN4_SHARE_ACCESS_WRITE, 2000, &ob);
	t_granted = proto_now_ms();
	assert_int_equal(ob.status, NFS4_OK);
	print_message("recall: conflicting OPEN -> CB_RECALL %lld ms, -> DELEGRETURN %lld ms, "
		      "-> OPEN granted %lld ms\n", (long long)(t_recall - t0),
		      (long long)(t_return - t0), (long long)(t_granted - t0));
	/* A returned delegation is gone: a second DELEGRETURN is refused. */
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4ERR_BAD_STATEID);
	close_opened(b, &ob);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_write_deleg_data_seen_after_recall(void **state)
{
	static const char data[] = "written under a write delegation";
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a2", &la), *b = client_plain("deleg-b2");
	struct nfs4_cl_compound cp;
	struct opened oa, ob;
	nfs_resop4 *r;
	stateid4 ds;

	(void)state;
	make_file(b, "w1", NULL);
	open_name(a, "w1", false, OPEN4_SHARE_ACCESS_BOTH, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_WRITE);
	ds = deleg_sid(&oa);
	/* WRITE with the delegation stateid. */
	nfs4_cl_compound_init(&cp, a);
	nfs_argop4 *p = nfs4_cl_add(&cp, OP_PUTFH);
	p->u.opputfh.object = oa.fh;
	nfs4_cl_add_write(&cp, &ds, 0, data, sizeof(data) - 1, UNSTABLE4);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);

	/* Even a reader conflicts with a write delegation. */
	open_name(b, "w1", false, OPEN4_SHARE_ACCESS_READ, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 5000);
	assert_int_equal(la.n, 1);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	open_until_granted(b, "w1", OPEN4_SHARE_ACCESS_READ, 2000, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	assert_int_equal(ob.deleg.delegation_type, OPEN_DELEGATE_NONE);
	nfs4_cl_compound_init(&cp, b);
	p = nfs4_cl_add(&cp, OP_PUTFH);
	p->u.opputfh.object = ob.fh;
	nfs4_cl_add_read(&cp, &ob.sid, 0, 4096);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_READ);
	assert_non_null(r);
	assert_int_equal(r->u.opread.u.resok4.data.len, sizeof(data) - 1);
	assert_memory_equal(r->u.opread.u.resok4.data.val, data, sizeof(data) - 1);
	nfs4_cl_compound_free(&cp);
	close_opened(b, &ob);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_unanswered_recall_revoked_others_unaffected(void **state)
{
	struct recall_log la = { 0 }, lc = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a3", &la), *c = client_cb("deleg-c3", &lc);
	struct nfs4_cl *b = client_plain("deleg-b3");
	struct opened oa, oc, ob1, ob2;
	stateid4 ds;
	int64_t t0, t1, t_c, t_revoked;

	(void)state;
	make_file(b, "x1", "one");
	make_file(b, "x2", "two");
	open_name(a, "x1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	open_name(c, "x2", false, OPEN4_SHARE_ACCESS_READ, &oc);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	assert_int_equal(oc.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	a->cb_mode = NFS4_CL_CB_IGNORE;   /* a never answers from now on */

	t0 = proto_now_ms();
	open_name(b, "x1", false, OPEN4_SHARE_ACCESS_WRITE, &ob1);
	assert_int_equal(ob1.status, NFS4ERR_DELAY);
	/* Meanwhile c's recall on another file goes through at once. */
	t1 = proto_now_ms();
	open_name(b, "x2", false, OPEN4_SHARE_ACCESS_WRITE, &ob2);
	assert_int_equal(ob2.status, NFS4ERR_DELAY);
	wait_recall(c, &lc, 1, 3000);
	assert_int_equal(lc.n, 1);
	ds = deleg_sid(&oc);
	assert_int_equal(nfs4_cl_delegreturn(c, &oc.fh, &ds), NFS4_OK);
	ds = deleg_sid(&oa);
	open_until_granted(b, "x2", OPEN4_SHARE_ACCESS_WRITE, 2000, &ob2);
	t_c = proto_now_ms();
	assert_int_equal(ob2.status, NFS4_OK);
	/* Before the deadline x1 stays delegated to a. */
	assert_true(t_c - t0 < RECALL_TIMEOUT_MS - 500);
	open_name(b, "x1", false, OPEN4_SHARE_ACCESS_WRITE, &ob1);
	assert_int_equal(ob1.status, NFS4ERR_DELAY);

	/* a keeps its lease (SEQUENCE) but never answers: revoked at the
	 * deadline, and b's OPEN goes through. */
	for (;;) {
		assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
		open_name(b, "x1", false, OPEN4_SHARE_ACCESS_WRITE, &ob1);
		if (ob1.status != NFS4ERR_DELAY || proto_now_ms() - t0 > RECALL_TIMEOUT_MS + 3000)
			break;
		usleep(20000);
	}
	t_revoked = proto_now_ms();
	assert_int_equal(ob1.status, NFS4_OK);
	print_message("revocation: %lld ms after the conflicting OPEN (Recall_Timeout %d ms); "
		      "the other client's recall meanwhile: OPEN granted %lld ms after its "
		      "conflicting OPEN\n", (long long)(t_revoked - t0), RECALL_TIMEOUT_MS,
		      (long long)(t_c - t1));
	assert_true(t_revoked - t0 >= RECALL_TIMEOUT_MS - 100);
	assert_true(t_revoked - t0 <= RECALL_TIMEOUT_MS + 1000);

	/* a learns of it: the flag, DELEG_REVOKED, until FREE_STATEID. */
	a->cb_mode = NFS4_CL_CB_ANSWER;
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
	assert_true(a->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4ERR_DELEG_REVOKED);
	assert_int_equal(fh_op(a, &oa.fh, OP_FREE_STATEID, &ds), NFS4_OK);
	assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
	assert_false(a->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	close_opened(b, &ob1);
	close_opened(b, &ob2);
	close_opened(a, &oa);
	close_opened(c, &oc);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
	nfs4_cl_close(c, true);
}

static void test_recall_resent_after_new_connection(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a4", &la), *b = client_plain("deleg-b4");
	struct opened oa, ob;
	proto_call_fn on_call;
	void *on_call_ctx;
	stateid4 ds;

	(void)state;
	make_file(b, "n1", "x");
	open_name(a, "n1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	/* a's connection (its back channel) is lost with the recall on it. */
	a->cb_drop_calls = 1;
	open_name(b, "n1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	assert_true(nfs4_cl_poll(a, 300, true) >= 0);
	assert_int_equal(la.n, 0);   /* dropped unanswered */
	on_call = a->conn.on_call;
	on_call_ctx = a->conn.on_call_ctx;
	proto_close(&a->conn);
	assert_int_equal(proto_connect(&a->conn, srv.host, srv.port, 10000), 0);
	a->conn.on_call = on_call;
	a->conn.on_call_ctx = on_call_ctx;
	/* The new connection, bound for both directions: the server probes it
	 * and sends the recall again there. */
	assert_int_equal(nfs4_cl_bind_conn(a, CDFC4_FORE_OR_BOTH), NFS4_OK);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.n, 1);
	assert_memory_equal(la.sid.other, ds.other, sizeof(ds.other));
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	open_until_granted(b, "n1", OPEN4_SHARE_ACCESS_WRITE, 2000, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	close_opened(b, &ob);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* name (ten bytes, made by other) opened by holder for reading and writing:
 * a write delegation (*ds), and the server's change and size of it, which
 * the holder's own GETATTR gets without asking anybody. */
static void open_write_delegated(struct nfs4_cl *holder, struct nfs4_cl *other, const char *name,
				 struct opened *o, stateid4 *ds, uint64_t *change, uint64_t *size)
{
	make_file(other, name, "0123456789");
	open_name(holder, name, false, OPEN4_SHARE_ACCESS_BOTH, o);
	assert_int_equal(o->deleg.delegation_type, OPEN_DELEGATE_WRITE);
	*ds = deleg_sid(o);
	assert_int_equal(getattr_cs(holder, &o->fh, change, size), NFS4_OK);
}

/* GETATTR change and size of fh. */
static void test_write_deleg_cb_getattr(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a5", &la), *b = client_plain("deleg-b5");
	struct opened oa;
	uint64_t change, size, c2, s2;
	int64_t end;
	nfsstat4 st;
	stateid4 ds;

	(void)state;
	open_write_delegated(a, b, "g1", &oa, &ds, &change, &size);
	assert_int_equal(size, 10);
	assert_int_equal(la.ga_n, 0);

	/* Another client's GETATTR of size: CB_GETATTR to the holder first
	 * (the server waits half a second for the answer; this holder only
	 * answers once the GETATTR came back, so that one is DELAY). */
	la.ga_change = change;
	la.ga_size = size;
	assert_int_equal(getattr_cs(b, &oa.fh, &c2, &s2), NFS4ERR_DELAY);
	for (end = proto_now_ms() + 3000; la.ga_n == 0 && proto_now_ms() < end;)
		assert_true(nfs4_cl_poll(a, 100, true) >= 0);
	assert_int_equal(la.ga_n, 1);
	for (end = proto_now_ms() + 2000; (st = getattr_cs(b, &oa.fh, &c2, &s2)) == NFS4ERR_DELAY &&
				   proto_now_ms() < end;)
		usleep(20000);
	assert_int_equal(st, NFS4_OK);
	assert_int_equal(s2, 10);
	assert_int_equal(la.n, 0);   /* not modified: no recall */

	/* The holder has more data than the server: its size and change are
	 * what the other client is told (RFC 8881 §10.4.3), no recall. */
	usleep(1100000);   /* past the answer's freshness */
	la.ga_size = size + 100;
	la.ga_change = change + 7;
	assert_int_equal(getattr_cs(b, &oa.fh, &c2, &s2), NFS4ERR_DELAY);
	for (end = proto_now_ms() + 3000; la.ga_n < 2 && proto_now_ms() < end;)
		assert_true(nfs4_cl_poll(a, 100, true) >= 0);
	assert_int_equal(la.ga_n, 2);
	assert_int_equal(getattr_cs(b, &oa.fh, &c2, &s2), NFS4_OK);
	assert_int_equal(s2, size + 100);
	assert_int_equal(c2, change + 7);
	assert_int_equal(la.n, 0);
	/* A holder that answers with something else than change and size
	 * gets its delegation recalled. */
	usleep(1100000);
	la.ga_answer = NFS4ERR_SERVERFAULT;
	assert_int_equal(getattr_cs(b, &oa.fh, &c2, &s2), NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 3000);
	assert_int_equal(la.ga_n, 3);
	assert_int_equal(la.n, 1);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	assert_int_equal(getattr_cs(b, &oa.fh, &c2, &s2), NFS4_OK);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* Serves one client's callbacks on a thread of its own, as a real client's
 * callback service runs beside its other calls. */
struct callback_thread {
	struct nfs4_cl *cl;
	atomic_bool stop;
	bool failed;
};

static void *callback_thread_run(void *arg)
{
	struct callback_thread *t = arg;

	while (!atomic_load(&t->stop))
		if (nfs4_cl_poll(t->cl, 50, true) < 0) {
			t->failed = true;
			break;
		}
	return NULL;
}

/* The holder answers CB_GETATTR while the other client's GETATTR is still
 * pending: that GETATTR waits for the answer and gets the holder's size and
 * change at once (no NFS4ERR_DELAY, no recall; RFC 8881 §10.4.3). In
 * test_write_deleg_cb_getattr the holder answers only after the GETATTR came
 * back, which exercises the DELAY path instead. */
static void test_getattr_waits_for_cb_getattr_answer(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a11", &la), *b = client_plain("deleg-b11");
	struct callback_thread cbt = { .cl = a };
	struct opened oa;
	uint64_t change, size, c2 = 0, s2 = 0;
	nfsstat4 st;
	stateid4 ds;
	pthread_t th;

	(void)state;
	open_write_delegated(a, b, "g2", &oa, &ds, &change, &size);
	la.ga_size = size + 50;
	la.ga_change = change + 3;
	atomic_init(&cbt.stop, false);
	assert_int_equal(pthread_create(&th, NULL, callback_thread_run, &cbt), 0);
	st = getattr_cs(b, &oa.fh, &c2, &s2);
	atomic_store(&cbt.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_false(cbt.failed);
	assert_int_equal(st, NFS4_OK);
	assert_int_equal(la.ga_n, 1);
	assert_int_equal(s2, size + 50);
	assert_int_equal(c2, change + 3);
	assert_int_equal(la.n, 0);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* The client binds a new connection while a recall still holds its only
 * back channel slot on the old one (which stays open, unanswered): the probe
 * of the new connection waits for the slot instead of being dropped, the
 * path comes up, the recall goes out again there, and the client keeps
 * getting delegations afterwards (only an UP path gets them). */
static void test_probe_waits_for_a_busy_slot(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a10", &la), *b = client_plain("deleg-b10");
	struct proto_conn old;
	struct opened oa, ob, oa2;
	proto_call_fn on_call;
	void *on_call_ctx;
	unsigned nulls, seqs;
	stateid4 ds;

	(void)state;
	make_file(b, "k1", "x");
	make_file(b, "k2", "y");
	open_name(a, "k1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	a->cb_drop_calls = 1;
	open_name(b, "k1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	assert_true(nfs4_cl_poll(a, 300, true) >= 0);   /* the recall, dropped */
	assert_int_equal(la.n, 0);
	/* A new connection; the old one stays open with the call in flight. */
	old = a->conn;
	on_call = a->conn.on_call;
	on_call_ctx = a->conn.on_call_ctx;
	assert_int_equal(proto_connect(&a->conn, srv.host, srv.port, 10000), 0);
	a->conn.on_call = on_call;
	a->conn.on_call_ctx = on_call_ctx;
	nulls = a->cb_null_count;
	seqs = a->cb_sequence_count;
	assert_int_equal(nfs4_cl_bind_conn(a, CDFC4_FORE_OR_BOTH), NFS4_OK);
	wait_recall(a, &la, 1, RECALL_TIMEOUT_MS - 500);
	assert_int_equal(la.n, 1);
	/* The probe of the new connection went out (CB_NULL, then its
	 * CB_SEQUENCE once the slot was free), besides the recall. */
	for (int ms = 0; (a->cb_null_count == nulls || a->cb_sequence_count < seqs + 2) &&
			 ms < 3000; ms += 100)
		assert_true(nfs4_cl_poll(a, 100, false) >= 0);
	assert_true(a->cb_null_count > nulls);
	assert_true(a->cb_sequence_count >= seqs + 2);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	open_until_granted(b, "k1", OPEN4_SHARE_ACCESS_WRITE, 2000, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	/* The path is up again: a new read delegation is granted. */
	for (int i = 0; i < 10; i++) {
		usleep(50000);
		assert_int_equal(nfs4_cl_sequence(a), NFS4_OK);
	}
	open_name(a, "k2", false, OPEN4_SHARE_ACCESS_READ, &oa2);
	assert_int_equal(oa2.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa2);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa2.fh, &ds), NFS4_OK);
	proto_close(&old);
	close_opened(a, &oa2);
	close_opened(b, &ob);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* ---- processes on the server ---- */

enum local_act { LOCAL_OPEN_WRITE, LOCAL_OPEN_READ, LOCAL_TRUNCATE, LOCAL_REFLINK };

struct local_job {
	char path[PATH_MAX + 64];
	char dst[PATH_MAX + 64];          /* LOCAL_REFLINK: the clone made of path */
	enum local_act act;
	int rc;
	int64_t start_ms, end_ms;
	char data[128];
};

static void *local_thread(void *arg)
{
	struct local_job *j = arg;
	int fd = -1;

	j->start_ms = proto_now_ms();
	switch (j->act) {
	case LOCAL_OPEN_WRITE:
		fd = open(j->path, O_WRONLY);
		j->rc = fd < 0 ? -errno : 0;
		break;
	case LOCAL_OPEN_READ:
		fd = open(j->path, O_RDONLY);
		j->rc = fd < 0 ? -errno : 0;
		if (fd >= 0 && read(fd, j->data, sizeof(j->data) - 1) < 0)
			j->rc = -errno;
		break;
	case LOCAL_TRUNCATE:
		j->rc = truncate(j->path, 0) < 0 ? -errno : 0;
		break;
	case LOCAL_REFLINK: {
		/* cp --reflink=always: the source's open breaks the lease. */
		int dfd;

		fd = open(j->path, O_RDONLY);
		j->rc = fd < 0 ? -errno : 0;
		if (fd < 0)
			break;
		dfd = open(j->dst, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (dfd < 0 || ioctl(dfd, FICLONE, fd) < 0 ||
		    pread(dfd, j->data, sizeof(j->data) - 1, 0) < 0)
			j->rc = -errno;
		if (dfd >= 0)
			close(dfd);
		break;
	}
	}
	__atomic_store_n(&j->end_ms, proto_now_ms(), __ATOMIC_SEQ_CST);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void local_conflict(const char *name, enum local_act act, uint32_t access,
			   open_delegation_type4 want_type, const char *expect_data)
{
	struct recall_log la = { 0 };
	char owner[64];
	struct nfs4_cl *a, *b;
	struct local_job job;
	struct opened oa;
	pthread_t th;
	stateid4 ds;
	int64_t t_recall;

	snprintf(owner, sizeof(owner), "deleg-local-%s", name);
	a = client_cb(owner, &la);
	snprintf(owner, sizeof(owner), "deleg-local-plain-%s", name);
	b = client_plain(owner);
	make_file(b, name, want_type == OPEN_DELEGATE_WRITE ? NULL : expect_data);
	open_name(a, name, false, access, &oa);
	assert_int_equal(oa.deleg.delegation_type, want_type);
	ds = deleg_sid(&oa);
	if (want_type == OPEN_DELEGATE_WRITE && expect_data) {
		/* Data written under the delegation must be what the local
		 * process reads once the delegation is returned. */
		struct nfs4_cl_compound cp;
		nfs_argop4 *p;

		nfs4_cl_compound_init(&cp, a);
		p = nfs4_cl_add(&cp, OP_PUTFH);
		p->u.opputfh.object = oa.fh;
		nfs4_cl_add_write(&cp, &ds, 0, expect_data, (uint32_t)strlen(expect_data),
				  UNSTABLE4);
		assert_int_equal(nfs4_cl_send(&cp), 0);
		assert_int_equal(cp.status, NFS4_OK);
		nfs4_cl_compound_free(&cp);
	}

	memset(&job, 0, sizeof(job));
	snprintf(job.path, sizeof(job.path), "%s/%s", cur->export_dir, name);
	snprintf(job.dst, sizeof(job.dst), "%s/%s.clone", cur->export_dir, name);
	job.act = act;
	assert_int_equal(pthread_create(&th, NULL, local_thread, &job), 0);
	/* The process blocks in the kernel until the lease is released. */
	wait_recall(a, &la, 1, 5000);
	t_recall = proto_now_ms();
	assert_int_equal(la.n, 1);
	assert_memory_equal(la.sid.other, ds.other, sizeof(ds.other));
	usleep(100000);
	assert_int_equal(__atomic_load_n(&job.end_ms, __ATOMIC_SEQ_CST), 0);   /* still blocked */
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(job.rc, 0);
	print_message("local %s: blocked %lld ms; CB_RECALL %lld ms after it began\n",
		      act == LOCAL_TRUNCATE ? "truncate" : act == LOCAL_REFLINK ? "reflink" : "open",
		      (long long)(job.end_ms - job.start_ms), (long long)(t_recall - job.start_ms));
	if (expect_data && (act == LOCAL_OPEN_READ || act == LOCAL_REFLINK))
		assert_string_equal(job.data, expect_data);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_local_open_for_write_recalls(void **state)
{
	(void)state;
	local_conflict("l1", LOCAL_OPEN_WRITE, OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, NULL);
}

static void test_local_read_of_write_delegated_file(void **state)
{
	(void)state;
	local_conflict("l2", LOCAL_OPEN_READ, OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE,
		       "data the client wrote");
}

static void test_local_truncate_recalls(void **state)
{
	(void)state;
	local_conflict("l3", LOCAL_TRUNCATE, OPEN4_SHARE_ACCESS_READ, OPEN_DELEGATE_READ, NULL);
}

/* cp --reflink of a write-delegated file on XFS: the delegation is recalled,
 * the clone holds what the client wrote under it. Needs root, mkfs.xfs and a
 * loop device; skipped (with the reason) otherwise. */
static void test_local_reflink_of_write_delegated_file(void **state)
{
	struct proto_server_opts o = { .nfsv4_conf = "Recall_Timeout = 4;" };
	struct proto_server xsrv;
	char img[1024], mnt[1024], cmd[8192], exports[1200];
	const char *tmp = getenv("DAXNFS_TEST_TMP");
	bool mounted = false;

	(void)state;
	snprintf(img, sizeof(img), "%.900s/deleg-xfs-%d.img", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(mnt, sizeof(mnt), "%.900s/deleg-xfs-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && truncate -s 300M '%s' && "
		 "mkfs.xfs -q -m reflink=1 '%s' >/dev/null 2>&1 && mount -o loop '%s' '%s' 2>/dev/null",
		 mnt, img, img, img, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		print_message("SKIPPED: no XFS with reflink here (root, mkfs.xfs, a loop device)\n");
		unlink(img);
		rmdir(mnt);
		skip();
	}
	mounted = true;
	snprintf(exports, sizeof(exports), "EXPORT { Export_Id = 1; Path = \"%s\"; Pseudo = /; "
		 "Access_Type = RW; Squash = none; }\n", mnt);
	o.exports_conf = exports;
	memset(&xsrv, 0, sizeof(xsrv));
	assert_int_equal(proto_server_start(&xsrv, "deleg-xfs", &o), 0);
	snprintf(xsrv.export_dir, sizeof(xsrv.export_dir), "%s", mnt);
	cur = &xsrv;
	local_conflict("x1", LOCAL_REFLINK, OPEN4_SHARE_ACCESS_BOTH, OPEN_DELEGATE_WRITE,
		       "cloned after the recall");
	cur = &srv;
	assert_int_equal(proto_server_stop_checked(&xsrv), 0);
	proto_server_cleanup(&xsrv);
	if (mounted) {
		snprintf(cmd, sizeof(cmd), "umount '%s' && rmdir '%s'", mnt, mnt);
		assert_int_equal(system(cmd), 0);
		unlink(img);
	}
}

/* ---- OPEN's wants and reasons ---- */

static void test_want_flags_and_reasons(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a6", &la), *b = client_plain("deleg-b6");
	struct opened oa, ob;
	stateid4 ds;

	(void)state;
	make_file(b, "q1", "q");
	/* NO_DELEG: none, and why. */
	open_name(a, "q1", false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(oa.deleg.u.od_whynone.ond_why, WND4_NOT_WANTED);
	close_opened(a, &oa);
	/* A client without a back channel that asks: NONE_EXT, RESOURCE. */
	open_name(b, "q1", false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
		  &ob);
	assert_int_equal(ob.status, NFS4_OK);
	assert_int_equal(ob.deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(ob.deleg.u.od_whynone.ond_why, WND4_RESOURCE);
	close_opened(b, &ob);
	/* Another client has it open for write: a read delegation would
	 * conflict. */
	open_name(b, "q1", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	open_name(a, "q1", false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
		  &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(oa.deleg.u.od_whynone.ond_why, WND4_CONTENTION);
	close_opened(a, &oa);
	close_opened(b, &ob);
	/* No preference and no conflict: a read delegation for a reader. */
	open_name(a, "q1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* FATTR4_OPEN_ARGUMENTS (RFC 9754), an NFSv4.2 attribute: what OPEN takes
 * here; no delegated timestamps and no OPEN_XOR_DELEGATION are offered. */
static void test_open_arguments_attribute(void **state)
{
	struct nfs4_cl *b = client_plain("deleg-b9");
	uint32_t minor, want[3] = { 0, 0, 1u << (FATTR4_OPEN_ARGUMENTS - 64) };

	(void)state;
	make_file(b, "oa1", NULL);
	for (minor = 1; minor <= 2; minor++) {
		struct nfs4_cl_compound cp;
		const fattr4 *fa;
		nfs_argop4 *g;
		nfs_resop4 *r;
		struct xdr_stream x;
		uint32_t n, w, bm[5] = { 0 };

		nfs4_cl_compound_init(&cp, b);
		cp.minorversion = minor;
		nfs4_cl_add_path(&cp, "oa1");
		g = nfs4_cl_add(&cp, OP_GETATTR);
		g->u.opgetattr.attr_request.len = 3;
		g->u.opgetattr.attr_request.val = want;
		assert_int_equal(nfs4_cl_send(&cp), 0);
		assert_int_equal(cp.status, NFS4_OK);
		r = nfs4_cl_res(&cp, OP_GETATTR);
		fa = &r->u.opgetattr.u.resok4.obj_attributes;
		if (minor == 1) {   /* not an NFSv4.1 attribute */
			assert_true(fa->attrmask.len < 3 || fa->attrmask.val[2] == 0);
			assert_int_equal(fa->attr_vals.len, 0);
			nfs4_cl_compound_free(&cp);
			continue;
		}
		assert_int_equal(fa->attrmask.len, 3);
		assert_int_equal(fa->attrmask.val[2], want[2]);
		xdr_init_decode(&x, fa->attr_vals.val, fa->attr_vals.len, NULL);
		for (int i = 0; i < 5; i++) {
			assert_true(xdr_get_u32(&x, &n));
			assert_true(n <= 1);
			if (n == 1)
				assert_true(xdr_get_u32(&x, &bm[i]));
		}
		assert_int_equal(xdr_remaining(&x), 0);
		assert_int_equal(bm[0], (1u << OPEN_ARGS_SHARE_ACCESS_READ) |
					(1u << OPEN_ARGS_SHARE_ACCESS_WRITE) |
					(1u << OPEN_ARGS_SHARE_ACCESS_BOTH));
		assert_int_equal(bm[1], 0xfu);   /* every deny */
		w = bm[2];
		assert_true(w & (1u << OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG));
		assert_true(w & (1u << OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL));
		assert_false(w & (1u << OPEN_ARGS_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION));
		assert_false(w & (1u << OPEN_ARGS_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS));
		assert_true(bm[3] & (1u << OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH));
		assert_false(bm[3] & (1u << OPEN_ARGS_OPEN_CLAIM_DELEGATE_PREV));
		assert_int_equal(bm[4], 0xfu);   /* every create mode */
		nfs4_cl_compound_free(&cp);
	}
	nfs4_cl_close(b, true);
}

/* ---- too many delegations ---- */

/* From three quarters of Max_Delegations on, holders are asked to give
 * half back (CB_RECALL_ANY); at the limit OPEN grants none (RESOURCE). */
static void test_recall_any_and_limit(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a8", &la), *b = client_plain("deleg-b8");
	struct opened o[MAX_DELEGATIONS + 1];
	unsigned i, granted = 0;
	char name[32];
	stateid4 ds;

	(void)state;
	for (i = 0; i <= MAX_DELEGATIONS; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		make_file(b, name, NULL);
		open_name(a, name, false, OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
			  &o[i]);
		assert_int_equal(o[i].status, NFS4_OK);
		if (o[i].deleg.delegation_type == OPEN_DELEGATE_READ)
			granted++;
	}
	/* The limit: no more than Max_Delegations at once; the one past it
	 * was refused with the reason. */
	assert_int_equal(granted, MAX_DELEGATIONS);
	assert_int_equal(o[MAX_DELEGATIONS].deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o[MAX_DELEGATIONS].deleg.u.od_whynone.ond_why, WND4_RESOURCE);
	/* At 6 of 8 the holder was asked to keep half of what it had. */
	for (int ms = 0; la.ra_n == 0 && ms < 3000; ms += 100)
		assert_true(nfs4_cl_poll(a, 100, true) >= 0);
	assert_int_equal(la.ra_n, 1);
	assert_int_equal(la.ra_keep, (MAX_DELEGATIONS / 4 * 3) / 2);
	assert_int_equal(la.ra_mask, (1u << RCA4_TYPE_MASK_RDATA_DLG) |
				     (1u << RCA4_TYPE_MASK_WDATA_DLG));
	for (i = 0; i <= MAX_DELEGATIONS; i++) {
		if (o[i].deleg.delegation_type == OPEN_DELEGATE_READ) {
			ds = deleg_sid(&o[i]);
			assert_int_equal(nfs4_cl_delegreturn(a, &o[i].fh, &ds), NFS4_OK);
		}
		close_opened(a, &o[i]);
	}
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* ---- reclaim after a restart ---- */

static void test_delegation_reclaimed_after_restart(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("deleg-a7", &la), *b = client_plain("deleg-b7");
	struct nfs4_cl_compound cp;
	struct opened oa;
	verifier4 verf;
	nfs_argop4 *p;
	nfs_resop4 *r;

	(void)state;
	make_file(b, "p1", "p");
	memcpy(verf, a->verifier, sizeof(verf));
	nfs4_cl_close(b, true);
	open_name(a, "p1", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	nfs4_cl_close(a, false);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	assert_int_equal(proto_server_restart(&srv), 0);

	/* The same client comes back and reclaims its open and delegation. */
	assert_int_equal(nfs4_cl_connect(&a, srv.host, srv.port), 0);
	nfs4_cl_set_owner(a, "deleg-a7", 0);
	memcpy(a->verifier, verf, sizeof(verf));   /* the client did not restart */
	a->cb_op = cb_op_recall;
	a->cb_op_ctx = &la;
	assert_int_equal(nfs4_cl_exchange_id(a), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(a, true), NFS4_OK);
	nfs4_cl_compound_init(&cp, a);
	p = nfs4_cl_add(&cp, OP_PUTFH);
	p->u.opputfh.object = oa.fh;
	nfs4_cl_add_open_reclaim(&cp, OPEN4_SHARE_ACCESS_READ);
	cp.ops[cp.nops - 1].u.opopen.claim.u.delegate_type = OPEN_DELEGATE_READ;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_OPEN);
	assert_int_equal(r->u.opopen.u.resok4.delegation.delegation_type, OPEN_DELEGATE_READ);
	oa.sid = r->u.opopen.u.resok4.stateid;
	nfs4_cl_compound_free(&cp);
	assert_int_equal(nfs4_cl_reclaim_complete(a), NFS4_OK);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
}

/* A Recall_Timeout that does not fit in the kernel's lease-break-time
 * stops the daemon at start, with a message that names the key. */
static void test_recall_timeout_must_fit_lease_break_time(void **state)
{
	struct proto_server_opts o = { .nfsv4_conf = "Recall_Timeout = 3600;" };
	unsigned bt = proto_lease_break_time();

	(void)state;
	if (bt > 3600) {
		print_message("lease-break-time %u s: every Recall_Timeout fits; nothing to check\n", bt);
		return;
	}
	assert_true(proto_server_refuses_start("deleg-badrt", &o, "Recall_Timeout = 3600 s does not fit",
					       "lease-break-time"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_deleg_recalled_by_other_clients_write_open),
		cmocka_unit_test(test_write_deleg_data_seen_after_recall),
		cmocka_unit_test(test_unanswered_recall_revoked_others_unaffected),
		cmocka_unit_test(test_recall_resent_after_new_connection),
		cmocka_unit_test(test_probe_waits_for_a_busy_slot),
		cmocka_unit_test(test_write_deleg_cb_getattr),
		cmocka_unit_test(test_getattr_waits_for_cb_getattr_answer),
		cmocka_unit_test(test_local_open_for_write_recalls),
		cmocka_unit_test(test_local_read_of_write_delegated_file),
		cmocka_unit_test(test_local_truncate_recalls),
		cmocka_unit_test(test_local_reflink_of_write_delegated_file),
		cmocka_unit_test(test_want_flags_and_reasons),
		cmocka_unit_test(test_recall_any_and_limit),
		cmocka_unit_test(test_open_arguments_attribute),
		cmocka_unit_test(test_delegation_reclaimed_after_restart),
		cmocka_unit_test(test_recall_timeout_must_fit_lease_break_time),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
