/*
 * server/nfs4_compound.c: program 100003 version 4 (NULL and COMPOUND) and
 * the COMPOUND loop (RFC 8881 §16.2, §2.10.6 for the reply cache).
 *
 * A tag that is not valid UTF-8 ends the compound before its first
 * operation (NFS4ERR_INVAL). For each operation: read its number, find it
 * in the one table (nfs4_ops.c), apply the order rules the table's flags
 * name, decode its arguments, call the handler, encode the result, stop at
 * the first error.
 * The reply size is checked against the session's limits before an
 * operation runs (from the table's estimate) and after it is encoded.
 * SEQUENCE decides whether the compound is a replay; a replay sends the
 * slot's cached bytes instead of executing anything; a new request's reply is
 * kept in the slot when the client asked for it (sa_cachethis).
 * Calls: the op table and handlers, nfs4_session.c (slots, sessions),
 * nfs4_fh.c, server/metrics (per-operation counts, when on). Called by: the
 * RPC layer (dispatch).
 */
#include "server/nfs4_session.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "server/metrics.h"
#include "server/nfs4_attr.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"

#define NFS4_PROGRAM 100003u
#define NFS4_VERSION 4u
#define RPC_REPLY_HDR 24u       /* accepted reply, AUTH_NONE verifier */
#define MAX_TAG 1024u
#define REQUEST_HASH_PREFIX 1024u   /* bytes of the request the retry hash covers */
/* opnum, sessionid, sequenceid, slotid, highest_slotid, cachethis */
#define SEQUENCE_ARGS_LEN (4u + 16u + 4u + 4u + 4u + 4u)

static const struct nfs4_op_desc *op_desc(uint32_t opnum, uint32_t minor)
{
	const struct nfs4_op_desc *d;

	if (opnum >= nfs4_op_table_len)
		return NULL;
	d = &nfs4_op_table[opnum];
	if (!d->name)
		return NULL;
	if ((d->flags & OPF_MINOR_2) && minor < 2)
		return NULL;   /* RFC 7862 ops do not exist in minor version 1 */
	return d;
}

static void cred_from_rpc(struct pmem_cred *pc, const struct rpc_cred *rc)
{
	uint32_t i;

	memset(pc, 0, sizeof(*pc));
	if (rc->flavor != RPC_AUTH_SYS) {
		pc->uid = 65534;   /* AUTH_NONE is nobody until the export squashes */
		pc->gid = 65534;
		return;
	}
	pc->uid = rc->uid;
	pc->gid = rc->gid;
	for (i = 0; i < rc->ngids && i < PMEM_MAX_GROUPS; i++)
		pc->groups[i] = rc->gids[i];
	pc->ngroups = i;
}

/* Bytes of COMPOUND4res so far (with a zero-copy payload) plus the RPC header. */
static size_t reply_size(const struct nfs4_compound_run *run)
{
	const struct rpc_request *req = run->c.req;

	return RPC_REPLY_HDR + (req->res.pos - run->res_start) +
	       rpc_payload_wire_len(&req->payload);
}

static nfsstat4 size_check(const struct nfs4_compound_run *run, size_t extra)
{
	const struct nfs4_compound *c = &run->c;
	size_t need = reply_size(run) + extra;

	if (need > c->resp_limit)
		return NFS4ERR_REP_TOO_BIG;
	if (c->cachethis && c->session &&
	    need > c->session->fore.ca_maxresponsesize_cached)
		return NFS4ERR_REP_TOO_BIG_TO_CACHE;
	return NFS4_OK;
}

/* Every result type begins with its status: the loop writes it there, for
 * whichever arm res carries. */
static void result_set_status(nfs_resop4 *res, nfsstat4 st)
{
	memcpy(&res->u, &st, sizeof(st));
}

/* Encodes res (its resop set); on overflow (buffer or session limit) the
 * result is replaced by a bare error. Returns the status actually sent. */
static nfsstat4 encode_result(struct nfs4_compound_run *run, nfs_resop4 *res, nfsstat4 st)
{
	struct xdr_stream *x = &run->c.req->res;
	size_t start = x->pos;
	nfs_opnum4 opnum = res->resop;
	nfsstat4 over;

	result_set_status(res, st);
	nfs4_op_result_encode(x, res);
	/* a payload this result left outside the stream follows what it encoded */
	if (run->c.req->payload.data && run->c.req->payload.pos == RPC_PAYLOAD_UNPLACED)
		run->c.req->payload.pos = x->pos;
	over = xdr_ok(x) ? size_check(run, 0) : NFS4ERR_REP_TOO_BIG;
	if (over == NFS4_OK)
		return st;
	/* Give back what did not fit and say why, as the RFC asks. */
	x->failed = false;
	x->pos = start;
	if (run->c.req->payload.pos >= start)
		run->c.req->payload = (struct rpc_payload){ .pos = RPC_PAYLOAD_UNPLACED };
	memset(res, 0, sizeof(*res));
	res->resop = opnum;
	result_set_status(res, over);
	nfs4_op_result_encode(x, res);
	return over;
}

