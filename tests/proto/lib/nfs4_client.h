/*
 * tests/proto/lib/nfs4_client.h: a small NFSv4.1 client for protocol tests.
 *
 * Job: speak NFSv4.1 to a real daxnfsd over one TCP connection using the
 * generated codecs: EXCHANGE_ID + CREATE_SESSION (optionally with a
 * backchannel on the same connection), a compound builder that prepends
 * SEQUENCE and manages the slot's sequence id, decoded results, helpers for
 * the common sequences, and raw access (own slot/seqid, own bytes) for tests
 * that craft bad input. The backchannel side answers CB_NULL and
 * CB_COMPOUND{CB_SEQUENCE, ...} while the client waits for a reply (or in
 * nfs4_cl_poll), counts them, and can refuse them.
 *
 * Typical use:
 *   struct nfs4_cl *cl;
 *   assert_int_equal(nfs4_cl_open_session(&cl, "127.0.0.1", port, "owner-a", 0), 0);
 *   struct nfs4_cl_compound cp;
 *   nfs4_cl_compound_init(&cp, cl);
 *   nfs4_cl_add_path(&cp, "dir/file");
 *   nfs4_cl_add_getattr(&cp, 1u << FATTR4_TYPE, 0);
 *   assert_int_equal(nfs4_cl_send(&cp), 0);
 *   assert_int_equal(cp.status, NFS4_OK);
 *   nfs_resop4 *r = nfs4_cl_res(&cp, OP_GETATTR);
 *   nfs4_cl_compound_free(&cp);
 *   nfs4_cl_close(cl, true);
 *
 * One thread per client; nothing here is thread-safe.
 * Calls: proto_rpc, the generated codecs. Called by: tests/proto/test_*.c.
 */
#ifndef DAXNFS_TESTS_NFS4_CLIENT_H
#define DAXNFS_TESTS_NFS4_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/arena.h"
#include "rpc/nfs4_xdr_gen.h"
#include "tests/proto/lib/proto_rpc.h"

#define NFS4_CL_PROGRAM 100003u
#define NFS4_CL_CB_PROGRAM 0x40000000u   /* csa_cb_program we ask for */
#define NFS4_CL_MAX_OPS 64
#define NFS4_CL_MAX_SLOTS 64

/* nfs4_cl_open_session flags */
enum {
	NFS4_CL_BACKCHANNEL = 1u << 0,   /* CREATE_SESSION4_FLAG_CONN_BACK_CHAN */
	NFS4_CL_NO_SESSION  = 1u << 1,   /* EXCHANGE_ID only */
};

/* How the client treats the server's backchannel calls. */
enum nfs4_cl_cb_mode {
	NFS4_CL_CB_ANSWER = 0,   /* answer CB_NULL and CB_COMPOUND */
	NFS4_CL_CB_IGNORE,       /* read and drop them: the server times out */
	NFS4_CL_CB_REJECT,       /* answer with RPC PROG_UNAVAIL */
};

struct nfs4_cl;

/*
 * Optional hook for callback operations other than CB_SEQUENCE: fill *res
 * (resop already set to argop) and return its status; memory from arena.
 * Without a hook such operations answer NFS4ERR_NOTSUPP.
 */
typedef nfsstat4 (*nfs4_cl_cb_op_fn)(struct nfs4_cl *cl, const nfs_cb_argop4 *op,
				     nfs_cb_resop4 *res, struct arena *arena, void *ctx);

