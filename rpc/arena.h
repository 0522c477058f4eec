/*
 * rpc/arena.h: per-request bump allocator.
 *
 * Job: give XDR decoders and request handlers memory that lives exactly as long
 * as one RPC request, so that a decode that fails half-way leaks nothing and no
 * handler has to free what the decoder built. Released in one call.
 * Calls: libc only. Called by: rpc/xdr.c, the generated codecs, server/ handlers.
 */
#ifndef DAXNFS_RPC_ARENA_H
#define DAXNFS_RPC_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;   /* newest chunk first */
	size_t used_total;          /* bytes handed out, for limits */
	size_t limit;               /* 0 = unlimited; else allocation fails past it */
};

void arena_init(struct arena *a, size_t limit);
/* Zeroed memory, aligned for any type; NULL when out of memory or past the limit. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_memdup(struct arena *a, const void *src, size_t size);
/* A NUL-terminated copy of len bytes. */
char *arena_strndup(struct arena *a, const char *src, size_t len);
/* Frees every chunk; the arena can be used again after arena_init. */
void arena_release(struct arena *a);

#endif
