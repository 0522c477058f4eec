/*
 * tests/fuzz/fuzz_record.c: libFuzzer target for RPC record marking
 * (rpc/record.c, RFC 5531 §11), the first code that touches a peer's bytes.
 *
 * Input: byte 0 picks the record limit (from a short list, so that limits
 * are reached); byte 1 says how many chunk-size bytes follow; the rest is
 * the byte stream. The stream is fed to a reassembler three ways: in one
 * call, in chunks whose sizes cycle through the chunk-size bytes (a size 0
 * is an empty read), one byte at a time, and as the TCP transport reads
 * (fragment bodies straight into the record through rpc_rec_direct_room
 * and rpc_rec_direct_done, in the same chunks). Each way must give what a
 * plain model of RFC 5531 record marking gives: the same records, byte for
 * byte and in order (empty records counted, not emitted), the same error
 * (-EMSGSIZE at the fragment header that passes the limit, nothing after
 * it), the same "mid-record" state at the end; and memory held for a partial
 * record must follow the bytes received (never past the limit, at most
 * twice the bytes so far beyond the first allocation; reading directly, at
 * most twice them plus the first allocation). Any difference
 * aborts, which libFuzzer reports with the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/record.h"
#include "tests/fuzz/fuzz_common.h"

#define MAX_RECORDS 4096   /* more than a 4 KiB input can hold (4-byte headers) */

static const uint32_t limits[] = {
	0, 1, 4, 7, 8, 64, 100, 4096, RPC_REC_FIRST_ALLOC, 1u << 20,
};

struct rec_list {
	size_t n;
	uint8_t *rec[MAX_RECORDS];
	size_t len[MAX_RECORDS];
};

struct outcome {
	struct rec_list recs;
	int rc;                 /* 0 or the first error */
	uint64_t records;       /* records ended, empty ones too */
	bool partial;
};

static void emit(void *ctx, uint8_t *rec, size_t len)
{
	struct rec_list *l = ctx;

	fuzz_check(rec != NULL && len > 0, "an empty record was emitted");
	fuzz_check(l->n < MAX_RECORDS, "more records emitted than the stream holds");
	l->rec[l->n] = rec;
	l->len[l->n] = len;
	l->n++;
}

static void outcome_release(struct outcome *o)
{
	for (size_t i = 0; i < o->recs.n; i++)
		free(o->recs.rec[i]);
	o->recs.n = 0;
}

/* RFC 5531 §11 read straight off the whole stream. */
static void model(const uint8_t *s, size_t n, uint32_t max_record, struct outcome *o)
{
	size_t pos = 0, acc = 0;
	uint8_t *buf = malloc(n ? n : 1);

	fuzz_check(buf != NULL, "no memory for the model");
	memset(o, 0, sizeof(*o));
	while (pos < n) {
		uint32_t mark, flen;
		bool last;

		if (n - pos < 4) {
			o->partial = true;      /* a header cut short */
			break;
		}
		mark = fuzz_get_be32(s + pos);
		pos += 4;
		flen = mark & ~RPC_REC_LAST_FRAG;
		last = (mark & RPC_REC_LAST_FRAG) != 0;
		if (flen > max_record || acc > max_record - flen) {
			o->rc = -EMSGSIZE;
			break;
		}
		if (n - pos < flen) {
			memcpy(buf + acc, s + pos, n - pos);
			acc += n - pos;
			o->partial = true;      /* a fragment body cut short */
			break;
		}
		memcpy(buf + acc, s + pos, flen);
		acc += flen;
		pos += flen;
		if (!last)
			continue;
		o->records++;
		if (acc > 0) {
			uint8_t *rec = malloc(acc);

			fuzz_check(rec != NULL, "no memory for the model");
			memcpy(rec, buf, acc);
			emit(&o->recs, rec, acc);
		}
		acc = 0;
	}
	/* bytes of an unfinished record received: mid-record too */
	if (o->rc == 0 && acc > 0)
		o->partial = true;
	free(buf);
}

/* What may be held for the record being received after a feed returned 0. */
static void check_held(const struct rpc_recbuf *r, bool direct)
{
	size_t held = rpc_rec_held(r);

	if (!rpc_rec_partial(r)) {
		fuzz_check(held == 0, "memory held between records");
		return;
	}
	fuzz_check(held <= r->max_record, "more held than the record limit");
	if (direct)
		fuzz_check(held <= 2 * r->len + RPC_REC_FIRST_ALLOC,
			   "held memory (direct reads) does not follow the bytes received");
	else
		fuzz_check(held <= RPC_REC_FIRST_ALLOC || held <= 2 * r->len,
			   "held memory does not follow the bytes received");
	fuzz_check(r->len <= held, "record longer than its buffer");
}

