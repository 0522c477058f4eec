/*
 * tests/proto/test_state_concurrency.c: many clients on many threads work on
 * the state core at once, each on its own connection and session: opens and
 * closes of their own files, I/O under open and lock stateids on one shared
 * file, byte-range locks of their own ranges there, and a lock every thread
 * contends for. Every answer must be one the protocol allows (a contended
 * lock may be DENIED, nothing else may fail), every byte must read back as
 * written, and the contended lock must never be held by two clients at
 * once. A second test puts one client on many sessions and threads: the
 * hot path (SEQUENCE, the READ/WRITE stateid check) runs under that one
 * client's lock while its other threads upgrade, downgrade, lock and close
 * opens, its stateids are used across threads while they come and go,
 * sessions of it are made and destroyed, and another client tries its
 * stateids. Run under ThreadSanitizer (scripts/tsan.sh) it is the concurrency
 * check of the state core (docs/decisions/0007); under ASan and valgrind it
 * runs as every protocol test does. The ot_* helpers' own cmocka asserts
 * would end the process rather than fail the test cleanly if one tripped on
 * a worker thread; either way the test fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_open_util.h"

#define THREADS 8
#define ROUNDS 60
#define RANGE 4096u                      /* each thread's range of the shared file */
#define CONTENDED_OFF (1ull << 30)       /* the byte every thread wants to lock */

static struct proto_server srv;
/* Clients holding the contended lock right now: never more than one. */
static atomic_int contended_holders;

/* What went wrong on one thread, looked at by the main thread after the
 * join: how often, and the first time. */
struct failure_log {
	char who[24];
	unsigned n;
	char first[160];
};

static void failure_note(struct failure_log *f, const char *what, nfsstat4 st)
{
	if (f->n++ == 0)
		snprintf(f->first, sizeof(f->first), "%s: %s: status %d", f->who, what, (int)st);
}

/* Prints the first failure, if any; how many there were. */
static unsigned failure_report(const struct failure_log *f)
{
	if (f->n)
		fprintf(stderr, "%u failure(s), the first: %s\n", f->n, f->first);
	return f->n;
}

struct worker {
	unsigned idx;
	struct nfs4_cl *cl;
	struct ot_open_res shared;           /* the shared file, opened BOTH/DENY_NONE */
	pthread_t thread;
	struct failure_log fail;
	unsigned contended_won, contended_denied;
	uint8_t last_pattern;                /* of its range in the shared file */
};

/* Its own file: OPEN (create), WRITE FILE_SYNC, READ back, CLOSE. */
static void own_file_round(struct worker *w, unsigned round, uint8_t *buf, uint8_t *back)
{
	struct ot_open_res r;
	WRITE4resok ok;
	char name[32];
	uint32_t n = 0;
	bool eof;
	nfsstat4 st;

	snprintf(name, sizeof(name), "own-%u-%u", w->idx, round % 4);
	st = ot_open_simple(w->cl, name, true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, &r);
	if (st != NFS4_OK) {
		failure_note(&w->fail, "OPEN own file", st);
		return;
	}
	memset(buf, (int)(w->idx * 31 + round), RANGE);
	st = ot_write(w->cl, &r.fh, &r.sid, 0, buf, RANGE, FILE_SYNC4, &ok);
	if (st != NFS4_OK || ok.count != RANGE)
		failure_note(&w->fail, "WRITE own file", st);
	st = ot_read(w->cl, &r.fh, &r.sid, 0, RANGE, back, &n, &eof);
	if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
		failure_note(&w->fail, "READ own file back", st);
	st = ot_close(w->cl, &r.fh, &r.sid, NULL);
	if (st != NFS4_OK)
		failure_note(&w->fail, "CLOSE own file", st);
	ot_fh_free(&r.fh);
}

/* Its range of the shared file under a lock of its own: LOCK, WRITE with the
 * lock stateid, READ back, LOCKU. No other thread locks this range. */
