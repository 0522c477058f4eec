/*
 * tests/proto/lib/nfs4_client.c: the NFSv4.1 test client (see nfs4_client.h).
 *
 * Compounds are encoded with the generated codecs into a malloc'd buffer and
 * sent with proto_rpc; the reply record is kept in the compound so that the
 * decoded results (whose opaques point into it) stay valid until
 * nfs4_cl_compound_free. Backchannel calls are served from proto_rpc's on_call
 * hook, i.e. whenever the client reads the connection.
 * Calls: proto_rpc, generated codecs, libc. Called by: protocol tests.
 */
#include "tests/proto/lib/nfs4_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CL_TIMEOUT_MS 15000
#define CL_SEND_CAP (2u * 1024 * 1024)
#define CL_AUTH_NONE 0u

const char nfs4_cl_open_owner[] = "proto-open-owner";

/* ---- backchannel ---- */

static void cb_reply(struct nfs4_cl *cl, uint32_t xid, uint32_t accept, const void *b, size_t n)
{
	(void)proto_rpc_send_reply(&cl->conn, xid, accept, b, n);
}

/* What the client's slot 0 says to a CB_SEQUENCE (see nfs4_client.h). */
static nfsstat4 cb_slot_verdict(struct nfs4_cl *cl, uint32_t minorversion,
				const CB_SEQUENCE4args *s)
{
	/* (A connection bound to another client's session, or a probe that
	 * overtakes the CREATE_SESSION reply, has no session id to match.) */
	if (minorversion != cl->minorversion ||
	    (cl->have_session && memcmp(s->csa_sessionid, cl->sessionid, sizeof(sessionid4))))
		return NFS4ERR_BADSESSION;
	if (cl->cb_seq_script_pos < cl->cb_seq_script_len) {
		nfsstat4 st = cl->cb_seq_script[cl->cb_seq_script_pos++];

		if (st != NFS4_OK)
			return st;
	} else if (cl->cb_seq_force != NFS4_OK) {
		return cl->cb_seq_force;
	}
	if (s->csa_slotid != 0)
		return NFS4ERR_BADSLOT;
	if (s->csa_sequenceid == cl->cb_slot_seq && cl->cb_slot_seq != 0)
		return NFS4ERR_RETRY_UNCACHED_REP;
	if (s->csa_sequenceid != cl->cb_slot_seq + 1)
		return NFS4ERR_SEQ_MISORDERED;
	cl->cb_slot_seq = s->csa_sequenceid;
	return NFS4_OK;
}

