/*
 * layout/layout_flexfiles.c: the flexible file layout type (RFC 8435),
 * daxnfsd being its own tightly coupled data server (layout_flexfiles.h).
 *
 * Why the whole file, one mirror, FF_FLAGS_NO_LAYOUTCOMMIT: the data server
 * writes the very file the metadata server serves, so size and times are
 * current without a LAYOUTCOMMIT, and a layout per range would only cost
 * the client more LAYOUTGETs. Striping and mirroring over several daxnfsd
 * instances (issue 12, item 2) add data servers here.
 * Calls: the generated codecs, libc. Called by: the type table (server/).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "layout/layout_flexfiles.h"
#include "rpc/xdr.h"

/* "daxnfsFF", then the data server's index: ids this server never gave
 * out are recognised (NFS4ERR_NOENT), and they stay the same across
 * restarts with the same configuration. */
static const uint8_t ff_devid_magic[8] = { 'd', 'a', 'x', 'n', 'f', 's', 'F', 'F' };

void layout_ff_deviceid(unsigned index, deviceid4 out)
{
	memset(out, 0, NFS4_DEVICEID4_SIZE);
	memcpy(out, ff_devid_magic, sizeof(ff_devid_magic));
	out[8] = (uint8_t)(index >> 24);
	out[9] = (uint8_t)(index >> 16);
	out[10] = (uint8_t)(index >> 8);
	out[11] = (uint8_t)index;
}

int layout_ff_init(struct layout_ff *ff, uint32_t rsize, uint32_t wsize, uint32_t minor_mask)
{
	memset(ff, 0, sizeof(*ff));
	if (rsize == 0 || wsize == 0 || (minor_mask & ~0x6u) || minor_mask == 0)
		return -EINVAL;
	ff->rsize = rsize;
	ff->wsize = wsize;
	ff->minor_versions = minor_mask;
	return 0;
}

/* Encodes into a fresh arena buffer of cap bytes; the body on success. */
static nfsstat4 ff_encode(struct arena *arena, size_t cap, bool (*enc)(struct xdr_stream *, const void *),
			  const void *v, void **body, uint32_t *body_len)
{
	struct xdr_stream x;
	void *buf = arena_alloc(arena, cap);

	if (!buf)
		return NFS4ERR_DELAY;
	xdr_init_encode(&x, buf, cap);
	if (!enc(&x, v) || !xdr_ok(&x))
		return NFS4ERR_SERVERFAULT;   /* cap is computed from the inputs */
	*body = buf;
	*body_len = (uint32_t)xdr_pos(&x);
	return NFS4_OK;
}

static bool ff_enc_layout(struct xdr_stream *x, const void *v)
{
	return xdr_enc_ff_layout4(x, v);
}

static bool ff_enc_device_addr(struct xdr_stream *x, const void *v)
{
	return xdr_enc_ff_device_addr4(x, v);
}

static nfsstat4 ff_layoutget(void *type_ctx, const struct layout_get_args *a,
			     struct layout_seg *seg, struct arena *arena, void **body,
			     uint32_t *body_len)
{
	char user[12], group[12];
	ff_data_server4 ds;
	ff_mirror4 mirror;
	ff_layout4 lo;
	nfs_fh4 fh;
	size_t cap;

	(void)type_ctx;
	if (a->fh_len == 0 || a->fh_len > NFS4_FHSIZE)
		return NFS4ERR_SERVERFAULT;
	seg->range.start = 0;
	seg->range.end = LAYOUT_END;
	/* Tightly coupled: the client uses its own credentials on the data
	 * server; the owner strings are what RFC 8435 §5.1 asks for anyway. */
	snprintf(user, sizeof(user), "%u", a->owner_uid);
	snprintf(group, sizeof(group), "%u", a->owner_gid);
	memset(&ds, 0, sizeof(ds));
	layout_ff_deviceid(0, ds.ffds_deviceid);
	ds.ffds_efficiency = 1;
	ds.ffds_stateid = a->stateid;
	fh.len = a->fh_len;
	fh.val = (uint8_t *)a->fh;
	ds.ffds_fh_vers.len = 1;
	ds.ffds_fh_vers.val = &fh;
	ds.ffds_user.len = (uint32_t)strlen(user);
	ds.ffds_user.val = (uint8_t *)user;
	ds.ffds_group.len = (uint32_t)strlen(group);
	ds.ffds_group.val = (uint8_t *)group;
	mirror.ffm_data_servers.len = 1;
	mirror.ffm_data_servers.val = &ds;
	memset(&lo, 0, sizeof(lo));
	lo.ffl_stripe_unit = 0;
	lo.ffl_mirrors.len = 1;
	lo.ffl_mirrors.val = &mirror;
	lo.ffl_flags = FF_FLAGS_NO_LAYOUTCOMMIT;
	lo.ffl_stats_collect_hint = 0;
	/* Fixed fields, the handle and two short strings, with their pads. */
	cap = 128 + NFS4_FHSIZE + 2 * sizeof(user);
	return ff_encode(arena, cap, ff_enc_layout, &lo, body, body_len);
}

