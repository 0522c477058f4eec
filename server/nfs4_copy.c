/*
 * server/nfs4_copy.c: asynchronous server-side copies (RFC 7862 §15.2.3
 * with a wr_callback_id, CB_OFFLOAD §16.1, OFFLOAD_STATUS §15.9,
 * OFFLOAD_CANCEL §15.8); the state machine is drawn in nfs4_copy.h.
 *
 * Job: one struct nfs4_copy per copy, which is its stateid, its CB_OFFLOAD
 * and the worker's instructions at once; one detached worker thread per
 * running copy, which copies in chunks with the backend's copy
 * (copy_file_range: extents are shared where the filesystem can) and looks
 * at its cancel flag between chunks.
 * Decisions:
 *  - Bounded: at most Max_Async_Copies running in the server and
 *    Max_Async_Copies_Per_Client of one client; beyond, COPY answers
 *    NFS4ERR_OFFLOAD_NO_REQS with cr_synchronous set (the Linux client then
 *    asks for a synchronous copy, which the server does at once, shortened).
 *  - Async_Copy_Max_Rate (MiB/s) paces each copy between chunks, so that a
 *    background copy leaves the disk to the clients' own I/O.
 *  - A worker holds references on both files and on the client; the state
 *    lock is taken only when it ends. While it runs, neither file gets a
 *    new delegation (nfs4_file.copies); those that conflicted were
 *    recalled before the COPY was accepted. Three holders keep the record: its
 *    stateid, the worker, the CB_OFFLOAD in the engine; the last one frees.
 *  - Bytes are reported as a WRITE's UNSTABLE4 with the write verifier (the
 *    client's COMMIT makes them durable), as the synchronous COPY does.
 *  - After CB_OFFLOAD ended (answered or its deadline of two leases), the
 *    record answers OFFLOAD_STATUS for one more lease, then goes.
 * Calls: nfs4_callback.h, nfs4_state.h, nfs4_client.h (client references),
 * the backend. Called by: see nfs4_copy.h.
 */
#include "server/nfs4_copy.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/log.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_client.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_file.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_state.h"

#define COPY_CHUNK (4ull << 20)
#define PACE_SLICE_MS 50
/* How long the server's stop waits for workers (a copy_file_range stuck in
 * the storage): then it goes on and says so. */
#define SHUTDOWN_WAIT_MS 60000

enum nfs4_copy_phase {
	NFS4_COPY_RUNNING = 1,
	NFS4_COPY_DONE,
	NFS4_COPY_CANCELLED,
};

struct nfs4_copy {
	struct nfs4_stid stid;            /* first; type NFS4_STID_COPY */
	enum nfs4_copy_phase phase;
	struct nfs4_cb offload;           /* CB_OFFLOAD */
	atomic_bool cancel;               /* the worker stops at its next chunk */
	_Atomic uint64_t copied;          /* bytes so far */
	struct pmem_obj *src, *dst;       /* referenced */
	struct nfs4_file *fsrc, *fdst;    /* referenced, their copies counted, while it runs */
	uint64_t src_off, dst_off, count;
	struct nfs4_client *clp;          /* referenced by the worker while it runs */
	nfsstat4 status;                  /* DONE: the outcome */
	verifier4 verf;
	uint32_t fh_len;                  /* the destination's handle, for CB_OFFLOAD */
	uint8_t fh[NFS4_FHSIZE];
	bool stid_live;                   /* its stateid exists (and it is on the list) */
	int refs;                         /* stateid, worker, CB_OFFLOAD */
	int64_t ended_ms;                 /* DONE: when its CB_OFFLOAD ended */
	struct list_node node;            /* in copies, while stid_live */
};

void nfs4_copies_init(struct nfs4_copies *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->options = (struct nfs4_copy_options){
		.max_async = 16, .max_async_per_client = 4, .max_rate_mib = 0,
	};
	list_init(&cs->list);
}

void nfs4_copy_set_options(struct nfs4_server *srv, const struct nfs4_copy_options *o)
{
	srv->copies.options = *o;
}

bool nfs4_copy_async_offered(const struct nfs4_server *srv)
{
	return srv->copies.options.max_async > 0;
}

void nfs4_copy_stats(const struct nfs4_server *srv, struct nfs4_copy_stats *out)
{
	*out = srv->copies.stats;
}

nfsstat4 nfs4_copy_errno_status(int err)
{
	return err == -EFBIG ? NFS4ERR_FBIG : err == -ENOSPC ? NFS4ERR_NOSPC
	       : nfs4_errno_to_status(err);
}

/* Drops one holder's reference. State lock held. */
static void copy_put(struct nfs4_copy *cp)
{
	if (--cp->refs > 0)
		return;
	pmem_obj_put(cp->src);
	pmem_obj_put(cp->dst);
	free(cp);
}

