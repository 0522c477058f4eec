/*
 * tests/bench/nfs_bench_crowd.c: the crowd workload (see nfs_bench_crowd.h).
 *
 * Each crowd thread owns a share of the clients and keeps at most one READ
 * in flight on each, started when the client's turn comes (the total rate
 * spread evenly over the clients, their turns staggered), collected with
 * poll() over the connections that wait for an answer. A crowd that cannot
 * keep up falls behind its schedule rather than queueing more: the rate is
 * a ceiling, and what it reached is reported.
 * Calls: nfs_bench_cl.h, libc. Called by: tests/bench/nfs_bench.c.
 */
#include "tests/bench/nfs_bench_crowd.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CROWD_FILE "crowd"
#define CROWD_FILE_SIZE (64u * 1024)
#define CROWD_IO 4096u
#define CROWD_MAX_THREADS 16

struct crowd_member {
	struct nb_conn c;
	nfs_fh4 fh;
	stateid4 sid;
	struct nfs4_cl_compound cp;
	bool in_flight;
	uint64_t due;            /* when its next READ starts (monotonic ns) */
};

struct crowd_thread {
	struct crowd_member *m;  /* its share of the crowd */
	unsigned n;
	uint64_t interval;       /* ns between one member's READs */
	atomic_bool *stop;
	pthread_t thread;
	uint64_t ops;
	int rc;
};

static uint64_t crowd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int member_start(struct crowd_member *m, unsigned k)
{
	nfs4_cl_compound_init(&m->cp, m->c.cl);
	nb_add_putfh(&m->cp, &m->fh);
	nfs4_cl_add_read(&m->cp, &m->sid, (uint64_t)(k % (CROWD_FILE_SIZE / CROWD_IO)) * CROWD_IO,
			 CROWD_IO);
	m->in_flight = true;
	return nb_start(&m->c, &m->cp);
}

/* Reads m's answer (its connection is readable). */
static int member_finish(struct crowd_member *m)
{
	struct nfs4_cl_compound *cp = &m->cp;
	nfs_resop4 *r;
	int rc = nb_finish_any(&cp, 1);

	m->in_flight = false;
	if (rc >= 0 && m->cp.accept_stat != RPC_SUCCESS)
		rc = -EPROTO;
	if (rc >= 0 && m->cp.status != NFS4_OK)
		rc = (int)m->cp.status;
	if (rc >= 0) {
		r = nfs4_cl_res(&m->cp, OP_READ);
		rc = r && r->u.opread.u.resok4.data.len == CROWD_IO ? 0 : -EIO;
	}
	nfs4_cl_compound_free(&m->cp);
	return rc;
}

static void *crowd_main(void *arg)
{
	struct crowd_thread *t = arg;
	struct pollfd *pfd = calloc(t->n, sizeof(*pfd));
	unsigned *who = calloc(t->n, sizeof(*who));
	unsigned i, k = 0, np;
	uint64_t now, next;
	int rc = 0, ms;

	if (!pfd || !who) {
		rc = -ENOMEM;
		goto out;
	}
	while (rc == 0) {
		bool stopping = atomic_load(t->stop);

		now = crowd_now();
		next = now + 10000000u;   /* look again in 10 ms at the latest */
		np = 0;
		for (i = 0; i < t->n && rc == 0; i++) {
			struct crowd_member *m = &t->m[i];

			if (!m->in_flight && !stopping && m->due <= now) {
				rc = member_start(m, k++);
				/* behind schedule: the next turn from now, no burst */
				m->due = m->due + t->interval > now ? m->due + t->interval
								   : now + t->interval;
			}
			if (m->in_flight) {
				pfd[np].fd = m->c.cl->conn.fd;
				pfd[np].events = POLLIN;
				who[np++] = i;
			} else if (!stopping && m->due < next) {
				next = m->due;
			}
		}
		if (rc != 0 || (stopping && np == 0))
			break;
		now = crowd_now();
		ms = next > now ? (int)((next - now + 999999u) / 1000000u) : 0;
		if (poll(pfd, np, ms) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (i = 0; i < np && rc == 0; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			rc = member_finish(&t->m[who[i]]);
			if (rc == 0)
				t->ops++;
		}
	}
out:
	free(pfd);
	free(who);
	t->rc = rc;
	return NULL;
}

/* The file the crowd reads: CROWD_FILE_SIZE bytes. */
static int make_file(struct nb_conn *probe, const nfs_fh4 *dir)
{
	struct nfs4_cl_compound cp;
	nfs_fh4 fh = { 0, NULL };
	uint8_t *data = calloc(1, CROWD_FILE_SIZE);
	stateid4 sid;
	int rc;

	if (!data)
		return -ENOMEM;
	rc = nb_open(probe, dir, CROWD_FILE, true, OPEN4_SHARE_ACCESS_BOTH, &sid, &fh);
	if (rc == 0) {
		nfs4_cl_compound_init(&cp, probe->cl);
		nb_add_putfh(&cp, &fh);
		nb_add_write(&cp, &sid, 0, data, CROWD_FILE_SIZE, FILE_SYNC4);
		rc = nb_call(probe, &cp);
		nfs4_cl_compound_free(&cp);
		if (rc == 0)
			rc = nb_close(probe, &fh, &sid);
	}
	free(fh.val);
	free(data);
	return rc;
}

/* The probe's rounds for secs seconds: OPEN, READ (both timed), CLOSE. */
static int probe_phase(struct nb_conn *probe, const nfs_fh4 *dir, unsigned secs, bool busy,
		       nb_crowd_lat_fn fn, void *ctx, uint64_t *rounds)
{
	uint64_t end = crowd_now() + (uint64_t)secs * 1000000000u, t0, t1;
	struct nfs4_cl_compound cp;
	nfs_fh4 fh = { 0, NULL };
	stateid4 sid;
	int rc = 0;

	*rounds = 0;
	while (rc == 0 && crowd_now() < end) {
		t0 = crowd_now();
		rc = nb_open(probe, dir, CROWD_FILE, false, OPEN4_SHARE_ACCESS_READ, &sid, &fh);
		t1 = crowd_now();
		if (rc != 0)
			break;
		rc = fn(ctx, busy ? NB_CROWD_OPEN_BUSY : NB_CROWD_OPEN_IDLE, t1 - t0);
		nfs4_cl_compound_init(&cp, probe->cl);
		nb_add_putfh(&cp, &fh);
		nfs4_cl_add_read(&cp, &sid, 0, CROWD_IO);
		t0 = crowd_now();
		if (rc == 0)
			rc = nb_call(probe, &cp);
		t1 = crowd_now();
		nfs4_cl_compound_free(&cp);
		if (rc == 0)
			rc = fn(ctx, busy ? NB_CROWD_READ_BUSY : NB_CROWD_READ_IDLE, t1 - t0);
		if (rc == 0)
			rc = nb_close(probe, &fh, &sid);
		free(fh.val);
		fh.val = NULL;
		(*rounds)++;
	}
	return rc;
}

static void crowd_leave(struct crowd_member *m, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (m[i].fh.val)
			(void)nb_close(&m[i].c, &m[i].fh, &m[i].sid);
		free(m[i].fh.val);
		nb_conn_close(&m[i].c);
	}
}

