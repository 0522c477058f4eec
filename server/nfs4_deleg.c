/*
 * server/nfs4_deleg.c: delegations — grant at OPEN, recall on conflict,
 * revoke at the deadline, DELEGRETURN and DELEGPURGE (see nfs4_deleg.h).
 *
 * Decisions:
 *  - A read delegation is granted only while no open of the file (by
 *    anyone) has write access, and a write delegation only while every open
 *    of the file is the client's own: the local lease needs that too (a read
 *    lease cannot coexist with a writable descriptor, a write lease with
 *    any other open).
 *  - A WRITE or a size change recalls other clients' read delegations; the
 *    writer's own read delegation stays when it is the only client holding
 *    any on the file and the file's lease can become a write lease (the
 *    server's descriptor under a read lease is read-only), else it is
 *    recalled too.
 *  - A file whose delegations were recalled gets none for
 *    DELEG_REGRANT_HOLDOFF_MS, so that two clients do not make it ping-pong.
 *  - After a client answered CB_RECALL, the recall waits in the engine until
 *    the deadline: DELEGRETURN cancels it; the deadline revokes.
 * Calls: nfs4_callback.h, nfs4_file_lease.c, nfs4_state.h, conf/log.h,
 * server/metrics (the recall latency histogram).
 * Called by: see nfs4_deleg.h; the compound loop (DELEGRETURN, DELEGPURGE).
 */
#include "server/nfs4_deleg.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_cb_probe.h"
#include "server/nfs4_client.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_file_lease.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_open.h"
#include "server/nfs4_open_priv.h"
#include "server/nfs4_ops.h"

#define WANT_MASK OPEN4_SHARE_ACCESS_WANT_DELEG_MASK
/* The want bits besides the type (RFC 8881 §18.16.3, RFC 9754). */
#define WANT_DELEG_EXTRA_FLAGS (OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | \
				OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED | \
				OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS | \
				OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION)
#define DELEG_REGRANT_HOLDOFF_MS 5000
/* A client that answers CB_RECALL with BAD_STATEID may not have seen the
 * OPEN reply yet (RFC 8881 §20.2.3): asked again this often, this many times. */
#define RECALL_RETRY_MS 200
#define RECALL_MAX_RETRIES 5
/* From three quarters of Max_Delegations on, clients holding delegations
 * are asked to give half of theirs back (CB_RECALL_ANY), each at most once
 * per RECALL_ANY_INTERVAL_MS. */
#define RECALL_ANY_INTERVAL_MS 5000

int nfs4_delegations_init(struct nfs4_delegations *d)
{
	memset(d, 0, sizeof(*d));
	d->recall_timeout_ms = 30000;
	atomic_init(&d->outstanding_hint, 0);
	return -nfs4_monotonic_cond_init(&d->getattr_cond);
}

void nfs4_delegations_destroy(struct nfs4_delegations *d)
{
	pthread_cond_destroy(&d->getattr_cond);
}

bool nfs4_deleg_any(const struct nfs4_server *srv)
{
	return atomic_load(&srv->delegs.outstanding_hint) != 0;
}

void nfs4_deleg_stats(const struct nfs4_server *srv, struct nfs4_deleg_stats *out)
{
	*out = srv->delegs.stats;
}

int64_t nfs4_recall_timeout_ms(const struct nfs4_server *srv)
{
	return srv->delegs.recall_timeout_ms;
}

void nfs4_deleg_set_recall_timeout(struct nfs4_server *srv, int64_t ms)
{
	srv->delegs.recall_timeout_ms = ms;
}

void nfs4_deleg_set_options(struct nfs4_server *srv, const struct nfs4_deleg_options *o)
{
	srv->delegs.options = *o;
}

const struct nfs4_deleg_options *nfs4_deleg_options(const struct nfs4_server *srv)
{
	return &srv->delegs.options;
}

static struct nfs4_deleg *deleg_of(const struct nfs4_stid *stid)
{
	return (struct nfs4_deleg *)stid;
}

struct nfs4_file *nfs4_deleg_file(const struct nfs4_stid *stid)
{
	return stid->type == NFS4_STID_DELEG ? deleg_of(stid)->fp : NULL;
}

uint32_t nfs4_deleg_share_access(const struct nfs4_stid *stid)
{
	if (stid->type != NFS4_STID_DELEG)
		return 0;
	return deleg_of(stid)->type == OPEN_DELEGATE_WRITE ? NFS4_SHARE_BOTH : NFS4_SHARE_READ;
}

/* The delegation leaves its file; the last one out drops the file's lease. */
static void deleg_leave_file(struct nfs4_deleg *dp)
{
	struct nfs4_delegations *d = &dp->stid.client->srv->delegs;
	struct nfs4_file *fp = dp->fp;

	if (!fp)
		return;
	list_del(&dp->file_node);
	pthread_mutex_lock(&dp->stid.client->lock);   /* read by the I/O check */
	dp->fp = NULL;
	pthread_mutex_unlock(&dp->stid.client->lock);
	dp->stid.client->ndelegs--;
	d->stats.outstanding--;
	atomic_store(&d->outstanding_hint, d->stats.outstanding);
	nfs4_file_lease_drop_unused(fp);
	nfs4_file_put(fp);
}

static void deleg_free(struct nfs4_deleg *dp)
{
	free(dp);
}

/* The stateid is destroyed (DELEGRETURN, FREE_STATEID, the client's end). */
static void deleg_stid_release(struct nfs4_stid *stid)
{
	struct nfs4_deleg *dp = deleg_of(stid);

	deleg_leave_file(dp);
	if (dp->recall.phase != NFS4_CB_IDLE || dp->getattr.phase != NFS4_CB_IDLE) {
		/* The engine still holds a callback: the last release frees dp. */
		dp->stid_gone = true;
		nfs4_cb_cancel(&dp->recall);
		nfs4_cb_cancel(&dp->getattr);
		return;
	}
	deleg_free(dp);
}

/* A callback of dp left the engine: free dp if it was waiting for that. */
static void deleg_cb_released(struct nfs4_deleg *dp)
{
	if (dp->stid_gone && dp->recall.phase == NFS4_CB_IDLE &&
	    dp->getattr.phase == NFS4_CB_IDLE)
		deleg_free(dp);
}

