/*
 * rdma/rdma_send.c: the send side: replies, RDMA_ERROR answers and
 * backchannel calls.
 *
 * A reply (RFC 8166 §3.5, RFC 8267 §4) goes out as one chain of work
 * requests:
 *  - a READ payload, when the call brought a Write chunk and the rest of
 *    the reply fits inline, is put there by RDMA Write from the buffer READ
 *    filled (payload_buffer: the device's pool), or from a copy when READ
 *    had to use other memory; the message then leaves it out (a reduced
 *    data item, its length word kept);
 *  - the message goes inline behind its transport header when both fit the
 *    client's inline size; else whole (payload in place) into the Reply
 *    chunk by RDMA Write, as RDMA_NOMSG (which may report no Write chunk
 *    bytes: the Linux client refuses one that does); else, with no Reply
 *    chunk, the client gets ERR_CHUNK (§4.5.3) and the reply is logged;
 *  - the Send comes last and is the only signalled request: RC ordering
 *    places the Writes before the client sees the Send, and its completion
 *    frees the chain's send-queue entries and what it carried.
 * A worker prepares all of it (a send buffer and send-queue room taken
 * under the connection's lock, waiting when there are none; credits
 * granted; header and inline message written) and queues it; the loop
 * thread registers what is not yet registered and posts it (workers may
 * not make verbs calls: rdma_internal.h). The loop never waits: an
 * RDMA_ERROR it has no send buffer for is dropped and counted.
 * Calls: libibverbs, rpc/rpc, rpc/rpcrdma, rdma_buf.c, rdma_listen.c,
 * rdma_recv.c. Called by: rpc/rpc.c through the transport's operations,
 * rdma_recv.c, rdma_listen.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/log.h"
#include "rdma/rdma_internal.h"

#define MAX_WRITE_WRS RPC_RDMA_MAX_SEGS

/* A send buffer and need send-queue entries, reserved, with c->lock held
 * on success; NULL (lock released) when the connection is closing, or
 * when there is no room and the caller may not wait. */
static struct rdma_send *send_begin(struct rdma_conn *c, unsigned need, bool wait)
{
	struct timespec until;
	struct rdma_send *s;
	bool stuck = false;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RDMA_SEND_WAIT_MS / 1000;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (c->state > RDMA_CONN_CONNECTED || need > c->sq_depth)
			break;
		if (c->send_free && c->sq_used + need <= c->sq_depth) {
			s = c->send_free;
			c->send_free = s->next;
			c->sq_used += need;
			s->nwr = need;
			return s;
		}
		if (!wait)
			break;
		if (pthread_cond_timedwait(&c->cv, &c->lock, &until) == ETIMEDOUT) {
			stuck = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (stuck) {
		/* nothing came back for that long: the peer takes no Sends
		 * (or never lets an RDMA Read finish); workers must not pile
		 * up behind it */
		log_warn("rdma", "%s: no send buffer or send-queue room for %d ms: closing",
			 c->peer_str, RDMA_SEND_WAIT_MS);
		c->xprt.ops->shutdown(&c->xprt);
	}
	return NULL;
}

/* Gives back what s holds and s itself (c->lock held); the call it
 * carried is returned for the caller to drop outside the lock. */
static struct rdma_call *send_release(struct rdma_conn *c, struct rdma_send *s)
{
	struct rdma_call *call = s->call;
	int k;

