/*
 * server/nfs4_read_plus.c: READ_PLUS (RFC 7862 §15.10): a READ that answers
 * the holes of a sparse file as hole segments instead of zeros.
 *
 * Job: the stateid rules of READ, the count shortened as READ's (the
 * server's largest I/O, the room in the reply), then the range [offset,
 * offset + count) within the file's size is walked with SEEK_DATA and
 * SEEK_HOLE: each hole becomes a hole segment (offset and length, no bytes),
 * each run of data a data segment read from the backend.
 * Decisions:
 *  - At most READ_PLUS_MAX_SEGMENTS segments: a file with holes finer than
 *    that gets a short answer (rpr_eof false), which the client continues.
 *  - A filesystem that cannot seek holes (lseek EINVAL/ENOTSUP) is all data.
 *  - Past the end of the file: no segment and rpr_eof, as READ.
 * Calls: nfs4_open.h (stateid rules, reply room), the backend's seek, read,
 * getattr. Called by: the compound loop (nfs4_ops.c table).
 */
#include <errno.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_export.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_open.h"
#include "server/nfs4_ops.h"

#define READ_PLUS_MAX_SEGMENTS 64u
#define READ_PLUS_OVERHEAD 64u      /* READ_PLUS4res header, eof, array length */
#define SEGMENT_OVERHEAD 20u        /* a segment's type, offset, length */

/* Where the data at or after pos starts and ends (end clamped to limit);
 * *start == limit when there is none before limit. */
static int next_data(struct pmem_obj *obj, uint64_t pos, uint64_t limit, uint64_t *start,
		     uint64_t *end)
{
	int err = obj->ops->seek(obj, pos, PMEM_SEEK_DATA, start);

	if (err == -ENXIO) {
		*start = *end = limit;
		return 0;
	}
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP) {
		*start = pos;   /* no hole support: all data */
		*end = limit;
		return 0;
	}
	if (err)
		return err;
	if (*start >= limit) {
		*start = *end = limit;
		return 0;
	}
	err = obj->ops->seek(obj, *start, PMEM_SEEK_HOLE, end);
	if (err == -ENXIO)
		*end = limit;
	else if (err)
		return err;
	if (*end > limit)
		*end = limit;
	return 0;
}

nfsstat4 nfs4_op_read_plus(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	READ_PLUS4args *a = &args->u.opread_plus;
	READ_PLUS4res *r = &res->u.opread_plus;
	read_plus_res4 *ok = &r->u.rp_resok4;
	read_plus_content *segs;
	struct pmem_obj *obj;
	struct pmem_attr at;
	uint64_t pos, limit, start, end;
	size_t count = a->rpa_count, room, budget;
	uint32_t n = 0;
	nfsstat4 st;
	int err;

	st = nfs4_fh_check_reg(&c->cur);
	if (st != NFS4_OK)
		return st;
	obj = c->cur.obj;
	st = nfs4_io_check_ds_stateid(c, obj, &a->rpa_stateid, false);
	if (st != NFS4_OK)
		return st;
	if (count > nfs4_export_max_io())
		count = nfs4_export_max_io();
	room = nfs4_reply_room(c, READ_PLUS_OVERHEAD);
	if (count > room)
		count = room & ~(size_t)3;
	err = obj->ops->getattr(obj, &at);
	if (err)
		return nfs4_errno_to_status(err);
	ok->rpr_eof = false;
	ok->rpr_contents.len = 0;
	ok->rpr_contents.val = NULL;
	if (a->rpa_offset >= at.size) {
		ok->rpr_eof = true;
		return NFS4_OK;
	}
	limit = at.size - a->rpa_offset < count ? at.size : a->rpa_offset + count;
	segs = arena_alloc(c->arena, READ_PLUS_MAX_SEGMENTS * sizeof(*segs));
	if (!segs)
		return NFS4ERR_RESOURCE;
	/* What the reply may still hold for the segments (their headers and
	 * the data), counting each from the count the client allowed. */
	budget = count;
	for (pos = a->rpa_offset; pos < limit && n < READ_PLUS_MAX_SEGMENTS;) {
		err = next_data(obj, pos, limit, &start, &end);
		if (err)
			return nfs4_errno_to_status(err);
		if (start > pos) {   /* a hole first */
			if (budget < SEGMENT_OVERHEAD)
				break;
			segs[n].rpc_content = NFS4_CONTENT_HOLE;
			segs[n].u.rpc_hole.di_offset = pos;
			segs[n].u.rpc_hole.di_length = start - pos;
			budget -= SEGMENT_OVERHEAD;
			n++;
			pos = start;
			continue;
		}
		if (budget <= SEGMENT_OVERHEAD + 4)
			break;
		{
			/* cap is a multiple of 4, so the padded data fits too */
			size_t cap = (budget - SEGMENT_OVERHEAD - 4) & ~(size_t)3;
			size_t want = end - pos < cap ? (size_t)(end - pos) : cap, got = 0;
			bool eof = false;
			uint8_t *buf;

			if (want == 0)
				break;
			buf = arena_alloc(c->arena, want);
			if (!buf)
				return n ? NFS4_OK : NFS4ERR_DELAY;
			err = obj->ops->read(obj, pos, buf, want, &got, &eof);
			if (err)
				return nfs4_errno_to_status(err);
			if (got == 0)
				break;   /* the file shrank meanwhile */
			segs[n].rpc_content = NFS4_CONTENT_DATA;
			segs[n].u.rpc_data.d_offset = pos;
			segs[n].u.rpc_data.d_data.len = (uint32_t)got;
			segs[n].u.rpc_data.d_data.val = buf;
			budget -= SEGMENT_OVERHEAD + 4 + XDR_ROUNDUP(got);
			n++;
			pos += got;
		}
	}
	ok->rpr_contents.len = n;
	ok->rpr_contents.val = segs;
	ok->rpr_eof = pos >= at.size;
	return NFS4_OK;
}