static void cb_compound(struct nfs4_cl *cl, const struct proto_call *call)
{
	struct arena a;
	struct xdr_stream x;
	CB_COMPOUND4args args;
	CB_COMPOUND4res res;
	uint8_t *out = NULL;
	uint32_t i;

	arena_init(&a, 0);
	memset(&res, 0, sizeof(res));
	xdr_init_decode(&x, call->args, call->args_len, &a);
	if (!xdr_dec_CB_COMPOUND4args(&x, &args)) {
		cb_reply(cl, call->xid, RPC_GARBAGE_ARGS, NULL, 0);
		goto out;
	}
	cl->cb_compound_count++;
	cl->cb_last_nops = 0;
	cl->cb_last_minorversion = args.minorversion;
	if (cl->cb_drop_calls > 0) {
		cl->cb_drop_calls--;
		if (args.argarray.len > 0 && args.argarray.val[0].argop == OP_CB_SEQUENCE &&
		    cl->cb_nseqs < sizeof(cl->cb_seqs) / sizeof(cl->cb_seqs[0]))
			cl->cb_seqs[cl->cb_nseqs++] = args.argarray.val[0].u.opcbsequence.csa_sequenceid;
		goto out;
	}
	res.tag = args.tag;
	res.resarray.val = arena_alloc(&a, (args.argarray.len + 1) * sizeof(nfs_cb_resop4));
	if (!res.resarray.val)
		goto out;
	res.status = NFS4_OK;
	for (i = 0; i < args.argarray.len && res.status == NFS4_OK; i++) {
		const nfs_cb_argop4 *op = &args.argarray.val[i];
		nfs_cb_resop4 *r = &res.resarray.val[i];

		if (cl->cb_last_nops < 8)
			cl->cb_last_ops[cl->cb_last_nops++] = op->argop;
		r->resop = op->argop;
		res.resarray.len = i + 1;
		if (op->argop == OP_CB_SEQUENCE) {
			const CB_SEQUENCE4args *s = &op->u.opcbsequence;
			CB_SEQUENCE4resok *ok = &r->u.opcbsequence.u.csr_resok4;
			nfsstat4 st = cb_slot_verdict(cl, args.minorversion, s);

			cl->cb_sequence_count++;
			memcpy(cl->cb_last_sessionid, s->csa_sessionid, sizeof(sessionid4));
			cl->cb_last_seq = s->csa_sequenceid;
			if (cl->cb_nseqs < sizeof(cl->cb_seqs) / sizeof(cl->cb_seqs[0]))
				cl->cb_seqs[cl->cb_nseqs++] = s->csa_sequenceid;
			r->u.opcbsequence.csr_status = st;
			if (st != NFS4_OK) {
				res.status = st;
				break;
			}
			memcpy(ok->csr_sessionid, s->csa_sessionid, sizeof(sessionid4));
			ok->csr_sequenceid = s->csa_sequenceid;
			ok->csr_slotid = s->csa_slotid;
			ok->csr_highest_slotid = 0;
			ok->csr_target_highest_slotid = 0;
			continue;
		}
		cl->cb_other_count++;
		if (cl->cb_op) {
			res.status = cl->cb_op(cl, op, r, &a, cl->cb_op_ctx);
		} else if (op->argop >= OP_CB_GETATTR && op->argop <= OP_CB_NOTIFY_DEVICEID) {
			res.status = NFS4ERR_NOTSUPP;
		} else {
			r->resop = OP_CB_ILLEGAL;
			res.status = NFS4ERR_OP_ILLEGAL;
		}
		/* Every callback result begins with its nfsstat4. */
		*(nfsstat4 *)&r->u = res.status;
	}
	out = malloc(64 * 1024);
	if (!out)
		goto out;
	xdr_init_encode(&x, out, 64 * 1024);
	if (!xdr_enc_CB_COMPOUND4res(&x, &res))
		goto out;
	if (cl->cb_drop_replies > 0) {
		cl->cb_drop_replies--;
		goto out;
	}
	cb_reply(cl, call->xid, RPC_SUCCESS, out, x.pos);
out:
	free(out);
	arena_release(&a);
}

static void cb_on_call(struct proto_conn *c, const struct proto_call *call, void *ctx)
{
	struct nfs4_cl *cl = ctx;

	(void)c;
	if (cl->cb_mode == NFS4_CL_CB_IGNORE)
		return;
	if (cl->cb_mode == NFS4_CL_CB_REJECT || call->prog != cl->cb_program || call->vers != 1) {
		cb_reply(cl, call->xid, RPC_PROG_UNAVAIL, NULL, 0);
		return;
	}
	if (call->proc == 0) {
		cl->cb_null_count++;
		cb_reply(cl, call->xid, RPC_SUCCESS, NULL, 0);
	} else if (call->proc == 1) {
		cb_compound(cl, call);
	} else {
		cb_reply(cl, call->xid, RPC_PROC_UNAVAIL, NULL, 0);
	}
}

int nfs4_cl_poll(struct nfs4_cl *cl, int ms, bool until_one)
{
	struct timespec t0, t;
	int handled = 0, saved = cl->conn.timeout_ms, rc = 0;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct proto_call *call = NULL;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		cl->conn.timeout_ms = (int)left;
		rc = proto_rpc_recv_call(&cl->conn, &call);
		if (rc == -ETIMEDOUT) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		cb_on_call(&cl->conn, call, cl);
		proto_call_free(call);
		handled++;
		if (until_one)
			break;
	}
	cl->conn.timeout_ms = saved;
	return rc < 0 ? rc : handled;
}

/* ---- compounds ---- */

