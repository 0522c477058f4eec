/*
 * rpc/rpcrdma.h: RPC-over-RDMA version 1 (RFC 8166) transport header and
 * chunk lists, pure: no verbs, no sockets, no allocation.
 *
 * Job: decode the transport header in front of each received message into
 * bounded storage owned by struct rpc_rdma_hdr, judging it as RFC 8166 §4.5
 * says (use it, answer RDMA_ERROR ERR_VERS or ERR_CHUNK, or drop it); map
 * the Read chunks of a call to positions in the reassembled RPC message
 * with the XDR round-up of §3.4.5.2; split a reply payload over the
 * segments of a Write or Reply chunk; encode reply, RDMA_ERROR and
 * backchannel call headers; keep per-connection credit accounting (§3.3);
 * encode and decode the RDMA-CM private data of RFC 8797 (which updates
 * RFC 8166 with inline sizes and the remote-invalidation flag).
 * Files: rpcrdma_hdr.c (header codec, private data), rpcrdma_chunks.c
 * (positions, segment splits, inline decision), rpcrdma_credits.c.
 * Calls: rpc/xdr. Called by: rdma/ (the rdma-core glue), tests/unit/
 * test_rpc_rdma_*.c, tests/fuzz/fuzz_rpc_rdma_hdr.c.
 *
 * Limits (never driven by the peer): a header holds at most
 * RPC_RDMA_MAX_SEGS segments in all, in at most RPC_RDMA_MAX_READ_CHUNKS
 * Read chunks (distinct positions, the Position-Zero Read chunk included),
 * RPC_RDMA_MAX_WRITE_CHUNKS Write chunks and one Reply chunk. The Linux
 * client sends one Read chunk (a WRITE's data, or the whole call) and one
 * Write chunk (a READ's or READLINK's result) per call, usually of one
 * segment each, but it splits a chunk into several segments when its
 * memory registrations are smaller than the payload (a 1 MiB payload over
 * 64-page registrations is 4 segments). 64 segments cover that with room
 * to spare and are what a 1 KiB header could hold anyway (24 bytes per
 * Read segment); 8 and 4 chunks allow a COMPOUND with several WRITEs or
 * READs. A header past a limit is answered ERR_CHUNK, as one we cannot
 * parse (RFC 8166 §4.5.2).
 */
#ifndef DAXNFS_RPC_RPCRDMA_H
#define DAXNFS_RPC_RPCRDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_RDMA_VERSION 1u

/* rdma_proc (RFC 8166 §4.3); MSGP and DONE are obsolete (§4.6). */
enum rpc_rdma_proc {
	RPC_RDMA_MSG = 0,
	RPC_RDMA_NOMSG = 1,
	RPC_RDMA_MSGP = 2,
	RPC_RDMA_DONE = 3,
	RPC_RDMA_ERROR = 4,
};

/* rpc_rdma_errcode (RFC 8166 §4.3). */
enum rpc_rdma_errcode {
	RPC_RDMA_ERR_VERS = 1,
	RPC_RDMA_ERR_CHUNK = 2,
};

/* Inline threshold assumed when the peer sent no RFC 8797 private data
 * (RFC 8166 §3.3.2: 1024 octets each way). */
#define RPC_RDMA_V1_DEFAULT_INLINE 1024u
/* What daxnfs receives and sends inline, advertised in its private data
 * (the size the Linux client and server use too). */
#define RPC_RDMA_INLINE_THRESHOLD 4096u

#define RPC_RDMA_FIXED_HDR 16u       /* xid, vers, credit, proc */
#define RPC_RDMA_MIN_MSG_HDR 28u     /* and three empty chunk lists */
#define RPC_RDMA_SEG_XDR 16u         /* handle, length, offset (hyper) */

#define RPC_RDMA_MAX_SEGS 64u
#define RPC_RDMA_MAX_READ_CHUNKS 8u
#define RPC_RDMA_MAX_WRITE_CHUNKS 4u

/* One RDMA segment: a registered region of the requester's memory. */
struct rpc_rdma_seg {
	uint32_t handle;    /* R_key */
	uint32_t length;    /* bytes */
	uint64_t offset;    /* remote address (or offset in the region) */
};

