/*
 * layout/layout.h: pNFS layouts below the NFSv4 server: the layout-type
 * table, the segments a holder has on a file, and the recall timeline of a
 * file (RFC 8881 §12.5.5, the safety invariant of ARCHITECTURE.md).
 *
 * Job: know who holds which byte ranges of a file in which iomode, decide
 * whether a new layout conflicts with a recall in progress, run a file's
 * recall (mark it, recall every holder whose segments meet the range, give
 * the deadline min(now + Recall_Timeout, lease break − Revoke_Margin),
 * revoke whoever has not returned by then) and say when the file is free
 * again. Nothing here sends, locks or frees what server/ owns: every effect
 * above this layer goes through the up-call table server/ hands to
 * layout_domain_init (decision 0008: send a recall, a holder was revoked, a
 * file's recall is complete). A holder is embedded by server/ in its layout
 * stateid beside the stateid's CB_LAYOUTRECALL (the callback lives in the
 * state it recalls); the per-file record hangs off nfs4_file.layout_state.
 * The caller serialises: every function runs under the lock of the file it
 * is given (decision 0007's fp->lock; the state lock until then).
 * Calls: the layout types' ops, the up-calls, libc. Called by: server/
 * (the layout operations' handlers, lease events, the recall deadline).
 */
#ifndef DAXNFS_LAYOUT_LAYOUT_H
#define DAXNFS_LAYOUT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "rpc/arena.h"
#include "rpc/nfs4_xdr_gen.h"

struct pmem_obj;
struct layout_holder;
struct layout_file;

/* ---- ranges and segments (layout_range.c) ---- */

/* A byte range [start, end); end LAYOUT_END is "to the end of the file"
 * (a wire length of NFS4_UINT64_MAX, RFC 8881 §12.2.10). */
#define LAYOUT_END UINT64_MAX
struct layout_range {
	uint64_t start, end;
};

/* A range held in one iomode (LAYOUTIOMODE4_READ or _RW). */
struct layout_seg {
	struct layout_range range;
	layoutiomode4 iomode;
};

/* A holder's segments on one file: sorted by start, no two of the same
 * iomode overlap or touch (they are merged). Bounded: a client cannot grow
 * it past LAYOUT_SEGS_MAX by asking for or returning many small pieces. */
#define LAYOUT_SEGS_MAX 64u
struct layout_seg_set {
	struct layout_seg *segs;
	unsigned count, cap;
};

/* The range of a wire (offset, length): NFS4ERR_INVAL for a zero length or
 * one that runs past 2^64 − 1 without being NFS4_UINT64_MAX (§18.43.3),
 * else NFS4_OK with *out filled. */
nfsstat4 layout_range_from_wire(uint64_t offset, uint64_t length, struct layout_range *out);
/* The wire length of r (NFS4_UINT64_MAX when r runs to the end). */
uint64_t layout_range_wire_length(const struct layout_range *r);
bool layout_range_overlaps(const struct layout_range *a, const struct layout_range *b);

/* Adds seg, merging it with the same iomode's segments it meets. 0,
 * -ENOSPC when the set would pass LAYOUT_SEGS_MAX, -ENOMEM. */
int layout_seg_set_add(struct layout_seg_set *set, const struct layout_seg *seg);
/* Takes range out of the segments of iomode (LAYOUTIOMODE4_ANY: of both).
 * A return that would split a segment of a full set keeps that segment
 * whole: the server then believes the holder has more than it has, which
 * costs a recall that finds nothing, never a layout it forgot. Returns
 * how many bytes of segments went (LAYOUT_END when unbounded ones did). */
uint64_t layout_seg_set_remove(struct layout_seg_set *set, const struct layout_range *range,
			       layoutiomode4 iomode);
/* Whether a segment of iomode (ANY: either) meets range. */
bool layout_seg_set_overlaps(const struct layout_seg_set *set, const struct layout_range *range,
			     layoutiomode4 iomode);
void layout_seg_set_clear(struct layout_seg_set *set);
void layout_seg_set_free(struct layout_seg_set *set);

/* ---- the layout-type table (layout_domain.c) ---- */

/* What LAYOUTGET hands a type about the file and the layout stateid. */
struct layout_get_args {
	struct pmem_obj *obj;
	const uint8_t *fh;              /* the file's handle (for the data server) */
	uint32_t fh_len;
	stateid4 stateid;               /* the layout stateid the holder will use */
	uint32_t owner_uid, owner_gid;  /* the file's owner */
};

/* A data server address as GETDEVICEINFO hands it out (RFC 5665: netid
 * "tcp", "tcp6", "rdma", "rdma6"; a universal address). */
#define LAYOUT_NETID_MAX 8u
#define LAYOUT_UADDR_MAX 64u
struct layout_netaddr {
	char netid[LAYOUT_NETID_MAX];
	char uaddr[LAYOUT_UADDR_MAX];
};
#define LAYOUT_NETADDRS_MAX 4u

/* What GETDEVICEINFO hands a type: the addresses at which this server
 * serves data, as the client that asks reaches it (the local address of
 * its connection, per transport; the first is the transport it came on),
 * and the minor version of the asking session. */
