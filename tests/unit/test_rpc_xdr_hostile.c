/*
 * tests/unit/test_rpc_xdr_hostile.c: the generated NFSv4 decoders reject
 * malformed input cleanly (false, stream failed, no ASan report, no huge
 * allocation), accept what the protocol layer must judge (unknown enum
 * values), and the encoders never write past the buffer they are given.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rpc_xdr_samples.h"

struct sample {
	const char *name;
	xdrs_enc_fn enc;
	xdrs_dec_fn dec;
	size_t size;
};

static COMPOUND4args s_cargs;
static COMPOUND4res s_cres;
static EXCHANGE_ID4res s_eid;
static READDIR4res s_rd;
static CREATE_SESSION4args s_cs;
static CB_COMPOUND4args s_cbargs;
static CB_COMPOUND4res s_cbres;
static fattr4 s_fattr;

static const void *sample_value(unsigned i)
{
	switch (i) {
	case 0: xdrs_compound_args(&s_cargs); return &s_cargs;
	case 1: xdrs_compound_res(&s_cres); return &s_cres;
	case 2: xdrs_exchange_id_res(&s_eid); return &s_eid;
	case 3: xdrs_readdir_res(&s_rd); return &s_rd;
	case 4: xdrs_create_session_args(&s_cs); return &s_cs;
	case 5: xdrs_cb_compound_args(&s_cbargs); return &s_cbargs;
	case 6: xdrs_cb_compound_res(&s_cbres); return &s_cbres;
	default: xdrs_fattr(&s_fattr); return &s_fattr;
	}
}

static const struct sample samples[] = {
	{ "COMPOUND4args", xdrs_enc_COMPOUND4args, xdrs_dec_COMPOUND4args, sizeof(COMPOUND4args) },
	{ "COMPOUND4res", xdrs_enc_COMPOUND4res, xdrs_dec_COMPOUND4res, sizeof(COMPOUND4res) },
	{ "EXCHANGE_ID4res", xdrs_enc_EXCHANGE_ID4res, xdrs_dec_EXCHANGE_ID4res, sizeof(EXCHANGE_ID4res) },
	{ "READDIR4res", xdrs_enc_READDIR4res, xdrs_dec_READDIR4res, sizeof(READDIR4res) },
	{ "CREATE_SESSION4args", xdrs_enc_CREATE_SESSION4args, xdrs_dec_CREATE_SESSION4args,
	  sizeof(CREATE_SESSION4args) },
	{ "CB_COMPOUND4args", xdrs_enc_CB_COMPOUND4args, xdrs_dec_CB_COMPOUND4args, sizeof(CB_COMPOUND4args) },
	{ "CB_COMPOUND4res", xdrs_enc_CB_COMPOUND4res, xdrs_dec_CB_COMPOUND4res, sizeof(CB_COMPOUND4res) },
	{ "fattr4", xdrs_enc_fattr4, xdrs_dec_fattr4, sizeof(fattr4) },
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Decodes len bytes copied into an exactly-sized heap buffer. */
static bool decode_copy(xdrs_dec_fn dec, const uint8_t *src, size_t len, size_t vsize,
			size_t *arena_used)
{
	uint8_t *buf = malloc(len ? len : 1);
	void *v = malloc(vsize);
	struct xdr_stream x;
	struct arena a;
	bool ok;

	assert_non_null(buf);
	assert_non_null(v);
	memcpy(buf, src, len);
	arena_init(&a, 0);
	xdr_init_decode(&x, buf, len, &a);
	ok = dec(&x, v);
	/* a false return always leaves the stream failed, and vice versa */
	assert_int_equal(ok, xdr_ok(&x));
	if (arena_used)
		*arena_used = a.used_total;
	arena_release(&a);
	free(v);
	free(buf);
	return ok;
}

/* Every proper prefix of a valid encoding fails to decode. */
static void test_truncation(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NSAMPLES; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		assert_true(xdrs_encode(samples[i].enc, sample_value(i), &buf, &len));
		assert_true(decode_copy(samples[i].dec, buf, len, samples[i].size, NULL));
		for (size_t cut = 0; cut < len; cut++) {
			if (decode_copy(samples[i].dec, buf, cut, samples[i].size, NULL))
				fail_msg("%s decoded from %zu of %zu bytes", samples[i].name, cut, len);
		}
		free(buf);
	}
}