/* ---- CB_OFFLOAD ---- */

static bool offload_prepare(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
			    uint32_t *nops)
{
	struct nfs4_copy *cp = container_of(cb, struct nfs4_copy, offload);
	nfs_cb_argop4 *op;
	CB_OFFLOAD4args *a;

	if (cp->phase != NFS4_COPY_DONE || !cp->stid_live)
		return false;
	op = arena_alloc(arena, sizeof(*op));
	if (!op)
		return false;
	memset(op, 0, sizeof(*op));
	op->argop = OP_CB_OFFLOAD;
	a = &op->u.opcboffload;
	a->coa_fh.len = cp->fh_len;
	a->coa_fh.val = cp->fh;           /* the record outlives the attempt */
	a->coa_stateid = cp->stid.sid;
	a->coa_offload_info.coa_status = cp->status;
	if (cp->status == NFS4_OK) {
		write_response4 *w = &a->coa_offload_info.u.coa_resok4;

		w->wr_callback_id.len = 0;
		w->wr_count = atomic_load(&cp->copied);
		w->wr_committed = UNSTABLE4;
		memcpy(w->wr_writeverf, cp->verf, sizeof(verifier4));
	} else {
		a->coa_offload_info.u.coa_bytes_copied = atomic_load(&cp->copied);
	}
	*ops = op;
	*nops = 1;
	return true;
}

static int64_t offload_done(struct nfs4_cb *cb, int err, nfsstat4 status,
			    const CB_COMPOUND4res *res)
{
	(void)res;
	if (err == 0 && status == NFS4_OK)
		cb->clp->srv->copies.stats.callbacks_answered++;   /* the engine holds clp */
	else
		log_info("nfs4", "client %016llx: CB_OFFLOAD of a copy %s (%d); OFFLOAD_STATUS "
			 "still answers for a lease", (unsigned long long)cb->clp->clientid,
			 err ? "got no answer" : "was answered with an error",
			 err ? err : (int)status);
	return -1;
}

static void offload_release(struct nfs4_cb *cb)
{
	struct nfs4_copy *cp = container_of(cb, struct nfs4_copy, offload);

	cp->ended_ms = nfs4_cb_now_ms();
	copy_put(cp);
}

static const struct nfs4_cb_ops offload_ops = {
	.name = "CB_OFFLOAD",
	.prepare = offload_prepare,
	.done = offload_done,
	.release = offload_release,
};

/* ---- the worker ---- */

/* Sleeps, in short slices that look at the cancel flag, until done bytes
 * are no more than the rate allows since t0. */
static void copy_pace(struct nfs4_copy *cp, int64_t t0, uint64_t done)
{
	uint64_t rate = (uint64_t)cp->clp->srv->copies.options.max_rate_mib << 20;
	int64_t due, now;

	if (!rate)
		return;
	due = t0 + (int64_t)(done * 1000 / rate);
	while (!atomic_load(&cp->cancel) && (now = nfs4_cb_now_ms()) < due) {
		int64_t ms = due - now < PACE_SLICE_MS ? due - now : PACE_SLICE_MS;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000 };

		nanosleep(&ts, NULL);
	}
}

/* The worker has finished: record the outcome and tell the client. State
 * lock held. */
static void copy_finish(struct nfs4_copy *cp, int err, uint64_t done)
{
	struct nfs4_copies *cs = &cp->clp->srv->copies;
	int64_t now = nfs4_cb_now_ms();

	if (cp->phase == NFS4_COPY_RUNNING) {
		/* Some bytes, then an error: a short copy, as a synchronous one. */
		cp->status = err && done == 0 ? nfs4_copy_errno_status(err) : NFS4_OK;
		cp->phase = NFS4_COPY_DONE;
		nfs4_write_verifier(cp->clp->srv, cp->verf);
		cs->stats.completed++;
		cp->refs++;   /* the callback's */
		if (nfs4_cb_start(&cp->offload, cp->clp,
				  now + 2000 * (int64_t)cp->clp->srv->lease_seconds) < 0) {
			cp->refs--;
			cp->ended_ms = now;
		}
	}
	cp->fsrc->copies--;
	cp->fdst->copies--;
	nfs4_file_put(cp->fsrc);
	nfs4_file_put(cp->fdst);
	cp->fsrc = cp->fdst = NULL;
	cp->clp->ncopies--;
	cs->running--;
	nfs4_client_put(cp->clp);
	cp->clp = NULL;
	copy_put(cp);
}

