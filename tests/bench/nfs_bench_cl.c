/*
 * tests/bench/nfs_bench_cl.c: sessions and file operations for nfs_bench
 * (see nfs_bench_cl.h).
 *
 * Everything is built on the test client's compound builder; only the send
 * path differs (a per-connection encode buffer and nfs4_cl_send_raw) so that
 * the load generator spends its CPU on the protocol, not on malloc'ing and
 * faulting in a fresh 2 MiB buffer per request.
 * Calls: tests/proto/lib/nfs4_client, libc. Called by: tests/bench/nfs_bench.c.
 */
#include "tests/bench/nfs_bench_cl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NB_SEND_CAP (2u * 1024 * 1024)
#define NB_RETRY_MS 250
#define NB_RETRY_MAX 480        /* 2 minutes of GRACE/DELAY */
#define NB_FH_MAX 128

int nb_conn_open(struct nb_conn *c, const char *host, uint16_t port, const char *owner)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->buf = malloc(NB_SEND_CAP);
	if (!c->buf)
		return -ENOMEM;
	rc = nfs4_cl_open_session(&c->cl, host, port, owner, 0);
	if (rc != 0)
		goto out;
	/* Tell the server we have nothing to reclaim, so that it may end its
	 * grace period for us; errors are harmless (e.g. COMPLETE_ALREADY). */
	(void)nfs4_cl_reclaim_complete(c->cl);
out:
	if (rc != 0) {
		free(c->buf);
		c->buf = NULL;
		c->cl = NULL;
	}
	return rc;
}

void nb_conn_close(struct nb_conn *c)
{
	if (c->cl)
		nfs4_cl_close(c->cl, true);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

int nb_call(struct nb_conn *c, struct nfs4_cl_compound *cp)
{
	struct timespec pause = { 0, NB_RETRY_MS * 1000000L };
	int tries, len, rc = -EIO;

	for (tries = 0; tries < NB_RETRY_MAX; tries++) {
		len = nfs4_cl_encode(cp, c->buf, NB_SEND_CAP);
		if (len < 0)
			return len;
		rc = nfs4_cl_send_raw(cp, c->buf, (size_t)len);
		if (rc < 0)
			return rc;
		if (cp->accept_stat != RPC_SUCCESS)
			return -EPROTO;
		rc = (int)cp->status;
		if (cp->status != NFS4ERR_GRACE && cp->status != NFS4ERR_DELAY)
			return rc;
		nanosleep(&pause, NULL);
	}
	return rc;
}

int nb_start(struct nb_conn *c, struct nfs4_cl_compound *cp)
{
	int len = nfs4_cl_encode(cp, c->buf, NB_SEND_CAP);

	if (len < 0)
		return len;
	/* sent before this returns: the buffer is free for the next one */
	return nfs4_cl_start(cp, c->buf, (size_t)len);
}

int nb_finish_any(struct nfs4_cl_compound *const *cps, int n)
{
	return nfs4_cl_finish_any(cps, n);
}

void nb_add_putfh(struct nfs4_cl_compound *cp, const nfs_fh4 *fh)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_PUTFH);

	if (a)
		a->u.opputfh.object = *fh;
}

void nb_add_write(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		  const void *data, uint32_t len, stable_how4 how)
{
	nfs_argop4 *a = nfs4_cl_add(cp, OP_WRITE);

	if (!a)
		return;
	a->u.opwrite.stateid = *sid;
	a->u.opwrite.offset = off;
	a->u.opwrite.stable = how;
	a->u.opwrite.data.val = (uint8_t *)data;
	a->u.opwrite.data.len = len;
}

static struct xdr_opaque nb_str(const char *s)
{
	struct xdr_opaque o;

	o.val = (uint8_t *)s;
	o.len = (uint32_t)strlen(s);
	return o;
}

/* Copies the GETFH result of cp into fh. */
static int nb_take_fh(struct nfs4_cl_compound *cp, nfs_fh4 *fh)
{
	nfs_resop4 *r = nfs4_cl_res(cp, OP_GETFH);
	const nfs_fh4 *o;

	if (!r || r->u.opgetfh.status != NFS4_OK)
		return -EPROTO;
	o = &r->u.opgetfh.u.resok4.object;
	if (o->len == 0 || o->len > NB_FH_MAX)
		return -EPROTO;
	fh->val = malloc(o->len);
	if (!fh->val)
		return -ENOMEM;
	memcpy(fh->val, o->val, o->len);
	fh->len = o->len;
	return 0;
}