/* One read of take bytes at s: straight into the record when it offers
 * room (as much of them as fits), else through rpc_rec_feed. Sets *used. */
static int read_direct(struct rpc_recbuf *r, const uint8_t *s, size_t take, size_t *used,
		       struct rec_list *recs)
{
	uint8_t *where;
	long room = rpc_rec_direct_room(r, &where);

	if (room < 0)
		return (int)room;
	if (room == 0 || take == 0) {
		*used = take;
		return rpc_rec_feed(r, s, take, emit, recs);
	}
	fuzz_check(where != NULL, "room without a place");
	if (take > (size_t)room)
		take = (size_t)room;
	memcpy(where, s, take);
	*used = take;
	return rpc_rec_direct_done(r, take, emit, recs);
}

/* Feeds s whole (one_shot), or in pieces whose sizes cycle through
 * sizes[0..nsizes) (1 byte each when nsizes is 0). A size 0 is an empty
 * read; a whole cycle of them is followed by a 1-byte read so that the
 * stream moves on. An empty read at the end must change nothing. */
static void feed(const uint8_t *s, size_t n, uint32_t max_record, const uint8_t *sizes,
		 size_t nsizes, bool one_shot, bool direct, struct outcome *o)
{
	struct rpc_recbuf r;
	size_t pos = 0, k = 0, empty_run = 0;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	rpc_rec_init(&r, max_record);
	do {
		size_t take = one_shot ? n : (nsizes ? sizes[k++ % nsizes] : 1);

		if (take == 0 && ++empty_run > nsizes) {
			take = 1;
			empty_run = 0;
		} else if (take > 0) {
			empty_run = 0;
		}
		if (take > n - pos)
			take = n - pos;
		if (direct) {
			rc = read_direct(&r, s + pos, take, &take, &o->recs);
		} else {
			rc = rpc_rec_feed(&r, s + pos, take, emit, &o->recs);
		}
		pos += take;
		if (rc == 0) {
			check_held(&r, direct);
			/* a fragment whose last byte came is ended at once (a
			 * finished request must not wait for the peer's next bytes) */
			fuzz_check(!(r.in_frag && r.frag_left == 0), "a complete fragment left pending");
		}
	} while (rc == 0 && pos < n);
	if (rc == 0) {
		size_t emitted = o->recs.n;
		uint64_t ended = r.records;
		bool partial = rpc_rec_partial(&r);

		rc = rpc_rec_feed(&r, s + pos, 0, emit, &o->recs);
		fuzz_check(rc == 0, "an empty read failed");
		fuzz_check(o->recs.n == emitted && r.records == ended &&
			   rpc_rec_partial(&r) == partial, "an empty read changed something");
	}
	o->rc = rc;   /* after an error the stream cannot continue */
	o->records = r.records;
	o->partial = rc == 0 && rpc_rec_partial(&r);
	rpc_rec_release(&r);
	fuzz_check(rpc_rec_held(&r) == 0 && !rpc_rec_partial(&r), "release left a record");
}

static void same(const struct outcome *want, const struct outcome *got, const char *how)
{
	fuzz_check(got->rc == want->rc, how);
	fuzz_check(got->recs.n == want->recs.n, how);
	for (size_t i = 0; i < want->recs.n; i++) {
		fuzz_check(got->recs.len[i] == want->recs.len[i], how);
		fuzz_check(memcmp(got->recs.rec[i], want->recs.rec[i], want->recs.len[i]) == 0, how);
	}
	if (want->rc == 0) {
		fuzz_check(got->records == want->records, how);
		fuzz_check(got->partial == want->partial, how);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome want, whole, chunked, bytewise, direct;
	const uint8_t *sizes, *stream;
	size_t nsizes, n;
	uint32_t max_record;

	if (size < 2)
		return 0;
	max_record = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	nsizes = data[1] % 32;
	if (nsizes > size - 2)
		nsizes = size - 2;
	sizes = data + 2;
	stream = data + 2 + nsizes;
	n = size - 2 - nsizes;

	model(stream, n, max_record, &want);
	feed(stream, n, max_record, NULL, 0, true, false, &whole);
	same(&want, &whole, "one-shot reassembly differs from the model");
	feed(stream, n, max_record, sizes, nsizes, false, false, &chunked);
	same(&want, &chunked, "chunked reassembly differs from the model");
	feed(stream, n, max_record, NULL, 0, false, false, &bytewise);
	same(&want, &bytewise, "byte-at-a-time reassembly differs from the model");
	feed(stream, n, max_record, sizes, nsizes, false, true, &direct);
	same(&want, &direct, "reassembly with direct reads differs from the model");

	outcome_release(&want);
	outcome_release(&whole);
	outcome_release(&chunked);
	outcome_release(&bytewise);
	outcome_release(&direct);
	return 0;
}
