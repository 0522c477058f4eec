/*
 * tests/proto/test_fuzz_live.c: a bounded, deterministic robustness run
 * against a real daxnfsd. Valid calls (NULL, EXCHANGE_ID, CREATE_SESSION,
 * SEQUENCE+PUTROOTFH+GETATTR, OPEN/WRITE/READ/CLOSE, READDIR, LOCK, SETATTR +
 * NVERIFY, CREATE/RENAME/REMOVE, TEST_STATEID) are encoded with the client
 * library, mutated (bit flips, byte and word replacements with edge values,
 * truncation, duplicated/removed words, op numbers swapped, ops repeated,
 * huge counts) and sent over a few connections that hold sessions, now and
 * then split into record fragments or several at once on one slot. Every mutated call must get a well-formed RPC reply, or the
 * server must close the connection; afterwards a fresh client must still do
 * a full OPEN/WRITE/READ/CLOSE and the daemon must exit 0 on SIGTERM (so its
 * sanitizers found nothing). A first test proves each seed, unmutated, does
 * what it should, so that mutations start from calls that reach deep.
 * The seed is fixed (FZ_SEED) and printed; DAXNFS_FUZZ_SEED and
 * DAXNFS_FUZZ_ITERS override it and the iteration count for exploration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_rpc.h"
#include "tests/proto/lib/proto_server.h"

#define FZ_SEED 0x5eed2026u
#define FZ_ITERS 10000
#define FZ_CLIENTS 3
#define FZ_BUF 8192
#define FZ_BURST 4              /* calls sent at once, at most */
#define FZ_TIMEOUT_MS 10000
#define FZ_BUDGET_S 50          /* stop early rather than run past this */

static struct proto_server srv;

/* ---- a small deterministic PRNG (xorshift64*) ---- */
static uint64_t fz_state;

static uint32_t fz_rand(void)
{
	fz_state ^= fz_state >> 12;
	fz_state ^= fz_state << 25;
	fz_state ^= fz_state >> 27;
	return (uint32_t)((fz_state * 2685821657736338717ull) >> 32);
}

static uint32_t fz_below(uint32_t n)
{
	return n ? fz_rand() % n : 0;
}

/* ---- one fuzzing client: a session, an open file, its stateid ---- */
struct fz_client {
	struct nfs4_cl *cl;
	stateid4 sid;
	nfs_fh4 fh;
	char name[32];
	unsigned gen;
	bool suspect;           /* a reply said the session or slot went wrong */
};

static void fz_client_up(struct fz_client *fc, unsigned idx)
{
	char owner[64];

	fc->gen++;
	snprintf(owner, sizeof(owner), "fuzz-%u-%u", idx, fc->gen);
	snprintf(fc->name, sizeof(fc->name), "fz%u", idx);
	assert_int_equal(nfs4_cl_open_session(&fc->cl, srv.host, srv.port, owner, 0), 0);
	fc->cl->conn.timeout_ms = FZ_TIMEOUT_MS;
	assert_int_equal(nfs4_cl_reclaim_complete(fc->cl), NFS4_OK);
	free(fc->fh.val);
	memset(&fc->fh, 0, sizeof(fc->fh));
	assert_int_equal(nfs4_cl_open_file(fc->cl, fc->name, true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &fc->sid, &fc->fh), NFS4_OK);
}

static void fz_client_down(struct fz_client *fc)
{
	if (fc->cl)
		nfs4_cl_close(fc->cl, false);
	fc->cl = NULL;
}

/* ---- seeds: valid calls as bytes (RPC header + arguments) ---- */
enum { SEED_NULL, SEED_EXCHANGE_ID, SEED_CREATE_SESSION, SEED_GETATTR, SEED_IO,
       SEED_READDIR, SEED_LOCK, SEED_SETATTR, SEED_NAMES, SEED_TEST_STATEID, SEED_COUNT };

static const char *const seed_names[SEED_COUNT] = {
	"NULL", "EXCHANGE_ID", "CREATE_SESSION", "GETATTR", "OPEN-IO", "READDIR", "LOCK",
	"SETATTR", "NAMES", "TEST_STATEID",
};

static bitmap4 fz_bitmap(struct nfs4_cl_compound *cp, uint32_t w0, uint32_t w1)
{
	bitmap4 b = { 0, NULL };

	b.val = arena_alloc(&cp->arena, 2 * sizeof(uint32_t));
	if (b.val) {
		b.len = 2;
		b.val[0] = w0;
		b.val[1] = w1;
	}
	return b;
}

