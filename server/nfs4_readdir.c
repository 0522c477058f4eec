/*
 * server/nfs4_readdir.c: READDIR (RFC 8881 §18.23).
 *
 * Cookies: 0 starts the listing; 1 and 2 are reserved (never handed out;
 * NFS4ERR_BAD_COOKIE when sent). An export directory's entry carries the
 * backend's cookie + 3; a pseudo directory's child i carries i + 3.
 * An export root with other exports mounted below it (an export at "/" and
 * one at "/b/c") lists those junctions after its own entries, with cookies
 * JUNCTION_COOKIE + i, and hides a real entry of the same name.
 * Cookie verifier: a constant, so listings resume across a server restart;
 * a cookie other than 0 with a verifier that is neither ours nor all zeroes
 * is NFS4ERR_NOT_SAME.
 * A cookie the server never gave out is NFS4ERR_BAD_COOKIE (RFC 8881
 * §18.23.3). The backend's offsets are opaque (XFS data block positions,
 * ext4 name hashes, tmpfs indexes: up to 63 bits, so no room for a MAC in
 * the cookie) and every filesystem seeks anywhere without complaint, so a
 * cookie is checked against the listing itself:
 *  - pseudo directory and junction cookies name a child by index: it must
 *    exist;
 *  - a backend cookie is good when it ends one of the recent replies (a
 *    small table of them: the cookie a client pages forward with, checked
 *    in O(1)), or else when the backend's own listing of the directory,
 *    read from the start as the caller, produces it as some entry's offset
 *    (a mid-reply cookie, or any cookie after a restart: O(position)).
 * Listings still resume across restarts. The one cookie given out and then
 * refused: one not in the table whose next entry was removed meanwhile (its
 * offset no longer follows any entry); the client starts the listing over.
 * Sizes: maxcount bounds the whole READDIR4resok (verifier, entries, eof);
 * dircount bounds the entries' cookie+name bytes (a hint: at least one entry
 * is always returned); NFS4ERR_TOOSMALL when not even one entry fits.
 * Per-entry attributes come from a lookup of the entry; an entry that fails
 * carries rdattr_error when it was asked for, vanished entries are skipped.
 * Calls: nfs4_attr.h, nfs4_fh.h, the backend. Called by: the op table.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_fh.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_ops.h"
#include "server/nfs4_slot.h"

#define COOKIE_BASE 3u            /* 0 = start, 1 and 2 reserved */
#define RESOK_BASE (8u + 4u + 4u) /* cookieverf, no-more-entries, eof */
#define ENTRY_FIXED (4u + 8u + 4u)/* value-follows, cookie, name length */
#define MAX_COLLECT 4096u
#define JUNCTION_COOKIE 0xffffffff00000000ull
#define MAX_REPLY (256u << 10)   /* keeps the per-request arena small; fewer entries are always allowed */
#define REPLY_SLACK 512u         /* RPC header and the results of ops after READDIR */

static const uint8_t cookie_verf[NFS4_VERIFIER_SIZE] = { 'd', 'a', 'x', 'n', 'f', 's', 0, 1 };


struct rd_ent {
	const char *name;
	uint32_t namelen;
	uint64_t cookie;          /* wire cookie */
	uint64_t fileid;
	struct nfs4_pseudo_node *node;   /* pseudo children */
};

struct rd_collect {
	struct arena *arena;
	struct rd_ent *ents;
	unsigned n, cap;
	size_t bytes, limit;
	const struct nfs4_pseudo_node *junctions;   /* children of the export root's node */
	int err;
};

