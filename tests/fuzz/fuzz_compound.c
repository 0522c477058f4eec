/*
 * tests/fuzz/fuzz_compound.c: libFuzzer target for the whole NFSv4.1/4.2
 * COMPOUND path in process: RPC dispatch, the COMPOUND loop and its order
 * rules (server/nfs4_compound.c), the op table, every handler, sessions,
 * slots and the reply cache, state, file handles and the POSIX backend on a
 * real export.
 *
 * Bring-up (once): two exports on a scratch tmpfs (fuzz_common.c: /a
 * read-write, /b/c read-only), the NFSv4 state, the callback thread and
 * program 100003, an in-memory transport.
 * Each input is COMPOUND4args bytes (tag, minorversion, ops), or up to
 * MAX_PIECES of them separated by "DAXNFS-FUZZ-NEXT", each sent as the
 * arguments of an RPC CALL with an AUTH_SYS credential (uid/gid 4242, who
 * owns the export roots) through rpc_serve_record, as a TCP connection's
 * records would be. Before them, a fresh client and session are made
 * through the same path (EXCHANGE_ID, CREATE_SESSION with 8 slots, then on
 * slot 7 SEQUENCE + RECLAIM_COMPLETE), so that SEQUENCE on slot 0..6 with
 * sequenceid 1 succeeds. Since ids are new each time, and a later compound
 * cannot know what an earlier one got, the input names them by
 * placeholders the harness replaces before sending:
 *   "DAXNFS-FUZZ-SESS"            (16 bytes) -> the session id
 *   "FUZZCLID"                    (8 bytes)  -> the client id
 *   "DAXNFS-FUZZ-STID"            (a stateid4, 16 bytes) -> the last stateid
 *                                 an OPEN, OPEN_DOWNGRADE, CLOSE, LOCK or
 *                                 LOCKU of this input returned
 *   00000010 "DAXNFS-FUZZ-RTFH"   (an nfs_fh4 of 16 bytes) -> the handle of
 *                                 export 1's root (a valid, MAC'd handle)
 *   00000010 "DAXNFS-FUZZ-LSFH"   -> the last handle GETFH returned
 * After the input, every client is destroyed and both exports and the
 * client records emptied, so each input runs against the same state
 * (crashes replay) and memory does not grow.
 * Checked beyond ASan/UBSan: exactly one reply per compound, with the
 * call's xid, an accepted reply whose status is SUCCESS (then a
 * COMPOUND4res that the generated decoder takes whole, whose status is the
 * last result's, with no more results than operations asked, and without
 * results only for no operations, another minor version or a tag that is
 * not UTF-8) or
 * GARBAGE_ARGS (only when the COMPOUND header itself does not decode); a
 * compound sent again unchanged whose SEQUENCE answers NFS4_OK is a replay
 * and must get the very bytes of the first reply (RFC 8881 §2.10.6.1.3).
 * Calls back from the callback thread (a session with a back channel) are
 * refused by the transport at once, so no probe waits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmem/lease.h"
#include "rpc/rpc_internal.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_session.h"
#include "tests/fuzz/fuzz_common.h"

#define FUZZ_UID 4242u
#define NFS4_PROGRAM 100003u
#define NFS4_VERSION 4u
#define NFS4_PROC_COMPOUND 1u
#define CB_PROG 0x40000000u
#define SESSION_SLOTS 8u
#define SETUP_SLOT (SESSION_SLOTS - 1)
#define CALL_HDR_MAX 128u
#define ARGS_MAX (64u * 1024)          /* harness-made compounds */
#define REPLY_CAP (1114112u + 65536u)  /* Max_Record_Size plus room */

#define MAX_PIECES 8

static const uint8_t sess_placeholder[16] = "DAXNFS-FUZZ-SESS";
static const uint8_t clid_placeholder[8] = "FUZZCLID";
static const uint8_t stid_placeholder[16] = "DAXNFS-FUZZ-STID";
static const uint8_t rootfh_placeholder[20] = "\0\0\0\x10" "DAXNFS-FUZZ-RTFH";
static const uint8_t lastfh_placeholder[20] = "\0\0\0\x10" "DAXNFS-FUZZ-LSFH";
static const uint8_t separator[16] = "DAXNFS-FUZZ-NEXT";