static void shared_range_round(struct worker *w, unsigned round, uint8_t *buf, uint8_t *back,
			       stateid4 *lock_sid, bool *have_lock_sid, char *lock_owner)
{
	uint64_t off = (uint64_t)w->idx * RANGE;
	WRITE4resok ok;
	uint32_t n = 0;
	bool eof;
	nfsstat4 st;

	st = ot_lock(w->cl, &w->shared.fh, WRITE_LT, off, RANGE,
		     *have_lock_sid ? NULL : &w->shared.sid, lock_owner, lock_sid, NULL);
	if (st != NFS4_OK) {
		failure_note(&w->fail, "LOCK own range", st);
		return;
	}
	*have_lock_sid = true;
	w->last_pattern = (uint8_t)(0x80 | (w->idx * 7 + round));
	memset(buf, w->last_pattern, RANGE);
	st = ot_write(w->cl, &w->shared.fh, lock_sid, off, buf, RANGE, UNSTABLE4, &ok);
	if (st != NFS4_OK || ok.count != RANGE)
		failure_note(&w->fail, "WRITE own range", st);
	st = ot_read(w->cl, &w->shared.fh, lock_sid, off, RANGE, back, &n, &eof);
	if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
		failure_note(&w->fail, "READ own range back", st);
	st = ot_locku(w->cl, &w->shared.fh, off, RANGE, lock_sid);
	if (st != NFS4_OK)
		failure_note(&w->fail, "LOCKU own range", st);
}

/* The byte every thread wants: DENIED is an answer, two holders are not. */
static void contended_round(struct worker *w, stateid4 *lock_sid, bool *have_lock_sid,
			    char *lock_owner)
{
	LOCK4denied denied;
	WRITE4resok ok;
	nfsstat4 st;

	st = ot_lock(w->cl, &w->shared.fh, WRITE_LT, CONTENDED_OFF, 1,
		     *have_lock_sid ? NULL : &w->shared.sid, lock_owner, lock_sid, &denied);
	if (st == NFS4ERR_DENIED) {
		w->contended_denied++;
		return;
	}
	if (st != NFS4_OK) {
		failure_note(&w->fail, "LOCK contended byte", st);
		return;
	}
	*have_lock_sid = true;
	if (atomic_fetch_add(&contended_holders, 1) != 0)
		failure_note(&w->fail, "contended byte held by two clients", NFS4_OK);
	w->contended_won++;
	/* A round trip under the lock, so that another holder would overlap. */
	st = ot_write(w->cl, &w->shared.fh, lock_sid, CONTENDED_OFF, &w->idx, 1, UNSTABLE4, &ok);
	if (st != NFS4_OK)
		failure_note(&w->fail, "WRITE under the contended lock", st);
	atomic_fetch_sub(&contended_holders, 1);
	st = ot_locku(w->cl, &w->shared.fh, CONTENDED_OFF, 1, lock_sid);
	if (st != NFS4_OK)
		failure_note(&w->fail, "LOCKU contended byte", st);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(RANGE), *back = malloc(RANGE);
	stateid4 lock_sid;
	bool have_lock_sid = false;
	char lock_owner[32];
	unsigned round;

	if (!buf || !back) {
		failure_note(&w->fail, "malloc", NFS4ERR_SERVERFAULT);
		goto out;
	}
	snprintf(lock_owner, sizeof(lock_owner), "conc-lock-%u", w->idx);
	for (round = 0; round < ROUNDS; round++) {
		own_file_round(w, round, buf, back);
		shared_range_round(w, round, buf, back, &lock_sid, &have_lock_sid, lock_owner);
		contended_round(w, &lock_sid, &have_lock_sid, lock_owner);
	}
out:
	free(buf);
	free(back);
	return NULL;
}

/* ---- one client, many sessions ---- */

#define ONE_THREADS 6
#define ONE_ROUNDS 40

/* The open stateid each thread published last (other and all): the others
 * READ with it while its owner may be closing it. */
static pthread_mutex_t published_lock = PTHREAD_MUTEX_INITIALIZER;
static stateid4 published[ONE_THREADS];
static bool published_valid[ONE_THREADS];
static atomic_bool one_done;

struct one_worker {
	unsigned idx;
	struct nfs4_cl *cl;                  /* its own session of the one client */
	nfs_fh4 fh;                          /* of "one-shared" */
	pthread_t thread;
	struct failure_log fail;
	unsigned cross_ok, cross_bad;        /* READs with another thread's stateid */
};

static void publish_stateid(unsigned idx, const stateid4 *sid, bool valid)
{
	pthread_mutex_lock(&published_lock);
	if (valid) {
		published[idx] = *sid;
		published[idx].seqid = 0;   /* whatever its seqid is by then */
	}
	published_valid[idx] = valid;
	pthread_mutex_unlock(&published_lock);
}

static bool take_published(unsigned idx, stateid4 *out)
{
	bool valid;

	pthread_mutex_lock(&published_lock);
	valid = published_valid[idx];
	*out = published[idx];
	pthread_mutex_unlock(&published_lock);
	return valid;
}

