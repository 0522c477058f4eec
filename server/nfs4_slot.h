/*
 * server/nfs4_slot.h: a session's fore channel slot table and reply cache
 * (RFC 8881 §2.10.6): the slot rules of one SEQUENCE, and the reply kept
 * for a retry.
 * Locking: a slot table belongs to its session; called with the state lock
 * held. Calls: nothing. Called by: nfs4_session.c, nfs4_compound.c,
 * nfs4_client.c (unit test: test_server_slot).
 */
#ifndef DAXNFS_SERVER_NFS4_SLOT_H
#define DAXNFS_SERVER_NFS4_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/nfs4_xdr_gen.h"

struct nfs4_slot {
	sequenceid4 seqid;       /* of the last request executed on this slot */
	bool used;               /* a request has been executed (seqid is meaningful) */
	bool busy;               /* a compound is executing on it now */
	bool cached;             /* reply holds the whole reply of seqid */
	bool replay;             /* the current compound replays the cached reply */
	uint64_t req_hash;       /* of the request bytes of seqid (false-retry check) */
	uint8_t *reply;          /* malloc'd COMPOUND4res bytes when cached */
	size_t reply_len;
};

struct nfs4_slot_table {
	uint32_t nslots;
	struct nfs4_slot *slots;
};

enum nfs4_slot_verdict {
	NFS4_SLOT_NEW,           /* a new request: execute it */
	NFS4_SLOT_REPLAY,        /* send the cached reply */
};

int nfs4_slot_table_init(struct nfs4_slot_table *t, uint32_t nslots);
void nfs4_slot_table_free(struct nfs4_slot_table *t);
/*
 * The slot rules of RFC 8881 §2.10.6.1 for one SEQUENCE: NFS4ERR_BADSLOT,
 * NFS4ERR_DELAY (busy), NFS4ERR_SEQ_MISORDERED, NFS4ERR_SEQ_FALSE_RETRY (a
 * retry whose bytes differ), NFS4ERR_RETRY_UNCACHED_REP (a retry whose reply
 * was not kept). On NFS4_OK *verdict says what to do and the slot is busy.
 */
nfsstat4 nfs4_slot_check(struct nfs4_slot_table *t, slotid4 slotid, sequenceid4 seqid,
			 uint64_t req_hash, enum nfs4_slot_verdict *verdict,
			 struct nfs4_slot **out);
/* Ends the slot's request: keeps reply (copied) when cache, frees the old one. */
void nfs4_slot_done(struct nfs4_slot *s, const void *reply, size_t len, bool cache);
/* FNV-1a over the request bytes. */
uint64_t nfs4_hash_bytes(const void *p, size_t n);

#endif
