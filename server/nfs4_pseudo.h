/*
 * server/nfs4_pseudo.h: the NFSv4 pseudo file system.
 *
 * Job: a read-only tree of directories joining the exports' Pseudo paths
 * (RFC 8881 §7.3). A node on which an export is mounted stands for that
 * export's root: a single export at "/" makes PUTROOTFH land in it. Node ids
 * are a hash of the node's path, so pseudo handles stay valid across a
 * restart with the same config (and across a reload). Exports with
 * Access_Type = None are left out. A tree is immutable once built; a
 * reload builds a new one and keeps the old until exit (nfs4_export.c).
 * Calls: server/nfs4_export.h. Called by: nfs4_export.c, nfs4_fh.c, lookup,
 * readdir and attribute code.
 */
#ifndef DAXNFS_SERVER_NFS4_PSEUDO_H
#define DAXNFS_SERVER_NFS4_PSEUDO_H

#include <stddef.h>
#include <stdint.h>

struct nfs4_export;

struct nfs4_pseudo_node {
	uint64_t id;                       /* hash of path; also the fileid */
	char *name;                        /* last component ("" for the root) */
	char *path;                        /* "/", "/a", "/b/c" */
	struct nfs4_pseudo_node *parent;   /* NULL for the root */
	struct nfs4_pseudo_node *children; /* first child; sorted by name */
	struct nfs4_pseudo_node *next;     /* next sibling */
	unsigned nchildren;
	struct nfs4_export *exp;           /* mounted here, or NULL */
};

/* Builds a tree for exps[0..n), setting each mounted export's node. Returns
 * 0 or -errno (-EINVAL for two exports at the same Pseudo path or a path
 * that is not absolute). */
int nfs4_pseudo_build(struct nfs4_export *const *exps, unsigned n,
		      struct nfs4_pseudo_node **root_out);
void nfs4_pseudo_free_tree(struct nfs4_pseudo_node *root);
/* The tree of the current export table. */
struct nfs4_pseudo_node *nfs4_pseudo_root(void);
struct nfs4_pseudo_node *nfs4_pseudo_by_id(uint64_t id);
struct nfs4_pseudo_node *nfs4_pseudo_child(const struct nfs4_pseudo_node *n,
					   const char *name, size_t len);
/* The n-th child (0-based) or NULL. */
struct nfs4_pseudo_node *nfs4_pseudo_child_at(const struct nfs4_pseudo_node *n, unsigned i);

#endif