static void deleg_revoke(struct nfs4_deleg *dp, const char *why)
{
	struct nfs4_delegations *d = &dp->stid.client->srv->delegs;
	struct nfs4_client *clp = dp->stid.client;
	uint64_t fileid = dp->fp ? dp->fp->obj->fileid : 0;

	if (dp->state == NFS4_DELEG_REVOKED || dp->stid.state != NFS4_STID_ACTIVE)
		return;
	dp->state = NFS4_DELEG_REVOKED;
	/* the I/O check and SEQUENCE read these under the client's lock */
	pthread_mutex_lock(&clp->lock);
	dp->stid.state = NFS4_STID_REVOKED;
	clp->nrevoked_stids++;
	clp->seq4_flags |= SEQ4_STATUS_RECALLABLE_STATE_REVOKED;
	pthread_mutex_unlock(&clp->lock);
	deleg_leave_file(dp);
	nfs4_cb_cancel(&dp->recall);
	nfs4_cb_cancel(&dp->getattr);
	d->stats.revoked++;
	log_warn("nfs4", "delegation revoked: clientid %016llx fileid %llu (%s delegation): %s; "
		 "%llu revoked since start",
		 (unsigned long long)clp->clientid, (unsigned long long)fileid,
		 dp->type == OPEN_DELEGATE_WRITE ? "write" : "read", why,
		 (unsigned long long)d->stats.revoked);
}

/* ---- CB_RECALL through the engine ---- */

static bool recall_prepare(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
			   uint32_t *nops)
{
	struct nfs4_deleg *dp = container_of(cb, struct nfs4_deleg, recall);
	nfs_cb_argop4 *op;
	uint8_t *fh;

	if (dp->stid_gone || dp->state != NFS4_DELEG_RECALLING)
		return false;
	op = arena_alloc(arena, sizeof(*op));
	fh = arena_alloc(arena, dp->fh_len ? dp->fh_len : 1);
	if (!op || !fh)
		return false;
	memset(op, 0, sizeof(*op));
	memcpy(fh, dp->fh, dp->fh_len);
	op->argop = OP_CB_RECALL;
	op->u.opcbrecall.stateid = dp->stid.sid;
	op->u.opcbrecall.truncate = false;
	op->u.opcbrecall.fh.len = dp->fh_len;
	op->u.opcbrecall.fh.val = fh;
	*ops = op;
	*nops = 1;
	return true;
}

static int64_t recall_done(struct nfs4_cb *cb, int err, nfsstat4 status,
			   const CB_COMPOUND4res *res)
{
	struct nfs4_deleg *dp = container_of(cb, struct nfs4_deleg, recall);
	nfsstat4 st = status;
	int64_t now = nfs4_cb_now_ms();

	if (dp->stid_gone || dp->state != NFS4_DELEG_RECALLING)
		return -1;
	if (err == -ETIME) {
		deleg_revoke(dp, "not returned within Recall_Timeout");
		return -1;
	}
	if (res && res->resarray.len > 1 && res->resarray.val[1].resop == OP_CB_RECALL)
		st = res->resarray.val[1].u.opcbrecall.status;
	if (st == NFS4ERR_DELAY)
		return 1000;
	if (st == NFS4ERR_BAD_STATEID && cb->attempts < RECALL_MAX_RETRIES)
		return RECALL_RETRY_MS;
	/* Asked: now the client must DELEGRETURN by the deadline. */
	return dp->recall_deadline_ms > now ? dp->recall_deadline_ms - now : 0;
}

static void recall_release(struct nfs4_cb *cb)
{
	deleg_cb_released(container_of(cb, struct nfs4_deleg, recall));
}

static const struct nfs4_cb_ops recall_ops = {
	.name = "CB_RECALL",
	.prepare = recall_prepare,
	.done = recall_done,
	.release = recall_release,
};

/* Starts (or hastens) the recall of dp, to be returned by deadline_ms. */
static void deleg_recall(struct nfs4_deleg *dp, int64_t deadline_ms)
{
	struct nfs4_delegations *d = &dp->stid.client->srv->delegs;
	int64_t now = nfs4_cb_now_ms();
	int rc;

	if (dp->state == NFS4_DELEG_RECALLING) {
		if (deadline_ms < dp->recall_deadline_ms) {
			dp->recall_deadline_ms = deadline_ms;
			if (dp->recall.phase != NFS4_CB_IDLE)
				dp->recall.deadline_ms = deadline_ms;
			nfs4_cb_kick(dp->stid.client->srv);
		}
		/* Its callback ended without a revocation (the engine could not
		 * take it, or no memory to build it): revoke once the deadline
		 * passed, else start it again. */
		if (dp->recall.phase == NFS4_CB_IDLE) {
			if (now >= dp->recall_deadline_ms)
				deleg_revoke(dp, "not returned within Recall_Timeout");
			else if (nfs4_cb_start(&dp->recall, dp->stid.client,
					       dp->recall_deadline_ms) < 0)
				log_debug("nfs4", "delegation recall: the callback engine refused");
		}
		return;
	}
	if (dp->state != NFS4_DELEG_GRANTED)
		return;
	dp->state = NFS4_DELEG_RECALLING;
	dp->recall_start_ms = now;
	dp->recall_start_ns = metrics_now_ns();
	dp->recall_deadline_ms = deadline_ms;
	if (dp->fp)
		dp->fp->recalled_ms = now;
	d->stats.recalls++;
	rc = nfs4_cb_start(&dp->recall, dp->stid.client, deadline_ms);
	if (rc < 0)
		log_warn("nfs4", "delegation recall: clientid %016llx: the callback engine refused "
			 "(%s); it is revoked at the deadline by the next conflict",
			 (unsigned long long)dp->stid.client->clientid, strerror(-rc));
}

/* ---- CB_GETATTR through the engine ---- */

#define GETATTR_MASK ((1u << FATTR4_CHANGE) | (1u << FATTR4_SIZE))
#define GETATTR_TIMES_MASK2 ((1u << (FATTR4_TIME_DELEG_ACCESS - 64)) | \
			     (1u << (FATTR4_TIME_DELEG_MODIFY - 64)))
#define GETATTR_FRESH_MS 1000
#define GETATTR_WAIT_MS 500

