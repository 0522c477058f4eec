/*
 * server/nfs4_layout.c: LAYOUTGET, LAYOUTRETURN, LAYOUTCOMMIT,
 * GETDEVICEINFO and GETDEVICELIST (RFC 8881 §18.40-18.44), the layout
 * stateid, the lease behind a file's layouts and CB_LAYOUTRECALL, over
 * layout/ (decision 0008; nfs4_layout.h).
 *
 * The timeline (ARCHITECTURE.md's invariant): a layout is granted only
 * under a local lease on the file (write while any RW segment exists, read
 * for READ ones); a lease break recalls every holder (layout/ sets the
 * deadline), a LAYOUTRETURN from the last one releases the lease, and at
 * the deadline the callback engine's -ETIME has layout/ revoke whoever is
 * left (its stateid answers NFS4ERR_BAD_STATEID, its client sees
 * SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID) before the lease
 * goes.
 * Calls: layout/, nfs4_state.h, nfs4_file.h, nfs4_file_lease.h,
 * nfs4_callback.h, nfs4_open.h, rpc/netaddr.h.
 * Called by: the op table, nfs4_server.c, nfs4_file_lease.c, nfs4_io.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "pmem/lease.h"
#include "rpc/netaddr.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_export.h"
#include "server/nfs4_file_lease.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_open.h"
#include "server/nfs4_ops.h"

static const struct layout_upcalls pnfs_upcalls;

int nfs4_pnfs_init(struct nfs4_server *srv, const struct daxnfs_config *cfg)
{
	struct nfs4_pnfs *p = &srv->pnfs;
	const char *bad = NULL;
	unsigned bt = 45;
	int64_t budget;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!cfg->enable_pnfs)
		return 0;
	if (pmem_lease_break_time(&bt) < 0)
		bt = 45;
	/* What the lease manager hands a breaking lease's holder:
	 * Revoke_Margin comes off that. */
	budget = pmem_lease_holder_ms(bt);
	rc = layout_domain_init(&p->domain, &pnfs_upcalls, srv, nfs4_recall_timeout_ms(srv),
				cfg->revoke_margin_ms, budget, &bad);
	if (rc < 0) {
		log_err("nfs4", "pNFS: NFSV4 %s = %lld ms does not leave a recall time before the "
			"kernel's lease-break-time of %u s (%lld ms of it for the holders); lower it "
			"or raise fs.lease-break-time", bad ? bad : "?",
			bad && strcmp(bad, "Revoke_Margin") == 0 ? (long long)cfg->revoke_margin_ms
								 : (long long)nfs4_recall_timeout_ms(srv),
			bt, (long long)budget);
		return rc;
	}
	rc = layout_ff_init(&p->ff, nfs4_export_max_io(), nfs4_export_max_io(), (1u << 1) | (1u << 2));
	if (rc == 0)
		rc = layout_domain_add_type(&p->domain, &layout_ff_ops, &p->ff);
	if (rc < 0) {
		log_err("nfs4", "pNFS: cannot set up the flexible file layout: %s", strerror(-rc));
		return rc;
	}
	p->tcp_port = cfg->nfs_port;
	p->rdma_port = cfg->enable_rdma ? cfg->nfs_rdma_port : 0;
	p->enabled = true;
	log_info("nfs4", "pNFS: metadata and data server, flexible file layouts (tightly coupled), "
		 "data server at the client's server address, port %u%s; layouts recalled within "
		 "Recall_Timeout %lld ms, revoked at least Revoke_Margin %u ms before a lease break "
		 "ends", p->tcp_port, p->rdma_port ? " (and RDMA)" : "",
		 (long long)nfs4_recall_timeout_ms(srv), cfg->revoke_margin_ms);
	return 0;
}

void nfs4_pnfs_log(struct nfs4_server *srv)
{
	struct nfs4_pnfs *p = &srv->pnfs;

	if (!p->enabled)
		return;
	log_info("nfs4", "pNFS: %llu LAYOUTGETs granted, %llu LAYOUTRETURNs; data server I/O with a "
		 "layout stateid: %llu READs, %llu WRITEs; flex files reports in %llu LAYOUTRETURNs: "
		 "%llu I/O errors, %llu I/O statistics",
		 (unsigned long long)atomic_load(&p->layoutgets),
		 (unsigned long long)atomic_load(&p->layoutreturns),
		 (unsigned long long)atomic_load(&p->ds_reads),
		 (unsigned long long)atomic_load(&p->ds_writes),
		 (unsigned long long)p->ff.returns_with_reports,
		 (unsigned long long)p->ff.ioerrs_reported, (unsigned long long)p->ff.iostats_reported);
	log_info("nfs4", "pNFS reports: %llu LAYOUTERROR errors, %llu LAYOUTSTATS",
		 (unsigned long long)atomic_load(&p->layout_errors),
		 (unsigned long long)atomic_load(&p->layoutstats));
	log_info("nfs4", "pNFS recalls: %llu started, %llu holders asked, %llu returned, %llu "
		 "revoked, %llu completed (slowest %lld ms)", (unsigned long long)p->recalls,
		 (unsigned long long)p->recalled_holders, (unsigned long long)p->recall_returns,
		 (unsigned long long)p->domain.revocations,
		 (unsigned long long)p->recalls_completed, (long long)p->recall_max_ms);
}

/* ---- the layout stateid ---- */

static struct nfs4_layout *layout_of(struct nfs4_stid *stid)
{
	return (struct nfs4_layout *)stid;
}

static struct nfs4_layout *layout_of_holder(struct layout_holder *h)
{
	return container_of(h, struct nfs4_layout, holder);
}

/* What ls's segments let its holder do on the data server; clp->lock held. */
static void layout_access_update(struct nfs4_layout *ls)
{
	uint32_t access = 0;
	unsigned i;

	for (i = 0; i < ls->holder.segs.count; i++)
		access |= ls->holder.segs.segs[i].iomode == LAYOUTIOMODE4_RW
			  ? NFS4_SHARE_READ | NFS4_SHARE_WRITE : NFS4_SHARE_READ;
	ls->access = access;
}

static void layout_access_update_locked(struct nfs4_layout *ls)
{
	struct nfs4_client *clp = ls->stid.client;

	pthread_mutex_lock(&clp->lock);
	layout_access_update(ls);
	pthread_mutex_unlock(&clp->lock);
}

/* fp's layout record, or NULL. */
static struct layout_file *file_layouts(const struct nfs4_file *fp)
{
	struct nfs4_layout_file *nlf = fp->layout_state;

	return nlf ? &nlf->lf : NULL;
}

static struct nfs4_layout_file *nlf_of(struct layout_file *lf)
{
	return container_of(lf, struct nfs4_layout_file, lf);
}

/* The record goes with its last holder. State lock held. */
static void layout_file_release_if_empty(struct nfs4_server *srv, struct nfs4_file *fp)
{
	struct nfs4_layout_file *nlf = fp->layout_state;

	if (!nlf || nlf->lf.nholders > 0)
		return;
	layout_file_free(&nlf->lf);
	free(nlf);
	fp->layout_state = NULL;
	atomic_fetch_sub(&srv->pnfs.files_with_layouts, 1);
}

