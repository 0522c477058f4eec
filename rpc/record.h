/*
 * rpc/record.h: RPC record marking over a byte stream (RFC 5531 §11).
 *
 * Job: reassemble records from the bytes a stream transport reads, however
 * they are split: fragment headers cut in two, many records in one read,
 * multi-fragment records, zero-length fragments. A record whose size would
 * pass the limit is refused as soon as its fragment header says so, before
 * anything is allocated for it. Memory follows the bytes that arrive, not the
 * size a header announces (a peer that announces 1 MiB and sends 4 bytes
 * holds RPC_REC_FIRST_ALLOC, not 1 MiB), and what a partial record holds is reported
 * so that the transport can bound it across connections. Pure (no I/O), so it
 * is unit-tested with in-memory buffers. Within a fragment's body the
 * transport may receive straight into the record (rpc_rec_direct_room and
 * rpc_rec_direct_done) instead of through a buffer of its own: a 1 MiB WRITE
 * is then not copied once more on its way in.
 * Calls: libc. Called by: rpc/xprt_tcp.c, rpc/xprt_tcp_guard.c,
 * tests/unit/test_rpc_record*.c.
 */
#ifndef DAXNFS_RPC_RECORD_H
#define DAXNFS_RPC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_REC_LAST_FRAG 0x80000000u
/* The first allocation for a fragment larger than this grows as its bytes come. */
#define RPC_REC_FIRST_ALLOC (64u * 1024)

struct rpc_recbuf {
	uint32_t max_record;     /* largest record accepted, bytes */
	uint8_t hdr[4];
	unsigned hdr_have;       /* bytes of the current fragment header read */
	uint32_t frag_left;      /* bytes of the current fragment still to come */
	bool in_frag;            /* a fragment header has been read, body pending */
	bool last;               /* the current fragment ends the record */
	uint8_t *rec;            /* the record so far (malloc'd) */
	size_t len;              /* bytes of it received */
	size_t cap;              /* bytes allocated for it */
	uint64_t records;        /* records ended so far (empty ones too) */
};

/* Called for each complete non-empty record; takes ownership of rec (malloc'd). */
typedef void (*rpc_rec_emit_fn)(void *ctx, uint8_t *rec, size_t len);

void rpc_rec_init(struct rpc_recbuf *r, uint32_t max_record);
/* Feeds n bytes. Returns 0, -EMSGSIZE (a record would pass max_record: the
 * stream cannot continue) or -ENOMEM. */
int rpc_rec_feed(struct rpc_recbuf *r, const uint8_t *data, size_t n,
		 rpc_rec_emit_fn emit, void *ctx);
/* Where the next bytes of the stream go when they can be received straight
 * into the record: inside a fragment's body, once the record has bytes
 * (its first ones come through rpc_rec_feed). Makes room as rpc_rec_feed
 * would, one growth step ahead of the bytes that came (at most twice them
 * plus RPC_REC_FIRST_ALLOC), and returns how many bytes may be received at
 * *where, at most what the fragment still lacks; 0 when there is no such
 * place (receive into a buffer and rpc_rec_feed it), or -ENOMEM. The
 * transport counts what the room holds before it reads. */
long rpc_rec_direct_room(struct rpc_recbuf *r, uint8_t **where);
/* n bytes (at most the room given) were received at the place
 * rpc_rec_direct_room named: counts them and, at the end of a record,
 * emits it as rpc_rec_feed does. 0 or what rpc_rec_feed returns. */
int rpc_rec_direct_done(struct rpc_recbuf *r, size_t n, rpc_rec_emit_fn emit, void *ctx);
/* True when a record has been started but not finished (peer vanished mid-record). */
bool rpc_rec_partial(const struct rpc_recbuf *r);
/* Bytes allocated for the record being received (0 between records). */
size_t rpc_rec_held(const struct rpc_recbuf *r);
/* Frees a partial record. */
void rpc_rec_release(struct rpc_recbuf *r);

#endif
