/*
 * rdma/rdma_internal.h: the objects rdma/'s files share: the listener, the
 * device (protection domain and registered-buffer pool), the connection
 * with its state machine, a call in service, and the work-request contexts
 * completions come back with. Nothing outside rdma/ includes it.
 *
 * Threads: the loop thread handles connection-manager events and every
 * completion; workers serve calls and send replies (rdma_send.c), under
 * the connection's lock. A connection holds one reference for the loop
 * (dropped once it is closed and drained) and one per call alive.
 */
#ifndef DAXNFS_RDMA_RDMA_INTERNAL_H
#define DAXNFS_RDMA_RDMA_INTERNAL_H

#include <infiniband/verbs.h>
#include <pthread.h>
#include <rdma/rdma_cma.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rdma/rdma_xprt.h"
#include "rpc/rpc.h"
#include "rpc/rpcrdma.h"
#include "rpc/svc.h"

/* Receives kept posted per connection: the credits granted (RFC 8166
 * §3.3). The Linux client asks for 128; knfsd grants 64 by default. */
#define RDMA_CREDITS 64u
/* Receives beyond the credits: the client's replies to callbacks. */
#define RDMA_BC_RECVS 4u
/* A call past twice the credits ever granted breaks RFC 8166 §3.3.1's
 * MUST by a margin no lost update explains: the connection is closed. */
#define RDMA_CREDIT_SLACK 2u
/* A worker waits this long for a send buffer or send-queue room; a
 * connection that frees none in that time (a peer that stopped taking
 * our Sends) is shut down. */
#define RDMA_SEND_WAIT_MS 10000
/* Send buffers beyond one per credit: a reply may be posted before the
 * completion of the last one on the same credit came back, plus room for
 * RDMA_ERROR answers and backchannel calls. */
#define RDMA_SEND_SPARE 8u
/* Largest inline message we take or send, whatever a client offers. */
#define RDMA_MAX_INLINE (64u * 1024)
/* Registered buffers of max_record bytes kept per device (the bound of the
 * pool: past it a buffer is registered for the one call and dropped). */
#define RDMA_POOL_BUFFERS 32u
/* A closing connection whose flushed work requests have not all come back
 * after this is torn down anyway. */
#define RDMA_DRAIN_TIMEOUT_MS 3000

/* What a work request's wr_id points to: completions with an error carry
 * no valid opcode, so the kind says what came back. */
enum rdma_wr_kind { RDMA_WR_RECV, RDMA_WR_SEND, RDMA_WR_READ };

struct rdma_wr_tag {
	enum rdma_wr_kind kind;
};

struct rdma_device;

/* Registered memory: from the device's pool, or registered for one use. */
struct rdma_buf {
	struct rdma_device *dev;
	uint8_t *mem;
	size_t cap;
	struct ibv_mr *mr;
	bool pooled;
	struct rdma_buf *next;          /* the pool's free list */
};

/* One per verbs device connections arrived on. */
struct rdma_device {
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_device_attr attr;
	bool odp;                       /* on-demand paging (reported; not used yet) */
	unsigned users;                 /* connections on it; freed at 0 */
	pthread_mutex_t pool_lock;
	struct rdma_buf *pool_free;
	unsigned pool_count;            /* pooled buffers alive (free or in use) */
	size_t buf_size;
	struct rdma_device *next;       /* the listener's list */
	struct rdma_listener *l;
};

/* The connection's life (named for logs): ACCEPTING until the connection
 * manager says ESTABLISHED; CONNECTED serves; CLOSING after a disconnect or
 * an error, while flushed work requests come back; CLOSED once drained
 * (or the drain timed out), when only calls still in service hold it. */
enum rdma_conn_state {
	RDMA_CONN_ACCEPTING,
	RDMA_CONN_CONNECTED,
	RDMA_CONN_CLOSING,
	RDMA_CONN_CLOSED,
};

struct rdma_recv {
	struct rdma_wr_tag tag;         /* RDMA_WR_RECV */
	struct rdma_conn *c;
	uint8_t *mem;
};

/* A Send and the RDMA Writes before it, from the moment a worker (or the
 * loop) prepares it, through the queue to the loop thread that posts it,
 * until its completion gives back what it holds. */
