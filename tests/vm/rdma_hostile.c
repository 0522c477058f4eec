/*
 * tests/vm/rdma_hostile.c: a small RPC-over-RDMA client that misbehaves, for
 * the VM test bed (scenario rdma).
 *
 * Job: connect to an NFS server's RDMA port with librdmacm the way the Linux
 * client does (RFC 8797 private data, 4 KiB inline), then send what a
 * hostile or broken peer sends and check what comes back, each case on a
 * connection of its own:
 *   vers        rdma_vers 2                      -> RDMA_ERROR ERR_VERS 1..1
 *   unaligned   a Read chunk at position 3       -> RDMA_ERROR ERR_CHUNK
 *   segments    a Write chunk of 65 segments     -> RDMA_ERROR ERR_CHUNK
 *   msgp        the obsolete RDMA_MSGP           -> RDMA_ERROR ERR_CHUNK
 *   short       6 bytes, then a NULL call        -> nothing, then the NULL reply
 *   badkey      a Read chunk with an rkey that   -> the server's RDMA Read fails
 *               names nothing                       and it disconnects
 *   vanish      a 1 MiB Read chunk, then the     -> (the server's RDMA Read fails
 *               client's memory deregistered        while we are gone; checked
 *               and the process gone at once        by the script: it keeps serving)
 * Every byte is written here by hand from RFC 8166 §4.3 (not with the
 * server's codec: this is the other side). Prints "ok: CASE" or
 * "FAIL: CASE: why"; exits with the number of failures.
 *
 *   rdma_hostile ADDR PORT CASE...
 *
 * Calls: librdmacm, libibverbs. Called by: tests/vm/guest/rdma.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <rdma/rdma_cma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INLINE 4096u
#define NRECV 8
#define BIG (1u << 20)

struct peer {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *mem;               /* NRECV receive buffers, one send buffer, BIG bytes */
};

static uint8_t *recv_buf(struct peer *p, int i) { return p->mem + (size_t)i * INLINE; }
static uint8_t *send_buf(struct peer *p) { return p->mem + (size_t)NRECV * INLINE; }
static uint8_t *big_buf(struct peer *p) { return p->mem + (size_t)(NRECV + 1) * INLINE; }

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next connection-manager event, at most ms milliseconds away. */
static int cm_wait(struct peer *p, enum rdma_cm_event_type want, int ms)
{
	struct pollfd pfd = { .fd = p->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int got;

	if (poll(&pfd, 1, ms) <= 0)
		return -ETIMEDOUT;
	if (rdma_get_cm_event(p->ch, &ev))
		return -errno;
	got = ev->event;
	rdma_ack_cm_event(ev);
	return got == (int)want ? 0 : -EPROTO;
}

static int post_recv(struct peer *p, int i)
{
	struct ibv_sge sge = { (uintptr_t)recv_buf(p, i), INLINE, p->mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = (uint64_t)i, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(p->id->qp, &wr, &bad);
}

static int peer_connect(struct peer *p, const char *addr, const char *port)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr qa = { 0 };
	struct rdma_conn_param cp = { 0 };
	/* RFC 8797: magic, version 1, no remote invalidation, 4 KiB each way */
	uint8_t priv[8] = { 0xf6, 0xab, 0x0e, 0x18, 1, 0, 3, 3 };
	int i;

	memset(p, 0, sizeof(*p));
	if (rdma_getaddrinfo(addr, port, &hints, &res))
		return -1;
	p->ch = rdma_create_event_channel();
	if (!p->ch || rdma_create_id(p->ch, &p->id, NULL, RDMA_PS_TCP) ||
	    rdma_resolve_addr(p->id, NULL, res->ai_dst_addr, 2000) ||
	    cm_wait(p, RDMA_CM_EVENT_ADDR_RESOLVED, 5000) ||
	    rdma_resolve_route(p->id, 2000) || cm_wait(p, RDMA_CM_EVENT_ROUTE_RESOLVED, 5000)) {
		rdma_freeaddrinfo(res);
		return -1;
	}
	rdma_freeaddrinfo(res);
	p->pd = ibv_alloc_pd(p->id->verbs);
	p->cq = ibv_create_cq(p->id->verbs, 64, NULL, NULL, 0);
	p->mem = calloc(1, (size_t)(NRECV + 1) * INLINE + BIG);
	if (!p->pd || !p->cq || !p->mem)
		return -1;
	p->mr = ibv_reg_mr(p->pd, p->mem, (size_t)(NRECV + 1) * INLINE + BIG,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (!p->mr)
		return -1;
	qa.send_cq = p->cq;
	qa.recv_cq = p->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 16;
	qa.cap.max_recv_wr = NRECV;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(p->id, p->pd, &qa))
		return -1;
	for (i = 0; i < NRECV; i++)
		if (post_recv(p, i))
			return -1;
	cp.private_data = priv;
	cp.private_data_len = sizeof(priv);
	cp.responder_resources = 16;   /* the server pulls Read chunks from us */
	cp.initiator_depth = 0;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(p->id, &cp) || cm_wait(p, RDMA_CM_EVENT_ESTABLISHED, 5000))
		return -1;
	return 0;
}

