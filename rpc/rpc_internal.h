/*
 * rpc/rpc_internal.h: what rpc/rpc.c and rpc/rpc_clnt.c share, and the
 * RPC message-header codec the unit tests exercise directly.
 * Not for use outside rpc/ (and tests/unit/test_rpc_*).
 */
#ifndef DAXNFS_RPC_RPC_INTERNAL_H
#define DAXNFS_RPC_RPC_INTERNAL_H

#include "rpc/rpc.h"

/* Size of the accepted-reply header with an AUTH_NONE verifier. */
#define RPC_ACCEPTED_HDR_LEN 24u

/* The backchannel's per-connection table (rpc_clnt.c). */
int rpc_clnt_pending_create(struct rpc_xprt *x);
void rpc_clnt_pending_free(struct rpc_xprt *x);
/* Wakes every waiter on x with -ECONNRESET; later calls fail at once. */
void rpc_clnt_pending_close(struct rpc_xprt *x);
/* Hands a received REPLY record to the call waiting for xid; false when none waits. */
bool rpc_clnt_deliver(struct rpc_xprt *x, uint32_t xid, const uint8_t *rec, size_t len);

/* The result of decoding a CALL header (rpc.c). */
struct rpc_call_hdr {
	uint32_t xid, rpcvers, prog, vers, proc;
	struct rpc_cred cred;
	size_t args_off;        /* where the procedure's arguments begin */
};

/* Outcome of rpc_decode_call: what to answer when the header is not acceptable. */
enum rpc_hdr_verdict {
	RPC_HDR_OK = 0,
	RPC_HDR_DROP,           /* not even an xid: nothing can be answered */
	RPC_HDR_NOT_CALL,       /* a REPLY (or junk msg_type): route, do not answer */
	RPC_HDR_RPC_MISMATCH,
	RPC_HDR_AUTH_ERROR,     /* *auth_stat says which */
	RPC_HDR_GARBAGE,        /* header cut short after the xid */
};

enum rpc_hdr_verdict rpc_decode_call(const uint8_t *rec, size_t len, struct rpc_call_hdr *h,
				     uint32_t *auth_stat, uint32_t *msg_type);
/* Decodes an AUTH_SYS body; false if malformed (too many gids, trailing bytes, ...). */
bool rpc_decode_authsys(const uint8_t *body, uint32_t len, struct rpc_cred *c);

/* Encode reply headers; return bytes written (0 if cap is too small). */
size_t rpc_encode_accepted(uint8_t *buf, size_t cap, uint32_t xid, uint32_t accept_stat);
size_t rpc_encode_prog_mismatch(uint8_t *buf, size_t cap, uint32_t xid, uint32_t lo, uint32_t hi);
size_t rpc_encode_rpc_mismatch(uint8_t *buf, size_t cap, uint32_t xid);
size_t rpc_encode_auth_error(uint8_t *buf, size_t cap, uint32_t xid, uint32_t auth_stat);

#endif