void nfs4_cl_compound_init(struct nfs4_cl_compound *cp, struct nfs4_cl *cl)
{
	memset(cp, 0, sizeof(*cp));
	cp->cl = cl;
	arena_init(&cp->arena, 0);
	cp->minorversion = cl->minorversion;
	snprintf(cp->tag, sizeof(cp->tag), "proto");
}

void nfs4_cl_compound_free(struct nfs4_cl_compound *cp)
{
	if (cp->have_reply)
		proto_reply_free(&cp->reply);
	cp->have_reply = false;
	arena_release(&cp->arena);
}

nfs_argop4 *nfs4_cl_add(struct nfs4_cl_compound *cp, nfs_opnum4 op)
{
	nfs_argop4 *a;

	if (cp->nops >= NFS4_CL_MAX_OPS)
		return NULL;
	a = &cp->ops[cp->nops++];
	memset(a, 0, sizeof(*a));
	a->argop = op;
	return a;
}

static bool cl_uses_sequence(const struct nfs4_cl_compound *cp)
{
	return !cp->no_sequence && cp->cl->have_session;
}

int nfs4_cl_encode(struct nfs4_cl_compound *cp, uint8_t *buf, size_t cap)
{
	struct nfs4_cl *cl = cp->cl;
	nfs_argop4 all[NFS4_CL_MAX_OPS + 1];
	COMPOUND4args args;
	struct xdr_stream x;
	uint32_t n = 0, i;

	if (cl_uses_sequence(cp)) {
		SEQUENCE4args *s = &all[0].u.opsequence;

		memset(&all[0], 0, sizeof(all[0]));
		all[0].argop = OP_SEQUENCE;
		if (!cp->seq_override)
			cp->seqid = cl->slot_seq[cp->slot < NFS4_CL_MAX_SLOTS ? cp->slot : 0] + 1;
		memcpy(s->sa_sessionid, cl->sessionid, sizeof(sessionid4));
		s->sa_sequenceid = cp->seqid;
		s->sa_slotid = cp->slot;
		s->sa_highest_slotid = cp->slot;
		s->sa_cachethis = cp->cachethis;
		n = 1;
	}
	for (i = 0; i < cp->nops; i++)
		all[n++] = cp->ops[i];
	memset(&args, 0, sizeof(args));
	args.tag.val = (uint8_t *)cp->tag;
	args.tag.len = (uint32_t)strlen(cp->tag);
	args.minorversion = cp->minorversion;
	args.argarray.len = n;
	args.argarray.val = all;
	xdr_init_encode(&x, buf, cap);
	if (!xdr_enc_COMPOUND4args(&x, &args))
		return -ENOSPC;
	return (int)x.pos;
}

/* Decodes the reply of a COMPOUND call into cp and updates the slot. */
static int cl_decode(struct nfs4_cl_compound *cp, bool sent_sequence)
{
	struct nfs4_cl *cl = cp->cl;
	struct xdr_stream x;
	COMPOUND4res res;

	cp->accept_stat = cp->reply.reply_stat == RPC_MSG_ACCEPTED ? cp->reply.accept_stat : 0xffffffffu;
	cl->last_reply_stat = cp->reply.reply_stat;
	cl->last_accept_stat = cp->accept_stat;
	if (cp->accept_stat != RPC_SUCCESS)
		return 0;
	xdr_init_decode(&x, cp->reply.body, cp->reply.body_len, &cp->arena);
	if (!xdr_dec_COMPOUND4res(&x, &res))
		return -EPROTO;
	cp->status = res.status;
	cp->res_tag = res.tag;
	cp->nres = res.resarray.len;
	cp->res = res.resarray.val;
	if (sent_sequence && cp->nres > 0 && cp->res[0].resop == OP_SEQUENCE &&
	    cp->res[0].u.opsequence.sr_status == NFS4_OK) {
		const SEQUENCE4resok *ok = &cp->res[0].u.opsequence.u.sr_resok4;

		if (!cp->keep_seq && cp->slot < NFS4_CL_MAX_SLOTS)
			cl->slot_seq[cp->slot] = cp->seqid;
		cl->last_status_flags = ok->sr_status_flags;
		cl->last_highest_slotid = ok->sr_highest_slotid;
		cl->last_target_highest_slotid = ok->sr_target_highest_slotid;
	}
	return 0;
}

