/*
 * rpc/rpc.h: ONC RPC v2 (RFC 5531) server side, the transport interface under
 * it, and calls in the reverse direction (NFSv4.1 backchannel).
 *
 * Job: turn one received record into a call of a registered program's
 * dispatch function and send its reply; answer PROG_UNAVAIL, PROG_MISMATCH,
 * PROC_UNAVAIL, GARBAGE_ARGS, RPC_MISMATCH and AUTH_ERROR itself; route REPLY
 * messages that arrive on a connection to the backchannel call waiting for them.
 * A transport (rpc/xprt_tcp.c now, rdma/ later) is a table of operations; nothing
 * above this header knows which transport a request came on.
 * Calls: rpc/xdr, conf/log. Called by: transports (records in), server/ (programs,
 * backchannel calls).
 */
#ifndef DAXNFS_RPC_RPC_H
#define DAXNFS_RPC_RPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "rpc/arena.h"
#include "rpc/xdr.h"

#define RPC_VERSION 2u

enum rpc_msg_type { RPC_CALL = 0, RPC_REPLY = 1 };
enum rpc_reply_stat { RPC_MSG_ACCEPTED = 0, RPC_MSG_DENIED = 1 };
enum rpc_accept_stat {
	RPC_SUCCESS = 0, RPC_PROG_UNAVAIL = 1, RPC_PROG_MISMATCH = 2,
	RPC_PROC_UNAVAIL = 3, RPC_GARBAGE_ARGS = 4, RPC_SYSTEM_ERR = 5,
};
enum rpc_reject_stat { RPC_MISMATCH = 0, RPC_AUTH_ERROR = 1 };
enum rpc_auth_stat {
	RPC_AUTH_OK = 0, RPC_AUTH_BADCRED = 1, RPC_AUTH_REJECTEDCRED = 2,
	RPC_AUTH_BADVERF = 3, RPC_AUTH_REJECTEDVERF = 4, RPC_AUTH_TOOWEAK = 5,
};
enum rpc_auth_flavor { RPC_AUTH_NONE = 0, RPC_AUTH_SYS = 1, RPC_AUTH_GSS = 6 };

#define RPC_AUTH_SYS_MAX_GIDS 16
#define RPC_MAX_AUTH_BYTES 400

/* The caller's identity as the RPC layer decoded it. */
struct rpc_cred {
	uint32_t flavor;
	uint32_t uid, gid;
	uint32_t ngids;
	uint32_t gids[RPC_AUTH_SYS_MAX_GIDS];
	char machinename[256];
	uint32_t stamp;
	/* The raw credential body, for comparisons (EXCHANGE_ID principal checks). */
	uint8_t raw[RPC_MAX_AUTH_BYTES];
	uint32_t raw_len;
};

struct rpc_xprt;

/*
 * A DDP-eligible item of a reply (RFC 8267 §4.3: READ data, READLINK data)
 * that a program leaves outside res. Its bytes belong at offset pos of the
 * reply message, right after their length word, followed by their XDR pad.
 * A stream transport sends message[0..pos), the bytes, the pad, then
 * message[pos..); an RDMA transport places the bytes in the client's write
 * chunk and sends the message without them (RFC 8166 §3.4.5, a reduced
 * data item).
 */
#define RPC_PAYLOAD_UNPLACED SIZE_MAX
struct rpc_payload {
	const void *data;     /* NULL: no payload */
	size_t len;
	size_t pos;           /* RPC_PAYLOAD_UNPLACED until the program has encoded
			       * the length word it follows */
};

/* A reply as the RPC layer hands it to a transport. */
struct rpc_reply_msg {
	const uint8_t *msg;   /* the XDR-encoded RPC reply message, without the payload */
	size_t len;
	struct rpc_payload payload;
};

/* What a transport provides. All are safe to call from any thread.
 * A transport may hand each call it receives a context of its own (ctx:
 * on RDMA the chunk lists, the receive buffer, the credit the call took);
 * the RPC layer passes it to send_reply and payload_buffer and ends it with
 * exactly one request_done. */