struct rdma_send {
	struct rdma_wr_tag tag;         /* RDMA_WR_SEND */
	struct rdma_conn *c;
	uint8_t *mem;                   /* its send buffer (inline_send bytes) */
	size_t len;                     /* bytes of mem to send */
	unsigned nwr;                   /* send-queue entries reserved for the chain */
	struct rdma_call *call;         /* holds a reference; NULL for others */
	/* Writes: [0] the payload into Write chunk 0, [1] the message into the
	 * Reply chunk; wlen 0 when unused */
	struct rdma_buf *wbuf[2];
	bool wbuf_owned[2];             /* a staged copy, given back at completion */
	const uint8_t *wsrc[2];
	uint32_t wlen[2];
	const struct rpc_rdma_chunk *wchunk[2];
	bool posted;
	struct rdma_send *next;         /* free list / in flight list */
	struct rdma_send *prev;
	struct rdma_send *qnext;        /* the listener's post queue */
};

struct rdma_conn {
	struct rpc_xprt xprt;           /* first: the rpc layer sees only this */
	struct rdma_listener *l;
	struct rdma_cm_id *id;
	struct rdma_device *dev;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	char peer_str[64];
	pthread_mutex_t lock;           /* state, sends, credits, send queue */
	pthread_cond_t cv;              /* a send buffer or send-queue room came free */
	enum rdma_conn_state state;
	int64_t closing_since_ms;
	bool fd_watched;
	/* negotiated (RFC 8797), fixed once accepted */
	uint32_t inline_recv, inline_send;
	uint8_t ord;                    /* RDMA Reads we may have outstanding; 0: none */
	/* receives */
	unsigned nrecv;
	struct rdma_recv *recvs;
	uint8_t *recv_mem;
	struct ibv_mr *recv_mr;
	unsigned recv_posted;           /* loop thread */
	/* sends, under lock */
	unsigned nsend;
	struct rdma_send *sends;
	uint8_t *send_mem;
	struct ibv_mr *send_mr;
	struct rdma_send *send_free;
	struct rdma_send *send_busy;    /* in flight: given back on a forced close */
	unsigned sq_depth, sq_used;
	struct rpc_rdma_credits credits;
	unsigned reads_inflight;        /* RDMA Read chains posted (loop thread) */
	struct rdma_call *reading;      /* calls waiting for their Reads (loop thread) */
	struct rdma_call *read_wait_head, *read_wait_tail;   /* for send-queue room (loop) */
	struct rdma_conn *prev, *next;  /* listener's list, under l->lock */
	struct rdma_conn *dnext;        /* the listener's deferred lists */
	bool disconnect_queued;         /* under l->q_lock */
};

/* A call from receipt to the end of its reply's Send. */
struct rdma_call {
	struct rdma_wr_tag tag;         /* RDMA_WR_READ: its Reads point here */
	struct rdma_conn *c;            /* holds a reference */
	atomic_int refs;                /* service + the reply's Send */
	struct rpc_rdma_hdr hdr;
	uint8_t *record;                /* the reassembled call */
	size_t record_len;
	struct rdma_buf *record_buf;    /* record lives in it (Read chunks) or NULL (malloc'd) */
	struct rdma_buf *payload_buf;   /* what payload_buffer handed out, or NULL */
	struct rpc_rdma_call_map map;   /* where its pieces go (Read chunks) */
	unsigned reads_pending;
	bool read_failed;
	bool answered;                  /* a reply or RDMA_ERROR was posted (credits) */
	struct rdma_call *next;         /* c->reading */
};

struct rdma_listener {
	struct rpc_svc *svc;
	struct rdma_event_channel *ch;
	struct rdma_cm_id *listen_id;
	int timer_fd;
	uint16_t port;
	uint32_t max_record;
	unsigned max_connections;       /* Max_Connections, as for TCP */
	/* Verbs and the connection manager refuse a thread whose credentials
	 * changed since the device was opened (the kernel's
	 * ib_safe_file_access), and workers switch fsuid for every request:
	 * so every verbs call is made by this thread (the loop's), and what
	 * workers need posted, deregistered, disconnected or destroyed is
	 * queued here, with wake_fd to wake the loop. */
	pthread_t owner;
	int wake_fd;
	pthread_mutex_t q_lock;
	struct rdma_send *post_head, *post_tail;
	struct rdma_buf *release_bufs;
	struct rdma_conn *destroy_conns, *disconnect_conns;
	pthread_mutex_t lock;           /* conns, devices */
	struct rdma_conn *conns;
	unsigned nconns;                /* open (accepting or connected, or draining) */
	unsigned alive;                 /* connection objects not yet freed */
	struct rdma_device *devices;
	/* counters, relaxed atomics */
	_Atomic uint64_t accepted, refused, calls, replies_inline, replies_write_chunk,
		replies_reply_chunk, bytes_rdma_read, bytes_rdma_write, errors_sent, dropped,
		credit_overruns, registrations;
};

