/*
 * conf/conf.c: the Ganesha-style block config parser (see conf.h).
 *
 * The text is tokenised (words, "quoted strings", { } = ;, # comments to end of
 * line) and parsed block by block; every key is described once in a table
 * (name, type, where it goes, range), so adding a setting is adding a row.
 * Names of blocks and keys are case-insensitive. After parsing, the rules
 * that span several keys or blocks (required keys, unique ids and pseudo
 * paths, Grace_Period >= Lease_Lifetime, Max_Partial_Record_Bytes >=
 * Max_Record_Size) are checked. The first error stops the parse and is
 * reported as "FILE:LINE: key 'K': reason". A configuration accepted by
 * conf_load leaves its connection limits where the TCP transport reads them.
 */
#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/log.h"

#define CONF_MAX_FILE (1u << 20)

enum tok_type { TOK_EOF, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_EQ, TOK_SEMI };

struct parser {
	const char *src;          /* file name for messages */
	const char *p, *end;
	unsigned line;
	const char *base_dir;
	char *err;
	size_t errlen;
	/* current token */
	enum tok_type tt;
	unsigned tline;
	char tok[4096 + 64];
	unsigned nfsv4_line;      /* where the NFSV4 block began, for cross-key errors */
	unsigned core_line;       /* where NFS_CORE_PARAM began (0: not given) */
};

enum key_type {
	KT_UINT,     /* integer in [min, max], stored in a field of `size` bytes */
	KT_SIZE,     /* like KT_UINT, with an optional K or M suffix */
	KT_STR,      /* any string that fits */
	KT_ADDR,     /* IPv4 or IPv6 literal */
	KT_ABSPATH,  /* absolute path */
	KT_PSEUDO,   /* absolute, normalised, no . or .. components */
	KT_LEVEL, KT_DEST, KT_ACCESS, KT_SQUASH,
	KT_BOOL,     /* true/false, yes/no, on/off, 1/0 into a bool */
};

struct key_desc {
	const char *name;
	enum key_type type;
	size_t off, size;
	uint64_t min, max;
	bool required;
	/* For the man page and conf_key_describe (docs/man/daxnfs.conf.5.in):
	 * the unit of a number, what the key does, and where the allowed
	 * values or the default cannot be told from the fields above. */
	const char *unit;
	const char *doc;
	const char *allowed_doc;
	const char *default_doc;
};

#define CFG(f) offsetof(struct daxnfs_config, f), sizeof(((struct daxnfs_config *)0)->f)
#define EXP(f) offsetof(struct conf_export, f), sizeof(((struct conf_export *)0)->f)

