/*
 * tests/bench/recall_bench.c: delegation recall latency against a running
 * NFSv4.1 server (scripts/bench-recall.sh starts daxnfsd for it).
 *
 * Serial: N times, a holder client opens a fresh file for reading and gets a
 * read delegation; a second client's OPEN for write is answered
 * NFS4ERR_DELAY, the holder receives CB_RECALL and sends DELEGRETURN, and
 * the second client's OPEN is sent again and granted. Printed: p50/p99 of
 * conflicting OPEN -> DELAY answered -> CB_RECALL at the holder ->
 * DELEGRETURN answered -> OPEN granted.
 * Fan-out: C holder clients (one thread each) hold read delegations on C
 * files; the second client sends the C conflicting OPENs at once, then
 * retries each until granted. Printed: p50/p99 over the files of conflicting
 * OPEN -> CB_RECALL at its holder, and -> OPEN granted, and the wall time
 * for all C. The files are made before each part, then SETTLE_S seconds
 * pass (see make_batch). A holder OPEN the server answers without a
 * delegation is counted and its file skipped (see declined); every client
 * renews its lease while it waits (see keepalive).
 *
 * usage: recall_bench HOST PORT [-n N] [-c C]
 * Not a test: never run by ctest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/proto/lib/nfs4_client.h"

#define SETTLE_S 5
/* After a holder OPEN answered without a delegation: the pause before the
 * next file, and how long a part goes on without any grant (see declined). */
#define DECLINE_PAUSE_MS 500
#define GIVE_UP_S 180

static const char *host;
static uint16_t port;
static unsigned run_id;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, int code)
{
	fprintf(stderr, "recall_bench: %s: %d\n", what, code);
	exit(1);
}

/* Lease renewal. A client can sit idle for longer than a lease: a
 * fan-out's first holders while the others are set up, every client while
 * a batch of files is made. knfsd in the VM test bed has a 15 s lease, and
 * knfsd 6.1 keeps a client whose lease ran out as a courtesy client and
 * expires it at the first conflict with its delegation
 * (nfsd_break_deleg_cb). So the clients in live[] send a SEQUENCE each a
 * third of the server's lease time (FATTR4_LEASE_TIME) after the last
 * round; only the main thread calls this, and only while no holder thread
 * runs. */
static struct nfs4_cl **live;
static unsigned nlive, live_cap;
static int64_t renew_us, renewed_us;

static void live_add(struct nfs4_cl *cl)
{
	if (nlive == live_cap) {
		unsigned cap = live_cap ? 2 * live_cap : 16;
		struct nfs4_cl **l = realloc(live, cap * sizeof(*l));

		if (!l)
			die("realloc", ENOMEM);
		live = l;
		live_cap = cap;
	}
	live[nlive++] = cl;
}

static void keepalive(bool now)
{
	nfsstat4 st;

	if (!now && now_us() - renewed_us < renew_us)
		return;
	for (unsigned i = 0; i < nlive; i++) {
		st = nfs4_cl_sequence(live[i]);
		if (st != NFS4_OK)
			die("SEQUENCE (lease renewal)", (int)st);
	}
	renewed_us = now_us();
}

/* The server's lease time in seconds (FATTR4_LEASE_TIME of the root), 0 if
 * it does not say. */
static uint32_t lease_time(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	const struct xdr_opaque *v;
	nfs_resop4 *r;
	uint32_t s = 0;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_LEASE_TIME, 0);
	if (nfs4_cl_send(&cp) == 0 && cp.status == NFS4_OK &&
	    (r = nfs4_cl_res(&cp, OP_GETATTR)) != NULL) {
		v = &r->u.opgetattr.u.resok4.obj_attributes.attr_vals;
		if (v->len >= 4)   /* the one attribute asked for: a uint32 */
			s = (uint32_t)v->val[0] << 24 | (uint32_t)v->val[1] << 16 |
			    (uint32_t)v->val[2] << 8 | v->val[3];
	}
	nfs4_cl_compound_free(&cp);
	return s;
}

struct holder {
	struct nfs4_cl *cl;
	unsigned recalls;
	int64_t recall_us;
	stateid4 sid;
	/* the file it holds */
	char name[64];
	stateid4 open_sid, deleg_sid;
	nfs_fh4 fh;
	pthread_t thread;
	int64_t returned_us;
	int64_t deadline_us;
};