static struct xdr_opaque fz_str(struct nfs4_cl_compound *cp, const char *s)
{
	struct xdr_opaque o;

	o.len = (uint32_t)strlen(s);
	o.val = arena_memdup(&cp->arena, s, o.len ? o.len : 1);
	return o;
}

/* Builds the compound of seed kind into cp (not encoded yet). */
static void fz_build(struct nfs4_cl_compound *cp, struct fz_client *fc, int kind, uint32_t iter)
{
	static const char data[] = "fuzz payload 0123456789";
	stateid4 cur = { .seqid = 1 };      /* the current stateid */
	char owner[48];
	nfs_argop4 *a;

	nfs4_cl_compound_init(cp, fc->cl);
	snprintf(cp->tag, sizeof(cp->tag), "fz-%u", iter);
	switch (kind) {
	case SEED_EXCHANGE_ID:
		cp->no_sequence = true;
		a = nfs4_cl_add(cp, OP_EXCHANGE_ID);
		snprintf(owner, sizeof(owner), "fz-eid-%u", iter);
		a->u.opexchange_id.eia_clientowner.co_ownerid = fz_str(cp, owner);
		a->u.opexchange_id.eia_state_protect.spa_how = SP4_NONE;
		break;
	case SEED_CREATE_SESSION: {
		CREATE_SESSION4args *cs;

		cp->no_sequence = true;
		cs = &nfs4_cl_add(cp, OP_CREATE_SESSION)->u.opcreate_session;
		cs->csa_clientid = fc->cl->clientid;
		/* a replay of the last CREATE_SESSION: answered from its cache */
		cs->csa_sequence = fc->cl->create_seq - 1;
		cs->csa_fore_chan_attrs = fc->cl->want_fore;
		cs->csa_back_chan_attrs = fc->cl->want_back;
		cs->csa_cb_program = fc->cl->cb_program;
		cs->csa_sec_parms.val = arena_alloc(&cp->arena, sizeof(callback_sec_parms4));
		if (cs->csa_sec_parms.val)
			cs->csa_sec_parms.len = 1;
		break;
	}
	case SEED_GETATTR: {
		/* every attribute there is, and more (unsupported ones are left
		 * out of the reply), but the write-only ones (NFS4ERR_INVAL) */
		bitmap4 all = { 0, NULL };

		all.val = arena_alloc(&cp->arena, 3 * sizeof(uint32_t));
		if (all.val) {
			all.len = 3;
			all.val[0] = all.val[2] = 0xffffffffu;
			all.val[1] = ~((1u << (FATTR4_TIME_ACCESS_SET - 32)) |
				       (1u << (FATTR4_TIME_MODIFY_SET - 32)));
		}
		nfs4_cl_add_path(cp, "");
		nfs4_cl_add(cp, OP_GETATTR)->u.opgetattr.attr_request = all;
		nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = fc->fh;
		nfs4_cl_add(cp, OP_GETATTR)->u.opgetattr.attr_request = all;
		break;
	}
	case SEED_IO:
		nfs4_cl_add_path(cp, "");
		/* another file: CLOSE must not end the open that LOCK uses */
		snprintf(owner, sizeof(owner), "%s-io", fc->name);
		nfs4_cl_add_open(cp, owner, true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE);
		nfs4_cl_add_write(cp, &cur, iter % 4096, data, sizeof(data), UNSTABLE4);
		nfs4_cl_add_read(cp, &cur, 0, 64);
		nfs4_cl_add_close(cp, &cur);
		break;
	case SEED_READDIR: {
		READDIR4args *rd;

		nfs4_cl_add_path(cp, "");
		rd = &nfs4_cl_add(cp, OP_READDIR)->u.opreaddir;
		rd->dircount = 4096;
		rd->maxcount = 8192;
		rd->attr_request = fz_bitmap(cp, (1u << FATTR4_TYPE) | (1u << FATTR4_FILEID), 0);
		break;
	}
	case SEED_LOCK: {
		LOCK4args *lk;

		nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = fc->fh;
		lk = &nfs4_cl_add(cp, OP_LOCK)->u.oplock;
		lk->locktype = (iter & 1) ? READ_LT : WRITE_LT;
		lk->offset = (uint64_t)iter * 16;
		lk->length = 8;
		lk->locker.new_lock_owner = true;
		lk->locker.u.open_owner.open_stateid = fc->sid;
		lk->locker.u.open_owner.lock_owner.clientid = fc->cl->clientid;
		snprintf(owner, sizeof(owner), "fz-lo-%u", iter);
		lk->locker.u.open_owner.lock_owner.owner = fz_str(cp, owner);
		break;
	}
	case SEED_SETATTR: {
		/* size (u64), mode (u32), time_modify_set = server time */
		uint8_t *v = arena_alloc(&cp->arena, 16);
		fattr4 *fa;

		nfs4_cl_add(cp, OP_PUTFH)->u.opputfh.object = fc->fh;
		a = nfs4_cl_add(cp, OP_SETATTR);
		a->u.opsetattr.stateid = fc->sid;
		fa = &a->u.opsetattr.obj_attributes;
		fa->attrmask = fz_bitmap(cp, 1u << FATTR4_SIZE, (1u << (FATTR4_MODE - 32)) |
					 (1u << (FATTR4_TIME_MODIFY_SET - 32)));
		if (v) {
			memset(v, 0, 16);
			v[6] = (uint8_t)(iter >> 8);
			v[7] = (uint8_t)iter;
			v[10] = 0x01;
			v[11] = 0xa4;
			fa->attr_vals.val = v;
			fa->attr_vals.len = 16;
		}
		/* NVERIFY of the size just set: NFS4ERR_SAME */
		fa = &nfs4_cl_add(cp, OP_NVERIFY)->u.opnverify.obj_attributes;
		fa->attrmask = fz_bitmap(cp, 1u << FATTR4_SIZE, 0);
		fa->attr_vals.val = v;
		fa->attr_vals.len = v ? 8 : 0;
		break;
	}
	case SEED_NAMES: {
		char other[48];

		snprintf(owner, sizeof(owner), "l%u-%u", fc->gen, iter);
		snprintf(other, sizeof(other), "m%u-%u", fc->gen, iter);
		nfs4_cl_add(cp, OP_PUTROOTFH);
		a = nfs4_cl_add(cp, OP_CREATE);
		a->u.opcreate.objtype.type = NF4LNK;
		a->u.opcreate.objtype.u.linkdata = fz_str(cp, "fz-target");
		a->u.opcreate.objname = fz_str(cp, owner);
		a->u.opcreate.createattrs.attrmask = fz_bitmap(cp, 0, 0);
		nfs4_cl_add(cp, OP_PUTROOTFH);
		nfs4_cl_add(cp, OP_SAVEFH);
		a = nfs4_cl_add(cp, OP_RENAME);
		a->u.oprename.oldname = fz_str(cp, owner);
		a->u.oprename.newname = fz_str(cp, other);
		nfs4_cl_add(cp, OP_REMOVE)->u.opremove.target = fz_str(cp, other);
		break;
	}
	case SEED_TEST_STATEID: {
		stateid4 *ids = arena_alloc(&cp->arena, 3 * sizeof(stateid4));

		a = nfs4_cl_add(cp, OP_TEST_STATEID);
		if (ids) {
			memset(ids, 0, 3 * sizeof(stateid4));
			ids[0] = fc->sid;
			ids[2] = fc->sid;
			ids[2].seqid += 7;
			a->u.optest_stateid.ts_stateids.val = ids;
			a->u.optest_stateid.ts_stateids.len = 3;
		}
		break;
	}
	default:
		break;
	}
}