static const struct key_desc core_keys[] = {
	{ .name = "Bind_Addr", .type = KT_ADDR, CFG(bind_addr), .min = 0, .max = 0,
	  .doc = "address to listen on. `::` listens on every IPv6 and (dual-stack) IPv4 address." },
	{ .name = "NFS_Port", .type = KT_UINT, CFG(nfs_port), .min = 1, .max = 65535,
	  .doc = "TCP port." },
	{ .name = "Threads", .type = KT_UINT, CFG(threads), .min = 1, .max = 1024,
	  .doc = "worker threads serving requests. Each has a reply buffer of `Max_Record_Size` "
		 "bytes." },
	{ .name = "Max_Record_Size", .type = KT_SIZE, CFG(max_record_size),
	  .min = 8192, .max = 64u << 20,
	  .doc = "largest RPC record accepted or sent. A client that announces a larger record is "
		 "logged and disconnected before anything is allocated for it. Must cover the "
		 "client's `rsize`/`wsize` plus headers." },
	{ .name = "Max_Connections", .type = KT_UINT, CFG(conn.max_connections),
	  .min = 1, .max = 1u << 20,
	  .doc = "TCP connections open at once. One more is accepted and reset at once; the "
		 "connections already open are not disturbed. Keep it below the descriptor limit "
		 "(`ulimit -n`, `LimitNOFILE=` under systemd) minus what the exports need: the "
		 "daemon warns at start when it is not." },
	{ .name = "Record_Timeout", .type = KT_UINT, CFG(conn.record_timeout),
	  .min = 1, .max = 3600,
	  .unit = "s",
	  .doc = "time an RPC record may take from its first byte to its last fragment. A "
		 "connection whose record is still incomplete then is closed and the record's "
		 "memory freed. A client must send a `Max_Record_Size` record at least this fast "
		 "(about 36 KiB/s at the defaults)." },
	{ .name = "Idle_Unbound_Timeout", .type = KT_UINT, CFG(conn.idle_unbound_timeout),
	  .min = 1, .max = 86400,
	  .unit = "s",
	  .doc = "a connection that has not been bound to an NFSv4.1 session (no CREATE_SESSION, "
		 "SEQUENCE or BIND_CONN_TO_SESSION on it yet) and has received nothing for this "
		 "long is closed. Connections bound to a session (the backchannel too) are never "
		 "closed for being idle." },
	{ .name = "Max_Partial_Record_Bytes", .type = KT_SIZE, CFG(conn.max_partial_record_bytes),
	  .min = 8192, .max = 1ull << 40,
	  .allowed_doc = "`Max_Record_Size`-1T (K or M suffix)",
	  .doc = "memory all incomplete records together may hold. Past it the connection whose "
		 "incomplete record is the oldest is closed, then the next oldest, until the total "
		 "fits; a record being sent now is the newest and is kept. Must be at least "
		 "`Max_Record_Size`." },
	{ .name = "Rpcbind_Register", .type = KT_BOOL, CFG(rpcbind_register), .min = 0, .max = 0,
	  .doc = "register program 100003 version 4 with the local rpcbind (libtirpc's "
		 "rpcb_set, as knfsd's rpc.nfsd and NFS-Ganesha do) for the listener's address: "
		 "netid `tcp` for an IPv4 `Bind_Addr`, `tcp6` for IPv6 (and `tcp` too for `::`), "
		 "so that `rpcinfo -p` lists daxnfsd; taken back at exit. An rpcbind is looked "
		 "for at its socket `/run/rpcbind.sock` only (a connect: rpcbind leaves the file "
		 "behind when it stops); without one daxnfsd logs `rpcbind: none runs here` once "
		 "and goes on. A registration of 100003/4 already there (another server's, or one "
		 "a server that died left) is replaced, as rpc.nfsd does." },
	{ .name = "Enable_RDMA", .type = KT_BOOL, CFG(enable_rdma), .min = 0, .max = 0,
	  .doc = "also serve NFS over RPC-over-RDMA (RFC 8166, `mount -o proto=rdma`) with the "
		 "RDMA connection manager on `Bind_Addr` port `NFS_RDMA_Port`, on whichever RDMA "
		 "device serves that address. Off by default, as knfsd's. When the host has no "
		 "RDMA device for that address daxnfsd says so once and serves TCP alone." },
	{ .name = "NFS_RDMA_Port", .type = KT_UINT, CFG(nfs_rdma_port), .min = 1, .max = 65535,
	  .doc = "RPC-over-RDMA port (RFC 8267 assigns 20049 to NFS)." },
	{ .name = "Admin_Socket", .type = KT_ABSPATH, CFG(admin_socket), .min = 0, .max = 0,
	  .doc = "the administration socket `daxnfsctl` talks to (a UNIX stream socket, mode "
		 "0600, root only; its directory is made 0700 if missing): clients, delegations "
		 "and layouts per file, recalls in flight, a forced recall or revoke of a file's "
		 "or a client's layouts, `Recall_Timeout` changed without a restart. At most 107 "
		 "bytes. When it cannot be made (another daxnfsd has it) the daemon logs why and "
		 "runs without it." },
	{ .name = NULL },
};
static const struct key_desc nfsv4_keys[] = {
	{ .name = "Lease_Lifetime", .type = KT_UINT, CFG(lease_lifetime),
	  .min = 10, .max = 3600,
	  .unit = "s",
	  .doc = "how long a client's state lives without renewal." },
	{ .name = "Grace_Period", .type = KT_UINT, CFG(grace_period), .min = 10, .max = 3600,
	  .unit = "s", .allowed_doc = "`Lease_Lifetime`-3600",
	  .doc = "after a restart, the time clients have to reclaim; ends early once every client "
		 "of the previous run sent RECLAIM_COMPLETE, goes on by up to `Lease_Lifetime` "
		 "while reclaims still arrive (docs/security.md)." },
	{ .name = "Recovery_Dir", .type = KT_ABSPATH, CFG(recovery_dir), .min = 0, .max = 0,
	  .required = true,
	  .doc = "where stable client records are kept across restarts, and the file handle key "
		 "(`fh-key`: handles stay valid across restarts while it does; deleting it makes "
		 "every client's handles BADHANDLE). Created (mode 0700) at start if missing." },
	{ .name = "Domain", .type = KT_STR, CFG(domain), .min = 0, .max = 0,
	  .doc = "the `@domain` part of owner strings." },
	{ .name = "Max_Clients", .type = KT_UINT, CFG(state.max_clients),
	  .min = 1, .max = 1u << 20,
	  .doc = "client records (EXCHANGE_ID past it: NFS4ERR_DELAY, after releasing the "
		 "longest-silent courtesy client if there is one)." },
	{ .name = "Max_Sessions_Per_Client", .type = KT_UINT, CFG(state.max_sessions_per_client),
	  .min = 1, .max = 1024,
	  .doc = "sessions of one client (CREATE_SESSION past it: NFS4ERR_NOSPC)." },
	{ .name = "Max_Owners_Per_Client", .type = KT_UINT, CFG(state.max_owners_per_client),
	  .min = 1, .max = 1u << 20,
	  .doc = "open-owners and lock-owners of one client (OPEN/LOCK past it: NFS4ERR_DELAY)." },
	{ .name = "Max_Stateids_Per_Client", .type = KT_UINT, CFG(state.max_stateids_per_client),
	  .min = 16, .max = 1u << 24,
	  .doc = "open, lock, delegation and layout stateids of one client (NFS4ERR_DELAY past "
		 "it)." },
	{ .name = "Recall_Timeout", .type = KT_UINT, CFG(recall_timeout), .min = 1, .max = 3600,
	  .unit = "s", .default_doc = "30, or less to fit in the lease-break time",
	  .doc = "how long a client has to return a delegation after CB_RECALL, or a layout "
		 "after CB_LAYOUTRECALL, before it is revoked. It must fit in the kernel's "
		 "`/proc/sys/fs/lease-break-time` less the lease manager's margin (a quarter of "
		 "it, at most 5 s: 40 s of the default 45 s), so that a recall caused by a local "
		 "process always ends before the kernel breaks the lease itself; a larger value "
		 "stops the daemon at start with a message naming this key. Unset, it is 30 s or "
		 "that budget if smaller." },
	{ .name = "Max_Delegations", .type = KT_UINT, CFG(state.max_delegations),
	  .min = 1, .max = 1u << 24,
	  .doc = "delegations outstanding in the whole server. From three quarters of it on, every "
		 "client holding delegations is asked with CB_RECALL_ANY (at most once per 5 s) to "
		 "keep half of its own; at the limit OPEN grants none (OPEN_DELEGATE_NONE_EXT, "
		 "WND4_RESOURCE, when the client asked for one)." },
	{ .name = "Delegated_Timestamps", .type = KT_BOOL, CFG(deleg_timestamps),
	  .min = 0, .max = 0,
	  .doc = "RFC 9754 delegated timestamps: an NFSv4.2 client that asks "
		 "(WANT_DELEG_TIMESTAMPS) gets delegations that also delegate atime (and, for a "
		 "write delegation, mtime); it sets them with SETATTR of "
		 "time_deleg_access/time_deleg_modify, and other clients' GETATTRs get its times "
		 "through CB_GETATTR. Off by default, as knfsd's developers kept it while client "
		 "bugs were still being found (docs/decisions/0005). The Linux 7.3 client uses it "
		 "on vers=4.2 mounts." },
	{ .name = "Open_Xor_Delegation", .type = KT_BOOL, CFG(open_xor_delegation),
	  .min = 0, .max = 0,
	  .doc = "RFC 9754 OPEN_XOR_DELEGATION: an OPEN that asks for it and gets a delegation "
		 "gets no open stateid, only the delegation. Off by default: knfsd dropped it "
		 "after Linux clients, holding no open stateid, had to OPEN again after each "
		 "DELEGRETURN (a slowdown reported on fsmark; docs/decisions/0005)." },
	{ .name = "Enable_pNFS", .type = KT_BOOL, CFG(enable_pnfs), .min = 0, .max = 0,
	  .doc = "pNFS (RFC 8881 section 12): the server tells clients it is a metadata server and its "
		 "own data server (EXCHANGE_ID), offers the flexible file layout (RFC 8435) in "
		 "fs_layout_type, and hands out layouts whose data server is this daxnfsd at the "
		 "address the client reached it on (NFS_Port, and NFS_RDMA_Port with "
		 "Enable_RDMA). Off by default. Each file with layouts is covered by a local lease "
		 "(a write lease while any client has an RW layout): a local truncate, reflink or "
		 "open breaks it, every holder gets CB_LAYOUTRECALL, and a holder that has not "
		 "returned by the deadline (`Recall_Timeout`, but always `Revoke_Margin` before the "
		 "kernel's lease-break-time ends) is revoked. Every data-server READ and WRITE "
		 "passes the same stateid and permission checks as any other." },
	{ .name = "Revoke_Margin", .type = KT_UINT, CFG(revoke_margin_ms), .min = 1, .max = 60000,
	  .unit = "ms",
	  .doc = "how long before the kernel's lease-break deadline the layouts a client has not "
		 "returned are revoked, so that revoking them (and, for layouts that reach the file "
		 "directly, tearing down their registrations) is done before the kernel releases "
		 "the lease. With the lease manager's own margin it must leave time in "
		 "`/proc/sys/fs/lease-break-time` (40 s of the default 45 s): a value that does not "
		 "stops the daemon at start with a message naming this key." },
	{ .name = "Max_Async_Copies", .type = KT_UINT, CFG(max_async_copies),
	  .min = 0, .max = 1024,
	  .doc = "asynchronous COPYs (RFC 7862 section 15.2.3) running at once in the server, one thread "
		 "each; 0 makes every COPY synchronous (at most 32 MiB per request). Beyond the "
		 "limit COPY answers NFS4ERR_OFFLOAD_NO_REQS and the client copies synchronously." },
	{ .name = "Max_Async_Copies_Per_Client", .type = KT_UINT, CFG(max_async_copies_per_client),
	  .min = 1, .max = 1024,
	  .doc = "the same for one client." },
	{ .name = "Async_Copy_Max_Rate", .type = KT_UINT, CFG(async_copy_max_rate),
	  .min = 0, .max = 1u << 20,
	  .unit = "MiB/s",
	  .doc = "paces each asynchronous copy, so that a client's `cp` of a large file leaves the "
		 "disk to other clients' I/O." },
	{ .name = NULL },
};
static const struct key_desc log_keys[] = {
	{ .name = "Level", .type = KT_LEVEL, CFG(log_level), .min = 0, .max = 0,
	  .doc = "messages below this level are dropped. `debug` logs connections and refused "
		 "calls; `trace` more." },
	{ .name = "Destination", .type = KT_DEST, CFG(log_destination), .min = 0, .max = 0,
	  .doc = "stderr lines carry a timestamp, the level and the module; syslog uses facility "
		 "`daemon`." },
	{ .name = NULL },
};
static const struct key_desc metrics_keys[] = {
	{ .name = "Metrics_Addr", .type = KT_ADDR, CFG(metrics_addr), .min = 0, .max = 0,
	  .doc = "where the HTTP endpoint listens. Loopback unless you mean to expose it: the "
		 "metrics name no file, but tell who is busy." },
	{ .name = "Metrics_Port", .type = KT_UINT, CFG(metrics_port), .min = 0, .max = 65535,
	  .doc = "its port; `0` takes any free port (logged: `metrics on "
		 "http://127.0.0.1:PORT/metrics`). A port below 1024 needs `CAP_NET_BIND_SERVICE`, "
		 "which daxnfsd drops after start: use a high one." },
	{ .name = NULL },
};
static const struct key_desc export_keys[] = {
	{ .name = "Export_Id", .type = KT_UINT, EXP(export_id), .min = 1, .max = 65535,
	  .required = true,
	  .doc = "the export's number (part of its file handles: keep it stable)." },
	{ .name = "Path", .type = KT_ABSPATH, EXP(path), .min = 0, .max = 0,
	  .required = true,
	  .doc = "the local directory exported." },
	{ .name = "Pseudo", .type = KT_PSEUDO, EXP(pseudo), .min = 0, .max = 0,
	  .required = true,
	  .doc = "its place in the NFSv4 pseudo file system. Normalised (`/a//b/` is `/a/b`); `.` "
		 "and `..` are refused." },
	{ .name = "Access_Type", .type = KT_ACCESS, EXP(access), .min = 0, .max = 0,
	  .doc = "what clients may do." },
	{ .name = "Squash", .type = KT_SQUASH, EXP(squash), .min = 0, .max = 0,
	  .doc = "which callers are mapped to the anonymous ids." },
	{ .name = "Anonymous_Uid", .type = KT_UINT, EXP(anon_uid), .min = 0, .max = UINT32_MAX,
	  .doc = "uid used for squashed callers." },
	{ .name = "Anonymous_Gid", .type = KT_UINT, EXP(anon_gid), .min = 0, .max = UINT32_MAX,
	  .doc = "gid used for squashed callers." },
	{ .name = NULL },
};