static nfsstat4 on_cb_op(struct nfs4_cl *cl, const nfs_cb_argop4 *op, nfs_cb_resop4 *res,
			 struct arena *arena, void *ctx)
{
	struct holder *h = ctx;

	(void)cl;
	(void)arena;
	if (op->argop != OP_CB_RECALL) {
		res->u.opcbrecall.status = NFS4ERR_NOTSUPP;
		return NFS4ERR_NOTSUPP;
	}
	h->recalls++;
	h->recall_us = now_us();
	h->sid = op->u.opcbrecall.stateid;
	res->u.opcbrecall.status = NFS4_OK;
	return NFS4_OK;
}

static struct nfs4_cl *client(const char *owner, struct holder *h)
{
	struct nfs4_cl *cl = NULL;
	char own[128];
	nfsstat4 st;
	int i;

	snprintf(own, sizeof(own), "%s-%u", owner, run_id);
	if (nfs4_cl_connect(&cl, host, port) < 0)
		die("connect", errno);
	nfs4_cl_set_owner(cl, own, (uint64_t)now_us());
	if (h) {
		cl->cb_op = on_cb_op;
		cl->cb_op_ctx = h;
	}
	st = nfs4_cl_exchange_id(cl);
	if (st != NFS4_OK) {
		fprintf(stderr, "recall_bench: EXCHANGE_ID: call %d (%s), reply_stat %u "
			"accept_stat %u\n", cl->last_rpc_rc, strerror(-cl->last_rpc_rc),
			cl->last_reply_stat, cl->last_accept_stat);
		die("EXCHANGE_ID", (int)st);
	}
	st = nfs4_cl_create_session(cl, h != NULL);
	if (st != NFS4_OK)
		die("CREATE_SESSION", (int)st);
	/* A holder's back channel: daxnfsd probes it with a CB_SEQUENCE after
	 * the session's first SEQUENCE; knfsd sends no probe on a 4.1 session
	 * and trusts its channel until a callback fails (nfsd4_run_cb_work:
	 * "Don't send probe messages for 4.1 or later"). A few SEQUENCEs,
	 * reading the connection for 20 ms after each, answer a probe that
	 * comes either way before the first OPEN, and wait no longer for one
	 * that does not come. */
	if (h) {
		for (i = 0; i < 5; i++) {
			st = nfs4_cl_sequence(cl);
			if (st != NFS4_OK)
				die("SEQUENCE", (int)st);
			if (nfs4_cl_poll(cl, 20, false) < 0)
				die("poll", errno);
		}
	}
	/* knfsd answers a 4.1 client's CLAIM_NULL OPEN before this with
	 * NFS4ERR_GRACE (nfsd4_open; RFC 8881 18.51.3). */
	st = nfs4_cl_reclaim_complete(cl);
	if (st != NFS4_OK)
		die("RECLAIM_COMPLETE", (int)st);
	return cl;
}

