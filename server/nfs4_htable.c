/*
 * server/nfs4_htable.c: the state tables' hash table (see nfs4_htable.h).
 * Each table draws its own key when it is made.
 * Calls: libsodium. Called by: nfs4_client.c, nfs4_open_state.c, nfs4_lock.c.
 */
#include "server/nfs4_htable.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int nfs4_htable_init(struct nfs4_htable *t, uint32_t nbuckets)
{
	uint32_t n = 1;

	/* sodium_init is safe to call again and from any thread */
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(t->key, sizeof(t->key));
	while (n < nbuckets && n < (1u << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void nfs4_htable_free(struct nfs4_htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

uint64_t nfs4_htable_hash(const struct nfs4_htable *t, uint64_t tag, const void *key,
			  size_t len)
{
	uint8_t buf[8 + 1024];
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	if (len > sizeof(buf) - 8)
		len = sizeof(buf) - 8;   /* owners are at most 1024 bytes (NFS4_OPAQUE_LIMIT) */
	memcpy(buf, &tag, 8);
	memcpy(buf + 8, key, len);
	crypto_shorthash(out, buf, 8 + len, t->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

void nfs4_htable_add(struct nfs4_htable *t, struct nfs4_hnode *n, uint64_t hash)
{
	struct nfs4_hnode **b = &t->buckets[hash & t->mask];

	n->hash = hash;
	n->next = *b;
	*b = n;
	t->count++;
}

void nfs4_htable_del(struct nfs4_htable *t, struct nfs4_hnode *n)
{
	struct nfs4_hnode **p = &t->buckets[n->hash & t->mask];

	for (; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}

struct nfs4_hnode *nfs4_htable_chain(const struct nfs4_htable *t, uint64_t hash)
{
	return t->buckets ? t->buckets[hash & t->mask] : NULL;
}
