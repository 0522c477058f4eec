/*
 * tests/fuzz/fuzz_fattr4.c: libFuzzer target for the server's hand-written
 * fattr4 decoder (server/nfs4_attr.c: nfs4_fattr_to_setattr, used by
 * SETATTR, CREATE and OPEN's createattrs; the comparison of VERIFY and
 * NVERIFY in nfs4_getattr.c) and for owner strings (server/nfs4_idmap.c).
 *
 * Input: a fattr4 as XDR (attrmask, then attr_vals), decoded by the
 * generated codec exactly as a COMPOUND argument would be; the whole input
 * also serves as one owner string. Over two real exports on a scratch
 * directory (fuzz_common.c), at minor versions 1 and 2, with an AUTH_SYS
 * caller (numeric owners) and a caller of another flavour (name@domain):
 *   - a decoded setattr sets exactly the attributes of the mask, each with
 *     a valid value (mode <= 07777, nanoseconds < 10^9, one of "client
 *     time" and "server time"), or the decoder says why not with one of
 *     the statuses RFC 8881 allows here;
 *   - every owner or group that decodes maps back: the id encoded (as a
 *     number, and as name@domain) decodes to the same id; a canonical
 *     decimal string decodes to its value;
 *   - VERIFY and NVERIFY of the same attributes give opposite answers (or
 *     the same error), and VERIFY of the server's own encoding of a mask
 *     says "same" (both skipped when the mask holds values that may move
 *     on their own: free space and file counts, access time).
 */
#include <stdio.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"
#include "tests/fuzz/fuzz_common.h"

#define FUZZ_UID 4242u
#define ATTR_BITS 96u          /* the attribute numbers the server knows (3 words) */

static struct rpc_request fake_req;
static struct nfs4_fh pseudo_root, export_root;
/* The server the compounds run on (no whole server here): the encoder reads
 * its lease time and delegation options. */
static struct nfs4_server fattr_srv = { .lease_seconds = 90 };

/* Builds a compound context on fh (a copy, with references) for one check. */
static void compound_on(struct nfs4_compound *c, struct arena *a, const struct nfs4_fh *fh,
			uint32_t minor)
{
	memset(c, 0, sizeof(*c));
	c->srv = &fattr_srv;
	arena_init(a, 1u << 24);
	c->req = &fake_req;
	c->arena = a;
	c->minorversion = minor;
	nfs4_fh_copy(&c->cur, fh);
	nfs4_export_cred(c->cur.exp, &fake_req.cred, &c->cred);
}

static void compound_end(struct nfs4_compound *c)
{
	nfs4_fh_clear(&c->cur);
	nfs4_fh_clear(&c->saved);
	arena_release(c->arena);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nfs4_compound c;
	struct arena a;
	nfs_argop4 look = { .argop = OP_LOOKUP, .u.oplookup.objname = { 1, (uint8_t *)"a" } };
	nfs_resop4 lres = { .resop = OP_LOOKUP }, pres = { .resop = OP_PUTROOTFH };
	char base[512];

	(void)argc;
	(void)argv;
	fuzz_check(fuzz_scratch_dir(16, base, sizeof(base)) == 0, "no scratch directory");
	fuzz_check(fuzz_server_up(base, FUZZ_UID, false) == 0, "exports did not come up");
	fake_req.cred.flavor = RPC_AUTH_SYS;
	fake_req.cred.uid = FUZZ_UID;
	fake_req.cred.gid = FUZZ_UID;

	/* the pseudo root "/" and the root of export 1 ("/a"), as the handlers
	 * themselves make them */
	memset(&c, 0, sizeof(c));
	c.srv = &fattr_srv;
	arena_init(&a, 0);
	c.req = &fake_req;
	c.arena = &a;
	c.minorversion = 1;
	fuzz_check(nfs4_op_putrootfh(&c, NULL, &pres) == NFS4_OK, "PUTROOTFH failed");
	nfs4_fh_copy(&pseudo_root, &c.cur);
	fuzz_check(nfs4_op_lookup(&c, &look, &lres) == NFS4_OK, "LOOKUP a failed");
	nfs4_fh_copy(&export_root, &c.cur);
	fuzz_check(export_root.obj != NULL, "/a is not the export");
	nfs4_fh_clear(&c.cur);
	arena_release(&a);
	return 0;
}

/* ---- owner strings ---- */