/* Encodes an error result for an op whose own result we must not use. */
static nfsstat4 encode_error(struct nfs4_compound_run *run, uint32_t opnum, nfsstat4 st)
{
	nfs_resop4 *res = arena_alloc(run->c.arena, sizeof(*res));

	/* Out of memory: the bare status, every result's error form. */
	if (!res) {
		xdr_put_u32(&run->c.req->res, opnum);
		xdr_put_u32(&run->c.req->res, st);
		return st;
	}
	memset(res, 0, sizeof(*res));
	res->resop = (nfs_opnum4)opnum;
	return encode_result(run, res, st);
}

/* Runs one operation; returns its status. */
static nfsstat4 run_op(struct nfs4_compound_run *run, struct xdr_stream *args)
{
	struct nfs4_compound *c = &run->c;
	const struct nfs4_op_desc *d;
	nfs_argop4 *a;
	nfs_resop4 *res;
	uint32_t opnum;
	nfsstat4 st;

	run->cur_opnum = OP_ILLEGAL;
	run->cur_res = NULL;
	if (!xdr_get_u32(args, &opnum))
		return encode_error(run, OP_ILLEGAL, NFS4ERR_BADXDR);
	d = op_desc(opnum, c->minorversion);
	if (!d)
		return encode_error(run, OP_ILLEGAL, NFS4ERR_OP_ILLEGAL);
	run->cur_opnum = opnum;
	if (c->opindex == 0 && !(d->flags & OPF_SESSIONLESS))
		return encode_error(run, opnum, NFS4ERR_OP_NOT_IN_SESSION);
	if (c->opindex > 0 && (d->flags & OPF_IS_SEQUENCE))
		return encode_error(run, opnum, NFS4ERR_SEQUENCE_POS);
	if (c->opindex == 0 && (d->flags & OPF_SOLE_IF_FIRST) && c->numops > 1)
		return encode_error(run, opnum, NFS4ERR_NOT_ONLY_OP);
	if (!d->handler)
		return encode_error(run, opnum, NFS4ERR_NOTSUPP);
	a = arena_alloc(c->arena, sizeof(*a));
	res = arena_alloc(c->arena, sizeof(*res));
	if (!a || !res)
		return encode_error(run, opnum, NFS4ERR_RESOURCE);
	/* The generated decoder reads the number again and then its arm. */
	args->pos -= 4;
	if (!xdr_dec_nfs_argop4(args, a))
		return encode_error(run, opnum, NFS4ERR_BADXDR);
	if ((d->flags & OPF_NEEDS_CURFH) && c->cur.len == 0)
		return encode_error(run, opnum, NFS4ERR_NOFILEHANDLE);
	st = size_check(run, 4 + d->reply_estimate + (d->payload_estimate ? d->payload_estimate(a) : 0));
	if (st != NFS4_OK)
		return encode_error(run, opnum, st);
	memset(res, 0, sizeof(*res));
	res->resop = (nfs_opnum4)opnum;
	log_trace("nfs4", "xid 0x%08x op %u/%u %s", c->req ? c->req->xid : 0, c->opindex + 1,
		  c->numops, d->name);
	st = d->handler(c, a, res);
	if (st != NFS4_OK && log_get_level() >= LOG_LVL_TRACE) {
		char sn[32];

		log_trace("nfs4", "xid 0x%08x %s: %s", c->req ? c->req->xid : 0, d->name,
			  nfs4_status_name(st, sn, sizeof(sn)));
	}
	run->cur_res = res;
	if (run->replay)
		return NFS4_OK;   /* the caller sends the cached reply instead */
	if (st == NFS4_OK && d->set_current_stateid)
		d->set_current_stateid(c, res);
	return encode_result(run, res, st);
}

/*
 * What a retry must repeat for the reply cache to answer it: the operations
 * after SEQUENCE (with minor version and count). The tag and SEQUENCE's own
 * arguments (sa_cachethis, sa_highest_slotid) may differ in a genuine retry,
 * so they are left out; a different request on the same slot and seqid is
 * still told apart (NFS4ERR_SEQ_FALSE_RETRY). args is at the first op.
 */
