/*
 * server/nfs4_session.c: the client and session operations of NFSv4.1
 * (RFC 8881 §18.35 EXCHANGE_ID, §18.36 CREATE_SESSION, §18.37
 * DESTROY_SESSION, §18.46 SEQUENCE, §18.33 BIND_CONN_TO_SESSION, §18.50
 * DESTROY_CLIENTID, §18.51 RECLAIM_COMPLETE, §18.34 BACKCHANNEL_CTL) and the
 * session object's life cycle.
 *
 * Sessions are reference counted: the session table holds one reference, a
 * compound running on the session another; DESTROY_SESSION (or the client's
 * expiry) unhashes it at once and the memory goes with the last reference,
 * so a compound can finish (and cache its reply) on a session that another
 * connection destroyed meanwhile.
 * Calls: nfs4_client.c, nfs4_slot.c, nfs4_recovery.c, nfs4_grace.c,
 * nfs4_callback.c. Called by: the COMPOUND loop through the op table.
 */
#include "server/nfs4_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "server/nfs4_cb_probe.h"
#include "server/nfs4_grace.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_recovery.h"

#define EXID_VALID_FLAGS (EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR | \
			  EXCHGID4_FLAG_BIND_PRINC_STATEID | EXCHGID4_FLAG_USE_NON_PNFS | \
			  EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS | \
			  EXCHGID4_FLAG_UPD_CONFIRMED_REC_A)
#define CS_VALID_FLAGS (CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN | \
			CREATE_SESSION4_FLAG_CONN_RDMA)
/* RPC reply header, COMPOUND4res with an empty tag, SEQUENCE4resok */
#define SEQUENCE_REPLY_MIN (24u + 12u + 8u + 16u + 5u * 4u)
#define CB_AUTH_NONE 0u
#define CB_AUTH_SYS 1u


/* Private per-session data beyond struct nfs4_session: the CREATE_SESSION
 * sequence id that created it, so a replayed CREATE_SESSION gets the same
 * answer (RFC 8881 §18.36.4). */
struct nfs4_session_priv {
	struct nfs4_session s;
	sequenceid4 cs_seq;
};

static struct nfs4_session_priv *sess_priv(struct nfs4_session *s)
{
	return container_of(s, struct nfs4_session_priv, s);
}

/* ---- session life cycle ---- */

void nfs4_session_get(struct nfs4_session *s)
{
	atomic_fetch_add(&s->refs, 1);
}

/* Not inlined: where a caller drops its own reference after
 * nfs4_session_destroy dropped the table's, GCC's -Wuse-after-free cannot see
 * that the two references are distinct and warns of a use after free. */
__attribute__((noinline)) void nfs4_session_put(struct nfs4_session *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	nfs4_slot_table_free(&s->slots);
	pthread_mutex_destroy(&s->lock);
	if (s->back_xprt)
		rpc_xprt_put(s->back_xprt);
	nfs4_client_put(s->client);
	free(sess_priv(s));
}

void nfs4_session_destroy(struct nfs4_session *s)
{
	struct rpc_xprt *back;

	if (s->dead)
		return;
	nfs4_session_unhash(s);   /* marks it dead */
	pthread_mutex_lock(&s->client->lock);
	list_del(&s->client_node);
	back = s->back_xprt;
	s->back_xprt = NULL;
	s->cb_state = NFS4_CB_NONE;
	pthread_mutex_unlock(&s->client->lock);
	if (back)
		rpc_xprt_put(back);
	nfs4_session_put(s);
}

void nfs4_session_bind_back(struct nfs4_session *s, struct rpc_xprt *x)
{
	struct rpc_xprt *old = s->back_xprt;

	if (old == x)
		return;
	rpc_xprt_get(x);
	pthread_mutex_lock(&s->client->lock);
	s->back_xprt = x;
	s->cb_state = NFS4_CB_PROBING;
	pthread_mutex_unlock(&s->client->lock);
	if (old)
		rpc_xprt_put(old);
	nfs4_conn_watch(s->client->srv, x);
}