static void *copy_worker(void *arg)
{
	struct nfs4_copy *cp = arg;
	int64_t t0 = nfs4_cb_now_ms();
	uint64_t done = 0;
	int err = 0;

	while (done < cp->count && !atomic_load(&cp->cancel)) {
		uint64_t n = cp->count - done < COPY_CHUNK ? cp->count - done : COPY_CHUNK;
		uint64_t got = 0;

		err = cp->src->ops->copy(cp->src, cp->src_off + done, cp->dst, cp->dst_off + done,
					 n, &got);
		done += got;
		atomic_store(&cp->copied, done);
		if (err || got == 0)
			break;   /* an error, or the source's end */
		if (done < cp->count)
			copy_pace(cp, t0, done);
	}
	nfs4_state_lock();
	copy_finish(cp, err, done);
	nfs4_state_unlock();
	return NULL;
}

/* ---- the stateid ---- */

/* The copy stops after the chunk in hand, and no CB_OFFLOAD goes (or
 * goes again). State lock held. */
static void copy_stop(struct nfs4_copy *cp)
{
	if (cp->phase == NFS4_COPY_RUNNING) {
		cp->phase = NFS4_COPY_CANCELLED;
		cp->stid.client->srv->copies.stats.cancelled++;
	}
	atomic_store(&cp->cancel, true);
	nfs4_cb_cancel(&cp->offload);
}

void nfs4_copy_expire(struct nfs4_stid *stid)
{
	copy_stop((struct nfs4_copy *)stid);
}

/* nfs4_stid_destroy's hook: OFFLOAD_CANCEL, the client's end, the reaper or
 * the server's end. State lock held. */
static void copy_stid_release(struct nfs4_stid *stid)
{
	struct nfs4_copy *cp = (struct nfs4_copy *)stid;

	copy_stop(cp);
	cp->stid.client->ncopy_records--;
	cp->stid_live = false;
	list_del(&cp->node);
	copy_put(cp);
}

/* Another client holds a delegation on fp that the copy conflicts with
 * (any, when the copy writes fp; a write one, when it reads it). */
static bool others_delegated(const struct nfs4_file *fp, const struct nfs4_client *clp,
			     bool written)
{
	const struct list_node *pos;

	list_for_each(pos, &fp->delegs) {
		const struct nfs4_deleg *dp = container_of(pos, struct nfs4_deleg, file_node);

		if (dp->stid.client != clp && (written || dp->type == OPEN_DELEGATE_WRITE))
			return true;
	}
	return false;
}

nfsstat4 nfs4_copy_start_async(struct nfs4_compound *c, struct pmem_obj *src, uint64_t src_off,
			       struct pmem_obj *dst, uint64_t dst_off, uint64_t count,
			       stateid4 *sid)
{
	struct nfs4_copies *cs = &c->srv->copies;
	struct nfs4_client *clp = c->client;
	struct nfs4_file *fsrc = NULL, *fdst = NULL;
	struct nfs4_copy *cp;
	struct nfs4_stid *stid;
	pthread_attr_t attr;
	pthread_t t;
	nfsstat4 st = NFS4_OK;
	int rc;

	nfs4_state_lock();
	if (cs->running >= cs->options.max_async || clp->ncopies >= cs->options.max_async_per_client) {
		cs->stats.refused++;
		st = NFS4ERR_OFFLOAD_NO_REQS;
		goto out;
	}
	fsrc = nfs4_file_get(&c->srv->files, src);
	fdst = fsrc ? nfs4_file_get(&c->srv->files, dst) : NULL;
	if (!fdst) {
		st = NFS4ERR_RESOURCE;
		goto out;
	}
	/* The caller's recall dropped the lock: a delegation granted since
	 * would last the whole copy. Refused from here on (fp->copies). */
	if (others_delegated(fdst, clp, true) || others_delegated(fsrc, clp, false)) {
		st = NFS4ERR_DELAY;
		goto out;
	}
	stid = nfs4_stid_new(clp, NFS4_STID_COPY, sizeof(*cp), copy_stid_release);
	if (!stid) {
		st = NFS4ERR_RESOURCE;
		goto out;
	}
	clp->ncopy_records++;
	cp = (struct nfs4_copy *)stid;
	cp->phase = NFS4_COPY_RUNNING;
	nfs4_cb_setup(&cp->offload, &offload_ops);
	pmem_obj_get(src);
	pmem_obj_get(dst);
	cp->src = src;
	cp->dst = dst;
	cp->fsrc = fsrc;
	cp->fdst = fdst;
	cp->src_off = src_off;
	cp->dst_off = dst_off;
	cp->count = count;
	cp->fh_len = c->cur.len;
	memcpy(cp->fh, c->cur.data, c->cur.len);
	cp->stid_live = true;
	cp->refs = 2;   /* the stateid's and the worker's */
	list_add_tail(&cp->node, &cs->list);
	cp->clp = clp;
	nfs4_client_get(clp);
	clp->ncopies++;
	cs->running++;
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, copy_worker, cp);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		log_warn("nfs4", "cannot start a copy worker: %s; the COPY is done synchronously",
			 strerror(rc));
		clp->ncopies--;
		cs->running--;
		nfs4_client_put(clp);
		cp->refs--;   /* no worker */
		cp->phase = NFS4_COPY_CANCELLED;   /* never ran: not counted as cancelled */
		nfs4_stid_destroy(stid);
		st = NFS4ERR_RESOURCE;
		goto out;
	}
	fsrc->copies++;
	fdst->copies++;
	fsrc = fdst = NULL;   /* the worker's now */
	*sid = stid->sid;
	cs->stats.started++;