static uint64_t request_hash(const struct xdr_stream *args)
{
	const uint8_t *p = args->buf + args->pos;
	size_t n = args->len - args->pos;
	uint32_t op;
	uint64_t h;

	if (n >= SEQUENCE_ARGS_LEN) {
		memcpy(&op, p, 4);
		if (ntohl(op) == OP_SEQUENCE) {
			p += SEQUENCE_ARGS_LEN;
			n -= SEQUENCE_ARGS_LEN;
		}
	}
	/* The operations' headers and the total length tell a false retry from a
	 * true one; hashing a 1 MiB WRITE's data byte by byte cost more than the
	 * WRITE itself (docs/benchmarks.md). Detection is a MAY (RFC 8881
	 * §2.10.6.1.3.1), so a retry differing only deep in the data slips by. */
	h = nfs4_hash_bytes(p, n < REQUEST_HASH_PREFIX ? n : REQUEST_HASH_PREFIX) ^ (uint64_t)n * 0x9e3779b97f4a7c15ull;
	/* minor version and op count sit just before the first op */
	return h ^ nfs4_hash_bytes(args->buf + args->pos - 8, 8) * 31u;
}

/* Copies the slot's cached reply over whatever was encoded. */
static int send_replay(struct nfs4_compound_run *run)
{
	struct rpc_request *req = run->c.req;
	struct nfs4_slot *s = run->c.slot;
	int rc = RPC_SUCCESS;

	pthread_mutex_lock(&run->c.session->lock);
	if (s->reply_len > req->res.len - run->res_start) {
		rc = RPC_SYSTEM_ERR;
	} else {
		memcpy(req->res.buf + run->res_start, s->reply, s->reply_len);
		req->res.pos = run->res_start + s->reply_len;
		req->res.failed = false;
	}
	req->payload = (struct rpc_payload){ .pos = RPC_PAYLOAD_UNPLACED };
	pthread_mutex_unlock(&run->c.session->lock);
	return rc;
}

/* COMPOUND4res from res_start with the payload in place, as the client
 * received it (malloc'd, *len its size); NULL when there is no memory. */