/* Associates connection x with s (CREATE_SESSION, SEQUENCE's implicit
 * binding under SP4_NONE, BIND_CONN_TO_SESSION); the oldest of more than
 * the table holds is forgotten. Ids are never reused within a process.
 * s->lock held. */
static void conn_bind_locked(struct nfs4_session *s, const struct rpc_xprt *x)
{
	const unsigned cap = sizeof(s->fore_xprt_ids) / sizeof(s->fore_xprt_ids[0]);
	unsigned i;

	if (!x)
		return;
	rpc_xprt_mark_session_bound(x);   /* exempt from the idle-unbound timeout */
	for (i = 0; i < s->n_fore; i++)
		if (s->fore_xprt_ids[i] == x->id)
			return;
	if (s->n_fore == cap) {
		memmove(s->fore_xprt_ids, s->fore_xprt_ids + 1, (cap - 1) * sizeof(uint64_t));
		s->n_fore--;
	}
	s->fore_xprt_ids[s->n_fore++] = x->id;
}

static void conn_bind(struct nfs4_session *s, const struct rpc_xprt *x)
{
	pthread_mutex_lock(&s->lock);
	conn_bind_locked(s, x);
	pthread_mutex_unlock(&s->lock);
}

/* CREATE_SESSION and BIND_CONN_TO_SESSION: connection x joins s's fore
 * channel and, with back, its backchannel too, whose path is then probed.
 * After CREATE_SESSION the probe waits for the session's first SEQUENCE
 * (probe_now false): until the client has read the CREATE_SESSION reply it
 * does not know the session id, and the Linux client answers a CB_SEQUENCE
 * that races ahead of it with NFS4ERR_BADSESSION (a 6.1 guest did, in CI),
 * which would report a sound back channel down. A SEQUENCE proves the
 * client holds the session; BIND_CONN_TO_SESSION names it, so it probes at
 * once. Until then no callback takes this path either (nfs4_cb_path_usable):
 * a recall of state the client got on an older session waits for it. */
static void conn_attach(struct nfs4_session *s, struct rpc_xprt *x, bool back,
			bool probe_now)
{
	conn_bind(s, x);
	pthread_mutex_lock(&s->client->lock);
	nfs4_client_renew(s->client);
	pthread_mutex_unlock(&s->client->lock);
	if (back) {
		s->flags |= CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
		nfs4_session_bind_back(s, x);
		pthread_mutex_lock(&s->client->lock);
		s->cb_probe_at_sequence = !probe_now;
		pthread_mutex_unlock(&s->client->lock);
		if (probe_now)
			nfs4_cb_probe(s);
	}
}

static bool conn_bound(struct nfs4_session *s, const struct rpc_xprt *x)
{
	bool bound = false;
	unsigned i;

	if (!x)
		return true;   /* no transport (in-process caller) */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n_fore && !bound; i++)
		bound = s->fore_xprt_ids[i] == x->id;
	pthread_mutex_unlock(&s->lock);
	return bound;
}

/* ---- EXCHANGE_ID ---- */

static void exid_fill(struct nfs4_compound *c, struct nfs4_client *clp, EXCHANGE_ID4resok *ok)
{
	const char *owner = nfs4_server_owner(&c->srv->recovery);
	nfs_impl_id4 *impl = arena_alloc(c->arena, sizeof(*impl));

	ok->eir_clientid = clp->clientid;
	ok->eir_sequenceid = clp->create_session_seq;
	/* A pNFS server is its own data server (RFC 8881 §13.1). */
	ok->eir_flags = (c->srv->pnfs.enabled ? EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS
					      : EXCHGID4_FLAG_USE_NON_PNFS) |
			(clp->confirmed ? EXCHGID4_FLAG_CONFIRMED_R : 0);
	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 0;
	ok->eir_server_owner.so_major_id.val = (uint8_t *)owner;
	ok->eir_server_owner.so_major_id.len = (uint32_t)strlen(owner);
	ok->eir_server_scope.val = (uint8_t *)owner;
	ok->eir_server_scope.len = (uint32_t)strlen(owner);
	if (impl) {
		impl->nii_domain.val = (uint8_t *)"daxnfs.org";
		impl->nii_domain.len = 10;
		impl->nii_name.val = (uint8_t *)"daxnfs";
		impl->nii_name.len = 6;
		ok->eir_server_impl_id.val = impl;
		ok->eir_server_impl_id.len = 1;
	}
}