/* Where the op numbers of an encoded call are (record offsets). */
struct fz_ops {
	size_t at[NFS4_CL_MAX_OPS + 1];
	unsigned n;
	size_t count_at;
};

/* Encodes kind as a whole RPC call record into buf; returns its length and
 * the length of the RPC header in *hdr; ops (may be NULL) gets the offsets
 * of the op numbers, found by encoding each prefix of the compound (ops are
 * appended, so the prefix of k ops ends where op k begins). */
static size_t fz_encode(struct fz_client *fc, int kind, uint32_t iter, uint32_t xid,
			uint8_t *buf, size_t cap, size_t *hdr, struct fz_ops *ops)
{
	struct nfs4_cl_compound cp;
	struct xdr_stream x;
	uint32_t nops, k;
	int n;

	if (ops)
		ops->n = 0;
	xdr_init_encode(&x, buf, cap);
	assert_true(proto_encode_call_header(&x, xid, 2, NFS4_CL_PROGRAM, 4,
					     kind == SEED_NULL ? 0 : 1, &fc->cl->cred));
	*hdr = x.pos;
	if (kind == SEED_NULL)
		return x.pos;
	fz_build(&cp, fc, kind, iter);
	nops = cp.nops;
	for (k = 0; ops && k < nops; k++) {
		cp.nops = k;
		n = nfs4_cl_encode(&cp, buf + *hdr, cap - *hdr);
		assert_true(n > 0);
		ops->at[ops->n++] = *hdr + (size_t)n;
	}
	if (ops)   /* the argarray count: after the tag and minorversion */
		ops->count_at = *hdr + 4 + ((strlen(cp.tag) + 3) & ~(size_t)3) + 4;
	cp.nops = nops;
	n = nfs4_cl_encode(&cp, buf + *hdr, cap - *hdr);
	nfs4_cl_compound_free(&cp);
	assert_true(n > 0);
	return *hdr + (size_t)n;
}