static bool collect_cb(void *ctx, const char *name, size_t namelen, uint64_t cookie_after,
		       uint64_t fileid, enum pmem_obj_type type)
{
	struct rd_collect *rc = ctx;
	struct rd_ent *e;

	(void)type;
	if (rc->junctions && nfs4_pseudo_child(rc->junctions, name, namelen))
		return true;   /* hidden by the export mounted there */
	if (rc->n == rc->cap || rc->bytes > rc->limit)
		return false;
	if (cookie_after >= JUNCTION_COOKIE - COOKIE_BASE) {
		rc->err = -EOVERFLOW;
		return false;
	}
	e = &rc->ents[rc->n];
	e->name = arena_strndup(rc->arena, name, namelen);
	if (!e->name) {
		rc->err = -ENOMEM;
		return false;
	}
	e->namelen = (uint32_t)namelen;
	e->cookie = cookie_after + COOKIE_BASE;
	e->fileid = fileid;
	e->node = NULL;
	rc->n++;
	rc->bytes += ENTRY_FIXED + XDR_ROUNDUP(namelen);
	return true;
}

/* Children of dir from index start on, with cookies base + index. */
static void pseudo_collect(const struct nfs4_pseudo_node *dir, uint64_t start, uint64_t base,
			   struct rd_collect *rc, bool *eof)
{
	struct nfs4_pseudo_node *ch;

	if (start >= dir->nchildren) {
		*eof = true;
		return;
	}
	ch = nfs4_pseudo_child_at(dir, (unsigned)start);
	for (uint64_t i = start; ch && rc->n < rc->cap; i++, ch = ch->next) {
		struct rd_ent *e = &rc->ents[rc->n++];

		e->name = ch->name;
		e->namelen = (uint32_t)strlen(ch->name);
		e->cookie = i + base;
		e->fileid = ch->id;
		e->node = ch;
	}
	*eof = ch == NULL;
}

/* Entries of an export directory after cookie, then its junctions. */
static int export_collect(struct nfs4_compound *c, uint64_t cookie, struct rd_collect *rc,
			  bool *eof)
{
	const struct nfs4_pseudo_node *node = NULL;
	int err;

	if (nfs4_export_is_root(c->cur.exp, c->cur.obj) && c->cur.exp->node &&
	    c->cur.exp->node->children)
		node = c->cur.exp->node;
	rc->junctions = node;
	if (cookie < JUNCTION_COOKIE) {
		err = c->cur.obj->ops->readdir(c->cur.obj, &c->cred,
					       cookie ? cookie - COOKIE_BASE : 0,
					       collect_cb, rc, eof);
		if (!err)
			err = rc->err;
		if (err || !*eof || !node)
			return err;
		cookie = 0;
	} else if (!node) {
		return -EINVAL;   /* a junction cookie where there are none */
	} else {
		cookie = cookie - JUNCTION_COOKIE + 1;
	}
	pseudo_collect(node, cookie, JUNCTION_COOKIE, rc, eof);
	return 0;
}

/* The entry's fh (pseudo node or looked-up object) into fh. */
static nfsstat4 entry_fh(struct nfs4_compound *c, const struct rd_ent *e, struct nfs4_fh *fh)
{
	struct pmem_obj *obj = NULL;
	int err;

	if (e->node)
		return nfs4_fh_from_node(e->node, fh);
	err = c->cur.obj->ops->lookup(c->cur.obj, &c->cred, e->name, &obj);
	if (err)
		return nfs4_errno_to_status(err);
	return nfs4_fh_from_obj(c->cur.exp, obj, fh);
}

static uint64_t dir_key(const struct nfs4_fh *fh)
{
	return nfs4_hash_bytes(fh->data, fh->len) | 1;   /* never 0 (free) */
}

static struct nfs4_issued_cookie *issued_slot(struct nfs4_readdir_issued *t, uint64_t dir,
					      uint64_t cookie)
{
	return &t->slots[(dir ^ cookie * 0x9e3779b97f4a7c15ull) % NFS4_READDIR_ISSUED_SLOTS];
}

static void issued_remember(struct nfs4_readdir_issued *t, uint64_t dir, uint64_t cookie)
{
	struct nfs4_issued_cookie *e = issued_slot(t, dir, cookie);

	pthread_mutex_lock(&t->lock);
	e->dir = dir;
	e->cookie = cookie;
	pthread_mutex_unlock(&t->lock);
}