static bool getattr_prepare(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
			    uint32_t *nops)
{
	struct nfs4_deleg *dp = container_of(cb, struct nfs4_deleg, getattr);
	nfs_cb_argop4 *op;
	uint32_t *mask;
	uint8_t *fh;

	if (dp->stid_gone || dp->state != NFS4_DELEG_GRANTED)
		return false;
	op = arena_alloc(arena, sizeof(*op));
	mask = arena_alloc(arena, 3 * sizeof(*mask));
	fh = arena_alloc(arena, dp->fh_len ? dp->fh_len : 1);
	if (!op || !mask || !fh)
		return false;
	memset(op, 0, sizeof(*op));
	memcpy(fh, dp->fh, dp->fh_len);
	/* With delegated timestamps the holder's times too (RFC 9754). */
	mask[0] = GETATTR_MASK;
	mask[1] = 0;
	mask[2] = GETATTR_TIMES_MASK2;
	op->argop = OP_CB_GETATTR;
	op->u.opcbgetattr.fh.len = dp->fh_len;
	op->u.opcbgetattr.fh.val = fh;
	op->u.opcbgetattr.attr_request.len = dp->timestamps ? 3 : 1;
	op->u.opcbgetattr.attr_request.val = mask;
	*ops = op;
	*nops = 1;
	return true;
}

static bool deleg_time_acceptable(struct pmem_time *t, const struct pmem_time *floor);

/* What a holder answered to CB_GETATTR. */
struct getattr_answer {
	uint64_t change, size;
	bool have_atime, have_mtime;
	struct pmem_time atime, mtime;
};

static bool getattr_get_time(struct xdr_stream *x, struct pmem_time *t)
{
	uint32_t nsec;

	if (!xdr_get_i64(x, &t->sec) || !xdr_get_u32(x, &nsec) || nsec >= 1000000000u)
		return false;
	t->nsec = nsec;
	return true;
}

/* change and size from a CB_GETATTR answer: both must be there, and nothing
 * before them (values come in attribute order). The delegated times of RFC
 * 9754 are read when nothing but change and size precedes them; anything
 * else a client adds after change and size is not looked at. */
static bool getattr_parse(const fattr4 *fa, struct getattr_answer *ans)
{
	const uint32_t *m = fa->attrmask.val;
	struct xdr_stream x;

	memset(ans, 0, sizeof(*ans));
	if (fa->attrmask.len < 1 || (m[0] & GETATTR_MASK) != GETATTR_MASK ||
	    (m[0] & ((1u << FATTR4_CHANGE) - 1)))
		return false;
	xdr_init_decode(&x, fa->attr_vals.val, fa->attr_vals.len, NULL);
	if (!xdr_get_u64(&x, &ans->change) || !xdr_get_u64(&x, &ans->size))
		return false;
	if (m[0] != GETATTR_MASK || fa->attrmask.len < 3 || m[1] != 0 ||
	    (m[2] & ((1u << (FATTR4_TIME_DELEG_ACCESS - 64)) - 1)))
		return true;   /* other values come first: the times' place is unknown */
	if ((m[2] & (1u << (FATTR4_TIME_DELEG_ACCESS - 64))) &&
	    !(ans->have_atime = getattr_get_time(&x, &ans->atime)))
		return true;
	if (m[2] & (1u << (FATTR4_TIME_DELEG_MODIFY - 64)))
		ans->have_mtime = getattr_get_time(&x, &ans->mtime);
	return true;
}

static int64_t getattr_done(struct nfs4_cb *cb, int err, nfsstat4 status,
			    const CB_COMPOUND4res *res)
{
	struct nfs4_deleg *dp = container_of(cb, struct nfs4_deleg, getattr);
	struct nfs4_delegations *d = &dp->stid.client->srv->delegs;
	int64_t now = nfs4_cb_now_ms();
	struct getattr_answer ans;
	struct pmem_attr at;

	if (dp->stid_gone || dp->state != NFS4_DELEG_GRANTED || !dp->fp)
		return -1;
	pthread_cond_broadcast(&d->getattr_cond);
	if (err == -ETIME) {
		/* No answer for a whole Recall_Timeout: no second period. */
		deleg_revoke(dp, "CB_GETATTR not answered within Recall_Timeout");
		return -1;
	}
	if (err == 0 && status == NFS4_OK && res->resarray.len > 1 &&
	    res->resarray.val[1].resop == OP_CB_GETATTR &&
	    getattr_parse(&res->resarray.val[1].u.opcbgetattr.u.resok4.obj_attributes, &ans) &&
	    dp->fp->obj->ops->getattr(dp->fp->obj, &at) == 0) {
		/* The holder's word is the file's size and change now (it may
		 * hold data the server has not seen yet), and its times when
		 * they are delegated. */
		dp->getattr_ok_ms = now;
		dp->cb_modified = at.size != ans.size || at.change != ans.change;
		dp->cb_size = ans.size;
		dp->cb_change = ans.change;
		/* Its times only when they are later than what the server
		 * accepted last and not in the future (as for SETATTR). */
		dp->cb_have_atime = dp->timestamps && ans.have_atime &&
				    deleg_time_acceptable(&ans.atime, &dp->atime_floor);
		dp->cb_have_mtime = dp->timestamps && ans.have_mtime &&
				    deleg_time_acceptable(&ans.mtime, &dp->mtime_floor);
		dp->cb_atime = ans.atime;
		dp->cb_mtime = ans.mtime;
		return -1;
	}
	/* No usable answer: the data must come back to the server before
	 * anyone else sees the attributes. */
	deleg_recall(dp, now + d->recall_timeout_ms);
	return -1;
}

/* The engine still holds the delegation's client here (cb_finish). */
static void getattr_release(struct nfs4_cb *cb)
{
	struct nfs4_deleg *dp = container_of(cb, struct nfs4_deleg, getattr);

	pthread_cond_broadcast(&dp->stid.client->srv->delegs.getattr_cond);
	deleg_cb_released(dp);
}

static const struct nfs4_cb_ops getattr_ops = {
	.name = "CB_GETATTR",
	.prepare = getattr_prepare,
	.done = getattr_done,
	.release = getattr_release,
};

nfsstat4 nfs4_deleg_getattr_conflict(struct nfs4_server *srv, struct nfs4_client *clp,
				     struct pmem_obj *obj, bool size_change, struct nfs4_fattr_opts *opts)
{
	struct nfs4_delegations *d = &srv->delegs;
	int64_t now = nfs4_cb_now_ms(), wait_until = now + GETATTR_WAIT_MS, wake;
	struct nfs4_file *fp;
	struct list_node *pos, *tmp;
	struct timespec ts;
	nfsstat4 st;
	bool pending;

