/*
 * server/nfs4_layout.c: LAYOUTGET, LAYOUTRETURN, LAYOUTCOMMIT,
 * GETDEVICEINFO and GETDEVICELIST (RFC 8881 §18.40-18.44) and the layout
 * stateid, over layout/ (decision 0008; nfs4_layout.h).
 *
 * What this increment does not do yet (issue 12): the lease behind a file
 * with layouts and CB_LAYOUTRECALL. Flex files with daxnfsd as its own data
 * server needs neither for the file's bytes (every data-server I/O passes
 * the same stateid and permission checks as any other), but a local
 * truncate does not recall the layouts yet.
 * Calls: layout/, nfs4_state.h, nfs4_file.h, nfs4_open.h, rpc/netaddr.h.
 * Called by: the op table, nfs4_server.c.
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
#include "server/nfs4_grace.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_open.h"
#include "server/nfs4_ops.h"

/* No recall is started yet (see the header); layout/ calls none of these
 * until one is. */
static const struct layout_upcalls pnfs_upcalls = { 0 };

int nfs4_pnfs_init(struct nfs4_server *srv, const struct daxnfs_config *cfg)
{
	struct nfs4_pnfs *p = &srv->pnfs;
	const char *bad = NULL;
	unsigned bt = 45;
	int64_t margin;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!cfg->enable_pnfs)
		return 0;
	if (pmem_lease_break_time(&bt) < 0)
		bt = 45;
	/* The lease manager's margin (nfs4_file_lease.c): a quarter of the
	 * break time, at most 5 s. */
	margin = (int64_t)bt * 1000 / 4;
	if (margin > 5000)
		margin = 5000;
	rc = layout_domain_init(&p->domain, &pnfs_upcalls, srv, nfs4_recall_timeout_ms(srv), margin,
				(int64_t)bt * 1000, &bad);
	if (rc < 0) {
		log_err("nfs4", "pNFS: NFSV4 %s does not leave a recall time before the kernel's "
			"lease-break-time of %u s", bad ? bad : "?", bt);
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
		 "data server at the client's server address, port %u%s", p->tcp_port,
		 p->rdma_port ? " (and RDMA)" : "");
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

/* The stateid goes (LAYOUTRETURN of the last segment, FREE_STATEID, the
 * client's end): its holder leaves the file, the file's record with it
 * when it was the last. State lock held. */
static void layout_stid_release(struct nfs4_stid *stid)
{
	struct nfs4_layout *ls = layout_of(stid);
	struct nfs4_file *fp = ls->fp;
	struct layout_file *lf = fp ? fp->layout_state : NULL;

	if (lf) {
		layout_holder_detach(&stid->client->srv->pnfs.domain, &ls->holder);
		if (lf->nholders == 0) {
			layout_file_free(lf);
			free(lf);
			fp->layout_state = NULL;
		}
	}
	if (fp)
		nfs4_file_put(fp);
	free(ls);
}

/* clp's layout stateid of type on lf, or NULL. */
static struct nfs4_layout *client_layout(struct layout_file *lf, const struct nfs4_client *clp,
					 layouttype4 type)
{
	unsigned i;

	for (i = 0; lf && i < lf->nholders; i++) {
		struct nfs4_layout *ls = layout_of_holder(lf->holders[i]);

		if (ls->stid.client == clp && ls->holder.type == type)
			return ls;
	}
	return NULL;
}

/* A new layout stateid of type for clp on fp; NULL on ENOMEM or past the
 * client's stateid limit. State lock held. */
static struct nfs4_layout *layout_new(struct nfs4_client *clp, struct nfs4_file *fp,
				      layouttype4 type, const struct pmem_attr *at)
{
	struct layout_file *lf = fp->layout_state;
	struct nfs4_layout *ls;

	if (!lf) {
		lf = calloc(1, sizeof(*lf));
		if (!lf)
			return NULL;
		fp->layout_state = lf;
	}
	ls = (struct nfs4_layout *)nfs4_stid_new(clp, NFS4_STID_LAYOUT, sizeof(*ls),
						 layout_stid_release);
	if (!ls)
		goto fail;
	if (layout_holder_attach(lf, &ls->holder, type) < 0) {
		nfs4_stid_destroy(&ls->stid);   /* fp not yet taken: release leaves lf alone */
		goto fail;
	}
	ls->fp = fp;
	fp->refs++;
	ls->fsid_major = at->fsid_major;
	ls->fsid_minor = at->fsid_minor;
	return ls;
fail:
	if (lf->nholders == 0) {
		layout_file_free(lf);
		free(lf);
		fp->layout_state = NULL;
	}
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
					    : client_layout(fp->layout_state, c->client,
							    a->loga_layout_type);
	if (!ls) {
		ls = layout_new(c->client, fp, a->loga_layout_type, &at);
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
	if (st == NFS4_OK)
		st = layout_grant(&p->domain, &ls->holder, &seg);
	if (st != NFS4_OK) {
		if (created)
			nfs4_stid_destroy(&ls->stid);
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
	if (layout_return(&srv->pnfs.domain, &ls->holder, range, iomode) != NFS4_OK)
		return false;   /* revoked: it stays until FREE_STATEID */
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
	struct layout_file *lf = fp->layout_state;
	const struct layout_range all = { 0, LAYOUT_END };
	uint32_t access;
	unsigned i = 0;

	if (!lf)
		return;
	access = nfs4_file_client_open_access(fp, clp) | nfs4_deleg_client_access(fp, clp);
	while ((lf = fp->layout_state) != NULL && i < lf->nholders) {
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