struct nfs4_cl {
	struct proto_conn conn;
	struct rpc_cred cred;             /* AUTH_SYS uid/gid used for every call */
	uint32_t minorversion;            /* 1 by default */
	char owner[128];                  /* co_ownerid */
	verifier4 verifier;               /* co_verifier */
	/* EXCHANGE_ID results */
	clientid4 clientid;
	sequenceid4 create_seq;           /* next csa_sequence */
	uint32_t eir_flags;
	uint32_t eia_flags;               /* sent in EXCHANGE_ID (default 0) */
	/* CREATE_SESSION arguments (defaults set by nfs4_cl_connect; tests may change) */
	channel_attrs4 want_fore, want_back;
	uint32_t cb_program;
	uint32_t csa_flags_extra;         /* ORed into csa_flags (default 0) */
	const callback_sec_parms4 *cb_sec;   /* csa_sec_parms; NULL = one AUTH_NONE */
	uint32_t n_cb_sec;
	/* CREATE_SESSION results */
	bool have_session;
	sessionid4 sessionid;
	channel_attrs4 fore, back;        /* as the server answered */
	uint32_t nslots;
	sequenceid4 slot_seq[NFS4_CL_MAX_SLOTS];   /* last seqid used per slot */
	/* the last SEQUENCE result */
	uint32_t last_status_flags;
	slotid4 last_highest_slotid, last_target_highest_slotid;
	/* backchannel */
	enum nfs4_cl_cb_mode cb_mode;
	unsigned cb_null_count, cb_compound_count, cb_sequence_count, cb_other_count;
	sessionid4 cb_last_sessionid;
	sequenceid4 cb_last_seq;
	uint32_t cb_last_ops[8];          /* op numbers of the last CB_COMPOUND */
	uint32_t cb_last_nops;
	/* the RPC-level outcome of the last compound (for diagnostics) */
	uint32_t last_reply_stat, last_accept_stat;
	int last_rpc_rc;                  /* the last call's transport result (-errno) */
	nfs4_cl_cb_op_fn cb_op;
	void *cb_op_ctx;
	/* The back channel slot 0 as a Linux client keeps it: a CB_SEQUENCE
	 * with the next sequence id is new, the same id again is answered
	 * RETRY_UNCACHED_REP, any other SEQ_MISORDERED; a CB_COMPOUND of
	 * another minor version than the session's is answered BADSESSION
	 * (the Linux client finds the session by id and minor version). */
	sequenceid4 cb_slot_seq;          /* last sequence id executed on slot 0 */
	uint32_t cb_last_minorversion;    /* of the last CB_COMPOUND */
	/* Answers for the next CB_SEQUENCEs, one each in turn (then normal),
	 * and an answer for all of them (0 = normal). An error answer leaves
	 * the slot unused, as RFC 8881 §2.10.6.1 says. */
	nfsstat4 cb_seq_script[8];
	unsigned cb_seq_script_len, cb_seq_script_pos;
	nfsstat4 cb_seq_force;
	/* Lost messages: the next cb_drop_calls CB_COMPOUNDs are read and
	 * dropped unexecuted; the next cb_drop_replies are executed but their
	 * replies never sent. */
	unsigned cb_drop_calls, cb_drop_replies;
	/* every csa_sequenceid received, in order (the first 64) */
	sequenceid4 cb_seqs[64];
	unsigned cb_nseqs;
};

/* ---- clients, sessions ---- */
/* Connects, with uid 0 / gid 0 AUTH_SYS and minor version 1. 0 or -errno. */
int nfs4_cl_connect(struct nfs4_cl **out, const char *host, uint16_t port);
/* EXCHANGE_ID with cl->owner/cl->verifier (set them first or use
 * nfs4_cl_set_owner). Returns the status; on OK fills clientid, create_seq. */
nfsstat4 nfs4_cl_exchange_id(struct nfs4_cl *cl);
/* CREATE_SESSION; back = ask for the backchannel on this connection. */
nfsstat4 nfs4_cl_create_session(struct nfs4_cl *cl, bool back);
/* Full setup: connect + owner + EXCHANGE_ID + CREATE_SESSION (see flags).
 * Returns 0, -errno (connection), or a positive nfsstat4 on a protocol error. */
int nfs4_cl_open_session(struct nfs4_cl **out, const char *host, uint16_t port,
			 const char *owner, uint32_t flags);
/* A client of minor version minor whose session has a working back
 * channel: EXCHANGE_ID, CREATE_SESSION with the back channel on this
 * connection, RECLAIM_COMPLETE, the server's probe answered (CB_SEQUENCE)
 * and a few SEQUENCEs for the server to take the path as up; callback
 * operations go to cb_op with ctx. 0, or -errno. */
int nfs4_cl_open_session_cb(struct nfs4_cl **out, const char *host, uint16_t port,
			    const char *owner, uint32_t minor, nfs4_cl_cb_op_fn cb_op, void *ctx);
/* co_ownerid = owner, co_verifier derived from verf. */
void nfs4_cl_set_owner(struct nfs4_cl *cl, const char *owner, uint64_t verf);
nfsstat4 nfs4_cl_destroy_session(struct nfs4_cl *cl);
nfsstat4 nfs4_cl_destroy_clientid(struct nfs4_cl *cl);
nfsstat4 nfs4_cl_reclaim_complete(struct nfs4_cl *cl);
/* BIND_CONN_TO_SESSION of cl's connection to its own session, direction dir
 * (CDFC4_*), as a Linux client does on SEQ4_STATUS_CB_PATH_DOWN. */
nfsstat4 nfs4_cl_bind_conn(struct nfs4_cl *cl, channel_dir_from_client4 dir);
/* A SEQUENCE-only compound (lease renewal; updates last_status_flags). */
nfsstat4 nfs4_cl_sequence(struct nfs4_cl *cl);
/* With tidy: DESTROY_SESSION + DESTROY_CLIENTID first (errors ignored). */
void nfs4_cl_close(struct nfs4_cl *cl, bool tidy);
/* Reads backchannel calls for up to ms milliseconds (or until one arrives
 * when until_one). Returns how many calls were handled, or -errno. */
int nfs4_cl_poll(struct nfs4_cl *cl, int ms, bool until_one);