/* OPEN name in the root; returns the status, fills the stateids and fh. */
static nfsstat4 open_file(struct nfs4_cl *cl, const char *name, bool create, uint32_t access,
			  stateid4 *sid, stateid4 *deleg, open_delegation_type4 *dtype,
			  nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, "");
	nfs4_cl_add_open(&cp, name, create, access, OPEN4_SHARE_DENY_NONE);
	nfs4_cl_add(&cp, OP_GETFH);
	if (nfs4_cl_send(&cp) < 0)
		die("send OPEN", errno);
	st = cp.status;
	if (st == NFS4_OK) {
		r = nfs4_cl_res(&cp, OP_OPEN);
		*sid = r->u.opopen.u.resok4.stateid;
		if (dtype)
			*dtype = r->u.opopen.u.resok4.delegation.delegation_type;
		if (deleg)
			*deleg = r->u.opopen.u.resok4.delegation.u.read.stateid;
		r = nfs4_cl_res(&cp, OP_GETFH);
		if (fh) {
			fh->len = r->u.opgetfh.u.resok4.object.len;
			fh->val = malloc(fh->len);
			if (!fh->val)
				die("malloc", ENOMEM);
			memcpy(fh->val, r->u.opgetfh.u.resok4.object.val, fh->len);
		}
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_pct(const char *what, int64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("| %s | %u | %.1f | %.1f | %.1f |\n", what, n, v[n / 2] / 1000.0,
	       v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0, v[n - 1] / 1000.0);
}

/* Makes name (by the plain client) and closes it. */
static void make(struct nfs4_cl *plain, const char *name)
{
	stateid4 sid;
	nfs_fh4 fh;

	if (open_file(plain, name, true, OPEN4_SHARE_ACCESS_BOTH, &sid, NULL, NULL, &fh) != NFS4_OK)
		die("create", 0);
	if (nfs4_cl_close_file(plain, &fh, &sid) != NFS4_OK)
		die("close", 0);
	free(fh.val);
}

/* The files a part uses, PREFIX<run>-<i>, made in batches by the plain
 * client: the first before the part, another whenever holders declined
 * by the server have used them up. */
struct pool {
	const char *prefix;
	unsigned batch, made, used;
};

/* One batch, then a pause: a server that kept a file a client wrote open
 * in a file cache after the CLOSE could not set the read lease behind a
 * delegation on it meanwhile. (knfsd 6.1, which the pause was added for,
 * does not: in a trace in the VM test bed its nfsd_file is freed at the
 * CLOSE.) The same shape for every server. */
static void make_batch(struct nfs4_cl *plain, struct pool *p)
{
	char name[64];
	unsigned i;

	for (i = 0; i < p->batch; i++) {
		snprintf(name, sizeof(name), "%s%u-%u", p->prefix, run_id, p->made + i);
		make(plain, name);
		keepalive(false);
	}
	p->made += p->batch;
	for (i = 0; i < SETTLE_S; i++) {
		sleep(1);
		keepalive(false);
	}
}

static void pool_next(struct nfs4_cl *plain, struct pool *p, char *name, size_t len)
{
	if (p->used == p->made)
		make_batch(plain, p);
	snprintf(name, len, "%s%u-%u", p->prefix, run_id, p->used++);
}

/* A holder OPEN the server answered without a delegation: the file is
 * closed and skipped, after a pause. knfsd declines a file it recalled a
 * delegation on in the last 30-60 s, and tells them apart by a 256-bit
 * bloom filter of file handles, 3 bits each (fs/nfsd/nfs4state.c,
 * delegation_blocked): a burst of recalls of different files fills it, and
 * then it declines almost every file until the filter's halves have been
 * swapped out (every 30 s, at an OPEN). The pause keeps the files made for
 * such retries few; GIVE_UP_S without a grant ends the run. */
static void declined(struct nfs4_cl *cl, nfs_fh4 *fh, const stateid4 *sid, unsigned *count,
		     int64_t last_grant_us)
{
	if (nfs4_cl_close_file(cl, fh, sid) != NFS4_OK)
		die("CLOSE", 0);
	free(fh->val);
	(*count)++;
	if (now_us() - last_grant_us > GIVE_UP_S * 1000000LL) {
		fprintf(stderr, "recall_bench: no read delegation granted in %d s "
			"(%u holder OPENs answered without one)\n", GIVE_UP_S, *count);
		exit(1);
	}
	usleep(DECLINE_PAUSE_MS * 1000);
	keepalive(false);
}

static void serial(struct nfs4_cl *plain, unsigned n)
{
	struct holder h;
	int64_t *delay = calloc(n, sizeof(int64_t)), *recall = calloc(n, sizeof(int64_t));
	int64_t *ret = calloc(n, sizeof(int64_t)), *granted = calloc(n, sizeof(int64_t));
	struct pool pool = { "s", n, 0, 0 };
	unsigned got = 0, nodeleg = 0;
	int64_t start, last_grant;

	if (!delay || !recall || !ret || !granted)
		die("calloc", ENOMEM);
	make_batch(plain, &pool);
	memset(&h, 0, sizeof(h));
	h.cl = client("recall-holder", &h);
	live_add(h.cl);
	start = last_grant = now_us();
	while (got < n) {
		open_delegation_type4 dt;
		stateid4 osid, dsid, bsid;
		nfs_fh4 fh, bfh;
		char name[64];
		int64_t t0, t1, t3, t4;
		nfsstat4 st;

		pool_next(plain, &pool, name, sizeof(name));
		if (open_file(h.cl, name, false, OPEN4_SHARE_ACCESS_READ, &osid, &dsid, &dt,
			      &fh) != NFS4_OK)
			die("holder OPEN", 0);
		if (dt != OPEN_DELEGATE_READ) {
			declined(h.cl, &fh, &osid, &nodeleg, last_grant);
			continue;
		}
		last_grant = now_us();
		h.recalls = 0;
		t0 = now_us();
		st = open_file(plain, name, false, OPEN4_SHARE_ACCESS_WRITE, &bsid, NULL, NULL,
			       &bfh);
		t1 = now_us();
		if (st != NFS4ERR_DELAY)
			die("conflicting OPEN was not DELAYed", (int)st);
		while (h.recalls == 0)
			if (nfs4_cl_poll(h.cl, 1000, true) < 0)
				die("poll", errno);
		if (nfs4_cl_delegreturn(h.cl, &fh, &dsid) != NFS4_OK)
			die("DELEGRETURN", 0);
		t3 = now_us();
		while ((st = open_file(plain, name, false, OPEN4_SHARE_ACCESS_WRITE, &bsid, NULL,
				       NULL, &bfh)) == NFS4ERR_DELAY)
			;
		t4 = now_us();
		if (st != NFS4_OK)
			die("conflicting OPEN after DELEGRETURN", (int)st);
		delay[got] = t1 - t0;
		recall[got] = h.recall_us - t0;
		ret[got] = t3 - t0;
		granted[got] = t4 - t0;
		got++;
		nfs4_cl_close_file(plain, &bfh, &bsid);
		nfs4_cl_close_file(h.cl, &fh, &osid);
		free(fh.val);
		free(bfh.val);
	}
	printf("\n### Serial recalls (one holder, %u files)\n\n", got);
	printf("| from the conflicting OPEN to | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
	print_pct("NFS4ERR_DELAY answered", delay, got);
	print_pct("CB_RECALL at the holder", recall, got);
	print_pct("DELEGRETURN answered", ret, got);
	print_pct("conflicting OPEN granted", granted, got);
	printf("\nHolder OPENs answered without a delegation: %u (each file skipped after a "
	       "%d ms pause); %.1f s from the holder's first OPEN to the last conflicting "
	       "OPEN granted.\n", nodeleg, DECLINE_PAUSE_MS, (now_us() - start) / 1e6);
	nlive--;   /* h.cl, the last one added */
	nfs4_cl_close(h.cl, true);
	free(delay);
	free(recall);
	free(ret);
	free(granted);
}

static void *holder_thread(void *arg)
{
	struct holder *h = arg;

	while (h->recalls == 0 && now_us() < h->deadline_us)
		if (nfs4_cl_poll(h->cl, 200, true) < 0)
			break;
	if (h->recalls && nfs4_cl_delegreturn(h->cl, &h->fh, &h->deleg_sid) == NFS4_OK)
		h->returned_us = now_us();
	return NULL;
}

static void fanout(struct nfs4_cl *plain, unsigned c)
{
	struct holder *hs = calloc(c, sizeof(*hs));
	int64_t *t0 = calloc(c, sizeof(int64_t)), *recall = calloc(c, sizeof(int64_t));
	int64_t *granted = calloc(c, sizeof(int64_t)), start, all;
	stateid4 *bsid = calloc(c, sizeof(stateid4));
	nfs_fh4 *bfh = calloc(c, sizeof(nfs_fh4));
	bool *done = calloc(c, sizeof(bool));
	struct pool pool = { "f", c, 0, 0 };
	unsigned i, left = c, nodeleg = 0;
	int64_t setup, last_grant;
	char owner[64];

	if (!hs || !t0 || !recall || !granted || !bsid || !bfh || !done)
		die("calloc", ENOMEM);
	make_batch(plain, &pool);
	setup = last_grant = now_us();
	for (i = 0; i < c; i++) {
		open_delegation_type4 dt;

		snprintf(owner, sizeof(owner), "recall-fan-%u", i);
		hs[i].cl = client(owner, &hs[i]);
		live_add(hs[i].cl);
		for (;;) {
			pool_next(plain, &pool, hs[i].name, sizeof(hs[i].name));
			if (open_file(hs[i].cl, hs[i].name, false, OPEN4_SHARE_ACCESS_READ,
				      &hs[i].open_sid, &hs[i].deleg_sid, &dt, &hs[i].fh) != NFS4_OK)
				die("fan-out: holder OPEN", (int)i);
			if (dt == OPEN_DELEGATE_READ)
				break;
			declined(hs[i].cl, &hs[i].fh, &hs[i].open_sid, &nodeleg, last_grant);
		}
		last_grant = now_us();
		keepalive(false);
	}
	/* Every lease fresh for the recalls; from here the holder threads own
	 * their connections. */
	keepalive(true);
	setup = now_us() - setup;
	nlive = 1;   /* plain alone */
	for (i = 0; i < c; i++) {
		hs[i].deadline_us = now_us() + 60000000;
		if (pthread_create(&hs[i].thread, NULL, holder_thread, &hs[i]) != 0)
			die("pthread_create", (int)i);
	}
	start = now_us();
	for (i = 0; i < c; i++) {
		t0[i] = now_us();
		if (open_file(plain, hs[i].name, false, OPEN4_SHARE_ACCESS_WRITE, &bsid[i], NULL,
			      NULL, &bfh[i]) != NFS4ERR_DELAY)
			die("fan-out: conflicting OPEN was not DELAYed", (int)i);
	}
	while (left) {
		for (i = 0; i < c; i++) {
			if (done[i])
				continue;
			if (open_file(plain, hs[i].name, false, OPEN4_SHARE_ACCESS_WRITE, &bsid[i],
				      NULL, NULL, &bfh[i]) == NFS4_OK) {
				granted[i] = now_us() - t0[i];
				done[i] = true;
				left--;
			}
		}
		if (now_us() - start > 60000000)
			die("fan-out: not all granted in 60 s", (int)left);
	}
	all = now_us() - start;
	for (i = 0; i < c; i++) {
		pthread_join(hs[i].thread, NULL);
		recall[i] = hs[i].recall_us - t0[i];
		nfs4_cl_close_file(plain, &bfh[i], &bsid[i]);
		nfs4_cl_close_file(hs[i].cl, &hs[i].fh, &hs[i].open_sid);
		nfs4_cl_close(hs[i].cl, true);
		free(hs[i].fh.val);
		free(bfh[i].val);
	}
	printf("\n### %u clients recalled at once (one file each)\n\n", c);
	printf("| from its conflicting OPEN to | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
	print_pct("CB_RECALL at its holder", recall, c);
	print_pct("conflicting OPEN granted", granted, c);
	printf("\nAll %u granted %.1f ms after the first conflicting OPEN.\n", c, all / 1000.0);
	printf("\nHolder OPENs answered without a delegation: %u (each file skipped after a "
	       "%d ms pause); the %u holders' sessions and OPENs took %.1f s.\n", nodeleg,
	       DECLINE_PAUSE_MS, c, setup / 1e6);
	free(hs);
	free(t0);
	free(recall);
	free(granted);
	free(bsid);
	free(bfh);
	free(done);
}

int main(int argc, char **argv)
{
	unsigned n = 1000, c = 100;
	struct nfs4_cl *plain;
	uint32_t lease;
	int opt;

	if (argc < 3) {
		fprintf(stderr, "usage: recall_bench HOST PORT [-n N] [-c C]\n");
		return 2;
	}
	host = argv[1];
	port = (uint16_t)atoi(argv[2]);
	optind = 3;
	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		switch (opt) {
		case 'n': n = (unsigned)atoi(optarg); break;
		case 'c': c = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (n == 0 || c == 0)
		return 2;
	run_id = (unsigned)(now_us() % 1000000);
	plain = client("recall-plain", NULL);
	lease = lease_time(plain);
	/* (no answer: as if 15 s, the shortest lease this bench has met) */
	renew_us = (int64_t)(lease ? lease : 15) * 1000000 / 3;
	renewed_us = now_us();
	live_add(plain);
	serial(plain, n);
	fanout(plain, c);
	nfs4_cl_close(plain, true);
	return 0;
}