struct rpc_xprt_ops {
	const char *netid;   /* "tcp", "rdma" */
	/* Sends one whole RPC message (the transport adds its own framing:
	 * record marking on TCP, an RPC-over-RDMA header on RDMA): calls in the
	 * reverse direction, and replies when send_reply is NULL (the payload
	 * then goes in place, rpc_reply_msg_iov). Serialised per connection.
	 * Returns 0 or -errno. */
	int (*send)(struct rpc_xprt *x, const struct iovec *iov, int iovcnt);
	/* Optional: sends the reply to the call that came with ctx (may be NULL). */
	int (*send_reply)(struct rpc_xprt *x, void *ctx, const struct rpc_reply_msg *m);
	/* Optional: len bytes a payload may be built in that the transport sends
	 * without copying them (registered memory), valid until request_done;
	 * NULL when it has none (the request's arena is used). */
	void *(*payload_buffer)(struct rpc_xprt *x, void *ctx, size_t len);
	/* Optional: the call that came with ctx is finished, its reply sent or
	 * dropped; ctx and the record it owns can go. */
	void (*request_done)(struct rpc_xprt *x, void *ctx);
	/* Starts shutting the connection down; in-flight requests finish. */
	void (*shutdown)(struct rpc_xprt *x);
	/* Frees the transport once the last reference is gone. */
	void (*destroy)(struct rpc_xprt *x);
};

/* The message of m as at most 4 iovecs in wire order (the payload and its
 * pad in place); returns how many. For transports that send a byte stream. */
int rpc_reply_msg_iov(const struct rpc_reply_msg *m, struct iovec iov[4]);

/* Upper-layer hook: told when a connection goes away (sessions unbind it). */
typedef void (*rpc_xprt_close_fn)(struct rpc_xprt *x, void *ctx);

struct rpc_xprt_pending;   /* backchannel calls awaiting replies (rpc/rpc_clnt.c) */

struct rpc_xprt {
	const struct rpc_xprt_ops *ops;
	atomic_int refs;
	atomic_bool dead;
	/* Set once the connection carried a call that bound it to an NFSv4.1
	 * session (CREATE_SESSION, SEQUENCE, BIND_CONN_TO_SESSION; the
	 * backchannel too): the transport closes idle connections that are not. */
	atomic_bool session_bound;
	uint64_t id;                        /* unique per process, for logs and tables */
	struct sockaddr_storage peer, local;
	socklen_t peer_len, local_len;
	uint32_t max_record;                /* largest record accepted/sent */
	struct rpc_xprt_pending *pending;   /* owned by rpc_clnt.c */
	/* close notifier, set by the upper layer on a worker thread and called
	 * once, from the transport's thread: on_close_ctx is written first and
	 * on_close published atomically after it */
	_Atomic(rpc_xprt_close_fn) on_close;
	void *on_close_ctx;
};

void rpc_xprt_get(struct rpc_xprt *x);
/* A reference unless the last one is already gone (x is being freed):
 * for a transport that finds x through something that outlives it. */
bool rpc_xprt_tryget(struct rpc_xprt *x);
void rpc_xprt_put(struct rpc_xprt *x);
/* Called by a transport once a connection is set up / is gone. */
void rpc_xprt_init(struct rpc_xprt *x, const struct rpc_xprt_ops *ops);
void rpc_xprt_closed(struct rpc_xprt *x);
/* Called by the upper layer when x is bound to a session; any thread. It
 * takes a const pointer because sessions hold their connections as const:
 * the flag is the transport's bookkeeping, not the connection's identity. */
void rpc_xprt_mark_session_bound(const struct rpc_xprt *x);
bool rpc_xprt_session_bound(const struct rpc_xprt *x);

/* One call being served. Lives from record receipt until its reply is sent. */
struct rpc_request {
	struct rpc_xprt *xprt;           /* holds a reference */
	uint32_t xid, prog, vers, proc;
	struct rpc_cred cred;
	struct arena arena;              /* freed with the request */
	struct xdr_stream args;          /* positioned at the procedure's arguments */
	struct xdr_stream res;           /* positioned after the accepted-reply header */
	uint8_t *record;                 /* the received record (owned) */
	size_t record_len;
	void *xprt_ctx;                  /* the transport's context for this call, or NULL */
	uint8_t *reply_buf;              /* reply body buffer (owned by the worker) */
	size_t reply_cap;
	/* Set by a program that wants no reply sent (e.g. a dropped duplicate). */
	bool drop_reply;
	/* A payload the program leaves outside res (zero-copy READ data); the
	 * RPC layer sends res with it in place at payload.pos. */
	struct rpc_payload payload;
};

/* len bytes for a reply payload, in memory the transport can send from
 * without a copy when it has such memory, else from the request's arena;
 * NULL when there is no memory. Freed with the request. */