	if (d->stats.outstanding == 0)
		return NFS4_OK;
	fp = nfs4_file_find(&srv->files, obj);
	if (!fp)
		return NFS4_OK;
again:
	now = nfs4_cb_now_ms();
	st = NFS4_OK;
	pending = false;
	list_for_each_safe(pos, tmp, &fp->delegs) {
		struct nfs4_deleg *dp = container_of(pos, struct nfs4_deleg, file_node);

		if (dp->type != OPEN_DELEGATE_WRITE || dp->stid.client == clp ||
		    (!size_change && !dp->timestamps))
			continue;
		if (nfs4_client_yield_courtesy(dp->stid.client))
			goto again;
		if (dp->state == NFS4_DELEG_GRANTED && dp->getattr_ok_ms &&
		    now - dp->getattr_ok_ms < GETATTR_FRESH_MS) {
			if (dp->cb_modified && opts) {
				opts->have_deleg_attrs = true;
				opts->deleg_size = dp->cb_size;
				opts->deleg_change = dp->cb_change;
			}
			if (dp->cb_have_atime && opts) {
				opts->have_deleg_atime = true;
				opts->deleg_atime = dp->cb_atime;
			}
			if (dp->cb_have_mtime && opts) {
				opts->have_deleg_mtime = true;
				opts->deleg_mtime = dp->cb_mtime;
			}
			continue;
		}
		if (dp->state == NFS4_DELEG_GRANTED && dp->getattr.phase == NFS4_CB_IDLE) {
			dp->getattr_ok_ms = 0;
			if (nfs4_cb_start(&dp->getattr, dp->stid.client, now + d->recall_timeout_ms) < 0)
				deleg_recall(dp, now + d->recall_timeout_ms);
		} else if (dp->state == NFS4_DELEG_RECALLING) {
			deleg_recall(dp, dp->recall_deadline_ms);   /* revokes when its time is up */
		}
		if (!dp->fp)
			continue;   /* revoked just now */
		if (dp->state == NFS4_DELEG_GRANTED && dp->getattr.phase != NFS4_CB_IDLE)
			pending = true;
		else
			st = NFS4ERR_DELAY;
	}
	/* Wait for the holder's answer (the lock is released meanwhile; the
	 * list is read again after, as it may have changed). */
	if (pending && st == NFS4_OK && now < wait_until) {
		wake = now + 100 < wait_until ? now + 100 : wait_until;
		ts.tv_sec = wake / 1000;
		ts.tv_nsec = (wake % 1000) * 1000000;
		nfs4_state_wait(&d->getattr_cond, &ts);
		goto again;
	}
	if (pending)
		st = NFS4ERR_DELAY;
	nfs4_file_put(fp);
	return st;
}

void nfs4_deleg_recall_file(struct nfs4_file *fp, int64_t deadline_ms)
{
	struct list_node *pos, *tmp;

	/* safe: a recall whose time is up revokes, and the delegation leaves */
	list_for_each_safe(pos, tmp, &fp->delegs)
		deleg_recall(container_of(pos, struct nfs4_deleg, file_node), deadline_ms);
}

void nfs4_deleg_revoke_file(struct nfs4_file *fp, const char *why)
{
	while (!list_empty(&fp->delegs)) {
		struct nfs4_deleg *dp = container_of(fp->delegs.next, struct nfs4_deleg, file_node);

		if (dp->state == NFS4_DELEG_REVOKED || dp->stid.state != NFS4_STID_ACTIVE)
			deleg_leave_file(dp);   /* cannot happen; never loop on it */
		else
			deleg_revoke(dp, why);
	}
}

void nfs4_deleg_expire(struct nfs4_stid *stid)
{
	struct nfs4_deleg *dp = deleg_of(stid);

	deleg_leave_file(dp);
	nfs4_cb_cancel(&dp->recall);
	nfs4_cb_cancel(&dp->getattr);
}

/* ---- CB_RECALL_ANY (RFC 8881 §20.6) ---- */

struct nfs4_recall_any {
	struct nfs4_cb cb;
	struct nfs4_client *clp;          /* the engine holds the reference */
	uint32_t keep;
};

static bool recall_any_prepare(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
			       uint32_t *nops)
{
	struct nfs4_recall_any *ra = container_of(cb, struct nfs4_recall_any, cb);
	nfs_cb_argop4 *op = arena_alloc(arena, sizeof(*op));
	uint32_t *mask = arena_alloc(arena, sizeof(*mask));

	if (!op || !mask)
		return false;
	memset(op, 0, sizeof(*op));
	*mask = (1u << RCA4_TYPE_MASK_RDATA_DLG) | (1u << RCA4_TYPE_MASK_WDATA_DLG);
	op->argop = OP_CB_RECALL_ANY;
	op->u.opcbrecall_any.craa_objects_to_keep = ra->keep;
	op->u.opcbrecall_any.craa_type_mask.len = 1;
	op->u.opcbrecall_any.craa_type_mask.val = mask;
	*ops = op;
	*nops = 1;
	return true;
}

static void recall_any_release(struct nfs4_cb *cb)
{
	struct nfs4_recall_any *ra = container_of(cb, struct nfs4_recall_any, cb);

	if (ra->clp->recall_any == ra)
		ra->clp->recall_any = NULL;
	free(ra);
}

static const struct nfs4_cb_ops recall_any_ops = {
	.name = "CB_RECALL_ANY",
	.prepare = recall_any_prepare,
	.done = NULL,   /* the answer changes nothing here: returns follow */
	.release = recall_any_release,
};

/* Too many delegations: every client holding some is asked to keep half;
 * at most once per interval, with one log line. */