nfsstat4 nfs4_op_exchange_id(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	EXCHANGE_ID4args *a = &args->u.opexchange_id;
	EXCHANGE_ID4res *r = &res->u.opexchange_id;
	const struct rpc_cred *cred = &c->req->cred;
	const struct xdr_opaque *owner = &a->eia_clientowner.co_ownerid;
	struct nfs4_client *conf, *unconf, *clp = NULL;
	nfsstat4 st = NFS4_OK;

	if (a->eia_flags & ~(uint32_t)EXID_VALID_FLAGS)
		return NFS4ERR_INVAL;
	switch (a->eia_state_protect.spa_how) {
	case SP4_NONE:
		break;
	case SP4_MACH_CRED:
		return NFS4ERR_INVAL;     /* needs an integrity-protecting (GSS) principal */
	case SP4_SSV:
		return NFS4ERR_ENCR_ALG_UNSUPP;
	default:
		return NFS4ERR_INVAL;
	}
	if (owner->len == 0 || owner->len > NFS4_OPAQUE_LIMIT)
		return NFS4ERR_INVAL;

	nfs4_state_lock();
	conf = nfs4_client_find_owner(c->srv, owner, true);
	unconf = nfs4_client_find_owner(c->srv, owner, false);
	if (a->eia_flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A) {
		/* cases 6-8: update of a confirmed record */
		if (!conf)
			st = NFS4ERR_NOENT;
		else if (!nfs4_same_principal(&conf->principal, cred))
			st = NFS4ERR_PERM;
		else if (memcmp(conf->verifier, a->eia_clientowner.co_verifier, sizeof(verifier4)))
			st = NFS4ERR_NOT_SAME;
		else
			clp = conf;
		goto done;
	}
	if (conf) {
		if (!nfs4_same_principal(&conf->principal, cred)) {
			/* case 3: someone else's owner string, still in use */
			if (nfs4_client_has_state(conf) || !list_empty(&conf->sessions)) {
				st = NFS4ERR_CLID_INUSE;
				goto done;
			}
			/* ... or abandoned: the new principal takes the owner
			 * over and the old clientid is gone at once. */
			nfs4_client_destroy(conf, true);
		} else if (!memcmp(conf->verifier, a->eia_clientowner.co_verifier,
				   sizeof(verifier4))) {
			clp = conf;     /* case 2: a retry, nothing changes */
			goto done;
		}
		/* case 5: the client restarted; the old record goes when the
		 * new one is confirmed by CREATE_SESSION. */
	}
	/* case 4: an unconfirmed record is always replaced, even by an
	 * identical request; the client gets a new clientid (§18.35.5). */
	if (unconf)
		nfs4_client_destroy(unconf, false);
	clp = nfs4_client_new(c->srv, owner, a->eia_clientowner.co_verifier, cred);  /* case 1 */
	if (!clp && nfs4_clients_at_limit(c->srv)) {
		/* Max_Clients: refused until records expire (an unconfirmed one
		 * after a lease). EXCHANGE_ID's errors (RFC 8881 §18.35) have no
		 * "no resources" but DELAY. */
		nfs4_limit_log(c->srv, "clients", "Max_Clients", c->srv->limits.max_clients);
		st = NFS4ERR_DELAY;
	} else if (!clp) {
		st = NFS4ERR_SERVERFAULT;
	}
done:
	if (st == NFS4_OK)
		exid_fill(c, clp, &r->u.eir_resok4);
	nfs4_state_unlock();
	return st;
}

