/*
 * server/nfs4_v42_data.c: the NFSv4.2 data operations on one export's
 * files: CLONE (RFC 7862 §15.13), COPY (§15.2: done here when it is small
 * or the client wants it at once, else handed to nfs4_copy.c), ALLOCATE
 * (§15.1), DEALLOCATE (§15.4) and SEEK (§15.11).
 *
 * Job: check the handles and stateids as READ and WRITE do (the source of a
 * CLONE as a read, its destination, ALLOCATE and DEALLOCATE as writes), let
 * conflicting delegations be recalled first (NFS4ERR_DELAY meanwhile), then
 * have the backend reflink, fallocate or lseek.
 * Decisions:
 *  - CLONE's ranges must be multiples of clone_blksize (the filesystem's
 *    block size), a count that ends at the source's EOF excepted (as the
 *    kernel's remap rules); count 0 means "to the source's end". Ranges of
 *    one file may not overlap. The backend's errno says the rest: no reflink
 *    on this filesystem -> NFS4ERR_NOTSUPP (the client copies instead), two
 *    filesystems -> NFS4ERR_XDEV.
 *  - SEEK answers sr_eof when the offset found is the end of the file (the
 *    hole every file has there); no data past the offset -> NFS4ERR_NXIO.
 *  - ALLOCATE may grow the file (fallocate mode 0, as knfsd); DEALLOCATE
 *    punches a hole and keeps the size.
 *  - COPY runs asynchronously (a callback id, CB_OFFLOAD at the end) when
 *    the client allows it and it is more than COPY_ASYNC_MIN bytes;
 *    otherwise it is done within the request (RFC 7862 §15.2.3 lets the
 *    server choose: the reply then has no callback id), at most
 *    COPY_SYNC_MAX bytes per COPY (a short count; the client goes on from
 *    there; a worker is busy for that much at most). Beyond the limits of
 *    asynchronous copies: NFS4ERR_OFFLOAD_NO_REQS, cr_synchronous set.
 *    copy_file_range shares extents where the filesystem can.
 *    The bytes are as a WRITE's UNSTABLE4 (the write verifier; COMMIT makes
 *    them durable). Both files in one export (else NFS4ERR_XDEV, as for
 *    CLONE: the caller's credential is that export's). A copy from another
 *    server (ca_source_server) is NFS4ERR_NOTSUPP, and so is COPY_NOTIFY.
 *  - SEEK of data in a trailing hole answers NFS4ERR_NXIO, as knfsd and
 *    lseek do (the Linux client expects ENXIO).
 * Calls: nfs4_open.h (the I/O stateid rules), nfs4_fh.h, nfs4_copy.h, the
 * backend.
 * Called by: the compound loop (nfs4_ops.c table).
 */
#include <errno.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_copy.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_open.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_state.h"

#define MAX_FILE_OFFSET ((uint64_t)INT64_MAX)

/* [off, off+len) within what a file can hold (len 0: nothing to check). */
static bool range_ok(uint64_t off, uint64_t len)
{
	return off <= MAX_FILE_OFFSET && len <= MAX_FILE_OFFSET - off;
}

/* The file's block size: what CLONE's ranges align to (clone_blksize). */
static nfsstat4 clone_blksize(const struct nfs4_fh *fh, uint32_t *bs)
{
	struct pmem_fsstat fs;
	int err = fh->exp->pexp->ops->fsstat(fh->exp->pexp, &fs);

	if (err)
		return nfs4_errno_to_status(err);
	*bs = fs.block_size ? fs.block_size : 4096;
	return NFS4_OK;
}

/* What CLONE and COPY check before their ranges: a saved source and a
 * current destination, both regular files of one export (the caller's
 * credential is that export's), the destination writable; the source's
 * attributes for the range checks. */
static nfsstat4 two_files_check(struct nfs4_compound *c, struct pmem_attr *src_attr)
{
	nfsstat4 st;
	int err;

	if (c->saved.len == 0)
		return NFS4ERR_NOFILEHANDLE;
	st = nfs4_fh_check_reg(&c->saved);
	if (st == NFS4_OK)
		st = nfs4_fh_check_reg(&c->cur);
	if (st == NFS4ERR_SYMLINK)
		st = NFS4ERR_WRONG_TYPE;
	if (st != NFS4_OK)
		return st;
	if (!nfs4_export_same(c->saved.exp, c->cur.exp))
		return NFS4ERR_XDEV;
	st = nfs4_fh_check_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	err = c->saved.obj->ops->getattr(c->saved.obj, src_attr);
	return err ? nfs4_errno_to_status(err) : NFS4_OK;
}