void *rpc_request_payload_buffer(struct rpc_request *req, size_t len);
/* Bytes the payload adds to the reply on the wire (its data and XDR pad). */
size_t rpc_payload_wire_len(const struct rpc_payload *p);

/* A program's dispatch returns an rpc_accept_stat; on RPC_SUCCESS it has
 * encoded its results into req->res. PROC_UNAVAIL/GARBAGE_ARGS/SYSTEM_ERR
 * make the RPC layer discard what was encoded and reply with that status. */
struct rpc_program {
	uint32_t prog;
	uint32_t vers_lo, vers_hi;
	uint32_t nprocs;                 /* procedures 0..nprocs-1 exist */
	int (*dispatch)(struct rpc_request *req, void *ctx);
	void *ctx;
};

int rpc_register_program(const struct rpc_program *p);
void rpc_unregister_programs(void);

/*
 * Serves one received record: decodes the header; a CALL is dispatched and its
 * reply sent on x; a REPLY is handed to the backchannel call that waits for
 * its xid. xprt_ctx is the transport's context for the call (NULL: none);
 * with one, the transport's request_done is called once at the end and the
 * record belongs to the context, without one record (malloc'd) is freed
 * here. reply_buf/reply_cap is the calling worker's reply buffer. Never
 * fails: bad input gets the reply RFC 5531 says, or is dropped and logged
 * when no reply can be formed.
 */
void rpc_serve_record(struct rpc_xprt *x, uint8_t *record, size_t len, void *xprt_ctx,
		      uint8_t *reply_buf, size_t reply_cap);

/*
 * What every transport does with a record first, on the thread that
 * received it: a REPLY (to a call in the reverse direction) is delivered
 * to the call that waits for it, or dropped, then freed, and true is
 * returned; it must not wait for a worker, as every worker may be waiting
 * for exactly such a reply. Anything else: false, record untouched, for
 * the transport to queue to a worker and rpc_serve_record.
 */
bool rpc_route_reply(struct rpc_xprt *x, uint8_t *record, size_t len);
/* True when the RPC message rec[0..len) is a REPLY (its msg_type word). */
bool rpc_record_is_reply(const uint8_t *rec, size_t len);

/* ---- calls in the reverse direction (backchannel), rpc/rpc_clnt.c ---- */

typedef bool (*rpc_encode_fn)(struct xdr_stream *x, const void *args);

struct rpc_reply {
	int status;                  /* 0, or -ETIMEDOUT, -ECONNRESET, -EPROTO, -ENOMEM */
	uint32_t accept_stat;        /* valid when status == 0 */
	uint8_t *body;               /* results (malloc'd; rpc_reply_release frees) */
	size_t body_len;
};

/* Sends a CALL on x and waits up to timeout_ms for its reply. cred may be NULL
 * (AUTH_NONE) or an AUTH_SYS credential. Thread-safe; many calls may wait at once. */
int rpc_call_sync(struct rpc_xprt *x, uint32_t prog, uint32_t vers, uint32_t proc,
		  const struct rpc_cred *cred, rpc_encode_fn encode, const void *args,
		  int timeout_ms, struct rpc_reply *out);
void rpc_reply_release(struct rpc_reply *r);

/*
 * Asynchronous calls (the callback engine keeps many in flight). The
 * outcome of a call started by rpc_call_start reaches fn exactly once: a
 * REPLY (from the thread that received it), the connection's close
 * (-ECONNRESET), rpc_call_cancel, or a failure to send (then before
 * rpc_call_start returns). fn owns rep's body (rpc_reply_release) and must
 * not call back into the same connection's table under its own locks.
 */
typedef void (*rpc_reply_fn)(void *ctx, struct rpc_reply *rep);
/* A new xid for rpc_call_start, so the caller knows it before the send. */
uint32_t rpc_call_next_xid(void);
/* Sends a CALL with xid on x; 0 when sent, else -errno (fn already called). */
int rpc_call_start(struct rpc_xprt *x, uint32_t xid, uint32_t prog, uint32_t vers,
		   uint32_t proc, const struct rpc_cred *cred, rpc_encode_fn encode,
		   const void *args, rpc_reply_fn fn, void *ctx);
/* Ends the call xid on x with status (fn runs in the caller's thread) when
 * it is still waiting; false when it already ended or was never started. */
bool rpc_call_cancel(struct rpc_xprt *x, uint32_t xid, int status);

#endif