/* ---- compounds ---- */
struct nfs4_cl_compound {
	struct nfs4_cl *cl;
	struct arena arena;               /* args built here, results decoded here */
	char tag[64];
	uint32_t minorversion;            /* from cl; may be changed */
	nfs_argop4 ops[NFS4_CL_MAX_OPS];
	uint32_t nops;
	/* SEQUENCE control */
	bool no_sequence;                 /* send ops as they are (no SEQUENCE prepended) */
	bool cachethis;
	slotid4 slot;                     /* default 0 */
	bool seq_override;                /* use seqid below instead of slot_seq+1 */
	sequenceid4 seqid;
	bool keep_seq;                    /* do not advance the slot on success */
	/* results of nfs4_cl_send */
	int rpc_status;                   /* 0 or -errno */
	uint32_t accept_stat;
	nfsstat4 status;
	struct xdr_opaque res_tag;        /* the tag the server echoed */
	uint32_t nres;
	nfs_resop4 *res;
	struct proto_reply reply;         /* the raw reply (body = COMPOUND4res bytes) */
	bool have_reply;
	/* pipelining (nfs4_cl_start / nfs4_cl_finish_any) */
	uint32_t xid;
	bool in_flight, sent_sequence;
};

void nfs4_cl_compound_init(struct nfs4_cl_compound *cp, struct nfs4_cl *cl);
void nfs4_cl_compound_free(struct nfs4_cl_compound *cp);
/* Several compounds in flight on one connection (each on its own slot,
 * cp->slot): nfs4_cl_start sends bytes from nfs4_cl_encode without waiting;
 * nfs4_cl_finish_any reads the next reply, decodes it into whichever of
 * cps[0..n) (those in flight) it answers and returns that one's index, or
 * -errno (-EPROTO for a reply to none of them). */
int nfs4_cl_start(struct nfs4_cl_compound *cp, const void *args, size_t len);
int nfs4_cl_finish_any(struct nfs4_cl_compound *const *cps, int n);
/* Appends an op (zeroed args, argop set); NULL past NFS4_CL_MAX_OPS. */
nfs_argop4 *nfs4_cl_add(struct nfs4_cl_compound *cp, nfs_opnum4 op);
/* Encodes COMPOUND4args (SEQUENCE prepended unless no_sequence) into buf.
 * Returns the length or -ENOSPC. Sets cp->seqid to the seqid used. */
int nfs4_cl_encode(struct nfs4_cl_compound *cp, uint8_t *buf, size_t cap);
/* Encodes, sends, waits, decodes. Returns 0 when a reply was decoded
 * (status/res filled; RPC-level errors leave accept_stat != 0), else -errno. */
int nfs4_cl_send(struct nfs4_cl_compound *cp);
/* Sends args_len bytes of arguments as a COMPOUND call and decodes the reply.
 * When the reply starts with a successful SEQUENCE (and !no_sequence), slot
 * cp->slot advances to cp->seqid, as for bytes made by nfs4_cl_encode. */
int nfs4_cl_send_raw(struct nfs4_cl_compound *cp, const void *args, size_t args_len);
/* The first result of op number op, or NULL. */
nfs_resop4 *nfs4_cl_res(struct nfs4_cl_compound *cp, nfs_opnum4 op);
/* The status of the last result (the op that failed, or the last op). */
nfsstat4 nfs4_cl_last_status(const struct nfs4_cl_compound *cp);
/* Op number of the last result (or 0). */
uint32_t nfs4_cl_last_op(const struct nfs4_cl_compound *cp);

/* ---- common sequences ---- */
/* PUTROOTFH then LOOKUP of each component of path ("" or "/" = root only). */
void nfs4_cl_add_path(struct nfs4_cl_compound *cp, const char *path);
/* GETATTR with a two-word bitmap. */
void nfs4_cl_add_getattr(struct nfs4_cl_compound *cp, uint32_t w0, uint32_t w1);
/* OPEN of name in the current directory; create uses UNCHECKED4 mode 0644. */
void nfs4_cl_add_open(struct nfs4_cl_compound *cp, const char *name, bool create,
		      uint32_t share_access, uint32_t share_deny);
/* OPEN with CLAIM_PREVIOUS on the current fh (reclaim). */
void nfs4_cl_add_open_reclaim(struct nfs4_cl_compound *cp, uint32_t share_access);
void nfs4_cl_add_close(struct nfs4_cl_compound *cp, const stateid4 *sid);
void nfs4_cl_add_read(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		      uint32_t count);
void nfs4_cl_add_write(struct nfs4_cl_compound *cp, const stateid4 *sid, uint64_t off,
		       const void *data, uint32_t len, stable_how4 how);

/*
 * One-shot helpers: run a whole compound; return the compound's status (or
 * NFS4ERR_SERVERFAULT-like 10006 when no reply came).
 * nfs4_cl_open_file: path "dir/name" opened (created when create), returns
 * the open stateid and the file handle (fh->val malloc'd; free with free()).
 */
nfsstat4 nfs4_cl_open_file(struct nfs4_cl *cl, const char *path, bool create,
			   uint32_t share_access, uint32_t share_deny,
			   stateid4 *sid, nfs_fh4 *fh);
nfsstat4 nfs4_cl_close_file(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid);
/* PUTFH fh + DELEGRETURN sid. */
nfsstat4 nfs4_cl_delegreturn(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid);

/* The open owner every helper uses (distinct per client). */
extern const char nfs4_cl_open_owner[];

#endif