/* Forgets the results of cp's last call, before the next one. */
static void cl_results_reset(struct nfs4_cl_compound *cp)
{
	if (cp->have_reply) {
		proto_reply_free(&cp->reply);
		cp->have_reply = false;
	}
	cp->status = NFS4ERR_SERVERFAULT;
	cp->nres = 0;
	cp->res = NULL;
}

static int cl_call(struct nfs4_cl_compound *cp, const void *args, size_t len, bool sent_sequence)
{
	int rc;

	cl_results_reset(cp);
	rc = proto_rpc_call(&cp->cl->conn, NFS4_CL_PROGRAM, 4, 1, &cp->cl->cred, args, len,
			    &cp->reply);
	cp->cl->last_rpc_rc = rc;
	if (rc < 0) {
		cp->rpc_status = rc;
		return rc;
	}
	cp->have_reply = true;
	rc = cl_decode(cp, sent_sequence);
	cp->rpc_status = rc;
	if (rc < 0 && getenv("NFS4_CL_DUMP")) {
		/* a reply this library cannot decode: its bytes, for the record */
		fprintf(stderr, "nfs4_cl: undecodable reply (%d), %u bytes:", rc,
			(unsigned)cp->reply.body_len);
		for (uint32_t i = 0; i < cp->reply.body_len; i++)
			fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ",
				((const uint8_t *)cp->reply.body)[i]);
		fprintf(stderr, "\n");
	}
	return rc;
}

int nfs4_cl_start(struct nfs4_cl_compound *cp, const void *args, size_t len)
{
	struct nfs4_cl *cl = cp->cl;
	int rc;

	cl_results_reset(cp);
	cp->sent_sequence = cl_uses_sequence(cp);
	cp->xid = proto_next_xid(&cl->conn);
	rc = proto_rpc_send_call(&cl->conn, cp->xid, NFS4_CL_PROGRAM, 4, 1, &cl->cred, args, len);
	cl->last_rpc_rc = rc;
	cp->rpc_status = rc < 0 ? rc : 0;
	cp->in_flight = rc >= 0;
	return rc < 0 ? rc : 0;
}

int nfs4_cl_finish_any(struct nfs4_cl_compound *const *cps, int n)
{
	struct proto_reply rep;
	int i, rc;

	if (n <= 0)
		return -EINVAL;
	rc = proto_rpc_recv_reply(&cps[0]->cl->conn, &rep);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (cps[i]->in_flight && cps[i]->xid == rep.xid)
			break;
	if (i == n) {
		proto_reply_free(&rep);
		return -EPROTO;
	}
	cps[i]->in_flight = false;
	cps[i]->reply = rep;
	cps[i]->have_reply = true;
	rc = cl_decode(cps[i], cps[i]->sent_sequence);
	cps[i]->rpc_status = rc;
	return rc < 0 ? rc : i;
}

int nfs4_cl_send(struct nfs4_cl_compound *cp)
{
	uint8_t *buf = malloc(CL_SEND_CAP);
	int len, rc;

	if (!buf)
		return -ENOMEM;
	len = nfs4_cl_encode(cp, buf, CL_SEND_CAP);
	rc = len < 0 ? len : cl_call(cp, buf, (size_t)len, cl_uses_sequence(cp));
	free(buf);
	return rc;
}

int nfs4_cl_send_raw(struct nfs4_cl_compound *cp, const void *args, size_t args_len)
{
	/* Bytes from nfs4_cl_encode carry cp->seqid: advance the slot as usual. */
	return cl_call(cp, args, args_len, cl_uses_sequence(cp));
}

nfs_resop4 *nfs4_cl_res(struct nfs4_cl_compound *cp, nfs_opnum4 op)
{
	uint32_t i;

	for (i = 0; i < cp->nres; i++)
		if (cp->res[i].resop == (uint32_t)op)
			return &cp->res[i];
	return NULL;
}