static void deleg_reap(struct nfs4_server *srv)
{
	struct nfs4_delegations *d = &srv->delegs;
	int64_t now = nfs4_cb_now_ms();
	struct list_node *pos;
	unsigned asked = 0;

	if (d->last_reap_ms && now - d->last_reap_ms < RECALL_ANY_INTERVAL_MS)
		return;
	d->last_reap_ms = now;
	list_for_each(pos, nfs4_client_list(srv)) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);
		struct nfs4_recall_any *ra;

		if (!clp->ndelegs || clp->recall_any || clp->expired ||
		    (clp->recall_any_ms && now - clp->recall_any_ms < RECALL_ANY_INTERVAL_MS))
			continue;
		ra = calloc(1, sizeof(*ra));
		if (!ra)
			return;
		nfs4_cb_setup(&ra->cb, &recall_any_ops);
		ra->clp = clp;
		ra->keep = clp->ndelegs / 2;
		if (nfs4_cb_start(&ra->cb, clp, now + d->recall_timeout_ms) < 0) {
			free(ra);
			return;
		}
		clp->recall_any = ra;
		clp->recall_any_ms = now;
		asked++;
	}
	if (asked)
		log_info("nfs4", "%u delegations outstanding (Max_Delegations %u): CB_RECALL_ANY "
			 "sent to %u client(s), each asked to keep half of its delegations",
			 d->stats.outstanding, srv->limits.max_delegations, asked);
}

/* ---- conflicts ---- */

static bool deleg_conflicts(const struct nfs4_deleg *dp, const struct nfs4_client *clp,
			    enum nfs4_deleg_access access)
{
	bool other = !clp || dp->stid.client != clp;

	switch (access) {
	case NFS4_DELEG_READ_DATA:
	case NFS4_DELEG_OPEN_READ:
		return other && dp->type == OPEN_DELEGATE_WRITE;
	case NFS4_DELEG_WRITE_DATA:
		return other || dp->type == OPEN_DELEGATE_READ;
	case NFS4_DELEG_CHANGE_META:
		return other;
	}
	return true;
}

/* True when some client other than clp holds a delegation on fp. */
static bool others_hold(const struct nfs4_file *fp, const struct nfs4_client *clp)
{
	const struct list_node *pos;

	list_for_each(pos, &fp->delegs)
		if (container_of(pos, struct nfs4_deleg, file_node)->stid.client != clp)
			return true;
	return false;
}

nfsstat4 nfs4_deleg_conflict(struct nfs4_server *srv, struct nfs4_client *clp,
			     struct pmem_obj *obj, enum nfs4_deleg_access access)
{
	struct nfs4_delegations *d = &srv->delegs;
	struct nfs4_file *fp;
	struct list_node *pos, *tmp;
	nfsstat4 st = NFS4_OK;

	if (d->stats.outstanding == 0)
		return NFS4_OK;   /* the hot path of every READ and WRITE */
	fp = nfs4_file_find(&srv->files, obj);
	if (!fp)
		return NFS4_OK;
again:
	list_for_each_safe(pos, tmp, &fp->delegs) {
		struct nfs4_deleg *dp = container_of(pos, struct nfs4_deleg, file_node);

		if (!deleg_conflicts(dp, clp, access))
			continue;
		/* The holder of a read delegation writes (RFC 8881 §10.4.1 lets
		 * it keep the delegation): fine once every delegation on the
		 * file is its own and the file's lease is a write lease (the
		 * server needs a writable descriptor); else its own is recalled
		 * only when the lease cannot be changed. */
		if (clp && dp->stid.client == clp && dp->type == OPEN_DELEGATE_READ &&
		    dp->state == NFS4_DELEG_GRANTED) {
			if (others_hold(fp, clp))
				continue;   /* theirs are recalled; this one waits */
			if (nfs4_file_lease_take(fp, PMEM_LEASE_WRITE) == 0)
				continue;
		}
		/* A courtesy client loses its state to the conflict, no recall;
		 * the list changed under us: look again. */
		if (nfs4_client_yield_courtesy(dp->stid.client))
			goto again;
		deleg_recall(dp, nfs4_cb_now_ms() + d->recall_timeout_ms);
		if (dp->fp)   /* still there (not revoked just now) */
			st = NFS4ERR_DELAY;
	}
	nfs4_file_put(fp);
	return st;
}

nfsstat4 nfs4_deleg_conflict_unlocked(struct nfs4_server *srv, struct nfs4_client *clp,
				      struct pmem_obj *obj, enum nfs4_deleg_access access)
{
	nfsstat4 st;

	nfs4_state_lock();
	st = nfs4_deleg_conflict(srv, clp, obj, access);
	nfs4_state_unlock();
	return st;
}

/* ---- OPEN ---- */

static void none_ext(open_delegation4 *out, why_no_delegation4 why)
{
	out->delegation_type = OPEN_DELEGATE_NONE_EXT;
	out->u.od_whynone.ond_why = why;
	out->u.od_whynone.u.ond_server_will_signal_avail = false;
}

/* A back channel that works, or is being probed for the first time since
 * it last did (as knfsd: a session's channel is trusted until a failure
 * says otherwise, so a client that opens at once after CREATE_SESSION is
 * not refused for the probe's round trip). */
static bool client_cb_up(const struct nfs4_client *clp)
{
	const struct list_node *pos;

	list_for_each(pos, &clp->sessions) {
		const struct nfs4_session *s = container_of(pos, struct nfs4_session, client_node);

		if (!s->dead && nfs4_cb_path_usable(s))
			return true;
	}
	return false;
}

/* Why type cannot be granted to clp on fp now (0 = it can). */
static int grant_obstacle(const struct nfs4_file *fp, const struct nfs4_client *clp,
			  const struct nfs4_open_state *os, open_delegation_type4 type,
			  why_no_delegation4 *why)
{
	const struct nfs4_delegations *d = &clp->srv->delegs;
	const struct list_node *pos;
	int64_t now = nfs4_cb_now_ms();

	*why = WND4_CONTENTION;
	list_for_each(pos, &fp->delegs) {
		const struct nfs4_deleg *dp = container_of(pos, struct nfs4_deleg, file_node);

		if (dp->state == NFS4_DELEG_RECALLING)
			return -1;
		if (dp->stid.client == clp) {
			*why = type == OPEN_DELEGATE_WRITE && dp->type == OPEN_DELEGATE_READ
			       ? WND4_NOT_SUPP_UPGRADE : WND4_CONTENTION;
			return -1;   /* one delegation per client and file */
		}
		if (type == OPEN_DELEGATE_WRITE || dp->type == OPEN_DELEGATE_WRITE)
			return -1;
	}
	if (fp->recalled_ms && now - fp->recalled_ms < DELEG_REGRANT_HOLDOFF_MS)
		return -1;
	if (fp->copies)
		return -1;   /* a server-side copy reads or writes it */
	list_for_each(pos, &fp->shares) {
		const struct nfs4_share *sh = container_of(pos, struct nfs4_share, node);
		const struct nfs4_open_state *o = container_of(sh, struct nfs4_open_state, share);

		if (type == OPEN_DELEGATE_READ && (sh->access & NFS4_SHARE_WRITE))
			return -1;
		/* Another client denies reading: the holder could not open the
		 * file for reading (WANT_DELEGATION comes without an open that
		 * would have met that deny). */
		if (o->stid.client != clp && (sh->deny & NFS4_SHARE_READ))
			return -1;
		if (type == OPEN_DELEGATE_WRITE && o != os && o->stid.client != clp)
			return -1;
	}
	if (d->stats.outstanding >= clp->srv->limits.max_delegations) {
		*why = WND4_RESOURCE;
		return -1;
	}
	return 0;
}