/* ---- mutations ---- */
static const uint32_t fz_words[] = {
	0, 1, 2, 0xffffffffu, 0x7fffffffu, 0x80000000u, 0x7ffffffcu, 0xfffffffcu,
	0x10000u, 0x100000u, 0x40000000u, 64, 65, 1024, 1025, 4096,
};

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* Applies one mutation to buf[from..*len); returns its name. Mutations
 * that aim at op numbers or the op count use ops (offsets in buf). */
static const char *fz_mutate_once(uint8_t *buf, size_t *len, size_t cap, size_t from,
				  const struct fz_ops *ops)
{
	size_t n = *len, span = n > from ? n - from : 0;
	size_t words = span / 4, off, w;

	if (ops->n && fz_below(4) == 0) {
		/* another op reads the following arguments as its own */
		size_t at = ops->at[fz_below(ops->n)];

		if (at + 4 <= n) {
			put32(buf + at, fz_below(8) ? 3 + fz_below(76) : fz_rand());
			return "op";
		}
	}
	if (ops->n && fz_below(8) == 0 && ops->count_at + 4 <= n) {
		/* an op again, right after itself, and the count to match:
		 * a valid compound that does one thing twice */
		unsigned i = fz_below(ops->n);
		size_t a = ops->at[i], b = i + 1 < ops->n ? ops->at[i + 1] : n;
		uint32_t cnt;

		if (a < b && b <= n && n + (b - a) <= cap) {
			memmove(buf + b + (b - a), buf + b, n - b);
			memcpy(buf + b, buf + a, b - a);
			*len = n + (b - a);
			memcpy(&cnt, buf + ops->count_at, 4);
			put32(buf + ops->count_at, ntohl(cnt) + 1);
			return "dupop";
		}
	}
	if (ops->n && fz_below(16) == 0 && ops->count_at + 4 <= n) {
		static const uint32_t counts[] = { 0, 1, 2, 1000, 0x7fffffffu, 0xffffffffu };

		put32(buf + ops->count_at, fz_below(3) ? counts[fz_below(6)] :
			(uint32_t)ops->n + 1 + fz_below(4));
		return "opcount";
	}

	if (!span) {
		/* nothing to change: append words (arguments where none belong) */
		if (n + 8 <= cap) {
			put32(buf + n, fz_rand());
			put32(buf + n + 4, fz_words[fz_below(16)]);
			*len = n + 8;
		}
		return "append";
	}
	off = from + fz_below((uint32_t)span);
	w = from + 4 * fz_below((uint32_t)(words ? words : 1));
	switch (fz_below(10)) {
	case 0:
	case 1:
		buf[off] ^= (uint8_t)(1u << fz_below(8));
		return "bitflip";
	case 2: {
		static const uint8_t vals[] = { 0, 0xff, 0x7f, 0x80 };

		buf[off] = fz_below(3) ? vals[fz_below(4)] : (uint8_t)fz_rand();
		return "byte";
	}
	case 3:
		if (words)
			put32(buf + w, fz_words[fz_below(16)]);
		return "word";
	case 4:
		*len = from + fz_below((uint32_t)span);
		return "truncate";
	case 5:   /* duplicate a word */
		if (words && n + 4 <= cap) {
			memmove(buf + w + 4, buf + w, n - w);
			*len = n + 4;
		}
		return "dupword";
	case 6:   /* remove a word */
		if (words) {
			memmove(buf + w, buf + w + 4, n - w - 4);
			*len = n - 4;
		}
		return "delword";
	case 7:   /* an op number, in range or just past it */
		if (words)
			put32(buf + w, fz_below(4) ? fz_below(80) : 10044 + fz_below(4));
		return "opnum";
	case 8:   /* a huge array count or length */
		if (words)
			put32(buf + w, 0x01000000u + (fz_rand() & 0xfeffffffu));
		return "hugecount";
	default:  /* a random word */
		if (words)
			put32(buf + w, fz_rand());
		return "randword";
	}
}

