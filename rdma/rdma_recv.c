/*
 * rdma/rdma_recv.c: the receive side and the completion queue.
 *
 * Job: on the loop thread, drain each connection's completion queue (the
 * channel is re-armed before polling, so no completion is missed: rping's
 * pattern); judge every received message's transport header (rpc/rpcrdma);
 * answer what RFC 8166 §4.5 says to answer with RDMA_ERROR; hand REPLYs to
 * our backchannel calls (rpc_route_reply); and for a call, copy its inline
 * part out of the receive buffer, post the receive again at once (the
 * credit it used is counted until the reply), pull its Read chunks with
 * RDMA Read straight into their places in the reassembled call (one
 * registered buffer, no copy of the data afterwards), then queue it to a
 * worker with the call as the transport's context.
 * Calls: libibverbs, rpc/rpc, rpc/rpcrdma, rpc/svc, rdma_buf.c, rdma_conn.c,
 * rdma_send.c. Called by: the event loop (rdma_cq_event), rdma_conn.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "rdma/rdma_internal.h"

#define CQ_POLL_BATCH 16
/* Read work requests of one call: every segment of its Read chunks. */
#define MAX_READ_WRS RPC_RDMA_MAX_SEGS

bool rdma_recv_post(struct rdma_conn *c, struct rdma_recv *r)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->mem, .length = c->inline_recv, .lkey = c->recv_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = (uintptr_t)&r->tag, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int rc;

	rc = ibv_post_recv(c->qp, &wr, &bad);
	if (rc) {
		log_warn("rdma", "%s: cannot post a receive: %s", c->peer_str, strerror(rc));
		return false;
	}
	pthread_mutex_lock(&c->lock);
	c->recv_posted++;
	pthread_mutex_unlock(&c->lock);
	return true;
}

static void call_free(struct rdma_call *call)
{
	struct rdma_conn *c = call->c;

	if (call->record_buf)
		rdma_buf_put(call->record_buf);
	else
		free(call->record);
	rdma_buf_put(call->payload_buf);
	free(call);
	rpc_xprt_put(&c->xprt);
}

void rdma_call_put(struct rdma_call *call)
{
	if (atomic_fetch_sub(&call->refs, 1) == 1)
		call_free(call);
}

static void serve_job(void *arg, uint8_t *reply_buf, size_t reply_cap)
{
	struct rdma_call *call = arg;

	/* rpc_serve_record ends with request_done, which drops the service's
	 * reference (the record lives in the call) */
	rpc_serve_record(&call->c->xprt, call->record, call->record_len, call, reply_buf,
			 reply_cap);
}

static void call_submit(struct rdma_call *call)
{
	struct rdma_conn *c = call->c;

	atomic_fetch_add_explicit(&c->l->calls, 1, memory_order_relaxed);
	if (rpc_svc_submit(c->l->svc, serve_job, call) < 0)
		rdma_call_put(call);   /* shutting down: nothing will answer */
}

/* Builds the Reads that fill call's Read-chunk pieces and posts them in
 * one chain, all signalled (each is counted back). Returns 1 posted (or
 * nothing to read: submitted), 0 no send-queue room now (the caller parks
 * the call), -1 failed (the caller ends the call and the connection). */
