/*
 * server/nfs4_admin.c: the administration socket (see nfs4_admin.h).
 * Calls: nfs4_state.h, nfs4_layout.h, nfs4_deleg.h, pmem/lease.h, conf/log.h.
 * Called by: main.c.
 */
#include "server/nfs4_admin.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <fcntl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/log.h"
#include "pmem/lease.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_client.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_state.h"

#define ADMIN_LINE_MAX 256u
/* The whole command within this, the whole answer within the next: a peer
 * that sends slowly or does not read holds the socket no longer. */
#define ADMIN_IO_TIMEOUT_MS 2000
#define ADMIN_WRITE_TIMEOUT_MS 10000
/* An answer larger than this is cut (and says so): a server with a
 * hundred thousand delegations still answers, in part. */
#define ADMIN_REPLY_MAX (16u << 20)

struct nfs4_admin {
	struct nfs4_server *srv;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, stopfd;
	int lockfd;            /* path.lock, flock()ed: the socket is this daemon's */
	pthread_t thread;
};

/* ---- the answer ---- */

struct admin_out {
	char *buf;
	size_t len, cap;
	bool json, cut;
	unsigned items;        /* JSON: members written in the current object or array */
};

static void out_vprintf(struct admin_out *o, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (o->cut)
		return;
	va_copy(aq, ap);
	n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (o->len + (size_t)n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *nb;

		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		if (cap > ADMIN_REPLY_MAX || !(nb = realloc(o->buf, cap))) {
			o->cut = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
		vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	}
	o->len += (size_t)n;
}

static void out_printf(struct admin_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_printf(struct admin_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

static void out_puts(struct admin_out *o, const char *str)
{
	out_printf(o, "%s", str);
}

/* A client's co_ownerid as text: printable bytes kept, others '?', the
 * JSON string's specials escaped; at most 64 bytes of it. */
static void out_owner(struct admin_out *o, const struct xdr_opaque *id)
{
	uint32_t i, n = id->len < 64 ? id->len : 64;

	for (i = 0; i < n; i++) {
		unsigned char ch = ((const unsigned char *)id->val)[i];

		if (ch == '"' || ch == '\\')
			out_printf(o, "\\%c", ch);
		else
			out_printf(o, "%c", ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
}

static const char *recall_state_name(enum layout_recall_state st)
{
	switch (st) {
	case LAYOUT_RECALL_NONE:      return "none";
	case LAYOUT_RECALL_RECALLING: return "recalling";
	case LAYOUT_RECALL_RETURNED:  return "returned";
	case LAYOUT_RECALL_REVOKED:   return "revoked";
	}
	return "?";
}

static const char *lease_name(const struct nfs4_file *fp)
{
	return fp->lease == PMEM_LEASE_WRITE ? "write" : fp->lease == PMEM_LEASE_READ ? "read" : "none";
}

/* ---- show ---- */

static void show_clients(struct admin_out *o, struct nfs4_server *srv)
{
	struct list_node *pos;
	bool first = true;

	out_puts(o, o->json ? "\"clients\":[" : "clients:\n");
	list_for_each(pos, &srv->clients.clients) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);
		unsigned layouts = 0;
		struct list_node *sp;

		list_for_each(sp, &clp->stids) {
			const struct nfs4_stid *st = container_of(sp, struct nfs4_stid, client_node);

			layouts += st->type == NFS4_STID_LAYOUT;
		}
		if (o->json) {
			out_printf(o, "%s{\"clientid\":\"%016" PRIx64 "\",\"owner\":\"", first ? "" : ",",
				   (uint64_t)clp->clientid);
			out_owner(o, &clp->owner_id);
			out_printf(o, "\",\"confirmed\":%s,\"courtesy\":%s,\"sessions\":%u,"
				   "\"stateids\":%u,\"delegations\":%u,\"layouts\":%u,"
				   "\"revoked\":%u}", clp->confirmed ? "true" : "false",
				   clp->courtesy ? "true" : "false", clp->nsessions, clp->nstids,
				   clp->ndelegs, layouts, clp->nrevoked_stids);
		} else {
			out_printf(o, "  %016" PRIx64 " \"", (uint64_t)clp->clientid);
			out_owner(o, &clp->owner_id);
			out_printf(o, "\": %u session(s), %u stateid(s), %u delegation(s), %u layout(s), "
				   "%u revoked%s%s\n", clp->nsessions, clp->nstids, clp->ndelegs, layouts,
				   clp->nrevoked_stids, clp->confirmed ? "" : ", unconfirmed",
				   clp->courtesy ? ", courtesy" : "");
		}
		first = false;
	}
	out_puts(o, o->json ? "]" : "");
}

static void show_file_layouts(struct admin_out *o, const struct nfs4_file *fp, int64_t now)
{
	const struct nfs4_layout_file *nlf = fp->layout_state;
	unsigned i, j;

	if (o->json)
		out_printf(o, ",\"recall\":\"%s\",\"deadline_in_ms\":%lld,\"layouts\":[",
			   recall_state_name(nlf->lf.state),
			   nlf->lf.state == LAYOUT_RECALL_RECALLING
			   ? (long long)(nlf->lf.deadline_ms - now) : -1LL);
	else if (nlf->lf.state == LAYOUT_RECALL_RECALLING)
		out_printf(o, "    recall in flight: %u holder(s) outstanding, revoked in %lld ms\n",
			   nlf->lf.outstanding, (long long)(nlf->lf.deadline_ms - now));
	for (i = 0; i < nlf->lf.nholders; i++) {
		const struct nfs4_layout *ls =
			container_of(nlf->lf.holders[i], struct nfs4_layout, holder);

		if (o->json)
			out_printf(o, "%s{\"clientid\":\"%016" PRIx64 "\",\"stateid_seqid\":%u,"
				   "\"state\":\"%s\",\"segments\":[", i ? "," : "",
				   (uint64_t)ls->stid.client->clientid, ls->stid.sid.seqid,
				   recall_state_name(ls->holder.state));
		else
			out_printf(o, "    layout of %016" PRIx64 " (flex files, seqid %u, %s):",
				   (uint64_t)ls->stid.client->clientid, ls->stid.sid.seqid,
				   recall_state_name(ls->holder.state));
		for (j = 0; j < ls->holder.segs.count; j++) {
			const struct layout_seg *sg = &ls->holder.segs.segs[j];
			const char *mode = sg->iomode == LAYOUTIOMODE4_RW ? "rw" : "read";

			if (o->json && sg->range.end == LAYOUT_END)
				out_printf(o, "%s{\"iomode\":\"%s\",\"offset\":%" PRIu64
					   ",\"end\":\"eof\"}", j ? "," : "", mode, sg->range.start);
			else if (o->json)
				out_printf(o, "%s{\"iomode\":\"%s\",\"offset\":%" PRIu64 ",\"end\":%"
					   PRIu64 "}", j ? "," : "", mode, sg->range.start, sg->range.end);
			else if (sg->range.end == LAYOUT_END)
				out_printf(o, " %s [%" PRIu64 ", eof)", mode, sg->range.start);
			else
				out_printf(o, " %s [%" PRIu64 ", %" PRIu64 ")", mode, sg->range.start,
					   sg->range.end);
		}
		if (o->json)
			out_puts(o, "]}");
		else
			out_puts(o, ls->holder.segs.count ? "\n" : " no segments\n");
	}
	out_puts(o, o->json ? "]" : "");
}

static void show_files(struct admin_out *o, struct nfs4_server *srv)
{
	int64_t now = nfs4_cb_now_ms();
	bool first = true;
	unsigned b;

	out_puts(o, o->json ? ",\"files\":[" : "files with delegations or layouts:\n");
	for (b = 0; b < NFS4_FILE_BUCKETS; b++) {
		const struct nfs4_file *fp;

		for (fp = srv->files.buckets[b]; fp; fp = fp->hash_next) {
			const struct list_node *dp;

			if (!fp->layout_state && list_empty(&fp->delegs))
				continue;
			if (o->json)
				out_printf(o, "%s{\"fileid\":%" PRIu64 ",\"lease\":\"%s\","
					   "\"lease_breaking\":%s,\"delegations\":[", first ? "" : ",",
					   fp->obj->fileid, lease_name(fp),
					   fp->lease_breaking ? "true" : "false");
			else
				out_printf(o, "  fileid %" PRIu64 ": %s lease%s\n", fp->obj->fileid,
					   lease_name(fp), fp->lease_breaking ? " (breaking)" : "");
			first = false;
			list_for_each(dp, &fp->delegs) {
				const struct nfs4_deleg *d =
					container_of(dp, struct nfs4_deleg, file_node);
				const char *type = d->type == OPEN_DELEGATE_WRITE ? "write" : "read";
				const char *state = d->state == NFS4_DELEG_RECALLING ? "recalling"
						    : d->state == NFS4_DELEG_REVOKED ? "revoked" : "granted";

				if (o->json)
					out_printf(o, "%s{\"clientid\":\"%016" PRIx64 "\",\"type\":\"%s\","
						   "\"state\":\"%s\"}", dp == fp->delegs.next ? "" : ",",
						   (uint64_t)d->stid.client->clientid, type, state);
				else
					out_printf(o, "    %s delegation of %016" PRIx64 " (%s)\n", type,
						   (uint64_t)d->stid.client->clientid, state);
			}
			out_puts(o, o->json ? "]" : "");
			if (fp->layout_state)
				show_file_layouts(o, fp, now);
			else if (o->json)
				out_printf(o, ",\"recall\":\"none\",\"deadline_in_ms\":-1,\"layouts\":[]");
			out_puts(o, o->json ? "}" : "");
		}
	}
	out_puts(o, o->json ? "]" : "");
}

static void cmd_show(struct admin_out *o, struct nfs4_server *srv)
{
	const struct nfs4_pnfs *p = &srv->pnfs;

	if (o->json)
		out_printf(o, "{\"ok\":true,\"recall_timeout_ms\":%lld,\"pnfs\":%s,"
			   "\"layout_recalls\":%" PRIu64 ",\"layout_revocations\":%" PRIu64 ",",
			   (long long)nfs4_recall_timeout_ms(srv), p->enabled ? "true" : "false",
			   p->recalls, p->domain.revocations);
	else
		out_printf(o, "Recall_Timeout %lld ms; pNFS %s; layout recalls %" PRIu64 ", layouts "
			   "revoked %" PRIu64 "\n", (long long)nfs4_recall_timeout_ms(srv),
			   p->enabled ? "on" : "off", p->recalls, p->domain.revocations);
	show_clients(o, srv);
	show_files(o, srv);
	out_puts(o, o->json ? "}\n" : "");
}

/* ---- recall, revoke, set ---- */

/* The file with layouts whose fileid is fileid; NULL, with *several set
 * when more than one export has one (a fileid is unique in one file
 * system only). */
static struct nfs4_file *file_by_id(struct nfs4_server *srv, uint64_t fileid, bool *several)
{
	struct nfs4_file *found = NULL;
	unsigned b;

	*several = false;
	for (b = 0; b < NFS4_FILE_BUCKETS; b++) {
		struct nfs4_file *fp;

		for (fp = srv->files.buckets[b]; fp; fp = fp->hash_next) {
			if (fp->obj->fileid != fileid || !fp->layout_state)
				continue;
			if (found) {
				*several = true;
				return NULL;
			}
			found = fp;
		}
	}
	return found;
}

static struct nfs4_client *client_by_id(struct nfs4_server *srv, uint64_t clientid)
{
	struct list_node *pos;

	list_for_each(pos, &srv->clients.clients) {
		struct nfs4_client *clp = container_of(pos, struct nfs4_client, node);

		if (clp->clientid == clientid && !clp->expired)
			return clp;
	}
	return NULL;
}

/* fn on every file clp has a layout on (each once). */
static unsigned for_client_files(struct nfs4_server *srv, struct nfs4_client *clp,
				 unsigned (*fn)(struct nfs4_server *, struct nfs4_file *,
						struct nfs4_client *))
{
	struct list_node *pos, *next;
	unsigned n = 0;

	/* The revoke keeps the stateids (until FREE_STATEID) and the recall
	 * changes none: the list stays as it is. */
	for (pos = clp->stids.next; pos != &clp->stids; pos = next) {
		struct nfs4_stid *st = container_of(pos, struct nfs4_stid, client_node);

		next = pos->next;
		if (st->type == NFS4_STID_LAYOUT && st->state == NFS4_STID_ACTIVE &&
		    nfs4_layout_file(st))
			n += fn(srv, nfs4_layout_file(st), clp);
	}
	return n;
}

static void answer(struct admin_out *o, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void answer(struct admin_out *o, bool ok, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!o->json) {
		out_printf(o, "%s%s\n", ok ? "" : "error: ", msg);
		return;
	}
	for (i = 0; msg[i]; i++)
		if (msg[i] == '"' || msg[i] == '\\')
			msg[i] = '\'';
		else if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] == 0x7f)
			msg[i] = '?';
	out_printf(o, "{\"ok\":%s,\"message\":\"%s\"}\n", ok ? "true" : "false", msg);
}

static void cmd_layouts(struct admin_out *o, struct nfs4_server *srv, bool revoke,
			const char *what, const char *id)
{
	unsigned (*fn)(struct nfs4_server *, struct nfs4_file *, struct nfs4_client *) =
		revoke ? nfs4_layout_admin_revoke : nfs4_layout_admin_recall;
	const char *verb = revoke ? "revoked" : "recalled";
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(id ? id : "", &end, strcmp(what, "client") == 0 ? 16 : 10);
	if (!id || !*id || *end || errno) {
		answer(o, false, "'%s' is not a %s", id ? id : "", strcmp(what, "client") == 0
		       ? "clientid (hexadecimal, as show prints it)" : "fileid (decimal)");
		return;
	}
	if (strcmp(what, "file") == 0) {
		bool several;
		struct nfs4_file *fp = file_by_id(srv, v, &several);

		if (several)
			answer(o, false, "fileid %llu has layouts on more than one export; use "
			       "'%s client' instead", v, revoke ? "revoke" : "recall");
		else if (!fp)
			answer(o, false, "no layouts on fileid %llu", v);
		else
			answer(o, true, "fileid %llu: %u holder(s) %s", v, fn(srv, fp, NULL), verb);
	} else if (strcmp(what, "client") == 0) {
		struct nfs4_client *clp = client_by_id(srv, v);

		if (!clp)
			answer(o, false, "no client %016llx", v);
		else
			answer(o, true, "client %016llx: %u layout(s) %s", v,
			       for_client_files(srv, clp, fn), verb);
	} else {
		answer(o, false, "%s what? 'file FILEID' or 'client CLIENTID'", revoke ? "revoke"
										  : "recall");
	}
}

static void cmd_set(struct admin_out *o, struct nfs4_server *srv, const char *key,
		    const char *value)
{
	unsigned long s;
	unsigned bt = 0;
	int64_t budget;
	char *end;

	if (!key || strcmp(key, "recall-timeout") != 0) {
		answer(o, false, "set what? 'recall-timeout SECONDS'");
		return;
	}
	errno = 0;
	s = strtoul(value ? value : "", &end, 10);
	if (!value || !*value || *end || errno || s < 1 || s > 3600) {
		answer(o, false, "recall-timeout: '%s' is not 1-3600 seconds", value ? value : "");
		return;
	}
	if (pmem_lease_break_time(&bt) < 0) {
		answer(o, false, "cannot read /proc/sys/fs/lease-break-time");
		return;
	}
	/* As at start (nfs4_file_lease_start), in whole seconds. */
	budget = pmem_lease_holder_ms(bt) / 1000 * 1000;
	if ((int64_t)s * 1000 > budget) {
		answer(o, false, "recall-timeout %lu s does not fit in lease-break-time %u s (%lld ms "
		       "for the holders); Recall_Timeout stays %lld ms", s, bt, (long long)budget,
		       (long long)nfs4_recall_timeout_ms(srv));
		return;
	}
	nfs4_deleg_set_recall_timeout(srv, (int64_t)s * 1000);
	srv->pnfs.domain.recall_timeout_ms = (int64_t)s * 1000;
	log_info("nfs4", "Recall_Timeout set to %lu s by the administrator (recalls from now on)", s);
	answer(o, true, "Recall_Timeout %lu s (recalls from now on)", s);
}

/* Runs line (NUL-terminated, no newline) into o. */
static void admin_command(struct nfs4_server *srv, char *line, struct admin_out *o)
{
	char *words[6] = { 0 }, *save = NULL, *w;
	unsigned n = 0;

	for (w = strtok_r(line, " \t", &save); w && n < 6; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	o->json = n > 0 && strcmp(words[0], "json") == 0;
	if (n == 0 || (strcmp(words[0], "json") != 0 && strcmp(words[0], "text") != 0)) {
		answer(o, false, "a command starts with 'text' or 'json'");
		return;
	}
	nfs4_state_lock();
	if (n >= 2 && strcmp(words[1], "show") == 0)
		cmd_show(o, srv);
	else if (n >= 2 && (strcmp(words[1], "recall") == 0 || strcmp(words[1], "revoke") == 0))
		cmd_layouts(o, srv, strcmp(words[1], "revoke") == 0, words[2] ? words[2] : "",
			    words[3]);
	else if (n >= 2 && strcmp(words[1], "set") == 0)
		cmd_set(o, srv, words[2], words[3]);
	else
		answer(o, false, "unknown command (show, recall, revoke, set)");
	nfs4_state_unlock();
	if (o->cut) {
		/* No half answer: a refusal instead (daxnfsctl exits 1). */
		o->len = 0;
		o->cut = false;
		answer(o, false, "the answer would be larger than %u bytes", ADMIN_REPLY_MAX);
	}
}

/* ---- the socket ---- */

static int64_t admin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd (or the stop) until deadline_ms; true when fd is
 * ready. */
static bool wait_fd(struct nfs4_admin *a, int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = a->stopfd, .events = POLLIN } };
		int64_t left = deadline_ms - admin_now_ms();
		int n;

		if (left <= 0)
			return false;
		n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		return n > 0 && !p[1].revents && p[0].revents;
	}
}