/* ---- sending and checking ---- */
struct fz_stats {
	unsigned sent, replies, success, garbage, other_accept, denied, closed, stray;
	unsigned nfs_ok, nfs_err, badxdr, serverfault, reconnects, resessions;
	uint32_t last_status;   /* of the last COMPOUND reply of ours decoded */
};

/* Validates one reply record (already parsed): an accepted or denied reply
 * whose results, when accepted with SUCCESS, decode as COMPOUND4res (proc 1)
 * or are empty (proc 0). header_hit: the call's header was mutated, so
 * program/version/procedure errors are fine too. */
static void fz_check_reply(struct fz_client *fc, struct proto_reply *r, int kind,
			   bool header_hit, bool ours, struct fz_stats *st)
{
	struct arena arena;
	struct xdr_stream x;
	COMPOUND4res res;

	st->replies++;
	if (r->reply_stat == RPC_MSG_DENIED) {
		st->denied++;
		assert_true(r->reject_stat == RPC_MISMATCH || r->reject_stat == RPC_AUTH_ERROR);
		return;
	}
	assert_int_equal(r->reply_stat, RPC_MSG_ACCEPTED);
	if (r->accept_stat == RPC_GARBAGE_ARGS) {
		st->garbage++;
		return;
	}
	if (r->accept_stat != RPC_SUCCESS) {
		st->other_accept++;
		if (ours && !header_hit)
			fail_msg("accept_stat %u for a call whose header was intact", r->accept_stat);
		return;
	}
	st->success++;
	if (!ours)
		return;   /* a stray reply: its call is unknown */
	if (r->body_len == 0 && (kind == SEED_NULL || header_hit))
		return;   /* NULL, or a call its mutation turned into NULL */
	if (kind == SEED_NULL && !header_hit)
		fail_msg("a NULL call answered with %zu bytes of results", r->body_len);
	arena_init(&arena, 1u << 20);
	xdr_init_decode(&x, r->body, r->body_len, &arena);
	if (!xdr_dec_COMPOUND4res(&x, &res) || xdr_remaining(&x) != 0)
		fail_msg("a COMPOUND reply that does not decode (%zu bytes)", r->body_len);
	st->last_status = res.status;
	if (res.status == NFS4_OK)
		st->nfs_ok++;
	else
		st->nfs_err++;
	if (res.status == NFS4ERR_BADXDR)
		st->badxdr++;
	if (res.status == NFS4ERR_SERVERFAULT)
		st->serverfault++;
	assert_true(res.status == NFS4_OK || (res.status >= 1 && res.status <= 100) ||
		    (res.status >= 10001 && res.status <= 10200));
	/* the slot follows what the server did with our SEQUENCE */
	if (res.resarray.len && res.resarray.val[0].resop == OP_SEQUENCE &&
	    res.resarray.val[0].u.opsequence.sr_status == NFS4_OK) {
		const SEQUENCE4resok *ok = &res.resarray.val[0].u.opsequence.u.sr_resok4;

		if (!memcmp(ok->sr_sessionid, fc->cl->sessionid, sizeof(sessionid4)) &&
		    ok->sr_slotid < NFS4_CL_MAX_SLOTS)
			fc->cl->slot_seq[ok->sr_slotid] = ok->sr_sequenceid;
	} else if (res.status == NFS4ERR_SEQ_MISORDERED || res.status == NFS4ERR_BADSESSION ||
		   res.status == NFS4ERR_DEADSESSION || res.status == NFS4ERR_STALE_CLIENTID ||
		   res.status == NFS4ERR_SEQ_FALSE_RETRY) {
		fc->suspect = true;
	}
	arena_release(&arena);
}

/* Gets the client working again after the server closed its connection, or
 * after a mutation destroyed its session or confused its slot. */