static void peer_close(struct peer *p)
{
	if (p->id && p->id->qp) {
		rdma_disconnect(p->id);
		rdma_destroy_qp(p->id);
	}
	if (p->mr)
		ibv_dereg_mr(p->mr);
	if (p->cq)
		ibv_destroy_cq(p->cq);
	if (p->pd)
		ibv_dealloc_pd(p->pd);
	if (p->id)
		rdma_destroy_id(p->id);
	if (p->ch)
		rdma_destroy_event_channel(p->ch);
	free(p->mem);
}

static uint8_t *put32(uint8_t *b, uint32_t v)
{
	v = htonl(v);
	memcpy(b, &v, 4);
	return b + 4;
}

static uint32_t get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return ntohl(v);
}

/* An RPC CALL of NFS (100003) v4 NULL with AUTH_NONE; extra bytes of zeros. */
static uint8_t *put_null_call(uint8_t *b, uint32_t xid, unsigned extra)
{
	b = put32(b, xid);
	b = put32(b, 0);        /* CALL */
	b = put32(b, 2);
	b = put32(b, 100003);
	b = put32(b, 4);
	b = put32(b, 0);        /* NULL */
	b = put32(b, 0);
	b = put32(b, 0);        /* cred AUTH_NONE */
	b = put32(b, 0);
	b = put32(b, 0);        /* verf AUTH_NONE */
	memset(b, 0, extra);
	return b + extra;
}

