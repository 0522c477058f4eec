/*
 * tests/proto/test_copy_async.c: asynchronous COPY (RFC 7862 §15.2.3 with a
 * callback id), CB_OFFLOAD (§16.1), OFFLOAD_STATUS (§15.9) and
 * OFFLOAD_CANCEL (§15.8) against a real daxnfsd over real sockets, with
 * clients that answer the back channel:
 *  - a 12 MiB COPY the client lets run asynchronously answers at once with a
 *    callback id; CB_OFFLOAD comes later with that stateid, the destination's
 *    handle, the byte count and the COPY's write verifier; the files match
 *    on the server; OFFLOAD_STATUS then answers the count and NFS4_OK; the
 *    same COPY asked synchronously is done within the request;
 *  - a copy paced by Async_Copy_Max_Rate (4 MiB/s here) is seen running by
 *    OFFLOAD_STATUS (bytes so far, no status, growing), OFFLOAD_CANCEL stops
 *    it (the destination stops growing, no CB_OFFLOAD, the stateid is gone);
 *  - while a copy runs, neither file gets a new delegation
 *    (WND4_CONTENTION), after it they do;
 *  - the limits: Max_Async_Copies_Per_Client (2) and Max_Async_Copies (3)
 *    answer NFS4ERR_OFFLOAD_NO_REQS with cr_synchronous, the same COPY asked
 *    synchronously then succeeds; another client's copy stateid is
 *    NFS4ERR_BAD_STATEID;
 *  - a client that reboots (a new verifier) while its copy runs: the copy is
 *    cancelled and its record freed (the destination stops growing; the
 *    server's count at stop says so; valgrind.test_copy_async finds no leak).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

#define MIB (1024u * 1024u)

static struct proto_server srv;

/* What a client saw of CB_OFFLOAD (and the recall log the helpers want). */
struct offload_log {
	struct recall_log recalls;
	unsigned n;
	CB_OFFLOAD4args last;             /* coa_fh copied into fh */
	uint8_t fh[NFS4_FHSIZE];
	int64_t when_ms;
};

static nfsstat4 cb_op_offload(struct nfs4_cl *cl, const nfs_cb_argop4 *op, nfs_cb_resop4 *res,
			      struct arena *arena, void *ctx)
{
	struct offload_log *l = ctx;

	if (op->argop != OP_CB_OFFLOAD)
		return cb_op_recall(cl, op, res, arena, &l->recalls);
	l->n++;
	l->last = op->u.opcboffload;
	assert_true(op->u.opcboffload.coa_fh.len <= sizeof(l->fh));
	memcpy(l->fh, op->u.opcboffload.coa_fh.val, op->u.opcboffload.coa_fh.len);
	l->last.coa_fh.val = l->fh;
	l->when_ms = proto_now_ms();
	res->u.opcboffload.cor_status = NFS4_OK;
	return NFS4_OK;
}

/* A minor version 2 client with a working back channel that logs CB_OFFLOAD. */
static struct nfs4_cl *client_copy(const char *owner, struct offload_log *log)
{
	struct nfs4_cl *cl;

	memset(log, 0, sizeof(*log));
	cl = client_cb_minor(owner, &log->recalls, 2);
	cl->cb_op = cb_op_offload;
	cl->cb_op_ctx = log;
	return cl;
}

static int group_setup(void **state)
{
	struct proto_server_opts o = {
		/* 4 MiB/s: a 64 MiB copy runs 16 s, longer than any test waits */
		.nfsv4_conf = "Max_Async_Copies = 3; Max_Async_Copies_Per_Client = 2; "
			      "Async_Copy_Max_Rate = 4;",
	};

	(void)state;
	cur = &srv;
	return proto_server_start(&srv, "copy-async", &o);
}

static int group_teardown(void **state)
{
	(void)state;
	return srv.pid ? proto_server_stop_checked(&srv) : 0;
}

/* ---- the server's files ---- */

static void server_path(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", srv.export_dir, name);
}