static void fz_repair(struct fz_client *fc, unsigned idx, bool conn_lost, struct fz_stats *st)
{
	uint32_t d;

	if (conn_lost) {
		proto_close(&fc->cl->conn);
		assert_int_equal(proto_connect(&fc->cl->conn, srv.host, srv.port, FZ_TIMEOUT_MS), 0);
		st->reconnects++;
	}
	fc->suspect = false;
	/* a mutated call may have moved slot 0 on without our knowing (its
	 * reply cached under a seqid we did not see): try the next few seqids */
	for (d = 1; d <= 3; d++) {
		struct nfs4_cl_compound cp;
		nfsstat4 s;

		nfs4_cl_compound_init(&cp, fc->cl);
		cp.seq_override = true;
		cp.seqid = fc->cl->slot_seq[0] + d;
		s = nfs4_cl_send(&cp) < 0 || cp.accept_stat ? NFS4ERR_SERVERFAULT : cp.status;
		nfs4_cl_compound_free(&cp);
		if (s == NFS4_OK)
			return;
		if (s != NFS4ERR_SEQ_MISORDERED && s != NFS4ERR_SEQ_FALSE_RETRY)
			break;
	}
	fz_client_down(fc);
	fz_client_up(fc, idx);
	st->resessions++;
}

/* One (possibly mutated) call as sent. */
struct fz_call {
	uint8_t buf[FZ_BUF];
	size_t len;
	int kind;
	bool header_hit;        /* the RPC header was in the mutated range */
	bool want;              /* an answer must come (header intact) */
	bool answered;
	uint32_t xid;
	unsigned nfrag;         /* record fragments it is sent in (1..4) */
	size_t cut[3];          /* where fragments end, ascending */
};

/* Sends k as one record, in k->nfrag fragments (some may be empty). */
static int fz_send(struct proto_conn *c, const struct fz_call *k)
{
	struct iovec iov[4];
	size_t at = 0;
	unsigned i;

	if (k->nfrag <= 1)
		return proto_send_record(c, k->buf, k->len);
	for (i = 0; i < k->nfrag; i++) {
		size_t end = i + 1 < k->nfrag ? k->cut[i] : k->len;

		iov[i].iov_base = (void *)(k->buf + at);
		iov[i].iov_len = end - at;
		at = end;
	}
	return proto_send_fragments(c, iov, (int)k->nfrag);
}

/* Prints the calls of a failed exchange, for minimising by hand. */
static void fz_dump(const struct fz_call *calls, unsigned n)
{
	unsigned i;
	size_t j;

	for (i = 0; i < n; i++) {
		fprintf(stderr, "call %u: %s xid %08x %zu bytes, header %s, %s:", i,
			seed_names[calls[i].kind], calls[i].xid, calls[i].len,
			calls[i].header_hit ? "hit" : "intact",
			calls[i].want ? "UNANSWERED" : "answered or droppable");
		for (j = 0; j < calls[i].len; j++)
			fprintf(stderr, "%s%02x", j % 32 ? "" : "\n  ", calls[i].buf[j]);
		fprintf(stderr, "\n");
	}
}

/* Sends the n calls back to back (the server may run them at once), then a
 * NULL ping when any of them may go unanswered, and reads replies until
 * every call that must be answered was, and the ping came back; or the
 * server closed the connection (returns false). */
static bool fz_exchange(struct fz_client *fc, struct fz_call *calls, unsigned n,
			struct fz_stats *st)
{
	struct proto_conn *c = &fc->cl->conn;
	uint32_t ping = 0, v;
	unsigned i, j, pending = 0;
	bool want_ping = false;
	uint8_t pbuf[128];
	struct xdr_stream x;

