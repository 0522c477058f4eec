/*
 * server/nfs4_io.c: READ, WRITE and COMMIT (RFC 8881 §18.22, §18.32, §18.3).
 *
 * Job: check the stateid against the current file (open, lock, or a special
 * stateid subject to the file's share deny and the caller's permission), then
 * move the bytes through the backend and answer with the stability reached
 * and the server's write verifier.
 * Decisions:
 *  - READ is allowed with any open of the file, write-only included (knfsd
 *    does the same, and the Linux client reads through write-only opens to
 *    fill partial pages); WRITE needs an open with write access
 *    (NFS4ERR_OPENMODE otherwise).
 *  - Byte-range locks are advisory: READ/WRITE do not check them (as knfsd).
 *  - I/O with the anonymous stateid is refused with NFS4ERR_LOCKED when an
 *    open denies that access; the READ-bypass stateid skips that for READ.
 *  - READ data goes into request-arena memory, or memory the transport
 *    offers (rpc_request_payload_buffer) when READ is the compound's last
 *    op; then that memory is sent as it is, as the request's payload (the
 *    encoder in nfs4_ops.c writes only eof and the length); otherwise the
 *    encoder copies it into the reply. A count larger than the reply can
 *    hold is shortened either way (the compound counts the payload in its
 *    size checks and drops it when the reply must become an error).
 * Calls: nfs4_state.h, nfs4_open.h, nfs4_fh.h, backend read/write/commit.
 * Called by: the compound loop.
 */
#include <errno.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_export.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_open.h"
#include "server/nfs4_open_priv.h"
#include "server/nfs4_ops.h"

#define READ_RES_OVERHEAD 64u   /* READ4res header and what may follow it */
#define MAX_FILE_OFFSET ((uint64_t)INT64_MAX)
#define READ_CLAMP_MIN (64u * 1024u)   /* below this, zeroing costs less than a stat */

size_t nfs4_reply_room(const struct nfs4_compound *c, size_t overhead)
{
	size_t used, room;

	if (!c->req)
		return 0;
	used = xdr_pos(&c->req->res) + overhead;
	room = c->req->res.len > used ? c->req->res.len - used : 0;
	if (c->resp_limit) {
		size_t lim = c->resp_limit > used ? c->resp_limit - used : 0;

		if (lim < room)
			room = lim;
	}
	return room;
}

bool nfs4_stateid_is_bypass(const stateid4 *sid)
{
	static const uint8_t ones[NFS4_OTHER_SIZE] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	return sid->seqid == UINT32_MAX && memcmp(sid->other, ones, sizeof(ones)) == 0;
}

/* A stateid that is not special, checked under its client's lock and not
 * the state lock (docs/decisions/0007): the client's own stateids cannot
 * change or go while it is held. */
static nfsstat4 check_client_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
				     const stateid4 *sid, bool write, uint32_t types, bool *special)
{
	struct nfs4_client *clp = c->client;
	struct nfs4_stid *stid = NULL;
	struct nfs4_file *fp;
	uint32_t access;
	nfsstat4 st;

	pthread_mutex_lock(&clp->lock);
	st = nfs4_stid_lookup_client(c, sid, types, true, &stid);
	if (st != NFS4_OK || !stid)
		goto out;
	fp = nfs4_stid_file(stid);
	access = nfs4_stid_share_access(stid);
	if (!fp || fp->obj != obj || access == 0)
		st = NFS4ERR_BAD_STATEID;
	else if (write && !(access & NFS4_SHARE_WRITE))
		st = NFS4ERR_OPENMODE;
	else if (stid->type == NFS4_STID_LAYOUT)
		nfs4_pnfs_count_ds_io(&c->srv->pnfs, write);
out:
	pthread_mutex_unlock(&clp->lock);
	*special = st == NFS4_OK && !stid;
	return st;
}

/* An anonymous or READ-bypass stateid: the file's share reservations of
 * every client decide, under the state lock. */