struct block_desc {
	const char *name;
	const struct key_desc *keys;
	bool is_export;
};

static const struct block_desc blocks[] = {
	{ "NFS_CORE_PARAM", core_keys, false },
	{ "NFSV4", nfsv4_keys, false },
	{ "LOG", log_keys, false },
	{ "METRICS", metrics_keys, false },
	{ "EXPORT", export_keys, true },
};
#define N_BLOCKS (sizeof(blocks) / sizeof(blocks[0]))

static int fail(struct parser *ps, unsigned line, const char *what, const char *name,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct parser *ps, unsigned line, const char *what, const char *name,
		const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (what)
		snprintf(ps->err, ps->errlen, "%s:%u: %s '%s': %s", ps->src, line, what, name, why);
	else
		snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->src, line, why);
	return -EINVAL;
}

static bool is_word_char(char c)
{
	return c > ' ' && c != '{' && c != '}' && c != '=' && c != ';' && c != '#' && c != '"';
}

/* Reads the next token into ps->tt/tok/tline. */
static int next_token(struct parser *ps)
{
	size_t n = 0;

	for (;;) {
		while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
					   *ps->p == '\n')) {
			if (*ps->p == '\n')
				ps->line++;
			ps->p++;
		}
		if (ps->p < ps->end && *ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		break;
	}
	ps->tline = ps->line;
	ps->tok[0] = '\0';
	if (ps->p >= ps->end) {
		ps->tt = TOK_EOF;
		return 0;
	}
	switch (*ps->p) {
	case '{': ps->tt = TOK_LBRACE; ps->p++; return 0;
	case '}': ps->tt = TOK_RBRACE; ps->p++; return 0;
	case '=': ps->tt = TOK_EQ; ps->p++; return 0;
	case ';': ps->tt = TOK_SEMI; ps->p++; return 0;
	case '"':
		ps->tt = TOK_STRING;
		ps->p++;
		while (ps->p < ps->end && *ps->p != '"') {
			if (*ps->p == '\n')
				return fail(ps, ps->tline, NULL, NULL, "unterminated string");
			if (*ps->p == '\\' && ps->p + 1 < ps->end)
				ps->p++;
			if (n + 1 >= sizeof(ps->tok))
				return fail(ps, ps->tline, NULL, NULL, "string too long");
			ps->tok[n++] = *ps->p++;
		}
		if (ps->p >= ps->end)
			return fail(ps, ps->tline, NULL, NULL, "unterminated string");
		ps->p++;
		ps->tok[n] = '\0';
		return 0;
	default:
		if (!is_word_char(*ps->p))
			return fail(ps, ps->tline, NULL, NULL, "unexpected character 0x%02x",
				    (unsigned char)*ps->p);
		ps->tt = TOK_WORD;
		while (ps->p < ps->end && is_word_char(*ps->p)) {
			if (n + 1 >= sizeof(ps->tok))
				return fail(ps, ps->tline, NULL, NULL, "word too long");
			ps->tok[n++] = *ps->p++;
		}
		ps->tok[n] = '\0';
		return 0;
	}
}