	for (i = 0; i < n; i++) {
		struct fz_call *k = &calls[i];
		bool is_call = false;

		if (k->len >= 8) {
			memcpy(&v, k->buf, 4);
			k->xid = ntohl(v);
			memcpy(&v, k->buf + 4, 4);
			/* a message that is not a CALL may be dropped unanswered */
			is_call = ntohl(v) == RPC_CALL;
		}
		/* an intact header must be answered; a damaged one may be
		 * dropped, so a NULL ping behind it proves the server read on */
		k->want = is_call && !k->header_hit;
		k->answered = false;
		pending += k->want;
		want_ping |= !k->want;
		st->sent++;
		if (fz_send(c, k) < 0)
			return false;
	}
	if (want_ping) {
		ping = proto_next_xid(c) ^ 0x50000000u;
		xdr_init_encode(&x, pbuf, sizeof(pbuf));
		assert_true(proto_encode_call_header(&x, ping, 2, NFS4_CL_PROGRAM, 4, 0, NULL));
		if (proto_send_record(c, pbuf, x.pos) < 0)
			return false;
	}
	while (pending || want_ping) {
		struct proto_reply r;
		uint8_t *rec = NULL;
		size_t rlen = 0;
		int rc = proto_recv_record(c, &rec, &rlen);

		if (rc == -ECONNRESET) {
			st->closed++;
			return false;
		}
		if (rc == -ETIMEDOUT) {
			fz_dump(calls, n);
			fail_msg("no reply within %d ms (%u calls, first %s, %zu bytes, header %s)",
				 FZ_TIMEOUT_MS, n, seed_names[calls[0].kind], calls[0].len,
				 calls[0].header_hit ? "hit" : "intact");
		}
		assert_int_equal(rc, 0);
		assert_int_equal(proto_parse_reply(rec, rlen, &r), 0);
		if (want_ping && r.xid == ping) {
			want_ping = false;
			assert_int_equal(r.reply_stat, RPC_MSG_ACCEPTED);
			assert_int_equal(r.accept_stat, RPC_SUCCESS);
			proto_reply_free(&r);
			continue;
		}
		/* a mutated xid may equal another call's: the one owed an
		 * answer takes it */
		for (i = 0; i < n; i++)
			if (calls[i].want && calls[i].xid == r.xid)
				break;
		for (j = 0; i == n && j < n; j++)
			if (calls[j].len >= 8 && calls[j].xid == r.xid)
				i = j;
		if (i < n) {
			/* one call, one reply: a second one for an intact call is a bug */
			if (calls[i].answered && !calls[i].header_hit)
				fail_msg("two replies to xid %08x (%s)", r.xid,
					 seed_names[calls[i].kind]);
			calls[i].answered = true;
			pending -= calls[i].want;
			calls[i].want = false;
			fz_check_reply(fc, &r, calls[i].kind, calls[i].header_hit, true, st);
		} else {
			st->stray++;
			fz_check_reply(fc, &r, SEED_NULL, true, false, st);
		}
		proto_reply_free(&r);
	}
	return true;
}

/* Encodes and mutates one call of a random seed kind. */
static void fz_make(struct fz_client *fc, uint32_t iter, struct fz_call *k)
{
	struct fz_ops ops;
	size_t hdr, from;
	unsigned m, nmut = 1 + fz_below(3);

	k->kind = (int)fz_below(SEED_COUNT);
	/* random xids: a mutated one never lands on another call's by a bit flip */
	k->len = fz_encode(fc, k->kind, iter, fz_rand(), k->buf,
			   sizeof(k->buf) - 64, &hdr, &ops);
	/* mostly the arguments; now and then the RPC header too */
	from = fz_below(8) == 0 ? 0 : hdr;
	k->header_hit = from < hdr;
	for (m = 0; m < nmut; m++)
		fz_mutate_once(k->buf, &k->len, sizeof(k->buf), from, &ops);
	/* now and then in several fragments: the record layer reassembles */
	k->nfrag = fz_below(8) == 0 ? 2 + fz_below(3) : 1;
	for (m = 0; m + 1 < k->nfrag; m++) {
		size_t lo = m ? k->cut[m - 1] : 0;

		k->cut[m] = lo + fz_below((uint32_t)(k->len - lo + 1));
	}
}

/* One round on client fc: a single mutated call, or now and then a burst
 * of them sent together (same slot and seqid: races in the reply cache). */
static void fz_one(struct fz_client *fc, unsigned idx, uint32_t iter, struct fz_stats *st)
{
	static struct fz_call calls[FZ_BURST];
	unsigned i, n = fz_below(8) == 0 ? 2 + fz_below(FZ_BURST - 1) : 1;

	for (i = 0; i < n; i++)
		fz_make(fc, iter, &calls[i]);
	if (!fz_exchange(fc, calls, n, st))
		fz_repair(fc, idx, true, st);
	else if (fc->suspect)
		fz_repair(fc, idx, false, st);
}

/* Full OPEN/WRITE/READ/CLOSE on a fresh client; the data reads back. */
static void fz_check_io(void)
{
	static const char data[] = "after the storm";
	struct fz_client fc = { 0 };
	struct nfs4_cl_compound cp;
	stateid4 cur = { .seqid = 1 };
	nfs_resop4 *r;

	fz_client_up(&fc, 99);
	nfs4_cl_compound_init(&cp, fc.cl);
	nfs4_cl_add_path(&cp, "");
	nfs4_cl_add_open(&cp, "after", true, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE);
	nfs4_cl_add_write(&cp, &cur, 0, data, sizeof(data), FILE_SYNC4);
	nfs4_cl_add_read(&cp, &cur, 0, 4096);
	nfs4_cl_add_close(&cp, &cur);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.accept_stat, RPC_SUCCESS);
	assert_int_equal(cp.status, NFS4_OK);
	r = nfs4_cl_res(&cp, OP_READ);
	assert_non_null(r);
	assert_int_equal(r->u.opread.u.resok4.data.len, sizeof(data));
	assert_memory_equal(r->u.opread.u.resok4.data.val, data, sizeof(data));
	nfs4_cl_compound_free(&cp);
	nfs4_cl_close(fc.cl, true);
	free(fc.fh.val);
}