/* Encoding into any buffer smaller than needed fails without overrunning it
 * (the buffer is exactly cap bytes of heap, so ASan sees any overrun). */
static void test_encode_too_small(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NSAMPLES; i++) {
		uint8_t *want = NULL;
		size_t len = 0;

		assert_true(xdrs_encode(samples[i].enc, sample_value(i), &want, &len));
		for (size_t cap = 0; cap < len; cap++) {
			uint8_t *buf = malloc(cap ? cap : 1);
			struct xdr_stream x;

			assert_non_null(buf);
			xdr_init_encode(&x, buf, cap);
			assert_false(samples[i].enc(&x, sample_value(i)));
			assert_false(xdr_ok(&x));
			free(buf);
		}
		free(want);
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A claimed array length of 0xffffffff fails before any allocation. */
static void test_hostile_array_length(void **state)
{
	uint8_t msg[64] = { 0 };
	size_t used = 1;

	(void)state;
	/* COMPOUND4args: tag<> empty, minorversion 1, argarray count 2^32-1 */
	put32(msg + 4, 1);
	put32(msg + 8, 0xffffffffu);
	assert_false(decode_copy(xdrs_dec_COMPOUND4args, msg, sizeof(msg), sizeof(COMPOUND4args), &used));
	assert_int_equal(used, 0);

	/* fattr4: bitmap4 count 2^32-1 */
	put32(msg, 0xffffffffu);
	assert_false(decode_copy(xdrs_dec_fattr4, msg, sizeof(msg), sizeof(fattr4), &used));
	assert_int_equal(used, 0);

	/* a count that fits the bytes but not their minimum size: 10 ops claim,
	 * each at least 4 bytes, in 28 remaining bytes */
	memset(msg, 0, sizeof(msg));
	put32(msg + 4, 1);
	put32(msg + 8, 10);
	assert_false(decode_copy(xdrs_dec_COMPOUND4args, msg, 40, sizeof(COMPOUND4args), &used));
	assert_int_equal(used, 0);

	/* opaque length beyond the buffer */
	put32(msg, 0x7fffffffu);
	assert_false(decode_copy(xdrs_dec_COMPOUND4args, msg, sizeof(msg), sizeof(COMPOUND4args), NULL));
}

/* Limits written in the .x are enforced both ways. */
static void test_declared_limits(void **state)
{
	uint8_t msg[256] = { 0 };
	uint8_t fh[NFS4_FHSIZE + 4] = { 0 };
	struct xdr_stream x;
	PUTFH4args p;

	(void)state;
	/* nfs_fh4 is opaque<NFS4_FHSIZE>: 129 bytes is BADXDR */
	put32(msg, NFS4_FHSIZE + 1);
	{
		struct arena a;

		arena_init(&a, 0);
		xdr_init_decode(&x, msg, 4 + NFS4_FHSIZE + 4, &a);
		assert_false(xdr_dec_PUTFH4args(&x, &p));
		put32(msg, NFS4_FHSIZE);
		xdr_init_decode(&x, msg, 4 + NFS4_FHSIZE, &a);
		assert_true(xdr_dec_PUTFH4args(&x, &p));
		assert_int_equal(p.object.len, NFS4_FHSIZE);
		arena_release(&a);
	}
	/* and an encoder refuses to emit one */
	p.object.len = NFS4_FHSIZE + 1;
	p.object.val = fh;
	xdr_init_encode(&x, msg, sizeof(msg));
	assert_false(xdr_enc_PUTFH4args(&x, &p));
	assert_false(xdr_ok(&x));

	/* eia_client_impl_id<1> with two entries */
	{
		EXCHANGE_ID4args e;
		nfs_impl_id4 ids[2];
		uint8_t out[512];

		memset(&e, 0, sizeof(e));
		memset(ids, 0, sizeof(ids));
		e.eia_clientowner.co_ownerid = xdrs_str("me");
		e.eia_state_protect.spa_how = SP4_NONE;
		e.eia_client_impl_id.len = 2;
		e.eia_client_impl_id.val = ids;
		xdr_init_encode(&x, out, sizeof(out));
		assert_false(xdr_enc_EXCHANGE_ID4args(&x, &e));
		e.eia_client_impl_id.len = 1;
		xdr_init_encode(&x, out, sizeof(out));
		assert_true(xdr_enc_EXCHANGE_ID4args(&x, &e));
	}
}

/* bool on the wire is 0 or 1; 2 is BADXDR. */
static void test_bool_two(void **state)
{
	uint8_t msg[32] = { 0 };

	(void)state;
	/* SEQUENCE4args: sessionid[16], seq, slot, highest, cachethis */
	put32(msg + 28, 1);
	{
		struct xdr_stream x;
		SEQUENCE4args s;

		xdr_init_decode(&x, msg, sizeof(msg), NULL);
		assert_true(xdr_dec_SEQUENCE4args(&x, &s));
		assert_true(s.sa_cachethis);
		put32(msg + 28, 2);
		xdr_init_decode(&x, msg, sizeof(msg), NULL);
		assert_false(xdr_dec_SEQUENCE4args(&x, &s));
		/* a bool union discriminant (locker4.new_lock_owner) too */
		put32(msg, 2);
		xdr_init_decode(&x, msg, sizeof(msg), NULL);
		locker4 l;
		assert_false(xdr_dec_locker4(&x, &l));
	}
}

/* A union whose discriminant has no arm and no default fails; an enum with an
 * unknown value decodes (the protocol layer answers it), and a union with a
 * default arm takes it. */
static void test_union_and_enum(void **state)
{
	uint8_t msg[64] = { 0 };
	struct xdr_stream x;
	struct arena a;

	(void)state;
	arena_init(&a, 0);

	/* open_claim4 with claim 99 */
	open_claim4 oc;
	put32(msg, 99);
	xdr_init_decode(&x, msg, sizeof(msg), &a);
	assert_false(xdr_dec_open_claim4(&x, &oc));
	assert_false(xdr_ok(&x));

	/* nfs_argop4 with an unknown op number has no arm */
	nfs_argop4 op;
	put32(msg, 99999);
	xdr_init_decode(&x, msg, sizeof(msg), &a);
	assert_false(xdr_dec_nfs_argop4(&x, &op));

	/* ...but the opnum itself is an enum and decodes, so the server can
	 * answer NFS4ERR_OP_ILLEGAL */
	nfs_opnum4 num;
	xdr_init_decode(&x, msg, 4, &a);
	assert_true(xdr_dec_nfs_opnum4(&x, &num));
	assert_int_equal((int32_t)num, 99999);

	/* createhow4 mode 7 */
	createhow4 ch;
	put32(msg, 7);
	xdr_init_decode(&x, msg, sizeof(msg), &a);
	assert_false(xdr_dec_createhow4(&x, &ch));

	/* nfs_ftype4 1234 and a negative nfsstat4 */
	nfs_ftype4 ft;
	put32(msg, 1234);
	xdr_init_decode(&x, msg, 4, &a);
	assert_true(xdr_dec_nfs_ftype4(&x, &ft));
	assert_int_equal((int32_t)ft, 1234);
	nfsstat4 st;
	put32(msg, 0xfffffff0u);
	xdr_init_decode(&x, msg, 4, &a);
	assert_true(xdr_dec_nfsstat4(&x, &st));
	uint8_t back[4];
	xdr_init_encode(&x, back, sizeof(back));
	assert_true(xdr_enc_nfsstat4(&x, &st));
	assert_memory_equal(back, msg, 4);

	/* ACCESS4res with an unknown status takes the void default arm */
	ACCESS4res ar;
	put32(msg, 12345);
	xdr_init_decode(&x, msg, 4, &a);
	assert_true(xdr_dec_ACCESS4res(&x, &ar));
	assert_int_equal((int32_t)ar.status, 12345);

	/* offload_info4's default arm carries data */
	offload_info4 oi;
	put32(msg, NFS4ERR_IO);
	put32(msg + 4, 0);
	put32(msg + 8, 777);
	xdr_init_decode(&x, msg, 12, &a);
	assert_true(xdr_dec_offload_info4(&x, &oi));
	assert_int_equal(oi.u.coa_bytes_copied, 777);
	xdr_init_decode(&x, msg, 8, &a);
	assert_false(xdr_dec_offload_info4(&x, &oi));

	/* an encoder refuses a discriminant it has no arm for */
	uint8_t out[64];
	oc.claim = (open_claim_type4)42;
	xdr_init_encode(&x, out, sizeof(out));
	assert_false(xdr_enc_open_claim4(&x, &oc));
	arena_release(&a);
}

#define BIG_LIST 10000u

struct big_list_run {
	bool ok;
	unsigned count;
};

/* Runs on a thread with a small stack: a recursive list codec would need
 * hundreds of bytes per entry (more under ASan) and overflow it. */
static void *big_list_thread(void *arg)
{
	struct big_list_run *run = arg;
	entry4 *ents = calloc(BIG_LIST, sizeof(*ents));
	size_t cap = (size_t)BIG_LIST * 64 + 64;
	uint8_t *buf = malloc(cap);
	struct xdr_stream x;
	READDIR4res r, d;
	struct arena a;
	const entry4 *e;

	run->ok = false;
	if (!ents || !buf)
		goto out;
	memset(&r, 0, sizeof(r));
	r.status = NFS4_OK;
	for (unsigned i = 0; i < BIG_LIST; i++) {
		ents[i].cookie = i + 3;
		ents[i].name = xdrs_str("entry");
		ents[i].nextentry = i + 1 < BIG_LIST ? &ents[i + 1] : NULL;
	}
	r.u.resok4.reply.entries = ents;
	r.u.resok4.reply.eof = true;
	xdr_init_encode(&x, buf, cap);
	if (!xdr_enc_READDIR4res(&x, &r))
		goto out;
	arena_init(&a, 0);
	xdr_init_decode(&x, buf, xdr_pos(&x), &a);
	if (xdr_dec_READDIR4res(&x, &d) && xdr_remaining(&x) == 0) {
		run->count = 0;
		for (e = d.u.resok4.reply.entries; e; e = e->nextentry) {
			if (e->cookie != run->count + 3)
				break;
			run->count++;
		}
		run->ok = true;
	}
	arena_release(&a);
out:
	free(buf);
	free(ents);
	return NULL;
}

static void test_big_readdir_list(void **state)
{
	struct big_list_run run = { false, 0 };
	pthread_attr_t attr;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
	assert_int_equal(pthread_create(&t, &attr, big_list_thread, &run), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	assert_true(run.ok);
	assert_int_equal(run.count, BIG_LIST);
}

/* A list whose "more" flag never ends runs out of bytes, not of stack. */
static void test_unterminated_list(void **state)
{
	size_t n = 20000, len = 8 + 12 + n * 24;
	uint8_t *msg = calloc(1, len);
	READDIR4res d;
	struct xdr_stream x;
	struct arena a;
	size_t off = 0;

	(void)state;
	assert_non_null(msg);
	put32(msg, NFS4_OK);
	off = 4 + 8;                        /* status, cookieverf */
	put32(msg + off, 1);                /* entries present */
	off += 4;
	while (off + 24 <= len) {
		/* cookie(8) name<0>(4) fattr4{bitmap<0>, attrlist<0>}(8) more(4) */
		put32(msg + off + 20, 1);
		off += 24;
	}
	arena_init(&a, 0);
	xdr_init_decode(&x, msg, len, &a);
	assert_false(xdr_dec_READDIR4res(&x, &d));
	arena_release(&a);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_encode_too_small),
		cmocka_unit_test(test_hostile_array_length),
		cmocka_unit_test(test_declared_limits),
		cmocka_unit_test(test_bool_two),
		cmocka_unit_test(test_union_and_enum),
		cmocka_unit_test(test_big_readdir_list),
		cmocka_unit_test(test_unterminated_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