int64_t rdma_now_ms(void);

/* ---- rdma_listen.c ---- */
/* True on the thread that may make verbs calls. */
bool rdma_on_owner(const struct rdma_listener *l);
/* Wakes the loop to run what was queued for it. */
void rdma_wake(struct rdma_listener *l);
/* Runs the queued posts, releases, disconnects and destroys (owner thread). */
void rdma_run_deferred(struct rdma_listener *l);
/* Frees the one-use buffers workers queued (owner thread). */
void rdma_release_queued_bufs(struct rdma_listener *l);

/* ---- rdma_buf.c ---- */
struct rdma_device *rdma_device_get(struct rdma_listener *l, struct ibv_context *verbs);
void rdma_device_put(struct rdma_device *d);
/* A buffer of at least len bytes (the pool first), not necessarily
 * registered yet (workers cannot register); NULL without memory. pool_only:
 * NULL rather than a one-use buffer. Any thread. */
struct rdma_buf *rdma_buf_get(struct rdma_device *d, size_t len, bool pool_only);
/* Registers b if it is not yet (owner thread); false when that failed. */
bool rdma_buf_ready(struct rdma_buf *b);
/* Any thread: a one-use registration is undone on the owner thread. */
void rdma_buf_put(struct rdma_buf *b);
/* Frees a one-use buffer now (owner thread). */
void rdma_buf_free(struct rdma_buf *b);
struct ibv_mr *rdma_reg(struct rdma_listener *l, struct ibv_pd *pd, void *mem, size_t len,
			int access);
void rdma_dereg(struct rdma_listener *l, struct ibv_mr *mr);

/* ---- rdma_conn.c ---- */
/* A CONNECT_REQUEST: sets the connection up and accepts it, or rejects
 * it. Returns an id the caller destroys after acking the event (a rejected
 * one), or NULL; *held is the new connection with a reference for the
 * caller to drop after the ack, or NULL. */
struct rdma_cm_id *rdma_conn_accept(struct rdma_listener *l, struct rdma_cm_event *ev,
				    struct rdma_conn **held);
void rdma_conn_established(struct rdma_conn *c);
/* Starts closing c (loop thread): the xprt is dead from here. */
void rdma_conn_close(struct rdma_conn *c, const char *why);
/* Ends a CLOSING connection whose drain timed out (loop thread). */
void rdma_conn_drain_check(struct rdma_conn *c, int64_t now);
/* Frees c's verbs objects and c (owner thread). */
void rdma_conn_free(struct rdma_conn *c);

/* ---- rdma_recv.c ---- */
/* Posts receive r again; false when that failed (the connection closes). */
bool rdma_recv_post(struct rdma_conn *c, struct rdma_recv *r);
/* The comp channel of c became readable (loop thread). */
void rdma_cq_event(void *ctx, int fd, uint32_t events);
/* A forced close ends the calls still waiting for their Reads. Loop thread. */
void rdma_recv_abandon_reads(struct rdma_conn *c);
/* Ends the calls that wait for send-queue room (closing). Loop thread. */
void rdma_recv_drop_parked(struct rdma_conn *c);
/* Posts the Reads of calls that waited for send-queue room. Loop thread. */
void rdma_recv_retry_reads(struct rdma_conn *c);
/* Drops a call's reference; the last one frees it. Any thread. */
void rdma_call_put(struct rdma_call *call);

/* ---- rdma_send.c ---- */
int rdma_send_reply(struct rpc_xprt *x, void *ctx, const struct rpc_reply_msg *m);
int rdma_send_call(struct rpc_xprt *x, const struct iovec *iov, int iovcnt);
void *rdma_payload_buffer(struct rpc_xprt *x, void *ctx, size_t len);
void rdma_request_done(struct rpc_xprt *x, void *ctx);
/* Answers xid with RDMA_ERROR (loop thread); false when nothing could be posted. */
bool rdma_send_error(struct rdma_conn *c, uint32_t xid, enum rpc_rdma_verdict v,
		     uint32_t vers);
/* Posts a prepared send (owner thread); one on a closing connection, or
 * one that fails to post, is given back at once. */
void rdma_send_post(struct rdma_send *s);
/* A Send came back (any status): what it held is given back. Loop thread. */
void rdma_send_completed(struct rdma_send *s);
/* A forced close gives back every Send still in flight. Loop thread. */
void rdma_send_abandon_all(struct rdma_conn *c);

#endif
