/*
 * tests/proto/test_rpc_slowloris.c: peers that start records and never
 * finish them ("slow loris") against a real daxnfsd:
 * - 200 connections each announce a 1 MiB fragment, send half of it and go
 *   silent: Record_Timeout after they started, the server has closed every
 *   one of them, and its resident size is back near where it was before
 *   (the buffers are freed and given back, not just the connections marked);
 * - with a small Max_Partial_Record_Bytes, the connections holding the
 *   oldest unfinished records are closed as soon as the budget is passed,
 *   newer ones stay, and a client that sends a large record meanwhile is
 *   served.
 * Figures are printed before they are checked, so a run against another
 * daemon ($DAXNFSD) shows what it does. Each test ends with SIGTERM and
 * requires exit status 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_rpc.h"
#include "tests/proto/lib/proto_server.h"

#define NFS_PROG 100003
#define NFS_V4 4
#define MAX_RECORD 1114112           /* a 1 MiB fragment is allowed */
#define FRAG_BYTES (1u << 20)        /* what each stalled peer announces */

#define LORIS 200
#define LORIS_SENT (FRAG_BYTES / 2)  /* ... and sends */
#define RECORD_TIMEOUT_S 2
/* The attack must have cost the daemon memory, or the test measures nothing:
 * 200 x 512 KiB is 100 MiB; at least 40 MiB of it must have been resident at
 * the highest sample (twice the residual bound below). */
#define MIN_ATTACK_GROWTH_KIB (40L * 1024)
/* After the deadline the daemon's resident size must be back within this of
 * its size before the attack: a fifth of what the attack took. What may stay:
 * allocator caches and the sanitizer's bookkeeping (its quarantine of freed
 * blocks is limited to 8 MiB for the daemon here; production has none). */
#define MAX_RESIDUAL_KIB (20L * 1024)

#define BUDGET_STALLED 8
#define BUDGET_SENT (3u * FRAG_BYTES / 4)   /* each holds 1 MiB once past 512 KiB */
#define BUDGET_KEPT 4                       /* Max_Partial_Record_Bytes = 4 MiB */

/* The sanitizer keeps freed blocks in a quarantine (256 MiB by default) to
 * catch use after free: its size, not the daemon's, would be measured. */
static const char *const small_quarantine[] = {
	"ASAN_OPTIONS=quarantine_size_mb=8:thread_local_quarantine_size_kb=256", NULL,
};