nfsstat4 nfs4_op_clone(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	CLONE4args *a = &args->u.opclone;
	struct pmem_obj *src, *dst;
	struct pmem_attr sat;
	uint64_t count = a->cl_count, src_end;
	uint32_t bs = 0;
	nfsstat4 st;
	int err;

	(void)res;
	st = two_files_check(c, &sat);
	if (st != NFS4_OK)
		return st;
	src = c->saved.obj;
	dst = c->cur.obj;
	if (!range_ok(a->cl_src_offset, count) || !range_ok(a->cl_dst_offset, count))
		return NFS4ERR_INVAL;
	if (a->cl_src_offset > sat.size)
		return NFS4ERR_INVAL;
	if (count == 0)
		count = sat.size - a->cl_src_offset;
	src_end = a->cl_src_offset + count;
	if (src_end > sat.size)
		return NFS4ERR_INVAL;   /* RFC 7862 §15.13.3: the range must be in the source */
	st = clone_blksize(&c->cur, &bs);
	if (st != NFS4_OK)
		return st;
	if (a->cl_src_offset % bs || a->cl_dst_offset % bs ||
	    (count % bs && src_end != sat.size))
		return NFS4ERR_INVAL;
	if (src == dst && a->cl_src_offset < a->cl_dst_offset + count &&
	    a->cl_dst_offset < src_end)
		return NFS4ERR_INVAL;   /* overlapping ranges of one file */
	/* The source is read, the destination written: stateids, share
	 * reservations, and the delegations that conflict are recalled. */
	st = nfs4_io_check_stateid(c, src, &a->cl_src_stateid, false);
	if (st == NFS4_OK)
		st = nfs4_io_check_stateid(c, dst, &a->cl_dst_stateid, true);
	if (st != NFS4_OK)
		return st;
	if (count == 0)
		return NFS4_OK;   /* an empty source: nothing to share */
	err = src->ops->clone(src, a->cl_src_offset, dst, a->cl_dst_offset, count);
	if (err == -EOPNOTSUPP || err == -ENOTSUP)
		return NFS4ERR_NOTSUPP;
	return err ? nfs4_errno_to_status(err) : NFS4_OK;
}

#define COPY_SYNC_MAX (32ull << 20)
#define COPY_ASYNC_MIN (4ull << 20)

nfsstat4 nfs4_op_copy(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	COPY4args *a = &args->u.opcopy;
	COPY4res *r = &res->u.opcopy;
	COPY4resok *ok = &r->u.cr_resok4;
	struct pmem_obj *src, *dst;
	struct pmem_attr sat;
	uint64_t count = a->ca_count, copied = 0;
	nfsstat4 st;
	int err;

	if (c->saved.len && a->ca_source_server.len != 0)
		return NFS4ERR_NOTSUPP;   /* inter-server copy is not offered */
	st = two_files_check(c, &sat);
	if (st != NFS4_OK)
		return st;
	src = c->saved.obj;
	dst = c->cur.obj;
	if (!range_ok(a->ca_src_offset, count) || !range_ok(a->ca_dst_offset, count))
		return NFS4ERR_INVAL;
	/* RFC 7862 §15.2.3: the range must lie in the source (count 0: to its
	 * end). */
	if (a->ca_src_offset > sat.size ||
	    (count && a->ca_src_offset + count > sat.size))
		return NFS4ERR_INVAL;
	if (count == 0)
		count = sat.size - a->ca_src_offset;
	if (src == dst && a->ca_src_offset < a->ca_dst_offset + count &&
	    a->ca_dst_offset < a->ca_src_offset + count)
		return NFS4ERR_INVAL;   /* overlapping ranges of one file */
	st = nfs4_io_check_stateid(c, src, &a->ca_src_stateid, false);
	if (st == NFS4_OK)
		st = nfs4_io_check_stateid(c, dst, &a->ca_dst_stateid, true);
	if (st != NFS4_OK)
		return st;
	ok->cr_requirements.cr_consecutive = true;
	if (!a->ca_synchronous && count > COPY_ASYNC_MIN && nfs4_copy_async_offered(c->srv)) {
		stateid4 *id = arena_alloc(c->arena, sizeof(*id));

		if (!id)
			return NFS4ERR_RESOURCE;
		st = nfs4_copy_start_async(c, src, a->ca_src_offset, dst, a->ca_dst_offset, count,
					   id);
		if (st == NFS4ERR_OFFLOAD_NO_REQS) {
			/* what it can do: the same copy, synchronously */
			r->u.cr_requirements.cr_consecutive = true;
			r->u.cr_requirements.cr_synchronous = true;
			return st;
		}
		if (st == NFS4ERR_RESOURCE)
			goto synchronous;   /* no record or thread now: at once, shortened */
		if (st != NFS4_OK)
			return st;
		ok->cr_response.wr_callback_id.len = 1;
		ok->cr_response.wr_callback_id.val = id;
		ok->cr_response.wr_count = 0;
		ok->cr_response.wr_committed = UNSTABLE4;
		nfs4_write_verifier(c->srv, ok->cr_response.wr_writeverf);
		ok->cr_requirements.cr_synchronous = false;
		return NFS4_OK;
	}
synchronous:
	if (count > COPY_SYNC_MAX)
		count = COPY_SYNC_MAX;
	err = count ? src->ops->copy(src, a->ca_src_offset, dst, a->ca_dst_offset, count, &copied)
		    : 0;
	if (err && copied == 0)
		return nfs4_copy_errno_status(err);
	/* Some bytes, then an error: a short copy, the client goes on or
	 * meets the error itself. */
	ok->cr_response.wr_callback_id.len = 0;
	ok->cr_response.wr_count = copied;
	ok->cr_response.wr_committed = UNSTABLE4;
	nfs4_write_verifier(c->srv, ok->cr_response.wr_writeverf);
	ok->cr_requirements.cr_synchronous = true;
	return NFS4_OK;
}