/* Replaces @BASE@ in ps->tok with the base directory. */
static int expand_base(struct parser *ps, const char *key, char *out, size_t outlen)
{
	const char *s = ps->tok, *hit;
	size_t n = 0, l;

	while ((hit = strstr(s, "@BASE@")) != NULL) {
		if (!ps->base_dir)
			return fail(ps, ps->tline, "key", key, "uses @BASE@ but no base directory was given");
		l = (size_t)(hit - s);
		if (n + l + strlen(ps->base_dir) >= outlen)
			return fail(ps, ps->tline, "key", key, "value too long");
		memcpy(out + n, s, l);
		n += l;
		memcpy(out + n, ps->base_dir, strlen(ps->base_dir));
		n += strlen(ps->base_dir);
		s = hit + 6;
	}
	if (n + strlen(s) >= outlen)
		return fail(ps, ps->tline, "key", key, "value too long");
	memcpy(out + n, s, strlen(s) + 1);
	return 0;
}

static int parse_uint(struct parser *ps, const struct key_desc *k, const char *v, uint64_t *out)
{
	unsigned long long n;
	char *end;

	if (!*v || *v == '-' || *v == '+')
		return fail(ps, ps->tline, "key", k->name, "'%s' is not a number", v);
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return fail(ps, ps->tline, "key", k->name, "'%s' is out of range %llu-%llu", v,
			    (unsigned long long)k->min, (unsigned long long)k->max);
	if (k->type == KT_SIZE && (*end == 'k' || *end == 'K') && end[1] == '\0') {
		n = n > (ULLONG_MAX >> 10) ? ULLONG_MAX : n << 10;
		end++;
	} else if (k->type == KT_SIZE && (*end == 'm' || *end == 'M') && end[1] == '\0') {
		n = n > (ULLONG_MAX >> 20) ? ULLONG_MAX : n << 20;
		end++;
	}
	if (*end)
		return fail(ps, ps->tline, "key", k->name, "'%s' is not a number", v);
	if (n < k->min || n > k->max)
		return fail(ps, ps->tline, "key", k->name, "%s is out of range %llu-%llu", v,
			    (unsigned long long)k->min, (unsigned long long)k->max);
	*out = n;
	return 0;
}