struct layout_devinfo_args {
	struct layout_netaddr addrs[LAYOUT_NETADDRS_MAX];
	unsigned naddrs;
	uint32_t minorversion;
};

/* One layout type (flex files now, the direct RDMA layout later). Every op
 * runs under the file's lock; bodies are built in the request's arena.
 *  layoutget      the loc_body of a layout over *seg, which the type may
 *                 widen (flex files hands out the whole file) or shrink:
 *                 NFS4_OK, or the status LAYOUTGET answers
 *                 (LAYOUTUNAVAILABLE, LAYOUTTRYLATER...)
 *  getdeviceinfo  the da_addr_body of a device id, reached at a->addrs:
 *                 NFS4_OK, NFS4ERR_NOENT for an id this type never gave
 *                 out (server/ holds it against gdia_maxcount)
 *  layoutreturn   the type's part of LAYOUTRETURN's lrf_body (flex files:
 *                 error and statistics reports); NFS4_OK or NFS4ERR_BADXDR
 *  fence          h lost its layout (revoked, or its client went away):
 *                 tear down whatever lets it reach the file without the
 *                 server (registrations, rkeys)
 * A NULL op is one the type does not need (fence for a type whose I/O all
 * passes through the server's own stateid checks, as flex files' does). */
struct layout_type_ops {
	layouttype4 type;
	const char *name;
	nfsstat4 (*layoutget)(void *type_ctx, const struct layout_get_args *a,
			      struct layout_seg *seg, struct arena *arena, void **body,
			      uint32_t *body_len);
	nfsstat4 (*getdeviceinfo)(void *type_ctx, const deviceid4 devid,
				  const struct layout_devinfo_args *a, struct arena *arena,
				  void **body, uint32_t *body_len);
	nfsstat4 (*layoutreturn)(void *type_ctx, struct layout_holder *h,
				 const struct layout_range *range, const void *body,
				 uint32_t body_len, struct arena *arena);
	void (*fence)(void *type_ctx, struct layout_holder *h);
};

/* What layout/ tells server/ (never a call upward by name). Each runs under
 * the file's lock, on the thread of the call that caused it.
 *  recall_send     h must be asked to return h->recall (CB_LAYOUTRECALL,
 *                  clora_changed = changed); the answer comes back as
 *                  layout_return, the deadline as layout_recall_expire
 *  holder_revoked  h was revoked: its stateid now answers
 *                  NFS4ERR_BAD_STATEID on the data server and its client
 *                  sees SEQ4_STATUS_RECALLABLE_STATE_REVOKED until
 *                  FREE_STATEID; the type's fence has already run
 *  recall_complete every holder of lf returned or was revoked: the lease
 *                  may go and the operation that wanted the file proceeds */
struct layout_upcalls {
	void (*recall_send)(void *ctx, struct layout_file *lf, struct layout_holder *h,
			    bool changed);
	void (*holder_revoked)(void *ctx, struct layout_file *lf, struct layout_holder *h);
	void (*recall_complete)(void *ctx, struct layout_file *lf);
};

#define LAYOUT_TYPES_MAX 4u
/* One server's layouts: its up-calls, its types and the recall figures. */
struct layout_domain {
	const struct layout_upcalls *up;
	void *up_ctx;
	struct {
		const struct layout_type_ops *ops;
		void *ctx;
	} types[LAYOUT_TYPES_MAX];
	unsigned ntypes;
	int64_t recall_timeout_ms;   /* Recall_Timeout */
	int64_t revoke_margin_ms;    /* Revoke_Margin */
	uint64_t revocations;        /* holders revoked since start */
};

/* Sets d up. The deadline of a recall caused by a lease break must end
 * before the kernel takes the lease (lease_break_ms, the system's
 * lease-break-time): -EINVAL with *bad_key naming Recall_Timeout or
 * Revoke_Margin when it could not (either is not positive, or the margin
 * leaves no time before the break). 0 otherwise. */
int layout_domain_init(struct layout_domain *d, const struct layout_upcalls *up, void *up_ctx,
		       int64_t recall_timeout_ms, int64_t revoke_margin_ms,
		       int64_t lease_break_ms, const char **bad_key);
/* Adds a layout type. 0, -EEXIST (that type twice), -ENOSPC (table full). */
int layout_domain_add_type(struct layout_domain *d, const struct layout_type_ops *ops,
			   void *type_ctx);
/* The type's ops, or NULL (NFS4ERR_UNKNOWN_LAYOUTTYPE for the caller). */
const struct layout_type_ops *layout_domain_type(const struct layout_domain *d, layouttype4 type,
						 void **type_ctx);

/* ---- holders and the recall timeline (layout_recall.c) ---- */

