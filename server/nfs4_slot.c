/*
 * server/nfs4_slot.c: a session's fore-channel slot table and reply cache
 * (RFC 8881 §2.10.6.1 - §2.10.6.2).
 *
 * Each slot remembers the sequence id of the last request executed on it, a
 * hash of that request's bytes (so a "retry" with different content is a
 * false retry), and, when the client asked for it (sa_cachethis), the whole
 * encoded COMPOUND4res so that a retry gets the same bytes back.
 * Pure data structure: no locking (the caller holds the state lock), no I/O.
 * Calls: libc. Called by: nfs4_session.c (SEQUENCE), nfs4_compound.c, unit tests.
 */
#include "server/nfs4_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t nfs4_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

int nfs4_slot_table_init(struct nfs4_slot_table *t, uint32_t nslots)
{
	t->slots = calloc(nslots ? nslots : 1, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->nslots = nslots;
	return 0;
}

void nfs4_slot_table_free(struct nfs4_slot_table *t)
{
	uint32_t i;

	if (!t->slots)
		return;
	for (i = 0; i < t->nslots; i++)
		free(t->slots[i].reply);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

nfsstat4 nfs4_slot_check(struct nfs4_slot_table *t, slotid4 slotid, sequenceid4 seqid,
			 uint64_t req_hash, enum nfs4_slot_verdict *verdict,
			 struct nfs4_slot **out)
{
	struct nfs4_slot *s;

	if (slotid >= t->nslots)
		return NFS4ERR_BADSLOT;
	s = &t->slots[slotid];
	/* A slot never used expects seqid 1 (its "last" is 0). */
	if (s->used && seqid == s->seqid) {
		if (s->busy)
			return NFS4ERR_DELAY;   /* the original is still executing */
		if (s->req_hash != req_hash)
			return NFS4ERR_SEQ_FALSE_RETRY;
		if (!s->cached)
			return NFS4ERR_RETRY_UNCACHED_REP;
		s->busy = true;
		s->replay = true;
		*verdict = NFS4_SLOT_REPLAY;
		*out = s;
		return NFS4_OK;
	}
	if (seqid != (sequenceid4)(s->seqid + 1))
		return NFS4ERR_SEQ_MISORDERED;
	if (s->busy)
		return NFS4ERR_DELAY;
	s->busy = true;
	s->replay = false;
	s->used = true;
	s->seqid = seqid;
	s->req_hash = req_hash;
	/* The previous reply is gone the moment a new request uses the slot. */
	free(s->reply);
	s->reply = NULL;
	s->reply_len = 0;
	s->cached = false;
	*verdict = NFS4_SLOT_NEW;
	*out = s;
	return NFS4_OK;
}

void nfs4_slot_done(struct nfs4_slot *s, const void *reply, size_t len, bool cache)
{
	if (s->replay) {
		s->replay = false;
		s->busy = false;
		return;
	}
	if (cache && reply) {
		uint8_t *copy = malloc(len ? len : 1);

		/* Out of memory: the retry will get RETRY_UNCACHED_REP, still correct. */
		if (copy) {
			memcpy(copy, reply, len);
			s->reply = copy;
			s->reply_len = len;
			s->cached = true;
		}
	}
	s->busy = false;
}