nfsstat4 nfs4_cl_last_status(const struct nfs4_cl_compound *cp)
{
	if (!cp->nres)
		return cp->status;
	/* Every result type begins with its nfsstat4. */
	return *(const nfsstat4 *)&cp->res[cp->nres - 1].u;
}

uint32_t nfs4_cl_last_op(const struct nfs4_cl_compound *cp)
{
	return cp->nres ? cp->res[cp->nres - 1].resop : 0;
}

/* ---- common sequences ---- */

static struct xdr_opaque cl_str(struct nfs4_cl_compound *cp, const char *s, size_t n)
{
	struct xdr_opaque o;

	o.val = (uint8_t *)arena_memdup(&cp->arena, s, n ? n : 1);
	o.len = o.val ? (uint32_t)n : 0;
	return o;
}

void nfs4_cl_add_path(struct nfs4_cl_compound *cp, const char *path)
{
	const char *p = path, *e;
	nfs_argop4 *a;

	nfs4_cl_add(cp, OP_PUTROOTFH);
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		a = nfs4_cl_add(cp, OP_LOOKUP);
		if (a)
			a->u.oplookup.objname = cl_str(cp, p, (size_t)(e - p));
		p = e;
	}
}

static bitmap4 cl_bitmap(struct nfs4_cl_compound *cp, uint32_t w0, uint32_t w1)
{
	bitmap4 b;

	b.val = arena_alloc(&cp->arena, 2 * sizeof(uint32_t));
	b.len = b.val ? 2 : 0;
	if (b.val) {
		b.val[0] = w0;
		b.val[1] = w1;
	}
	return b;
}

void nfs4_cl_add_getattr(struct nfs4_cl_compound *cp, uint32_t w0, uint32_t w1)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_GETATTR);

	if (a)
		a->u.opgetattr.attr_request = cl_bitmap(cp, w0, w1);
}

static void cl_open_common(struct nfs4_cl_compound *cp, OPEN4args *o, uint32_t access, uint32_t deny)
{
	o->seqid = 0;
	o->share_access = access;
	o->share_deny = deny;
	o->owner.clientid = cp->cl->clientid;
	o->owner.owner = cl_str(cp, nfs4_cl_open_owner, strlen(nfs4_cl_open_owner));
}

void nfs4_cl_add_open(struct nfs4_cl_compound *cp, const char *name, bool create,
		      uint32_t share_access, uint32_t share_deny)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_OPEN);
	OPEN4args *o;

	if (!a)
		return;
	o = &a->u.opopen;
	cl_open_common(cp, o, share_access, share_deny);
	if (create) {
		uint8_t *mode = arena_alloc(&cp->arena, 4);

		o->openhow.opentype = OPEN4_CREATE;
		o->openhow.u.how.mode = UNCHECKED4;
		/* FATTR4_MODE is attribute 33: word 1, bit 1 */
		o->openhow.u.how.u.createattrs.attrmask = cl_bitmap(cp, 0, 1u << (FATTR4_MODE - 32));
		if (mode) {
			mode[2] = 0x01;   /* 0644 = 0x1a4, big-endian */
			mode[3] = 0xa4;
		}
		o->openhow.u.how.u.createattrs.attr_vals.val = mode;
		o->openhow.u.how.u.createattrs.attr_vals.len = mode ? 4 : 0;
	} else {
		o->openhow.opentype = OPEN4_NOCREATE;
	}
	o->claim.claim = CLAIM_NULL;
	o->claim.u.file = cl_str(cp, name, strlen(name));
}

void nfs4_cl_add_open_reclaim(struct nfs4_cl_compound *cp, uint32_t share_access)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_OPEN);

	if (!a)
		return;
	cl_open_common(cp, &a->u.opopen, share_access, OPEN4_SHARE_DENY_NONE);
	a->u.opopen.openhow.opentype = OPEN4_NOCREATE;
	a->u.opopen.claim.claim = CLAIM_PREVIOUS;
	a->u.opopen.claim.u.delegate_type = OPEN_DELEGATE_NONE;
}

void nfs4_cl_add_close(struct nfs4_cl_compound *cp, const stateid4 *sid)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_CLOSE);

	if (a)
		a->u.opclose.open_stateid = *sid;
}