/* One round of one thread, with its own open owner on the shared file:
 * OPEN READ, OPEN BOTH (upgrade), WRITE and READ its range, OPEN_DOWNGRADE
 * to READ (a WRITE is then OPENMODE), LOCK, READ under the lock stateid,
 * LOCKU, CLOSE (a READ with the closed stateid is then BAD_STATEID); and a
 * READ with a neighbour's stateid, which may be OK or, closed meanwhile,
 * BAD_STATEID, and nothing else. */
static void one_round(struct one_worker *w, unsigned round, const char *owner,
		      const char *lock_owner, uint8_t *buf, uint8_t *back)
{
	struct ot_open_args oa = { .access = OPEN4_SHARE_ACCESS_READ, .createmode = OT_NOCREATE,
				   .owner = owner };
	uint64_t off = (uint64_t)w->idx * RANGE;
	struct ot_open_res r, r2;
	stateid4 sid, lock_sid, other;
	WRITE4resok ok;
	uint32_t n = 0;
	bool eof;
	nfsstat4 st;

	st = ot_open(w->cl, "one-shared", &oa, &r);
	if (st != NFS4_OK) {
		failure_note(&w->fail, "OPEN READ", st);
		return;
	}
	sid = r.sid;
	ot_fh_free(&r.fh);
	oa.access = OPEN4_SHARE_ACCESS_BOTH;
	st = ot_open(w->cl, "one-shared", &oa, &r2);
	if (st != NFS4_OK || memcmp(r2.sid.other, sid.other, sizeof(sid.other)) != 0 ||
	    r2.sid.seqid != sid.seqid + 1)
		failure_note(&w->fail, "OPEN BOTH is not an upgrade of the same stateid", st);
	if (st == NFS4_OK)
		sid = r2.sid;
	ot_fh_free(&r2.fh);
	publish_stateid(w->idx, &sid, true);
	memset(buf, (int)(0x40 + w->idx * 13 + round), RANGE);
	st = ot_write(w->cl, &w->fh, &sid, off, buf, RANGE, UNSTABLE4, &ok);
	if (st != NFS4_OK || ok.count != RANGE)
		failure_note(&w->fail, "WRITE after the upgrade", st);
	st = ot_read(w->cl, &w->fh, &sid, off, RANGE, back, &n, &eof);
	if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
		failure_note(&w->fail, "READ back", st);
	st = ot_downgrade(w->cl, &w->fh, &sid, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			  &sid);
	if (st != NFS4_OK)
		failure_note(&w->fail, "OPEN_DOWNGRADE", st);
	st = ot_write(w->cl, &w->fh, &sid, off, buf, 1, UNSTABLE4, &ok);
	if (st != NFS4ERR_OPENMODE)
		failure_note(&w->fail, "WRITE after the downgrade to READ is not OPENMODE", st);
	st = ot_lock(w->cl, &w->fh, READ_LT, off, RANGE, &sid, lock_owner, &lock_sid, NULL);
	if (st != NFS4_OK) {
		failure_note(&w->fail, "LOCK", st);
	} else {
		st = ot_read(w->cl, &w->fh, &lock_sid, off, RANGE, back, &n, &eof);
		if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
			failure_note(&w->fail, "READ under the lock stateid", st);
		st = ot_locku(w->cl, &w->fh, off, RANGE, &lock_sid);
		if (st != NFS4_OK)
			failure_note(&w->fail, "LOCKU", st);
	}
	/* a neighbour's stateid: the same client's, so usable until closed */
	if (take_published((w->idx + 1) % ONE_THREADS, &other)) {
		st = ot_read(w->cl, &w->fh, &other, 0, 16, back, &n, &eof);
		if (st == NFS4_OK)
			w->cross_ok++;
		else if (st == NFS4ERR_BAD_STATEID)
			w->cross_bad++;
		else
			failure_note(&w->fail, "READ with a neighbour's stateid", st);
	}
	publish_stateid(w->idx, &sid, false);
	st = ot_close(w->cl, &w->fh, &sid, NULL);
	if (st != NFS4_OK)
		failure_note(&w->fail, "CLOSE", st);
	sid.seqid = 0;
	st = ot_read(w->cl, &w->fh, &sid, off, 16, back, &n, &eof);
	if (st != NFS4ERR_BAD_STATEID)
		failure_note(&w->fail, "READ with the closed stateid is not BAD_STATEID", st);
}