static void deleg_fill(const struct nfs4_deleg *dp, open_delegation4 *out)
{
	if (dp->type == OPEN_DELEGATE_READ)
		out->delegation_type = dp->timestamps ? OPEN_DELEGATE_READ_ATTRS_DELEG
						      : OPEN_DELEGATE_READ;
	else
		out->delegation_type = dp->timestamps ? OPEN_DELEGATE_WRITE_ATTRS_DELEG
						      : OPEN_DELEGATE_WRITE;
	if (dp->type == OPEN_DELEGATE_READ) {
		out->u.read.stateid = dp->stid.sid;
		out->u.read.recall = false;
		out->u.read.permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	} else {
		out->u.write.stateid = dp->stid.sid;
		out->u.write.recall = false;
		out->u.write.space_limit.limitby = NFS_LIMIT_SIZE;
		out->u.write.space_limit.u.filesize = UINT64_MAX;
		out->u.write.permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	}
}

bool nfs4_deleg_type_reclaimable(open_delegation_type4 type)
{
	return type == OPEN_DELEGATE_READ || type == OPEN_DELEGATE_WRITE ||
	       type == OPEN_DELEGATE_READ_ATTRS_DELEG || type == OPEN_DELEGATE_WRITE_ATTRS_DELEG;
}

bool nfs4_deleg_granted(const open_delegation4 *out)
{
	switch (out->delegation_type) {
	case OPEN_DELEGATE_READ:
	case OPEN_DELEGATE_WRITE:
	case OPEN_DELEGATE_READ_ATTRS_DELEG:
	case OPEN_DELEGATE_WRITE_ATTRS_DELEG:
		return true;
	default:
		return false;
	}
}

/* The decision of OPEN and WANT_DELEGATION: os is the open the delegation
 * comes with (NULL for WANT_DELEGATION); share_access carries the access
 * the client has and the WANT_* bits. */
static void deleg_grant(struct nfs4_compound *c, struct nfs4_file *fp,
			const struct nfs4_open_state *os, uint32_t share_access,
			open_delegation_type4 reclaim_type, const struct nfs4_fh *fh,
			open_delegation4 *out)
{
	struct nfs4_delegations *d = &c->srv->delegs;
	struct nfs4_client *clp = c->client;
	uint32_t want = share_access & WANT_MASK;
	bool stated = want != OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE;
	open_delegation_type4 type;
	why_no_delegation4 why = WND4_RESOURCE;
	struct nfs4_deleg *dp;
	struct pmem_attr at;

	memset(out, 0, sizeof(*out));
	out->delegation_type = OPEN_DELEGATE_NONE;
	if (reclaim_type != OPEN_DELEGATE_NONE) {
		/* CLAIM_PREVIOUS: what the client held before (with delegated
		 * timestamps: the _ATTRS_DELEG types) */
		type = reclaim_type == OPEN_DELEGATE_WRITE ||
		       reclaim_type == OPEN_DELEGATE_WRITE_ATTRS_DELEG
		       ? OPEN_DELEGATE_WRITE : OPEN_DELEGATE_READ;
	} else {
		switch (want) {
		case OPEN4_SHARE_ACCESS_WANT_NO_DELEG:
			none_ext(out, WND4_NOT_WANTED);
			return;
		case OPEN4_SHARE_ACCESS_WANT_CANCEL:
			none_ext(out, WND4_CANCELLED);
			return;
		case OPEN4_SHARE_ACCESS_WANT_READ_DELEG:
			type = OPEN_DELEGATE_READ;
			break;
		case OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG:
			type = OPEN_DELEGATE_WRITE;
			break;
		default:   /* no preference, or any */
			type = (share_access & NFS4_SHARE_WRITE) ? OPEN_DELEGATE_WRITE
								 : OPEN_DELEGATE_READ;
			break;
		}
		/* A write delegation stands for the client's writes: it needs
		 * write access in the open it comes with. */
		if (type == OPEN_DELEGATE_WRITE && !(share_access & NFS4_SHARE_WRITE))
			goto none;
		if (nfs4_in_grace(clp->srv) || !client_cb_up(clp))
			goto none;
	}
	if (grant_obstacle(fp, clp, os, type, &why) < 0)
		goto none;
	if (nfs4_file_lease_take(fp, type == OPEN_DELEGATE_WRITE ? PMEM_LEASE_WRITE
								 : PMEM_LEASE_READ) < 0) {
		why = WND4_CONTENTION;   /* a local process has the file open */
		goto none;
	}
	dp = (struct nfs4_deleg *)nfs4_stid_new(clp, NFS4_STID_DELEG, sizeof(*dp),
						deleg_stid_release);
	if (!dp) {
		nfs4_file_lease_drop_unused(fp);
		why = WND4_RESOURCE;
		goto none;
	}
	dp->type = type;
	dp->state = NFS4_DELEG_GRANTED;
	dp->fp = fp;
	/* Delegated timestamps (RFC 9754), when offered and asked for; the
	 * file's times now are what the holder's must be later than. */
	if (d->options.timestamps && c->minorversion >= 2 &&
	    ((share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS) ||
	     reclaim_type == OPEN_DELEGATE_READ_ATTRS_DELEG ||
	     reclaim_type == OPEN_DELEGATE_WRITE_ATTRS_DELEG) &&
	    fp->obj->ops->getattr(fp->obj, &at) == 0) {
		dp->timestamps = true;
		dp->atime_floor = at.atime;
		dp->mtime_floor = at.mtime;
		d->stats.granted_timestamps++;
	}
	fp->refs++;
	list_add_tail(&dp->file_node, &fp->delegs);
	nfs4_cb_setup(&dp->recall, &recall_ops);
	nfs4_cb_setup(&dp->getattr, &getattr_ops);
	dp->fh_len = fh->len <= sizeof(dp->fh) ? fh->len : 0;
	memcpy(dp->fh, fh->data, dp->fh_len);
	nfs4_stid_publish(&dp->stid);
	d->stats.granted++;
	clp->ndelegs++;
	d->stats.outstanding++;
	atomic_store(&d->outstanding_hint, d->stats.outstanding);
	deleg_fill(dp, out);
	if (d->stats.outstanding >= clp->srv->limits.max_delegations / 4 * 3)
		deleg_reap(clp->srv);
	return;
none:
	if (stated)
		none_ext(out, why);
}

