/*
 * rdma/rdma_conn.c: one RPC-over-RDMA connection's life: set up and accept
 * on CONNECT_REQUEST, serve once ESTABLISHED, close on DISCONNECTED, on an
 * error completion or on device removal, drain, free.
 *
 * Accepting: the client's RFC 8797 private data says how much it sends and
 * receives inline; we take what it sends (at least 4 KiB, at most
 * RDMA_MAX_INLINE) and send at most what it receives (1 KiB when it sent
 * no private data, RFC 8166 §3.3.2), and say so in ours. RDMA_CREDITS
 * receives are posted before the accept, so the first call always finds one.
 * Closing: the queue pair goes to the error state, which flushes every
 * posted work request back through the completion queue; once none is
 * left (or RDMA_DRAIN_TIMEOUT_MS passed) the completion channel is no
 * longer watched and the loop drops its reference. The verbs objects go in
 * destroy, with the last reference, after every call in service ended.
 * Calls: librdmacm, libibverbs, rpc/rpc, rpc/svc, rdma_buf.c, rdma_recv.c,
 * rdma_send.c. Called by: rdma_listen.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <fcntl.h>

#include "conf/log.h"
#include "rdma/rdma_internal.h"
#include "rpc/netaddr.h"

static void rdma_conn_shutdown(struct rpc_xprt *x);
static void rdma_conn_destroy(struct rpc_xprt *x);

static const struct rpc_xprt_ops rdma_ops = {
	.netid = "rdma",
	.send = rdma_send_call,
	.send_reply = rdma_send_reply,
	.payload_buffer = rdma_payload_buffer,
	.request_done = rdma_request_done,
	.shutdown = rdma_conn_shutdown,
	.destroy = rdma_conn_destroy,
};

static const char *state_name(enum rdma_conn_state s)
{
	switch (s) {
	case RDMA_CONN_ACCEPTING: return "accepting";
	case RDMA_CONN_CONNECTED: return "connected";
	case RDMA_CONN_CLOSING: return "closing";
	case RDMA_CONN_CLOSED: return "closed";
	}
	return "?";
}

static void set_state(struct rdma_conn *c, enum rdma_conn_state s)
{
	pthread_mutex_lock(&c->lock);
	log_debug("rdma", "%s: %s -> %s", c->peer_str, state_name(c->state), state_name(s));
	c->state = s;
	pthread_cond_broadcast(&c->cv);   /* senders waiting for room give up */
	pthread_mutex_unlock(&c->lock);
}

/* Receive and send memory, one registration each. */
static int conn_buffers(struct rdma_conn *c)
{
	struct rdma_listener *l = c->l;
	unsigned i;

	c->recvs = calloc(c->nrecv, sizeof(*c->recvs));
	c->sends = calloc(c->nsend, sizeof(*c->sends));
	c->recv_mem = malloc((size_t)c->nrecv * c->inline_recv);
	c->send_mem = malloc((size_t)c->nsend * c->inline_send);
	if (!c->recvs || !c->sends || !c->recv_mem || !c->send_mem)
		return -ENOMEM;
	c->recv_mr = rdma_reg(l, c->dev->pd, c->recv_mem, (size_t)c->nrecv * c->inline_recv,
			      IBV_ACCESS_LOCAL_WRITE);
	c->send_mr = rdma_reg(l, c->dev->pd, c->send_mem, (size_t)c->nsend * c->inline_send, 0);
	if (!c->recv_mr || !c->send_mr)
		return -ENOMEM;
	for (i = 0; i < c->nrecv; i++) {
		c->recvs[i].tag.kind = RDMA_WR_RECV;
		c->recvs[i].c = c;
		c->recvs[i].mem = c->recv_mem + (size_t)i * c->inline_recv;
	}
	for (i = 0; i < c->nsend; i++) {
		c->sends[i].tag.kind = RDMA_WR_SEND;
		c->sends[i].c = c;
		c->sends[i].mem = c->send_mem + (size_t)i * c->inline_send;
		c->sends[i].next = c->send_free;
		c->send_free = &c->sends[i];
	}
	return 0;
}

/* Completion queue, its channel (non-blocking, watched by the loop) and
 * the queue pair. */