/* A chunk: segs[first .. first + nsegs) of the header's pool. */
struct rpc_rdma_chunk {
	uint32_t position;  /* Read chunks: XDR position; else 0 */
	uint32_t length;    /* sum of its segments' lengths (checked < 2^32) */
	uint16_t first;
	uint16_t nsegs;
};

struct rpc_rdma_hdr {
	uint32_t xid;
	uint32_t vers;
	uint32_t credits;       /* in a call: the credit limit the requester asks for */
	uint32_t proc;          /* enum rpc_rdma_proc */
	/* Read list, grouped by position in list order; reads[0] is the
	 * Position-Zero Read chunk (the whole call) when has_call_chunk. */
	uint8_t nreads;
	bool has_call_chunk;
	struct rpc_rdma_chunk reads[RPC_RDMA_MAX_READ_CHUNKS];
	uint8_t nwrites;
	struct rpc_rdma_chunk writes[RPC_RDMA_MAX_WRITE_CHUNKS];
	bool has_reply;
	struct rpc_rdma_chunk reply;
	uint16_t nsegs;
	struct rpc_rdma_seg segs[RPC_RDMA_MAX_SEGS];
	uint32_t payload_off;   /* where the inline RPC message starts in the buffer */
	uint32_t inline_len;    /* its length (RDMA_MSG; 0 for RDMA_NOMSG) */
	/* A received RDMA_ERROR (verdict RPC_RDMA_PEER_ERROR). */
	uint32_t err;           /* enum rpc_rdma_errcode */
	uint32_t err_low, err_high;
};

/* What to do with a received message. */
enum rpc_rdma_verdict {
	RPC_RDMA_OK,            /* a call (or a backchannel reply): h is complete */
	RPC_RDMA_REPLY_ERR_VERS,   /* answer rpc_rdma_encode_err_vers (§4.5.1) */
	RPC_RDMA_REPLY_ERR_CHUNK,  /* answer rpc_rdma_encode_err_chunk (§4.5.2) */
	RPC_RDMA_PEER_ERROR,    /* the peer sent RDMA_ERROR: h->xid, h->err*; never answered */
	RPC_RDMA_DROP,          /* nothing to answer to (no version, or a bad RDMA_ERROR) */
};

/* Why a header was refused (for logs and counters). */
enum rpc_rdma_reason {
	RPC_RDMA_R_NONE,
	RPC_RDMA_R_SHORT,           /* the header runs past the message */
	RPC_RDMA_R_VERS,            /* rdma_vers is not 1 */
	RPC_RDMA_R_BAD_PROC,        /* unknown rdma_proc */
	RPC_RDMA_R_OBSOLETE_PROC,   /* RDMA_MSGP or RDMA_DONE */
	RPC_RDMA_R_BAD_DISCRIM,     /* an optional-data flag that is not 0 or 1 */
	RPC_RDMA_R_TOO_MANY_SEGS,
	RPC_RDMA_R_TOO_MANY_READ_CHUNKS,
	RPC_RDMA_R_TOO_MANY_WRITE_CHUNKS,
	RPC_RDMA_R_POS_UNALIGNED,   /* a Read position that is not a multiple of 4 */
	RPC_RDMA_R_POS_BACKWARDS,   /* Read positions out of order */
	RPC_RDMA_R_POS_OVERLAP,     /* a Read chunk starting inside the previous one */
	RPC_RDMA_R_POS_BEYOND,      /* a Read chunk past the end of the payload */
	RPC_RDMA_R_CALL_CHUNK_IN_MSG,   /* Position-Zero Read chunk with RDMA_MSG */
	RPC_RDMA_R_NOMSG_NO_CALL_CHUNK, /* RDMA_NOMSG without the call in a chunk */
	RPC_RDMA_R_CHUNK_OVERFLOW,  /* a chunk's segment lengths sum past 2^32 - 1 */
	RPC_RDMA_R_CALL_TOO_LARGE,  /* the reassembled call passes max_call */
	RPC_RDMA_R_EMPTY_REPLY_CHUNK,
	RPC_RDMA_R_NO_PAYLOAD,      /* RDMA_MSG without even an RPC xid inline */
	RPC_RDMA_R_XID_MISMATCH,    /* rdma_xid differs from the RPC message's xid */
	RPC_RDMA_R_BAD_PEER_ERROR,  /* an RDMA_ERROR we cannot read */
};

