/*
 * server/nfs4_file.h: per-file NFSv4 state — one record per backend object
 * that some client has state on: share reservations (opens) and byte-range
 * locks now, layouts later (they hang off the same record).
 *
 * Job: the file table (keyed by struct pmem_obj *, which the backend keeps
 * unique per inode), the share access/deny rules of RFC 8881 §9.7 (pure, over
 * struct nfs4_share records embedded in open state), and the byte-range lock
 * list with POSIX split/merge semantics (pure, over struct nfs4_lock_range).
 * Everything here runs under nfs4_state_lock(); nothing here does file I/O.
 * Implemented by: nfs4_file.c (table), nfs4_share.c (shares), nfs4_range.c
 * (lock ranges). Calls: server/list.h, pmem_obj_get/put. Called by:
 * nfs4_open.c, nfs4_lock.c, nfs4_io.c, later layout/.
 */
#ifndef DAXNFS_SERVER_NFS4_FILE_H
#define DAXNFS_SERVER_NFS4_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "pmem/backend.h"
#include "server/list.h"

/* Share access/deny bits, the values of OPEN4_SHARE_ACCESS_* / OPEN4_SHARE_DENY_*. */
#define NFS4_SHARE_READ  1u
#define NFS4_SHARE_WRITE 2u
#define NFS4_SHARE_BOTH  3u

/* One open's share reservation, embedded in the open state. */
struct nfs4_share {
	struct list_node node;     /* in nfs4_file.shares */
	uint32_t access, deny;     /* NFS4_SHARE_* bits */
};

/* Lock types of the range list (READ_LT/WRITE_LT without the blocking bit). */
enum nfs4_range_type { NFS4_RANGE_READ = 1, NFS4_RANGE_WRITE = 2 };

/* One byte range held by one lock owner; end is inclusive (UINT64_MAX = to EOF). */
struct nfs4_lock_range {
	struct list_node node;     /* in nfs4_file.locks */
	void *owner;               /* whatever the caller uses as owner identity */
	uint64_t start, end;
	enum nfs4_range_type type;
};

struct nfs4_file_table;

struct nfs4_file {
	struct pmem_obj *obj;      /* referenced while the record lives */
	struct nfs4_file_table *table;   /* the table it is in */
	struct nfs4_file *hash_next;
	unsigned refs;             /* one per open/lock state, plus transient users */
	struct list_node shares;   /* struct nfs4_share.node */
	struct list_node locks;    /* struct nfs4_lock_range.node */
	struct list_node delegs;   /* struct nfs4_deleg.file_node (nfs4_deleg.c) */
	/* The local lease behind the delegations (nfs4_file_lease.c): its
	 * kind (0 = none) and generation, which lease events carry back. */
	enum pmem_lease_kind lease;
	uintptr_t lease_gen;
	/* The kernel said the lease is breaking: nothing new may rely on it
	 * (no delegation, no layout, no change of kind) until it is dropped. */
	bool lease_breaking;
	int64_t recalled_ms;       /* monotonic ms of the last recall (no re-grant soon) */
	/* Asynchronous copies reading or writing the file (nfs4_copy.c): no
	 * new delegation meanwhile, whose holder would cache what the copy
	 * changes, or change what it reads. */
	unsigned copies;
	void *layout_state;        /* layout/: its per-file record, NULL until then */
};

/* ---- file table (nfs4_file.c) ---- */
/* A server's records, by object pointer (srv->files). Zeroed is empty. */
#define NFS4_FILE_BUCKETS 1024u
struct nfs4_file_table {
	struct nfs4_file *buckets[NFS4_FILE_BUCKETS];
	unsigned count;
	/* Each lease taken on one of its files gets a new generation, which
	 * the lease events carry back (0 is never used); nfs4_file_lease.c. */
	uintptr_t lease_generation;
};
/* The record for obj in t, created when absent; a new reference. NULL on ENOMEM. */
struct nfs4_file *nfs4_file_get(struct nfs4_file_table *t, struct pmem_obj *obj);
/* The record for obj when one exists (a new reference), else NULL. */
struct nfs4_file *nfs4_file_find(struct nfs4_file_table *t, struct pmem_obj *obj);
/* Drops a reference; the last one frees the record and its object reference. */
void nfs4_file_put(struct nfs4_file *fp);
/* Number of records in t (tests, admin). */
unsigned nfs4_file_count(const struct nfs4_file_table *t);

/* ---- share reservations (nfs4_share.c) ---- */
/* The first share on fp that conflicts (see nfs4_share_conflicts), or NULL. */
struct nfs4_share *nfs4_share_conflict(const struct nfs4_file *fp, uint32_t access,
				       uint32_t deny, const struct nfs4_share *self);
/* True when a new or changed reservation (access, deny) on fp would conflict
 * with the reservations already there, not counting self (the open being
 * upgraded or downgraded; NULL for a new one). */
bool nfs4_share_conflicts(const struct nfs4_file *fp, uint32_t access, uint32_t deny,
			  const struct nfs4_share *self);
/* True when some reservation on fp denies access (I/O with special stateids). */
bool nfs4_share_denied(const struct nfs4_file *fp, uint32_t access);
void nfs4_share_add(struct nfs4_file *fp, struct nfs4_share *sh, uint32_t access, uint32_t deny);
void nfs4_share_del(struct nfs4_share *sh);

/* ---- byte-range locks (nfs4_range.c) ---- */
/* [start, end] from an NFS offset/length; false (NFS4ERR_INVAL) for length 0
 * or a range past 2^64 - 1 (length UINT64_MAX means "to the end of file"). */
bool nfs4_range_from_wire(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end);
/* The wire length of [start, end]. */
uint64_t nfs4_range_length(uint64_t start, uint64_t end);
/* The first lock of another owner that overlaps [start, end] and conflicts
 * with type (either is a write lock), or NULL. */
struct nfs4_lock_range *nfs4_range_conflict(struct list_node *locks, const void *owner,
					    enum nfs4_range_type type, uint64_t start,
					    uint64_t end);
/* Sets owner's lock on [start, end] to type, replacing what owner held there
 * (upgrade, downgrade, split) and merging with owner's adjacent locks of the
 * same type. The caller checked conflicts first. 0 or -ENOMEM (then nothing
 * changed). */
int nfs4_range_set(struct list_node *locks, void *owner, enum nfs4_range_type type,
		   uint64_t start, uint64_t end);
/* Releases owner's locks on [start, end] (splitting as needed). 0 or -ENOMEM. */
int nfs4_range_clear(struct list_node *locks, const void *owner, uint64_t start, uint64_t end);
/* Releases every lock of owner. */
void nfs4_range_clear_owner(struct list_node *locks, const void *owner);
/* True when owner holds a lock in the list. */
bool nfs4_range_owner_holds(const struct list_node *locks, const void *owner);

#endif