/*
 * The recall state of a holder, and of a file (decision 0008):
 *   NONE       no recall: a holder uses its segments, a file hands out more
 *   RECALLING  a holder was sent CB_LAYOUTRECALL for recall and must return
 *              it by the file's deadline; a file has such holders, and new
 *              layouts that meet the recalled range are refused
 *   RETURNED   a holder gave back everything recalled (it may still hold
 *              segments outside the range); a file never rests here
 *   REVOKED    the deadline passed first: the holder's segments are gone,
 *              the type fenced it, its stateid is dead until freed
 * A file goes NONE → RECALLING → NONE once every recalled holder is
 * RETURNED or REVOKED (recall_complete). A returned holder is NONE again
 * for the next recall.
 */
enum layout_recall_state {
	LAYOUT_RECALL_NONE = 0,
	LAYOUT_RECALL_RECALLING,
	LAYOUT_RECALL_RETURNED,
	LAYOUT_RECALL_REVOKED,
};

/* One client's layout on one file, embedded in server/'s layout stateid. */
struct layout_holder {
	struct layout_file *file;          /* NULL while not attached */
	layouttype4 type;
	struct layout_seg_set segs;
	enum layout_recall_state state;
	struct layout_seg recall;          /* what was recalled (RECALLING) */
};

/* A file's layouts. Zeroed and then attached to is a valid empty record. */
struct layout_file {
	struct layout_holder **holders;
	unsigned nholders, cap;
	enum layout_recall_state state;    /* NONE or RECALLING */
	struct layout_seg recall;          /* the range being recalled */
	int64_t deadline_ms;               /* monotonic ms, while RECALLING */
	int64_t break_limit_ms;            /* the earliest lease break − margin, 0: none */
	unsigned outstanding;              /* holders still RECALLING */
};

/* Attaches a fresh holder (zeroed, type set) to lf. 0 or -ENOMEM. */
int layout_holder_attach(struct layout_file *lf, struct layout_holder *h, layouttype4 type);
/* Detaches h (its stateid is going: FREE_STATEID, LAYOUTRETURN of all,
 * client expiry) and frees its segments; a recall waiting for h only is
 * complete then. Calls the type's fence when h still held segments. */
void layout_holder_detach(struct layout_domain *d, struct layout_holder *h);

/* Whether h may have seg now (seg's iomode READ or RW, else
 * NFS4ERR_BADIOMODE): NFS4_OK and seg added to h;
 * NFS4ERR_RECALLCONFLICT when the file is recalling a range seg meets (in
 * seg's iomode), whoever asks (RFC 8881 §12.5.5.2); NFS4ERR_LAYOUTTRYLATER
 * when h has too many segments; NFS4ERR_BAD_STATEID for a revoked holder;
 * NFS4ERR_DELAY on ENOMEM. */
nfsstat4 layout_grant(struct layout_domain *d, struct layout_holder *h, const struct layout_seg *seg);

/* Starts a recall of range in iomode (ANY: both) on lf: every holder with a
 * segment there becomes RECALLING and gets recall_send. The deadline is
 * min(now + Recall_Timeout, break_deadline − Revoke_Margin), the second
 * only when break_deadline_ms is not 0 (a lease break's; conflicting
 * operations pass 0). A recall already running takes in the new holders
 * (or a wider range): those get their full Recall_Timeout too, unless a
 * lease break of this recall forbids it (the deadline never passes the
 * earliest break − margin). Returns how many holders are outstanding (0:
 * nothing to wait for, and recall_complete was not called). */
unsigned layout_recall_start(struct layout_domain *d, struct layout_file *lf,
			     const struct layout_seg *range, bool changed, int64_t now_ms,
			     int64_t break_deadline_ms);

/* The same for one holder only (an administrator's recall of a client):
 * the file recalls (and refuses new layouts over range) until h returned
 * or was revoked; no lease break bounds it. */
unsigned layout_recall_start_holder(struct layout_domain *d, struct layout_holder *h,
				    const struct layout_seg *range, bool changed, int64_t now_ms);

/* h is revoked now, whatever its recall state (an administrator's revoke,
 * a lease lost): its segments go, the type's fence runs, holder_revoked
 * is called, and a recall that waited for h only is complete. False when
 * h was revoked already or is not attached. */
bool layout_holder_revoke(struct layout_domain *d, struct layout_holder *h);

/* LAYOUTRETURN of range in iomode by h (the type's body already handled):
 * the segments go; a RECALLING holder with nothing left in its recalled
 * range, or whose return covers the whole recalled range (also when its
 * segment record had to keep more, layout_seg_set_remove), becomes
 * RETURNED, and the last one completes the file's recall.
 * NFS4ERR_BAD_STATEID for a revoked holder, else NFS4_OK. */
nfsstat4 layout_return(struct layout_domain *d, struct layout_holder *h,
		       const struct layout_range *range, layoutiomode4 iomode);

/* At or after the deadline: every holder still RECALLING is revoked (its
 * segments dropped, the type's fence, holder_revoked), then the recall
 * completes. Before the deadline nothing happens. Returns how many were
 * revoked. */
unsigned layout_recall_expire(struct layout_domain *d, struct layout_file *lf, int64_t now_ms);

/* Frees what lf owns (its holder array); every holder must be detached. */
void layout_file_free(struct layout_file *lf);

#endif