struct rpc_rdma_hdr_error {
	enum rpc_rdma_reason reason;
	uint32_t xid;       /* for the answer (valid unless the verdict is DROP) */
	uint32_t vers;      /* the peer's rdma_vers, echoed in ERR_VERS */
	uint32_t at;        /* byte offset in the message where it went wrong */
};

/*
 * Decodes the transport header of the message buf[0..len) into h. max_call
 * bounds the reassembled RPC call (inline bytes, Read chunks and their
 * round-up). Never reads outside buf and never allocates. err says why a
 * header was refused, and what the answer needs.
 */
enum rpc_rdma_verdict rpc_rdma_hdr_decode(const uint8_t *buf, size_t len, uint32_t max_call,
					  struct rpc_rdma_hdr *h, struct rpc_rdma_hdr_error *err);
const char *rpc_rdma_reason_name(enum rpc_rdma_reason r);

/* ---- encoding: each returns the bytes written, 0 when cap is too small
 * (or, for the reply, when r asks for more than the call's chunks hold) */

/* What a reply used of the call's chunks. */
struct rpc_rdma_reply {
	uint32_t credits;       /* rpc_rdma_credits_grant */
	/* bytes placed in each of the call's Write chunks (0: unused) */
	uint32_t write_used[RPC_RDMA_MAX_WRITE_CHUNKS];
	bool use_reply_chunk;   /* the RPC reply went into the Reply chunk: RDMA_NOMSG */
	uint32_t reply_used;    /* its length then */
};

/* The reply's transport header: RDMA_MSG, or RDMA_NOMSG when the Reply
 * chunk carried the reply; an empty Read list; every Write chunk of the
 * call echoed with the lengths written per segment. */
size_t rpc_rdma_encode_reply(uint8_t *buf, size_t cap, const struct rpc_rdma_hdr *call,
			     const struct rpc_rdma_reply *r);
/* Its size, known before the payload is placed. */
size_t rpc_rdma_reply_hdr_len(const struct rpc_rdma_hdr *call, bool use_reply_chunk);
/* RDMA_ERROR ERR_VERS (supported versions 1..1), echoing the peer's vers. */
size_t rpc_rdma_encode_err_vers(uint8_t *buf, size_t cap, uint32_t xid, uint32_t vers,
				uint32_t credits);
size_t rpc_rdma_encode_err_chunk(uint8_t *buf, size_t cap, uint32_t xid, uint32_t credits);
/* A backchannel (reverse-direction, RFC 8167) call: RDMA_MSG, no chunks. */
size_t rpc_rdma_encode_bc_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t credits);

/* ---- reassembling a call (rpcrdma_chunks.c) ---- */

enum rpc_rdma_piece_kind {
	RPC_RDMA_PIECE_INLINE,  /* bytes of the inline payload, from src */
	RPC_RDMA_PIECE_CHUNK,   /* bytes of Read chunk reads[chunk], from src */
	RPC_RDMA_PIECE_ZERO,    /* XDR round-up the requester left out (§3.4.5.2) */
};

struct rpc_rdma_piece {
	enum rpc_rdma_piece_kind kind;
	uint8_t chunk;
	uint32_t src;       /* offset in the inline payload or in the chunk */
	uint32_t dst;       /* offset in the reassembled RPC message */
	uint32_t len;
};

#define RPC_RDMA_MAX_PIECES (3u * RPC_RDMA_MAX_READ_CHUNKS + 1u)

/* The reassembled call, in order: pieces tile [0, total) without gaps. */
struct rpc_rdma_call_map {
	unsigned n;
	uint32_t total;
	struct rpc_rdma_piece p[RPC_RDMA_MAX_PIECES];
};

/*
 * Lays out the call h carries: its base stream (the inline payload, or the
 * Position-Zero Read chunk for a long call) with each other Read chunk
 * inserted at its position and its round-up restored. m may be NULL (check
 * only). Returns 0, or -EPROTO with *why set (why may be NULL).
 */
int rpc_rdma_call_map(const struct rpc_rdma_hdr *h, uint32_t max_call,
		      struct rpc_rdma_call_map *m, enum rpc_rdma_reason *why);