/* Every seed, unmutated, does what it should: the fuzzer starts from calls
 * that reach deep into the server. */
static void test_seeds_valid(void **state)
{
	static const uint32_t expect[SEED_COUNT] = {
		[SEED_SETATTR] = NFS4ERR_SAME,   /* NVERIFY of what SETATTR set */
	};
	static struct fz_call k;
	struct fz_stats st = { 0 };
	struct fz_client fc = { 0 };
	size_t hdr;
	int kind;

	(void)state;
	fz_state = FZ_SEED;
	fz_client_up(&fc, 0);
	for (kind = 0; kind < SEED_COUNT; kind++) {
		memset(&k, 0, sizeof(k));
		k.kind = kind;
		k.len = fz_encode(&fc, kind, 7, fz_rand(), k.buf, sizeof(k.buf), &hdr, NULL);
		st.last_status = 0xffffffffu;
		st.success = 0;
		assert_true(fz_exchange(&fc, &k, 1, &st));
		if (st.success != 1 || (kind != SEED_NULL && st.last_status != expect[kind]))
			fail_msg("seed %s: success %u, status %u", seed_names[kind], st.success,
				 st.last_status);
	}
	fz_client_down(&fc);
	free(fc.fh.val);
}

static void test_fuzz(void **state)
{
	struct fz_client fcs[FZ_CLIENTS];
	struct fz_stats st = { 0 };
	const char *env;
	uint64_t seed = FZ_SEED;
	unsigned iters = FZ_ITERS, i, c;
	time_t t0 = time(NULL);

	(void)state;
	env = getenv("DAXNFS_FUZZ_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 0);
	env = getenv("DAXNFS_FUZZ_ITERS");
	if (env && *env)
		iters = (unsigned)strtoul(env, NULL, 0);
	fz_state = seed ? seed : 1;
	printf("fuzz: seed 0x%llx, %u iterations, %d clients\n", (unsigned long long)seed, iters,
	       FZ_CLIENTS);
	memset(fcs, 0, sizeof(fcs));
	for (c = 0; c < FZ_CLIENTS; c++)
		fz_client_up(&fcs[c], c);
	for (i = 0; i < iters; i++) {
		c = i % FZ_CLIENTS;
		fz_one(&fcs[c], c, i, &st);
		/* keep sessions and leases alive; repair what mutations broke */
		if ((i / FZ_CLIENTS) % 40 == 39)
			fz_repair(&fcs[c], c, false, &st);
		if (time(NULL) - t0 > FZ_BUDGET_S) {
			printf("fuzz: time budget reached after %u iterations\n", i + 1);
			break;
		}
	}
	printf("fuzz: sent %u, replies %u (success %u: nfs ok %u, nfs err %u [badxdr %u, "
	       "serverfault %u]; garbage_args %u; other %u; denied %u), stray %u, "
	       "closed %u, reconnects %u, new sessions %u, %lds\n",
	       st.sent, st.replies, st.success, st.nfs_ok, st.nfs_err, st.badxdr, st.serverfault,
	       st.garbage, st.other_accept, st.denied, st.stray, st.closed, st.reconnects,
	       st.resessions, (long)(time(NULL) - t0));
	assert_true(st.sent >= (iters < 500 ? iters : 500));
	assert_true(st.replies > 0);
	for (c = 0; c < FZ_CLIENTS; c++) {
		fz_client_down(&fcs[c]);
		free(fcs[c].fh.val);
	}
	fz_check_io();
}

static int group_setup(void **state)
{
	(void)state;
	return proto_server_start(&srv, "fuzz_live", NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	int rc = proto_server_stop(&srv);

	(void)state;
	if (rc != 0) {
		proto_server_dump_log(&srv);
		print_error("daxnfsd exited with status %d after SIGTERM\n", rc);
		return -1;
	}
	proto_server_cleanup(&srv);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds_valid),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