/* ---- CREATE_SESSION ---- */

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* record_max: the transport's record limit (0 = none); no request or reply
 * may be promised larger than what the transport carries. */
static nfsstat4 negotiate(const CREATE_SESSION4args *a, uint32_t record_max,
			  channel_attrs4 *fore, channel_attrs4 *back)
{
	const channel_attrs4 *f = &a->csa_fore_chan_attrs, *b = &a->csa_back_chan_attrs;
	uint32_t max_req = NFS4_MAX_REQ, max_resp = NFS4_MAX_RESP;

	if (record_max && record_max < max_req)
		max_req = record_max;
	if (record_max && record_max < max_resp)
		max_resp = record_max;

	if (f->ca_maxrequestsize < NFS4_MIN_REQ || f->ca_maxresponsesize < NFS4_MIN_RESP)
		return NFS4ERR_TOOSMALL;
	if (f->ca_maxrequests == 0 || f->ca_maxoperations == 0)
		return NFS4ERR_INVAL;
	/* The back channel must carry at least CB_SEQUENCE + a recall. */
	if (b->ca_maxrequestsize < NFS4_CB_MIN_REQ || b->ca_maxresponsesize < NFS4_CB_MIN_RESP ||
	    b->ca_maxoperations < 2)
		return NFS4ERR_TOOSMALL;
	memset(fore, 0, sizeof(*fore));
	fore->ca_headerpadsize = 0;
	fore->ca_maxrequestsize = clamp(f->ca_maxrequestsize, NFS4_MIN_REQ, max_req);
	fore->ca_maxresponsesize = clamp(f->ca_maxresponsesize, NFS4_MIN_RESP, max_resp);
	fore->ca_maxresponsesize_cached = clamp(f->ca_maxresponsesize_cached, 0,
						fore->ca_maxresponsesize < NFS4_MAX_RESP_CACHED ?
						fore->ca_maxresponsesize : NFS4_MAX_RESP_CACHED);
	fore->ca_maxoperations = clamp(f->ca_maxoperations, 1, NFS4_MAX_OPS);
	fore->ca_maxrequests = clamp(f->ca_maxrequests, 1, NFS4_MAX_SLOTS);
	/* The back channel attributes are the client's limits on what we send. */
	*back = *b;
	back->ca_rdma_ird.len = 0;
	back->ca_rdma_ird.val = NULL;
	back->ca_headerpadsize = 0;
	back->ca_maxrequests = clamp(b->ca_maxrequests, 1, NFS4_BACK_MAX_SLOTS);
	return NFS4_OK;
}

static void cs_fill(const struct nfs4_session *s, sequenceid4 seq, CREATE_SESSION4resok *ok)
{
	memcpy(ok->csr_sessionid, s->id, sizeof(sessionid4));
	ok->csr_sequence = seq;
	ok->csr_flags = s->flags;
	ok->csr_fore_chan_attrs = s->fore;
	ok->csr_back_chan_attrs = s->back;
}

static void cb_sec_take(struct nfs4_session *s, const callback_sec_parms4 *p, uint32_t n)
{
	uint32_t i;

	s->cb_auth_sys = false;
	memset(&s->cb_cred, 0, sizeof(s->cb_cred));
	for (i = 0; i < n; i++) {
		if (p[i].cb_secflavor == CB_AUTH_NONE)
			return;
		if (p[i].cb_secflavor == CB_AUTH_SYS) {
			const authsys_parms *sys = &p[i].u.cbsp_sys_cred;

			s->cb_auth_sys = true;
			s->cb_cred.flavor = RPC_AUTH_SYS;
			s->cb_cred.uid = sys->uid;
			s->cb_cred.gid = sys->gid;
			s->cb_cred.stamp = sys->stamp;
			snprintf(s->cb_cred.machinename, sizeof(s->cb_cred.machinename), "%.*s",
				 (int)sys->machinename.len, (const char *)sys->machinename.val);
			return;
		}
	}
}