/* A file of size bytes on the server, each 8-byte word its own offset. */
static void make_server_file(const char *name, uint64_t size)
{
	static uint64_t buf[MIB / 8];
	char path[4200];
	uint64_t off, i;
	int fd;

	server_path(name, path, sizeof(path));
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	for (off = 0; off < size; off += MIB) {
		for (i = 0; i < MIB / 8; i++)
			buf[i] = off + 8 * i;
		assert_int_equal(pwrite(fd, buf, MIB, (off_t)off), (ssize_t)MIB);
	}
	close(fd);
}

static off_t server_size(const char *name)
{
	char path[4200];
	struct stat st;

	server_path(name, path, sizeof(path));
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The size of name once it stopped changing (the same in three looks
 * 200 ms apart, 10 s at most): a stopped copy's last chunk is done. */
static off_t server_size_settled(const char *name)
{
	off_t last = server_size(name), now;
	int same = 0;

	for (int i = 0; i < 50 && same < 3; i++) {
		usleep(200000);
		now = server_size(name);
		same = now == last ? same + 1 : 0;
		last = now;
	}
	assert_int_equal(same, 3);
	return last;
}

/* The first len bytes of a and b on the server are the same. */
static bool server_same(const char *a, const char *b, uint64_t len)
{
	static uint8_t ba[MIB], bb[MIB];
	char pa[4200], pb[4200];
	bool same = true;
	int fa, fb;

	server_path(a, pa, sizeof(pa));
	server_path(b, pb, sizeof(pb));
	fa = open(pa, O_RDONLY);
	fb = open(pb, O_RDONLY);
	assert_true(fa >= 0 && fb >= 0);
	for (uint64_t off = 0; same && off < len; off += MIB) {
		size_t n = len - off < MIB ? (size_t)(len - off) : MIB;

		same = pread(fa, ba, n, (off_t)off) == (ssize_t)n &&
		       pread(fb, bb, n, (off_t)off) == (ssize_t)n && memcmp(ba, bb, n) == 0;
	}
	close(fa);
	close(fb);
	return same;
}

/* ---- one compound per operation ---- */

struct copy_answer {
	nfsstat4 status;
	bool has_id, synchronous;
	stateid4 id;
	uint64_t count;
	stable_how4 committed;
	verifier4 verf;
};

static struct copy_answer copy_op(struct nfs4_cl *cl, const struct opened *s,
				  const struct opened *d, uint64_t count, bool synchronous)
{
	struct copy_answer ans = { 0 };
	struct nfs4_cl_compound cp;
	COPY4args *a;
	nfs_resop4 *r;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = s->fh;
	nfs4_cl_add(&cp, OP_SAVEFH);
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = d->fh;
	a = &nfs4_cl_add(&cp, OP_COPY)->u.opcopy;
	a->ca_src_stateid = s->sid;
	a->ca_dst_stateid = d->sid;
	a->ca_count = count;
	a->ca_consecutive = true;
	a->ca_synchronous = synchronous;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	ans.status = cp.status;
	r = nfs4_cl_res(&cp, OP_COPY);
	if (r && cp.status == NFS4_OK) {
		const write_response4 *w = &r->u.opcopy.u.cr_resok4.cr_response;

		ans.has_id = w->wr_callback_id.len == 1;
		if (ans.has_id)
			ans.id = w->wr_callback_id.val[0];
		ans.count = w->wr_count;
		ans.committed = w->wr_committed;
		memcpy(ans.verf, w->wr_writeverf, sizeof(verifier4));
		ans.synchronous = r->u.opcopy.u.cr_resok4.cr_requirements.cr_synchronous;
	} else if (r && cp.status == NFS4ERR_OFFLOAD_NO_REQS) {
		ans.synchronous = r->u.opcopy.u.cr_requirements.cr_synchronous;
	}
	nfs4_cl_compound_free(&cp);
	return ans;
}

/* OFFLOAD_STATUS: the status; *count and *complete (-1: none yet). */
static nfsstat4 offload_status(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *id,
			       uint64_t *count, int *complete)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add(&cp, OP_OFFLOAD_STATUS)->u.opoffload_status.osa_stateid = *id;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	r = nfs4_cl_res(&cp, OP_OFFLOAD_STATUS);
	*complete = -2;
	if (r && st == NFS4_OK) {
		const OFFLOAD_STATUS4resok *ok = &r->u.opoffload_status.u.osr_resok4;

		*count = ok->osr_count;
		assert_true(ok->osr_complete.len <= 1);
		*complete = ok->osr_complete.len ? (int)ok->osr_complete.val[0] : -1;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static nfsstat4 offload_cancel(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *id)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.minorversion = 2;
	nfs4_cl_add(&cp, OP_PUTFH)->u.opputfh.object = *fh;
	nfs4_cl_add(&cp, OP_OFFLOAD_CANCEL)->u.opoffload_cancel.oca_stateid = *id;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	st = cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void open2(struct nfs4_cl *cl, const char *name, bool create, uint32_t access,
		  struct opened *o)
{
	/* No delegation: the test reads the files on the server, which would
	 * break its lease and wait for a recall this client does not answer
	 * while it sleeps. */
	open_in(cl, 2, "", name, create, access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
		OPEN4_SHARE_DENY_NONE, o);
	assert_int_equal(o->status, NFS4_OK);
}

/* Polls the back channel until log has n CB_OFFLOADs or ms pass. */
static void wait_offload(struct nfs4_cl *cl, struct offload_log *log, unsigned n, int ms)
{
	for (int t = 0; log->n < n && t < ms; t += 100)
		assert_true(nfs4_cl_poll(cl, 100, true) >= 0);
}

/* ---- tests ---- */

static void test_async_copy_reports_with_cb_offload(void **state)
{
	struct offload_log log;
	struct nfs4_cl *cl;
	struct opened s, d, d2;
	struct copy_answer ans, sync;
	uint64_t count = 0;
	int complete;
	int64_t t0;

	(void)state;
	make_server_file("a-src", 12 * MIB);
	cl = client_copy("copy-a", &log);
	open2(cl, "a-src", false, OPEN4_SHARE_ACCESS_READ, &s);
	open2(cl, "a-dst", true, OPEN4_SHARE_ACCESS_BOTH, &d);
	t0 = proto_now_ms();
	ans = copy_op(cl, &s, &d, 0, false);
	assert_int_equal(ans.status, NFS4_OK);
	assert_true(ans.has_id);
	assert_false(ans.synchronous);
	assert_int_equal(ans.count, 0);
	wait_offload(cl, &log, 1, 20000);
	assert_int_equal(log.n, 1);
	print_message("CB_OFFLOAD %lld ms after the COPY (12 MiB at 4 MiB/s)\n",
		      (long long)(log.when_ms - t0));
	assert_memory_equal(log.last.coa_stateid.other, ans.id.other, 12);
	assert_int_equal(log.last.coa_stateid.seqid, ans.id.seqid);
	assert_int_equal(log.last.coa_fh.len, d.fh.len);
	assert_memory_equal(log.last.coa_fh.val, d.fh.val, d.fh.len);
	assert_int_equal(log.last.coa_offload_info.coa_status, NFS4_OK);
	assert_int_equal(log.last.coa_offload_info.u.coa_resok4.wr_count, 12 * MIB);
	assert_int_equal(log.last.coa_offload_info.u.coa_resok4.wr_callback_id.len, 0);
	assert_memory_equal(log.last.coa_offload_info.u.coa_resok4.wr_writeverf, ans.verf,
			    sizeof(verifier4));
	assert_int_equal(server_size("a-dst"), (off_t)(12 * MIB));
	assert_true(server_same("a-src", "a-dst", 12 * MIB));
	/* Done: OFFLOAD_STATUS answers the count and the outcome. */
	assert_int_equal(offload_status(cl, &d.fh, &ans.id, &count, &complete), NFS4_OK);
	assert_int_equal(count, 12 * MIB);
	assert_int_equal(complete, NFS4_OK);
	/* Asked synchronously, the same copy is done within the request. */
	open2(cl, "a-dst2", true, OPEN4_SHARE_ACCESS_BOTH, &d2);
	sync = copy_op(cl, &s, &d2, 0, true);
	assert_int_equal(sync.status, NFS4_OK);
	assert_false(sync.has_id);
	assert_true(sync.synchronous);
	assert_int_equal(sync.count, 12 * MIB);
	assert_true(server_same("a-src", "a-dst2", 12 * MIB));
	assert_true(nfs4_cl_poll(cl, 300, false) >= 0);
	assert_int_equal(log.n, 1);   /* no second CB_OFFLOAD for it */
	close_opened(cl, &d2);
	close_opened(cl, &d);
	close_opened(cl, &s);
	/* A finished copy's record is no state that DESTROY_CLIENTID waits for. */
	assert_int_equal(nfs4_cl_destroy_session(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_destroy_clientid(cl), NFS4_OK);
	nfs4_cl_close(cl, false);
}

static void test_async_copy_status_then_cancel(void **state)
{
	struct offload_log log;
	struct nfs4_cl *cl;
	struct opened s, d;
	struct copy_answer ans;
	uint64_t c1 = 0, c2 = 0;
	off_t z1, z2;
	int complete;

	(void)state;
	make_server_file("b-src", 64 * MIB);
	cl = client_copy("copy-b", &log);
	open2(cl, "b-src", false, OPEN4_SHARE_ACCESS_READ, &s);
	open2(cl, "b-dst", true, OPEN4_SHARE_ACCESS_BOTH, &d);
	ans = copy_op(cl, &s, &d, 0, false);
	assert_int_equal(ans.status, NFS4_OK);
	assert_true(ans.has_id);
	usleep(600000);
	assert_int_equal(offload_status(cl, &d.fh, &ans.id, &c1, &complete), NFS4_OK);
	assert_int_equal(complete, -1);   /* running: no status yet */
	assert_true(c1 > 0 && c1 < 64 * MIB);
	/* The copy is named by its destination and its stateid together. */
	assert_int_equal(offload_status(cl, &s.fh, &ans.id, &c2, &complete), NFS4ERR_BAD_STATEID);
	usleep(1000000);
	assert_int_equal(offload_status(cl, &d.fh, &ans.id, &c2, &complete), NFS4_OK);
	assert_int_equal(complete, -1);
	assert_true(c2 > c1 && c2 < 64 * MIB);
	print_message("OFFLOAD_STATUS: %llu then %llu bytes copied\n", (unsigned long long)c1,
		      (unsigned long long)c2);
	assert_int_equal(offload_cancel(cl, &d.fh, &ans.id), NFS4_OK);
	/* It stops: the destination no longer grows, no CB_OFFLOAD comes, the
	 * stateid is gone. */
	z1 = server_size_settled("b-dst");
	assert_true(nfs4_cl_poll(cl, 1000, false) >= 0);
	z2 = server_size("b-dst");
	assert_int_equal(z1, z2);
	assert_true(z2 < (off_t)(64 * MIB));
	assert_int_equal(log.n, 0);
	assert_int_equal(offload_status(cl, &d.fh, &ans.id, &c2, &complete), NFS4ERR_BAD_STATEID);
	assert_int_equal(offload_cancel(cl, &d.fh, &ans.id), NFS4ERR_BAD_STATEID);
	close_opened(cl, &d);
	close_opened(cl, &s);
	nfs4_cl_close(cl, true);
}

/* OPEN with a delegation wanted (a client with a back channel). */
static void open_wanting(struct nfs4_cl *cl, const char *name, uint32_t access,
			 struct opened *o)
{
	open_in(cl, 2, "", name, false, access, OPEN4_SHARE_DENY_NONE, o);
	assert_int_equal(o->status, NFS4_OK);
}

static void test_no_delegation_while_copying(void **state)
{
	struct offload_log la, lb;
	struct nfs4_cl *a, *b;
	struct opened s, d, o;
	struct copy_answer ans;
	int granted_after = -1;

	(void)state;
	make_server_file("e-src", 64 * MIB);
	a = client_copy("copy-e1", &la);
	b = client_copy("copy-e2", &lb);
	/* The copier copies with the anonymous stateid, holding no open that
	 * would keep delegations away by itself. */
	open2(a, "e-src", false, OPEN4_SHARE_ACCESS_READ, &s);
	open2(a, "e-dst", true, OPEN4_SHARE_ACCESS_BOTH, &d);
	assert_int_equal(nfs4_cl_close_file(a, &s.fh, &s.sid), NFS4_OK);
	assert_int_equal(nfs4_cl_close_file(a, &d.fh, &d.sid), NFS4_OK);
	memset(&s.sid, 0, sizeof(s.sid));
	memset(&d.sid, 0, sizeof(d.sid));
	ans = copy_op(a, &s, &d, 0, false);
	assert_int_equal(ans.status, NFS4_OK);
	assert_true(ans.has_id);
	/* While it runs: no read delegation on the destination (its holder
	 * would cache what the copy changes), no write delegation on the
	 * source (the copy would miss what its holder caches). */
	open_wanting(b, "e-dst", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &o);
	assert_int_equal(o.deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.deleg.u.od_whynone.ond_why, WND4_CONTENTION);
	close_opened(b, &o);
	open_wanting(b, "e-src", OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, &o);
	assert_int_equal(o.deleg.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(o.deleg.u.od_whynone.ond_why, WND4_CONTENTION);
	close_opened(b, &o);
	/* Once the copy is over (cancelled here), delegations come again. */
	assert_int_equal(offload_cancel(a, &d.fh, &ans.id), NFS4_OK);
	for (int ms = 0; ms < 2000 && granted_after < 0; ms += 50) {
		open_wanting(b, "e-dst", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
			     &o);
		if (o.deleg.delegation_type == OPEN_DELEGATE_READ) {
			granted_after = ms;
			assert_int_equal(nfs4_cl_delegreturn(b, &o.fh, &o.deleg.u.read.stateid),
					 NFS4_OK);
		}
		close_opened(b, &o);
		if (granted_after < 0)
			usleep(50000);
	}
	assert_true(granted_after >= 0);
	free(s.fh.val);
	free(d.fh.val);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_async_copy_limits(void **state)
{
	struct offload_log la, lb;
	struct nfs4_cl *a, *b;
	struct opened sa, sb, d[5];
	struct copy_answer ans[5], sync;
	uint64_t count;
	int complete;
	char name[32];

	(void)state;
	make_server_file("c-src", 64 * MIB);
	a = client_copy("copy-c1", &la);
	b = client_copy("copy-c2", &lb);
	open2(a, "c-src", false, OPEN4_SHARE_ACCESS_READ, &sa);
	open2(b, "c-src", false, OPEN4_SHARE_ACCESS_READ, &sb);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "c-dst%d", i);
		open2(i < 3 ? a : b, name, true, OPEN4_SHARE_ACCESS_BOTH, &d[i]);
	}
	/* Two of one client run; its third is refused, with what it could do. */
	ans[0] = copy_op(a, &sa, &d[0], 0, false);
	ans[1] = copy_op(a, &sa, &d[1], 0, false);
	assert_int_equal(ans[0].status, NFS4_OK);
	assert_int_equal(ans[1].status, NFS4_OK);
	ans[2] = copy_op(a, &sa, &d[2], 0, false);
	assert_int_equal(ans[2].status, NFS4ERR_OFFLOAD_NO_REQS);
	assert_true(ans[2].synchronous);
	/* The other client gets the server's third; a fourth is refused. */
	ans[3] = copy_op(b, &sb, &d[3], 0, false);
	assert_int_equal(ans[3].status, NFS4_OK);
	ans[4] = copy_op(b, &sb, &d[4], 0, false);
	assert_int_equal(ans[4].status, NFS4ERR_OFFLOAD_NO_REQS);
	/* Asked synchronously, the refused copy is done at once (at most
	 * 32 MiB in one COPY: a short count the client goes on from). */
	sync = copy_op(a, &sa, &d[2], 0, true);
	assert_int_equal(sync.status, NFS4_OK);
	assert_false(sync.has_id);
	assert_int_equal(sync.count, 32 * MIB);
	assert_true(server_same("c-src", "c-dst2", 32 * MIB));
	/* A copy stateid is its client's. */
	assert_int_equal(offload_status(b, &d[0].fh, &ans[0].id, &count, &complete),
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(offload_cancel(b, &d[0].fh, &ans[0].id), NFS4ERR_BAD_STATEID);
	assert_int_equal(offload_status(a, &d[0].fh, &ans[0].id, &count, &complete), NFS4_OK);
	/* Cancelled, a copy leaves room for a new one once its worker has
	 * stopped (after the chunk in hand: the limit counts threads). */
	assert_int_equal(offload_cancel(a, &d[0].fh, &ans[0].id), NFS4_OK);
	for (int ms = 0; ms < 2000; ms += 50) {
		ans[2] = copy_op(a, &sa, &d[2], 0, false);
		if (ans[2].status != NFS4ERR_OFFLOAD_NO_REQS)
			break;
		usleep(50000);
	}
	assert_int_equal(ans[2].status, NFS4_OK);
	assert_int_equal(offload_cancel(a, &d[1].fh, &ans[1].id), NFS4_OK);
	assert_int_equal(offload_cancel(a, &d[2].fh, &ans[2].id), NFS4_OK);
	assert_int_equal(offload_cancel(b, &d[3].fh, &ans[3].id), NFS4_OK);
	for (int i = 0; i < 5; i++)
		close_opened(i < 3 ? a : b, &d[i]);
	close_opened(a, &sa);
	close_opened(b, &sb);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

/* The last test: it stops the server to read its counts. */
static void test_async_copy_cancelled_when_client_reboots(void **state)
{
	struct offload_log log, log2;
	struct nfs4_cl *cl, *again;
	struct opened s, d;
	struct copy_answer ans;
	unsigned long long started, completed, cancelled, refused, answered;
	off_t z1, z2;
	char line[512];
	bool found = false;
	FILE *f;

	(void)state;
	make_server_file("d-src", 64 * MIB);
	cl = client_copy("copy-d", &log);
	open2(cl, "d-src", false, OPEN4_SHARE_ACCESS_READ, &s);
	open2(cl, "d-dst", true, OPEN4_SHARE_ACCESS_BOTH, &d);
	ans = copy_op(cl, &s, &d, 0, false);
	assert_int_equal(ans.status, NFS4_OK);
	usleep(500000);
	/* The same owner with a new verifier: the old client's state goes. */
	memset(&log2, 0, sizeof(log2));
	assert_int_equal(nfs4_cl_connect(&again, srv.host, srv.port), 0);
	again->minorversion = 2;
	nfs4_cl_set_owner(again, "copy-d", (uint64_t)proto_now_ms() + 1);
	assert_int_equal(nfs4_cl_exchange_id(again), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(again, false), NFS4_OK);
	z1 = server_size_settled("d-dst");
	assert_true(nfs4_cl_poll(cl, 1000, false) >= 0);
	z2 = server_size("d-dst");
	assert_int_equal(z1, z2);
	assert_true(z2 < (off_t)(64 * MIB));
	assert_int_equal(log.n, 0);
	nfs4_cl_close(again, true);
	nfs4_cl_close(cl, false);
	free(s.fh.val);
	free(d.fh.val);
	/* The server's counts at its stop: the completed copy, the seven
	 * cancelled (four by OFFLOAD_CANCEL in the limits test, two before,
	 * this one), two refused (and maybe a retry); the CB_OFFLOAD answered. */
	assert_int_equal(proto_server_stop(&srv), 0);
	f = fopen(srv.log_path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "asynchronous copies: ");

		if (p && sscanf(p, "asynchronous copies: %llu started, %llu completed, %llu cancelled, "
				"%llu refused at the limits; %llu CB_OFFLOADs answered", &started,
				&completed, &cancelled, &refused, &answered) == 5)
			found = true;
	}
	fclose(f);
	assert_true(found);
	print_message("server: %llu started, %llu completed, %llu cancelled, %llu refused, "
		      "%llu CB_OFFLOADs answered\n", started, completed, cancelled, refused,
		      answered);
	assert_int_equal(started, 8);
	assert_int_equal(completed, 1);
	assert_int_equal(cancelled, 7);
	assert_true(refused >= 2);   /* and the retries while a worker stopped */
	assert_int_equal(answered, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_copy_reports_with_cb_offload),
		cmocka_unit_test(test_async_copy_status_then_cancel),
		cmocka_unit_test(test_no_delegation_while_copying),
		cmocka_unit_test(test_async_copy_limits),
		cmocka_unit_test(test_async_copy_cancelled_when_client_reboots),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