/* Part of a chunk's bytes in one segment. */
struct rpc_rdma_span {
	uint32_t handle;
	uint32_t length;
	uint64_t offset;    /* remote address of these bytes */
	uint32_t at;        /* their offset in the range asked for */
	uint16_t seg;       /* index of the segment in the chunk */
};

/*
 * Where bytes [off, off + len) of chunk c lie: one span per segment they
 * touch, filling segments in array order (§3.4.6.2), no round-up added
 * (§3.4.6.3). A Write chunk for a payload of N bytes: off 0, len N; the
 * Reply chunk for a reply of M bytes likewise. Returns 0, -E2BIG when the
 * range passes the chunk (a reply that cannot be sent: ERR_CHUNK, §4.5.3),
 * or -ENOSPC when cap spans are too few.
 */
int rpc_rdma_chunk_spans(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *c,
			 uint32_t off, uint32_t len, struct rpc_rdma_span *out, unsigned cap,
			 unsigned *n);

/* True when a reply whose inline part is inline_len bytes fits one Send of
 * at most threshold bytes behind its RDMA_MSG transport header (§3.3.2:
 * the threshold counts the transport header too). */
bool rpc_rdma_reply_fits_inline(const struct rpc_rdma_hdr *call, uint32_t inline_len,
				uint32_t threshold);

/* ---- credits (rpcrdma_credits.c) ---- */

/*
 * Per-connection credit accounting (RFC 8166 §3.3). Not thread-safe: the
 * caller serialises the calls for one connection (its event loop, or the
 * connection's lock around receive accounting and reply posting).
 */
struct rpc_rdma_credits {
	uint32_t limit;         /* most ever granted: the receives kept posted for calls */
	uint32_t outstanding;   /* calls received and not yet answered */
	uint32_t requested;     /* rdma_credit of the latest call */
	uint32_t granted_max;   /* the largest grant sent (1 before any: §3.3.3) */
	uint64_t violations;    /* calls received beyond every grant */
};

void rpc_rdma_credits_init(struct rpc_rdma_credits *c, uint32_t posted_receives);
/* A call arrived (a message that will be answered, by a reply or an
 * RDMA_ERROR). False when it exceeds what was granted; it is counted anyway. */
bool rpc_rdma_credits_on_call(struct rpc_rdma_credits *c, uint32_t requested);
/* The rdma_credit value of the next reply or RDMA_ERROR. */
uint32_t rpc_rdma_credits_grant(struct rpc_rdma_credits *c);
/* The answer to one call was posted. */
void rpc_rdma_credits_on_reply(struct rpc_rdma_credits *c);

/* ---- RDMA-CM private data (RFC 8797) ---- */

#define RPC_RDMA_CM_MAGIC 0xf6ab0e18u
#define RPC_RDMA_CM_VERSION 1u
#define RPC_RDMA_CM_F_REMOTE_INV 0x01u   /* the sender accepts Send With Invalidate */
#define RPC_RDMA_CM_PRIV_LEN 8u
#define RPC_RDMA_CM_MIN_INLINE 1024u
#define RPC_RDMA_CM_MAX_INLINE (256u * 1024)

struct rpc_rdma_cm_priv {
	bool remote_inv;
	uint32_t send_size;     /* largest message the sender sends inline */
	uint32_t recv_size;     /* largest message the sender can receive */
};

/* 8 bytes; a size is sent as (size / 1024) - 1, rounded down to a multiple
 * of 1 KiB and at most 256 KiB. 0 when cap < 8 or a size is under 1 KiB. */
size_t rpc_rdma_cm_priv_encode(uint8_t *buf, size_t cap, const struct rpc_rdma_cm_priv *p);
/* False when buf holds no private data of ours (too short, other magic or
 * version): the peer then gets RPC_RDMA_V1_DEFAULT_INLINE each way and no
 * remote invalidation, which *p is set to. Bytes past the 8 are ignored
 * (the CM pads private data). What we may send inline is at most the
 * peer's recv_size; what it sends us, at most its send_size. */
bool rpc_rdma_cm_priv_decode(const uint8_t *buf, size_t len, struct rpc_rdma_cm_priv *p);

#endif
