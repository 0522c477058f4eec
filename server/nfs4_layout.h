/*
 * server/nfs4_layout.h: pNFS on the server side (RFC 8881 §12, §18.40-18.44):
 * the layout stateid and the layout operations' handlers, over layout/
 * (decision 0008).
 *
 * Shape (all under nfs4_state_lock()):
 *   client --stids--> nfs4_layout --fp--> nfs4_file --layout_state--> layout_file
 *   nfs4_layout embeds the layout/ holder (its segments, its recall state);
 * one layout stateid per (client, file, layout type), seqid 1 when made and
 * one more for every LAYOUTGET and LAYOUTRETURN (§12.5.3). The data server
 * role (daxnfsd serves the layouts' I/O itself) accepts a layout stateid on
 * READ and WRITE, with the access its segments give (nfs4_io.c).
 * Calls: layout/, nfs4_state.h, nfs4_file.h. Called by: the op table
 * (nfs4_ops.c), nfs4_server.c (start), nfs4_io.c, nfs4_attr.c,
 * nfs4_session.c (EXCHANGE_ID's flags).
 */
#ifndef DAXNFS_SERVER_NFS4_LAYOUT_H
#define DAXNFS_SERVER_NFS4_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "layout/layout.h"
#include "layout/layout_flexfiles.h"
#include "server/nfs4_file.h"
#include "server/nfs4_state.h"

/* One client's layouts of one type on one file. */
struct nfs4_layout {
	struct nfs4_stid stid;           /* first */
	struct nfs4_file *fp;            /* referenced */
	uint64_t fsid_major, fsid_minor; /* the file's, for LAYOUTRETURN of an FSID */
	struct layout_holder holder;     /* layout/: segments, recall state */
	uint32_t access;                 /* [clp] NFS4_SHARE_* its segments allow */
};

/* A server's pNFS: off unless Enable_pNFS. */
struct nfs4_pnfs {
	bool enabled;
	uint16_t tcp_port;               /* where the data server listens (NFS_Port) */
	uint16_t rdma_port;              /* 0 without Enable_RDMA */
	struct layout_domain domain;
	struct layout_ff ff;
	/* What clients did with layouts, logged at exit (nfs4_pnfs_log). */
	atomic_uint_fast64_t layoutgets, layoutreturns;
	atomic_uint_fast64_t ds_reads, ds_writes;   /* I/O with a layout stateid */
};

struct nfs4_server;
struct daxnfs_config;

/* Sets srv's pNFS up from the configuration (Enable_pNFS, NFS_Port,
 * Enable_RDMA, NFS_RDMA_Port, Recall_Timeout). 0 or -errno (logged). */
int nfs4_pnfs_init(struct nfs4_server *srv, const struct daxnfs_config *cfg);

/* Logs what the counters say (at exit). */
void nfs4_pnfs_log(struct nfs4_server *srv);

/* A READ (write false) or WRITE with a layout stateid passed its check. */
static inline void nfs4_pnfs_count_ds_io(struct nfs4_pnfs *p, bool write)
{
	atomic_fetch_add_explicit(write ? &p->ds_writes : &p->ds_reads, 1, memory_order_relaxed);
}

/* The share access a layout stateid gives its holder on the data server
 * (NFS4_SHARE_READ, | NFS4_SHARE_WRITE for an RW segment); clp->lock held. */
/* clp's opens or delegation of fp changed (CLOSE, OPEN_DOWNGRADE,
 * DELEGRETURN): with neither left its layouts on fp go (knfsd counts both
 * the same way), without write access their RW segments. A client that
 * returns on close (logr_return_on_close) finds nothing left to do; one that
 * does not cannot keep writing through the data server. State lock held. */
void nfs4_layout_opens_changed(struct nfs4_file *fp, struct nfs4_client *clp);

static inline uint32_t nfs4_layout_access(const struct nfs4_stid *stid)
{
	return ((const struct nfs4_layout *)stid)->access;
}

static inline struct nfs4_file *nfs4_layout_file(const struct nfs4_stid *stid)
{
	return ((const struct nfs4_layout *)stid)->fp;
}

#endif