static int post_reads(struct rdma_call *call)
{
	struct rdma_conn *c = call->c;
	struct ibv_send_wr wrs[MAX_READ_WRS], *bad;
	struct ibv_sge sges[MAX_READ_WRS];
	struct rpc_rdma_span spans[MAX_READ_WRS];
	const struct rpc_rdma_piece *p;
	unsigned i, k, n = 0, ns;
	uint64_t bytes = 0;
	int rc;

	memset(wrs, 0, sizeof(wrs));
	for (i = 0; i < call->map.n; i++) {
		p = &call->map.p[i];
		if (p->kind != RPC_RDMA_PIECE_CHUNK)
			continue;
		/* the header's segment limit is MAX_READ_WRS: cannot fail */
		if (rpc_rdma_chunk_spans(&call->hdr, &call->hdr.reads[p->chunk], p->src, p->len,
					 spans, MAX_READ_WRS - n, &ns) < 0)
			return -1;
		for (k = 0; k < ns; k++, n++) {
			sges[n].addr = (uintptr_t)(call->record + p->dst + spans[k].at);
			sges[n].length = spans[k].length;
			sges[n].lkey = call->record_buf->mr->lkey;
			wrs[n].wr_id = (uintptr_t)&call->tag;
			wrs[n].sg_list = &sges[n];
			wrs[n].num_sge = 1;
			wrs[n].opcode = IBV_WR_RDMA_READ;
			wrs[n].send_flags = IBV_SEND_SIGNALED;
			wrs[n].wr.rdma.remote_addr = spans[k].offset;
			wrs[n].wr.rdma.rkey = spans[k].handle;
			bytes += spans[k].length;
		}
	}
	if (n == 0) {
		call_submit(call);   /* chunks of zero bytes: nothing to pull */
		return 1;
	}
	for (i = 0; i + 1 < n; i++)
		wrs[i].next = &wrs[i + 1];
	pthread_mutex_lock(&c->lock);
	if (c->sq_used + n > c->sq_depth) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	rc = ibv_post_send(c->qp, wrs, &bad);
	if (rc == 0) {
		c->sq_used += n;
		c->reads_inflight += n;
		call->reads_pending = n;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc) {
		log_warn("rdma", "%s: cannot post RDMA Reads: %s", c->peer_str, strerror(rc));
		return -1;
	}
	call->next = c->reading;
	c->reading = call;
	atomic_fetch_add_explicit(&c->l->bytes_rdma_read, bytes, memory_order_relaxed);
	return 1;
}

/* Pulls call's chunks now, or parks it until replies free send-queue room. */
static void pull_chunks(struct rdma_call *call)
{
	struct rdma_conn *c = call->c;
	int rc;

	/* calls parked before it go first: they arrived first */
	rc = c->read_wait_head ? 0 : post_reads(call);
	if (rc == 0) {
		call->next = NULL;
		if (c->read_wait_tail)
			c->read_wait_tail->next = call;
		else
			c->read_wait_head = call;
		c->read_wait_tail = call;
		return;
	}
	if (rc < 0) {
		rdma_call_put(call);
		rdma_conn_close(c, "RDMA Read not posted");
	}
}

void rdma_recv_retry_reads(struct rdma_conn *c)
{
	struct rdma_call *call;
	int rc;

	while ((call = c->read_wait_head) != NULL && c->state <= RDMA_CONN_CONNECTED) {
		c->read_wait_head = call->next;
		if (!c->read_wait_head)
			c->read_wait_tail = NULL;
		rc = post_reads(call);   /* links call into c->reading on success */
		if (rc == 0) {
			call->next = c->read_wait_head;
			c->read_wait_head = call;
			if (!c->read_wait_tail)
				c->read_wait_tail = call;
			return;
		}
		if (rc < 0) {
			rdma_call_put(call);
			rdma_conn_close(c, "RDMA Read not posted");
			return;
		}
	}
}

/* A call's inline part is copied out and its Read chunks pulled: the
 * receive buffer is free again as soon as this returns. */
