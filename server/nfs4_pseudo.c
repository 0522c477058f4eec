/*
 * server/nfs4_pseudo.c: the pseudo file system tree (see nfs4_pseudo.h).
 *
 * A tree is built from the exports' Pseudo paths of one export table (at
 * start, and at each reload); every prefix of a Pseudo path is a node.
 * Nodes are few (a handful per export), so lookups walk lists. The tree in
 * use is the current export table's (nfs4_export_pseudo_root).
 * Calls: libc, nfs4_export.h. Called by: nfs4_export.c, nfs4_fh.c,
 * namespace handlers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/nfs4_export.h"
#include "server/nfs4_pseudo.h"

/* FNV-1a: stable across runs, so pseudo handles survive a restart. */
static uint64_t path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static struct nfs4_pseudo_node *node_new(struct nfs4_pseudo_node *parent, const char *name,
					 size_t len)
{
	struct nfs4_pseudo_node *n = calloc(1, sizeof(*n));
	size_t plen;

	if (!n)
		return NULL;
	n->name = strndup(name, len);
	plen = parent ? strlen(parent->path) + 1 + len : 1;
	n->path = malloc(plen + 1);
	if (!n->name || !n->path) {
		free(n->name);
		free(n->path);
		free(n);
		return NULL;
	}
	if (!parent)
		strcpy(n->path, "/");
	else if (!parent->parent)
		snprintf(n->path, plen + 1, "/%s", n->name);
	else
		snprintf(n->path, plen + 1, "%s/%s", parent->path, n->name);
	n->id = path_hash(n->path);
	n->parent = parent;
	if (parent) {
		/* keep siblings sorted so READDIR order is stable */
		struct nfs4_pseudo_node **pp = &parent->children;

		while (*pp && strcmp((*pp)->name, n->name) < 0)
			pp = &(*pp)->next;
		n->next = *pp;
		*pp = n;
		parent->nchildren++;
	}
	return n;
}

static void node_free(struct nfs4_pseudo_node *n)
{
	while (n) {
		struct nfs4_pseudo_node *next = n->next;

		node_free(n->children);
		free(n->name);
		free(n->path);
		free(n);
		n = next;
	}
}

struct nfs4_pseudo_node *nfs4_pseudo_child(const struct nfs4_pseudo_node *n,
					   const char *name, size_t len)
{
	for (struct nfs4_pseudo_node *ch = n ? n->children : NULL; ch; ch = ch->next)
		if (strlen(ch->name) == len && memcmp(ch->name, name, len) == 0)
			return ch;
	return NULL;
}

struct nfs4_pseudo_node *nfs4_pseudo_child_at(const struct nfs4_pseudo_node *n, unsigned i)
{
	struct nfs4_pseudo_node *ch = n ? n->children : NULL;

	while (ch && i--)
		ch = ch->next;
	return ch;
}

static int add_export(struct nfs4_pseudo_node *root, struct nfs4_export *e)
{
	const char *p = e->conf.pseudo;
	struct nfs4_pseudo_node *n = root;

	if (p[0] != '/')
		return -EINVAL;
	while (*p) {
		const char *s, *end;
		struct nfs4_pseudo_node *ch;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		end = strchr(s, '/');
		if (!end)
			end = s + strlen(s);
		if ((end - s == 1 && s[0] == '.') || (end - s == 2 && s[0] == '.' && s[1] == '.'))
			return -EINVAL;
		ch = nfs4_pseudo_child(n, s, (size_t)(end - s));
		if (!ch)
			ch = node_new(n, s, (size_t)(end - s));
		if (!ch)
			return -ENOMEM;
		n = ch;
		p = end;
	}
	if (n->exp)
		return -EINVAL;
	n->exp = e;
	e->node = n;
	return 0;
}

static struct nfs4_pseudo_node *find_id(struct nfs4_pseudo_node *n, uint64_t id)
{
	for (; n; n = n->next) {
		struct nfs4_pseudo_node *r;

		if (n->id == id)
			return n;
		r = find_id(n->children, id);
		if (r)
			return r;
	}
	return NULL;
}

struct nfs4_pseudo_node *nfs4_pseudo_by_id(uint64_t id)
{
	return find_id(nfs4_export_pseudo_root(), id);
}

struct nfs4_pseudo_node *nfs4_pseudo_root(void)
{
	return nfs4_export_pseudo_root();
}

int nfs4_pseudo_build(struct nfs4_export *const *exps, unsigned n,
		      struct nfs4_pseudo_node **root_out)
{
	struct nfs4_pseudo_node *root = node_new(NULL, "", 0);
	int err = 0;

	*root_out = NULL;
	if (!root)
		return -ENOMEM;
	/* Access_Type = None: opened (its config is valid) but not reachable */
	for (unsigned i = 0; i < n && !err; i++)
		if (exps[i]->conf.access != CONF_ACCESS_NONE)
			err = add_export(root, exps[i]);
	if (err) {
		nfs4_pseudo_free_tree(root);
		return err;
	}
	*root_out = root;
	return 0;
}

void nfs4_pseudo_free_tree(struct nfs4_pseudo_node *root)
{
	node_free(root);
}