static int post_send(struct peer *p, size_t len)
{
	struct ibv_sge sge = { (uintptr_t)send_buf(p), (uint32_t)len, p->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 1000, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;

	return ibv_post_send(p->id->qp, &wr, &bad);
}

/* The next received message within ms: its buffer index, or -1. */
static int wait_recv(struct peer *p, int ms, uint32_t *len)
{
	int64_t end = now_ms() + ms;
	struct ibv_wc wc;
	int n;

	while (now_ms() < end) {
		n = ibv_poll_cq(p->cq, 1, &wc);
		if (n < 0 || (n == 1 && wc.status != IBV_WC_SUCCESS))
			return -1;
		if (n == 1 && wc.opcode == IBV_WC_RECV) {
			*len = wc.byte_len;
			return (int)wc.wr_id;
		}
		if (n == 0)
			usleep(1000);
	}
	return -1;
}

/* Sends the len bytes built in the send buffer; the answer must be an
 * RDMA_ERROR with code err for xid. */
static const char *expect_error(struct peer *p, size_t len, uint32_t xid, uint32_t err)
{
	uint32_t rlen;
	uint8_t *r;
	int i;

	if (post_send(p, len))
		return "send not posted";
	i = wait_recv(p, 10000, &rlen);
	if (i < 0)
		return "no answer in 10 s";
	r = recv_buf(p, i);
	/* rdma_vers echoes ours (2 in the vers case), as the Linux server does */
	if (rlen < 20 || get32(r) != xid || get32(r + 12) != 4)
		return "the answer is not an RDMA_ERROR for our xid";
	if (get32(r + 4) != (err == 1 ? 2u : 1u))
		return "the RDMA_ERROR's rdma_vers is not the one we sent";
	if (get32(r + 16) != err)
		return "RDMA_ERROR with another code";
	if (err == 1 && (rlen < 28 || get32(r + 20) != 1 || get32(r + 24) != 1))
		return "ERR_VERS without versions 1..1";
	return NULL;
}

/* A NULL call answered: RDMA_MSG for xid, RPC reply accepted SUCCESS. */
static const char *expect_null_reply(struct peer *p, uint32_t xid)
{
	uint8_t *b = send_buf(p), *e;
	uint32_t rlen;
	uint8_t *r;
	int i;

	b = put32(b, xid);
	b = put32(b, 1);
	b = put32(b, 16);
	b = put32(b, 0);        /* RDMA_MSG */
	b = put32(b, 0);
	b = put32(b, 0);
	b = put32(b, 0);        /* no chunks */
	e = put_null_call(b, xid, 0);
	if (post_send(p, (size_t)(e - send_buf(p))))
		return "send not posted";
	i = wait_recv(p, 10000, &rlen);
	if (i < 0)
		return "no reply to a NULL call in 10 s";
	r = recv_buf(p, i);
	if (rlen < 28 + 24 || get32(r) != xid || get32(r + 12) != 0 || get32(r + 28) != xid ||
	    get32(r + 32) != 1 || get32(r + 48) != 0)
		return "the NULL reply is wrong";
	return NULL;
}

static uint8_t *put_hdr(uint8_t *b, uint32_t xid, uint32_t vers, uint32_t proc)
{
	b = put32(b, xid);
	b = put32(b, vers);
	b = put32(b, 16);
	return put32(b, proc);
}

static const char *run_case(struct peer *p, const char *name)
{
	uint8_t *b = send_buf(p), *e;
	uint32_t rlen;
	int i;

	if (strcmp(name, "vers") == 0) {
		b = put_hdr(b, 0x101, 2, 0);
		b = put32(b, 0); b = put32(b, 0); b = put32(b, 0);
		e = put_null_call(b, 0x101, 0);
		return expect_error(p, (size_t)(e - send_buf(p)), 0x101, 1);
	}
	if (strcmp(name, "unaligned") == 0) {
		b = put_hdr(b, 0x102, 1, 0);
		b = put32(b, 1); b = put32(b, 3);          /* Read segment at position 3 */
		b = put32(b, p->mr->rkey); b = put32(b, 8);
		b = put32(b, 0); b = put32(b, (uint32_t)(uintptr_t)big_buf(p));
		b = put32(b, 0); b = put32(b, 0); b = put32(b, 0);
		e = put_null_call(b, 0x102, 0);
		return expect_error(p, (size_t)(e - send_buf(p)), 0x102, 2);
	}
	if (strcmp(name, "segments") == 0) {
		b = put_hdr(b, 0x103, 1, 0);
		b = put32(b, 0);                            /* no Read list */
		b = put32(b, 1); b = put32(b, 65);          /* a Write chunk of 65 segments */
		for (i = 0; i < 65; i++) {
			b = put32(b, p->mr->rkey); b = put32(b, 16);
			b = put32(b, 0); b = put32(b, (uint32_t)(uintptr_t)big_buf(p));
		}
		b = put32(b, 0); b = put32(b, 0);
		e = put_null_call(b, 0x103, 0);
		return expect_error(p, (size_t)(e - send_buf(p)), 0x103, 2);
	}
	if (strcmp(name, "msgp") == 0) {
		b = put_hdr(b, 0x104, 1, 2);
		b = put32(b, 4); b = put32(b, 1024);
		b = put32(b, 0); b = put32(b, 0); b = put32(b, 0);
		e = put_null_call(b, 0x104, 0);
		return expect_error(p, (size_t)(e - send_buf(p)), 0x104, 2);
	}
	if (strcmp(name, "short") == 0) {
		memset(b, 0xee, 6);
		if (post_send(p, 6))
			return "send not posted";
		if (wait_recv(p, 2000, &rlen) >= 0)
			return "a 6-byte message was answered";
		return expect_null_reply(p, 0x105);
	}
	if (strcmp(name, "badkey") == 0 || strcmp(name, "vanish") == 0) {
		bool vanish = name[0] == 'v';
		uint64_t addr = (uintptr_t)big_buf(p);

		/* a data item at the end of the NULL call's (ignored) arguments:
		 * the server must pull it before it can serve the call */
		b = put_hdr(b, 0x106, 1, 0);
		b = put32(b, 1); b = put32(b, 40 + 4);     /* after the call and a length word */
		b = put32(b, vanish ? p->mr->rkey : p->mr->rkey ^ 0x5a5a5a00u);
		b = put32(b, vanish ? BIG : 4096);
		b = put32(b, (uint32_t)(addr >> 32)); b = put32(b, (uint32_t)addr);
		b = put32(b, 0); b = put32(b, 0); b = put32(b, 0);
		e = put_null_call(b, 0x106, 0);
		e = put32(e, vanish ? BIG : 4096);         /* the opaque's length word */
		if (post_send(p, (size_t)(e - send_buf(p))))
			return "send not posted";
		if (vanish) {
			struct ibv_wc wc;
			int64_t end = now_ms() + 5000;

			/* the call is out (its Send completed, so the server has
			 * it); then our memory and we are gone, no goodbye, while
			 * the server reads the 1 MiB (tens of ms on soft-RoCE) */
			while (now_ms() < end && ibv_poll_cq(p->cq, 1, &wc) == 0)
				usleep(100);
			usleep(2000);
			ibv_dereg_mr(p->mr);
			p->mr = NULL;
			printf("ok: vanish (gone)\n");
			_exit(0);
		}
		if (cm_wait(p, RDMA_CM_EVENT_DISCONNECTED, 20000) != 0)
			return "the server did not drop the connection after its RDMA Read failed";
		return NULL;
	}
	return "unknown case";
}

int main(int argc, char **argv)
{
	struct peer p;
	const char *why;
	int i, fails = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: rdma_hostile ADDR PORT CASE...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 3; i < argc; i++) {
		if (peer_connect(&p, argv[1], argv[2]) < 0) {
			printf("FAIL: %s: cannot connect: %s\n", argv[i], strerror(errno));
			fails++;
			peer_close(&p);
			continue;
		}
		why = run_case(&p, argv[i]);
		if (why) {
			printf("FAIL: %s: %s\n", argv[i], why);
			fails++;
		} else {
			printf("ok: %s\n", argv[i]);
		}
		peer_close(&p);
	}
	return fails;
}