/* Normalises a pseudo path in place: one leading '/', no trailing '/', no empty,
 * '.' or '..' components. */
static int normalise_pseudo(struct parser *ps, const struct key_desc *k, char *v)
{
	char out[1024];
	size_t n = 0;
	const char *s = v, *e;
	size_t l;

	if (v[0] != '/')
		return fail(ps, ps->tline, "key", k->name, "'%s' must be an absolute path", v);
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		l = e ? (size_t)(e - s) : strlen(s);
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return fail(ps, ps->tline, "key", k->name,
				    "'%s' must not contain '.' or '..' components", v);
		if (n + 1 + l >= sizeof(out))
			return fail(ps, ps->tline, "key", k->name, "value too long");
		out[n++] = '/';
		memcpy(out + n, s, l);
		n += l;
		s += l;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	strcpy(v, out);
	return 0;
}

static int set_value(struct parser *ps, const struct key_desc *k, void *base)
{
	char v[4096 + 64];
	uint8_t *field = (uint8_t *)base + k->off;
	enum log_level lvl;
	uint64_t n = 0;
	uint8_t addr[16];
	int rc;

	rc = expand_base(ps, k->name, v, sizeof(v));
	if (rc < 0)
		return rc;
	switch (k->type) {
	case KT_UINT:
	case KT_SIZE:
		rc = parse_uint(ps, k, v, &n);
		if (rc < 0)
			return rc;
		if (k->size == 2)
			*(uint16_t *)field = (uint16_t)n;
		else if (k->size == 4)
			*(uint32_t *)field = (uint32_t)n;
		else
			*(uint64_t *)field = n;
		return 0;
	case KT_ADDR:
		if (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)
			return fail(ps, ps->tline, "key", k->name,
				    "'%s' is not an IPv4 or IPv6 address", v);
		break;
	case KT_ABSPATH:
		if (v[0] != '/')
			return fail(ps, ps->tline, "key", k->name, "'%s' must be an absolute path", v);
		break;
	case KT_PSEUDO:
		if (strlen(v) >= k->size)
			break;   /* reported below */
		rc = normalise_pseudo(ps, k, v);
		if (rc < 0)
			return rc;
		break;
	case KT_STR:
		if (!*v)
			return fail(ps, ps->tline, "key", k->name, "must not be empty");
		break;
	case KT_LEVEL:
		if (log_level_parse(v, &lvl) < 0)
			return fail(ps, ps->tline, "key", k->name,
				    "'%s' is not one of error, warn, info, debug, trace", v);
		break;
	case KT_DEST:
		if (strcasecmp(v, "stderr") && strcasecmp(v, "syslog"))
			return fail(ps, ps->tline, "key", k->name, "'%s' is not stderr or syslog", v);
		break;
	case KT_ACCESS:
		if (!strcasecmp(v, "RW"))
			*(enum conf_access *)field = CONF_ACCESS_RW;
		else if (!strcasecmp(v, "RO"))
			*(enum conf_access *)field = CONF_ACCESS_RO;
		else if (!strcasecmp(v, "None"))
			*(enum conf_access *)field = CONF_ACCESS_NONE;
		else
			return fail(ps, ps->tline, "key", k->name, "'%s' is not RW, RO or None", v);
		return 0;
	case KT_BOOL:
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
		    !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
			 !strcasecmp(v, "off") || !strcmp(v, "0"))
			*(bool *)field = false;
		else
			return fail(ps, ps->tline, "key", k->name, "'%s' is not true or false", v);
		return 0;
	case KT_SQUASH:
		if (!strcasecmp(v, "none") || !strcasecmp(v, "no_root_squash"))
			*(enum conf_squash *)field = CONF_SQUASH_NONE;
		else if (!strcasecmp(v, "root") || !strcasecmp(v, "root_squash"))
			*(enum conf_squash *)field = CONF_SQUASH_ROOT;
		else if (!strcasecmp(v, "all") || !strcasecmp(v, "all_squash"))
			*(enum conf_squash *)field = CONF_SQUASH_ALL;
		else
			return fail(ps, ps->tline, "key", k->name, "'%s' is not none, root or all", v);
		return 0;
	}
	if (strlen(v) >= k->size)
		return fail(ps, ps->tline, "key", k->name, "value longer than %zu bytes", k->size - 1);
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