static nfsstat4 ff_getdeviceinfo(void *type_ctx, const deviceid4 devid,
				 const struct layout_devinfo_args *a, struct arena *arena,
				 void **body, uint32_t *body_len)
{
	struct layout_ff *ff = type_ctx;
	ff_device_versions4 vers[2];
	netaddr4 na[LAYOUT_NETADDRS_MAX];
	ff_device_addr4 da;
	deviceid4 ours;
	unsigned i, nv = 0;
	size_t cap = 16;

	layout_ff_deviceid(0, ours);
	if (memcmp(devid, ours, NFS4_DEVICEID4_SIZE) != 0)
		return NFS4ERR_NOENT;
	if (a->naddrs == 0 || a->naddrs > LAYOUT_NETADDRS_MAX)
		return NFS4ERR_SERVERFAULT;   /* server/ always knows one */
	for (i = 0; i < a->naddrs; i++) {
		na[i].na_r_netid.len = (uint32_t)strnlen(a->addrs[i].netid, LAYOUT_NETID_MAX);
		na[i].na_r_netid.val = (uint8_t *)a->addrs[i].netid;
		na[i].na_r_addr.len = (uint32_t)strnlen(a->addrs[i].uaddr, LAYOUT_UADDR_MAX);
		na[i].na_r_addr.val = (uint8_t *)a->addrs[i].uaddr;
		cap += 8 + LAYOUT_NETID_MAX + LAYOUT_UADDR_MAX;
	}
	/* The asking session's minor version first: the Linux client takes
	 * the first it supports, and with the metadata server's own version
	 * it reaches the data server as the same client (same nfs_client, same
	 * clientid here), whose layout stateids the data server then knows. */
	for (i = 0; i <= 2; i++) {
		uint32_t minor = i == 0 ? a->minorversion : i;

		if (minor > 2 || !(ff->minor_versions & (1u << minor)) ||
		    (i != 0 && minor == a->minorversion))
			continue;
		vers[nv].ffdv_version = 4;
		vers[nv].ffdv_minorversion = minor;
		vers[nv].ffdv_rsize = ff->rsize;
		vers[nv].ffdv_wsize = ff->wsize;
		vers[nv].ffdv_tightly_coupled = true;
		nv++;
		cap += 20;
	}
	da.ffda_netaddrs.len = a->naddrs;
	da.ffda_netaddrs.val = na;
	da.ffda_versions.len = nv;
	da.ffda_versions.val = vers;
	return ff_encode(arena, cap, ff_enc_device_addr, &da, body, body_len);
}

static nfsstat4 ff_layoutreturn(void *type_ctx, struct layout_holder *h,
				const struct layout_range *range, const void *body,
				uint32_t body_len, struct arena *arena)
{
	struct layout_ff *ff = type_ctx;
	ff_layoutreturn4 lr;
	struct xdr_stream x;

	(void)h;
	(void)range;
	if (body_len == 0)
		return NFS4_OK;   /* no reports */
	memset(&lr, 0, sizeof(lr));
	xdr_init_decode(&x, body, body_len, arena);
	if (!xdr_dec_ff_layoutreturn4(&x, &lr) || !xdr_ok(&x) || xdr_remaining(&x) != 0)
		return NFS4ERR_BADXDR;
	if (lr.fflr_ioerr_report.len || lr.fflr_iostats_report.len)
		ff->returns_with_reports++;
	ff->ioerrs_reported += lr.fflr_ioerr_report.len;
	ff->iostats_reported += lr.fflr_iostats_report.len;
	return NFS4_OK;
}

const struct layout_type_ops layout_ff_ops = {
	.type = LAYOUT4_FLEX_FILES,
	.name = "flexfiles",
	.layoutget = ff_layoutget,
	.getdeviceinfo = ff_getdeviceinfo,
	.layoutreturn = ff_layoutreturn,
	.fence = NULL,
};