int nb_root_fh(struct nb_conn *c, nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	int rc;

	nfs4_cl_compound_init(&cp, c->cl);
	nfs4_cl_add(&cp, OP_PUTROOTFH);
	nfs4_cl_add(&cp, OP_GETFH);
	rc = nb_call(c, &cp);
	if (rc == 0)
		rc = nb_take_fh(&cp, fh);
	nfs4_cl_compound_free(&cp);
	return rc;
}

int nb_mkdir(struct nb_conn *c, const nfs_fh4 *dir, const char *name, nfs_fh4 *fh)
{
	static uint32_t mode_mask[2] = { 0, 1u << (FATTR4_MODE - 32) };
	static uint8_t mode_0755[4] = { 0, 0, 0x01, 0xed };
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	int rc = -ENOSPC;

	nfs4_cl_compound_init(&cp, c->cl);
	nb_add_putfh(&cp, dir);
	a = nfs4_cl_add(&cp, OP_CREATE);
	if (!a)
		goto out;
	a->u.opcreate.objtype.type = NF4DIR;
	a->u.opcreate.objname = nb_str(name);
	a->u.opcreate.createattrs.attrmask.len = 2;
	a->u.opcreate.createattrs.attrmask.val = mode_mask;
	a->u.opcreate.createattrs.attr_vals.len = 4;
	a->u.opcreate.createattrs.attr_vals.val = mode_0755;
	nfs4_cl_add(&cp, OP_GETFH);
	rc = nb_call(c, &cp);
	if (rc == 0)
		rc = nb_take_fh(&cp, fh);
out:
	nfs4_cl_compound_free(&cp);
	return rc;
}

int nb_open(struct nb_conn *c, const nfs_fh4 *dir, const char *name, bool create,
	    uint32_t access, stateid4 *sid, nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	nfs_resop4 *r;
	int rc;

	nfs4_cl_compound_init(&cp, c->cl);
	nb_add_putfh(&cp, dir);
	nfs4_cl_add_open(&cp, name, create, access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
			 OPEN4_SHARE_DENY_NONE);
	nfs4_cl_add(&cp, OP_GETFH);
	rc = nb_call(c, &cp);
	if (rc != 0)
		goto out;
	r = nfs4_cl_res(&cp, OP_OPEN);
	if (!r) {
		rc = -EPROTO;
		goto out;
	}
	*sid = r->u.opopen.u.resok4.stateid;
	rc = nb_take_fh(&cp, fh);
out:
	nfs4_cl_compound_free(&cp);
	return rc;
}

int nb_close(struct nb_conn *c, const nfs_fh4 *fh, const stateid4 *sid)
{
	struct nfs4_cl_compound cp;
	int rc;

	nfs4_cl_compound_init(&cp, c->cl);
	nb_add_putfh(&cp, fh);
	nfs4_cl_add_close(&cp, sid);
	rc = nb_call(c, &cp);
	nfs4_cl_compound_free(&cp);
	return rc;
}

int nb_remove(struct nb_conn *c, const nfs_fh4 *dir, const char *name)
{
	struct nfs4_cl_compound cp;
	nfs_argop4 *a;
	int rc = -ENOSPC;

	nfs4_cl_compound_init(&cp, c->cl);
	nb_add_putfh(&cp, dir);
	a = nfs4_cl_add(&cp, OP_REMOVE);
	if (a) {
		a->u.opremove.target = nb_str(name);
		rc = nb_call(c, &cp);
	}
	nfs4_cl_compound_free(&cp);
	return rc;
}

int nb_commit(struct nb_conn *c, const nfs_fh4 *fh)
{
	struct nfs4_cl_compound cp;
	int rc = -ENOSPC;

	nfs4_cl_compound_init(&cp, c->cl);
	nb_add_putfh(&cp, fh);
	if (nfs4_cl_add(&cp, OP_COMMIT))   /* offset 0, count 0: the whole file */
		rc = nb_call(c, &cp);
	nfs4_cl_compound_free(&cp);
	return rc;
}
