/*
 * tests/unit/test_rpc_xdr_mutate.c: deterministic corpus replay of the fuzz
 * entry point (tests/fuzz/fuzz_nfs4_decode.c) over a few thousand mutations
 * of valid NFSv4 messages, so that CI exercises the decoders' error paths
 * under gcc + ASan/UBSan without libFuzzer. The entry point aborts on any
 * broken invariant; this test also checks both outcomes were reached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rpc_xdr_samples.h"
#include "tests/fuzz/fuzz_nfs4_decode.c"

#define MUTATIONS_PER_SEED 700u
#define MAX_INPUT 8192u

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: fixed seed, so every run replays the same corpus */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static nfs_argop4 sink_ops[16];
static netloc4 sink_netloc;
static stateid4 sink_stateids[2];

/* A compound touching many argument shapes: unions with bool, uint32 and enum
 * discriminants, fixed and variable arrays, nested optional-free structs. */
static void kitchen_sink(COMPOUND4args *c)
{
	nfs_argop4 *op = sink_ops;
	unsigned n = 0;

	memset(c, 0, sizeof(*c));
	memset(sink_ops, 0, sizeof(sink_ops));
	c->minorversion = 2;

	op[n].argop = OP_PUTROOTFH;
	n++;
	op[n].argop = OP_LOOKUP;
	op[n].u.oplookup.objname = xdrs_str("dir");
	n++;
	op[n].argop = OP_CREATE;
	op[n].u.opcreate.objtype.type = NF4LNK;
	op[n].u.opcreate.objtype.u.linkdata = xdrs_str("../target");
	op[n].u.opcreate.objname = xdrs_str("link");
	xdrs_fattr(&op[n].u.opcreate.createattrs);
	n++;
	op[n].argop = OP_LOCK;
	op[n].u.oplock.locktype = WRITE_LT;
	op[n].u.oplock.length = NFS4_UINT64_MAX;
	op[n].u.oplock.locker.new_lock_owner = true;
	op[n].u.oplock.locker.u.open_owner.lock_owner.owner = xdrs_str("lo");
	n++;
	op[n].argop = OP_WRITE;
	op[n].u.opwrite.stable = FILE_SYNC4;
	op[n].u.opwrite.data = xdrs_str("hello, world");
	n++;
	op[n].argop = OP_SETATTR;
	xdrs_fattr(&op[n].u.opsetattr.obj_attributes);
	n++;
	op[n].argop = OP_READDIR;
	op[n].u.opreaddir.maxcount = 4096;
	op[n].u.opreaddir.attr_request.len = 2;
	op[n].u.opreaddir.attr_request.val = xdrs_mask_words;
	n++;
	op[n].argop = OP_LAYOUTGET;
	op[n].u.oplayoutget.loga_layout_type = LAYOUT4_NFSV4_1_FILES;
	op[n].u.oplayoutget.loga_iomode = LAYOUTIOMODE4_RW;
	n++;
	op[n].argop = OP_LAYOUTRETURN;
	op[n].u.oplayoutreturn.lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
	op[n].u.oplayoutreturn.lora_layoutreturn.u.lr_layout.lrf_body = xdrs_str("body");
	n++;
	op[n].argop = OP_LAYOUTCOMMIT;
	op[n].u.oplayoutcommit.loca_last_write_offset.no_newoffset = true;
	op[n].u.oplayoutcommit.loca_last_write_offset.u.no_offset = 4095;
	op[n].u.oplayoutcommit.loca_time_modify.nt_timechanged = false;
	n++;
	op[n].argop = OP_TEST_STATEID;
	op[n].u.optest_stateid.ts_stateids.len = 2;
	op[n].u.optest_stateid.ts_stateids.val = sink_stateids;
	n++;
	op[n].argop = OP_COPY;
	sink_netloc.nl_type = NL4_NETADDR;
	sink_netloc.u.nl_addr.na_r_netid = xdrs_str("tcp");
	sink_netloc.u.nl_addr.na_r_addr = xdrs_str("10.0.0.1.8.1");
	op[n].u.opcopy.ca_source_server.len = 1;
	op[n].u.opcopy.ca_source_server.val = &sink_netloc;
	n++;
	op[n].argop = OP_CLONE;
	op[n].u.opclone.cl_count = 1 << 20;
	n++;
	op[n].argop = OP_SECINFO_NO_NAME;
	op[n].u.opsecinfo_no_name = SECINFO_STYLE4_PARENT;
	n++;
	op[n].argop = OP_ILLEGAL;
	n++;
	c->argarray.len = n;
	c->argarray.val = sink_ops;
}

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
	static const uint32_t words[] = { 0, 1, 2, 3, 4, 0x7fffffffu, 0x80000000u, 0xffffffffu,
					  0xfffffffeu, 10044, 53, 71, 129, 1024, 1025 };
	unsigned steps = 1 + rnd() % 3;

	for (unsigned s = 0; s < steps && *len; s++) {
		size_t words_n = *len / 4;
		size_t at = words_n ? (rnd() % words_n) * 4 : 0;

		switch (rnd() % 6) {
		case 0:         /* bit flip */
			buf[rnd() % *len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: {       /* interesting word at an aligned offset */
			uint32_t w = words[rnd() % (sizeof(words) / sizeof(words[0]))];

			if (at + 4 <= *len) {
				buf[at] = (uint8_t)(w >> 24);
				buf[at + 1] = (uint8_t)(w >> 16);
				buf[at + 2] = (uint8_t)(w >> 8);
				buf[at + 3] = (uint8_t)w;
			}
			break;
		}
		case 2:         /* truncate */
			*len = rnd() % *len;
			break;
		case 3: {       /* delete an aligned chunk */
			size_t n = 4 * (1 + rnd() % 4);

			if (at + n <= *len) {
				memmove(buf + at, buf + at + n, *len - at - n);
				*len -= n;
			}
			break;
		}
		case 4: {       /* duplicate an aligned chunk */
			size_t n = 4 * (1 + rnd() % 8);

			if (at + n <= *len && *len + n <= cap) {
				memmove(buf + at + n, buf + at, *len - at);
				*len += n;
			}
			break;
		}
		default:        /* small random count in a word */
			if (at + 4 <= *len) {
				memset(buf + at, 0, 3);
				buf[at + 3] = (uint8_t)(rnd() % 80);
			}
			break;
		}
	}
}