static struct fuzz_xprt fx;
static uint8_t *reply_buf;
static uint32_t next_xid = 1;
static bool trace;
static char base_dir[512], export_dirs[2][600], clients_dir[600];

/* What the current input may name. */
static sessionid4 session_id;
static clientid4 client_id;
static uint8_t root_fh[NFS4_FHSIZE], last_fh[NFS4_FHSIZE];
static uint32_t root_fh_len, last_fh_len;
static uint8_t last_stateid[16];

/* The transport: replies are kept; calls from the callback thread refused. */
static int on_send(struct fuzz_xprt *f, const uint8_t *msg, size_t len)
{
	if (len >= 8 && fuzz_get_be32(msg + 4) == RPC_CALL)
		return -ECONNRESET;   /* a backchannel call: no client listens */
	fuzz_xprt_keep(f, msg, len);
	return 0;
}

/* An RPC CALL of COMPOUND with AUTH_SYS 4242/4242, then args. Returns a
 * malloc'd record (rpc_serve_record frees it) and its length. */
static uint8_t *make_call(const uint8_t *args, size_t args_len, uint32_t xid, size_t *len)
{
	uint8_t *rec = malloc(CALL_HDR_MAX + args_len);
	struct xdr_stream x;
	size_t cred_len_off;

	fuzz_check(rec != NULL, "no memory for a call");
	xdr_init_encode(&x, rec, CALL_HDR_MAX);
	xdr_put_u32(&x, xid);
	xdr_put_u32(&x, RPC_CALL);
	xdr_put_u32(&x, RPC_VERSION);
	xdr_put_u32(&x, NFS4_PROGRAM);
	xdr_put_u32(&x, NFS4_VERSION);
	xdr_put_u32(&x, NFS4_PROC_COMPOUND);
	xdr_put_u32(&x, RPC_AUTH_SYS);
	cred_len_off = xdr_pos(&x);
	xdr_put_u32(&x, 0);
	xdr_put_u32(&x, 0);                       /* stamp */
	xdr_put_opaque(&x, "fuzz", 4);            /* machinename */
	xdr_put_u32(&x, FUZZ_UID);
	xdr_put_u32(&x, FUZZ_UID);
	xdr_put_u32(&x, 1);
	xdr_put_u32(&x, FUZZ_UID);
	xdr_patch_u32(&x, cred_len_off, (uint32_t)(xdr_pos(&x) - cred_len_off - 4));
	xdr_put_u32(&x, RPC_AUTH_NONE);
	xdr_put_u32(&x, 0);
	fuzz_check(xdr_ok(&x), "call header does not fit");
	memcpy(rec + xdr_pos(&x), args, args_len);
	*len = xdr_pos(&x) + args_len;
	return rec;
}

/* The accepted-reply header of the last reply: its accept_stat, and where
 * the results start. False when it is no accepted reply to xid. */
static bool reply_header(uint32_t xid, uint32_t *accept_stat, size_t *body_off)
{
	struct xdr_stream x;
	struct xdr_opaque verf;
	uint32_t rxid, mtype, rstat, vflavor;

	xdr_init_decode(&x, fx.sent, fx.sent_len, NULL);
	if (!xdr_get_u32(&x, &rxid) || !xdr_get_u32(&x, &mtype) || !xdr_get_u32(&x, &rstat) ||
	    !xdr_get_u32(&x, &vflavor) || !xdr_get_opaque(&x, 400, &verf) ||
	    !xdr_get_u32(&x, accept_stat))
		return false;
	*body_off = xdr_pos(&x);
	return rxid == xid && mtype == RPC_REPLY && rstat == RPC_MSG_ACCEPTED &&
	       vflavor == RPC_AUTH_NONE;
}

/* Serves args as one COMPOUND; decodes the reply into res (from arena).
 * Returns the accept_stat; *decoded says whether res holds results. */
