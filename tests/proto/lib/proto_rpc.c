/*
 * tests/proto/lib/proto_rpc.c: the test client's ONC RPC layer (see proto_rpc.h).
 */
#include "tests/proto/lib/proto_rpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROTO_LAST_FRAG 0x80000000u
#define PROTO_MAX_RECORD (64u << 20)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the absolute deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int proto_connect(struct proto_conn *c, const char *host, uint16_t port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, rc, err = 0, one = 1;
	socklen_t el = sizeof(err);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->next_xid = (uint32_t)now_ms() * 2654435761u;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(fd, (struct sockaddr *)&ss, sl);
	if (rc < 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	if (rc < 0) {
		rc = wait_fd(fd, POLLOUT, now_ms() + c->timeout_ms);
		if (rc < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			rc = err ? -err : -errno;
			goto fail;
		}
	}
	c->fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

void proto_close(struct proto_conn *c)
{
	struct proto_call *call, *next;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (call = c->calls_head; call; call = next) {
		next = call->next;
		proto_call_free(call);
	}
	c->calls_head = c->calls_tail = NULL;
}

static int send_all(struct proto_conn *c, struct iovec *iov, int n)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	struct msghdr mh;
	ssize_t w;
	int rc;

	while (n > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return errno == EPIPE ? -ECONNRESET : -errno;
			rc = wait_fd(c->fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int proto_send_raw(struct proto_conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return send_all(c, &iov, 1);
}

int proto_send_fragments(struct proto_conn *c, const struct iovec *frags, int n)
{
	struct iovec *iov;
	uint32_t *marks;
	int i, rc;

	if (n <= 0)
		return -EINVAL;
	iov = calloc((size_t)n * 2, sizeof(*iov));
	marks = calloc((size_t)n, sizeof(*marks));
	if (!iov || !marks) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		marks[i] = htonl((uint32_t)frags[i].iov_len | (i == n - 1 ? PROTO_LAST_FRAG : 0));
		iov[2 * i].iov_base = &marks[i];
		iov[2 * i].iov_len = 4;
		iov[2 * i + 1] = frags[i];
	}
	rc = send_all(c, iov, 2 * n);
out:
	free(iov);
	free(marks);
	return rc;
}

int proto_send_record(struct proto_conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return proto_send_fragments(c, &iov, 1);
}

static int recv_exact(struct proto_conn *c, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;
	ssize_t r;
	int rc;

	while (len > 0) {
		r = recv(c->fd, p, len, 0);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		rc = wait_fd(c->fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int proto_recv_record(struct proto_conn *c, uint8_t **buf, size_t *len)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	uint8_t *rec = NULL, *nrec;
	size_t have = 0;
	uint32_t mark, flen;
	int rc;

	for (;;) {
		rc = recv_exact(c, &mark, 4, deadline);
		if (rc < 0)
			goto fail;
		mark = ntohl(mark);
		flen = mark & ~PROTO_LAST_FRAG;
		if (flen > PROTO_MAX_RECORD - have) {
			rc = -EPROTO;
			goto fail;
		}
		nrec = realloc(rec, have + flen + 1);
		if (!nrec) {
			rc = -ENOMEM;
			goto fail;
		}
		rec = nrec;
		rc = recv_exact(c, rec + have, flen, deadline);
		if (rc < 0)
			goto fail;
		have += flen;
		if (mark & PROTO_LAST_FRAG)
			break;
	}
	*buf = rec;
	*len = have;
	return 0;
fail:
	free(rec);
	return rc;
}

bool proto_wait_closed(struct proto_conn *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t junk[4096];
	ssize_t r;

	for (;;) {
		r = recv(c->fd, junk, sizeof(junk), 0);
		if (r == 0)
			return true;
		if (r < 0 && errno == ECONNRESET)
			return true;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (r < 0 && errno == EAGAIN && wait_fd(c->fd, POLLIN, deadline) < 0)
			return false;
	}
}

bool proto_encode_call_header_raw(struct xdr_stream *x, uint32_t xid, uint32_t rpcvers,
				  uint32_t prog, uint32_t vers, uint32_t proc,
				  uint32_t cred_flavor, const void *cred_body, uint32_t cred_len)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, RPC_CALL);
	xdr_put_u32(x, rpcvers);
	xdr_put_u32(x, prog);
	xdr_put_u32(x, vers);
	xdr_put_u32(x, proc);
	xdr_put_u32(x, cred_flavor);
	xdr_put_opaque(x, cred_body, cred_len);
	xdr_put_u32(x, RPC_AUTH_NONE);
	xdr_put_u32(x, 0);
	return xdr_ok(x);
}

bool proto_encode_call_header(struct xdr_stream *x, uint32_t xid, uint32_t rpcvers,
			      uint32_t prog, uint32_t vers, uint32_t proc,
			      const struct rpc_cred *cred)
{
	uint8_t body[RPC_MAX_AUTH_BYTES];
	struct xdr_stream b;
	uint32_t i;

	if (!cred || cred->flavor == RPC_AUTH_NONE)
		return proto_encode_call_header_raw(x, xid, rpcvers, prog, vers, proc,
						    RPC_AUTH_NONE, NULL, 0);
	xdr_init_encode(&b, body, sizeof(body));
	xdr_put_u32(&b, cred->stamp);
	xdr_put_opaque(&b, cred->machinename, (uint32_t)strnlen(cred->machinename,
							     sizeof(cred->machinename)));
	xdr_put_u32(&b, cred->uid);
	xdr_put_u32(&b, cred->gid);
	xdr_put_u32(&b, cred->ngids);
	for (i = 0; i < cred->ngids && i < RPC_AUTH_SYS_MAX_GIDS; i++)
		xdr_put_u32(&b, cred->gids[i]);
	if (!xdr_ok(&b)) {
		x->failed = true;
		return false;
	}
	return proto_encode_call_header_raw(x, xid, rpcvers, prog, vers, proc,
					    cred->flavor, body, (uint32_t)b.pos);
}

void proto_cred_sys(struct rpc_cred *cred, uint32_t uid, uint32_t gid)
{
	memset(cred, 0, sizeof(*cred));
	cred->flavor = RPC_AUTH_SYS;
	cred->uid = uid;
	cred->gid = gid;
	cred->stamp = 1;
	strcpy(cred->machinename, "proto-test");
}

uint32_t proto_next_xid(struct proto_conn *c)
{
	return ++c->next_xid;
}

int proto_rpc_send_call(struct proto_conn *c, uint32_t xid, uint32_t prog, uint32_t vers,
			uint32_t proc, const struct rpc_cred *cred, const void *args, size_t args_len)
{
	uint8_t hdr[512];
	struct xdr_stream x;
	struct iovec iov[3];
	uint32_t mark;

	xdr_init_encode(&x, hdr, sizeof(hdr));
	if (!proto_encode_call_header(&x, xid, RPC_VERSION, prog, vers, proc, cred))
		return -EINVAL;
	/* one fragment: mark + header + args */
	mark = htonl((uint32_t)(x.pos + args_len) | PROTO_LAST_FRAG);
	iov[0].iov_base = &mark;
	iov[0].iov_len = 4;
	iov[1].iov_base = hdr;
	iov[1].iov_len = x.pos;
	iov[2].iov_base = (void *)args;
	iov[2].iov_len = args_len;
	return send_all(c, iov, args_len ? 3 : 2);
}

int proto_parse_reply(uint8_t *rec, size_t len, struct proto_reply *out)
{
	struct xdr_stream x;
	struct xdr_opaque verf;
	uint32_t mtype;

	memset(out, 0, sizeof(*out));
	out->record = rec;
	out->record_len = len;
	xdr_init_decode(&x, rec, len, NULL);
	if (!xdr_get_u32(&x, &out->xid) || !xdr_get_u32(&x, &mtype) || mtype != RPC_REPLY ||
	    !xdr_get_u32(&x, &out->reply_stat))
		goto bad;
	if (out->reply_stat == RPC_MSG_ACCEPTED) {
		if (!xdr_get_u32(&x, &out->verf_flavor) ||
		    !xdr_get_opaque(&x, RPC_MAX_AUTH_BYTES, &verf) ||
		    !xdr_get_u32(&x, &out->accept_stat))
			goto bad;
		if (out->accept_stat == RPC_PROG_MISMATCH &&
		    (!xdr_get_u32(&x, &out->mismatch_low) || !xdr_get_u32(&x, &out->mismatch_high)))
			goto bad;
		out->body = rec + x.pos;
		out->body_len = len - x.pos;
		return 0;
	}
	if (out->reply_stat != RPC_MSG_DENIED || !xdr_get_u32(&x, &out->reject_stat))
		goto bad;
	if (out->reject_stat == RPC_MISMATCH) {
		if (!xdr_get_u32(&x, &out->mismatch_low) || !xdr_get_u32(&x, &out->mismatch_high))
			goto bad;
	} else if (out->reject_stat == RPC_AUTH_ERROR) {
		if (!xdr_get_u32(&x, &out->auth_stat))
			goto bad;
	} else {
		goto bad;
	}
	return 0;
bad:
	return -EPROTO;
}

void proto_reply_free(struct proto_reply *r)
{
	free(r->record);
	memset(r, 0, sizeof(*r));
}

void proto_call_free(struct proto_call *call)
{
	if (!call)
		return;
	free(call->record);
	free(call);
}

/* Parses a CALL record the server sent; takes ownership of rec. */
static int parse_call(uint8_t *rec, size_t len, struct proto_call **out)
{
	struct proto_call *call = calloc(1, sizeof(*call));
	struct xdr_stream x;
	struct xdr_opaque o;
	uint32_t mtype;

	if (!call) {
		free(rec);
		return -ENOMEM;
	}
	call->record = rec;
	call->record_len = len;
	xdr_init_decode(&x, rec, len, NULL);
	xdr_get_u32(&x, &call->xid);
	xdr_get_u32(&x, &mtype);
	xdr_get_u32(&x, &call->rpcvers);
	xdr_get_u32(&x, &call->prog);
	xdr_get_u32(&x, &call->vers);
	xdr_get_u32(&x, &call->proc);
	xdr_get_u32(&x, &call->cred_flavor);
	xdr_get_opaque(&x, RPC_MAX_AUTH_BYTES, &o);
	xdr_get_u32(&x, &call->verf_flavor);
	xdr_get_opaque(&x, RPC_MAX_AUTH_BYTES, &o);
	if (!xdr_ok(&x) || mtype != RPC_CALL) {
		proto_call_free(call);
		return -EPROTO;
	}
	call->args = rec + x.pos;
	call->args_len = len - x.pos;
	*out = call;
	return 0;
}

static bool is_call(const uint8_t *rec, size_t len)
{
	return len >= 8 && rec[4] == 0 && rec[5] == 0 && rec[6] == 0 && rec[7] == RPC_CALL;
}

/* A CALL arrived while we wanted something else: hand it over or queue it. */
static int take_call(struct proto_conn *c, uint8_t *rec, size_t len)
{
	struct proto_call *call;
	int rc = parse_call(rec, len, &call);

	if (rc < 0)
		return rc;
	if (c->on_call) {
		c->on_call(c, call, c->on_call_ctx);
		proto_call_free(call);
		return 0;
	}
	if (c->calls_tail)
		c->calls_tail->next = call;
	else
		c->calls_head = call;
	c->calls_tail = call;
	return 0;
}

int proto_rpc_recv_reply(struct proto_conn *c, struct proto_reply *out)
{
	uint8_t *rec;
	size_t len;
	int rc;

	for (;;) {
		rc = proto_recv_record(c, &rec, &len);
		if (rc < 0)
			return rc;
		if (!is_call(rec, len))
			return proto_parse_reply(rec, len, out) < 0 ? (free(rec), -EPROTO) : 0;
		rc = take_call(c, rec, len);
		if (rc < 0)
			return rc;
	}
}

int proto_rpc_call(struct proto_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
		   const struct rpc_cred *cred, const void *args, size_t args_len,
		   struct proto_reply *out)
{
	uint32_t xid = proto_next_xid(c);
	int rc;

	rc = proto_rpc_send_call(c, xid, prog, vers, proc, cred, args, args_len);
	if (rc < 0)
		return rc;
	rc = proto_rpc_recv_reply(c, out);
	if (rc < 0)
		return rc;
	if (out->xid != xid) {
		proto_reply_free(out);
		return -EPROTO;
	}
	return 0;
}

int proto_rpc_recv_call(struct proto_conn *c, struct proto_call **out)
{
	uint8_t *rec;
	size_t len;
	int rc;

	for (;;) {
		if (c->calls_head) {
			*out = c->calls_head;
			c->calls_head = c->calls_head->next;
			if (!c->calls_head)
				c->calls_tail = NULL;
			(*out)->next = NULL;
			return 0;
		}
		rc = proto_recv_record(c, &rec, &len);
		if (rc < 0)
			return rc;
		if (!is_call(rec, len)) {
			free(rec);   /* a stray reply: nobody waits for it here */
			continue;
		}
		return parse_call(rec, len, out);
	}
}

int proto_rpc_send_reply(struct proto_conn *c, uint32_t xid, uint32_t accept_stat,
			 const void *body, size_t body_len)
{
	uint8_t hdr[64];
	struct xdr_stream x;
	struct iovec iov[3];
	uint32_t mark;

	xdr_init_encode(&x, hdr, sizeof(hdr));
	xdr_put_u32(&x, xid);
	xdr_put_u32(&x, RPC_REPLY);
	xdr_put_u32(&x, RPC_MSG_ACCEPTED);
	xdr_put_u32(&x, RPC_AUTH_NONE);
	xdr_put_u32(&x, 0);
	xdr_put_u32(&x, accept_stat);
	mark = htonl((uint32_t)(x.pos + body_len) | PROTO_LAST_FRAG);
	iov[0].iov_base = &mark;
	iov[0].iov_len = 4;
	iov[1].iov_base = hdr;
	iov[1].iov_len = x.pos;
	iov[2].iov_base = (void *)body;
	iov[2].iov_len = body_len;
	return send_all(c, iov, body_len ? 3 : 2);
}