/* Looks the record up again after the unlocked stable-storage write. */
static nfsstat4 cs_find_client(struct nfs4_server *srv, const CREATE_SESSION4args *a,
			       const struct rpc_cred *cred, struct nfs4_client **out)
{
	struct nfs4_client *clp = nfs4_client_find_id(srv, a->csa_clientid);

	if (!clp)
		return NFS4ERR_STALE_CLIENTID;
	if (!clp->confirmed && !nfs4_same_principal(&clp->principal, cred))
		return NFS4ERR_CLID_INUSE;
	*out = clp;
	return NFS4_OK;
}

static struct nfs4_session *cs_replay(struct nfs4_client *clp, sequenceid4 seq)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &clp->sessions) {
		struct nfs4_session *s = container_of(pos, struct nfs4_session, client_node);

		if (sess_priv(s)->cs_seq == seq)
			return s;
	}
	return NULL;
}

static nfsstat4 session_new(struct nfs4_client *clp, const CREATE_SESSION4args *a,
			    uint32_t minorversion, const channel_attrs4 *fore,
			    const channel_attrs4 *back, struct nfs4_session **out)
{
	struct nfs4_session_priv *p = calloc(1, sizeof(*p));
	struct nfs4_session *s;

	if (!p)
		return NFS4ERR_SERVERFAULT;
	s = &p->s;
	if (nfs4_slot_table_init(&s->slots, fore->ca_maxrequests) < 0) {
		free(p);
		return NFS4ERR_SERVERFAULT;
	}
	/* sessionid: random, so that no client can name another's session
	 * from what it knows (its own clientid and sessionid) */
	if (nfs4_session_new_id(clp->srv, s->id) < 0) {
		nfs4_slot_table_free(&s->slots);
		free(p);
		return NFS4ERR_SERVERFAULT;
	}
	s->fore = *fore;
	s->back = *back;
	s->cb_nslots = back->ca_maxrequests;
	list_init(&s->probe.node);
	s->cb_program = a->csa_cb_program;
	/* The client matches a callback to its session by minor version too
	 * (the Linux client answers BADSESSION to a CB_COMPOUND of another). */
	s->cb_minorversion = minorversion;
	cb_sec_take(s, a->csa_sec_parms.val, a->csa_sec_parms.len);
	s->flags = a->csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	pthread_mutex_init(&s->lock, NULL);
	s->refs = 1;   /* the table's */
	s->client = clp;
	nfs4_client_get(clp);
	p->cs_seq = a->csa_sequence;
	pthread_mutex_lock(&clp->lock);
	list_add_tail(&s->client_node, &clp->sessions);
	pthread_mutex_unlock(&clp->lock);
	nfs4_session_hash(s);
	*out = s;
	return NFS4_OK;
}

/* Confirms clp: an older confirmed record of the same owner (client restart)
 * loses its state now. */
static void cs_confirm(struct nfs4_client *clp)
{
	struct nfs4_client *old = nfs4_client_find_owner(clp->srv, &clp->owner_id, true);

	if (old && old != clp)
		nfs4_client_destroy(old, false);
	clp->confirmed = true;
	clp->may_reclaim = nfs4_grace_client_back(clp->srv, &clp->owner_id);
}

