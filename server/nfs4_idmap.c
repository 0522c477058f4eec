/*
 * server/nfs4_idmap.c: owner and owner_group strings (RFC 8881 §5.9).
 *
 * Outgoing: numeric strings ("1000") for AUTH_SYS/AUTH_NONE callers, as knfsd
 * does by default (docs/decisions/0003); "name@domain" (NFSV4.Domain) for
 * other flavours, numeric when the id has no name. Incoming: both numeric
 * strings and "name@domain" (getpwnam_r/getgrnam_r; the domain must match,
 * case-insensitively); anything else is NFS4ERR_BADOWNER.
 * Calls: libc (getpwnam_r, getgrnam_r, getpwuid_r, getgrgid_r), nfs4_export.h.
 * Called by: nfs4_attr.c.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/nfs4_attr.h"
#include "server/nfs4_export.h"

#define IDMAP_BUF 4096
#define OWNER_MAX 1024

static bool parse_numeric(const uint8_t *s, uint32_t len, uint32_t *id)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	if (len > 1 && s[0] == '0')   /* no leading zeroes: "0100" is not a canonical id */
		return false;
	for (uint32_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

static bool name_to_id(const char *name, bool group, uint32_t *id)
{
	char buf[IDMAP_BUF];
	bool ok = false;

	if (group) {
		struct group gr, *gp = NULL;

		if (getgrnam_r(name, &gr, buf, sizeof(buf), &gp) == 0 && gp) {
			*id = gp->gr_gid;
			ok = true;
		}
	} else {
		struct passwd pw, *pp = NULL;

		if (getpwnam_r(name, &pw, buf, sizeof(buf), &pp) == 0 && pp) {
			*id = pp->pw_uid;
			ok = true;
		}
	}
	return ok;
}

nfsstat4 nfs4_owner_decode(const struct xdr_opaque *s, bool group, uint32_t *id)
{
	char name[OWNER_MAX + 1];
	const char *at;

	if (parse_numeric(s->val, s->len, id))
		return NFS4_OK;
	if (s->len == 0 || s->len > OWNER_MAX || memchr(s->val, '\0', s->len))
		return NFS4ERR_BADOWNER;
	memcpy(name, s->val, s->len);
	name[s->len] = '\0';
	at = strchr(name, '@');
	if (at) {
		if (strcasecmp(at + 1, nfs4_export_domain()) != 0)
			return NFS4ERR_BADOWNER;
		name[at - name] = '\0';
		if (!name[0])
			return NFS4ERR_BADOWNER;
	}
	return name_to_id(name, group, id) ? NFS4_OK : NFS4ERR_BADOWNER;
}

bool nfs4_owner_encode(struct arena *a, uint32_t id, bool group, bool names,
		       struct xdr_opaque *out)
{
	char buf[IDMAP_BUF];
	char str[OWNER_MAX];
	const char *name = NULL;
	int n;

	if (names) {
		if (group) {
			struct group gr, *gp = NULL;

			if (getgrgid_r(id, &gr, buf, sizeof(buf), &gp) == 0 && gp)
				name = gp->gr_name;
		} else {
			struct passwd pw, *pp = NULL;

			if (getpwuid_r(id, &pw, buf, sizeof(buf), &pp) == 0 && pp)
				name = pp->pw_name;
		}
	}
	if (name)
		n = snprintf(str, sizeof(str), "%s@%s", name, nfs4_export_domain());
	else
		n = snprintf(str, sizeof(str), "%u", id);
	if (n < 0 || (size_t)n >= sizeof(str))
		n = snprintf(str, sizeof(str), "%u", id);
	out->val = arena_memdup(a, str, (size_t)n);
	out->len = (uint32_t)n;
	return out->val != NULL;
}
