/*
 * server/nfs4_layout.h: pNFS on the server side (RFC 8881 §12, §18.40-18.44):
 * the layout stateid, the layout operations' handlers, the lease behind a
 * file's layouts and CB_LAYOUTRECALL, over layout/ (decision 0008).
 *
 * Shape (all under nfs4_state_lock()):
 *   client --stids--> nfs4_layout --fp--> nfs4_file --layout_state--> nfs4_layout_file
 *   nfs4_layout embeds the layout/ holder (its segments, its recall state)
 * and the CB_LAYOUTRECALL that recalls it; nfs4_layout_file embeds layout/'s
 * per-file record. One layout stateid per (client, file, layout type),
 * seqid 1 when made and one more for every LAYOUTGET and LAYOUTRETURN
 * (§12.5.3). The data server role (daxnfsd serves the layouts' I/O itself)
 * accepts a layout stateid on READ and WRITE, with the access its segments
 * give (nfs4_io.c). layout/ reports through the up-calls of nfs4_layout.c
 * (send a recall, a holder revoked, a file's recall complete).
 * Calls: layout/, nfs4_state.h, nfs4_file.h, nfs4_file_lease.h,
 * nfs4_callback.h. Called by: the op table (nfs4_ops.c), nfs4_server.c
 * (start), nfs4_io.c and nfs4_getattr.c (writes through the server),
 * nfs4_attr.c, nfs4_session.c (EXCHANGE_ID's flags), nfs4_file_lease.c
 * (lease events), nfs4_open*.c and nfs4_deleg.c (opens changed).
 */
#ifndef DAXNFS_SERVER_NFS4_LAYOUT_H
#define DAXNFS_SERVER_NFS4_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "layout/layout.h"
#include "layout/layout_flexfiles.h"
#include "server/nfs4_callback.h"
#include "server/nfs4_file.h"
#include "server/nfs4_state.h"

/* One client's layouts of one type on one file. The CB_LAYOUTRECALL that
 * asks for them back lives here too (decision 0004: the callback is part of
 * the state it recalls); the record outlives its stateid while the engine
 * still holds that callback (stid_gone). */
struct nfs4_layout {
	struct nfs4_stid stid;           /* first */
	struct nfs4_file *fp;            /* referenced */
	uint64_t fsid_major, fsid_minor; /* the file's, for LAYOUTRETURN of an FSID */
	struct layout_holder holder;     /* layout/: segments, recall state */
	uint32_t access;                 /* [clp] NFS4_SHARE_* its segments allow */
	struct nfs4_cb recall;           /* CB_LAYOUTRECALL of holder.recall */
	bool recall_changed;             /* clora_changed of that recall */
	/* Each recall of this holder (or a wider one) counts in recall_seq;
	 * recall_sent is the count the last CB_LAYOUTRECALL carried: a
	 * callback still in the engine from an earlier recall goes again. */
	unsigned recall_seq, recall_sent;
	stateid4 recall_sid;             /* the stateid as the last recall moved it on */
	bool stid_gone;                  /* the stateid went; free when the callback does */
	uint32_t fh_len;                 /* the file's handle, for CB_LAYOUTRECALL */
	uint8_t fh[NFS4_FHSIZE];
};

/* A file's layouts: layout/'s record, and the file it belongs to (the
 * up-calls name the record; server/ finds the file from it). Hangs off
 * nfs4_file.layout_state while the file has a layout stateid. */
struct nfs4_layout_file {
	struct layout_file lf;
	struct nfs4_file *fp;            /* not referenced: each holder's stateid is */
	int64_t recall_start_ms;         /* when the running recall began */
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
	atomic_uint_fast64_t layout_errors, layoutstats;  /* LAYOUTERROR errors, LAYOUTSTATS */
	/* Files with layouts (read without the state lock by the I/O path,
	 * which looks further only when it is not 0). */
	atomic_uint files_with_layouts;
	/* Recalls (state lock): started, holders asked, holders that
	 * returned, completed, and the slowest completion. */
	uint64_t recalls, recalled_holders, recall_returns, recalls_completed;
	int64_t recall_max_ms;
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

/* The lease fp's layouts need: PMEM_LEASE_WRITE while a holder has an RW
 * segment, PMEM_LEASE_READ while one has a READ segment, else 0 (a revoked
 * or emptied holder needs none). State lock held. */
enum pmem_lease_kind nfs4_layout_lease_need(const struct nfs4_file *fp);

/* fp's lease is breaking (a local truncate, reflink or open), to be given
 * back by break_deadline_ms: every holder is recalled, to return by
 * min(Recall_Timeout, break_deadline − Revoke_Margin). Returns how many
 * holders are outstanding (0: the layouts do not hold the lease up).
 * State lock held. */
unsigned nfs4_layout_lease_breaking(struct nfs4_file *fp, int64_t break_deadline_ms);

/* Every layout on fp is revoked now (the kernel took the lease, an
 * administrator asked): why is logged. State lock held. */
void nfs4_layout_revoke_file(struct nfs4_file *fp, const char *why);

/* daxnfsctl's recall and revoke of fp's layouts, of every holder or
 * (clp not NULL) of one client's. How many holders were asked now (one
 * recalled already over the range is not asked again) or revoked. State
 * lock held. */
unsigned nfs4_layout_admin_recall(struct nfs4_server *srv, struct nfs4_file *fp,
				  struct nfs4_client *clp);
unsigned nfs4_layout_admin_revoke(struct nfs4_server *srv, struct nfs4_file *fp,
				  struct nfs4_client *clp);

/* A WRITE (or a size change) through this server on obj, by clp: a file
 * whose layouts hold only a read lease needs a write lease first; when a
 * local open forbids that, its READ layouts are recalled and the answer is
 * NFS4ERR_DELAY until they are back. NFS4_OK otherwise. Takes the state
 * lock; cheap when no file has a layout. */
nfsstat4 nfs4_layout_write_conflict(struct nfs4_server *srv, struct pmem_obj *obj);

static inline uint32_t nfs4_layout_access(const struct nfs4_stid *stid)
{
	return ((const struct nfs4_layout *)stid)->access;
}

static inline struct nfs4_file *nfs4_layout_file(const struct nfs4_stid *stid)
{
	return ((const struct nfs4_layout *)stid)->fp;
}

#endif
