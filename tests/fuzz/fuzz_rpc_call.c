/*
 * tests/fuzz/fuzz_rpc_call.c: libFuzzer target for the ONC RPC call header
 * and the AUTH_SYS credential (rpc/rpc.c, RFC 5531 §9 and appendix A),
 * and the replies the RPC layer forms for what it refuses.
 *
 * Input: one received record. Three uses of it:
 *   1. rpc_decode_call, compared with a model of RFC 5531 written here from
 *      the RFC (verdict, xid, program, version, procedure, credential
 *      fields, where the arguments start): the decoder and the model must
 *      agree on every record;
 *   2. rpc_decode_authsys on the whole input as a credential body, against
 *      the same model;
 *   3. rpc_serve_record on an in-memory transport with one test program
 *      registered (400100, versions 1-2, procedures 0-2): the reply sent
 *      must be exactly the one RFC 5531 prescribes for the verdict (none for
 *      a record without an xid or for a REPLY nobody waits for), carry the
 *      call's xid, and leave the transport's reference count as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "tests/fuzz/fuzz_common.h"

#define TEST_PROG 400100u
#define TEST_VERS_LO 1u
#define TEST_VERS_HI 2u
#define TEST_NPROCS 3u
#define ECHO_MAX 64u

static struct fuzz_xprt fx;
static uint8_t reply_buf[64 * 1024];

/* ---- the test program ---- */

/* proc 0: void. proc 1: u32 n, opaque<64> s -> n + 1, s (GARBAGE_ARGS when
 * they do not decode). proc 2: the rest of the arguments echoed as a
 * zero-copy payload after a u32 count. */
