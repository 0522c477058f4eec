/*
 * tests/proto/lib/proto_rpc.h: the test client's ONC RPC layer over TCP.
 *
 * Job: connect to a daemon, send records (whole, or split into chosen
 * fragments, or raw bytes for malformed-input tests), send RPC calls with
 * AUTH_NONE or AUTH_SYS (or any raw credential), and receive and parse replies,
 * every wait bounded by the connection's timeout. Calls that the server sends
 * to us on the same connection (NFSv4.1 backchannel, CB_COMPOUND) are handed to
 * a handler, or queued for proto_rpc_recv_call when there is none.
 * One thread per connection; nothing here is thread-safe.
 * Calls: rpc/xdr, libc. Called by: protocol tests, tests/proto/lib/nfs4_client.c.
 */
#ifndef DAXNFS_TESTS_PROTO_RPC_H
#define DAXNFS_TESTS_PROTO_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "rpc/rpc.h"
#include "rpc/xdr.h"

struct proto_conn;

/* A CALL the server sent us (backchannel). record is owned by the struct. */
struct proto_call {
	uint32_t xid, rpcvers, prog, vers, proc;
	uint32_t cred_flavor, verf_flavor;
	uint8_t *record;
	size_t record_len;
	const uint8_t *args;        /* into record */
	size_t args_len;
	struct proto_call *next;    /* queue link, internal */
};

/* Handler for backchannel calls arriving while we wait for a reply. It owns
 * nothing; it may answer with proto_rpc_send_reply. */
typedef void (*proto_call_fn)(struct proto_conn *c, const struct proto_call *call, void *ctx);

struct proto_conn {
	int fd;
	int timeout_ms;             /* per receive/send wait; default 10000 */
	uint32_t next_xid;
	proto_call_fn on_call;      /* NULL: queue calls for proto_rpc_recv_call */
	void *on_call_ctx;
	struct proto_call *calls_head, *calls_tail;
};

/* A parsed reply. record is owned; body points into it. */
struct proto_reply {
	uint32_t xid;
	uint32_t reply_stat;        /* RPC_MSG_ACCEPTED / RPC_MSG_DENIED */
	uint32_t accept_stat;       /* when accepted */
	uint32_t reject_stat;       /* when denied: RPC_MISMATCH / RPC_AUTH_ERROR */
	uint32_t mismatch_low, mismatch_high;   /* PROG_MISMATCH or RPC_MISMATCH */
	uint32_t auth_stat;         /* when denied with AUTH_ERROR */
	uint32_t verf_flavor;
	const uint8_t *body;        /* results (accepted SUCCESS), into record */
	size_t body_len;
	uint8_t *record;
	size_t record_len;
};

/* --- connections and records --- */
/* host is an IPv4 or IPv6 literal. Returns 0 or -errno. */
int proto_connect(struct proto_conn *c, const char *host, uint16_t port, int timeout_ms);
void proto_close(struct proto_conn *c);
/* Sends len bytes exactly as given (no record marking). */
int proto_send_raw(struct proto_conn *c, const void *buf, size_t len);
/* Sends buf as one record of one fragment. */
int proto_send_record(struct proto_conn *c, const void *buf, size_t len);
/* Sends one record whose fragments are the n iovecs (the last one is marked last). */
int proto_send_fragments(struct proto_conn *c, const struct iovec *frags, int n);
/* Receives one whole record (all fragments) into malloc'd *buf.
 * Returns 0, -ETIMEDOUT, -ECONNRESET (peer closed), -EPROTO, -ENOMEM. */
int proto_recv_record(struct proto_conn *c, uint8_t **buf, size_t *len);
/* True when the peer closes the connection within timeout_ms (data read meanwhile is discarded). */
bool proto_wait_closed(struct proto_conn *c, int timeout_ms);

/* --- RPC messages --- */
/* Encodes a CALL header (xid, CALL, rpcvers, prog, vers, proc, cred, AUTH_NONE verifier).
 * cred NULL = AUTH_NONE, else AUTH_SYS from cred's uid/gid/gids/machinename/stamp. */
bool proto_encode_call_header(struct xdr_stream *x, uint32_t xid, uint32_t rpcvers,
			      uint32_t prog, uint32_t vers, uint32_t proc,
			      const struct rpc_cred *cred);
/* Same with a raw credential body of any flavor (for malformed-credential tests). */
bool proto_encode_call_header_raw(struct xdr_stream *x, uint32_t xid, uint32_t rpcvers,
				  uint32_t prog, uint32_t vers, uint32_t proc,
				  uint32_t cred_flavor, const void *cred_body, uint32_t cred_len);
/* Fills an AUTH_SYS credential (machine "proto-test", stamp 1, no extra gids). */
void proto_cred_sys(struct rpc_cred *cred, uint32_t uid, uint32_t gid);

/* A fresh xid for this connection. */
uint32_t proto_next_xid(struct proto_conn *c);
/* Sends a CALL with the given xid and argument bytes (already XDR-encoded). */
int proto_rpc_send_call(struct proto_conn *c, uint32_t xid, uint32_t prog, uint32_t vers,
			uint32_t proc, const struct rpc_cred *cred, const void *args, size_t args_len);
/* Receives the next REPLY (any xid); CALLs arriving meanwhile go to on_call or the queue. */
int proto_rpc_recv_reply(struct proto_conn *c, struct proto_reply *out);
/* send_call + recv_reply, checking that the reply's xid matches (-EPROTO if not). */
int proto_rpc_call(struct proto_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
		   const struct rpc_cred *cred, const void *args, size_t args_len,
		   struct proto_reply *out);
/* Parses a reply record; takes ownership of rec (also on failure). 0 or -EPROTO. */
int proto_parse_reply(uint8_t *rec, size_t len, struct proto_reply *out);
void proto_reply_free(struct proto_reply *r);

/* --- the backchannel: calls from the server --- */
/* Next CALL from the server (queued, or read now; REPLYs read meanwhile are dropped). */
int proto_rpc_recv_call(struct proto_conn *c, struct proto_call **out);
void proto_call_free(struct proto_call *call);
/* Answers a server's CALL: accepted reply, AUTH_NONE verifier, accept_stat, body. */
int proto_rpc_send_reply(struct proto_conn *c, uint32_t xid, uint32_t accept_stat,
			 const void *body, size_t body_len);

#endif