	c->sq_used -= s->nwr;
	s->nwr = 0;
	if (s->posted) {
		if (s->prev)
			s->prev->next = s->next;
		else
			c->send_busy = s->next;
		if (s->next)
			s->next->prev = s->prev;
	}
	for (k = 0; k < 2; k++) {
		if (s->wbuf_owned[k])
			rdma_buf_put(s->wbuf[k]);
		s->wbuf[k] = NULL;
		s->wbuf_owned[k] = false;
		s->wlen[k] = 0;
	}
	s->call = NULL;
	s->posted = false;
	s->prev = NULL;
	s->next = c->send_free;
	c->send_free = s;
	pthread_cond_broadcast(&c->cv);
	return call;
}

static void send_give_back(struct rdma_send *s)
{
	struct rdma_conn *c = s->c;
	struct rdma_call *call;

	pthread_mutex_lock(&c->lock);
	call = send_release(c, s);
	pthread_mutex_unlock(&c->lock);
	if (call)
		rdma_call_put(call);
}

/* Hands s to the loop thread (c->lock held, released here). */
static void send_queue(struct rdma_conn *c, struct rdma_send *s)
{
	struct rdma_listener *l = c->l;

	if (rdma_on_owner(l)) {
		pthread_mutex_unlock(&c->lock);
		rdma_send_post(s);
		return;
	}
	/* held until posted (taken while s still pins the connection's
	 * accounting): a send without a call holds nothing else */
	rpc_xprt_get(&c->xprt);
	pthread_mutex_unlock(&c->lock);
	s->qnext = NULL;
	pthread_mutex_lock(&l->q_lock);
	if (l->post_tail)
		l->post_tail->qnext = s;
	else
		l->post_head = s;
	l->post_tail = s;
	rdma_wake(l);
	pthread_mutex_unlock(&l->q_lock);
}

/* Unsignalled RDMA Writes of write k of s over its chunk's segments;
 * returns how many, or -1. */
static int wr_writes(struct rdma_send *s, int k, struct ibv_send_wr *wrs, struct ibv_sge *sges)
{
	struct rpc_rdma_span spans[MAX_WRITE_WRS];
	unsigned n, i;

	if (!rdma_buf_ready(s->wbuf[k]))
		return -1;
	if (rpc_rdma_chunk_spans(&s->call->hdr, s->wchunk[k], 0, s->wlen[k], spans,
				 MAX_WRITE_WRS, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&wrs[i], 0, sizeof(wrs[i]));
		sges[i].addr = (uintptr_t)(s->wsrc[k] + spans[i].at);
		sges[i].length = spans[i].length;
		sges[i].lkey = s->wbuf[k]->mr->lkey;
		wrs[i].wr_id = 0;
		wrs[i].sg_list = &sges[i];
		wrs[i].num_sge = 1;
		wrs[i].opcode = IBV_WR_RDMA_WRITE;
		wrs[i].wr.rdma.remote_addr = spans[i].offset;
		wrs[i].wr.rdma.rkey = spans[i].handle;
	}
	return (int)n;
}

void rdma_send_post(struct rdma_send *s)
{
	struct rdma_conn *c = s->c;
	struct ibv_send_wr wrs[2 * MAX_WRITE_WRS + 1], *bad;
	struct ibv_sge sges[2 * MAX_WRITE_WRS + 1];
	unsigned n = 0, i;
	int k, w, rc;

	if (c->state > RDMA_CONN_CONNECTED)
		goto give_back;
	for (k = 0; k < 2; k++) {
		if (!s->wlen[k])
			continue;
		w = wr_writes(s, k, wrs + n, sges + n);
		if (w < 0) {
			log_warn("rdma", "%s: a reply's RDMA Write cannot be prepared", c->peer_str);
			goto fail;
		}
		n += (unsigned)w;
	}
	memset(&wrs[n], 0, sizeof(wrs[n]));
	sges[n].addr = (uintptr_t)s->mem;
	sges[n].length = (uint32_t)s->len;
	sges[n].lkey = c->send_mr->lkey;
	wrs[n].wr_id = (uintptr_t)&s->tag;
	wrs[n].sg_list = &sges[n];
	wrs[n].num_sge = 1;
	wrs[n].opcode = IBV_WR_SEND;
	wrs[n].send_flags = IBV_SEND_SIGNALED;
	n++;
	for (i = 0; i + 1 < n; i++)
		wrs[i].next = &wrs[i + 1];
	wrs[n - 1].next = NULL;
	pthread_mutex_lock(&c->lock);
	/* the reservation was made for what the chunks hold at most */
	if (n > s->nwr) {
		pthread_mutex_unlock(&c->lock);
		goto fail;
	}
	rc = ibv_post_send(c->qp, wrs, &bad);
	log_trace("rdma", "%s: send of %zu bytes after %u RDMA Write(s) (%u + %u bytes): %s",
		  c->peer_str, s->len, n - 1, s->wlen[0], s->wlen[1], rc ? strerror(rc) : "posted");
	if (rc == 0) {
		s->posted = true;
		s->prev = NULL;
		s->next = c->send_busy;
		if (c->send_busy)
			c->send_busy->prev = s;
		c->send_busy = s;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == 0)
		return;
	log_warn("rdma", "%s: cannot post a send: %s", c->peer_str, strerror(rc));
fail:
	send_give_back(s);
	rdma_conn_close(c, "send not posted");
	return;
give_back:
	send_give_back(s);
}

/* The answer to a call is prepared: its credit comes back (c->lock held). */
static void call_answered(struct rdma_conn *c, struct rdma_call *call)
{
	if (call && !call->answered) {
		call->answered = true;
		rpc_rdma_credits_on_reply(&c->credits);
	}
}

static int send_error_common(struct rdma_conn *c, struct rdma_call *call, uint32_t xid,
			     enum rpc_rdma_verdict v, uint32_t vers, bool wait)
{
	struct rdma_send *s;
	uint32_t credits;