static nfsstat4 check_special_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
				      const stateid4 *sid, bool write)
{
	struct nfs4_file *fp;
	nfsstat4 st = NFS4_OK;

	if (!write && nfs4_stateid_is_bypass(sid))
		return NFS4_OK;
	nfs4_state_lock();
	fp = nfs4_file_find(&c->srv->files, obj);
	if (fp && nfs4_share_denied(fp, write ? NFS4_SHARE_WRITE : NFS4_SHARE_READ))
		st = NFS4ERR_LOCKED;
	nfs4_file_put(fp);
	nfs4_state_unlock();
	return st;
}

static nfsstat4 io_check_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
				 const stateid4 *sid, bool write, uint32_t types)
{
	bool special;
	nfsstat4 st;

	if (!c->client)
		return NFS4ERR_OP_NOT_IN_SESSION;   /* the op table lets none through */
	st = check_client_stateid(c, obj, sid, write, types, &special);
	if (st == NFS4_OK && special)
		st = check_special_stateid(c, obj, sid, write);
	/* Another client's delegation (or, for a write, any read delegation)
	 * is recalled first: NFS4ERR_DELAY until it is returned or revoked.
	 * With no delegation anywhere, no lock at all. */
	if (st == NFS4_OK && nfs4_deleg_any(c->srv))
		st = nfs4_deleg_conflict_unlocked(c->srv, c->client, obj,
						  write ? NFS4_DELEG_WRITE_DATA
							: NFS4_DELEG_READ_DATA);
	/* A write through a file whose READ layouts hold a read lease. */
	if (st == NFS4_OK && write)
		st = nfs4_layout_write_conflict(c->srv, obj);
	if (st == NFS4_OK && special)
		/* no OPEN vouched for this I/O: check as OPEN would */
		st = nfs4_open_permission(c, obj, write ? NFS4_SHARE_WRITE : NFS4_SHARE_READ);
	return st;
}

nfsstat4 nfs4_io_check_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
			       const stateid4 *sid, bool write)
{
	return io_check_stateid(c, obj, sid, write,
				NFS4_STID_OPEN | NFS4_STID_LOCK | NFS4_STID_DELEG);
}

nfsstat4 nfs4_io_check_ds_stateid(struct nfs4_compound *c, struct pmem_obj *obj,
				  const stateid4 *sid, bool write)
{
	/* A layout stateid is what the data server's I/O carries (pNFS,
	 * nfs4_layout.c); only READ, WRITE and READ_PLUS take it. */
	return io_check_stateid(c, obj, sid, write,
				NFS4_STID_OPEN | NFS4_STID_LOCK | NFS4_STID_DELEG | NFS4_STID_LAYOUT);
}

/* Nothing is encoded after the last op, so its data can stay where it was
 * read, outside the reply buffer, as the request's payload (placed after
 * its length word by the compound once encoded, and sent from there or put
 * into the client's write chunk by RDMA); data.val NULL with data.len set
 * tells the encoder. */
static void read_data_to_payload(struct nfs4_compound *c, READ4res *r)
{
	struct rpc_request *req = c->req;

	if (!req || c->opindex + 1 != c->numops || req->payload.data)
		return;
	req->payload.data = r->u.resok4.data.val;
	req->payload.len = r->u.resok4.data.len;
	req->payload.pos = RPC_PAYLOAD_UNPLACED;
	r->u.resok4.data.val = NULL;
}