/* Reads one line (fd non-blocking) within the command's time bound: its
 * length, or -1 (none, too long, a NUL in it, no time left, stopping). */
static ssize_t read_line(struct nfs4_admin *a, int fd, char *buf, size_t cap)
{
	int64_t deadline = admin_now_ms() + ADMIN_IO_TIMEOUT_MS;
	size_t len = 0;

	while (len + 1 < cap) {
		char *nl;
		ssize_t n;

		if (!wait_fd(a, fd, POLLIN, deadline))
			return -1;
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			if (memchr(buf, '\0', (size_t)(nl - buf)))
				return -1;   /* not text */
			*nl = '\0';
			return nl - buf;
		}
	}
	return -1;   /* longer than any command */
}

/* Writes the answer (fd non-blocking) within its time bound, or gives up. */
static void write_all(struct nfs4_admin *a, int fd, const char *buf, size_t len)
{
	int64_t deadline = admin_now_ms() + ADMIN_WRITE_TIMEOUT_MS;

	while (len > 0) {
		ssize_t n;

		if (!wait_fd(a, fd, POLLOUT, deadline))
			return;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void serve_one(struct nfs4_admin *a, int cfd)
{
	struct admin_out o = { 0 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char line[ADMIN_LINE_MAX];

	/* The line first, whoever sends it (bounded): a peer that is told no
	 * before it has sent its command would see a broken pipe instead. */
	if (read_line(a, cfd, line, sizeof(line)) < 0) {
		answer(&o, false, "no command (one line, at most %u bytes, within %d ms)",
		       ADMIN_LINE_MAX - 1, ADMIN_IO_TIMEOUT_MS);
	} else if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0) {
		answer(&o, false, "only root may use the administration socket");
	} else {
		log_debug("nfs4", "admin socket: pid %d: %s", (int)cred.pid, line);
		admin_command(a->srv, line, &o);
	}
	if (o.buf)
		write_all(a, cfd, o.buf, o.len);
	free(o.buf);
}

static void *admin_thread(void *arg)
{
	struct nfs4_admin *a = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = a->lfd, .events = POLLIN },
				       { .fd = a->stopfd, .events = POLLIN } };
		int cfd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("nfs4", "admin socket: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		cfd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			/* out of descriptors and the like: not a spin */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				poll(&p[1], 1, 100);
			continue;
		}
		serve_one(a, cfd);
		close(cfd);
	}
	return NULL;
}