static int test_dispatch(struct rpc_request *req, void *ctx)
{
	struct xdr_opaque s;
	uint32_t n;
	size_t rest;

	(void)ctx;
	switch (req->proc) {
	case 0:
		return RPC_SUCCESS;
	case 1:
		if (!xdr_get_u32(&req->args, &n) || !xdr_get_opaque(&req->args, ECHO_MAX, &s))
			return RPC_GARBAGE_ARGS;
		xdr_put_u32(&req->res, n + 1);
		xdr_put_xopaque(&req->res, &s);
		return RPC_SUCCESS;
	default:
		rest = xdr_remaining(&req->args);
		xdr_put_u32(&req->res, (uint32_t)rest);
		req->payload.data = req->args.buf + req->args.pos;
		req->payload.len = rest;
		return RPC_SUCCESS;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct rpc_program prog = {
		.prog = TEST_PROG, .vers_lo = TEST_VERS_LO, .vers_hi = TEST_VERS_HI,
		.nprocs = TEST_NPROCS, .dispatch = test_dispatch, .ctx = NULL,
	};

	(void)argc;
	(void)argv;
	fuzz_xprt_init(&fx, NULL, NULL);
	fuzz_check(rpc_register_program(&prog) == 0, "cannot register the test program");
	return 0;
}

/* ---- the model (RFC 5531 read directly) ---- */

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

static bool rd_u32(struct reader *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return false;
	*v = fuzz_get_be32(r->p + r->pos);
	r->pos += 4;
	return true;
}

/* opaque<max>: length, bytes, padding to 4. */
static bool rd_opaque(struct reader *r, uint32_t max, const uint8_t **val, uint32_t *len)
{
	size_t padded;

	if (!rd_u32(r, len) || *len > max)
		return false;
	padded = ((size_t)*len + 3) & ~(size_t)3;
	if (r->len - r->pos < padded)
		return false;
	*val = r->p + r->pos;
	r->pos += padded;
	return true;
}

/* authsys_parms: stamp, machinename<255>, uid, gid, gids<16>, nothing after. */
static bool model_authsys(const uint8_t *body, size_t len, struct rpc_cred *c)
{
	struct reader r = { body, len, 0 };
	const uint8_t *name;
	uint32_t nlen;

	memset(c, 0, sizeof(*c));
	if (!rd_u32(&r, &c->stamp) || !rd_opaque(&r, 255, &name, &nlen) || !rd_u32(&r, &c->uid) ||
	    !rd_u32(&r, &c->gid) || !rd_u32(&r, &c->ngids) || c->ngids > RPC_AUTH_SYS_MAX_GIDS)
		return false;
	for (uint32_t i = 0; i < c->ngids; i++)
		if (!rd_u32(&r, &c->gids[i]))
			return false;
	memcpy(c->machinename, name, nlen);
	return r.pos == len;
}

static void same_authsys(const struct rpc_cred *want, const struct rpc_cred *got)
{
	fuzz_check(got->stamp == want->stamp && got->uid == want->uid && got->gid == want->gid,
		   "AUTH_SYS stamp/uid/gid differ from the model");
	fuzz_check(got->ngids == want->ngids &&
		   memcmp(got->gids, want->gids, want->ngids * sizeof(uint32_t)) == 0,
		   "AUTH_SYS gids differ from the model");
	/* a name holding a NUL reads shorter as a C string: compare what C sees */
	fuzz_check(strnlen(got->machinename, sizeof(got->machinename)) < sizeof(got->machinename),
		   "machinename not NUL-terminated");
	fuzz_check(strcmp(got->machinename, want->machinename) == 0,
		   "AUTH_SYS machinename differs from the model");
}

static enum rpc_hdr_verdict model_call(const uint8_t *rec, size_t len, struct rpc_call_hdr *h,
				       uint32_t *auth_stat)
{
	struct reader r = { rec, len, 0 };
	const uint8_t *cred, *verf;
	uint32_t mtype, clen, vflavor, vlen;

	memset(h, 0, sizeof(*h));
	*auth_stat = RPC_AUTH_OK;
	if (!rd_u32(&r, &h->xid) || !rd_u32(&r, &mtype))
		return RPC_HDR_DROP;
	if (mtype != RPC_CALL)
		return RPC_HDR_NOT_CALL;
	if (!rd_u32(&r, &h->rpcvers))
		return RPC_HDR_GARBAGE;
	if (h->rpcvers != 2)
		return RPC_HDR_RPC_MISMATCH;
	if (!rd_u32(&r, &h->prog) || !rd_u32(&r, &h->vers) || !rd_u32(&r, &h->proc))
		return RPC_HDR_GARBAGE;
	*auth_stat = RPC_AUTH_BADCRED;
	if (!rd_u32(&r, &h->cred.flavor) || !rd_opaque(&r, RPC_MAX_AUTH_BYTES, &cred, &clen))
		return RPC_HDR_AUTH_ERROR;
	*auth_stat = RPC_AUTH_BADVERF;
	if (!rd_u32(&r, &vflavor) || !rd_opaque(&r, RPC_MAX_AUTH_BYTES, &verf, &vlen) ||
	    vflavor != RPC_AUTH_NONE)
		return RPC_HDR_AUTH_ERROR;
	*auth_stat = RPC_AUTH_BADCRED;
	if (h->cred.flavor == RPC_AUTH_NONE && clen != 0)
		return RPC_HDR_AUTH_ERROR;
	if (h->cred.flavor == RPC_AUTH_SYS) {
		uint32_t flavor = h->cred.flavor;

		if (!model_authsys(cred, clen, &h->cred))
			return RPC_HDR_AUTH_ERROR;
		h->cred.flavor = flavor;
	} else if (h->cred.flavor != RPC_AUTH_NONE) {
		return RPC_HDR_AUTH_ERROR;
	}
	memcpy(h->cred.raw, cred, clen);
	h->cred.raw_len = clen;
	*auth_stat = RPC_AUTH_OK;
	h->args_off = r.pos;
	return RPC_HDR_OK;
}

/* ---- the reply RFC 5531 prescribes ---- */

struct expected {
	bool sent;
	uint32_t words[8];   /* after the xid */
	unsigned nwords;
	bool exact_len;      /* false: a successful reply with results after the words */
};

static void expect(struct expected *e, unsigned n, const uint32_t *w)
{
	e->sent = true;
	e->nwords = n;
	memcpy(e->words, w, n * sizeof(uint32_t));
	e->exact_len = true;
}

static void expected_reply(enum rpc_hdr_verdict v, const struct rpc_call_hdr *h, uint32_t auth_stat,
			   const uint8_t *rec, size_t len, struct expected *e)
{
	memset(e, 0, sizeof(*e));
	switch (v) {
	case RPC_HDR_DROP:
	case RPC_HDR_NOT_CALL:
		return;   /* nothing to answer; a REPLY finds no waiting call here */
	case RPC_HDR_RPC_MISMATCH:
		expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_DENIED, RPC_MISMATCH, 2, 2 });
		return;
	case RPC_HDR_AUTH_ERROR:
		expect(e, 4, (const uint32_t[]){ RPC_REPLY, RPC_MSG_DENIED, RPC_AUTH_ERROR, auth_stat });
		return;
	case RPC_HDR_GARBAGE:
		expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0, RPC_GARBAGE_ARGS });
		return;
	case RPC_HDR_OK:
		break;
	}
	if (h->prog != TEST_PROG) {
		expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0, RPC_PROG_UNAVAIL });
	} else if (h->vers < TEST_VERS_LO || h->vers > TEST_VERS_HI) {
		expect(e, 7, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0, RPC_PROG_MISMATCH,
						 TEST_VERS_LO, TEST_VERS_HI });
	} else if (h->proc >= TEST_NPROCS) {
		expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0, RPC_PROC_UNAVAIL });
	} else {
		struct reader r = { rec, len, h->args_off };
		const uint8_t *s;
		uint32_t n, slen;

		if (h->proc == 1 && !(rd_u32(&r, &n) && rd_opaque(&r, ECHO_MAX, &s, &slen))) {
			expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0,
							 RPC_GARBAGE_ARGS });
			return;
		}
		expect(e, 5, (const uint32_t[]){ RPC_REPLY, RPC_MSG_ACCEPTED, 0, 0, RPC_SUCCESS });
		e->exact_len = h->proc == 0;
	}
}