static uint32_t serve(const uint8_t *args, size_t args_len, struct arena *arena,
		      COMPOUND4res *res, bool *decoded)
{
	uint32_t xid = next_xid++, accept_stat = UINT32_MAX;
	size_t len, body;
	uint8_t *rec = make_call(args, args_len, xid, &len);
	struct xdr_stream x;

	fuzz_xprt_reset(&fx);
	*decoded = false;
	rpc_serve_record(&fx.x, rec, len, NULL, reply_buf, REPLY_CAP);
	fuzz_check(fx.nsent == 1, "a COMPOUND call did not get exactly one reply");
	fuzz_check(reply_header(xid, &accept_stat, &body), "reply header malformed or misdirected");
	if (accept_stat != RPC_SUCCESS)
		return accept_stat;
	memset(res, 0, sizeof(*res));
	xdr_init_decode(&x, fx.sent + body, fx.sent_len - body, arena);
	fuzz_check(xdr_dec_COMPOUND4res(&x, res), "the server's COMPOUND4res does not decode");
	fuzz_check(xdr_remaining(&x) == 0, "bytes after the server's COMPOUND4res");
	*decoded = true;
	return accept_stat;
}

/* Runs a compound the harness built; every op must succeed. */
static void serve_ops(nfs_argop4 *ops, uint32_t nops, struct arena *arena, COMPOUND4res *res,
		      const char *what)
{
	static uint8_t buf[ARGS_MAX];
	COMPOUND4args args;
	struct xdr_stream x;
	bool decoded;

	memset(&args, 0, sizeof(args));
	args.minorversion = 1;
	args.argarray.len = nops;
	args.argarray.val = ops;
	xdr_init_encode(&x, buf, sizeof(buf));
	fuzz_check(xdr_enc_COMPOUND4args(&x, &args), "cannot encode a setup compound");
	fuzz_check(serve(buf, xdr_pos(&x), arena, res, &decoded) == RPC_SUCCESS && decoded,
		   what);
	if (res->status != NFS4_OK)
		fprintf(stderr, "fuzz: setup %s: status %u\n", what, (unsigned)res->status);
	fuzz_check(res->status == NFS4_OK && res->resarray.len == nops, what);
}

static void chan_attrs(channel_attrs4 *a, uint32_t maxreq, uint32_t maxops, uint32_t slots)
{
	memset(a, 0, sizeof(*a));
	a->ca_maxrequestsize = maxreq;
	a->ca_maxresponsesize = maxreq;
	a->ca_maxresponsesize_cached = 64 * 1024;
	a->ca_maxoperations = maxops;
	a->ca_maxrequests = slots;
}

static void seq_op(nfs_argop4 *op, slotid4 slot)
{
	memset(op, 0, sizeof(*op));
	op->argop = OP_SEQUENCE;
	memcpy(op->u.opsequence.sa_sessionid, session_id, sizeof(sessionid4));
	op->u.opsequence.sa_sequenceid = 1;
	op->u.opsequence.sa_slotid = slot;
	op->u.opsequence.sa_highest_slotid = SESSION_SLOTS - 1;
}

/* A confirmed client with one session whose slot SETUP_SLOT is used, its
 * reclaims complete (no NFS4ERR_GRACE for new state). */