static void take_call(struct rdma_conn *c, struct rdma_call *call, const uint8_t *msg)
{
	enum rpc_rdma_reason why;
	const struct rpc_rdma_piece *p;
	uint32_t outstanding;
	bool within;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	within = rpc_rdma_credits_on_call(&c->credits, call->hdr.credits);
	outstanding = c->credits.outstanding;
	pthread_mutex_unlock(&c->lock);
	if (!within) {
		atomic_fetch_add_explicit(&c->l->credit_overruns, 1, memory_order_relaxed);
		log_debug("rdma", "%s: a call past the credits granted", c->peer_str);
		/* each call costs a worker's time and up to Max_Record_Size: a
		 * peer that ignores its credits by this much is cut off */
		if (outstanding > RDMA_CREDIT_SLACK * RDMA_CREDITS) {
			log_warn("rdma", "%s: %u calls outstanding against %u credits: closing",
				 c->peer_str, outstanding, RDMA_CREDITS);
			rdma_call_put(call);
			rdma_conn_close(c, "calls past the credits");
			return;
		}
	}
	if (rpc_rdma_call_map(&call->hdr, c->l->max_record, &call->map, &why) < 0) {
		log_debug("rdma", "%s: xid 0x%08x: %s", c->peer_str, call->hdr.xid,
			  rpc_rdma_reason_name(why));
		rdma_send_error(c, call->hdr.xid, RPC_RDMA_REPLY_ERR_CHUNK, 1);
		rdma_call_put(call);
		return;
	}
	if (call->hdr.nreads == 0) {
		call->record = malloc(call->map.total ? call->map.total : 1);
		if (!call->record)
			goto nomem;
		memcpy(call->record, msg, call->map.total);
		call->record_len = call->map.total;
		call_submit(call);
		return;
	}
	if (c->ord == 0) {
		/* the client allowed us no RDMA Read at connect time */
		log_debug("rdma", "%s: xid 0x%08x has Read chunks, and no RDMA Read is allowed",
			  c->peer_str, call->hdr.xid);
		rdma_send_error(c, call->hdr.xid, RPC_RDMA_REPLY_ERR_CHUNK, 1);
		rdma_call_put(call);
		return;
	}
	call->record_buf = rdma_buf_get(c->dev, call->map.total, false);
	if (!call->record_buf)
		goto nomem;
	if (!rdma_buf_ready(call->record_buf)) {
		rdma_buf_put(call->record_buf);
		call->record_buf = NULL;
		goto nomem;
	}
	call->record = call->record_buf->mem;
	call->record_len = call->map.total;
	for (i = 0; i < call->map.n; i++) {
		p = &call->map.p[i];
		within = (size_t)p->src + p->len <= call->hdr.inline_len;
		if (p->kind == RPC_RDMA_PIECE_INLINE && within)
			memcpy(call->record + p->dst, msg + p->src, p->len);
		else if (p->kind == RPC_RDMA_PIECE_ZERO)
			memset(call->record + p->dst, 0, p->len);
	}
	pull_chunks(call);
	return;
nomem:
	/* RDMA_ERROR has no code for this and the Linux client would fail the
	 * application's request on ERR_CHUNK: closing makes it reconnect and
	 * send the call again through its session instead */
	log_warn("rdma", "%s: no memory for a %u-byte call: closing", c->peer_str,
		 call->map.total);
	rdma_call_put(call);
	rdma_conn_close(c, "out of memory");
}

static void on_receive(struct rdma_conn *c, struct rdma_recv *r, uint32_t len)
{
	struct rpc_rdma_hdr_error err;
	enum rpc_rdma_verdict v;
	struct rdma_call *call;
	const uint8_t *msg;
	uint8_t *rec;

	call = calloc(1, sizeof(*call));
	if (!call) {
		log_warn("rdma", "%s: out of memory, message dropped", c->peer_str);
		atomic_fetch_add_explicit(&c->l->dropped, 1, memory_order_relaxed);
		goto repost;
	}
	call->tag.kind = RDMA_WR_READ;
	call->c = c;
	atomic_init(&call->refs, 1);
	rpc_xprt_get(&c->xprt);
	v = rpc_rdma_hdr_decode(r->mem, len, c->l->max_record, &call->hdr, &err);
	switch (v) {
	case RPC_RDMA_OK:
		break;
	case RPC_RDMA_REPLY_ERR_VERS:
	case RPC_RDMA_REPLY_ERR_CHUNK:
		log_debug("rdma", "%s: xid 0x%08x refused: %s at byte %u", c->peer_str, err.xid,
			  rpc_rdma_reason_name(err.reason), err.at);
		/* the grant the client asked for last stands: a refused header's
		 * credit field may be anything */
		pthread_mutex_lock(&c->lock);
		rpc_rdma_credits_on_call(&c->credits, c->credits.requested ? c->credits.requested : 1);
		pthread_mutex_unlock(&c->lock);
		rdma_send_error(c, err.xid, v, err.vers);
		goto drop;
	case RPC_RDMA_PEER_ERROR:
		log_debug("rdma", "%s: RDMA_ERROR %u from the peer for xid 0x%08x", c->peer_str,
			  call->hdr.err, call->hdr.xid);
		goto drop;
	case RPC_RDMA_DROP:
		atomic_fetch_add_explicit(&c->l->dropped, 1, memory_order_relaxed);
		log_debug("rdma", "%s: %u-byte message dropped: %s", c->peer_str, len,
			  rpc_rdma_reason_name(err.reason));
		goto drop;
	}
	msg = r->mem + call->hdr.payload_off;
	log_trace("rdma", "%s: xid 0x%08x proc %u: %u inline bytes, %u Read chunk(s)%s, %u Write "
		  "chunk(s), %s Reply chunk", c->peer_str, call->hdr.xid, call->hdr.proc,
		  call->hdr.inline_len, call->hdr.nreads,
		  call->hdr.has_call_chunk ? " (the call)" : "", call->hdr.nwrites,
		  call->hdr.has_reply ? "a" : "no");
	if (call->hdr.proc == RPC_RDMA_MSG && rpc_record_is_reply(msg, call->hdr.inline_len)) {
		/* a reply to our callback (RFC 8167): straight to its caller */
		rec = malloc(call->hdr.inline_len);
		if (rec) {
			memcpy(rec, msg, call->hdr.inline_len);
			rpc_route_reply(&c->xprt, rec, call->hdr.inline_len);
		}
		goto drop;
	}
	take_call(c, call, msg);
	goto repost;
drop:
	rdma_call_put(call);
repost:
	if (c->state <= RDMA_CONN_CONNECTED && !rdma_recv_post(c, r))
		rdma_conn_close(c, "receive not posted");
}