static void check_reply(const struct expected *e, uint32_t xid)
{
	if (!e->sent) {
		fuzz_check(fx.nsent == 0, "a reply was sent where none may be");
		return;
	}
	fuzz_check(fx.nsent == 1, "not exactly one reply sent");
	fuzz_check(fx.sent_len >= 4 + 4 * e->nwords, "reply shorter than its header");
	fuzz_check(!e->exact_len || fx.sent_len == 4 + 4 * e->nwords, "reply of the wrong length");
	fuzz_check(fuzz_get_be32(fx.sent) == xid, "reply carries another xid");
	for (unsigned i = 0; i < e->nwords; i++)
		fuzz_check(fuzz_get_be32(fx.sent + 4 + 4 * i) == e->words[i],
			   "reply header differs from RFC 5531");
}

/* ---- the entry point ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_call_hdr got, want;
	struct rpc_cred cred_got, cred_want;
	struct expected e;
	uint32_t auth_got, auth_want, mtype = 0;
	enum rpc_hdr_verdict v, vm;
	uint8_t *rec;
	bool ok_got, ok_want;

	/* 1. the call header */
	v = rpc_decode_call(data, size, &got, &auth_got, &mtype);
	vm = model_call(data, size, &want, &auth_want);
	fuzz_check(v == vm, "call header verdict differs from the model");
	if (v != RPC_HDR_DROP)
		fuzz_check(got.xid == want.xid, "xid differs from the model");
	if (v == RPC_HDR_AUTH_ERROR)
		fuzz_check(auth_got == auth_want, "auth_stat differs from the model");
	if (v == RPC_HDR_OK) {
		fuzz_check(got.rpcvers == 2 && got.prog == want.prog && got.vers == want.vers &&
			   got.proc == want.proc, "call header fields differ from the model");
		fuzz_check(got.args_off == want.args_off && got.args_off <= size,
			   "arguments start elsewhere than the model says");
		fuzz_check(got.cred.flavor == want.cred.flavor, "credential flavor differs");
		fuzz_check(got.cred.raw_len == want.cred.raw_len &&
			   memcmp(got.cred.raw, want.cred.raw, want.cred.raw_len) == 0,
			   "raw credential differs from the model");
		if (got.cred.flavor == RPC_AUTH_SYS)
			same_authsys(&want.cred, &got.cred);
	}

	/* 2. the input as an AUTH_SYS body */
	memset(&cred_got, 0, sizeof(cred_got));
	ok_got = size <= UINT32_MAX && rpc_decode_authsys(data, (uint32_t)size, &cred_got);
	ok_want = model_authsys(data, size, &cred_want);
	fuzz_check(ok_got == ok_want, "AUTH_SYS verdict differs from the model");
	if (ok_got)
		same_authsys(&cred_want, &cred_got);

	/* 3. serving it: rpc_serve_record takes ownership of the record */
	rec = malloc(size ? size : 1);
	fuzz_check(rec != NULL, "no memory for the record");
	memcpy(rec, data, size);
	expected_reply(v, &want, auth_want, data, size, &e);
	fuzz_xprt_reset(&fx);
	rpc_serve_record(&fx.x, rec, size, NULL, reply_buf, sizeof(reply_buf));
	check_reply(&e, want.xid);
	fuzz_check(atomic_load(&fx.x.refs) == 1, "a served call kept a transport reference");
	return 0;
}