static bool issued_known(struct nfs4_readdir_issued *t, uint64_t dir, uint64_t cookie)
{
	struct nfs4_issued_cookie *e = issued_slot(t, dir, cookie);
	bool known;

	pthread_mutex_lock(&t->lock);
	known = e->dir == dir && e->cookie == cookie;
	pthread_mutex_unlock(&t->lock);
	return known;
}

struct cookie_find {
	uint64_t want;            /* backend offset */
	bool found;
};

static bool cookie_find_cb(void *ctx, const char *name, size_t namelen, uint64_t cookie_after,
			   uint64_t fileid, enum pmem_obj_type type)
{
	struct cookie_find *f = ctx;

	(void)name;
	(void)namelen;
	(void)fileid;
	(void)type;
	f->found = cookie_after == f->want;
	return !f->found;
}

/* NFS4_OK when cookie (3 or more) is one that the current directory's
 * listing gives out (see the top of this file), NFS4ERR_BAD_COOKIE if not. */
static nfsstat4 cookie_check(struct nfs4_compound *c, uint64_t cookie)
{
	const struct nfs4_pseudo_node *node;
	struct cookie_find f = { cookie - COOKIE_BASE, false };
	bool eof;
	int err;

	if (c->cur.pseudo)
		return cookie - COOKIE_BASE < c->cur.pseudo->nchildren ? NFS4_OK
								 : NFS4ERR_BAD_COOKIE;
	if (cookie >= JUNCTION_COOKIE) {
		node = nfs4_export_is_root(c->cur.exp, c->cur.obj) ? c->cur.exp->node : NULL;
		return node && cookie - JUNCTION_COOKIE < node->nchildren ? NFS4_OK
									 : NFS4ERR_BAD_COOKIE;
	}
	if (issued_known(&c->srv->readdir_issued, dir_key(&c->cur), cookie))
		return NFS4_OK;
	err = c->cur.obj->ops->readdir(c->cur.obj, &c->cred, 0, cookie_find_cb, &f, &eof);
	if (err)
		return nfs4_errno_to_status(err);
	return f.found ? NFS4_OK : NFS4ERR_BAD_COOKIE;
}