/* Parses the body of one block after its '{' up to and including '}'. */
static int parse_block(struct parser *ps, const struct block_desc *b, void *base,
		       unsigned block_line)
{
	bool seen[32] = { false };   /* per key of the block; no block has more */
	const struct key_desc *k;
	char key[128];
	unsigned i, kline;
	int rc;

	for (;;) {
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt == TOK_RBRACE)
			break;
		if (ps->tt == TOK_SEMI)
			continue;
		if (ps->tt == TOK_EOF)
			return fail(ps, block_line, "block", b->name, "missing '}'");
		if (ps->tt != TOK_WORD)
			return fail(ps, ps->tline, "block", b->name, "expected a key");
		snprintf(key, sizeof(key), "%.127s", ps->tok);
		kline = ps->tline;
		for (i = 0, k = b->keys; k->name; k++, i++)
			if (strcasecmp(k->name, key) == 0)
				break;
		if (!k->name)
			return fail(ps, kline, "key", key, "unknown in block %s", b->name);
		if (i >= sizeof(seen) / sizeof(seen[0]))
			return fail(ps, kline, "key", k->name, "past the parser's keys per block");
		if (seen[i])
			return fail(ps, kline, "key", k->name, "given twice in block %s", b->name);
		seen[i] = true;
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt != TOK_EQ)
			return fail(ps, kline, "key", k->name, "expected '=' after the key");
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt != TOK_WORD && ps->tt != TOK_STRING)
			return fail(ps, kline, "key", k->name, "expected a value");
		rc = set_value(ps, k, base);
		if (rc < 0)
			return rc;
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt == TOK_RBRACE)
			break;   /* a last key may omit its ';' */
		if (ps->tt != TOK_SEMI)
			return fail(ps, kline, "key", k->name, "expected ';' after the value");
	}
	for (i = 0, k = b->keys; k->name && i < sizeof(seen) / sizeof(seen[0]); k++, i++)
		if (k->required && !seen[i])
			return fail(ps, block_line, "key", k->name, "required in block %s", b->name);
	return 0;
}

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf_conn_limits current_conn;
static bool have_current_conn;

static void conn_limits_defaults(struct conf_conn_limits *c)
{
	c->max_connections = 4096;
	c->record_timeout = 30;
	c->idle_unbound_timeout = 120;
	c->max_partial_record_bytes = 256ull << 20;
}

void conf_conn_limits_current(struct conf_conn_limits *out)
{
	pthread_mutex_lock(&current_lock);
	if (have_current_conn)
		*out = current_conn;
	else
		conn_limits_defaults(out);
	pthread_mutex_unlock(&current_lock);
}

void conf_conn_limits_publish(const struct conf_conn_limits *c)
{
	pthread_mutex_lock(&current_lock);
	current_conn = *c;
	have_current_conn = true;
	pthread_mutex_unlock(&current_lock);
}

static void set_defaults(struct daxnfs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->bind_addr, "0.0.0.0");
	cfg->nfs_port = 2049;
	cfg->threads = 8;
	cfg->max_record_size = (1u << 20) + (64u << 10);  /* 1 MiB payloads plus headers */
	conn_limits_defaults(&cfg->conn);
	cfg->rpcbind_register = true;
	strcpy(cfg->admin_socket, "/run/daxnfsd/admin.sock");
	cfg->nfs_rdma_port = 20049;
	cfg->lease_lifetime = 90;
	cfg->grace_period = 90;
	cfg->state.max_clients = 4096;
	cfg->state.max_sessions_per_client = 16;
	cfg->state.max_owners_per_client = 4096;
	cfg->state.max_stateids_per_client = 65536;
	cfg->state.max_delegations = 100000;
	cfg->max_async_copies = 16;
	cfg->revoke_margin_ms = 1000;
	strcpy(cfg->metrics_addr, "127.0.0.1");
	cfg->metrics_port = 9740;
	cfg->max_async_copies_per_client = 4;
	strcpy(cfg->domain, "localdomain");
	strcpy(cfg->log_level, "info");
	strcpy(cfg->log_destination, "stderr");
}

static void export_defaults(struct conf_export *e)
{
	memset(e, 0, sizeof(*e));   /* RW, no squash */
	e->anon_uid = 65534;
	e->anon_gid = 65534;
}

