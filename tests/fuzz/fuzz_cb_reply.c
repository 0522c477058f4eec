/*
 * tests/fuzz/fuzz_cb_reply.c: libFuzzer target for the callback reply path:
 * what a client sends back on the backchannel for a CB_COMPOUND.
 *
 * Input: the client's reply record (RPC reply header, then CB_COMPOUND4res).
 * The harness sends a real CB_COMPOUND (CB_SEQUENCE + CB_RECALL, built as
 * server/nfs4_callback.c builds it) with rpc_call_start, as the callback
 * engine does, on an in-memory transport; the transport answers with the
 * input, its xid set to the call's, through rpc_serve_record, which routes
 * it by xid to the call's reply function (rpc/rpc_clnt.c: reply header,
 * verifier, accept status). A call nothing answered is cancelled, as the
 * engine does at the attempt's deadline. Then, as the engine's outcome_read
 * does, the results are decoded with the generated CB_COMPOUND4res codec,
 * CB_SEQUENCE's status is picked out and nfs4_cb_seq_judge gives the verdict
 * that drives the back channel slot.
 * Checked: the call's outcome arrives exactly once (a reply, or "lost" at
 * the cancel, never a hang); a reply that is not an accepted one gives
 * -EPROTO; the decoder's arena stays within a multiple of the input; the
 * verdict follows RFC 8881 §2.10.6.1 from the status alone; status names are
 * well-formed strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_callback.h"
#include "tests/fuzz/fuzz_common.h"

#define CB_PROG 0x40000000u      /* a client's usual cb_program */
#define CB_VERSION 1u
#define CB_PROC_COMPOUND 1u
/* As in fuzz_nfs4_decode.c: the decoder may claim a bounded multiple. */
#define ARENA_PER_BYTE 1024u
#define ARENA_SLACK 65536u

static struct fuzz_xprt fx;
static uint8_t serve_buf[64 * 1024];
static const uint8_t *reply_data;
static size_t reply_size;
static bool delivering;

/* The client: answers the one call with the input as its reply. */
static int answer(struct fuzz_xprt *f, const uint8_t *msg, size_t len)
{
	uint8_t *rec;

	if (delivering || len < 4)
		return 0;   /* a reply of ours to a CALL the input made: dropped */
	rec = malloc(reply_size > 4 ? reply_size : 4);
	if (!rec)
		return -ENOMEM;
	memcpy(rec, reply_data, reply_size);
	if (reply_size >= 4)
		memcpy(rec, msg, 4);   /* the call's xid: the input cannot guess it */
	delivering = true;
	rpc_serve_record(&f->x, rec, reply_size, NULL, serve_buf, sizeof(serve_buf));
	delivering = false;
	return 0;
}

/* The outcome of the one call (rpc_call_start's reply function). */
struct call_outcome {
	unsigned calls;
	struct rpc_reply rep;
};

static void on_reply(void *ctx, struct rpc_reply *rep)
{
	struct call_outcome *o = ctx;

	if (o->calls++ == 0)
		o->rep = *rep;
	else
		rpc_reply_release(rep);
}

static bool enc_cb_compound(struct xdr_stream *x, const void *args)
{
	return xdr_enc_CB_COMPOUND4args(x, args);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_xprt_init(&fx, answer, NULL);
	/* no record limit: a call's buffer is then 64 KiB, not the
	 * 1 MiB of a TCP connection, which would cost an mmap per input */
	fx.x.max_record = 0;
	return 0;
}