nfsstat4 nfs4_op_readdir(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res)
{
	READDIR4args *a = &args->u.opreaddir;
	READDIR4res *r = &res->u.opreaddir;
	const bitmap4 *want = &a->attr_request;
	static const uint8_t zero_verf[NFS4_VERIFIER_SIZE];
	struct rd_collect rc = { 0 };
	entry4 *head = NULL, **tail = &head, *last = NULL;
	size_t used = RESOK_BASE, dirused = 0;
	uint32_t limit = a->maxcount;
	bool eof = false, want_rderr;
	unsigned i, nout = 0;
	nfsstat4 st;
	int err;

	st = nfs4_fh_check_dir(&c->cur, false);
	if (st != NFS4_OK)
		return st;
	for (unsigned n = 0; n < nfs4_bitmap_nbits(want); n++)
		if (nfs4_bitmap_isset(want, n) && nfs4_attr_write_only(n))
			return NFS4ERR_INVAL;
	if (a->cookie == 1 || a->cookie == 2)
		return NFS4ERR_BAD_COOKIE;
	if (a->cookie != 0 && memcmp(a->cookieverf, cookie_verf, sizeof(cookie_verf)) != 0 &&
	    memcmp(a->cookieverf, zero_verf, sizeof(zero_verf)) != 0)
		return NFS4ERR_NOT_SAME;
	if (c->cur.exp && c->cur.exp->conf.access == CONF_ACCESS_NONE)
		return NFS4ERR_ACCESS;
	if (a->cookie != 0) {
		st = cookie_check(c, a->cookie);
		if (st != NFS4_OK)
			return st;
	}
	if (limit > MAX_REPLY)
		limit = MAX_REPLY;
	/* What this reply can still carry (a smaller answer is always allowed). */
	if (c->req) {
		size_t pos = xdr_pos(&c->req->res) + REPLY_SLACK;
		size_t room = c->req->res.len > pos ? c->req->res.len - pos : 0;

		if (c->resp_limit && c->resp_limit < c->req->res.len)
			room = c->resp_limit > pos ? c->resp_limit - pos : 0;
		if (limit > room)
			limit = (uint32_t)room;
	}
	want_rderr = nfs4_bitmap_isset(want, FATTR4_RDATTR_ERROR);

	rc.arena = c->arena;
	rc.limit = limit;
	rc.cap = limit / (ENTRY_FIXED + 4) + 1;
	if (rc.cap > MAX_COLLECT)
		rc.cap = MAX_COLLECT;
	rc.ents = arena_alloc(c->arena, rc.cap * sizeof(*rc.ents));
	if (!rc.ents)
		return NFS4ERR_SERVERFAULT;
	if (c->cur.pseudo) {
		pseudo_collect(c->cur.pseudo, a->cookie ? a->cookie - COOKIE_BASE + 1 : 0,
			       COOKIE_BASE, &rc, &eof);
	} else {
		err = export_collect(c, a->cookie, &rc, &eof);
		if (err == -EINVAL)
			return NFS4ERR_BAD_COOKIE;
		if (err)
			return nfs4_errno_to_status(err);
	}

	for (i = 0; i < rc.n; i++) {
		const struct rd_ent *e = &rc.ents[i];
		struct nfs4_fattr_opts opts = { NFS4_OK, true, e->fileid };
		struct nfs4_fh fh = { 0 };
		entry4 *ent;
		size_t sz;

		if (want->len) {
			st = entry_fh(c, e, &fh);
			if (st == NFS4ERR_NOENT || st == NFS4ERR_STALE) {
				/* removed since the listing: leave it out */
				nfs4_fh_clear(&fh);
				continue;
			}
			if (st != NFS4_OK && !want_rderr)
				return st;
			opts.rdattr_error = st;
		}
		ent = arena_alloc(c->arena, sizeof(*ent));
		if (!ent) {
			nfs4_fh_clear(&fh);
			return NFS4ERR_SERVERFAULT;
		}
		ent->cookie = e->cookie;
		ent->name.val = (uint8_t *)e->name;
		ent->name.len = e->namelen;
		st = want->len ? nfs4_fattr_encode_ex(c, &fh, want, &opts, &ent->attrs) : NFS4_OK;
		nfs4_fh_clear(&fh);
		if (st != NFS4_OK) {
			if (!want_rderr)
				return st;
			opts.rdattr_error = st;
			st = nfs4_fattr_encode_ex(c, &fh, want, &opts, &ent->attrs);
			if (st != NFS4_OK)
				return st;
		}
		sz = ENTRY_FIXED + XDR_ROUNDUP(e->namelen) + nfs4_fattr_xdr_size(&ent->attrs);
		if (used + sz > limit ||
		    (a->dircount && nout > 0 &&
		     dirused + ENTRY_FIXED + XDR_ROUNDUP(e->namelen) > a->dircount))
			break;
		used += sz;
		dirused += ENTRY_FIXED + XDR_ROUNDUP(e->namelen);
		*tail = ent;
		tail = &ent->nextentry;
		last = ent;
		nout++;
	}
	if (nout == 0 && i < rc.n)
		return NFS4ERR_TOOSMALL;
	/* The cookie the client will page forward with: checked in O(1). */
	if (last && !c->cur.pseudo && last->cookie < JUNCTION_COOKIE)
		issued_remember(&c->srv->readdir_issued, dir_key(&c->cur), last->cookie);
	memcpy(r->u.resok4.cookieverf, cookie_verf, sizeof(cookie_verf));
	r->u.resok4.reply.entries = head;
	r->u.resok4.reply.eof = eof && i == rc.n;
	return NFS4_OK;
}

uint32_t nfs4_readdir_payload_estimate(const nfs_argop4 *args)
{
	return args->u.opreaddir.maxcount;
}