/* The stateid goes (LAYOUTRETURN of the last segment, FREE_STATEID, the
 * client's end): its holder leaves the file, the file's record with it
 * when it was the last, and the lease when nothing else needs it. The
 * record itself waits for its CB_LAYOUTRECALL to leave the engine. State
 * lock held. */
static void layout_stid_release(struct nfs4_stid *stid)
{
	struct nfs4_layout *ls = layout_of(stid);
	struct nfs4_server *srv = stid->client->srv;
	struct nfs4_file *fp = ls->fp;

	if (fp && fp->layout_state) {
		/* Gone while recalled (its client closed the file, or freed
		 * it): as good as a return. */
		if (ls->holder.state == LAYOUT_RECALL_RECALLING)
			srv->pnfs.recall_returns++;
		layout_holder_detach(&srv->pnfs.domain, &ls->holder);
		layout_file_release_if_empty(srv, fp);
		nfs4_file_lease_drop_unused(fp);
	}
	ls->fp = NULL;
	if (fp)
		nfs4_file_put(fp);
	if (ls->recall.phase != NFS4_CB_IDLE) {
		ls->stid_gone = true;
		nfs4_cb_cancel(&ls->recall);
		return;
	}
	free(ls);
}

/* clp's layout stateid of type on lf, or NULL. */
static struct nfs4_layout *client_layout(struct layout_file *lf, const struct nfs4_client *clp,
					 layouttype4 type)
{
	unsigned i;

	for (i = 0; lf && i < lf->nholders; i++) {
		struct nfs4_layout *ls = layout_of_holder(lf->holders[i]);

		/* A revoked one stays until FREE_STATEID; a new LAYOUTGET gets
		 * a new stateid meanwhile. */
		if (ls->stid.client == clp && ls->holder.type == type &&
		    ls->stid.state == NFS4_STID_ACTIVE)
			return ls;
	}
	return NULL;
}

static const struct nfs4_cb_ops layout_recall_ops;

/* A new layout stateid of type for clp on fp (whose handle is fh); NULL on
 * ENOMEM or past the client's stateid limit. State lock held. */
static struct nfs4_layout *layout_new(struct nfs4_client *clp, struct nfs4_file *fp,
				      layouttype4 type, const struct pmem_attr *at,
				      const uint8_t *fh, uint32_t fh_len)
{
	struct nfs4_layout_file *nlf = fp->layout_state;
	struct nfs4_layout *ls;

	if (fh_len > NFS4_FHSIZE)
		return NULL;
	if (!nlf) {
		nlf = calloc(1, sizeof(*nlf));
		if (!nlf)
			return NULL;
		nlf->fp = fp;
		fp->layout_state = nlf;
		atomic_fetch_add(&clp->srv->pnfs.files_with_layouts, 1);
	}
	ls = (struct nfs4_layout *)nfs4_stid_new(clp, NFS4_STID_LAYOUT, sizeof(*ls),
						 layout_stid_release);
	if (!ls)
		goto fail;
	if (layout_holder_attach(&nlf->lf, &ls->holder, type) < 0) {
		nfs4_stid_destroy(&ls->stid);   /* fp not yet taken: release leaves it alone */
		goto fail;
	}
	nfs4_cb_setup(&ls->recall, &layout_recall_ops);
	memcpy(ls->fh, fh, fh_len);
	ls->fh_len = fh_len;
	ls->fp = fp;
	fp->refs++;
	ls->fsid_major = at->fsid_major;
	ls->fsid_minor = at->fsid_minor;
	return ls;
fail:
	layout_file_release_if_empty(clp->srv, fp);
	return NULL;
}

/* The stateid of a layout operation. A layout stateid may carry an older
 * seqid than the current one: a client sends LAYOUTGETs in parallel with
 * the seqid it has and learns the newer ones from the replies (knfsd
 * accepts them too); only a seqid the server never gave is refused
 * (BAD_STATEID). Open, lock and delegation stateids follow §8.2 as
 * everywhere. State lock held. */
static nfsstat4 layout_op_stid_lookup(struct nfs4_compound *c, const stateid4 *sid,
				      uint32_t types, struct nfs4_stid **out)
{
	static const uint8_t zero[NFS4_OTHER_SIZE];
	stateid4 any = *sid;
	nfsstat4 st;

	/* The current stateid (other 0) goes the usual way. */
	if (memcmp(sid->other, zero, sizeof(zero)) == 0)
		return nfs4_stid_lookup(c, sid, types, false, out);
	any.seqid = 0;
	st = nfs4_stid_lookup(c, &any, types, false, out);
	if (st != NFS4_OK || sid->seqid == 0)
		return st;
	if ((int32_t)(sid->seqid - (*out)->sid.seqid) > 0)
		return NFS4ERR_BAD_STATEID;
	if ((*out)->type != NFS4_STID_LAYOUT && sid->seqid != (*out)->sid.seqid)
		return NFS4ERR_OLD_STATEID;
	return NFS4_OK;
}

/* ---- the lease behind the layouts ---- */

enum pmem_lease_kind nfs4_layout_lease_need(const struct nfs4_file *fp)
{
	const struct nfs4_layout_file *nlf = fp->layout_state;
	enum pmem_lease_kind need = 0;
	unsigned i, j;

	for (i = 0; nlf && i < nlf->lf.nholders; i++) {
		const struct layout_seg_set *set = &nlf->lf.holders[i]->segs;

		for (j = 0; j < set->count; j++) {
			if (set->segs[j].iomode == LAYOUTIOMODE4_RW)
				return PMEM_LEASE_WRITE;
			need = PMEM_LEASE_READ;
		}
	}
	return need;
}

/* Whether a client has fp open for writing: the server then writes through
 * the file's descriptor, which a read lease would make read-only. */
static bool file_open_for_write(const struct nfs4_file *fp)
{
	const struct list_node *pos;

	list_for_each(pos, &fp->shares) {
		if (container_of(pos, struct nfs4_share, node)->access & NFS4_SHARE_WRITE)
			return true;
	}
	return false;
}

/* The lease a layout of iomode needs on fp, taken before the layout is
 * granted: a write lease for RW, and for READ when a client writes the
 * file through the server (a read lease would take the writable
 * descriptor away from under it); else a read lease. A write lease held
 * stays (nfs4_file_lease_take). State lock held. */
static nfsstat4 layout_lease_take(struct nfs4_file *fp, layoutiomode4 iomode)
{
	enum pmem_lease_kind want = iomode == LAYOUTIOMODE4_RW || file_open_for_write(fp)
				    ? PMEM_LEASE_WRITE : PMEM_LEASE_READ;
	int rc;

	/* The kernel is taking it back: a layout now would never be
	 * recalled (RFC 8881 §12.5.5.2: the answer while a recall is pending). */
	if (fp->lease_breaking)
		return NFS4ERR_RECALLCONFLICT;
	rc = nfs4_file_lease_take(fp, want);
	if (rc == 0)
		return NFS4_OK;
	log_debug("nfs4", "LAYOUTGET: no %s lease on fileid %llu: %s",
		  want == PMEM_LEASE_WRITE ? "write" : "read", (unsigned long long)fp->obj->fileid,
		  strerror(-rc));
	/* A local open that conflicts goes away in time; no lease at all
	 * (the backend cannot) does not. */
	return rc == -EAGAIN || rc == -EBUSY ? NFS4ERR_LAYOUTTRYLATER : NFS4ERR_LAYOUTUNAVAILABLE;
}

