/*
 * server/nfs4_compound.h: the COMPOUND procedure's context and the one
 * operation table.
 *
 * Job: nfs4_compound.c runs the loop: decode one operation's arguments, check
 * the table's flags (order rules live here, not in handlers), call the handler,
 * encode its result, stop at the first error. Handlers live in the file of
 * their concern and see only struct nfs4_compound.
 * Calls: rpc/, pmem/ (through handlers). Called by: the RPC layer (program
 * 100003 version 4 dispatch).
 */
#ifndef DAXNFS_SERVER_NFS4_COMPOUND_H
#define DAXNFS_SERVER_NFS4_COMPOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "pmem/backend.h"
#include "rpc/nfs4_xdr_gen.h"
#include "rpc/rpc.h"

struct nfs4_export;
struct nfs4_pseudo_node;
struct nfs4_session;
struct nfs4_slot;
struct nfs4_client;
struct nfs4_server;

/* A current or saved filehandle: a pseudo-fs node, or an object in an export. */
struct nfs4_fh {
	struct nfs4_pseudo_node *pseudo;   /* non-NULL: in the pseudo file system */
	struct nfs4_export *exp;           /* non-NULL: in this export (obj set) */
	struct pmem_obj *obj;              /* referenced; released by nfs4_fh_clear */
	uint32_t len;                      /* the wire handle */
	uint8_t data[NFS4_FHSIZE];
};

struct nfs4_compound {
	struct nfs4_server *srv;           /* the server it runs on */
	struct rpc_request *req;
	struct arena *arena;               /* == &req->arena */
	uint32_t minorversion;
	struct pmem_cred cred;             /* the caller after the export's squash rules */
	/* Set by SEQUENCE (or by CREATE_SESSION/EXCHANGE_ID for their own use). */
	struct nfs4_session *session;      /* referenced for the compound's life */
	struct nfs4_slot *slot;
	struct nfs4_client *client;
	struct nfs4_fh cur, saved;
	stateid4 cur_stateid, saved_stateid;
	bool cur_stateid_valid, saved_stateid_valid;
	uint32_t opindex, numops;          /* the operation being executed */
	uint32_t resp_limit;               /* ca_maxresponsesize of the session, or the record limit */
	bool cachethis;                    /* sa_cachethis of this compound */
};

/* Handlers return the operation's status; the loop stores it into the first
 * member of res (every NFSv4 result type begins with its nfsstat4). */
typedef nfsstat4 (*nfs4_op_handler)(struct nfs4_compound *c, void *args, void *res);

enum nfs4_op_flags {
	OPF_NEEDS_CURFH      = 1u << 0,  /* NFS4ERR_NOFILEHANDLE without a current fh */
	OPF_SESSIONLESS      = 1u << 1,  /* may start a compound without SEQUENCE */
	OPF_SOLE_IF_FIRST    = 1u << 2,  /* when first, must be the only op (DESTROY_SESSION...) */
	OPF_CLEARS_CURFH     = 1u << 3,  /* a failure leaves no current fh */
	OPF_NO_PSEUDO        = 1u << 4,  /* not allowed on a pseudo-fs node (NFS4ERR_ROFS/INVAL per op) */
	OPF_MINOR_1          = 1u << 5,  /* exists from minor version 1 */
	OPF_MINOR_2          = 1u << 6,  /* exists from minor version 2 */
	OPF_MODIFIES_STATE   = 1u << 7,
	OPF_IS_SEQUENCE      = 1u << 8,
};

struct nfs4_op_desc {
	const char *name;
	size_t args_size, res_size;
	bool (*dec_args)(struct xdr_stream *x, void *args);        /* NULL: void args */
	bool (*enc_res)(struct xdr_stream *x, const void *res);
	nfs4_op_handler handler;          /* NULL: NFS4ERR_NOTSUPP */
	uint32_t flags;                   /* enum nfs4_op_flags */
	uint32_t reply_estimate;          /* bytes, before payload, for REP_TOO_BIG checks */
};

/* The table, indexed by nfs_opnum4 (OP_ACCESS .. OP_CLONE); NULL name = no such op. */
extern const struct nfs4_op_desc nfs4_op_table[];
extern const unsigned nfs4_op_table_len;
/* OP_ILLEGAL and unknown operation numbers. */
extern const struct nfs4_op_desc nfs4_op_illegal_desc;

/* Registers program 100003 version 4 with the RPC layer: its COMPOUNDs run
 * on srv (c->srv), and srv->metrics (NULL: none) gets every operation's
 * status, latency and payload bytes. */
int nfs4_program_register(struct nfs4_server *srv);

/* Current-fh helpers (server/nfs4_fh.c). */
void nfs4_fh_clear(struct nfs4_fh *fh);
void nfs4_fh_copy(struct nfs4_fh *dst, const struct nfs4_fh *src);   /* takes refs */

#endif