static void on_read_done(struct rdma_conn *c, struct rdma_call *call, bool ok)
{
	struct rdma_call **pp;

	pthread_mutex_lock(&c->lock);
	c->sq_used--;
	c->reads_inflight--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->lock);
	if (!ok)
		call->read_failed = true;
	if (--call->reads_pending > 0)
		return;
	for (pp = &c->reading; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	if (call->read_failed || c->state > RDMA_CONN_CONNECTED)
		rdma_call_put(call);
	else
		call_submit(call);
	rdma_recv_retry_reads(c);   /* room came free */
}

void rdma_recv_drop_parked(struct rdma_conn *c)
{
	struct rdma_call *call;

	while ((call = c->read_wait_head) != NULL) {
		c->read_wait_head = call->next;
		rdma_call_put(call);
	}
	c->read_wait_tail = NULL;
}

void rdma_recv_abandon_reads(struct rdma_conn *c)
{
	struct rdma_call *call;

	while ((call = c->reading) != NULL) {
		c->reading = call->next;
		rdma_call_put(call);
	}
	rdma_recv_drop_parked(c);
	pthread_mutex_lock(&c->lock);
	c->sq_used -= c->reads_inflight;
	c->reads_inflight = 0;
	pthread_mutex_unlock(&c->lock);
}

static void on_completion(struct rdma_conn *c, const struct ibv_wc *wc)
{
	struct rdma_wr_tag *tag = (struct rdma_wr_tag *)(uintptr_t)wc->wr_id;
	bool ok = wc->status == IBV_WC_SUCCESS;

	if (!ok && wc->status != IBV_WC_WR_FLUSH_ERR)
		log_warn("rdma", "%s: work request failed: %s", c->peer_str,
			 ibv_wc_status_str(wc->status));
	if (!tag) {
		/* an unsignalled RDMA Write reports only its failure */
		rdma_conn_close(c, "RDMA Write failed");
		return;
	}
	switch (tag->kind) {
	case RDMA_WR_RECV:
		pthread_mutex_lock(&c->lock);
		c->recv_posted--;
		pthread_mutex_unlock(&c->lock);
		if (!ok) {
			rdma_conn_close(c, "receive failed");
			return;
		}
		if (c->state <= RDMA_CONN_CONNECTED)
			on_receive(c, (struct rdma_recv *)tag, wc->byte_len);
		return;
	case RDMA_WR_SEND:
		rdma_send_completed((struct rdma_send *)tag);
		if (!ok)
			rdma_conn_close(c, "send failed");
		return;
	case RDMA_WR_READ:
		on_read_done(c, (struct rdma_call *)tag, ok);
		if (!ok)
			rdma_conn_close(c, "RDMA Read failed");
		return;
	}
}

void rdma_cq_event(void *ctx, int fd, uint32_t events)
{
	struct rdma_conn *c = ctx;
	struct ibv_wc wc[CQ_POLL_BATCH];
	struct ibv_cq *cq;
	void *cq_ctx;
	int n, i;

	(void)fd;
	(void)events;
	rpc_xprt_get(&c->xprt);   /* closing below may drop the loop's reference */
	if (ibv_get_cq_event(c->cc, &cq, &cq_ctx) == 0)
		ibv_ack_cq_events(cq, 1);
	/* re-armed before polling: a completion after the last poll raises a
	 * new event instead of waiting unseen */
	if (ibv_req_notify_cq(c->cq, 0))
		log_warn("rdma", "%s: cannot re-arm the completion queue", c->peer_str);
	while ((n = ibv_poll_cq(c->cq, CQ_POLL_BATCH, wc)) > 0)
		for (i = 0; i < n; i++)
			on_completion(c, &wc[i]);
	if (n < 0)
		rdma_conn_close(c, "completion queue failed");
	rdma_conn_drain_check(c, rdma_now_ms());
	rpc_xprt_put(&c->xprt);
}
