/*
 * rpc/record.h: RPC record marking over a byte stream (RFC 5531 §11).
 *
 * Job: reassemble records from the bytes a stream transport reads, however
 * they are split: fragment headers cut in two, many records in one read,
 * multi-fragment records, zero-length fragments. A record whose size would
 * pass the limit is refused as soon as its fragment header says so, before
 * anything is allocated for it. Pure (no I/O), so it is unit-tested with
 * in-memory buffers.
 * Calls: libc. Called by: rpc/xprt_tcp.c, tests/unit/test_rpc_record*.c.
 */
#ifndef DAXNFS_RPC_RECORD_H
#define DAXNFS_RPC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_REC_LAST_FRAG 0x80000000u

struct rpc_recbuf {
	uint32_t max_record;     /* largest record accepted, bytes */
	uint8_t hdr[4];
	unsigned hdr_have;       /* bytes of the current fragment header read */
	uint32_t frag_left;      /* bytes of the current fragment still to come */
	bool in_frag;            /* a fragment header has been read, body pending */
	bool last;               /* the current fragment ends the record */
	uint8_t *rec;            /* the record so far (malloc'd) */
	size_t len;
};

/* Called for each complete non-empty record; takes ownership of rec (malloc'd). */
typedef void (*rpc_rec_emit_fn)(void *ctx, uint8_t *rec, size_t len);

void rpc_rec_init(struct rpc_recbuf *r, uint32_t max_record);
/* Feeds n bytes. Returns 0, -EMSGSIZE (a record would pass max_record: the
 * stream cannot continue) or -ENOMEM. */
int rpc_rec_feed(struct rpc_recbuf *r, const uint8_t *data, size_t n,
		 rpc_rec_emit_fn emit, void *ctx);
/* True when a record has been started but not finished (peer vanished mid-record). */
bool rpc_rec_partial(const struct rpc_recbuf *r);
/* Frees a partial record. */
void rpc_rec_release(struct rpc_recbuf *r);

#endif