/* ---- CB_LAYOUTRECALL through the callback engine ---- */

static bool layout_recall_prepare(struct nfs4_cb *cb, struct arena *arena, nfs_cb_argop4 **ops,
				  uint32_t *nops)
{
	struct nfs4_layout *ls = container_of(cb, struct nfs4_layout, recall);
	CB_LAYOUTRECALL4args *a;
	layoutrecall_file4 *rf;
	nfs_cb_argop4 *op;
	uint8_t *fh;

	if (ls->stid_gone || ls->holder.state != LAYOUT_RECALL_RECALLING)
		return false;
	op = arena_alloc(arena, sizeof(*op));
	fh = arena_alloc(arena, ls->fh_len ? ls->fh_len : 1);
	if (!op || !fh)
		return false;
	memset(op, 0, sizeof(*op));
	memcpy(fh, ls->fh, ls->fh_len);
	op->argop = OP_CB_LAYOUTRECALL;
	a = &op->u.opcblayoutrecall;
	a->clora_type = ls->holder.type;
	a->clora_iomode = ls->holder.recall.iomode;
	a->clora_changed = ls->recall_changed;
	a->clora_recall.lor_recalltype = LAYOUTRECALL4_FILE;
	rf = &a->clora_recall.u.lor_layout;
	rf->lor_fh.len = ls->fh_len;
	rf->lor_fh.val = fh;
	rf->lor_offset = ls->holder.recall.range.start;
	rf->lor_length = layout_range_wire_length(&ls->holder.recall.range);
	/* The stateid as this recall made it (pnfs_recall_send): the client
	 * orders the recall after the LAYOUTGETs it has seen (RFC 8881
	 * §12.5.5.2.1.3). */
	rf->lor_stateid = ls->recall_sid;
	ls->recall_sent = ls->recall_seq;
	*ops = op;
	*nops = 1;
	return true;
}

/* (below, with LAYOUTRETURN: an answer of NFS4ERR_NOMATCHING_LAYOUT gives
 * the recalled range back through it) */
static bool layout_give_back(struct nfs4_server *srv, struct nfs4_layout *ls,
			     const struct layout_range *range, layoutiomode4 iomode, bool bump);

static int64_t layout_recall_done(struct nfs4_cb *cb, int err, nfsstat4 status,
				  const CB_COMPOUND4res *res)
{
	struct nfs4_layout *ls = container_of(cb, struct nfs4_layout, recall);
	struct nfs4_server *srv = ls->stid.client->srv;
	struct layout_file *lf = ls->holder.file;
	int64_t now = nfs4_cb_now_ms();
	nfsstat4 st = status;

	if (ls->stid_gone || ls->holder.state != LAYOUT_RECALL_RECALLING || !lf)
		return -1;
	if (err == -ETIME) {
		/* The file's deadline: whoever still holds the recalled range
		 * loses it (this holder and any other one late on the file). */
		layout_recall_expire(&srv->pnfs.domain, lf, now);
		return -1;
	}
	/* Recalled again since this one went out (it returned, took a new
	 * layout, and that is recalled now; or a wider recall came): the
	 * answer is about the older recall. Ask again at once. */
	if (ls->recall_sent != ls->recall_seq)
		return 0;
	if (res && res->resarray.len > 1 && res->resarray.val[1].resop == OP_CB_LAYOUTRECALL)
		st = res->resarray.val[1].u.opcblayoutrecall.clorr_status;
	if (st == NFS4ERR_NOMATCHING_LAYOUT) {
		/* It holds none of it (returned already, or forgot it): as
		 * returned (RFC 8881 §20.3.3; knfsd does the same). */
		struct layout_range r = ls->holder.recall.range;

		layout_give_back(srv, ls, &r, ls->holder.recall.iomode, false);
		return -1;
	}
	if (st == NFS4ERR_DELAY)
		return 1000;
	/* Asked (NFS4_OK), or an answer that is no return (the callback
	 * cannot decide for the client): LAYOUTRETURN by the deadline, when
	 * the engine calls done again with -ETIME. */
	return lf->deadline_ms > now ? lf->deadline_ms - now : 0;
}

static void layout_recall_release(struct nfs4_cb *cb)
{
	struct nfs4_layout *ls = container_of(cb, struct nfs4_layout, recall);

	if (ls->stid_gone)
		free(ls);
}

static const struct nfs4_cb_ops layout_recall_ops = {
	.name = "CB_LAYOUTRECALL",
	.prepare = layout_recall_prepare,
	.done = layout_recall_done,
	.release = layout_recall_release,
};

/* ---- the up-calls layout/ makes (decision 0008) ---- */

static void pnfs_recall_send(void *ctx, struct layout_file *lf, struct layout_holder *h,
			     bool changed)
{
	struct nfs4_server *srv = ctx;
	struct nfs4_layout *ls = layout_of_holder(h);

	(void)lf;
	/* The callback starts once layout/ has set the file's deadline
	 * (layout_file_recall): here only what it will carry. The stateid
	 * moves on with each recall (RFC 8881 §12.5.5.2.1.3): the client
	 * orders the recall after the LAYOUTGET replies it has by that seqid
	 * and refuses one that is not newer (the Linux client answers
	 * NFS4ERR_BAD_STATEID); its LAYOUTRETURN then carries it. */
	ls->recall_changed = changed;
	ls->recall_seq++;
	nfs4_stid_bump(&ls->stid);
	ls->recall_sid = ls->stid.sid;
	srv->pnfs.recalled_holders++;
}

static void pnfs_holder_revoked(void *ctx, struct layout_file *lf, struct layout_holder *h)
{
	struct nfs4_server *srv = ctx;
	struct nfs4_layout *ls = layout_of_holder(h);
	struct nfs4_client *clp = ls->stid.client;

	(void)lf;
	/* The data server's check and SEQUENCE read these under the
	 * client's lock: from here on its I/O with this stateid fails. */
	pthread_mutex_lock(&clp->lock);
	layout_access_update(ls);
	if (ls->stid.state == NFS4_STID_ACTIVE) {
		ls->stid.state = NFS4_STID_REVOKED;
		clp->nrevoked_stids++;
		clp->seq4_flags |= SEQ4_STATUS_RECALLABLE_STATE_REVOKED;
	}
	pthread_mutex_unlock(&clp->lock);
	nfs4_cb_cancel(&ls->recall);
	log_warn("nfs4", "layout revoked: clientid %016llx fileid %llu (not returned by its "
		 "recall's deadline, or by order); %llu revoked since start",
		 (unsigned long long)clp->clientid,
		 ls->fp ? (unsigned long long)ls->fp->obj->fileid : 0ULL,
		 (unsigned long long)srv->pnfs.domain.revocations);
}