static void setup_client(bool want_root_fh)
{
	static const char owner[] = "daxnfs-fuzz-client";
	nfs_argop4 ops[5];
	COMPOUND4res res;
	struct arena arena;
	callback_sec_parms4 sec = { .cb_secflavor = 0 };

	arena_init(&arena, 0);
	memset(ops, 0, sizeof(ops));
	ops[0].argop = OP_EXCHANGE_ID;
	memcpy(ops[0].u.opexchange_id.eia_clientowner.co_verifier, "fuzzverf", 8);
	ops[0].u.opexchange_id.eia_clientowner.co_ownerid.len = sizeof(owner) - 1;
	ops[0].u.opexchange_id.eia_clientowner.co_ownerid.val = (uint8_t *)owner;
	ops[0].u.opexchange_id.eia_state_protect.spa_how = SP4_NONE;
	serve_ops(ops, 1, &arena, &res, "EXCHANGE_ID");
	client_id = res.resarray.val[0].u.opexchange_id.u.eir_resok4.eir_clientid;

	memset(ops, 0, sizeof(ops));
	ops[0].argop = OP_CREATE_SESSION;
	ops[0].u.opcreate_session.csa_clientid = client_id;
	ops[0].u.opcreate_session.csa_sequence =
		res.resarray.val[0].u.opexchange_id.u.eir_resok4.eir_sequenceid;
	chan_attrs(&ops[0].u.opcreate_session.csa_fore_chan_attrs, 1049600, NFS4_MAX_OPS,
		   SESSION_SLOTS);
	chan_attrs(&ops[0].u.opcreate_session.csa_back_chan_attrs, 4096, 8, 1);
	ops[0].u.opcreate_session.csa_cb_program = CB_PROG;
	ops[0].u.opcreate_session.csa_sec_parms.len = 1;
	ops[0].u.opcreate_session.csa_sec_parms.val = &sec;
	serve_ops(ops, 1, &arena, &res, "CREATE_SESSION");
	memcpy(session_id, res.resarray.val[0].u.opcreate_session.u.csr_resok4.csr_sessionid,
	       sizeof(sessionid4));

	seq_op(&ops[0], SETUP_SLOT);
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].argop = OP_RECLAIM_COMPLETE;
	if (!want_root_fh) {
		serve_ops(ops, 2, &arena, &res, "SEQUENCE+RECLAIM_COMPLETE");
	} else {
		memset(&ops[2], 0, 3 * sizeof(ops[0]));
		ops[2].argop = OP_PUTROOTFH;
		ops[3].argop = OP_LOOKUP;
		ops[3].u.oplookup.objname.len = 1;
		ops[3].u.oplookup.objname.val = (uint8_t *)"a";
		ops[4].argop = OP_GETFH;
		serve_ops(ops, 5, &arena, &res, "SEQUENCE+RECLAIM_COMPLETE+GETFH /a");
		root_fh_len = res.resarray.val[4].u.opgetfh.u.resok4.object.len;
		fuzz_check(root_fh_len > 0 && root_fh_len <= NFS4_FHSIZE, "odd root handle");
		memcpy(root_fh, res.resarray.val[4].u.opgetfh.u.resok4.object.val, root_fh_len);
	}
	arena_release(&arena);
}

/* Every client gone (their state, sessions, opens, locks), exports and
 * client records empty: the state the next input starts from. */
