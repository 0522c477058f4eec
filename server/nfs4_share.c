/*
 * server/nfs4_share.c: share reservations (RFC 8881 §9.7) on one file.
 *
 * Job: decide whether an OPEN, an upgrade, or I/O with a special stateid
 * conflicts with the share access/deny of the opens already on the file.
 * Every open is one struct nfs4_share on the file's list, so a conflict check
 * can leave out the open being changed (an upgrade by the same open owner
 * never conflicts with itself) and counts stay exact on downgrade.
 * Calls: nothing. Called by: nfs4_open.c, nfs4_io.c (state lock held).
 */
#include "server/nfs4_file.h"

struct nfs4_share *nfs4_share_conflict(const struct nfs4_file *fp, uint32_t access,
				       uint32_t deny, const struct nfs4_share *self)
{
	const struct list_node *n;

	for (n = fp->shares.next; n != &fp->shares; n = n->next) {
		struct nfs4_share *sh = container_of(n, struct nfs4_share, node);

		if (sh == self)
			continue;
		/* The new access must not be denied by others, and the new deny
		 * must not deny what others already have. */
		if ((access & sh->deny) || (deny & sh->access))
			return sh;
	}
	return NULL;
}

bool nfs4_share_conflicts(const struct nfs4_file *fp, uint32_t access, uint32_t deny,
			  const struct nfs4_share *self)
{
	return nfs4_share_conflict(fp, access, deny, self) != NULL;
}

bool nfs4_share_denied(const struct nfs4_file *fp, uint32_t access)
{
	return nfs4_share_conflicts(fp, access, 0, NULL);
}

void nfs4_share_add(struct nfs4_file *fp, struct nfs4_share *sh, uint32_t access, uint32_t deny)
{
	sh->access = access;
	sh->deny = deny;
	list_add_tail(&sh->node, &fp->shares);
}

void nfs4_share_del(struct nfs4_share *sh)
{
	list_del(&sh->node);
	sh->access = sh->deny = 0;
}