nfsstat4 nfs4_op_create_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	CREATE_SESSION4args *a = &args->u.opcreate_session;
	CREATE_SESSION4res *r = &res->u.opcreate_session;
	const struct rpc_cred *cred = &c->req->cred;
	struct nfs4_client *clp;
	struct nfs4_session *s = NULL;
	channel_attrs4 fore, back;
	bool need_record;
	nfsstat4 st;

	if (a->csa_flags & ~(uint32_t)CS_VALID_FLAGS)
		return NFS4ERR_INVAL;
	st = negotiate(a, c->req->xprt ? c->req->xprt->max_record : 0, &fore, &back);
	if (st != NFS4_OK)
		return st;
	nfs4_state_lock();
	st = cs_find_client(c->srv, a, cred, &clp);
	if (st != NFS4_OK)
		goto out;
	if (a->csa_sequence == (sequenceid4)(clp->create_session_seq - 1)) {
		s = cs_replay(clp, a->csa_sequence);
		if (!s) {
			st = NFS4ERR_SEQ_MISORDERED;
			goto out;
		}
		cs_fill(s, a->csa_sequence, &r->u.csr_resok4);
		goto out;
	}
	if (a->csa_sequence != clp->create_session_seq) {
		st = NFS4ERR_SEQ_MISORDERED;
		goto out;
	}
	if (clp->nsessions >= c->srv->limits.max_sessions_per_client) {
		/* RFC 8881 §18.36.3: NOSPC when the server cannot make the session */
		nfs4_limit_log(c->srv, "sessions of one client", "Max_Sessions_Per_Client",
			       c->srv->limits.max_sessions_per_client);
		st = NFS4ERR_NOSPC;
		goto out;
	}
	need_record = !clp->confirmed;
	if (need_record) {
		struct nfs4_client snap = *clp;
		int rc;

		/* The record must be on stable storage before the reply that
		 * confirms the client; no state lock across the fsync. */
		snap.owner_id.val = snap.owner_buf;
		nfs4_state_unlock();
		rc = nfs4_recovery_add(&c->srv->recovery, &snap);
		nfs4_state_lock();
		if (rc < 0) {
			log_err("nfs4", "cannot write the stable record of client %016llx: %d",
				(unsigned long long)snap.clientid, rc);
			st = NFS4ERR_SERVERFAULT;
			goto out;
		}
		st = cs_find_client(c->srv, a, cred, &clp);
		if (st != NFS4_OK)
			goto out;
		if (a->csa_sequence != clp->create_session_seq) {
			st = NFS4ERR_DELAY;   /* a concurrent CREATE_SESSION won */
			goto out;
		}
		if (!clp->confirmed)
			cs_confirm(clp);
	}
	st = session_new(clp, a, c->minorversion, &fore, &back, &s);
	if (st != NFS4_OK)
		goto out;
	clp->create_session_seq++;
	conn_attach(s, c->req->xprt, s->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN, false);
	cs_fill(s, a->csa_sequence, &r->u.csr_resok4);
out:
	nfs4_state_unlock();
	return st;
}

/* ---- DESTROY_SESSION, SEQUENCE, BIND_CONN_TO_SESSION ---- */

nfsstat4 nfs4_op_destroy_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	DESTROY_SESSION4args *a = &args->u.opdestroy_session;
	struct nfs4_session *s;
	nfsstat4 st = NFS4_OK;

	nfs4_state_lock();
	s = nfs4_session_find(c->srv, a->dsa_sessionid);
	if (!s) {
		st = NFS4ERR_BADSESSION;
		goto out;
	}
	if (!nfs4_same_principal(&s->client->principal, &c->req->cred)) {
		st = NFS4ERR_PERM;
	} else if (c->session == s && c->opindex + 1 != c->numops) {
		st = NFS4ERR_NOT_ONLY_OP;   /* must be the last op of its own session */
	} else if (!conn_bound(s, c->req->xprt)) {
		st = NFS4ERR_CONN_NOT_BOUND_TO_SESSION;   /* §18.37.3 */
	} else {
		pthread_mutex_lock(&s->client->lock);
		nfs4_client_renew(s->client);
		pthread_mutex_unlock(&s->client->lock);
		nfs4_session_destroy(s);
	}
	nfs4_session_put(s);
out:
	nfs4_state_unlock();
	return st;
}

/* The request as ca_maxrequestsize counts it: RPC header with credential
 * and verifier, without the record mark (RFC 8881 §18.36.3). */
static size_t request_size(const struct rpc_request *req)
{
	/* xid, msg type, rpcvers, prog, vers, proc, two flavors, two lengths */
	const size_t fixed = 10 * 4;

	if (req->record_len)
		return req->record_len;
	return fixed + ((req->cred.raw_len + 3u) & ~3u) + req->args.len;
}