static void check_name(nfsstat4 st)
{
	char buf[24];
	const char *name = nfs4_status_name(st, buf, sizeof(buf));

	fuzz_check(name != NULL && strnlen(name, 64) < 64 && !strncmp(name, "NFS4", 4),
		   "status name malformed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fh[] = { 2, 2, 0, 1, 0xde, 0xad, 0xbe, 0xef };
	nfs_cb_argop4 ops[2];
	CB_COMPOUND4args args;
	CB_COMPOUND4res res;
	struct call_outcome out = { 0 };
	struct rpc_reply rep;
	struct rpc_cred cred;
	uint32_t xid;
	struct xdr_stream xs;
	struct arena arena;
	enum nfs4_cb_seq_verdict v;
	nfsstat4 seq_status = NFS4_OK;
	bool have_seq = false;
	int err;

	memset(ops, 0, sizeof(ops));
	ops[0].argop = OP_CB_SEQUENCE;
	memcpy(ops[0].u.opcbsequence.csa_sessionid, "fuzz-session-id!", sizeof(sessionid4));
	ops[0].u.opcbsequence.csa_sequenceid = 7;
	ops[1].argop = OP_CB_RECALL;
	ops[1].u.opcbrecall.stateid.seqid = 1;
	ops[1].u.opcbrecall.fh.len = sizeof(fh);
	ops[1].u.opcbrecall.fh.val = (uint8_t *)fh;
	memset(&args, 0, sizeof(args));
	args.minorversion = 1;
	args.argarray.len = 2;
	args.argarray.val = ops;
	memset(&cred, 0, sizeof(cred));
	cred.flavor = RPC_AUTH_SYS;
	strcpy(cred.machinename, "fuzz");

	reply_data = data;
	reply_size = size;
	fuzz_xprt_reset(&fx);
	/* The reply, if it matches, arrives while the call is sent; what is
	 * still waiting afterwards is cancelled, as at an attempt's deadline. */
	xid = rpc_call_next_xid();
	rpc_call_start(&fx.x, xid, CB_PROG, CB_VERSION, CB_PROC_COMPOUND, &cred, enc_cb_compound,
		       &args, on_reply, &out);
	fuzz_check(fx.nsent >= 1, "the call was not sent");
	if (out.calls == 0)
		fuzz_check(rpc_call_cancel(&fx.x, xid, -ETIMEDOUT), "a waiting call could not be cancelled");
	fuzz_check(out.calls == 1, "the call's outcome did not arrive exactly once");
	fuzz_check(!rpc_call_cancel(&fx.x, xid, -ETIMEDOUT), "an ended call was cancelled again");
	rep = out.rep;
	err = rep.status;
	fuzz_check(err == 0 || err == -ETIMEDOUT || err == -EPROTO || err == -ENOMEM,
		   "rpc_call_start: an error the callback engine does not expect");
	if (size < 8 || fuzz_get_be32(data + 4) != RPC_REPLY)
		fuzz_check(err == -ETIMEDOUT, "a record that is no reply was taken as one");
	else if (size < 12 || fuzz_get_be32(data + 8) != RPC_MSG_ACCEPTED)
		fuzz_check(err == -EPROTO, "a denied or cut reply was not refused");

	/* what the engine's outcome_read does with the answer */
	memset(&res, 0, sizeof(res));
	arena_init(&arena, 0);
	if (err == 0 && rep.accept_stat != RPC_SUCCESS)
		err = -EPROTO;
	if (err == 0) {
		xdr_init_decode(&xs, rep.body, rep.body_len, &arena);
		if (!xdr_dec_CB_COMPOUND4res(&xs, &res))
			err = -EPROTO;
		fuzz_check(arena.used_total <= (size_t)ARENA_PER_BYTE * size + ARENA_SLACK,
			   "the decoder claimed more than the reply could describe");
	}
	if (err == 0) {
		check_name(res.status);
		for (uint32_t i = 0; i < res.resarray.len; i++)
			check_name(res.resarray.val[i].u.opcbsequence.csr_status);
		if (res.resarray.len > 0 && res.resarray.val[0].resop == OP_CB_SEQUENCE) {
			have_seq = true;
			seq_status = res.resarray.val[0].u.opcbsequence.csr_status;
		}
	}
	v = nfs4_cb_seq_judge(err, have_seq, seq_status);
	if (err == -ETIMEDOUT)
		fuzz_check(v == NFS4_CB_SEQ_LOST, "no reply is not judged lost");
	else if (err != 0 || !have_seq)
		fuzz_check(v == NFS4_CB_SEQ_FAILED, "a reply without CB_SEQUENCE not judged failed");
	else if (seq_status == NFS4_OK)
		fuzz_check(v == NFS4_CB_SEQ_DONE, "CB_SEQUENCE OK not judged done");
	else if (seq_status == NFS4ERR_DELAY)
		fuzz_check(v == NFS4_CB_SEQ_DELAY, "NFS4ERR_DELAY not judged delay");
	else if (seq_status == NFS4ERR_SEQ_MISORDERED)
		fuzz_check(v == NFS4_CB_SEQ_MISORDERED, "SEQ_MISORDERED not judged so");
	else if (seq_status == NFS4ERR_RETRY_UNCACHED_REP)
		fuzz_check(v == NFS4_CB_SEQ_UNCACHED, "RETRY_UNCACHED_REP not judged so");
	else
		fuzz_check(v == NFS4_CB_SEQ_FAILED, "another CB_SEQUENCE error not judged failed");
	arena_release(&arena);
	if (rep.status == 0)
		rpc_reply_release(&rep);
	fuzz_check(atomic_load(&fx.x.refs) == 1, "the call kept a transport reference");
	return 0;
}