/* ---- the keys described (conf_key_describe) ---- */

static uint64_t field_uint(const uint8_t *field, size_t size)
{
	if (size == 2)
		return *(const uint16_t *)field;
	if (size == 4)
		return *(const uint32_t *)field;
	return *(const uint64_t *)field;
}

/* A size as a config would write it: M or K when exact (K below 1 MiB). */
static void format_size(uint64_t v, char *out, size_t cap)
{
	if (v && v % (1u << 20) == 0)
		snprintf(out, cap, "%lluM", (unsigned long long)(v >> 20));
	else if (v && v < (1u << 20) && v % 1024 == 0)
		snprintf(out, cap, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(out, cap, "%llu", (unsigned long long)v);
}

static void describe_allowed(const struct key_desc *k, char *out, size_t cap)
{
	char lo[32], hi[32];

	if (k->allowed_doc) {
		snprintf(out, cap, "%s", k->allowed_doc);
		return;
	}
	switch (k->type) {
	case KT_UINT:
		snprintf(out, cap, "%llu-%llu", (unsigned long long)k->min, (unsigned long long)k->max);
		return;
	case KT_SIZE:
		format_size(k->min, lo, sizeof(lo));
		format_size(k->max, hi, sizeof(hi));
		snprintf(out, cap, "%s-%s (K or M suffix)", lo, hi);
		return;
	case KT_STR: snprintf(out, cap, "a non-empty string"); return;
	case KT_ADDR: snprintf(out, cap, "an IPv4 or IPv6 literal"); return;
	case KT_ABSPATH: snprintf(out, cap, "an absolute path"); return;
	case KT_PSEUDO:
		snprintf(out, cap, "an absolute path, normalised; no `.` or `..` components");
		return;
	case KT_LEVEL: snprintf(out, cap, "`error`, `warn`, `info`, `debug`, `trace`"); return;
	case KT_DEST: snprintf(out, cap, "`stderr`, `syslog`"); return;
	case KT_ACCESS: snprintf(out, cap, "`RW`, `RO`, `None`"); return;
	case KT_SQUASH:
		snprintf(out, cap, "`none`, `root`, `all` (also `no_root_squash`, `root_squash`, "
			 "`all_squash`)");
		return;
	case KT_BOOL: snprintf(out, cap, "`true` or `false` (also yes/no, on/off, 1/0)"); return;
	}
	out[0] = '\0';
}

static void describe_default(const struct key_desc *k, const void *base, char *out, size_t cap)
{
	const uint8_t *field = (const uint8_t *)base + k->off;
	static const char *const access[] = { "RW", "RO", "None" };
	static const char *const squash[] = { "none", "root", "all" };

	if (k->default_doc || k->required) {
		snprintf(out, cap, "%s", k->required ? "" : k->default_doc);
		return;
	}
	switch (k->type) {
	case KT_UINT:
		snprintf(out, cap, "%llu", (unsigned long long)field_uint(field, k->size));
		return;
	case KT_SIZE:
		format_size(field_uint(field, k->size), out, cap);
		return;
	case KT_BOOL:
		snprintf(out, cap, "%s", *(const bool *)field ? "true" : "false");
		return;
	case KT_ACCESS:
		snprintf(out, cap, "%s", access[*(const enum conf_access *)field]);
		return;
	case KT_SQUASH:
		snprintf(out, cap, "%s", squash[*(const enum conf_squash *)field]);
		return;
	default:
		snprintf(out, cap, "%s", (const char *)field);
		return;
	}
}

void conf_changed_keys(const struct daxnfs_config *a, const struct daxnfs_config *b,
		       void (*fn)(const char *block, const char *key, void *ctx), void *ctx)
{
	for (unsigned i = 0; i < N_BLOCKS; i++) {
		if (blocks[i].is_export)
			continue;
		for (const struct key_desc *k = blocks[i].keys; k->name; k++) {
			const uint8_t *fa = (const uint8_t *)a + k->off, *fb = (const uint8_t *)b + k->off;
			bool differ;

			/* strings compare as strings: the bytes after the NUL are noise */
			if (k->type == KT_STR || k->type == KT_ADDR || k->type == KT_ABSPATH ||
			    k->type == KT_LEVEL || k->type == KT_DEST)
				differ = strcmp((const char *)fa, (const char *)fb) != 0;
			else
				differ = memcmp(fa, fb, k->size) != 0;
			if (differ)
				fn(blocks[i].name, k->name, ctx);
		}
	}
	if (a->metrics_on != b->metrics_on)
		fn("METRICS", "(the block itself)", ctx);
}

int conf_key_describe(unsigned i, struct conf_key_info *out)
{
	struct daxnfs_config *cfg;
	struct conf_export e;
	const struct key_desc *k = NULL;
	unsigned b;

	for (b = 0; b < N_BLOCKS; b++) {
		for (k = blocks[b].keys; k->name && i; k++)
			i--;
		if (k->name)
			break;   /* i reached 0 on this block's key k */
	}
	if (b == N_BLOCKS)
		return -ENOENT;
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	set_defaults(cfg);
	export_defaults(&e);
	memset(out, 0, sizeof(*out));
	out->block = blocks[b].name;
	out->name = k->name;
	out->doc = k->doc;
	out->unit = k->unit;
	out->required = k->required;
	describe_allowed(k, out->allowed, sizeof(out->allowed));
	describe_default(k, blocks[b].is_export ? (const void *)&e : (const void *)cfg, out->def,
			 sizeof(out->def));
	free(cfg);
	return 0;
}

static int check_whole(struct parser *ps, struct daxnfs_config *cfg, bool have_nfsv4)
{
	unsigned i, j;

	if (!have_nfsv4 || !cfg->recovery_dir[0])
		return fail(ps, 1, "key", "Recovery_Dir", "required (block NFSV4)");
	if (cfg->grace_period < cfg->lease_lifetime)
		return fail(ps, ps->nfsv4_line, "key", "Grace_Period",
			    "%u is shorter than Lease_Lifetime %u (clients need a whole lease to reclaim)",
			    cfg->grace_period, cfg->lease_lifetime);
	if (cfg->conn.max_partial_record_bytes < cfg->max_record_size)
		return fail(ps, ps->core_line ? ps->core_line : 1, "key", "Max_Partial_Record_Bytes",
			    "%llu is smaller than Max_Record_Size %u (a record of the largest "
			    "size could never be received)",
			    (unsigned long long)cfg->conn.max_partial_record_bytes,
			    cfg->max_record_size);
	if (cfg->n_exports == 0)
		return fail(ps, 1, "block", "EXPORT", "at least one EXPORT block is required");
	for (i = 0; i < cfg->n_exports; i++) {
		for (j = 0; j < i; j++) {
			if (cfg->exports[i].export_id == cfg->exports[j].export_id)
				return fail(ps, cfg->exports[i].src_line, "key", "Export_Id",
					    "%u already used by the export at line %u",
					    cfg->exports[i].export_id, cfg->exports[j].src_line);
			if (strcmp(cfg->exports[i].pseudo, cfg->exports[j].pseudo) == 0)
				return fail(ps, cfg->exports[i].src_line, "key", "Pseudo",
					    "'%s' already used by the export at line %u",
					    cfg->exports[i].pseudo, cfg->exports[j].src_line);
		}
	}
	return 0;
}

static int parse_text(struct parser *ps, struct daxnfs_config *cfg)
{
	bool have[N_BLOCKS] = { false };
	const struct block_desc *b;
	struct conf_export *e;
	char name[128];
	unsigned i, bline;
	void *base;
	int rc;

	for (;;) {
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt == TOK_EOF)
			break;
		if (ps->tt == TOK_SEMI)
			continue;
		if (ps->tt != TOK_WORD)
			return fail(ps, ps->tline, NULL, NULL, "expected a block name");
		snprintf(name, sizeof(name), "%.127s", ps->tok);
		bline = ps->tline;
		for (i = 0; i < N_BLOCKS; i++)
			if (strcasecmp(blocks[i].name, name) == 0)
				break;
		if (i == N_BLOCKS)
			return fail(ps, bline, "block", name,
				    "unknown (expected NFS_CORE_PARAM, NFSV4, LOG, METRICS or EXPORT)");
		b = &blocks[i];
		if (have[i] && !b->is_export)
			return fail(ps, bline, "block", b->name, "given twice");
		have[i] = true;
		if (i == 0)
			ps->core_line = bline;
		if (i == 1)
			ps->nfsv4_line = bline;
		if (strcmp(b->name, "METRICS") == 0)
			cfg->metrics_on = true;   /* the block alone turns them on */
		rc = next_token(ps);
		if (rc < 0)
			return rc;
		if (ps->tt != TOK_LBRACE)
			return fail(ps, bline, "block", b->name, "expected '{' after the block name");
		if (b->is_export) {
			if (cfg->n_exports == CONF_MAX_EXPORTS)
				return fail(ps, bline, "block", b->name, "more than %d exports",
					    CONF_MAX_EXPORTS);
			e = &cfg->exports[cfg->n_exports++];
			export_defaults(e);
			e->src_line = bline;
			base = e;
		} else {
			base = cfg;
		}
		rc = parse_block(ps, b, base, bline);
		if (rc < 0)
			return rc;
	}
	return check_whole(ps, cfg, have[1]);
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int rc = 0;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(CONF_MAX_FILE + 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (n > CONF_MAX_FILE) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %u bytes", path, CONF_MAX_FILE);
		goto out;
	}
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return rc;
}

int conf_load(const char *path, const char *base_dir, struct daxnfs_config *cfg,
	      char *err, size_t errlen)
{
	struct parser *ps = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	set_defaults(cfg);
	if (path) {
		rc = read_file(path, &text, &len, err, errlen);
		if (rc < 0)
			return rc;
		snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	} else {
		len = strlen(conf_default_text);
		snprintf(cfg->source, sizeof(cfg->source), "<embedded default>");
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		snprintf(err, errlen, "%s: out of memory", cfg->source);
		rc = -ENOMEM;
		goto out;
	}
	ps->src = cfg->source;
	ps->p = text ? text : conf_default_text;
	ps->end = ps->p + len;
	ps->line = 1;
	ps->base_dir = base_dir;
	ps->err = err;
	ps->errlen = errlen;
	rc = parse_text(ps, cfg);
out:
	free(ps);
	free(text);
	return rc;
}