nfsstat4 nfs4_op_read(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	READ4args *a = &args->u.opread;
	READ4res *r = &res->u.opread;
	struct pmem_obj *obj;
	size_t count = a->count, n = 0, room;
	uint8_t *buf = NULL;
	struct pmem_attr at;
	bool eof = false;
	nfsstat4 st;
	int ret;

	st = nfs4_fh_check_reg(&c->cur);
	if (st != NFS4_OK)
		return st;
	obj = c->cur.obj;
	st = nfs4_io_check_ds_stateid(c, obj, &a->stateid, false);
	if (st != NFS4_OK)
		return st;
	/* Shorten to what the server and this reply can carry. */
	if (count > nfs4_export_max_io())
		count = nfs4_export_max_io();
	room = nfs4_reply_room(c, READ_RES_OVERHEAD);
	if (count > room)
		count = room & ~(size_t)3;
	/* Past the largest offset a file can have: nothing there (not EINVAL). */
	if (a->offset > MAX_FILE_OFFSET) {
		eof = true;
		goto done;
	}
	if (count > MAX_FILE_OFFSET - a->offset)
		count = MAX_FILE_OFFSET - a->offset;
	/* Large reads of small files: do not clear a buffer the file cannot
	 * fill (a file growing meanwhile just makes this a short read). */
	if (count > READ_CLAMP_MIN && obj->ops->getattr(obj, &at) == 0) {
		if (a->offset >= at.size)
			count = 0;
		else if (count > at.size - a->offset)
			count = at.size - a->offset;
	}
	while (count) {
		/* memory the transport can send from as it is (registered on RDMA) */
		buf = c->req && c->opindex + 1 == c->numops
			      ? rpc_request_payload_buffer(c->req, count)
			      : arena_alloc(c->arena, count);
		if (buf || count <= 4096)
			break;
		count /= 2;
	}
	if (count && !buf)
		return NFS4ERR_DELAY;
	ret = obj->ops->read(obj, a->offset, buf, count, &n, &eof);
	if (ret < 0)
		return nfs4_errno_to_status(ret);
done:
	r->u.resok4.eof = eof;
	r->u.resok4.data.len = (uint32_t)n;
	r->u.resok4.data.val = buf;
	if (n)
		read_data_to_payload(c, r);
	return NFS4_OK;
}

nfsstat4 nfs4_op_write(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	WRITE4args *a = &args->u.opwrite;
	WRITE4res *r = &res->u.opwrite;
	struct pmem_obj *obj;
	enum pmem_stable committed = (enum pmem_stable)a->stable;
	size_t n = 0;
	nfsstat4 st;
	int ret;

	st = nfs4_fh_check_reg(&c->cur);
	if (st != NFS4_OK)
		return st;
	st = nfs4_fh_check_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	if (a->stable > FILE_SYNC4)
		return NFS4ERR_INVAL;
	obj = c->cur.obj;
	st = nfs4_io_check_ds_stateid(c, obj, &a->stateid, true);
	if (st != NFS4_OK)
		return st;
	if (a->offset > MAX_FILE_OFFSET || a->data.len > MAX_FILE_OFFSET - a->offset)
		return NFS4ERR_FBIG;
	if (a->data.len) {
		ret = obj->ops->write(obj, a->offset, a->data.val, a->data.len,
				      (enum pmem_stable)a->stable, &n, &committed);
		if (ret < 0)
			return nfs4_errno_to_status(ret);
	}
	r->u.resok4.count = (count4)n;
	r->u.resok4.committed = (stable_how4)committed;
	nfs4_write_verifier(c->srv, r->u.resok4.writeverf);
	return NFS4_OK;
}

nfsstat4 nfs4_op_commit(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	COMMIT4args *a = &args->u.opcommit;
	COMMIT4res *r = &res->u.opcommit;
	struct pmem_obj *obj;
	nfsstat4 st;
	int ret;

	st = nfs4_fh_check_reg(&c->cur);
	if (st != NFS4_OK)
		return st;
	if (a->count && a->offset > UINT64_MAX - a->count)
		return NFS4ERR_INVAL;
	obj = c->cur.obj;
	ret = obj->ops->commit(obj, a->offset, a->count);
	if (ret < 0)
		return nfs4_errno_to_status(ret);
	nfs4_write_verifier(c->srv, r->u.resok4.writeverf);
	return NFS4_OK;
}

/* SETATTR(size) (RFC 8881 §18.30.4): the stateid rules of WRITE, as a
 * truncate or extend is a write. Byte-range locks are advisory here, as for
 * WRITE. Called by nfs4_getattr.c through the hook in nfs4_fh.h. */
nfsstat4 nfs4_open_check_setattr_size(struct nfs4_compound *c, const stateid4 *sid,
				      struct pmem_obj *obj)
{
	return nfs4_io_check_stateid(c, obj, sid, true);
}

uint32_t nfs4_read_payload_estimate(const nfs_argop4 *args)
{
	return args->u.opread.count;
}