static void pnfs_recall_complete(void *ctx, struct layout_file *lf)
{
	struct nfs4_server *srv = ctx;
	struct nfs4_layout_file *nlf = nlf_of(lf);
	int64_t took = nfs4_cb_now_ms() - nlf->recall_start_ms;

	srv->pnfs.recalls_completed++;
	if (took > srv->pnfs.recall_max_ms)
		srv->pnfs.recall_max_ms = took;
	log_debug("nfs4", "layout recall of fileid %llu complete after %lld ms",
		  (unsigned long long)nlf->fp->obj->fileid, (long long)took);
	/* The truncate, reflink or open waiting in the kernel proceeds. */
	nfs4_file_lease_drop_unused(nlf->fp);
}

static const struct layout_upcalls pnfs_upcalls = {
	.recall_send = pnfs_recall_send,
	.holder_revoked = pnfs_holder_revoked,
	.recall_complete = pnfs_recall_complete,
};

/* Starts (or re-times) the CB_LAYOUTRECALL of every recalled holder of nlf
 * to the file's deadline. State lock held. */
static void layout_file_start_callbacks(struct nfs4_server *srv, struct nfs4_layout_file *nlf)
{
	unsigned i;

	for (i = 0; i < nlf->lf.nholders; i++) {
		struct nfs4_layout *ls = layout_of_holder(nlf->lf.holders[i]);
		int rc;

		if (ls->holder.state != LAYOUT_RECALL_RECALLING)
			continue;
		if (ls->recall.phase != NFS4_CB_IDLE) {
			ls->recall.deadline_ms = nlf->lf.deadline_ms;   /* the file's, maybe moved */
			/* An earlier recall's callback waiting for its deadline:
			 * this recall goes out now (the engine reads these
			 * under the state lock). One in flight goes again when
			 * answered (layout_recall_done). */
			if (ls->recall.phase == NFS4_CB_WAITING && ls->recall_sent != ls->recall_seq)
				ls->recall.not_before_ms = 0;
			continue;
		}
		rc = nfs4_cb_start(&ls->recall, ls->stid.client, nlf->lf.deadline_ms);
		if (rc < 0)
			/* The lease's own end still comes: the kernel's break
			 * revokes it then (on_lease_gone). */
			log_warn("nfs4", "layout recall: clientid %016llx: the callback engine "
				 "refused (%s)", (unsigned long long)ls->stid.client->clientid,
				 strerror(-rc));
	}
	nfs4_cb_kick(srv);
}

/* Recalls range of fp's layouts (of one holder only, when only is not
 * NULL) and starts each recalled holder's CB_LAYOUTRECALL. Returns how
 * many holders are outstanding. State lock held. */
static unsigned layout_file_recall(struct nfs4_server *srv, struct nfs4_file *fp,
				   struct nfs4_layout *only, const struct layout_seg *range,
				   int64_t break_deadline_ms)
{
	struct nfs4_layout_file *nlf = fp->layout_state;
	struct nfs4_pnfs *p = &srv->pnfs;
	int64_t now = nfs4_cb_now_ms();
	unsigned outstanding;
	bool running;

	if (!nlf)
		return 0;
	running = nlf->lf.state == LAYOUT_RECALL_RECALLING;
	outstanding = only ? layout_recall_start_holder(&p->domain, &only->holder, range, true, now)
			   : layout_recall_start(&p->domain, &nlf->lf, range, true, now,
						 break_deadline_ms);
	if (outstanding == 0)
		return 0;
	if (!running) {
		nlf->recall_start_ms = now;
		p->recalls++;
	}
	layout_file_start_callbacks(srv, nlf);
	return outstanding;
}

unsigned nfs4_layout_lease_breaking(struct nfs4_file *fp, int64_t break_deadline_ms)
{
	const struct layout_seg all = { { 0, LAYOUT_END }, LAYOUTIOMODE4_ANY };
	struct nfs4_layout_file *nlf = fp->layout_state;
	unsigned n;

	if (!nlf || !nlf->lf.nholders)
		return 0;
	n = layout_file_recall(layout_of_holder(nlf->lf.holders[0])->stid.client->srv, fp, NULL,
			       &all, break_deadline_ms);
	if (n)
		log_info("nfs4", "layouts of fileid %llu recalled from %u holder(s): the lease is "
			 "breaking; revoked in %lld ms if not returned",
			 (unsigned long long)fp->obj->fileid, n,
			 (long long)(nlf->lf.deadline_ms - nfs4_cb_now_ms()));
	return n;
}

void nfs4_layout_revoke_file(struct nfs4_file *fp, const char *why)
{
	const struct layout_seg all = { { 0, LAYOUT_END }, LAYOUTIOMODE4_ANY };
	struct nfs4_layout_file *nlf = fp->layout_state;
	struct nfs4_server *srv;
	bool running;
	unsigned n;

	if (!nlf || !nlf->lf.nholders)
		return;
	srv = layout_of_holder(nlf->lf.holders[0])->stid.client->srv;
	running = nlf->lf.state == LAYOUT_RECALL_RECALLING;
	/* A recall with no time: every holder of anything is revoked now
	 * (no callback is started: layout_file_recall is not used). */
	if (layout_recall_start(&srv->pnfs.domain, &nlf->lf, &all, true, nfs4_cb_now_ms(), 0) == 0)
		return;
	if (!running) {
		nlf->recall_start_ms = nfs4_cb_now_ms();
		srv->pnfs.recalls++;
	}
	n = layout_recall_expire(&srv->pnfs.domain, &nlf->lf, INT64_MAX);
	log_warn("nfs4", "layouts of fileid %llu: %u holder(s) revoked: %s",
		 (unsigned long long)fp->obj->fileid, n, why);
}

unsigned nfs4_layout_admin_recall(struct nfs4_server *srv, struct nfs4_file *fp,
				  struct nfs4_client *clp)
{
	const struct layout_seg all = { { 0, LAYOUT_END }, LAYOUTIOMODE4_ANY };
	struct nfs4_layout *ls = NULL;
	uint64_t asked;

	if (!fp->layout_state)
		return 0;
	if (clp) {
		ls = client_layout(file_layouts(fp), clp, LAYOUT4_FLEX_FILES);
		if (!ls)
			return 0;
	}
	asked = srv->pnfs.recalled_holders;
	log_info("nfs4", "layouts of fileid %llu%s recalled by the administrator",
		 (unsigned long long)fp->obj->fileid, clp ? " (one client's)" : "");
	layout_file_recall(srv, fp, ls, &all, 0);
	/* the holders asked now (one already recalled over the range is not) */
	return (unsigned)(srv->pnfs.recalled_holders - asked);
}

unsigned nfs4_layout_admin_revoke(struct nfs4_server *srv, struct nfs4_file *fp,
				  struct nfs4_client *clp)
{
	struct nfs4_layout_file *nlf = fp->layout_state;
	unsigned i, n = 0;

	/* Each holder on its own: the up-calls neither attach nor detach, so
	 * the array stays as it is during the walk. */
	for (i = 0; nlf && i < nlf->lf.nholders; i++) {
		struct nfs4_layout *ls = layout_of_holder(nlf->lf.holders[i]);

		if (clp && ls->stid.client != clp)
			continue;
		n += layout_holder_revoke(&srv->pnfs.domain, &ls->holder);
	}
	if (n) {
		log_warn("nfs4", "layouts of fileid %llu: %u holder(s) revoked by the administrator",
			 (unsigned long long)fp->obj->fileid, n);
		nfs4_file_lease_drop_unused(fp);
	}
	return n;
}