	s = send_begin(c, 1, wait);
	if (!s) {
		/* not answered, but the call is over all the same */
		pthread_mutex_lock(&c->lock);
		if (call)
			call_answered(c, call);
		else
			rpc_rdma_credits_on_reply(&c->credits);
		pthread_mutex_unlock(&c->lock);
		atomic_fetch_add_explicit(&c->l->dropped, 1, memory_order_relaxed);
		return -ECONNRESET;
	}
	credits = rpc_rdma_credits_grant(&c->credits);
	if (v == RPC_RDMA_REPLY_ERR_VERS)
		s->len = rpc_rdma_encode_err_vers(s->mem, c->inline_send, xid, vers, credits);
	else
		s->len = rpc_rdma_encode_err_chunk(s->mem, c->inline_send, xid, credits);
	if (call)
		call_answered(c, call);
	else
		rpc_rdma_credits_on_reply(&c->credits);
	atomic_fetch_add_explicit(&c->l->errors_sent, 1, memory_order_relaxed);
	send_queue(c, s);
	return 0;
}

bool rdma_send_error(struct rdma_conn *c, uint32_t xid, enum rpc_rdma_verdict v,
		     uint32_t vers)
{
	return send_error_common(c, NULL, xid, v, vers, false) == 0;
}

static size_t iov_copy(uint8_t *dst, const struct iovec *iov, int n)
{
	size_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		memcpy(dst + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return off;
}

/* Segments of chunk ch a write of len bytes touches (for the reservation). */
static int chunk_wrs(const struct rpc_rdma_hdr *h, const struct rpc_rdma_chunk *ch, size_t len,
		     unsigned *n)
{
	struct rpc_rdma_span spans[MAX_WRITE_WRS];

	return rpc_rdma_chunk_spans(h, ch, 0, (uint32_t)len, spans, MAX_WRITE_WRS, n);
}

int rdma_send_reply(struct rpc_xprt *x, void *ctx, const struct rpc_reply_msg *m)
{
	struct rdma_conn *c = (struct rdma_conn *)x;
	struct rdma_call *call = ctx;
	const struct rpc_rdma_hdr *h = &call->hdr;
	struct rpc_reply_msg reduced = *m;
	const struct rpc_reply_msg *msg = m;
	struct rdma_buf *wbuf[2] = { NULL, NULL };
	bool owned[2] = { false, false };
	struct rpc_rdma_reply rr;
	struct iovec iov[4];
	unsigned nw = 0, nr = 0;
	struct rdma_send *s;
	size_t len, off;
	int niov, i, rc;

	memset(&rr, 0, sizeof(rr));
	/* the payload by RDMA Write into Write chunk 0 (RFC 8267 §4.3) when the
	 * rest then fits inline */
	reduced.payload = (struct rpc_payload){ .pos = RPC_PAYLOAD_UNPLACED };
	if (m->payload.data && m->payload.len && h->nwrites > 0 &&
	    rpc_rdma_reply_fits_inline(h, (uint32_t)m->len, c->inline_send)) {
		if (chunk_wrs(h, &h->writes[0], m->payload.len, &nw) < 0)
			goto too_big;
		if (call->payload_buf && (const uint8_t *)m->payload.data >= call->payload_buf->mem &&
		    (const uint8_t *)m->payload.data + m->payload.len <=
			    call->payload_buf->mem + call->payload_buf->cap) {
			wbuf[0] = call->payload_buf;   /* the call keeps it until the Send is done */
		} else {
			wbuf[0] = rdma_buf_get(c->dev, m->payload.len, false);
			if (!wbuf[0])
				goto nomem;
			owned[0] = true;
			memcpy(wbuf[0]->mem, m->payload.data, m->payload.len);
		}
		rr.write_used[0] = (uint32_t)m->payload.len;
		msg = &reduced;
	}
	niov = rpc_reply_msg_iov(msg, iov);
	for (len = 0, i = 0; i < niov; i++)
		len += iov[i].iov_len;
	if (!rpc_rdma_reply_fits_inline(h, (uint32_t)len, c->inline_send)) {
		if (!h->has_reply || chunk_wrs(h, &h->reply, len, &nr) < 0 ||
		    rpc_rdma_reply_hdr_len(h, true) > c->inline_send)
			goto too_big;
		wbuf[1] = rdma_buf_get(c->dev, len, false);
		if (!wbuf[1])
			goto nomem;
		owned[1] = true;
		iov_copy(wbuf[1]->mem, iov, niov);
		rr.use_reply_chunk = true;
		rr.reply_used = (uint32_t)len;
	}
	s = send_begin(c, nw + nr + 1, true);
	if (!s) {
		rc = -ECONNRESET;
		goto out;
	}
	rr.credits = rpc_rdma_credits_grant(&c->credits);
	off = rpc_rdma_encode_reply(s->mem, c->inline_send, h, &rr);
	if (off == 0) {
		/* the sizes were checked above: only a codec bug gets here */
		pthread_mutex_unlock(&c->lock);
		send_give_back(s);
		rc = -EPROTO;
		goto out;
	}
	if (!rr.use_reply_chunk)
		off += iov_copy(s->mem + off, iov, niov);
	s->len = off;
	call_answered(c, call);
	s->call = call;
	atomic_fetch_add(&call->refs, 1);
	if (nw) {
		s->wbuf[0] = wbuf[0];
		s->wbuf_owned[0] = owned[0];
		s->wsrc[0] = owned[0] ? wbuf[0]->mem : m->payload.data;
		s->wlen[0] = (uint32_t)m->payload.len;
		s->wchunk[0] = &h->writes[0];
	}
	if (nr) {
		s->wbuf[1] = wbuf[1];
		s->wbuf_owned[1] = true;
		s->wsrc[1] = wbuf[1]->mem;
		s->wlen[1] = (uint32_t)len;
		s->wchunk[1] = &h->reply;
	}
	owned[0] = owned[1] = false;   /* s has them now */
	if (nw)
		atomic_fetch_add_explicit(&c->l->replies_write_chunk, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(rr.use_reply_chunk ? &c->l->replies_reply_chunk
						     : &c->l->replies_inline,
				  1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->l->bytes_rdma_write,
				  rr.write_used[0] + (rr.use_reply_chunk ? rr.reply_used : 0),
				  memory_order_relaxed);
	send_queue(c, s);
	rc = 0;
	goto out;
too_big:
	log_warn("rdma", "%s: reply to xid 0x%08x does not fit the chunks the client gave "
		 "(payload %zu bytes, message %zu): answered ERR_CHUNK", c->peer_str, h->xid,
		 m->payload.len, m->len);
	rc = send_error_common(c, call, h->xid, RPC_RDMA_REPLY_ERR_CHUNK, 1, true);
	goto out;
nomem:
	log_warn("rdma", "%s: no memory to stage the reply to xid 0x%08x", c->peer_str, h->xid);
	rc = send_error_common(c, call, h->xid, RPC_RDMA_REPLY_ERR_CHUNK, 1, true);
out:
	for (i = 0; i < 2; i++)
		if (owned[i])
			rdma_buf_put(wbuf[i]);
	return rc;
}

int rdma_send_call(struct rpc_xprt *x, const struct iovec *iov, int iovcnt)
{
	struct rdma_conn *c = (struct rdma_conn *)x;
	struct rdma_send *s;
	size_t len = 0, off;
	uint32_t xid;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	/* callbacks are small: inline only (the Linux client's backchannel
	 * takes no chunks) */
	if (len < 4 || len + RPC_RDMA_MIN_MSG_HDR > c->inline_send)
		return -EMSGSIZE;
	/* the loop thread must not wait for the completions it would reap */
	s = send_begin(c, 1, !rdma_on_owner(c->l));
	if (!s)
		return -ECONNRESET;
	/* rdma_credit of a backchannel call asks for the client's backchannel
	 * credits (RFC 8167): one request at a time is all the callback engine
	 * sends on a session */
	off = rpc_rdma_encode_bc_call(s->mem, c->inline_send, 0, 1);
	if (off == 0) {
		pthread_mutex_unlock(&c->lock);
		send_give_back(s);
		return -EINVAL;
	}
	iov_copy(s->mem + off, iov, iovcnt);
	/* the transport header carries the RPC message's xid (RFC 8166 §4.2.1) */
	memcpy(&xid, s->mem + off, 4);
	rpc_rdma_encode_bc_call(s->mem, off, ntohl(xid), 1);
	s->len = off + len;
	send_queue(c, s);
	return 0;
}

void *rdma_payload_buffer(struct rpc_xprt *x, void *ctx, size_t len)
{
	struct rdma_call *call = ctx;

	(void)x;
	/* only a payload that will go by RDMA Write gains from a pool buffer,
	 * and past the pool the request's own memory does as well */
	if (!call || call->hdr.nwrites == 0 || call->payload_buf)
		return NULL;
	call->payload_buf = rdma_buf_get(call->c->dev, len, true);
	return call->payload_buf ? call->payload_buf->mem : NULL;
}

void rdma_request_done(struct rpc_xprt *x, void *ctx)
{
	struct rdma_conn *c = (struct rdma_conn *)x;
	struct rdma_call *call = ctx;

	/* a reply the program dropped still gives its credit back */
	pthread_mutex_lock(&c->lock);
	call_answered(c, call);
	pthread_mutex_unlock(&c->lock);
	rdma_call_put(call);
}

void rdma_send_completed(struct rdma_send *s)
{
	struct rdma_conn *c = s->c;

	send_give_back(s);
	rdma_recv_retry_reads(c);   /* room came free */
}

void rdma_send_abandon_all(struct rdma_conn *c)
{
	struct rdma_call *call;

	pthread_mutex_lock(&c->lock);
	while (c->send_busy) {
		call = send_release(c, c->send_busy);
		if (call) {
			pthread_mutex_unlock(&c->lock);
			rdma_call_put(call);
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
}