int nfs4_admin_start(struct nfs4_server *srv, const char *path, struct nfs4_admin **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nfs4_admin *a;
	char dir[sizeof(sa.sun_path)], *slash;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warn("nfs4", "Admin_Socket %s: longer than a UNIX socket path may be (%zu); no "
			 "administration socket", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->srv = srv;
	a->lfd = a->stopfd = a->lockfd = -1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* its directory, root's only (as /run/daxnfsd under systemd) */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			log_warn("nfs4", "Admin_Socket: cannot make %s: %s", dir, strerror(errno));
	}
	/* Whoever holds path.lock owns path: a socket file left by a daemon
	 * that died goes, one another daemon serves stays. */
	{
		char lock[sizeof(a->path) + 8];

		snprintf(lock, sizeof(lock), "%s.lock", path);
		a->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (a->lockfd < 0 || flock(a->lockfd, LOCK_EX | LOCK_NB) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	unlink(path);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a->stopfd = eventfd(0, EFD_CLOEXEC);
	if (a->lfd < 0 || a->stopfd < 0) {
		rc = -errno;
		goto fail;
	}
	/* 0600: bind gives the socket file the socket's own mode (less the
	 * umask, which is the whole process's and not touched); every peer's
	 * uid is checked anyway (serve_one). */
	if (fchmod(a->lfd, 0600) < 0 || bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (listen(a->lfd, 8) < 0) {
		rc = -errno;
		unlink(path);
		goto fail;
	}
	rc = -pthread_create(&a->thread, NULL, admin_thread, a);
	if (rc < 0) {
		unlink(path);
		goto fail;
	}
	log_info("nfs4", "administration socket %s (daxnfsctl; root only)", path);
	*out = a;
	return 0;
fail:
	log_warn("nfs4", "Admin_Socket %s: %s; no administration socket (another daxnfsd may use "
		 "it)", path, strerror(-rc));
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->stopfd >= 0)
		close(a->stopfd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	free(a);
	return rc;
}

void nfs4_admin_stop(struct nfs4_admin *a)
{
	uint64_t one = 1;

	if (!a)
		return;
	if (write(a->stopfd, &one, sizeof(one)) != sizeof(one))
		log_warn("nfs4", "admin socket: cannot stop its thread: %s", strerror(errno));
	else
		pthread_join(a->thread, NULL);
	unlink(a->path);
	close(a->lfd);
	close(a->stopfd);
	close(a->lockfd);   /* last: the path is free for the next daemon */
	free(a);
}