static void *one_worker_run(void *arg)
{
	struct one_worker *w = arg;
	uint8_t *buf = malloc(RANGE), *back = malloc(RANGE);
	char owner[32], lock_owner[32];
	unsigned round;

	if (!buf || !back) {
		failure_note(&w->fail, "malloc", NFS4ERR_SERVERFAULT);
		goto out;
	}
	snprintf(owner, sizeof(owner), "one-open-%u", w->idx);
	snprintf(lock_owner, sizeof(lock_owner), "one-lock-%u", w->idx);
	for (round = 0; round < ONE_ROUNDS; round++)
		one_round(w, round, owner, lock_owner, buf, back);
out:
	free(buf);
	free(back);
	return NULL;
}

/* While the workers run: sessions of the same client made, used and
 * destroyed, and another client READing with the one client's stateids,
 * which must always be BAD_STATEID (RFC 8881 §8.2.4: a stateid is its
 * client's). */
struct churn {
	struct proto_server *srv;
	struct nfs4_cl *stranger;
	nfs_fh4 fh;
	pthread_t thread;
	unsigned sessions, foreign_reads;
	struct failure_log fail;
};

static void *churn_run(void *arg)
{
	struct churn *ch = arg;
	uint8_t back[16];
	stateid4 other;
	uint32_t n = 0;
	bool eof;
	nfsstat4 st;

	while (!atomic_load(&one_done)) {
		struct nfs4_cl *cl = NULL;
		int i;

		if (nfs4_cl_connect(&cl, ch->srv->host, ch->srv->port) != 0) {
			failure_note(&ch->fail, "connect", NFS4ERR_SERVERFAULT);
			break;
		}
		nfs4_cl_set_owner(cl, "one-client", 1);
		st = nfs4_cl_exchange_id(cl);
		if (st == NFS4_OK)
			st = nfs4_cl_create_session(cl, false);
		if (st != NFS4_OK) {
			failure_note(&ch->fail, "EXCHANGE_ID and CREATE_SESSION of the one client", st);
			nfs4_cl_close(cl, false);
			break;
		}
		for (i = 0; i < 4; i++) {
			st = nfs4_cl_sequence(cl);
			if (st != NFS4_OK)
				failure_note(&ch->fail, "SEQUENCE on a new session", st);
		}
		st = nfs4_cl_destroy_session(cl);
		if (st != NFS4_OK)
			failure_note(&ch->fail, "DESTROY_SESSION", st);
		nfs4_cl_close(cl, false);
		ch->sessions++;
		for (i = 0; i < ONE_THREADS; i++) {
			if (!take_published((unsigned)i, &other))
				continue;
			st = ot_read(ch->stranger, &ch->fh, &other, 0, sizeof(back), back, &n, &eof);
			if (st != NFS4ERR_BAD_STATEID)
				failure_note(&ch->fail, "another client's stateid is not BAD_STATEID", st);
			ch->foreign_reads++;
		}
	}
	return NULL;
}