nfsstat4 nfs4_layout_write_conflict(struct nfs4_server *srv, struct pmem_obj *obj)
{
	const struct layout_seg reads = { { 0, LAYOUT_END }, LAYOUTIOMODE4_READ };
	struct nfs4_file *fp;
	nfsstat4 st = NFS4_OK;

	if (!srv->pnfs.enabled || atomic_load(&srv->pnfs.files_with_layouts) == 0)
		return NFS4_OK;
	nfs4_state_lock();
	fp = nfs4_file_find(&srv->files, obj);
	if (fp && fp->layout_state && fp->lease == PMEM_LEASE_READ &&
	    nfs4_layout_lease_need(fp) == PMEM_LEASE_READ) {
		struct nfs4_layout_file *nlf = fp->layout_state;

		/* A recall of these layouts already runs (this one, or a lease
		 * break's): the write waits, and the lease is not touched. A
		 * recall whose callbacks could not go out ends here at its
		 * deadline. */
		if (nlf->lf.state == LAYOUT_RECALL_RECALLING)
			layout_recall_expire(&srv->pnfs.domain, &nlf->lf, nfs4_cb_now_ms());
		if (fp->lease_breaking || nlf->lf.state == LAYOUT_RECALL_RECALLING)
			st = NFS4ERR_DELAY;
		/* Only READ layouts hold the lease: a write lease serves them
		 * and the write alike, unless a local reader forbids it; then
		 * the READ layouts come back first. */
		else if (layout_lease_take(fp, LAYOUTIOMODE4_RW) != NFS4_OK &&
			 layout_file_recall(srv, fp, NULL, &reads, 0) > 0)
			st = NFS4ERR_DELAY;
	}
	nfs4_file_put(fp);
	nfs4_state_unlock();
	return st;
}

/* ---- LAYOUTGET (§18.43) ---- */

/* Bytes of a LAYOUTGET4resok with one layout of body_len (§18.43.3:
 * loga_maxcount bounds it). */
static uint32_t layoutget_reply_size(uint32_t body_len)
{
	return 4 + 16 + 4 + (8 + 8 + 4 + 4 + 4) + ((body_len + 3u) & ~3u);
}

nfsstat4 nfs4_op_layoutget(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const LAYOUTGET4args *a = &args->u.oplayoutget;
	LAYOUTGET4resok *ok = &res->u.oplayoutget.u.logr_resok4;
	struct nfs4_pnfs *p = &c->srv->pnfs;
	const struct layout_type_ops *ops;
	struct layout_get_args ga;
	struct layout_seg seg;
	struct nfs4_stid *stid = NULL;
	struct nfs4_layout *ls;
	struct nfs4_file *fp = NULL;
	struct pmem_attr at;
	layout4 *lo;
	void *tctx = NULL, *body = NULL;
	uint32_t body_len = 0;
	bool created = false;
	nfsstat4 st;

	if (!p->enabled)
		return NFS4ERR_LAYOUTUNAVAILABLE;
	ops = layout_domain_type(&p->domain, a->loga_layout_type, &tctx);
	if (!ops)
		return NFS4ERR_UNKNOWN_LAYOUTTYPE;
	if (!c->cur.obj)
		return NFS4ERR_WRONG_TYPE;    /* the pseudo file system's directories */
	if (c->cur.obj->ops->getattr(c->cur.obj, &at) < 0)
		return NFS4ERR_IO;
	if (at.type != PMEM_TYPE_REG)
		return NFS4ERR_WRONG_TYPE;
	if (a->loga_iomode != LAYOUTIOMODE4_READ && a->loga_iomode != LAYOUTIOMODE4_RW)
		return NFS4ERR_BADIOMODE;
	st = layout_range_from_wire(a->loga_offset, a->loga_length, &seg.range);
	if (st != NFS4_OK)
		return st;
	/* §18.43.3: a minimum longer than the length, or one that runs past
	 * 2^64 − 1, is invalid. */
	if (a->loga_minlength > a->loga_length ||
	    (a->loga_minlength != NFS4_UINT64_MAX &&
	     a->loga_minlength > NFS4_UINT64_MAX - a->loga_offset))
		return NFS4ERR_INVAL;
	seg.iomode = a->loga_iomode;

	nfs4_state_lock();
	st = layout_op_stid_lookup(c, &a->loga_stateid,
				   NFS4_STID_OPEN | NFS4_STID_LOCK | NFS4_STID_DELEG | NFS4_STID_LAYOUT,
				   &stid);
	if (st != NFS4_OK)
		goto out;
	fp = nfs4_file_find(&c->srv->files, c->cur.obj);
	if (!fp || nfs4_stid_file(stid) != fp) {
		st = NFS4ERR_BAD_STATEID;
		goto out;
	}
	if (stid->type == NFS4_STID_LAYOUT && layout_of(stid)->holder.type != a->loga_layout_type) {
		st = NFS4ERR_BAD_STATEID;
		goto out;
	}
	/* An RW layout lets its holder write through the data server: only
	 * for a client that opened the file for writing. */
	if (seg.iomode == LAYOUTIOMODE4_RW &&
	    !((nfs4_file_client_open_access(fp, c->client) |
	       nfs4_deleg_client_access(fp, c->client)) & NFS4_SHARE_WRITE)) {
		st = NFS4ERR_OPENMODE;
		goto out;
	}
	/* One layout stateid per client, file and type: an open, lock or
	 * delegation stateid finds the one the client already has (§12.5.3). */
	ls = stid->type == NFS4_STID_LAYOUT ? layout_of(stid)
					    : client_layout(file_layouts(fp), c->client,
							    a->loga_layout_type);
	if (!ls) {
		ls = layout_new(c->client, fp, a->loga_layout_type, &at, c->cur.data, c->cur.len);
		if (!ls) {
			st = NFS4ERR_DELAY;
			goto out;
		}
		created = true;
	}
	memset(&ga, 0, sizeof(ga));
	ga.obj = c->cur.obj;
	ga.fh = c->cur.data;
	ga.fh_len = c->cur.len;
	/* seqid 0: the data server takes it whatever LAYOUTGETs and
	 * LAYOUTRETURNs come after (RFC 8881 §8.2.2). */
	ga.stateid.seqid = 0;
	memcpy(ga.stateid.other, ls->stid.sid.other, sizeof(ga.stateid.other));
	ga.owner_uid = at.uid;
	ga.owner_gid = at.gid;
	st = ops->layoutget(tctx, &ga, &seg, c->arena, &body, &body_len);
	if (st == NFS4_OK && layoutget_reply_size(body_len) > a->loga_maxcount)
		st = NFS4ERR_TOOSMALL;
	/* Everything the reply needs before anything changes. */
	lo = st == NFS4_OK ? arena_alloc(c->arena, sizeof(*lo)) : NULL;
	if (st == NFS4_OK && !lo)
		st = NFS4ERR_DELAY;
	/* No layout without the lease that keeps the file's blocks where they
	 * are (ARCHITECTURE.md): a local process holding the file open keeps
	 * the server from taking it. Taken first, so that a refusal changes
	 * no segment; a lease taken for a grant refused after it goes again
	 * when nothing else needs it. */
	if (st == NFS4_OK)
		st = layout_lease_take(fp, seg.iomode);
	if (st == NFS4_OK)
		st = layout_grant(&p->domain, &ls->holder, &seg);
	if (st != NFS4_OK) {
		if (created)
			nfs4_stid_destroy(&ls->stid);   /* drops an unused lease too */
		else
			nfs4_file_lease_drop_unused(fp);
		goto out;
	}
	layout_access_update_locked(ls);
	/* A new stateid is published at seqid 1; a known one moves on (§12.5.3). */
	if (created)
		nfs4_stid_publish(&ls->stid);
	else
		nfs4_stid_bump(&ls->stid);
	lo->lo_offset = seg.range.start;
	lo->lo_length = layout_range_wire_length(&seg.range);
	lo->lo_iomode = seg.iomode;
	lo->lo_content.loc_type = a->loga_layout_type;
	lo->lo_content.loc_body.val = body;
	lo->lo_content.loc_body.len = body_len;
	/* The Linux client returns on its last close: no layout outlives the
	 * opens it came with unless the client wants it to. */
	ok->logr_return_on_close = true;
	ok->logr_stateid = ls->stid.sid;
	ok->logr_layout.len = 1;
	ok->logr_layout.val = lo;
	atomic_fetch_add_explicit(&p->layoutgets, 1, memory_order_relaxed);
out:
	nfs4_file_put(fp);
	nfs4_state_unlock();
	if (st == NFS4ERR_LAYOUTTRYLATER || st == NFS4ERR_RECALLCONFLICT)
		res->u.oplayoutget.u.logr_will_signal_layout_avail = false;
	return st;
}