void nfs4_deleg_offer(struct nfs4_compound *c, struct nfs4_open_state *os,
		      uint32_t share_access, open_delegation_type4 reclaim_type,
		      const struct nfs4_fh *fh, open_delegation4 *out)
{
	deleg_grant(c, os->fp, os, share_access, reclaim_type, fh, out);
}

void nfs4_deleg_open_xor(struct nfs4_compound *c, const OPEN4args *a,
			 struct nfs4_open_undo *undo, OPEN4resok *ok)
{
	struct nfs4_delegations *d = &c->srv->delegs;

	if (!d->options.open_xor ||
	    !(a->share_access & OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION) ||
	    !nfs4_deleg_granted(&ok->delegation) || !undo->created ||
	    a->share_deny != OPEN4_SHARE_DENY_NONE || a->claim.claim == CLAIM_PREVIOUS)
		return;
	nfs4_open_state_undo(c, undo);   /* a created open is destroyed */
	undo->os = NULL;
	memset(&ok->stateid, 0, sizeof(ok->stateid));
	ok->rflags |= OPEN4_RESULT_NO_OPEN_STATEID;
	d->stats.open_xor++;
}

/* ---- WANT_DELEGATION (RFC 8881 §18.49) ---- */

/* clp's delegation on fp, if it holds one. */
static struct nfs4_deleg *client_deleg(const struct nfs4_file *fp, const struct nfs4_client *clp)
{
	const struct list_node *pos;

	list_for_each(pos, &fp->delegs) {
		struct nfs4_deleg *dp = container_of(pos, struct nfs4_deleg, file_node);

		if (dp->stid.client == clp)
			return dp;
	}
	return NULL;
}

uint32_t nfs4_deleg_client_access(const struct nfs4_file *fp, const struct nfs4_client *clp)
{
	const struct nfs4_deleg *dp = client_deleg(fp, clp);

	if (!dp || dp->state == NFS4_DELEG_REVOKED)
		return 0;
	return dp->type == OPEN_DELEGATE_WRITE ? NFS4_SHARE_BOTH : NFS4_SHARE_READ;
}

/*
 * A delegation on the current file without an OPEN. The file need not be
 * open: a read delegation needs read permission, a write delegation one of
 * the client's opens with write access (as at OPEN, where it stands for the
 * client's writes). A delegation the client already holds is answered
 * again when it gives what is wanted (a write one also covers reading); an
 * upgrade is refused (WND4_NOT_SUPP_UPGRADE). Other clients' delegations
 * are not recalled for a want: it gets WND4_CONTENTION. CLAIM_PREVIOUS
 * reclaims in grace as OPEN's does; CLAIM_DELEG_PREV_FH is not supported
 * (see DELEGPURGE).
 */
nfsstat4 nfs4_op_want_delegation(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	WANT_DELEGATION4args *a = &args->u.opwant_delegation;
	WANT_DELEGATION4res *r = &res->u.opwant_delegation;
	open_delegation4 *out = &r->u.wdr_resok4;
	uint32_t want = a->wda_want & WANT_MASK, access;
	open_delegation_type4 reclaim_type = OPEN_DELEGATE_NONE;
	struct pmem_obj *obj = c->cur.obj;
	struct nfs4_file *fp = NULL;
	struct nfs4_deleg *dp;
	nfsstat4 st;

	memset(out, 0, sizeof(*out));
	if (a->wda_want & ~(WANT_MASK | WANT_DELEG_EXTRA_FLAGS))
		return NFS4ERR_INVAL;
	switch (a->wda_claim.dc_claim) {
	case CLAIM_FH:
		/* The client must want something (RFC 8881 §18.49.3). */
		if (want == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE)
			return NFS4ERR_INVAL;
		st = nfs4_grace_check_unlocked(c->srv, c->client, false);
		break;
	case CLAIM_PREVIOUS:
		reclaim_type = a->wda_claim.u.dc_delegate_type;
		if (!nfs4_deleg_type_reclaimable(reclaim_type))
			return NFS4ERR_INVAL;
		st = nfs4_grace_check_unlocked(c->srv, c->client, true);
		break;
	case CLAIM_DELEG_PREV_FH:
		return NFS4ERR_NOTSUPP;
	default:
		return NFS4ERR_INVAL;
	}
	if (st != NFS4_OK)
		return st;
	if (c->cur.pseudo || !obj || obj->type == PMEM_TYPE_DIR) {
		none_ext(out, WND4_IS_DIR);   /* no directory delegations */
		return NFS4_OK;
	}
	if (obj->type != PMEM_TYPE_REG) {
		none_ext(out, WND4_NOT_SUPP_FTYPE);
		return NFS4_OK;
	}
	st = nfs4_open_permission(c, obj, NFS4_SHARE_READ);
	if (st != NFS4_OK)
		return st;
	nfs4_state_lock();
	fp = nfs4_file_get(&c->srv->files, obj);
	if (!fp) {
		st = NFS4ERR_SERVERFAULT;
		goto out;
	}
	access = nfs4_file_client_open_access(fp, c->client);
	dp = client_deleg(fp, c->client);
	if (dp && reclaim_type == OPEN_DELEGATE_NONE &&
	    (want == OPEN4_SHARE_ACCESS_WANT_READ_DELEG || want == OPEN4_SHARE_ACCESS_WANT_ANY_DELEG ||
	     (want == OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG && dp->type == OPEN_DELEGATE_WRITE)) &&
	    dp->state == NFS4_DELEG_GRANTED) {
		deleg_fill(dp, out);
		goto out;
	}
	if (dp && want == OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG) {
		none_ext(out, WND4_NOT_SUPP_UPGRADE);
		goto out;
	}
	if ((reclaim_type == OPEN_DELEGATE_WRITE || reclaim_type == OPEN_DELEGATE_WRITE_ATTRS_DELEG) &&
	    !(access & NFS4_SHARE_WRITE)) {
		st = NFS4ERR_RECLAIM_BAD;   /* it cannot have held this without an open for write */
		goto out;
	}
	/* The client's own access decides the type when it wants "any"
	 * (deleg_grant), and a write delegation needs a write open. */
	deleg_grant(c, fp, NULL, access | (a->wda_want & ~NFS4_OPEN_ACCESS_MASK),
		    reclaim_type, &c->cur, out);
	if (!nfs4_deleg_granted(out) && out->delegation_type == OPEN_DELEGATE_NONE)
		none_ext(out, WND4_RESOURCE);
out:
	if (fp)
		nfs4_file_put(fp);
	nfs4_state_unlock();
	return st;
}