static void test_one_client_many_sessions(void **state)
{
	static struct one_worker w[ONE_THREADS];
	struct churn ch;
	struct ot_open_res made;
	unsigned i, failures = 0, cross_ok = 0, cross_bad = 0;
	uint8_t zeros[RANGE];

	(void)state;
	assert_int_equal(proto_server_start(&srv, "state-one-client", NULL), 0);
	atomic_init(&one_done, false);
	memset(published_valid, 0, sizeof(published_valid));
	memset(&ch, 0, sizeof(ch));
	ch.srv = &srv;
	snprintf(ch.fail.who, sizeof(ch.fail.who), "churn");
	for (i = 0; i < ONE_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		snprintf(w[i].fail.who, sizeof(w[i].fail.who), "thread %u", i);
		/* the same owner and verifier: one client, a session each */
		w[i].cl = ot_client_verf(&srv, "one-client", 1);
		if (i > 0)
			assert_int_equal(w[i].cl->clientid, w[0].cl->clientid);
	}
	assert_int_equal(nfs4_cl_reclaim_complete(w[0].cl), NFS4_OK);
	/* the file, with every range written once, so that READs see data */
	assert_int_equal(ot_open_simple(w[0].cl, "one-shared", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &made), NFS4_OK);
	memset(zeros, 0, sizeof(zeros));
	for (i = 0; i < ONE_THREADS; i++) {
		WRITE4resok ok;

		assert_int_equal(ot_write(w[0].cl, &made.fh, &made.sid, (uint64_t)i * RANGE, zeros,
					  RANGE, FILE_SYNC4, &ok), NFS4_OK);
	}
	assert_int_equal(ot_close(w[0].cl, &made.fh, &made.sid, NULL), NFS4_OK);
	for (i = 0; i < ONE_THREADS; i++) {
		w[i].fh.len = made.fh.len;
		w[i].fh.val = malloc(made.fh.len);
		assert_non_null(w[i].fh.val);
		memcpy(w[i].fh.val, made.fh.val, made.fh.len);
	}
	ch.fh = made.fh;
	ch.stranger = ot_client(&srv, "one-stranger");
	for (i = 0; i < ONE_THREADS; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL, one_worker_run, &w[i]), 0);
	assert_int_equal(pthread_create(&ch.thread, NULL, churn_run, &ch), 0);
	for (i = 0; i < ONE_THREADS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	atomic_store(&one_done, true);
	assert_int_equal(pthread_join(ch.thread, NULL), 0);
	for (i = 0; i < ONE_THREADS; i++) {
		failures += failure_report(&w[i].fail);
		cross_ok += w[i].cross_ok;
		cross_bad += w[i].cross_bad;
	}
	failures += failure_report(&ch.fail);
	assert_int_equal(failures, 0);
	assert_true(ch.sessions >= 1);
	printf("one client, %u sessions x %u rounds: READs with a neighbour's stateid %u OK, "
	       "%u BAD_STATEID; %u sessions made and destroyed meanwhile, %u READs by "
	       "another client refused\n", ONE_THREADS, ONE_ROUNDS, cross_ok, cross_bad,
	       ch.sessions, ch.foreign_reads);
	for (i = 0; i < ONE_THREADS; i++) {
		ot_fh_free(&w[i].fh);
		nfs4_cl_close(w[i].cl, true);
	}
	nfs4_cl_close(ch.stranger, true);
	ot_fh_free(&made.fh);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
}

static void test_many_clients_on_many_threads(void **state)
{
	static struct worker w[THREADS];
	uint8_t back[RANGE];
	unsigned i, won = 0, failures = 0;
	char owner[32];
	uint32_t n = 0;
	bool eof;
	struct ot_open_res probe;

	(void)state;
	assert_int_equal(proto_server_start(&srv, "state-concurrency", NULL), 0);
	atomic_init(&contended_holders, 0);
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		snprintf(w[i].fail.who, sizeof(w[i].fail.who), "thread %u", i);
		snprintf(owner, sizeof(owner), "conc-client-%u", i);
		w[i].cl = ot_client(&srv, owner);
		assert_int_equal(ot_open_simple(w[i].cl, "shared", true, OPEN4_SHARE_ACCESS_BOTH,
						OPEN4_SHARE_DENY_NONE, &w[i].shared), NFS4_OK);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < THREADS; i++) {
		failures += failure_report(&w[i].fail);
		won += w[i].contended_won;
		assert_int_equal(w[i].contended_won + w[i].contended_denied, ROUNDS);
	}
	assert_int_equal(failures, 0);
	assert_true(won >= 1);
	/* Each range holds its thread's last pattern, read by a fresh client. */
	{
		struct nfs4_cl *reader = ot_client(&srv, "conc-reader");
		uint8_t want[RANGE];

		assert_int_equal(ot_open_simple(reader, "shared", false, OPEN4_SHARE_ACCESS_READ,
						OPEN4_SHARE_DENY_NONE, &probe), NFS4_OK);
		for (i = 0; i < THREADS; i++) {
			memset(want, w[i].last_pattern, RANGE);
			assert_int_equal(ot_read(reader, &probe.fh, &probe.sid, (uint64_t)i * RANGE,
						 RANGE, back, &n, &eof), NFS4_OK);
			assert_int_equal(n, RANGE);
			assert_memory_equal(back, want, RANGE);
		}
		assert_int_equal(ot_close(reader, &probe.fh, &probe.sid, NULL), NFS4_OK);
		ot_fh_free(&probe.fh);
		nfs4_cl_close(reader, true);
	}
	printf("%u threads x %u rounds: contended lock won %u times, denied %u times\n",
	       THREADS, ROUNDS, won, THREADS * ROUNDS - won);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(ot_close(w[i].cl, &w[i].shared.fh, &w[i].shared.sid, NULL), NFS4_OK);
		ot_fh_free(&w[i].shared.fh);
		nfs4_cl_close(w[i].cl, true);
	}
	assert_int_equal(proto_server_stop_checked(&srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_clients_on_many_threads),
		cmocka_unit_test(test_one_client_many_sessions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