int nb_crowd_run(const struct nb_crowd_opts *o, struct nb_conn *probe, const nfs_fh4 *dir,
		 nb_crowd_lat_fn fn, void *ctx, struct nb_crowd_done *done)
{
	struct crowd_thread t[CROWD_MAX_THREADS];
	struct crowd_member *m = NULL;
	unsigned i, joined = 0, nthreads = o->threads, n = 0;
	uint64_t interval, start, t0;
	atomic_bool stop;
	char owner[64];
	int rc;

	memset(done, 0, sizeof(*done));
	memset(t, 0, sizeof(t));
	if (!o->clients || !o->rate || !nthreads || nthreads > CROWD_MAX_THREADS ||
	    nthreads > o->clients)
		return -EINVAL;
	rc = make_file(probe, dir);
	if (rc != 0)
		return rc;
	m = calloc(o->clients, sizeof(*m));
	if (!m) {
		rc = -ENOMEM;
		goto out;
	}
	for (n = 0; n < o->clients && rc == 0; n++) {
		snprintf(owner, sizeof(owner), "nfs_bench-crowd-%u", n);
		rc = nb_conn_open(&m[n].c, o->host, o->port, owner);
		if (rc == 0)
			rc = nb_open(&m[n].c, dir, CROWD_FILE, false, OPEN4_SHARE_ACCESS_READ,
				     &m[n].sid, &m[n].fh);
	}
	if (rc != 0) {
		fprintf(stderr, "nfs_bench: crowd client %u of %u: %d\n", n, o->clients, rc);
		goto out;
	}
	printf("# crowd: %u clients (a session and an open each), %u threads, up to %u READs/s\n",
	       o->clients, nthreads, o->rate);
	rc = probe_phase(probe, dir, o->secs, false, fn, ctx, &done->probe_open_idle);
	if (rc != 0)
		goto out;
	/* One READ per member every interval, members' turns spread over it. */
	interval = (uint64_t)o->clients * 1000000000u / o->rate;
	start = crowd_now();
	for (i = 0; i < o->clients; i++)
		m[i].due = start + interval * i / o->clients;
	atomic_init(&stop, false);
	for (i = 0; i < nthreads; i++) {
		unsigned first = o->clients * i / nthreads, last = o->clients * (i + 1) / nthreads;

		t[i].m = m + first;
		t[i].n = last - first;
		t[i].interval = interval;
		t[i].stop = &stop;
		if (pthread_create(&t[i].thread, NULL, crowd_main, &t[i]) != 0) {
			rc = -EAGAIN;
			break;
		}
		joined++;
	}
	t0 = crowd_now();
	if (rc == 0)
		rc = probe_phase(probe, dir, o->secs, true, fn, ctx, &done->probe_open_busy);
	done->secs = (double)(crowd_now() - t0) / 1e9;
	atomic_store(&stop, true);
	for (i = 0; i < joined; i++) {
		pthread_join(t[i].thread, NULL);
		done->ops += t[i].ops;
		if (rc == 0 && t[i].rc != 0) {
			fprintf(stderr, "nfs_bench: crowd thread %u: %d\n", i, t[i].rc);
			rc = t[i].rc;
		}
	}
out:
	if (m)
		crowd_leave(m, n);
	free(m);
	if (nb_remove(probe, dir, CROWD_FILE) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}