/* A canonical decimal id ("0", "4242", never "042" or "+1"): its value. */
static bool canonical_number(const uint8_t *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* id, encoded both ways, must come back as id. */
static void owner_round_trip(uint32_t id, bool group)
{
	struct xdr_opaque s;
	struct arena a;
	uint32_t back;

	arena_init(&a, 0);
	for (int names = 0; names < 2; names++) {
		fuzz_check(nfs4_owner_encode(&a, id, group, names, &s), "owner encode failed");
		fuzz_check(s.len > 0 && s.len < 1024, "owner encoding of odd length");
		fuzz_check(nfs4_owner_decode(&s, group, &back) == NFS4_OK,
			   "an owner string the server made does not decode");
		fuzz_check(back == id, "owner string maps back to another id");
	}
	arena_release(&a);
}

static void check_owner(const uint8_t *data, size_t size, bool group)
{
	struct xdr_opaque s = { (uint32_t)size, (uint8_t *)data };
	uint32_t id = 0, want;
	nfsstat4 st;

	if (size > UINT32_MAX)
		return;
	st = nfs4_owner_decode(&s, group, &id);
	fuzz_check(st == NFS4_OK || st == NFS4ERR_BADOWNER, "owner decode: unexpected status");
	if (canonical_number(data, size, &want))
		fuzz_check(st == NFS4_OK && id == want, "a canonical numeric owner did not decode");
	if (st == NFS4_OK)
		owner_round_trip(id, group);
}

/* ---- setattr decoding ---- */

static bool mask_bit(const bitmap4 *m, unsigned n)
{
	return n / 32 < m->len && (m->val[n / 32] >> (n % 32) & 1u);
}

static bool settable(unsigned n)
{
	return n == FATTR4_SIZE || n == FATTR4_MODE || n == FATTR4_OWNER ||
	       n == FATTR4_OWNER_GROUP || n == FATTR4_TIME_ACCESS_SET ||
	       n == FATTR4_TIME_MODIFY_SET;
}

static void check_settime(const struct pmem_setattr *sa, uint32_t client, uint32_t server,
			  const struct pmem_time *t, bool in_mask)
{
	bool c = (sa->valid & client) != 0, s = (sa->valid & server) != 0;

	fuzz_check(in_mask ? (c != s) : (!c && !s), "time set both ways, or without its bit");
	if (c)
		fuzz_check(t->nsec < 1000000000u, "nanoseconds out of range accepted");
}

static void check_setattr(struct nfs4_compound *c, const fattr4 *f)
{
	struct pmem_setattr sa;
	bitmap4 set;
	nfsstat4 st = nfs4_fattr_to_setattr(c, f, true, &sa, &set);

	if (st != NFS4_OK) {
		fuzz_check(st == NFS4ERR_ATTRNOTSUPP || st == NFS4ERR_INVAL || st == NFS4ERR_BADXDR ||
			   st == NFS4ERR_BADOWNER || st == NFS4ERR_SERVERFAULT,
			   "setattr decode: a status RFC 8881 does not allow here");
		return;
	}
	for (uint32_t w = 3; w < f->attrmask.len; w++)
		fuzz_check(f->attrmask.val[w] == 0, "attributes beyond the known ones accepted");
	for (unsigned n = 0; n < ATTR_BITS; n++) {
		bool in = mask_bit(&f->attrmask, n);

		fuzz_check(mask_bit(&set, n) == in, "attrsset differs from the request's mask");
		fuzz_check(!in || settable(n), "a read-only attribute accepted");
	}
	fuzz_check(((sa.valid & PMEM_SET_SIZE) != 0) == mask_bit(&set, FATTR4_SIZE), "size flag");
	fuzz_check(((sa.valid & PMEM_SET_MODE) != 0) == mask_bit(&set, FATTR4_MODE), "mode flag");
	fuzz_check(((sa.valid & PMEM_SET_UID) != 0) == mask_bit(&set, FATTR4_OWNER), "uid flag");
	fuzz_check(((sa.valid & PMEM_SET_GID) != 0) == mask_bit(&set, FATTR4_OWNER_GROUP),
		   "gid flag");
	fuzz_check(!(sa.valid & PMEM_SET_MODE) || sa.mode <= 07777, "mode past 07777 accepted");
	check_settime(&sa, PMEM_SET_ATIME, PMEM_SET_ATIME_NOW, &sa.atime,
		      mask_bit(&set, FATTR4_TIME_ACCESS_SET));
	check_settime(&sa, PMEM_SET_MTIME, PMEM_SET_MTIME_NOW, &sa.mtime,
		      mask_bit(&set, FATTR4_TIME_MODIFY_SET));
	if (sa.valid & PMEM_SET_UID)
		owner_round_trip(sa.uid, false);
	if (sa.valid & PMEM_SET_GID)
		owner_round_trip(sa.gid, true);
}

/* ---- VERIFY / NVERIFY ---- */

/* Values that can change between two encodings without anyone asking. */
static bool mask_is_stable(const bitmap4 *m)
{
	static const unsigned moving[] = {
		FATTR4_FILES_AVAIL, FATTR4_FILES_FREE, FATTR4_SPACE_AVAIL, FATTR4_SPACE_FREE,
		FATTR4_SPACE_USED, FATTR4_TIME_ACCESS,
	};

	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++)
		if (mask_bit(m, moving[i]))
			return false;
	return true;
}

