/*
 * tests/proto/test_state_concurrency.c: many clients on many threads work on
 * the state core at once, each on its own connection and session: opens and
 * closes of their own files, I/O under open and lock stateids on one shared
 * file, byte-range locks of their own ranges there, and a lock every thread
 * contends for. Every answer must be one the protocol allows (a contended
 * lock may be DENIED, nothing else may fail), every byte must read back as
 * written, and the contended lock must never be held by two clients at
 * once. Run under ThreadSanitizer (scripts/tsan.sh) it is the concurrency
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

struct worker {
	unsigned idx;
	struct nfs4_cl *cl;
	struct ot_open_res shared;           /* the shared file, opened BOTH/DENY_NONE */
	pthread_t thread;
	/* what went wrong, looked at by the main thread after the join */
	unsigned failures;
	char first_failure[160];
	unsigned contended_won, contended_denied;
	uint8_t last_pattern;                /* of its range in the shared file */
};

static void worker_failed(struct worker *w, const char *what, nfsstat4 st)
{
	if (w->failures++ == 0)
		snprintf(w->first_failure, sizeof(w->first_failure), "thread %u: %s: status %d",
			 w->idx, what, (int)st);
}

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
		worker_failed(w, "OPEN own file", st);
		return;
	}
	memset(buf, (int)(w->idx * 31 + round), RANGE);
	st = ot_write(w->cl, &r.fh, &r.sid, 0, buf, RANGE, FILE_SYNC4, &ok);
	if (st != NFS4_OK || ok.count != RANGE)
		worker_failed(w, "WRITE own file", st);
	st = ot_read(w->cl, &r.fh, &r.sid, 0, RANGE, back, &n, &eof);
	if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
		worker_failed(w, "READ own file back", st);
	st = ot_close(w->cl, &r.fh, &r.sid, NULL);
	if (st != NFS4_OK)
		worker_failed(w, "CLOSE own file", st);
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
		worker_failed(w, "LOCK own range", st);
		return;
	}
	*have_lock_sid = true;
	w->last_pattern = (uint8_t)(0x80 | (w->idx * 7 + round));
	memset(buf, w->last_pattern, RANGE);
	st = ot_write(w->cl, &w->shared.fh, lock_sid, off, buf, RANGE, UNSTABLE4, &ok);
	if (st != NFS4_OK || ok.count != RANGE)
		worker_failed(w, "WRITE own range", st);
	st = ot_read(w->cl, &w->shared.fh, lock_sid, off, RANGE, back, &n, &eof);
	if (st != NFS4_OK || n != RANGE || memcmp(buf, back, RANGE) != 0)
		worker_failed(w, "READ own range back", st);
	st = ot_locku(w->cl, &w->shared.fh, off, RANGE, lock_sid);
	if (st != NFS4_OK)
		worker_failed(w, "LOCKU own range", st);
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
		worker_failed(w, "LOCK contended byte", st);
		return;
	}
	*have_lock_sid = true;
	if (atomic_fetch_add(&contended_holders, 1) != 0)
		worker_failed(w, "contended byte held by two clients", NFS4_OK);
	w->contended_won++;
	/* A round trip under the lock, so that another holder would overlap. */
	st = ot_write(w->cl, &w->shared.fh, lock_sid, CONTENDED_OFF, &w->idx, 1, UNSTABLE4, &ok);
	if (st != NFS4_OK)
		worker_failed(w, "WRITE under the contended lock", st);
	atomic_fetch_sub(&contended_holders, 1);
	st = ot_locku(w->cl, &w->shared.fh, CONTENDED_OFF, 1, lock_sid);
	if (st != NFS4_OK)
		worker_failed(w, "LOCKU contended byte", st);
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
		worker_failed(w, "malloc", NFS4ERR_SERVERFAULT);
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
		if (w[i].failures)
			fprintf(stderr, "%u failure(s), the first: %s\n", w[i].failures,
				w[i].first_failure);
		failures += w[i].failures;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
