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

/* Handlers take their operation's decoded arguments and fill its results
 * (args->u.opX, res->u.opX, the arms of RFC 8881's nfs_argop4/nfs_resop4)
 * and return the status, which the loop stores in the result. */
typedef nfsstat4 (*nfs4_op_handler)(struct nfs4_compound *c, nfs_argop4 *args, nfs_resop4 *res);

enum nfs4_op_flags {
	OPF_NEEDS_CURFH      = 1u << 0,  /* NFS4ERR_NOFILEHANDLE without a current fh */
	OPF_SESSIONLESS      = 1u << 1,  /* may start a compound without SEQUENCE */
	OPF_SOLE_IF_FIRST    = 1u << 2,  /* when first, must be the only op (DESTROY_SESSION...) */
	OPF_MINOR_2          = 1u << 3,  /* exists from minor version 2 (RFC 7862) */
	OPF_IS_SEQUENCE      = 1u << 4,  /* SEQUENCE: first or NFS4ERR_SEQUENCE_POS */
};

struct nfs4_op_desc {
	const char *name;
	nfs4_op_handler handler;          /* NULL: NFS4ERR_NOTSUPP, arguments not decoded */
	uint32_t flags;                   /* enum nfs4_op_flags */
	uint32_t reply_estimate;          /* bytes, before payload, for REP_TOO_BIG checks */
	/* Bytes the result may carry beyond reply_estimate (READ's count,
	 * READDIR's maxcount), checked before the handler runs; NULL: none. */
	uint32_t (*payload_estimate)(const nfs_argop4 *args);
	/* After success: the stateid the result makes current (RFC 8881
	 * §16.2.3.1.2); NULL: the op leaves it alone. The current stateid is
	 * read in one place, nfs4_stid_lookup, for every stateid argument. */
	void (*set_current_stateid)(struct nfs4_compound *c, const nfs_resop4 *res);
};

/* The table, indexed by nfs_opnum4 (OP_ACCESS .. OP_REMOVEXATTR); NULL name = no such op. */
extern const struct nfs4_op_desc nfs4_op_table[];
extern const unsigned nfs4_op_table_len;
/* Encodes one result (res->resop and its arm); READ's data may be a tail
 * (nfs4_ops.c). */
bool nfs4_op_result_encode(struct xdr_stream *x, const nfs_resop4 *res);

/* Registers program 100003 version 4 with the RPC layer: its COMPOUNDs run
 * on srv (c->srv), and srv->metrics (NULL: none) gets every operation's
 * status, latency and payload bytes. */
int nfs4_program_register(struct nfs4_server *srv);

/* Current-fh helpers (server/nfs4_fh.c). */
void nfs4_fh_clear(struct nfs4_fh *fh);
void nfs4_fh_copy(struct nfs4_fh *dst, const struct nfs4_fh *src);   /* takes refs */

#endif