static void check_verify_pair(struct nfs4_compound *c, const fattr4 *f)
{
	nfs_argop4 va = { .argop = OP_VERIFY, .u.opverify.obj_attributes = *f };
	nfs_argop4 na = { .argop = OP_NVERIFY, .u.opnverify.obj_attributes = *f };
	nfs_resop4 vr = { .resop = OP_VERIFY }, nr = { .resop = OP_NVERIFY };
	nfsstat4 sv = nfs4_op_verify(c, &va, &vr);
	nfsstat4 sn = nfs4_op_nverify(c, &na, &nr);

	if (!mask_is_stable(&f->attrmask))
		return;
	if (sv == NFS4_OK)
		fuzz_check(sn == NFS4ERR_SAME, "VERIFY same but NVERIFY not");
	else if (sv == NFS4ERR_NOT_SAME)
		fuzz_check(sn == NFS4_OK, "VERIFY differs but NVERIFY not");
	else
		fuzz_check(sn == sv, "VERIFY and NVERIFY fail differently");
}

/* The server's own encoding of the mask must verify as the same. */
static void check_verify_own(struct nfs4_compound *c, const bitmap4 *mask)
{
	nfs_argop4 va;
	nfs_resop4 vr = { .resop = OP_VERIFY };
	fattr4 ours;

	for (unsigned n = 0; n < ATTR_BITS; n++)
		if (mask_bit(mask, n) && (!nfs4_attr_supported(c, n) || nfs4_attr_write_only(n) ||
					  n == FATTR4_RDATTR_ERROR))
			return;
	if (nfs4_bitmap_beyond(mask) || !mask_is_stable(mask))
		return;
	if (nfs4_fattr_encode(c, &c->cur, mask, &ours) != NFS4_OK)
		return;
	memset(&va, 0, sizeof(va));
	va.argop = OP_VERIFY;
	va.u.opverify.obj_attributes.attrmask = *mask;
	va.u.opverify.obj_attributes.attr_vals = ours.attr_vals;
	fuzz_check(nfs4_op_verify(c, &va, &vr) == NFS4_OK,
		   "VERIFY of the server's own encoding is not the same");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct { uint32_t minor, flavor; } runs[] = {
		{ 1, RPC_AUTH_SYS }, { 2, RPC_AUTH_GSS },
	};
	const struct nfs4_fh *fhs[] = { &pseudo_root, &export_root };
	struct xdr_stream x;
	struct arena a;
	fattr4 f;
	bool decoded;

	check_owner(data, size, false);
	check_owner(data, size, true);

	arena_init(&a, 1u << 24);
	xdr_init_decode(&x, data, size, &a);
	decoded = xdr_dec_fattr4(&x, &f);
	for (size_t r = 0; decoded && r < sizeof(runs) / sizeof(runs[0]); r++) {
		fake_req.cred.flavor = runs[r].flavor;
		for (size_t i = 0; i < sizeof(fhs) / sizeof(fhs[0]); i++) {
			struct nfs4_compound c;
			struct arena ca;

			compound_on(&c, &ca, fhs[i], runs[r].minor);
			if (i == 1)
				check_setattr(&c, &f);
			check_verify_pair(&c, &f);
			check_verify_own(&c, &f.attrmask);
			compound_end(&c);
		}
	}
	fake_req.cred.flavor = RPC_AUTH_SYS;
	arena_release(&a);
	return 0;
}