static int start(void **state, const char *name, const char *core_conf)
{
	struct proto_server *s = calloc(1, sizeof(*s));
	struct proto_server_opts o = {
		.max_record_size = MAX_RECORD, .core_conf = core_conf, .env = small_quarantine,
	};

	if (!s || proto_server_start(s, name, &o) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int setup_timeout(void **state)
{
	/* idle timeout longer than the test: only the record deadline may close */
	return start(state, "rpc_slowloris",
		     "  Record_Timeout = 2;\n  Idle_Unbound_Timeout = 600;");
}

static int setup_budget(void **state)
{
	return start(state, "rpc_partial_budget",
		     "  Max_Partial_Record_Bytes = 4M;\n  Record_Timeout = 600;\n"
		     "  Idle_Unbound_Timeout = 600;");
}

static int teardown(void **state)
{
	struct proto_server *s = *state;
	int rc = proto_server_stop_checked(s);

	if (rc == 0)
		proto_server_cleanup(s);
	free(s);
	return rc;
}

static int null_call(struct proto_conn *c)
{
	struct proto_reply r;
	int rc = proto_rpc_call(c, NFS_PROG, NFS_V4, 0, NULL, NULL, 0, &r);

	if (rc == 0) {
		rc = r.accept_stat == RPC_SUCCESS ? 0 : -EPROTO;
		proto_reply_free(&r);
	}
	return rc;
}

/* Announces a FRAG_BYTES fragment (the last of its record) and sends n bytes
 * of it. 0, or -errno when the server closed the connection meanwhile. */
static int send_stalled(struct proto_conn *c, const uint8_t *body, size_t n)
{
	uint32_t mark = htonl(FRAG_BYTES | 0x80000000u);
	int rc = proto_send_raw(c, &mark, 4);

	if (rc == 0)
		rc = proto_send_raw(c, body, n);
	return rc;
}

/* True when the server has closed c (end of stream or reset) by now. */
static bool closed_now(struct proto_conn *c)
{
	uint8_t junk[256];
	ssize_t r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);

	return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
}

static long rss_kib(const struct proto_server *s)
{
	long kib = -1;

	assert_int_equal(proto_proc_rss_kib(s->pid, &kib), 0);
	return kib;
}

static void test_stalled_records_closed_at_record_timeout_memory_returns(void **state)
{
	struct proto_server *s = *state;
	/* static: nothing to free when a check fails half-way */
	static struct proto_conn loris[LORIS];
	static uint8_t body[LORIS_SENT];
	static struct pollfd pfd[LORIS];
	static bool closed[LORIS];
	struct proto_conn good;
	int64_t t_sent, t_first = -1, t_last = -1, deadline;
	long rss0, peak, now_kib = 0;
	unsigned i, n_closed = 0, send_failed = 0;
	int slow = proto_under_valgrind() ? 8 : 1;

	memset(closed, 0, sizeof(closed));
	assert_int_equal(proto_connect(&good, s->host, s->port, 10000), 0);
	assert_int_equal(null_call(&good), 0);
	proto_sleep_ms(300);
	rss0 = rss_kib(s);

	for (i = 0; i < LORIS; i++) {
		assert_int_equal(proto_connect(&loris[i], s->host, s->port, 10000), 0);
		/* a slow daemon (valgrind) may time out the first ones meanwhile */
		if (send_stalled(&loris[i], body, LORIS_SENT) < 0)
			send_failed++;
	}
	t_sent = proto_now_ms();
	proto_sleep_ms(300);   /* the daemon reads what is in its socket buffers */
	peak = rss_kib(s);
	/* A loaded machine reads them later: the highest of a few samples, all
	 * before the first Record_Timeout. */
	for (i = 0; i < 10 && peak - rss0 < MIN_ATTACK_GROWTH_KIB; i++) {
		long r;

		proto_sleep_ms(100);
		r = rss_kib(s);
		if (r > peak)
			peak = r;
	}
	printf("slow loris: %d connections each sent %u of %u announced bytes (%u sends "
	       "failed); daemon RSS %ld KiB before, %ld KiB after sending (+%ld KiB)\n",
	       LORIS, LORIS_SENT, FRAG_BYTES, send_failed, rss0, peak, peak - rss0);

	/* every one closed by the server by the deadline (plus the timer's resolution) */
	deadline = t_sent + (RECORD_TIMEOUT_S + 10) * 1000 * slow;
	while (n_closed < LORIS && proto_now_ms() < deadline) {
		for (i = 0; i < LORIS; i++) {
			pfd[i].fd = closed[i] ? -1 : loris[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, LORIS, 100) <= 0)
			continue;
		for (i = 0; i < LORIS; i++) {
			if (closed[i] || !pfd[i].revents || !closed_now(&loris[i]))
				continue;
			closed[i] = true;
			n_closed++;
			t_last = proto_now_ms() - t_sent;
			if (t_first < 0)
				t_first = t_last;
		}
	}
	printf("slow loris: %u of %d closed by the server (Record_Timeout %d s); first %lld ms, "
	       "last %lld ms after the sending ended\n", n_closed, LORIS, RECORD_TIMEOUT_S,
	       (long long)t_first, (long long)t_last);

	/* the memory comes back (freed, then returned on the next timer tick);
	 * under valgrind it is valgrind's and does not: no use waiting */
	deadline = proto_now_ms() + (proto_under_valgrind() ? 0 : 10000);
	do {
		now_kib = rss_kib(s);
		if (now_kib - rss0 <= MAX_RESIDUAL_KIB)
			break;
		proto_sleep_ms(250);
	} while (proto_now_ms() < deadline);
	printf("slow loris: daemon RSS %ld KiB after the deadline (+%ld KiB over the %ld KiB "
	       "before; bound +%ld KiB)\n", now_kib, now_kib - rss0, rss0, MAX_RESIDUAL_KIB);

	assert_int_equal(n_closed, LORIS);
	if (!proto_under_valgrind()) {
		/* under valgrind the resident size is valgrind's (its shadow memory,
		 * its queue of freed blocks): not a figure of the daemon */
		assert_true(peak - rss0 >= MIN_ATTACK_GROWTH_KIB);
		assert_true(now_kib - rss0 <= MAX_RESIDUAL_KIB);
	}
	/* and a well-behaved client was never disturbed */
	assert_int_equal(null_call(&good), 0);
	proto_close(&good);
	for (i = 0; i < LORIS; i++)
		proto_close(&loris[i]);
}

static void test_partial_record_budget_drops_oldest_stalled(void **state)
{
	struct proto_server *s = *state;
	struct proto_conn stalled[BUDGET_STALLED], good;
	struct proto_reply r;
	static uint8_t body[BUDGET_SENT], args[512u * 1024];
	bool closed[BUDGET_STALLED];
	unsigned i, n_closed = 0;
	int pause_ms = proto_under_valgrind() ? 1500 : 300;

	assert_int_equal(proto_connect(&good, s->host, s->port, 10000), 0);
	assert_int_equal(null_call(&good), 0);
	/* one after the other, so that the order of their records is clear */
	for (i = 0; i < BUDGET_STALLED; i++) {
		assert_int_equal(proto_connect(&stalled[i], s->host, s->port, 10000), 0);
		assert_int_equal(send_stalled(&stalled[i], body, BUDGET_SENT), 0);
		proto_sleep_ms(pause_ms);
	}
	for (i = 0; i < BUDGET_STALLED; i++) {
		closed[i] = closed_now(&stalled[i]);
		n_closed += closed[i];
	}
	printf("partial-record budget 4 MiB, %d stalled records of 1 MiB: closed by the "
	       "server:", BUDGET_STALLED);
	for (i = 0; i < BUDGET_STALLED; i++)
		printf(" #%u:%s", i + 1, closed[i] ? "closed" : "open");
	printf("\n");
	/* the oldest ones went, as many as needed to fit the budget */
	for (i = 0; i < BUDGET_STALLED; i++)
		assert_int_equal(closed[i], i < BUDGET_STALLED - BUDGET_KEPT);

	/* a client sending a large record is served: the oldest stalled record
	 * makes room for it, not the record being received now */
	assert_int_equal(proto_rpc_call(&good, 100099, 1, 0, NULL, args, sizeof(args), &r), 0);
	assert_int_equal(r.accept_stat, RPC_PROG_UNAVAIL);
	proto_reply_free(&r);
	assert_int_equal(null_call(&good), 0);
	proto_sleep_ms(pause_ms);
	assert_true(closed_now(&stalled[BUDGET_STALLED - BUDGET_KEPT]));
	for (i = BUDGET_STALLED - BUDGET_KEPT + 1; i < BUDGET_STALLED; i++)
		assert_false(closed_now(&stalled[i]));

	proto_close(&good);
	for (i = 0; i < BUDGET_STALLED; i++)
		proto_close(&stalled[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stalled_records_closed_at_record_timeout_memory_returns,
						setup_timeout, teardown),
		cmocka_unit_test_setup_teardown(test_partial_record_budget_drops_oldest_stalled,
						setup_budget, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