/* ---- LAYOUTRETURN (§18.44) ---- */

/* Returns range in iomode from ls; the stateid goes when nothing is left.
 * bump: a LAYOUTRETURN of this stateid, whose reply carries the next seqid
 * (a bulk return names no stateid and changes none, as knfsd's). True when
 * the stateid went. State lock held. */
static bool layout_give_back(struct nfs4_server *srv, struct nfs4_layout *ls,
			     const struct layout_range *range, layoutiomode4 iomode, bool bump)
{
	bool recalled = ls->holder.state == LAYOUT_RECALL_RECALLING;

	if (layout_return(&srv->pnfs.domain, &ls->holder, range, iomode) != NFS4_OK)
		return false;   /* revoked: it stays until FREE_STATEID */
	if (recalled && ls->holder.state != LAYOUT_RECALL_RECALLING)
		srv->pnfs.recall_returns++;
	if (ls->holder.segs.count == 0) {
		nfs4_stid_destroy(&ls->stid);
		return true;
	}
	layout_access_update_locked(ls);
	if (bump)
		nfs4_stid_bump(&ls->stid);
	return false;
}

/* ---- layouts follow the opens ---- */

void nfs4_layout_opens_changed(struct nfs4_file *fp, struct nfs4_client *clp)
{
	struct layout_file *lf = file_layouts(fp);
	const struct layout_range all = { 0, LAYOUT_END };
	uint32_t access;
	unsigned i = 0;

	if (!lf)
		return;
	access = nfs4_file_client_open_access(fp, clp) | nfs4_deleg_client_access(fp, clp);
	while ((lf = file_layouts(fp)) != NULL && i < lf->nholders) {
		struct nfs4_layout *ls = layout_of_holder(lf->holders[i]);

		if (ls->stid.client != clp || ls->stid.state != NFS4_STID_ACTIVE ||
		    (access & NFS4_SHARE_WRITE)) {
			i++;
			continue;
		}
		if (access == 0) {
			/* The last open went: so do the layouts (knfsd's
			 * return of all of a client's layouts on the file). */
			nfs4_stid_destroy(&ls->stid);   /* the array moved: same i */
			continue;
		}
		/* A downgrade to reading: no more writing through the data
		 * server. */
		if (!layout_give_back(clp->srv, ls, &all, LAYOUTIOMODE4_RW, false))
			i++;
	}
}

static nfsstat4 layoutreturn_file(struct nfs4_compound *c, const LAYOUTRETURN4args *a,
				  const struct layout_type_ops *ops, void *tctx,
				  layoutreturn_stateid *out)
{
	const layoutreturn_file4 *rf = &a->lora_layoutreturn.u.lr_layout;
	struct layout_range range;
	struct nfs4_stid *stid = NULL;
	struct nfs4_layout *ls;
	nfsstat4 st;

	if (!c->cur.obj)
		return NFS4ERR_WRONG_TYPE;
	st = layout_range_from_wire(rf->lrf_offset, rf->lrf_length, &range);
	if (st != NFS4_OK)
		return st;
	nfs4_state_lock();
	st = layout_op_stid_lookup(c, &rf->lrf_stateid, NFS4_STID_LAYOUT, &stid);
	if (st != NFS4_OK)
		goto out;
	ls = layout_of(stid);
	if (!ls->fp || ls->fp->obj != c->cur.obj || ls->holder.type != a->lora_layout_type) {
		st = NFS4ERR_BAD_STATEID;
		goto out;
	}
	if (ops->layoutreturn) {
		st = ops->layoutreturn(tctx, &ls->holder, &range, rf->lrf_body.val, rf->lrf_body.len,
				       c->arena);
		if (st != NFS4_OK)
			goto out;
	}
	if (ls->holder.state == LAYOUT_RECALL_REVOKED) {
		st = NFS4ERR_BAD_STATEID;
		goto out;
	}
	out->lrs_present = !layout_give_back(c->srv, ls, &range, a->lora_iomode, true);
	if (out->lrs_present)
		out->u.lrs_stateid = ls->stid.sid;
out:
	nfs4_state_unlock();
	return st;
}

/* LAYOUTRETURN4_FSID and _ALL: every layout of the type the client holds
 * (on the current filehandle's file system, for FSID). */
static nfsstat4 layoutreturn_bulk(struct nfs4_compound *c, const LAYOUTRETURN4args *a)
{
	const struct layout_range all = { 0, LAYOUT_END };
	bool by_fsid = a->lora_layoutreturn.lr_returntype == LAYOUTRETURN4_FSID;
	struct list_node *pos, *next;
	struct pmem_attr at;

	if (by_fsid) {
		if (!c->cur.obj)
			return NFS4ERR_WRONG_TYPE;
		if (c->cur.obj->ops->getattr(c->cur.obj, &at) < 0)
			return NFS4ERR_IO;
	}
	nfs4_state_lock();
	for (pos = c->client->stids.next; pos != &c->client->stids; pos = next) {
		struct nfs4_stid *stid = container_of(pos, struct nfs4_stid, client_node);
		struct nfs4_layout *ls;

		next = pos->next;
		if (stid->type != NFS4_STID_LAYOUT || stid->state != NFS4_STID_ACTIVE)
			continue;
		ls = layout_of(stid);
		if (ls->holder.type != a->lora_layout_type)
			continue;
		if (by_fsid && (ls->fsid_major != at.fsid_major || ls->fsid_minor != at.fsid_minor))
			continue;
		layout_give_back(c->srv, ls, &all, a->lora_iomode, false);
	}
	nfs4_state_unlock();
	return NFS4_OK;
}