void nfs4_cl_add_read(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		      uint32_t count)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_READ);

	if (!a)
		return;
	a->u.opread.stateid = *sid;
	a->u.opread.offset = off;
	a->u.opread.count = count;
}

void nfs4_cl_add_write(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		       const void *data, uint32_t len, stable_how4 how)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_WRITE);

	if (!a)
		return;
	a->u.opwrite.stateid = *sid;
	a->u.opwrite.offset = off;
	a->u.opwrite.stable = how;
	a->u.opwrite.data = cl_str(cp, data, len);
}

nfsstat4 nfs4_cl_open_file(struct nfs4_cl *cl, const char *path, bool create,
			   uint32_t share_access, uint32_t share_deny,
			   stateid4 *sid, nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	const char *slash = strrchr(path, '/');
	char dir[1024];
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	nfs4_cl_add_path(&cp, dir);
	nfs4_cl_add_open(&cp, slash ? slash + 1 : path, create, share_access, share_deny);
	nfs4_cl_add(&cp, OP_GETFH);
	if (nfs4_cl_send(&cp) < 0 || cp.accept_stat != RPC_SUCCESS) {
		st = NFS4ERR_SERVERFAULT;
		goto out;
	}
	st = cp.status;
	if (st != NFS4_OK)
		goto out;
	r = nfs4_cl_res(&cp, OP_OPEN);
	if (sid && r)
		*sid = r->u.opopen.u.resok4.stateid;
	r = nfs4_cl_res(&cp, OP_GETFH);
	if (fh && r) {
		const nfs_fh4 *o = &r->u.opgetfh.u.resok4.object;

		fh->len = o->len;
		fh->val = malloc(o->len ? o->len : 1);
		if (!fh->val) {
			st = NFS4ERR_SERVERFAULT;
			goto out;
		}
		memcpy(fh->val, o->val, o->len);
	}
out:
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_delegreturn(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	a = nfs4_cl_add(&cp, OP_DELEGRETURN);
	a->u.opdelegreturn.deleg_stateid = *sid;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_close_file(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = nfs4_cl_add(&cp, OP_PUTFH);
	a->u.opputfh.object = *fh;
	nfs4_cl_add_close(&cp, sid);
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

/* ---- clients and sessions ---- */

static void cl_default_attrs(struct nfs4_cl *cl)
{
	channel_attrs4 *f = &cl->want_fore, *b = &cl->want_back;

	memset(f, 0, sizeof(*f));
	memset(b, 0, sizeof(*b));
	f->ca_maxrequestsize = 1024 * 1024 + 4096;
	f->ca_maxresponsesize = 1024 * 1024 + 4096;
	f->ca_maxresponsesize_cached = 64 * 1024;
	f->ca_maxoperations = 32;
	f->ca_maxrequests = 16;
	b->ca_maxrequestsize = 4096;
	b->ca_maxresponsesize = 4096;
	b->ca_maxresponsesize_cached = 0;
	b->ca_maxoperations = 4;
	b->ca_maxrequests = 1;
}

int nfs4_cl_connect(struct nfs4_cl **out, const char *host, uint16_t port)
{
	struct nfs4_cl *cl = calloc(1, sizeof(*cl));
	int rc;

	if (!cl)
		return -ENOMEM;
	rc = proto_connect(&cl->conn, host, port, CL_TIMEOUT_MS);
	if (rc < 0) {
		free(cl);
		return rc;
	}
	proto_cred_sys(&cl->cred, 0, 0);
	cl->minorversion = 1;
	cl->cb_program = NFS4_CL_CB_PROGRAM;
	cl->conn.on_call = cb_on_call;
	cl->conn.on_call_ctx = cl;
	cl_default_attrs(cl);
	nfs4_cl_set_owner(cl, "proto-client", 1);
	*out = cl;
	return 0;
}

void nfs4_cl_set_owner(struct nfs4_cl *cl, const char *owner, uint64_t verf)
{
	int i;

	snprintf(cl->owner, sizeof(cl->owner), "%s", owner);
	for (i = 0; i < 8; i++)
		cl->verifier[i] = (uint8_t)(verf >> (56 - 8 * i));
}

nfsstat4 nfs4_cl_exchange_id(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.no_sequence = true;
	a = nfs4_cl_add(&cp, OP_EXCHANGE_ID);
	memcpy(a->u.opexchange_id.eia_clientowner.co_verifier, cl->verifier, sizeof(verifier4));
	a->u.opexchange_id.eia_clientowner.co_ownerid = cl_str(&cp, cl->owner, strlen(cl->owner));
	a->u.opexchange_id.eia_flags = cl->eia_flags;
	a->u.opexchange_id.eia_state_protect.spa_how = SP4_NONE;
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	r = nfs4_cl_res(&cp, OP_EXCHANGE_ID);
	if (st == NFS4_OK && r) {
		const EXCHANGE_ID4resok *ok = &r->u.opexchange_id.u.eir_resok4;

		cl->clientid = ok->eir_clientid;
		cl->create_seq = ok->eir_sequenceid;
		cl->eir_flags = ok->eir_flags;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_create_session(struct nfs4_cl *cl, bool back)
{
	struct nfs4_cl_compound cp;
	CREATE_SESSION4args *cs;
	nfs_argop4 *a;
	nfs_resop4 *r;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.no_sequence = true;
	a = nfs4_cl_add(&cp, OP_CREATE_SESSION);
	cs = &a->u.opcreate_session;
	cs->csa_clientid = cl->clientid;
	cs->csa_sequence = cl->create_seq;
	cs->csa_flags = (back ? CREATE_SESSION4_FLAG_CONN_BACK_CHAN : 0) | cl->csa_flags_extra;
	cs->csa_fore_chan_attrs = cl->want_fore;
	cs->csa_back_chan_attrs = cl->want_back;
	cs->csa_cb_program = cl->cb_program;
	if (cl->cb_sec) {
		cs->csa_sec_parms.val = (callback_sec_parms4 *)cl->cb_sec;
		cs->csa_sec_parms.len = cl->n_cb_sec;
	} else {
		cs->csa_sec_parms.val = arena_alloc(&cp.arena, sizeof(callback_sec_parms4));
	}
	if (!cl->cb_sec && cs->csa_sec_parms.val) {
		cs->csa_sec_parms.len = 1;
		cs->csa_sec_parms.val[0].cb_secflavor = CL_AUTH_NONE;
	}
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	r = nfs4_cl_res(&cp, OP_CREATE_SESSION);
	if (st == NFS4_OK && r) {
		const CREATE_SESSION4resok *ok = &r->u.opcreate_session.u.csr_resok4;

		memcpy(cl->sessionid, ok->csr_sessionid, sizeof(sessionid4));
		cl->fore = ok->csr_fore_chan_attrs;
		cl->back = ok->csr_back_chan_attrs;
		cl->fore.ca_rdma_ird.len = 0;
		cl->fore.ca_rdma_ird.val = NULL;
		cl->back.ca_rdma_ird.len = 0;
		cl->back.ca_rdma_ird.val = NULL;
		cl->nslots = cl->fore.ca_maxrequests;
		if (cl->nslots > NFS4_CL_MAX_SLOTS)
			cl->nslots = NFS4_CL_MAX_SLOTS;
		memset(cl->slot_seq, 0, sizeof(cl->slot_seq));
		cl->have_session = true;
		cl->create_seq++;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

int nfs4_cl_open_session(struct nfs4_cl **out, const char *host, uint16_t port,
			 const char *owner, uint32_t flags)
{
	struct nfs4_cl *cl;
	nfsstat4 st;
	int rc = nfs4_cl_connect(&cl, host, port);
	struct timespec ts;

	if (rc < 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &ts);
	nfs4_cl_set_owner(cl, owner, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	st = nfs4_cl_exchange_id(cl);
	if (st == NFS4_OK && !(flags & NFS4_CL_NO_SESSION))
		st = nfs4_cl_create_session(cl, flags & NFS4_CL_BACKCHANNEL);
	if (st != NFS4_OK) {
		nfs4_cl_close(cl, false);
		return (int)st;
	}
	*out = cl;
	return 0;
}

int nfs4_cl_open_session_cb(struct nfs4_cl **out, const char *host, uint16_t port,
			    const char *owner, uint32_t minor, nfs4_cl_cb_op_fn cb_op, void *ctx)
{
	struct nfs4_cl *cl = NULL;
	struct timespec ts;
	int rc = nfs4_cl_connect(&cl, host, port);

	if (rc < 0)
		return rc;
	cl->minorversion = minor;
	clock_gettime(CLOCK_REALTIME, &ts);
	nfs4_cl_set_owner(cl, owner, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	cl->cb_op = cb_op;
	cl->cb_op_ctx = ctx;
	if (nfs4_cl_exchange_id(cl) != NFS4_OK || nfs4_cl_create_session(cl, true) != NFS4_OK ||
	    nfs4_cl_reclaim_complete(cl) != NFS4_OK) {
		rc = -EPROTO;
		goto fail;
	}
	/* The session's first SEQUENCE (the RECLAIM_COMPLETE, as the Linux
	 * client sends it) starts the server's probe; the path is up once the
	 * server has the probe's answer: a few round trips after the client
	 * answered CB_SEQUENCE (0.5 s: enough under valgrind too). */
	for (int ms = 0; cl->cb_sequence_count == 0 && ms < 10000; ms += 100)
		if (nfs4_cl_poll(cl, 100, true) < 0) {
			rc = -EIO;
			goto fail;
		}
	if (cl->cb_sequence_count != 1) {
		rc = -ETIMEDOUT;
		goto fail;
	}
	for (int i = 0; i < 10; i++) {
		usleep(50000);
		if (nfs4_cl_sequence(cl) != NFS4_OK) {
			rc = -EPROTO;
			goto fail;
		}
	}
	*out = cl;
	return 0;
fail:
	nfs4_cl_close(cl, false);
	return rc;
}

static nfsstat4 cl_simple(struct nfs4_cl *cl, nfs_opnum4 op, bool sequence, nfs_argop4 **argp,
			  struct nfs4_cl_compound *cp)
{
	nfs4_cl_compound_init(cp, cl);
	cp->no_sequence = !sequence;
	*argp = nfs4_cl_add(cp, op);
	return NFS4_OK;
}

nfsstat4 nfs4_cl_destroy_session(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	cl_simple(cl, OP_DESTROY_SESSION, false, &a, &cp);
	memcpy(a->u.opdestroy_session.dsa_sessionid, cl->sessionid, sizeof(sessionid4));
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK)
		cl->have_session = false;
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_destroy_clientid(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	cl_simple(cl, OP_DESTROY_CLIENTID, false, &a, &cp);
	a->u.opdestroy_clientid.dca_clientid = cl->clientid;
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_reclaim_complete(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	nfsstat4 st;

	cl_simple(cl, OP_RECLAIM_COMPLETE, true, &a, &cp);
	a->u.opreclaim_complete.rca_one_fs = false;
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

nfsstat4 nfs4_cl_sequence(struct nfs4_cl *cl)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	st = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

void nfs4_cl_close(struct nfs4_cl *cl, bool tidy)
{
	if (!cl)
		return;
	if (tidy) {
		if (cl->have_session)
			(void)nfs4_cl_destroy_session(cl);
		(void)nfs4_cl_destroy_clientid(cl);
	}
	proto_close(&cl->conn);
	free(cl);
}

nfsstat4 nfs4_cl_bind_conn(struct nfs4_cl *cl, channel_dir_from_client4 dir)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *op;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	cp.no_sequence = true;   /* BIND_CONN_TO_SESSION must be the only op */
	op = nfs4_cl_add(&cp, OP_BIND_CONN_TO_SESSION);
	memcpy(op->u.opbind_conn_to_session.bctsa_sessid, cl->sessionid, sizeof(sessionid4));
	op->u.opbind_conn_to_session.bctsa_dir = dir;
	st = nfs4_cl_send(&cp) == 0 ? cp.status : NFS4ERR_SERVERFAULT;
	nfs4_cl_compound_free(&cp);
	return st;
}