static void replay(const uint8_t *seed, size_t seed_len)
{
	uint8_t *buf = malloc(MAX_INPUT);

	assert_non_null(buf);
	assert_true(seed_len <= MAX_INPUT);
	LLVMFuzzerTestOneInput(seed, seed_len);
	for (unsigned i = 0; i < MUTATIONS_PER_SEED; i++) {
		size_t len = seed_len;
		uint8_t *exact;

		memcpy(buf, seed, seed_len);
		mutate(buf, &len, MAX_INPUT);
		/* an exactly-sized copy, so ASan sees reads past the end */
		exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	free(buf);
}

static void test_mutation_replay(void **state)
{
	COMPOUND4args cargs, sink;
	COMPOUND4res cres;
	CB_COMPOUND4args cbargs;
	CB_COMPOUND4res cbres;
	struct {
		xdrs_enc_fn enc;
		const void *val;
	} seeds[] = {
		{ xdrs_enc_COMPOUND4args, &cargs },
		{ xdrs_enc_COMPOUND4args, &sink },
		{ xdrs_enc_COMPOUND4res, &cres },
		{ xdrs_enc_CB_COMPOUND4args, &cbargs },
		{ xdrs_enc_CB_COMPOUND4res, &cbres },
	};

	(void)state;
	xdrs_compound_args(&cargs);
	kitchen_sink(&sink);
	xdrs_compound_res(&cres);
	xdrs_cb_compound_args(&cbargs);
	xdrs_cb_compound_res(&cbres);
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		uint8_t *seed = NULL;
		size_t len = 0;

		assert_true(xdrs_encode(seeds[i].enc, seeds[i].val, &seed, &len));
		replay(seed, len);
		free(seed);
	}
	/* both outcomes were reached many times (4 whole-message decoders per input) */
	assert_true(fuzz_decoded_ok > 500);
	assert_true(fuzz_decoded_bad > 5000);
}

/* Every opnum 0..80 plus a few far ones as a one-op compound: known ops with
 * zeroed arguments decode or fail cleanly; unknown ones fail the argop union. */
static void test_every_opnum(void **state)
{
	uint8_t msg[512];

	(void)state;
	for (uint32_t op = 0; op < 84; op++) {
		uint32_t num = op < 80 ? op : (uint32_t[]){ 10044, 10045, 0xffffffffu, 0x80000000u }[op - 80];

		memset(msg, 0, sizeof(msg));
		msg[11] = 1;                     /* tag<0>, minor 0, one op */
		msg[12] = (uint8_t)(num >> 24);
		msg[13] = (uint8_t)(num >> 16);
		msg[14] = (uint8_t)(num >> 8);
		msg[15] = (uint8_t)num;
		for (size_t len = 12; len <= sizeof(msg); len += 4)
			LLVMFuzzerTestOneInput(msg, len);
	}
	assert_true(fuzz_decoded_ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutation_replay),
		cmocka_unit_test(test_every_opnum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