nfsstat4 nfs4_op_layoutreturn(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const LAYOUTRETURN4args *a = &args->u.oplayoutreturn;
	layoutreturn_stateid *out = &res->u.oplayoutreturn.u.lorr_stateid;
	struct nfs4_pnfs *p = &c->srv->pnfs;
	const struct layout_type_ops *ops;
	void *tctx = NULL;
	nfsstat4 st;

	out->lrs_present = false;
	if (!p->enabled)
		return NFS4ERR_LAYOUTUNAVAILABLE;
	ops = layout_domain_type(&p->domain, a->lora_layout_type, &tctx);
	if (!ops)
		return NFS4ERR_UNKNOWN_LAYOUTTYPE;
	if (a->lora_iomode != LAYOUTIOMODE4_READ && a->lora_iomode != LAYOUTIOMODE4_RW &&
	    a->lora_iomode != LAYOUTIOMODE4_ANY)
		return NFS4ERR_BADIOMODE;
	/* Layouts do not survive a restart of this server: a reclaiming
	 * return finds nothing, and outside the grace period is refused. */
	if (a->lora_reclaim)
		return nfs4_in_grace(c->srv) ? NFS4_OK : NFS4ERR_NO_GRACE;
	switch (a->lora_layoutreturn.lr_returntype) {
	case LAYOUTRETURN4_FILE:
		st = layoutreturn_file(c, a, ops, tctx, out);
		break;
	case LAYOUTRETURN4_FSID:
	case LAYOUTRETURN4_ALL:
		st = layoutreturn_bulk(c, a);
		break;
	default:
		st = NFS4ERR_INVAL;
		break;
	}
	if (st == NFS4_OK)
		atomic_fetch_add_explicit(&p->layoutreturns, 1, memory_order_relaxed);
	return st;
}

/* ---- LAYOUTCOMMIT (§18.42) ---- */

nfsstat4 nfs4_op_layoutcommit(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const LAYOUTCOMMIT4args *a = &args->u.oplayoutcommit;
	LAYOUTCOMMIT4resok *ok = &res->u.oplayoutcommit.u.locr_resok4;
	struct layout_range range;
	struct nfs4_stid *stid = NULL;
	struct nfs4_layout *ls;
	struct pmem_setattr sa;
	struct pmem_attr at;
	nfsstat4 st;
	int rc;

	if (!c->srv->pnfs.enabled)
		return NFS4ERR_LAYOUTUNAVAILABLE;
	if (!c->cur.obj)
		return NFS4ERR_WRONG_TYPE;
	st = layout_range_from_wire(a->loca_offset, a->loca_length, &range);
	if (st != NFS4_OK)
		return st;
	/* Layouts do not survive a restart; the data server's WRITEs already
	 * went to the file, so a reclaim in grace has nothing to apply. */
	if (a->loca_reclaim) {
		memset(ok, 0, sizeof(*ok));
		return nfs4_in_grace(c->srv) ? NFS4_OK : NFS4ERR_NO_GRACE;
	}
	nfs4_state_lock();
	st = layout_op_stid_lookup(c, &a->loca_stateid, NFS4_STID_LAYOUT, &stid);
	if (st == NFS4_OK) {
		ls = layout_of(stid);
		if (!ls->fp || ls->fp->obj != c->cur.obj)
			st = NFS4ERR_BAD_STATEID;
		/* What was written must lie in a range the holder has RW. */
		else if (!layout_seg_set_overlaps(&ls->holder.segs, &range, LAYOUTIOMODE4_RW))
			st = NFS4ERR_BADLAYOUT;
		else if (a->loca_last_write_offset.no_newoffset &&
			 (a->loca_last_write_offset.u.no_offset < range.start ||
			  a->loca_last_write_offset.u.no_offset >= range.end))
			st = NFS4ERR_INVAL;
	}
	nfs4_state_unlock();
	if (st != NFS4_OK)
		return st;
	if (c->cur.obj->ops->getattr(c->cur.obj, &at) < 0)
		return NFS4ERR_IO;
	memset(ok, 0, sizeof(*ok));
	memset(&sa, 0, sizeof(sa));
	/* The data server is this server: its WRITEs already moved the size
	 * and the times. A client that wrote past the end by other means
	 * (none today) still gets its size, never a smaller one. */
	if (a->loca_last_write_offset.no_newoffset &&
	    a->loca_last_write_offset.u.no_offset + 1 > at.size) {
		sa.valid |= PMEM_SET_SIZE;
		sa.size = a->loca_last_write_offset.u.no_offset + 1;
	}
	if (a->loca_time_modify.nt_timechanged) {
		sa.valid |= PMEM_SET_MTIME;
		sa.mtime.sec = a->loca_time_modify.u.nt_time.seconds;
		sa.mtime.nsec = a->loca_time_modify.u.nt_time.nseconds;
		if (sa.mtime.nsec >= 1000000000u)
			return NFS4ERR_INVAL;
	}
	if (sa.valid) {
		rc = c->cur.obj->ops->setattr(c->cur.obj, &c->cred, &sa);
		if (rc < 0)
			return nfs4_errno_to_status(rc);
	}
	if (sa.valid & PMEM_SET_SIZE) {
		ok->locr_newsize.ns_sizechanged = true;
		ok->locr_newsize.u.ns_size = sa.size;
	}
	return NFS4_OK;
}

/* ---- LAYOUTERROR, LAYOUTSTATS (RFC 7862 §15.6, §15.7) ---- */

/* The layout stateid of a LAYOUTERROR or LAYOUTSTATS on the current file,
 * for a range in which its holder has a segment. */