nfsstat4 nfs4_op_sequence(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	SEQUENCE4args *a = &args->u.opsequence;
	SEQUENCE4res *r = &res->u.opsequence;
	struct nfs4_compound_run *run = container_of(c, struct nfs4_compound_run, c);
	SEQUENCE4resok *ok = &r->u.sr_resok4;
	enum nfs4_slot_verdict verdict;
	struct nfs4_session *s;
	struct nfs4_client *clp;
	struct nfs4_slot *slot;
	bool probe;
	nfsstat4 st;

	/* No state lock: the session by its table stripe, the slot under the
	 * session's lock, the client's lease and flags under the client's
	 * (docs/decisions/0007). */
	s = nfs4_session_find(c->srv, a->sa_sessionid);
	if (!s)
		return NFS4ERR_BADSESSION;
	clp = s->client;
	if (c->numops > s->fore.ca_maxoperations) {
		st = NFS4ERR_TOO_MANY_OPS;
		goto put;
	}
	if (request_size(c->req) > s->fore.ca_maxrequestsize) {
		st = NFS4ERR_REQ_TOO_BIG;
		goto put;
	}
	if (a->sa_cachethis && s->fore.ca_maxresponsesize_cached < SEQUENCE_REPLY_MIN) {
		st = NFS4ERR_REP_TOO_BIG_TO_CACHE;   /* before the slot moves on */
		goto put;
	}
	/* The client first: one that expired meanwhile has lost this session
	 * too (its destruction is under way). */
	if (!nfs4_client_compound_start(clp)) {
		st = NFS4ERR_BADSESSION;
		goto put;
	}
	/* one hold of the session's lock: the slot, and the connection joining
	 * the fore channel (SP4_NONE: any connection may) */
	pthread_mutex_lock(&s->lock);
	st = nfs4_slot_check(&s->slots, a->sa_slotid, a->sa_sequenceid, run->req_hash,
			     &verdict, &slot);
	if (st == NFS4_OK)
		conn_bind_locked(s, c->req->xprt);
	pthread_mutex_unlock(&s->lock);
	if (st != NFS4_OK) {
		nfs4_client_compound_end(clp);
		goto put;
	}
	run->replay = verdict == NFS4_SLOT_REPLAY;
	c->session = s;             /* the compound keeps find's reference */
	c->slot = slot;
	c->client = clp;
	c->cachethis = a->sa_cachethis;
	c->resp_limit = s->fore.ca_maxresponsesize;
	memcpy(ok->sr_sessionid, s->id, sizeof(sessionid4));
	ok->sr_sequenceid = a->sa_sequenceid;
	ok->sr_slotid = a->sa_slotid;
	ok->sr_highest_slotid = s->slots.nslots - 1;
	ok->sr_target_highest_slotid = s->slots.nslots - 1;
	pthread_mutex_lock(&clp->lock);
	nfs4_client_renew(clp);   /* a SEQUENCE that passed its slot check */
	probe = s->cb_probe_at_sequence;
	ok->sr_status_flags = nfs4_client_seq_flags(clp, s);
	pthread_mutex_unlock(&clp->lock);
	if (probe) {
		/* The session's first SEQUENCE: the probe CREATE_SESSION held
		 * back (conn_attach) starts now, under the state lock as every
		 * change of the back channel path. */
		nfs4_state_lock();
		pthread_mutex_lock(&clp->lock);
		probe = s->cb_probe_at_sequence;
		s->cb_probe_at_sequence = false;
		pthread_mutex_unlock(&clp->lock);
		if (probe)
			nfs4_cb_probe(s);
		pthread_mutex_lock(&clp->lock);
		ok->sr_status_flags = nfs4_client_seq_flags(clp, s);
		pthread_mutex_unlock(&clp->lock);
		nfs4_state_unlock();
	}
	return NFS4_OK;
put:
	nfs4_session_put(s);
	return st;
}

