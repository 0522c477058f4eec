/*
 * tests/proto/test_sigterm_load.c: SIGTERM in the middle of a write load
 * (issue 18: a clean stop keeps what it acknowledged and lets its clients
 * reclaim):
 *  - three clients, each writing 64 KiB FILE_SYNC4 blocks to its own file
 *    as fast as the server answers, on their own threads;
 *  - daxnfsd gets SIGTERM while they write and exits with status 0;
 *  - started again on the same state, it is in grace with the three client
 *    records; each client (same owner, same verifier) reclaims its open
 *    with CLAIM_PREVIOUS, and every block the server acknowledged before
 *    the stop reads back exactly; a new client's OPEN meanwhile gets
 *    NFS4ERR_GRACE.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/test_open_util.h"

#define WRITERS 3
#define BLOCK (64u * 1024u)
#define MAX_BLOCKS 4096u        /* 256 MiB per file at most */

static struct proto_server srv;

struct writer {
	struct nfs4_cl *cl;
	struct ot_open_res r;
	unsigned idx;
	_Atomic unsigned acked;     /* blocks 0..acked-1 were answered NFS4_OK, FILE_SYNC4 (read by the main thread while it runs) */
	nfsstat4 last;              /* what ended the loop */
	pthread_t thread;
};

static void fill(uint8_t *p, unsigned writer, unsigned block)
{
	for (uint32_t i = 0; i < BLOCK; i++)
		p[i] = (uint8_t)(writer * 31 + block * 7 + i * 13 + (i >> 8));
}

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = malloc(BLOCK);
	WRITE4resok ok;

	w->last = NFS4ERR_SERVERFAULT;
	if (!buf)
		return NULL;
	while (w->acked < MAX_BLOCKS) {
		fill(buf, w->idx, w->acked);
		w->last = ot_write(w->cl, &w->r.fh, &w->r.sid, (uint64_t)w->acked * BLOCK, buf,
				   BLOCK, FILE_SYNC4, &ok);
		if (w->last != NFS4_OK || ok.count != BLOCK || ok.committed != FILE_SYNC4)
			break;
		w->acked++;
	}
	free(buf);
	return NULL;
}

static void test_sigterm_keeps_acknowledged_writes_and_clients_reclaim(void **st)
{
	struct proto_server_opts opts = { .grace_period = 60, .lease_lifetime = 20 };
	struct writer w[WRITERS];
	struct ot_open_args reclaim = { .access = OPEN4_SHARE_ACCESS_BOTH,
					.deny = OPEN4_SHARE_DENY_NONE,
					.createmode = OT_NOCREATE, .claim = CLAIM_PREVIOUS };
	struct ot_open_res rr, rn;
	struct nfs4_cl *newcomer;
	uint8_t *want = malloc(BLOCK), *got = malloc(BLOCK);
	char owner[32], name[16];
	unsigned i, b, total = 0;
	int64_t t0;

	(void)st;
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(proto_server_start(&srv, "sigterm-load", &opts), 0);
	for (i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		snprintf(owner, sizeof(owner), "sigterm-writer-%u", i);
		snprintf(name, sizeof(name), "w%u", i);
		w[i].cl = ot_client_verf(&srv, owner, 1000 + i);
		assert_int_equal(nfs4_cl_reclaim_complete(w[i].cl), NFS4_OK);
		assert_int_equal(ot_open_simple(w[i].cl, name, true, OPEN4_SHARE_ACCESS_BOTH,
						OPEN4_SHARE_DENY_NONE, &w[i].r), NFS4_OK);
	}
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL, write_loop, &w[i]), 0);
	/* Until every writer has had some blocks answered, then the stop. */
	t0 = proto_now_ms();
	for (;;) {
		unsigned least = MAX_BLOCKS;

		for (i = 0; i < WRITERS; i++)
			least = w[i].acked < least ? w[i].acked : least;
		if (least >= 4 || proto_now_ms() - t0 > 60000)
			break;
		proto_sleep_ms(50);
	}
	assert_int_equal(proto_server_stop(&srv), 0);   /* SIGTERM; exit status 0 */
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
		assert_true(w[i].acked >= 4);
		assert_true(w[i].acked < MAX_BLOCKS);   /* the stop, not the end, ended it */
		assert_int_not_equal(w[i].last, NFS4_OK);
		total += w[i].acked;
		nfs4_cl_close(w[i].cl, false);
	}
	print_message("acknowledged FILE_SYNC4 blocks of 64 KiB before SIGTERM: %u, %u, %u\n",
		      w[0].acked, w[1].acked, w[2].acked);

	/* The same state: grace, with the three clients' records. */
	assert_int_equal(proto_server_restart(&srv), 0);
	assert_int_equal(proto_log_count(srv.log_path, 0, "3 client record(s)", 100000), 1);
	newcomer = ot_client(&srv, "sigterm-newcomer");
	assert_int_equal(ot_open_simple(newcomer, "new", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &rn), NFS4ERR_GRACE);
	for (i = 0; i < WRITERS; i++) {
		snprintf(owner, sizeof(owner), "sigterm-writer-%u", i);
		w[i].cl = ot_client_verf(&srv, owner, 1000 + i);
		reclaim.fh_in = &w[i].r.fh;
		assert_int_equal(ot_open(w[i].cl, NULL, &reclaim, &rr), NFS4_OK);
		for (b = 0; b < w[i].acked; b++) {
			uint32_t n = 0, off = 0;
			bool eof = false;

			fill(want, i, b);
			while (off < BLOCK) {
				assert_int_equal(ot_read(w[i].cl, &rr.fh, &rr.sid,
							 (uint64_t)b * BLOCK + off, BLOCK - off,
							 got + off, &n, &eof), NFS4_OK);
				assert_true(n > 0);
				off += n;
			}
			if (memcmp(got, want, BLOCK) != 0)
				fail_msg("writer %u: acknowledged block %u differs after the restart", i,
					 b);
		}
		assert_int_equal(nfs4_cl_reclaim_complete(w[i].cl), NFS4_OK);
		assert_int_equal(ot_close(w[i].cl, &rr.fh, &rr.sid, NULL), NFS4_OK);
		ot_fh_free(&rr.fh);
		ot_fh_free(&w[i].r.fh);
		nfs4_cl_close(w[i].cl, true);
	}
	print_message("%u acknowledged blocks read back after the restart; 3 clients reclaimed\n",
		      total);
	nfs4_cl_close(newcomer, true);
	free(want);
	free(got);
	assert_int_equal(proto_server_stop_checked(&srv), 0);
	proto_server_cleanup(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_keeps_acknowledged_writes_and_clients_reclaim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