/* ---- delegated timestamps (RFC 9754) ---- */

static int time_cmp(const struct pmem_time *a, const struct pmem_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

static struct pmem_time realtime_now(void)
{
	struct timespec ts;
	struct pmem_time now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now.sec = ts.tv_sec;
	now.nsec = (uint32_t)ts.tv_nsec;
	return now;
}

/* A delegated time is taken when it is later than *floor (the last one
 * accepted; at first the file's at the grant); one in the future becomes
 * now. False: ignore it. */
static bool deleg_time_acceptable(struct pmem_time *t, const struct pmem_time *floor)
{
	struct pmem_time now = realtime_now();

	if (time_cmp(t, floor) <= 0)
		return false;
	if (time_cmp(t, &now) > 0)
		*t = now;
	return true;
}

/* c->client's timestamps delegation on obj named by sid (a write one for
 * mtime), or NULL. State lock held. */
static struct nfs4_deleg *times_deleg(struct nfs4_compound *c, const stateid4 *sid,
				      struct pmem_obj *obj, bool mtime, nfsstat4 *st)
{
	struct nfs4_stid *stid = NULL;
	struct nfs4_deleg *dp;

	*st = nfs4_stid_lookup(c, sid, NFS4_STID_DELEG, false, &stid);
	if (*st != NFS4_OK)
		return NULL;
	*st = NFS4ERR_BAD_STATEID;
	if (!stid || stid->type != NFS4_STID_DELEG)
		return NULL;
	dp = deleg_of(stid);
	if (!dp->fp || dp->fp->obj != obj || !dp->timestamps ||
	    (mtime && dp->type != OPEN_DELEGATE_WRITE))
		return NULL;
	*st = NFS4_OK;
	return dp;
}

nfsstat4 nfs4_deleg_setattr_times(struct nfs4_compound *c, const stateid4 *sid,
				  struct pmem_obj *obj, bool atime, bool mtime,
				  struct pmem_setattr *sa)
{
	struct nfs4_deleg *dp;
	nfsstat4 st;

	nfs4_state_lock();
	dp = times_deleg(c, sid, obj, mtime, &st);
	if (dp) {
		if (atime && !deleg_time_acceptable(&sa->atime, &dp->atime_floor))
			sa->valid &= ~PMEM_SET_ATIME;
		if (mtime && !deleg_time_acceptable(&sa->mtime, &dp->mtime_floor))
			sa->valid &= ~PMEM_SET_MTIME;
	}
	nfs4_state_unlock();
	return st;
}

void nfs4_deleg_setattr_times_done(struct nfs4_compound *c, const stateid4 *sid,
				   struct pmem_obj *obj, const struct pmem_setattr *sa)
{
	struct nfs4_delegations *d = &c->srv->delegs;
	struct nfs4_deleg *dp;
	nfsstat4 st;

	nfs4_state_lock();
	dp = times_deleg(c, sid, obj, false, &st);
	if (dp) {
		/* The floors move only now that the times are on the file: a
		 * SETATTR that failed (DELAY, an error) can be sent again. */
		if ((sa->valid & PMEM_SET_ATIME) && time_cmp(&sa->atime, &dp->atime_floor) > 0)
			dp->atime_floor = sa->atime;
		if ((sa->valid & PMEM_SET_MTIME) && time_cmp(&sa->mtime, &dp->mtime_floor) > 0)
			dp->mtime_floor = sa->mtime;
		d->stats.times_set++;
	}
	nfs4_state_unlock();
}

/* ---- DELEGRETURN, DELEGPURGE ---- */

nfsstat4 nfs4_op_delegreturn(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	struct nfs4_delegations *d = &c->srv->delegs;
	DELEGRETURN4args *a = &args->u.opdelegreturn;
	struct nfs4_stid *stid = NULL;
	nfsstat4 st;

	nfs4_state_lock();
	st = nfs4_stid_lookup(c, &a->deleg_stateid, NFS4_STID_DELEG, false, &stid);
	if (st == NFS4_OK && (!stid || stid->type != NFS4_STID_DELEG))
		st = NFS4ERR_BAD_STATEID;
	if (st == NFS4_OK && (!c->cur.obj || !deleg_of(stid)->fp ||
			      deleg_of(stid)->fp->obj != c->cur.obj))
		st = NFS4ERR_BAD_STATEID;   /* not the current file's delegation */
	if (st == NFS4_OK) {
		const struct nfs4_deleg *dp = deleg_of(stid);
		struct nfs4_file *fp = dp->fp;

		d->stats.returned++;
		if (dp->state == NFS4_DELEG_RECALLING && dp->recall_start_ns)
			metrics_histogram_observe(&d->stats.recall_latency,
						  metrics_now_ns() - dp->recall_start_ns);
		fp->refs++;   /* past the delegation's end, for the client's layouts */
		nfs4_stid_destroy(stid);
		nfs4_layout_opens_changed(fp, c->client);
		nfs4_file_put(fp);
	}
	nfs4_state_unlock();
	return st;
}

/* CLAIM_DELEGATE_PREV is not supported (no client keeps delegations across
 * its own restart here), so DELEGPURGE has nothing to purge: NFS4ERR_NOTSUPP,
 * as RFC 8881 §18.5.3 asks of such servers. */
nfsstat4 nfs4_op_delegpurge(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	return NFS4ERR_NOTSUPP;
}