nfsstat4 nfs4_op_bind_conn_to_session(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	BIND_CONN_TO_SESSION4args *a = &args->u.opbind_conn_to_session;
	BIND_CONN_TO_SESSION4res *r = &res->u.opbind_conn_to_session;
	BIND_CONN_TO_SESSION4resok *ok = &r->u.bctsr_resok4;
	struct nfs4_session *s;
	nfsstat4 st = NFS4_OK;
	bool back = false;

	if (c->opindex > 0)
		return NFS4ERR_NOT_ONLY_OP;
	if (a->bctsa_use_conn_in_rdma_mode)
		return NFS4ERR_INVAL;   /* TCP only for now */
	nfs4_state_lock();
	s = nfs4_session_find(c->srv, a->bctsa_sessid);
	if (!s) {
		st = NFS4ERR_BADSESSION;
		goto out;
	}
	if (!nfs4_same_principal(&s->client->principal, &c->req->cred)) {
		st = NFS4ERR_PERM;
		goto put;
	}
	switch (a->bctsa_dir) {
	case CDFC4_FORE:
		ok->bctsr_dir = CDFS4_FORE;
		break;
	case CDFC4_BACK:
		ok->bctsr_dir = CDFS4_BACK;
		back = true;
		break;
	case CDFC4_FORE_OR_BOTH:
	case CDFC4_BACK_OR_BOTH:
		ok->bctsr_dir = CDFS4_BOTH;
		back = true;
		break;
	default:
		st = NFS4ERR_INVAL;
		goto put;
	}
	memcpy(ok->bctsr_sessid, s->id, sizeof(sessionid4));
	ok->bctsr_use_conn_in_rdma_mode = false;
	conn_attach(s, c->req->xprt, back, true);
put:
	nfs4_session_put(s);
out:
	nfs4_state_unlock();
	return st;
}

/* ---- DESTROY_CLIENTID, RECLAIM_COMPLETE, BACKCHANNEL_CTL ---- */

nfsstat4 nfs4_op_destroy_clientid(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	DESTROY_CLIENTID4args *a = &args->u.opdestroy_clientid;
	struct nfs4_client *clp;
	nfsstat4 st = NFS4_OK;

	nfs4_state_lock();
	clp = nfs4_client_find_id(c->srv, a->dca_clientid);
	if (!clp)
		st = NFS4ERR_STALE_CLIENTID;
	else if (!nfs4_same_principal(&clp->principal, &c->req->cred))
		st = NFS4ERR_PERM;
	else if (!list_empty(&clp->sessions) || nfs4_client_has_state(clp))
		st = NFS4ERR_CLIENTID_BUSY;
	else
		nfs4_client_destroy(clp, true);
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_reclaim_complete(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	RECLAIM_COMPLETE4args *a = &args->u.opreclaim_complete;
	nfsstat4 st = NFS4_OK;

	if (!c->client)
		return NFS4ERR_OP_NOT_IN_SESSION;
	/* rca_one_fs: per-file-system reclaim is only meaningful with
	 * migration; the whole-client RECLAIM_COMPLETE governs grace here. */
	if (a->rca_one_fs)
		return c->cur.obj || c->cur.pseudo ? NFS4_OK : NFS4ERR_NOFILEHANDLE;
	nfs4_state_lock();
	if (c->client->reclaim_complete) {
		st = NFS4ERR_COMPLETE_ALREADY;
	} else {
		c->client->reclaim_complete = true;
		nfs4_grace_client_done(c->client);
	}
	nfs4_state_unlock();
	return st;
}

nfsstat4 nfs4_op_backchannel_ctl(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	BACKCHANNEL_CTL4args *a = &args->u.opbackchannel_ctl;

	if (!c->session)
		return NFS4ERR_OP_NOT_IN_SESSION;
	nfs4_state_lock();
	c->session->cb_program = a->bca_cb_program;
	cb_sec_take(c->session, a->bca_sec_parms.val, a->bca_sec_parms.len);
	if (c->session->back_xprt)
		nfs4_cb_probe(c->session);
	nfs4_state_unlock();
	return NFS4_OK;
}
