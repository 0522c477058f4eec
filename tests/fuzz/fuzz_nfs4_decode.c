/*
 * tests/fuzz/fuzz_nfs4_decode.c: libFuzzer entry point for the generated
 * NFSv4 decoders, on what a peer can send us: COMPOUND4args (whole, and op
 * by op as server/nfs4_compound.c does) and CB_COMPOUND4res, plus the two
 * messages our own test client decodes (COMPOUND4res, CB_COMPOUND4args).
 *
 * Beyond "no crash, no ASan report" it checks three invariants and aborts
 * when one breaks:
 *   - a successful decode re-encodes to as many bytes as it consumed, and
 *     decoding that re-encoding gives the same bytes again (the input may
 *     differ only in padding, which we write as zeros);
 *   - a failed decode leaves the stream failed (false <=> !xdr_ok);
 *   - the arena holds at most a bounded multiple of the input size.
 * Built by the fuzz configuration (clang, -DDAXNFS_FUZZ=ON: the decoders
 * themselves under ASan and UBSan too, tests/fuzz/CMakeLists.txt); replayed
 * under gcc + ASan by tests/unit/test_rpc_xdr_mutate.c, which includes this
 * file. How to run it, short and long: docs/fuzzing.md (scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/nfs4_xdr_gen.h"

/* Arena growth allowed per input byte: the largest element (nfs_resop4, a
 * few hundred bytes) may be claimed by a 4-byte encoding, nested a few deep. */
#define FUZZ_ARENA_PER_BYTE 1024u
#define FUZZ_ARENA_SLACK    65536u

typedef bool (*fuzz_dec_fn)(struct xdr_stream *, void *);
typedef bool (*fuzz_enc_fn)(struct xdr_stream *, const void *);

#define FUZZ_CODEC(T) \
	static bool fuzz_dec_##T(struct xdr_stream *x, void *v) { return xdr_dec_##T(x, v); } \
	static bool fuzz_enc_##T(struct xdr_stream *x, const void *v) { return xdr_enc_##T(x, v); }
FUZZ_CODEC(COMPOUND4args)
FUZZ_CODEC(COMPOUND4res)
FUZZ_CODEC(CB_COMPOUND4args)
FUZZ_CODEC(CB_COMPOUND4res)
FUZZ_CODEC(nfs_argop4)

/* Counters the replay test reads to prove it exercised both outcomes. */
static unsigned long fuzz_decoded_ok, fuzz_decoded_bad;

static void fuzz_check(bool cond)
{
	if (!cond)
		abort();
}

/* Same bytes except that padding we wrote as zero may have been non-zero:
 * compare by re-encoding the re-decoded value instead of the raw input. */
static void fuzz_reencode(fuzz_dec_fn dec, fuzz_enc_fn enc, const void *v, size_t consumed,
			  size_t vsize)
{
	uint8_t *out = malloc(consumed ? consumed : 1);
	uint8_t *out2 = malloc(consumed ? consumed : 1);
	void *v2 = malloc(vsize);
	struct xdr_stream x;
	struct arena a;
	size_t n;

	fuzz_check(out && out2 && v2);
	xdr_init_encode(&x, out, consumed);
	fuzz_check(enc(&x, v));
	n = xdr_pos(&x);
	fuzz_check(n == consumed);

	arena_init(&a, 0);
	xdr_init_decode(&x, out, n, &a);
	fuzz_check(dec(&x, v2));
	fuzz_check(xdr_pos(&x) == n);
	xdr_init_encode(&x, out2, n);
	fuzz_check(enc(&x, v2));
	fuzz_check(xdr_pos(&x) == n && memcmp(out, out2, n) == 0);
	arena_release(&a);
	free(v2);
	free(out2);
	free(out);
}

static void fuzz_one(fuzz_dec_fn dec, fuzz_enc_fn enc, size_t vsize, const uint8_t *data, size_t size)
{
	void *v = malloc(vsize);
	struct xdr_stream x;
	struct arena a;
	bool ok;

	fuzz_check(v != NULL);
	arena_init(&a, 0);
	xdr_init_decode(&x, data, size, &a);
	ok = dec(&x, v);
	fuzz_check(ok == xdr_ok(&x));
	fuzz_check(a.used_total <= (size_t)FUZZ_ARENA_PER_BYTE * size + FUZZ_ARENA_SLACK);
	if (ok) {
		fuzz_decoded_ok++;
		fuzz_reencode(dec, enc, v, xdr_pos(&x), vsize);
	} else {
		fuzz_decoded_bad++;
	}
	arena_release(&a);
	free(v);
}

/* The server's way: header by hand, then one nfs_argop4 at a time. */
static void fuzz_op_by_op(const uint8_t *data, size_t size)
{
	struct xdr_stream x;
	struct xdr_opaque tag;
	uint32_t minor, n;
	struct arena a;

	arena_init(&a, 0);
	xdr_init_decode(&x, data, size, &a);
	if (xdr_dec_utf8str_cs(&x, &tag) && xdr_get_u32(&x, &minor) &&
	    xdr_get_array_len(&x, 0, 4, &n)) {
		for (uint32_t i = 0; i < n; i++) {
			nfs_argop4 op;
			size_t start = xdr_pos(&x);

			if (!xdr_dec_nfs_argop4(&x, &op)) {
				fuzz_check(!xdr_ok(&x));
				break;
			}
			fuzz_reencode(fuzz_dec_nfs_argop4, fuzz_enc_nfs_argop4, &op,
				      xdr_pos(&x) - start, sizeof(op));
		}
	}
	fuzz_check(a.used_total <= (size_t)FUZZ_ARENA_PER_BYTE * size + FUZZ_ARENA_SLACK);
	arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(fuzz_dec_COMPOUND4args, fuzz_enc_COMPOUND4args, sizeof(COMPOUND4args), data, size);
	fuzz_one(fuzz_dec_CB_COMPOUND4res, fuzz_enc_CB_COMPOUND4res, sizeof(CB_COMPOUND4res), data, size);
	fuzz_one(fuzz_dec_COMPOUND4res, fuzz_enc_COMPOUND4res, sizeof(COMPOUND4res), data, size);
	fuzz_one(fuzz_dec_CB_COMPOUND4args, fuzz_enc_CB_COMPOUND4args, sizeof(CB_COMPOUND4args), data, size);
	fuzz_op_by_op(data, size);
	return 0;
}
