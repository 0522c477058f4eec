/*
 * server/nfs4_htable.h: a fixed-size chained hash table for the state tables
 * (clients by id and by owner, sessions, open and lock owners).
 *
 * Job: find a record by a key that a client chose (owner strings, ids it
 * echoes back) in time that does not grow with the number of records, and
 * without letting a client pick keys that all fall in one chain: the hash
 * is SipHash (libsodium's crypto_shorthash) under a key drawn at start-up.
 * Records embed a struct nfs4_hnode; the caller compares keys itself while
 * walking a chain (nfs4_htable_chain), so one table type serves every record.
 * Each table has its own key, drawn when it is made (no process state).
 * Not thread-safe: a table's changes are ordered by its user's locks.
 * Calls: libsodium. Called by: nfs4_client.c, nfs4_open_state.c, nfs4_lock.c.
 */
#ifndef DAXNFS_SERVER_NFS4_HTABLE_H
#define DAXNFS_SERVER_NFS4_HTABLE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

struct nfs4_hnode {
	struct nfs4_hnode *next;
	uint64_t hash;
};

struct nfs4_htable {
	struct nfs4_hnode **buckets;
	uint32_t mask;                  /* buckets - 1 (a power of two) */
	uint32_t count;
	uint8_t key[crypto_shorthash_KEYBYTES];   /* the hash key, random per table */
};

/* nbuckets is rounded up to a power of two. 0, -EIO (no libsodium) or -ENOMEM. */
int nfs4_htable_init(struct nfs4_htable *t, uint32_t nbuckets);
void nfs4_htable_free(struct nfs4_htable *t);
/* The keyed hash of key bytes under t's key, with a tag (a clientid for
 * owners, so equal owner strings of two clients differ). */
uint64_t nfs4_htable_hash(const struct nfs4_htable *t, uint64_t tag, const void *key,
			  size_t len);
void nfs4_htable_add(struct nfs4_htable *t, struct nfs4_hnode *n, uint64_t hash);
void nfs4_htable_del(struct nfs4_htable *t, struct nfs4_hnode *n);
/* The first node of hash's chain (walk with ->next; compare ->hash first). */
struct nfs4_hnode *nfs4_htable_chain(const struct nfs4_htable *t, uint64_t hash);

#endif