/* ALLOCATE and DEALLOCATE: a write of the range's space. */
static nfsstat4 space_op(struct nfs4_compound *c, const stateid4 *sid, uint64_t off,
			 uint64_t len, bool allocate)
{
	struct pmem_obj *obj;
	nfsstat4 st;
	int err;

	st = nfs4_fh_check_reg(&c->cur);
	if (st == NFS4ERR_SYMLINK)
		st = NFS4ERR_WRONG_TYPE;
	if (st != NFS4_OK)
		return st;
	st = nfs4_fh_check_writable(c, &c->cur);
	if (st != NFS4_OK)
		return st;
	if (len == 0 || !range_ok(off, len))
		return NFS4ERR_INVAL;
	obj = c->cur.obj;
	st = nfs4_io_check_stateid(c, obj, sid, true);
	if (st != NFS4_OK)
		return st;
	err = allocate ? obj->ops->allocate(obj, off, len) : obj->ops->deallocate(obj, off, len);
	if (err == -EOPNOTSUPP || err == -ENOTSUP)
		return NFS4ERR_NOTSUPP;
	if (err == -EFBIG)
		return NFS4ERR_FBIG;
	return err ? nfs4_errno_to_status(err) : NFS4_OK;
}

nfsstat4 nfs4_op_allocate(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	ALLOCATE4args *a = &args->u.opallocate;

	(void)res;
	return space_op(c, &a->aa_stateid, a->aa_offset, a->aa_length, true);
}

nfsstat4 nfs4_op_deallocate(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	DEALLOCATE4args *a = &args->u.opdeallocate;

	(void)res;
	return space_op(c, &a->da_stateid, a->da_offset, a->da_length, false);
}

nfsstat4 nfs4_op_seek(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SEEK4args *a = &args->u.opseek;
	SEEK4res *r = &res->u.opseek;
	struct pmem_obj *obj;
	struct pmem_attr at;
	uint64_t found = 0;
	nfsstat4 st;
	int err;

	st = nfs4_fh_check_reg(&c->cur);
	if (st == NFS4ERR_SYMLINK)
		st = NFS4ERR_WRONG_TYPE;
	if (st != NFS4_OK)
		return st;
	if (a->sa_what != NFS4_CONTENT_DATA && a->sa_what != NFS4_CONTENT_HOLE)
		return NFS4ERR_UNION_NOTSUPP;
	obj = c->cur.obj;
	st = nfs4_io_check_stateid(c, obj, &a->sa_stateid, false);
	if (st != NFS4_OK)
		return st;
	err = obj->ops->seek(obj, a->sa_offset,
			     a->sa_what == NFS4_CONTENT_DATA ? PMEM_SEEK_DATA : PMEM_SEEK_HOLE,
			     &found);
	if (err == -ENXIO)
		return NFS4ERR_NXIO;
	if (err)
		return nfs4_errno_to_status(err);
	err = obj->ops->getattr(obj, &at);
	if (err)
		return nfs4_errno_to_status(err);
	r->u.resok4.sr_offset = found;
	r->u.resok4.sr_eof = found >= at.size;
	return NFS4_OK;
}