static nfsstat4 layout_report_check(struct nfs4_compound *c, const stateid4 *sid,
				    uint64_t offset, uint64_t length, const deviceid4 *dev)
{
	struct layout_range range;
	struct nfs4_stid *stid = NULL;
	deviceid4 ours;
	nfsstat4 st;

	if (!c->srv->pnfs.enabled)
		return NFS4ERR_LAYOUTUNAVAILABLE;
	if (!c->cur.obj)
		return NFS4ERR_WRONG_TYPE;
	st = layout_range_from_wire(offset, length, &range);
	if (st != NFS4_OK)
		return st;
	/* One data server: the flexible file layout's device 0. */
	layout_ff_deviceid(0, ours);
	if (dev && memcmp(*dev, ours, sizeof(ours)) != 0)
		return NFS4ERR_NOENT;
	nfs4_state_lock();
	st = layout_op_stid_lookup(c, sid, NFS4_STID_LAYOUT, &stid);
	if (st == NFS4_OK) {
		struct nfs4_layout *ls = layout_of(stid);

		if (!ls->fp || ls->fp->obj != c->cur.obj)
			st = NFS4ERR_BAD_STATEID;
		else if (!layout_seg_set_overlaps(&ls->holder.segs, &range, LAYOUTIOMODE4_ANY))
			st = NFS4ERR_BADLAYOUT;
	}
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_layouterror(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const LAYOUTERROR4args *a = &args->u.oplayouterror;
	struct nfs4_pnfs *p = &c->srv->pnfs;
	nfsstat4 st;
	uint32_t i;

	(void)res;
	st = layout_report_check(c, &a->lea_stateid, a->lea_offset, a->lea_length, NULL);
	if (st != NFS4_OK)
		return st;
	for (i = 0; i < a->lea_errors.len; i++) {
		deviceid4 ours;

		layout_ff_deviceid(0, ours);
		if (memcmp(a->lea_errors.val[i].de_deviceid, ours, sizeof(ours)) != 0)
			return NFS4ERR_NOENT;
	}
	/* What the client saw on the data server (this server): counted and
	 * logged at debug (a client may send many; the counter tells). */
	atomic_fetch_add_explicit(&p->layout_errors, a->lea_errors.len, memory_order_relaxed);
	for (i = 0; i < a->lea_errors.len; i++)
		log_debug("nfs4", "LAYOUTERROR from clientid %016llx: op %u on the data server: "
			  "status %d", (unsigned long long)c->client->clientid,
			  (unsigned)a->lea_errors.val[i].de_opnum, (int)a->lea_errors.val[i].de_status);
	return NFS4_OK;
}

nfsstat4 nfs4_op_layoutstats(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const LAYOUTSTATS4args *a = &args->u.oplayoutstats;
	nfsstat4 st;

	(void)res;
	st = layout_report_check(c, &a->lsa_stateid, a->lsa_offset, a->lsa_length,
				 &a->lsa_deviceid);
	if (st != NFS4_OK)
		return st;
	/* The type's body (flex files: ff_layoutupdate4) is not kept: this
	 * server counts the data server's I/O itself. */
	if (a->lsa_layoutupdate.lou_type != LAYOUT4_FLEX_FILES)
		return NFS4ERR_UNKNOWN_LAYOUTTYPE;
	atomic_fetch_add_explicit(&c->srv->pnfs.layoutstats, 1, memory_order_relaxed);
	return NFS4_OK;
}

/* ---- GETDEVICEINFO (§18.40), GETDEVICELIST (§18.41) ---- */

/* Adds netid's address (the host of local, port) to da. */
static void devinfo_add(struct layout_devinfo_args *da, const char *netid,
			const struct sockaddr *local, uint16_t port)
{
	struct layout_netaddr *na;
	bool v6 = false;

	if (da->naddrs == LAYOUT_NETADDRS_MAX || port == 0)
		return;
	na = &da->addrs[da->naddrs];
	if (rpc_addr_uaddr(local, port, na->uaddr, sizeof(na->uaddr), &v6) < 0)
		return;
	snprintf(na->netid, sizeof(na->netid), "%s%s", netid, v6 ? "6" : "");
	da->naddrs++;
}

nfsstat4 nfs4_op_getdeviceinfo(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const GETDEVICEINFO4args *a = &args->u.opgetdeviceinfo;
	GETDEVICEINFO4res *r = &res->u.opgetdeviceinfo;
	GETDEVICEINFO4resok *ok = &r->u.gdir_resok4;
	struct nfs4_pnfs *p = &c->srv->pnfs;
	const struct layout_type_ops *ops;
	struct layout_devinfo_args da;
	const struct rpc_xprt *x = c->req ? c->req->xprt : NULL;
	const struct sockaddr *local = x ? (const struct sockaddr *)&x->local : NULL;
	bool came_rdma = x && x->ops->netid && strcmp(x->ops->netid, "rdma") == 0;
	void *tctx = NULL, *body = NULL;
	uint32_t body_len = 0, needed;
	nfsstat4 st;

	ops = p->enabled ? layout_domain_type(&p->domain, a->gdia_layout_type, &tctx) : NULL;
	if (!ops)
		return NFS4ERR_UNKNOWN_LAYOUTTYPE;
	/* The data server is reached where the client reached us: the
	 * transport it came on first, the other one after it. */
	memset(&da, 0, sizeof(da));
	da.minorversion = c->minorversion;
	if (came_rdma) {
		devinfo_add(&da, "rdma", local, p->rdma_port);
		devinfo_add(&da, "tcp", local, p->tcp_port);
	} else {
		devinfo_add(&da, "tcp", local, p->tcp_port);
		devinfo_add(&da, "rdma", local, p->rdma_port);
	}
	if (da.naddrs == 0)
		return NFS4ERR_SERVERFAULT;
	st = ops->getdeviceinfo(tctx, a->gdia_device_id, &da, c->arena, &body, &body_len);
	if (st != NFS4_OK)
		return st;
	/* The whole GETDEVICEINFO4resok: type, body with its pad, an empty
	 * notification bitmap (no device notifications are offered). */
	needed = 4 + 4 + ((body_len + 3u) & ~3u) + 4;
	memset(ok, 0, sizeof(*ok));
	ok->gdir_device_addr.da_layout_type = a->gdia_layout_type;
	if (a->gdia_maxcount == 0) {
		/* §18.40.3: only notifications wanted; an empty body. */
		return NFS4_OK;
	}
	if (needed > a->gdia_maxcount) {
		r->u.gdir_mincount = needed;
		return NFS4ERR_TOOSMALL;
	}
	ok->gdir_device_addr.da_addr_body.val = body;
	ok->gdir_device_addr.da_addr_body.len = body_len;
	return NFS4_OK;
}

nfsstat4 nfs4_op_getdevicelist(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	const GETDEVICELIST4args *a = &args->u.opgetdevicelist;
	GETDEVICELIST4resok *ok = &res->u.opgetdevicelist.u.gdlr_resok4;
	struct nfs4_pnfs *p = &c->srv->pnfs;
	deviceid4 *ids;

	if (!p->enabled || !layout_domain_type(&p->domain, a->gdla_layout_type, NULL))
		return NFS4ERR_UNKNOWN_LAYOUTTYPE;
	memset(ok, 0, sizeof(*ok));
	/* One data server: the whole list at cookie 0, nothing after it. */
	if (a->gdla_cookie != 0) {
		if (a->gdla_cookie != 1)
			return NFS4ERR_BAD_COOKIE;
		if (memcmp(a->gdla_cookieverf, c->srv->write_verf, NFS4_VERIFIER_SIZE) != 0)
			return NFS4ERR_NOT_SAME;
		memcpy(ok->gdlr_cookieverf, c->srv->write_verf, NFS4_VERIFIER_SIZE);
		ok->gdlr_cookie = a->gdla_cookie;
		ok->gdlr_eof = true;
		return NFS4_OK;
	}
	if (a->gdla_maxdevices == 0)
		return NFS4ERR_INVAL;
	ids = arena_alloc(c->arena, sizeof(*ids));
	if (!ids)
		return NFS4ERR_DELAY;
	layout_ff_deviceid(0, *ids);
	ok->gdlr_cookie = 1;
	memcpy(ok->gdlr_cookieverf, c->srv->write_verf, NFS4_VERIFIER_SIZE);
	ok->gdlr_deviceid_list.len = 1;
	ok->gdlr_deviceid_list.val = ids;
	ok->gdlr_eof = true;
	return NFS4_OK;
}