static void teardown(void)
{
	nfs4_state_lock();
	nfs4_clients_shutdown(fuzz_srv);
	nfs4_state_unlock();
	fuzz_empty_dir(export_dirs[0]);
	fuzz_empty_dir(export_dirs[1]);
	fuzz_empty_dir(clients_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* as daxnfsd does before any thread starts */
	fuzz_check(pmem_lease_block_signal() == 0, "cannot block the lease signal");
	fuzz_check(fuzz_scratch_dir(64, base_dir, sizeof(base_dir)) == 0, "no scratch directory");
	fuzz_check(fuzz_server_up(base_dir, FUZZ_UID, true) == 0, "the server did not come up");
	snprintf(export_dirs[0], sizeof(export_dirs[0]), "%s/ea", base_dir);
	snprintf(export_dirs[1], sizeof(export_dirs[1]), "%s/ebc", base_dir);
	snprintf(clients_dir, sizeof(clients_dir), "%s/state/clients", base_dir);
	reply_buf = malloc(REPLY_CAP);
	fuzz_check(reply_buf != NULL, "no memory for the reply buffer");
	fuzz_xprt_init(&fx, on_send, NULL);
	fx.x.max_record = 1114112;
	setup_client(true);
	teardown();
	trace = getenv("DAXNFS_FUZZ_TRACE") != NULL;
	return 0;
}

/* Appends an nfs_fh4 (length, bytes, padding). */
static size_t put_fh(uint8_t *out, const uint8_t *fh, uint32_t len)
{
	fuzz_put_be32(out, len);
	memcpy(out + 4, fh, len);
	memset(out + 4 + len, 0, XDR_PAD(len));
	return 4 + XDR_ROUNDUP(len);
}

/* The piece with the placeholders replaced (malloc'd). */
static uint8_t *substitute(const uint8_t *data, size_t size, size_t *out_len)
{
	/* a 16-byte handle placeholder may become a handle of NFS4_FHSIZE bytes */
	size_t cap = size + (size / sizeof(rootfh_placeholder) + 1) * NFS4_FHSIZE;
	uint8_t *out = malloc(cap ? cap : 1);
	size_t i = 0, n = 0;
	uint8_t be[8];

	fuzz_check(out != NULL, "no memory for the request");
	for (int k = 0; k < 8; k++)
		be[k] = (uint8_t)(client_id >> (56 - 8 * k));
#define AT(ph) (size - i >= sizeof(ph) && !memcmp(data + i, ph, sizeof(ph)))
	while (i < size) {
		if (AT(rootfh_placeholder)) {
			n += put_fh(out + n, root_fh, root_fh_len);
			i += sizeof(rootfh_placeholder);
		} else if (AT(lastfh_placeholder)) {
			n += put_fh(out + n, last_fh, last_fh_len);
			i += sizeof(lastfh_placeholder);
		} else if (AT(sess_placeholder)) {
			memcpy(out + n, session_id, sizeof(sessionid4));
			n += sizeof(sessionid4);
			i += sizeof(sess_placeholder);
		} else if (AT(stid_placeholder)) {
			memcpy(out + n, last_stateid, sizeof(last_stateid));
			n += sizeof(last_stateid);
			i += sizeof(stid_placeholder);
		} else if (AT(clid_placeholder)) {
			memcpy(out + n, be, 8);
			n += 8;
			i += sizeof(clid_placeholder);
		} else {
			out[n++] = data[i++];
		}
	}
#undef AT
	*out_len = n;
	return out;
}

static void remember_stateid(const stateid4 *sid)
{
	fuzz_put_be32(last_stateid, sid->seqid);
	memcpy(last_stateid + 4, sid->other, sizeof(sid->other));
}

/* Keeps what later compounds of the input may name. */
static void remember(const COMPOUND4res *res)
{
	for (uint32_t i = 0; i < res->resarray.len; i++) {
		const nfs_resop4 *r = &res->resarray.val[i];

		if (r->u.opaccess.status != NFS4_OK)
			continue;
		switch (r->resop) {
		case OP_OPEN:
			remember_stateid(&r->u.opopen.u.resok4.stateid);
			break;
		case OP_OPEN_DOWNGRADE:
			remember_stateid(&r->u.opopen_downgrade.u.resok4.open_stateid);
			break;
		case OP_CLOSE:
			remember_stateid(&r->u.opclose.u.open_stateid);
			break;
		case OP_LOCK:
			remember_stateid(&r->u.oplock.u.resok4.lock_stateid);
			break;
		case OP_LOCKU:
			remember_stateid(&r->u.oplocku.u.lock_stateid);
			break;
		case OP_GETFH:
			last_fh_len = r->u.opgetfh.u.resok4.object.len;
			fuzz_check(last_fh_len <= NFS4_FHSIZE, "GETFH returned an oversized handle");
			memcpy(last_fh, r->u.opgetfh.u.resok4.object.val, last_fh_len);
			break;
		default:
			break;
		}
	}
}

/* DAXNFS_FUZZ_TRACE=1: one line per input with each operation's status,
 * to see what seeds and finds reach when replaying them. */
static void trace_reply(uint32_t accept_stat, const COMPOUND4res *res)
{
	if (!res) {
		fprintf(stderr, "fuzz_compound: accept_stat %u\n", (unsigned)accept_stat);
		return;
	}
	fprintf(stderr, "fuzz_compound: status %u:", (unsigned)res->status);
	for (uint32_t i = 0; i < res->resarray.len; i++)
		fprintf(stderr, " op%u=%u", (unsigned)res->resarray.val[i].resop,
			(unsigned)res->resarray.val[i].u.opaccess.status);
	fprintf(stderr, "\n");
}

/* Does the COMPOUND header (tag<1024>, minorversion, op count) decode?
 * *tag_ok: the tag is UTF-8 (a utf8str_cs). */
static bool header_decodes(const uint8_t *p, size_t len, uint32_t *numops, bool *tag_ok)
{
	struct xdr_stream x;
	struct xdr_opaque tag;
	uint32_t minor;

	xdr_init_decode(&x, p, len, NULL);
	if (!xdr_get_opaque(&x, 1024, &tag) || !xdr_get_u32(&x, &minor) ||
	    !xdr_get_u32(&x, numops))
		return false;
	*tag_ok = nfs4_utf8_valid(tag.val, tag.len);
	return true;
}

/* Where the next piece ends: at the next separator, or the end. */
static size_t piece_len(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + sizeof(separator) <= size; i++)
		if (!memcmp(data + i, separator, sizeof(separator)))
			return i;
	return size;
}