static uint8_t *payload_joined(const struct rpc_request *req, size_t res_start, size_t *len)
{
	struct rpc_reply_msg m = {
		.msg = req->res.buf + res_start, .len = req->res.pos - res_start,
		.payload = req->payload,
	};
	struct iovec iov[4];
	size_t total = 0, off = 0;
	uint8_t *joined;
	int n, i;

	if (m.payload.pos < res_start || m.payload.pos > req->res.pos)
		m.payload.pos = m.len;   /* unplaced: where encoding stopped */
	else
		m.payload.pos -= res_start;
	n = rpc_reply_msg_iov(&m, iov);
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	joined = malloc(total);
	if (!joined)
		return NULL;
	for (i = 0; i < n; i++) {
		memcpy(joined + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	*len = total;
	return joined;
}

/* Keeps the reply in the slot (when asked) and releases it. */
static void finish_slot(struct nfs4_compound_run *run)
{
	struct nfs4_compound *c = &run->c;
	struct rpc_request *req = c->req;
	const uint8_t *bytes = req->res.buf + run->res_start;
	size_t len = req->res.pos - run->res_start, tl = rpc_payload_wire_len(&req->payload);
	uint8_t *joined = NULL;

	if (c->cachethis && tl)
		/* a zero-copy payload lives outside res: the cache needs it too */
		joined = payload_joined(req, run->res_start, &len);
	if (joined)
		bytes = joined;
	/* A SEQUENCE-only compound is always kept (a few dozen bytes), as
	 * knfsd does: a client's lease-renewal retry then needs no special case. */
	pthread_mutex_lock(&c->session->lock);
	nfs4_slot_done(c->slot, bytes, len,
		       (c->cachethis && (!tl || joined)) || (c->numops == 1 && !tl));
	pthread_mutex_unlock(&c->session->lock);
	free(joined);
}

static uint64_t read_plus_data_bytes(const READ_PLUS4res *r)
{
	const read_plus_res4 *ok = &r->u.rp_resok4;
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < ok->rpr_contents.len; i++)
		if (ok->rpr_contents.val[i].rpc_content == NFS4_CONTENT_DATA)
			n += ok->rpr_contents.val[i].u.rpc_data.d_data.len;
	return n;
}

/* The operation run_op just ended: its status and time, and the payload a
 * READ, READ_PLUS or WRITE moved (the only ones that carry data). */
static void count_op(struct nfs4_compound_run *run, nfsstat4 st, uint64_t t0)
{
	uint64_t bytes = 0;
	int write = 0;

	metrics_count_op(run->metrics, run->cur_opnum, st, metrics_now_ns() - t0);
	if (st != NFS4_OK || !run->cur_res)
		return;
	switch (run->cur_opnum) {
	case OP_READ:
		bytes = run->cur_res->u.opread.u.resok4.data.len;
		break;
	case OP_READ_PLUS:
		bytes = read_plus_data_bytes(&run->cur_res->u.opread_plus);
		break;
	case OP_WRITE:
		bytes = run->cur_res->u.opwrite.u.resok4.count;
		write = 1;
		break;
	default:
		return;
	}
	metrics_count_bytes(run->metrics,
			    run->c.req && run->c.req->xprt &&
					    strcmp(run->c.req->xprt->ops->netid, "rdma") == 0
				    ? METRICS_RDMA
				    : METRICS_TCP,
			    write, bytes);
}

static int compound(struct rpc_request *req, struct nfs4_server *srv)
{
	struct nfs4_compound_run run;
	struct nfs4_compound *c = &run.c;
	struct xdr_stream *args = &req->args, *res = &req->res;
	struct xdr_opaque tag;
	size_t count_off;
	nfsstat4 st = NFS4_OK;
	uint32_t i, n = 0;
	int rc = RPC_SUCCESS;

	memset(&run, 0, sizeof(run));
	c->srv = srv;
	if (srv->metrics)
		run.metrics = metrics_thread_block(srv->metrics);
	if (!xdr_get_opaque(args, MAX_TAG, &tag) || !xdr_get_u32(args, &c->minorversion) ||
	    !xdr_get_u32(args, &c->numops))
		return RPC_GARBAGE_ARGS;
	run.req_hash = request_hash(args);
	run.res_start = res->pos;
	c->req = req;
	c->arena = &req->arena;
	c->resp_limit = (uint32_t)req->reply_cap;
	if (req->xprt && req->xprt->max_record && req->xprt->max_record < c->resp_limit)
		c->resp_limit = req->xprt->max_record;
	cred_from_rpc(&c->cred, &req->cred);

	xdr_put_u32(res, NFS4_OK);
	xdr_put_opaque(res, tag.val, tag.len);
	count_off = res->pos;
	xdr_put_u32(res, 0);
	if (c->minorversion < 1 || c->minorversion > 2) {
		st = NFS4ERR_MINOR_VERS_MISMATCH;
		goto patch;
	}
	/* The tag is a utf8str_cs: one that is not UTF-8 gets the tag back with
	 * NFS4ERR_INVAL and no results, before any operation runs (RFC 8881
	 * §16.2.3, §14.4). */
	if (!nfs4_utf8_valid(tag.val, tag.len)) {
		st = NFS4ERR_INVAL;
		goto patch;
	}
	for (i = 0; i < c->numops; i++) {
		uint64_t t0 = run.metrics ? metrics_now_ns() : 0;

		c->opindex = i;
		st = run_op(&run, args);
		if (run.replay) {
			rc = send_replay(&run);
			goto out;
		}
		if (run.metrics)
			count_op(&run, st, t0);
		n++;
		if (st != NFS4_OK)
			break;
	}
patch:
	xdr_patch_u32(res, run.res_start, st);
	xdr_patch_u32(res, count_off, n);
	if (!xdr_ok(res))
		rc = RPC_SYSTEM_ERR;
	if (c->slot)
		finish_slot(&run);
out:
	nfs4_fh_clear(&c->cur);
	nfs4_fh_clear(&c->saved);
	if (c->session) {
		/* No state lock: the slot is the session's, the count of
		 * COMPOUNDs in flight the client's (SEQUENCE took both). */
		if (run.replay) {
			pthread_mutex_lock(&c->session->lock);
			nfs4_slot_done(c->slot, NULL, 0, false);
			pthread_mutex_unlock(&c->session->lock);
		}
		nfs4_client_compound_end(c->client);
		nfs4_session_put(c->session);
	}
	return rc;
}

static int nfs4_dispatch(struct rpc_request *req, void *ctx)
{
	switch (req->proc) {
	case 0:
		return RPC_SUCCESS;
	case 1:
		return compound(req, ctx);
	default:
		return RPC_PROC_UNAVAIL;
	}
}

int nfs4_program_register(struct nfs4_server *srv)
{
	const struct rpc_program prog = {
		.prog = NFS4_PROGRAM,
		.vers_lo = NFS4_VERSION,
		.vers_hi = NFS4_VERSION,
		.nprocs = 2,
		.dispatch = nfs4_dispatch,
		.ctx = srv,   /* copied by the RPC layer */
	};

	return rpc_register_program(&prog);
}