static int conn_queues(struct rdma_conn *c)
{
	const struct ibv_device_attr *a = &c->dev->attr;
	struct ibv_qp_init_attr qa;
	unsigned max_wr = a->max_qp_wr > 0 ? (unsigned)a->max_qp_wr : 1024;
	int fl, rc;

	/* a reply is its Writes (one per segment of its chunk) and a Send; the
	 * Reads of a call are as many as its segments */
	c->sq_depth = c->nsend * 4 + RPC_RDMA_MAX_SEGS * 4;
	if (c->sq_depth > max_wr)
		c->sq_depth = max_wr;
	if (c->nrecv > max_wr)
		return -EINVAL;
	c->cc = ibv_create_comp_channel(c->dev->verbs);
	if (!c->cc)
		return -errno;
	fl = fcntl(c->cc->fd, F_GETFL);
	if (fl < 0 || fcntl(c->cc->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	c->cq = ibv_create_cq(c->dev->verbs, (int)(c->sq_depth + c->nrecv), c, c->cc, 0);
	if (!c->cq)
		return -errno;
	if (ibv_req_notify_cq(c->cq, 0))
		return -errno;
	memset(&qa, 0, sizeof(qa));
	qa.qp_type = IBV_QPT_RC;
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.cap.max_send_wr = c->sq_depth;
	qa.cap.max_recv_wr = c->nrecv;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.sq_sig_all = 0;
	if (rdma_create_qp(c->id, c->dev->pd, &qa))
		return -errno;
	c->qp = c->id->qp;
	/* the device may have given more than asked, never less */
	if (qa.cap.max_send_wr < c->sq_depth)
		c->sq_depth = qa.cap.max_send_wr;
	rc = rpc_svc_add_fd(c->l->svc, c->cc->fd, EPOLLIN, rdma_cq_event, c);
	if (rc < 0)
		return rc;
	c->fd_watched = true;
	return 0;
}

/* Unwinds what conn_buffers and conn_queues made (with the last reference,
 * or when accepting fails half-way). */
static void conn_release(struct rdma_conn *c)
{
	struct rdma_listener *l = c->l;

	if (c->fd_watched)
		rpc_svc_del_fd(l->svc, c->cc->fd);
	if (c->qp)
		rdma_destroy_qp(c->id);
	if (c->cq && ibv_destroy_cq(c->cq))
		log_warn("rdma", "%s: destroying the completion queue: %s", c->peer_str,
			 strerror(errno));
	if (c->cc && ibv_destroy_comp_channel(c->cc))
		log_warn("rdma", "%s: destroying the completion channel: %s", c->peer_str,
			 strerror(errno));
	rdma_dereg(l, c->recv_mr);
	rdma_dereg(l, c->send_mr);
	free(c->recv_mem);
	free(c->send_mem);
	free(c->recvs);
	free(c->sends);
	if (c->id)
		rdma_destroy_id(c->id);
	rdma_device_put(c->dev);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->lock);
}

static uint32_t clamp_inline(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct rdma_cm_id *rdma_conn_accept(struct rdma_listener *l, struct rdma_cm_event *ev,
				    struct rdma_conn **held)
{
	struct rdma_cm_id *id = ev->id;
	struct rpc_rdma_cm_priv theirs, ours;
	struct rdma_conn_param cp;
	uint8_t priv[RPC_RDMA_CM_PRIV_LEN];
	struct rdma_conn *c;
	bool have_priv;
	unsigned i;
	int rc = -ENOMEM;

	if (rdma_listener_nconns(l) >= l->max_connections) {
		log_warn("rdma", "Max_Connections (%u) reached: RDMA connection refused",
			 l->max_connections);
		goto reject;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto reject;
	c->l = l;
	c->id = id;
	id->context = c;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->state = RDMA_CONN_ACCEPTING;
	rpc_addr_format(rdma_get_peer_addr(id), c->peer_str, sizeof(c->peer_str));
	have_priv = rpc_rdma_cm_priv_decode(ev->param.conn.private_data,
					    ev->param.conn.private_data_len, &theirs);
	/* what the client sends inline is what our receives must hold */
	c->inline_recv = clamp_inline(have_priv ? theirs.send_size : 0,
				      RPC_RDMA_INLINE_THRESHOLD, RDMA_MAX_INLINE);
	c->inline_send = clamp_inline(theirs.recv_size, RPC_RDMA_CM_MIN_INLINE,
				      RDMA_MAX_INLINE);
	/* receives for the credits granted, and for the client's replies to
	 * our callbacks, which arrive on them too (RFC 8167) */
	c->nrecv = RDMA_CREDITS + RDMA_BC_RECVS;
	c->nsend = RDMA_CREDITS + RDMA_SEND_SPARE;
	rpc_rdma_credits_init(&c->credits, RDMA_CREDITS);
	c->dev = rdma_device_get(l, id->verbs);
	if (!c->dev) {
		rc = -ENODEV;
		goto fail;
	}
	rc = conn_buffers(c);
	if (rc < 0)
		goto fail;
	rc = conn_queues(c);
	if (rc < 0)
		goto fail;
	for (i = 0; i < c->nrecv; i++)
		if (!rdma_recv_post(c, &c->recvs[i])) {
			rc = -EIO;
			goto fail;
		}
	rpc_xprt_init(&c->xprt, &rdma_ops);
	c->xprt.max_record = l->max_record;
	memcpy(&c->xprt.peer, rdma_get_peer_addr(id), sizeof(struct sockaddr_in6));
	c->xprt.peer_len = c->xprt.peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
	memcpy(&c->xprt.local, rdma_get_local_addr(id), sizeof(struct sockaddr_in6));
	c->xprt.local_len = c->xprt.local.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								 : sizeof(struct sockaddr_in);
	ours = (struct rpc_rdma_cm_priv){
		.remote_inv = false,   /* we never ask for Send With Invalidate */
		.send_size = c->inline_send, .recv_size = c->inline_recv,
	};
	memset(&cp, 0, sizeof(cp));
	if (rpc_rdma_cm_priv_encode(priv, sizeof(priv), &ours)) {
		cp.private_data = priv;
		cp.private_data_len = sizeof(priv);
	}
	/* The connection manager hands the passive side the request's values
	 * swapped into its own point of view: initiator_depth is how many RDMA
	 * Reads we may have outstanding at the client (its responder
	 * resources), which is what pulling Read chunks needs; the Linux client
	 * initiates none itself (responder_resources 0). */
	cp.initiator_depth = (uint8_t)(ev->param.conn.initiator_depth <
					       c->dev->attr.max_qp_init_rd_atom
				       ? ev->param.conn.initiator_depth
				       : c->dev->attr.max_qp_init_rd_atom);
	cp.responder_resources = (uint8_t)(ev->param.conn.responder_resources <
						   c->dev->attr.max_qp_rd_atom
					   ? ev->param.conn.responder_resources
					   : c->dev->attr.max_qp_rd_atom);
	c->ord = cp.initiator_depth;
	cp.rnr_retry_count = 7;
	pthread_mutex_lock(&l->lock);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	l->alive++;
	pthread_mutex_unlock(&l->lock);
	/* the event is acked before the last reference can destroy the id */
	rpc_xprt_get(&c->xprt);
	*held = c;
	if (rdma_accept(id, &cp)) {
		rc = -errno;
		log_warn("rdma", "%s: accept: %s", c->peer_str, strerror(-rc));
		rdma_conn_close(c, "accept failed");
		return NULL;
	}
	atomic_fetch_add_explicit(&l->accepted, 1, memory_order_relaxed);
	log_debug("rdma", "%s: accepting (xprt %llu): inline %u in, %u out, %u credits, "
		  "send queue %u, %u RDMA Reads outstanding", c->peer_str,
		  (unsigned long long)c->xprt.id, c->inline_recv, c->inline_send, c->nrecv,
		  c->sq_depth, cp.initiator_depth);
	return NULL;
fail:
	log_warn("rdma", "%s: cannot set the connection up: %s", c->peer_str, strerror(-rc));
	id->context = NULL;
	if (c->qp) {
		rdma_destroy_qp(id);
		c->qp = NULL;
	}
	c->id = NULL;   /* rejected here, destroyed by the caller after the ack */
	conn_release(c);
	free(c);
reject:
	atomic_fetch_add_explicit(&l->refused, 1, memory_order_relaxed);
	rdma_reject(id, NULL, 0);
	return id;
}

void rdma_conn_established(struct rdma_conn *c)
{
	if (c->state != RDMA_CONN_ACCEPTING)
		return;
	set_state(c, RDMA_CONN_CONNECTED);
	log_debug("rdma", "%s: connection established (xprt %llu)", c->peer_str,
		  (unsigned long long)c->xprt.id);
}

/* CLOSING -> CLOSED: nothing more comes from the queues. */
static void conn_closed(struct rdma_conn *c)
{
	struct rdma_listener *l = c->l;

	set_state(c, RDMA_CONN_CLOSED);
	if (c->fd_watched) {
		rpc_svc_del_fd(l->svc, c->cc->fd);
		c->fd_watched = false;
	}
	pthread_mutex_lock(&l->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	pthread_mutex_unlock(&l->lock);
	log_debug("rdma", "%s: closed", c->peer_str);
	rpc_xprt_put(&c->xprt);   /* the loop's reference */
}

/* Everything posted has come back (loop thread). */
static bool drained(struct rdma_conn *c)
{
	bool d;

	pthread_mutex_lock(&c->lock);
	d = c->recv_posted == 0 && c->sq_used == 0 && c->reads_inflight == 0;
	pthread_mutex_unlock(&c->lock);
	return d;
}

void rdma_conn_close(struct rdma_conn *c, const char *why)
{
	struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };

	if (c->state == RDMA_CONN_CLOSING || c->state == RDMA_CONN_CLOSED)
		return;
	log_debug("rdma", "%s: closing (%s)", c->peer_str, why);
	set_state(c, RDMA_CONN_CLOSING);
	c->closing_since_ms = rdma_now_ms();
	rdma_disconnect(c->id);
	/* flushes every posted work request back to us */
	if (c->qp && ibv_modify_qp(c->qp, &qa, IBV_QP_STATE))
		log_debug("rdma", "%s: queue pair to error: %s", c->peer_str, strerror(errno));
	rpc_xprt_closed(&c->xprt);
	rdma_recv_drop_parked(c);   /* their Reads were never posted */
	if (!c->qp || drained(c))
		conn_closed(c);
}

void rdma_conn_drain_check(struct rdma_conn *c, int64_t now)
{
	if (c->state != RDMA_CONN_CLOSING)
		return;
	if (drained(c)) {
		conn_closed(c);
		return;
	}
	if (now - c->closing_since_ms < RDMA_DRAIN_TIMEOUT_MS)
		return;
	log_warn("rdma", "%s: work requests not flushed after %d ms (device gone?): "
		 "closing anyway", c->peer_str, RDMA_DRAIN_TIMEOUT_MS);
	/* no more DMA into what the abandoned requests point at once the
	 * queue pair is gone; nothing posts on a CLOSING connection */
	if (c->qp) {
		rdma_destroy_qp(c->id);
		c->qp = NULL;
	}
	rdma_recv_abandon_reads(c);
	rdma_send_abandon_all(c);
	c->recv_posted = 0;
	conn_closed(c);
}

static void rdma_conn_shutdown(struct rpc_xprt *x)
{
	struct rdma_conn *c = (struct rdma_conn *)x;
	struct rdma_listener *l = c->l;

	if (rdma_on_owner(l)) {
		rdma_conn_close(c, "shut down by the server");
		return;
	}
	/* on the loop: a worker cannot talk to the connection manager */
	pthread_mutex_lock(&l->q_lock);
	if (!c->disconnect_queued) {
		c->disconnect_queued = true;
		rpc_xprt_get(&c->xprt);
		c->dnext = l->disconnect_conns;
		l->disconnect_conns = c;
	}
	rdma_wake(l);
	pthread_mutex_unlock(&l->q_lock);
}

void rdma_conn_free(struct rdma_conn *c)
{
	struct rdma_listener *l = c->l;

	log_trace("rdma", "%s: freed", c->peer_str);
	conn_release(c);
	free(c);
	pthread_mutex_lock(&l->lock);
	l->alive--;
	pthread_mutex_unlock(&l->lock);
}

static void rdma_conn_destroy(struct rpc_xprt *x)
{
	struct rdma_conn *c = (struct rdma_conn *)x;
	struct rdma_listener *l = c->l;

	if (rdma_on_owner(l)) {
		rdma_conn_free(c);
		return;
	}
	/* the last reference went on a worker: the verbs objects go on the loop */
	pthread_mutex_lock(&l->q_lock);
	c->dnext = l->destroy_conns;
	l->destroy_conns = c;
	rdma_wake(l);
	pthread_mutex_unlock(&l->q_lock);
}