/* The reply of the previous compound, to compare a replay with. */
struct previous {
	uint8_t *req, *reply;
	size_t req_len, reply_len;
};

static void previous_release(struct previous *p)
{
	free(p->req);
	free(p->reply);
	memset(p, 0, sizeof(*p));
}

/* Sends one compound and checks its reply; keeps it in prev. */
static void run_piece(const uint8_t *data, size_t size, struct previous *prev)
{
	COMPOUND4res res;
	struct arena arena;
	uint32_t accept_stat, numops = 0;
	size_t len;
	uint8_t *req;
	bool decoded, header_ok, again, tag_ok = true;

	req = substitute(data, size, &len);
	again = prev->req && prev->req_len == len && !memcmp(prev->req, req, len);
	header_ok = header_decodes(req, len, &numops, &tag_ok);
	arena_init(&arena, 0);
	accept_stat = serve(req, len, &arena, &res, &decoded);
	if (trace)
		trace_reply(accept_stat, decoded ? &res : NULL);
	fuzz_check(accept_stat == RPC_SUCCESS || accept_stat == RPC_GARBAGE_ARGS ||
		   accept_stat == RPC_SYSTEM_ERR, "COMPOUND answered with an odd accept status");
	fuzz_check((accept_stat == RPC_GARBAGE_ARGS) == !header_ok,
		   "GARBAGE_ARGS does not match an undecodable COMPOUND header");
	if (decoded) {
		uint32_t n = res.resarray.len;

		fuzz_check(n <= numops, "more results than operations");
		if (n > 0)
			fuzz_check(res.status == res.resarray.val[n - 1].u.opaccess.status,
				   "COMPOUND status is not its last result's");
		else   /* nothing ran: no operations, another minor version, a bad tag */
			fuzz_check((res.status == NFS4_OK && numops == 0) ||
				   res.status == NFS4ERR_MINOR_VERS_MISMATCH ||
				   (res.status == NFS4ERR_INVAL && !tag_ok),
				   "an error status without a result");
		/* the same request again on the same slot and sequence id: a
		 * replay, answered from the reply cache byte for byte */
		if (again && n > 0 && res.resarray.val[0].resop == OP_SEQUENCE &&
		    res.resarray.val[0].u.opsequence.sr_status == NFS4_OK && prev->reply)
			fuzz_check(fx.sent_len - 4 == prev->reply_len &&
				   !memcmp(fx.sent + 4, prev->reply, prev->reply_len),
				   "a replay did not get the first reply's bytes");
		remember(&res);
	}
	arena_release(&arena);
	previous_release(prev);
	prev->req = req;
	prev->req_len = len;
	/* after the xid, which differs between a call and its retry */
	prev->reply_len = fx.sent_len - 4;
	prev->reply = malloc(prev->reply_len ? prev->reply_len : 1);
	fuzz_check(prev->reply != NULL, "no memory for a reply copy");
	memcpy(prev->reply, fx.sent + 4, prev->reply_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct previous prev = { 0 };
	size_t pos = 0;

	setup_client(false);
	memset(last_stateid, 0, sizeof(last_stateid));
	memcpy(last_fh, root_fh, root_fh_len);
	last_fh_len = root_fh_len;
	for (int k = 0; k < MAX_PIECES && (k == 0 || pos < size); k++) {
		size_t n = piece_len(data + pos, size - pos);

		run_piece(data + pos, n, &prev);
		pos += n + sizeof(separator);
	}
	previous_release(&prev);
	teardown();
	return 0;
}