out:
	if (fsrc)
		nfs4_file_put(fsrc);
	if (fdst)
		nfs4_file_put(fdst);
	nfs4_state_unlock();
	return st;
}

void nfs4_copy_reap(struct nfs4_server *srv)
{
	int64_t keep_ms = 1000 * (int64_t)srv->lease_seconds, now = nfs4_cb_now_ms();
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &srv->copies.list) {
		struct nfs4_copy *cp = container_of(pos, struct nfs4_copy, node);

		if (cp->phase == NFS4_COPY_DONE && cp->offload.phase == NFS4_CB_IDLE &&
		    cp->ended_ms && now - cp->ended_ms > keep_ms)
			nfs4_stid_destroy(&cp->stid);
	}
}

unsigned nfs4_copy_shutdown(struct nfs4_server *srv)
{
	struct nfs4_copies *cs = &srv->copies;
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &cs->list)
		nfs4_stid_destroy(&container_of(pos, struct nfs4_copy, node)->stid);
	/* Each worker stops after its chunk; it needs the lock to end. */
	for (int ms = 0; cs->running && ms < SHUTDOWN_WAIT_MS; ms += 10) {
		nfs4_state_unlock();
		usleep(10000);
		nfs4_state_lock();
	}
	if (cs->running)
		log_err("nfs4", "%u copy workers still in the storage after %d s; stopping anyway",
			cs->running, SHUTDOWN_WAIT_MS / 1000);
	return cs->running;
}

/* ---- OFFLOAD_STATUS, OFFLOAD_CANCEL ---- */

/* The copy named by sid, whose destination must be the current handle
 * (RFC 7862 §15.8.3, §15.9.3). */
static nfsstat4 copy_lookup(struct nfs4_compound *c, const stateid4 *sid,
			    struct nfs4_copy **out)
{
	struct nfs4_stid *stid;
	struct nfs4_copy *cp;
	nfsstat4 st = nfs4_stid_lookup(c, sid, NFS4_STID_COPY, false, &stid);

	*out = NULL;
	if (st != NFS4_OK)
		return st;
	cp = (struct nfs4_copy *)stid;
	if (cp->fh_len != c->cur.len || memcmp(cp->fh, c->cur.data, cp->fh_len) != 0)
		return NFS4ERR_BAD_STATEID;
	*out = cp;
	return NFS4_OK;
}

nfsstat4 nfs4_op_offload_status(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	OFFLOAD_STATUS4args *a = &args->u.opoffload_status;
	OFFLOAD_STATUS4resok *ok = &res->u.opoffload_status.u.osr_resok4;
	nfsstat4 *complete = arena_alloc(c->arena, sizeof(*complete));
	struct nfs4_copy *cp;
	nfsstat4 st;

	if (!complete)
		return NFS4ERR_RESOURCE;
	nfs4_state_lock();
	st = copy_lookup(c, &a->osa_stateid, &cp);
	if (st == NFS4_OK) {
		/* Running: the bytes so far and no status; done: its status
		 * (as knfsd answers, so that a client can tell them apart). */
		ok->osr_count = atomic_load(&cp->copied);
		ok->osr_complete.len = cp->phase == NFS4_COPY_DONE;
		*complete = cp->status;
		ok->osr_complete.val = complete;
	}
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_offload_cancel(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	OFFLOAD_CANCEL4args *a = &args->u.opoffload_cancel;
	struct nfs4_copy *cp;
	nfsstat4 st;

	(void)res;
	nfs4_state_lock();
	st = copy_lookup(c, &a->oca_stateid, &cp);
	/* Running: it stops at its next chunk, with no CB_OFFLOAD. Done: the
	 * client wants no more of it; its record and any CB_OFFLOAD go. */
	if (st == NFS4_OK)
		nfs4_stid_destroy(&cp->stid);
	nfs4_state_unlock();
	return st;
}
