/*
 * tests/proto/test_layout.c: pNFS against a real daxnfsd with Enable_pNFS
 * (RFC 8881 §12, §18.40-18.44; RFC 8435): EXCHANGE_ID's roles and
 * fs_layout_type; LAYOUTGET of a flexible file layout (read back with the
 * RFC 8435 decoders: the file's handle, the layout stateid, the device)
 * and GETDEVICEINFO (this server's address and port, NFSv4.1 and 4.2,
 * tightly coupled); the data server taking the layout stateid for READ and
 * WRITE (and nothing else: not SETATTR) and refusing it after the last
 * LAYOUTRETURN; the layout stateid's seqid rules (§12.5.3: an older seqid
 * is taken, as parallel LAYOUTGETs need, a newer one is not); LAYOUTRETURN
 * of a range, of a file, of all; layouts following the opens (a downgrade
 * takes the RW layout, the last CLOSE all); LAYOUTCOMMIT; and the errors of
 * each for bad input; LAYOUTERROR and LAYOUTSTATS (NFSv4.2) and the
 * layout_types and layout_alignment attributes. Also a server without
 * Enable_pNFS: no pNFS role and no layouts.
 */
#include "tests/proto/test_layout_util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <sys/stat.h>

#include "rpc/xdr.h"
#include "tests/proto/lib/proto_proc.h"

static struct proto_server srv;

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int group_setup(void **st)
{
	struct proto_server_opts o = { .nfsv4_conf = "Enable_pNFS = true;" };

	(void)st;
	return proto_server_start(&srv, "layout", &o) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop_checked(&srv);
}

/* GETDEVICEINFO; on NFS4_OK the device address decoded into arena, on
 * NFS4ERR_TOOSMALL *mincount. */
static nfsstat4 getdeviceinfo(struct nfs4_cl *cl, const deviceid4 dev, uint32_t maxcount,
			      struct arena *arena, ff_device_addr4 *da, uint32_t *mincount,
			      uint32_t *body_len)
{
	struct nfs4_cl_compound cp;
	GETDEVICEINFO4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	a = &nfs4_cl_add(&cp, OP_GETDEVICEINFO)->u.opgetdeviceinfo;
	memcpy(a->gdia_device_id, dev, NFS4_DEVICEID4_SIZE);
	a->gdia_layout_type = LAYOUT4_FLEX_FILES;
	a->gdia_maxcount = maxcount;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK) {
		GETDEVICEINFO4resok *ok = &nfs4_cl_res(&cp, OP_GETDEVICEINFO)->u.opgetdeviceinfo.u.gdir_resok4;
		struct xdr_stream x;
		void *copy;

		assert_int_equal(ok->gdir_device_addr.da_layout_type, LAYOUT4_FLEX_FILES);
		*body_len = ok->gdir_device_addr.da_addr_body.len;
		if (*body_len) {
			copy = arena_memdup(arena, ok->gdir_device_addr.da_addr_body.val, *body_len);
			assert_non_null(copy);
			xdr_init_decode(&x, copy, *body_len, arena);
			assert_true(xdr_dec_ff_device_addr4(&x, da));
			assert_int_equal(xdr_remaining(&x), 0);
		}
	} else if (st == NFS4ERR_TOOSMALL && mincount) {
		*mincount = nfs4_cl_res(&cp, OP_GETDEVICEINFO)->u.opgetdeviceinfo.u.gdir_mincount;
	}
	nfs4_cl_compound_free(&cp);
	return st;
}

static const stateid4 anon_sid;

static nfsstat4 setattr_size(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			     uint64_t size)
{
	struct nfs4_cl_compound cp;
	SETATTR4args *a;
	uint32_t *mask;
	uint8_t *vals;
	nfsstat4 st;
	int i;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_SETATTR)->u.opsetattr;
	mask = arena_alloc(&cp.arena, sizeof(*mask));
	vals = arena_alloc(&cp.arena, 8);
	assert_non_null(mask);
	assert_non_null(vals);
	*mask = 1u << FATTR4_SIZE;
	for (i = 0; i < 8; i++)
		vals[i] = (uint8_t)(size >> (56 - 8 * i));
	a->stateid = *sid;
	a->obj_attributes.attrmask.len = 1;
	a->obj_attributes.attrmask.val = mask;
	a->obj_attributes.attr_vals.len = 8;
	a->obj_attributes.attr_vals.val = vals;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_roles_and_fs_layout_type(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-roles");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	fattr4 *fa;
	uint32_t n, type;

	(void)st;
	assert_true(cl->eir_flags & EXCHGID4_FLAG_USE_PNFS_MDS);
	assert_true(cl->eir_flags & EXCHGID4_FLAG_USE_PNFS_DS);
	assert_false(cl->eir_flags & EXCHGID4_FLAG_USE_NON_PNFS);
	assert_int_equal(ot_open_simple(cl, "roles", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	nfs4_cl_add_getattr(&cp, 0, 1u << (FATTR4_FS_LAYOUT_TYPES - 32));
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	fa = &nfs4_cl_res(&cp, OP_GETATTR)->u.opgetattr.u.resok4.obj_attributes;
	assert_int_equal(fa->attr_vals.len, 8);
	memcpy(&n, fa->attr_vals.val, 4);
	memcpy(&type, fa->attr_vals.val + 4, 4);
	assert_int_equal(ntohl(n), 1);
	assert_int_equal(ntohl(type), LAYOUT4_FLEX_FILES);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* The whole round: LAYOUTGET, the body, GETDEVICEINFO, I/O through the
 * data server with the layout stateid, seqids, LAYOUTRETURN. */
static void test_layout_round_trip(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-round");
	struct ot_open_res r;
	struct lg_res lg, lg2, lg3;
	const ff_data_server4 *ds;
	struct arena arena;
	ff_device_addr4 da;
	stateid4 ds_sid, back_sid;
	char port_uaddr[64];
	uint8_t data[8192], back[8192];
	uint32_t body_len = 0, n, i;
	bool eof, present = true;

	(void)st;
	arena_init(&arena, 1 << 20);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(ot_open_simple(cl, "round", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 4096,
				   4096, 4096, 4096, &lg), NFS4_OK);
	/* A new layout stateid, seqid 1, for the whole file (flex files). */
	assert_int_equal(lg.sid.seqid, 1);
	assert_memory_not_equal(lg.sid.other, r.sid.other, sizeof(lg.sid.other));
	assert_true(lg.roc);
	assert_true(lg.offset == 0 && lg.length == NFS4_UINT64_MAX);
	assert_int_equal(lg.iomode, LAYOUTIOMODE4_RW);
	assert_int_equal(lg.ff.ffl_mirrors.len, 1);
	assert_int_equal(lg.ff.ffl_flags & FF_FLAGS_NO_LAYOUTCOMMIT, FF_FLAGS_NO_LAYOUTCOMMIT);
	assert_int_equal(lg.ff.ffl_mirrors.val[0].ffm_data_servers.len, 1);
	ds = &lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0];
	/* The data server's stateid is the layout stateid, any seqid. */
	assert_int_equal(ds->ffds_stateid.seqid, 0);
	assert_memory_equal(ds->ffds_stateid.other, lg.sid.other, sizeof(lg.sid.other));
	assert_int_equal(ds->ffds_fh_vers.len, 1);
	assert_int_equal(ds->ffds_fh_vers.val[0].len, r.fh.len);
	assert_memory_equal(ds->ffds_fh_vers.val[0].val, r.fh.val, r.fh.len);
	ds_sid = ds->ffds_stateid;

	/* The device: this server, where the test reached it, on TCP. */
	assert_int_equal(getdeviceinfo(cl, ds->ffds_deviceid, 4096, &arena, &da, NULL, &body_len),
			 NFS4_OK);
	assert_int_equal(da.ffda_netaddrs.len, 1);
	assert_int_equal(da.ffda_netaddrs.val[0].na_r_netid.len, 3);
	assert_memory_equal(da.ffda_netaddrs.val[0].na_r_netid.val, "tcp", 3);
	snprintf(port_uaddr, sizeof(port_uaddr), "127.0.0.1.%u.%u", srv.port >> 8, srv.port & 255);
	assert_int_equal(da.ffda_netaddrs.val[0].na_r_addr.len, strlen(port_uaddr));
	assert_memory_equal(da.ffda_netaddrs.val[0].na_r_addr.val, port_uaddr, strlen(port_uaddr));
	assert_int_equal(da.ffda_versions.len, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(da.ffda_versions.val[i].ffdv_version, 4);
		assert_int_equal(da.ffda_versions.val[i].ffdv_minorversion, i + 1);
		assert_true(da.ffda_versions.val[i].ffdv_tightly_coupled);
		assert_true(da.ffda_versions.val[i].ffdv_rsize >= 65536);
	}

	/* The data server: WRITE and READ with the layout stateid. */
	assert_int_equal(ot_write(cl, &r.fh, &ds_sid, 0, data, sizeof(data), FILE_SYNC4, NULL),
			 NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &ds_sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	/* ... and with the open stateid the same bytes (one file). */
	assert_int_equal(ot_read(cl, &r.fh, &r.sid, 0, sizeof(back), back, &n, &eof), NFS4_OK);
	assert_memory_equal(back, data, sizeof(data));

	/* Seqids: LAYOUTGET with the layout stateid makes 2; with the open
	 * stateid again it finds the same layout stateid (3). */
	assert_int_equal(layoutget(cl, &r.fh, &lg.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg2), NFS4_OK);
	assert_int_equal(lg2.sid.seqid, 2);
	assert_memory_equal(lg2.sid.other, lg.sid.other, sizeof(lg.sid.other));
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg3), NFS4_OK);
	assert_int_equal(lg3.sid.seqid, 3);
	assert_memory_equal(lg3.sid.other, lg.sid.other, sizeof(lg.sid.other));
	/* A seqid the server never gave is refused ... */
	back_sid = lg3.sid;
	back_sid.seqid = 9;
	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &back_sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, NULL, NULL), NFS4ERR_BAD_STATEID);
	/* ... an older one is taken (replies to parallel LAYOUTGETs cross):
	 * returning the READ layout leaves the RW one, the stateid stays, 4. */
	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &lg.sid, LAYOUTIOMODE4_READ,
				      0, NFS4_UINT64_MAX, &present, &back_sid), NFS4_OK);
	assert_true(present);
	assert_int_equal(back_sid.seqid, 4);
	assert_int_equal(ot_write(cl, &r.fh, &ds_sid, 100, data, 100, FILE_SYNC4, NULL), NFS4_OK);
	/* Only READ and WRITE take it: not SETATTR of the size. */
	assert_int_equal(setattr_size(cl, &r.fh, &ds_sid, 0), NFS4ERR_BAD_STATEID);
	/* Returning everything: no stateid back, and the data server no
	 * longer takes it. */
	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &back_sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, &present, NULL), NFS4_OK);
	assert_false(present);
	assert_int_equal(ot_write(cl, &r.fh, &ds_sid, 0, data, 100, FILE_SYNC4, NULL),
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(ot_read(cl, &r.fh, &ds_sid, 0, 100, back, &n, &eof), NFS4ERR_BAD_STATEID);
	lg_free(&lg);
	lg_free(&lg2);
	lg_free(&lg3);
	arena_release(&arena);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* A READ layout gives no write access on the data server; an RW layout
 * needs an open for writing; another client's layout stateid is nobody's
 * business of ours. */
static void test_layout_access_rules(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-access");
	struct nfs4_cl *other = ot_client(&srv, "lo-access-other");
	struct ot_open_res r, ro;
	struct lg_res lg;
	stateid4 ds_sid;
	uint8_t buf[64] = { 1 };
	uint32_t n;
	bool eof;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "access", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, buf, sizeof(buf), FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(ot_open_simple(other, "access", false, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &ro), NFS4_OK);
	assert_int_equal(layoutget(other, &ro.fh, &ro.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4ERR_OPENMODE);
	lg_free(&lg);
	assert_int_equal(layoutget(other, &ro.fh, &ro.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	ds_sid = lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_stateid;
	assert_int_equal(ot_read(other, &ro.fh, &ds_sid, 0, sizeof(buf), buf, &n, &eof), NFS4_OK);
	assert_int_equal(n, sizeof(buf));
	assert_int_equal(ot_write(other, &ro.fh, &ds_sid, 0, buf, 8, FILE_SYNC4, NULL),
			 NFS4ERR_OPENMODE);
	/* The first client cannot use the second's layout stateid. */
	assert_int_equal(ot_read(cl, &r.fh, &ds_sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	/* LAYOUTRETURN of ALL drops it. */
	assert_int_equal(layoutreturn(other, &ro.fh, LAYOUTRETURN4_ALL, NULL, LAYOUTIOMODE4_ANY, 0, 0,
				      NULL, NULL), NFS4_OK);
	assert_int_equal(ot_read(other, &ro.fh, &ds_sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	lg_free(&lg);
	assert_int_equal(ot_close(other, &ro.fh, &ro.sid, NULL), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&ro.fh);
	ot_fh_free(&r.fh);
	nfs4_cl_close(other, true);
	nfs4_cl_close(cl, true);
}

static void test_layoutget_errors(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-errors");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	struct lg_res lg;
	LAYOUTGET4args *a;

	(void)st;
	assert_int_equal(ot_open_simple(cl, "errors", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
#define LG(sid, type, iomode, off, len, minlen, max) \
	(lg_free(&lg), layoutget(cl, &r.fh, sid, type, iomode, off, len, minlen, max, &lg))
	memset(&lg, 0, sizeof(lg));
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_ANY, 0, 1, 0, 4096),
			 NFS4ERR_BADIOMODE);
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, 7, 0, 1, 0, 4096), NFS4ERR_BADIOMODE);
	assert_int_equal(LG(&r.sid, LAYOUT4_BLOCK_VOLUME, LAYOUTIOMODE4_READ, 0, 1, 0, 4096),
			 NFS4ERR_UNKNOWN_LAYOUTTYPE);
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0, 0, 0, 4096),
			 NFS4ERR_INVAL);
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0, 10, 20, 4096),
			 NFS4ERR_INVAL);
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, NFS4_UINT64_MAX - 5, 10,
			    0, 4096), NFS4ERR_INVAL);
	/* The anonymous stateid vouches for nothing. */
	assert_int_equal(LG(&anon_sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0, 1, 0, 4096),
			 NFS4ERR_BAD_STATEID);
	/* A layout larger than loga_maxcount. */
	assert_int_equal(LG(&r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0, 1, 0, 16),
			 NFS4ERR_TOOSMALL);
	lg_free(&lg);
#undef LG
	/* A directory has no layout (PUTROOTFH is the pseudo root; the
	 * export's root directory is an exported object). */
	nfs4_cl_compound_init(&cp, cl);
	nfs4_cl_add_path(&cp, "");
	a = &nfs4_cl_add(&cp, OP_LAYOUTGET)->u.oplayoutget;
	a->loga_layout_type = LAYOUT4_FLEX_FILES;
	a->loga_iomode = LAYOUTIOMODE4_READ;
	a->loga_length = NFS4_UINT64_MAX;
	a->loga_stateid = r.sid;
	a->loga_maxcount = 4096;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_WRONG_TYPE);
	nfs4_cl_compound_free(&cp);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_getdeviceinfo_sizes_and_ids(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-devinfo");
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	struct lg_res lg;
	struct arena arena;
	ff_device_addr4 da;
	deviceid4 dev, bogus;
	uint32_t mincount = 0, body_len = 1;
	GETDEVICELIST4resok *gl;

	(void)st;
	arena_init(&arena, 1 << 20);
	assert_int_equal(ot_open_simple(cl, "devinfo", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	memcpy(dev, lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_deviceid, sizeof(dev));
	/* Too small a maxcount: TOOSMALL with what it takes; that much works. */
	assert_int_equal(getdeviceinfo(cl, dev, 16, &arena, &da, &mincount, &body_len),
			 NFS4ERR_TOOSMALL);
	assert_true(mincount > 16 && mincount < 512);
	assert_int_equal(getdeviceinfo(cl, dev, mincount, &arena, &da, NULL, &body_len), NFS4_OK);
	assert_int_equal(getdeviceinfo(cl, dev, mincount - 1, &arena, &da, NULL, &body_len),
			 NFS4ERR_TOOSMALL);
	/* maxcount 0: notifications only, an empty body (§18.40.3). */
	assert_int_equal(getdeviceinfo(cl, dev, 0, &arena, &da, NULL, &body_len), NFS4_OK);
	assert_int_equal(body_len, 0);
	memset(bogus, 0x77, sizeof(bogus));
	assert_int_equal(getdeviceinfo(cl, bogus, 4096, &arena, &da, NULL, &body_len), NFS4ERR_NOENT);
	/* GETDEVICELIST names the same device. */
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	nfs4_cl_add(&cp, OP_GETDEVICELIST)->u.opgetdevicelist.gdla_layout_type = LAYOUT4_FLEX_FILES;
	cp.ops[cp.nops - 1].u.opgetdevicelist.gdla_maxdevices = 8;
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	gl = &nfs4_cl_res(&cp, OP_GETDEVICELIST)->u.opgetdevicelist.u.gdlr_resok4;
	assert_int_equal(gl->gdlr_deviceid_list.len, 1);
	assert_memory_equal(gl->gdlr_deviceid_list.val[0], dev, sizeof(dev));
	assert_true(gl->gdlr_eof);
	nfs4_cl_compound_free(&cp);
	lg_free(&lg);
	arena_release(&arena);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static nfsstat4 layoutcommit(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid,
			     uint64_t off, uint64_t len, bool have_last, uint64_t last,
			     newsize4 *out)
{
	struct nfs4_cl_compound cp;
	LAYOUTCOMMIT4args *a;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	a = &nfs4_cl_add(&cp, OP_LAYOUTCOMMIT)->u.oplayoutcommit;
	a->loca_offset = off;
	a->loca_length = len;
	a->loca_stateid = *sid;
	a->loca_last_write_offset.no_newoffset = have_last;
	a->loca_last_write_offset.u.no_offset = last;
	a->loca_layoutupdate.lou_type = LAYOUT4_FLEX_FILES;
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	if (st == NFS4_OK && out)
		*out = nfs4_cl_res(&cp, OP_LAYOUTCOMMIT)->u.oplayoutcommit.u.locr_resok4.locr_newsize;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_layoutcommit(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-commit");
	struct ot_open_res r;
	struct lg_res lg;
	newsize4 ns;
	struct stat sb;
	char path[PATH_MAX + 16];

	(void)st;
	assert_int_equal(ot_open_simple(cl, "commit", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	/* The open stateid is not a layout stateid. */
	assert_int_equal(layoutcommit(cl, &r.fh, &r.sid, 0, 4096, true, 4095, &ns),
			 NFS4ERR_BAD_STATEID);
	/* A last write offset outside the range committed. */
	assert_int_equal(layoutcommit(cl, &r.fh, &lg.sid, 0, 4096, true, 5000, &ns), NFS4ERR_INVAL);
	/* Past the end of the (empty) file: the size follows. */
	assert_int_equal(layoutcommit(cl, &r.fh, &lg.sid, 0, 8192, true, 8191, &ns), NFS4_OK);
	assert_true(ns.ns_sizechanged);
	assert_true(ns.u.ns_size == 8192);
	snprintf(path, sizeof(path), "%s/commit", srv.export_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 8192);
	/* Within the size: nothing changes. */
	assert_int_equal(layoutcommit(cl, &r.fh, &lg.sid, 0, 4096, true, 100, &ns), NFS4_OK);
	assert_false(ns.ns_sizechanged);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 8192);
	lg_free(&lg);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* Layouts follow the opens: a downgrade to reading takes the RW layout
 * (no more writing through the data server), the last CLOSE takes them
 * all, whether or not the client returned them. */
static void test_layouts_follow_the_opens(void **st)
{
	struct nfs4_cl *cl = ot_client(&srv, "lo-opens");
	struct ot_open_res r;
	struct lg_res rd, rw;
	stateid4 ds_sid, open_sid;
	uint8_t buf[64] = { 7 };
	uint32_t n;
	bool eof, present;

	(void)st;
	/* Opened for reading, then for both: a downgrade may go back to
	 * reading (§18.18.3). */
	assert_int_equal(ot_open_simple(cl, "opens", true, OPEN4_SHARE_ACCESS_READ,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	ot_fh_free(&r.fh);
	assert_int_equal(ot_open_simple(cl, "opens", false, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &r.sid, 0, buf, sizeof(buf), FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &rd), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &rd.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &rw), NFS4_OK);
	ds_sid = rw.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_stateid;
	assert_int_equal(ot_write(cl, &r.fh, &ds_sid, 0, buf, 8, FILE_SYNC4, NULL), NFS4_OK);
	assert_int_equal(ot_downgrade(cl, &r.fh, &r.sid, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_NONE, &open_sid), NFS4_OK);
	assert_int_equal(ot_write(cl, &r.fh, &ds_sid, 0, buf, 8, FILE_SYNC4, NULL), NFS4ERR_OPENMODE);
	assert_int_equal(ot_read(cl, &r.fh, &ds_sid, 0, 8, buf, &n, &eof), NFS4_OK);
	assert_int_equal(ot_close(cl, &r.fh, &open_sid, NULL), NFS4_OK);
	assert_int_equal(ot_read(cl, &r.fh, &ds_sid, 0, 8, buf, &n, &eof), NFS4ERR_BAD_STATEID);
	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &rw.sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, &present, NULL), NFS4ERR_BAD_STATEID);
	lg_free(&rd);
	lg_free(&rw);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

/* Without Enable_pNFS: a plain NFSv4.1 server. */
/* LAYOUTERROR (with one error report) and LAYOUTSTATS of a layout the
 * client holds, NFSv4.2: taken; another stateid, another device, no layout
 * left: refused. The file's layout_types and layout_alignment attributes. */
static nfsstat4 report(struct nfs4_cl *cl, const nfs_fh4 *fh, const stateid4 *sid, bool stats,
		       const uint8_t *dev)
{
	struct nfs4_cl_compound cp;
	nfsstat4 st;

	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, fh);
	if (stats) {
		LAYOUTSTATS4args *a = &nfs4_cl_add(&cp, OP_LAYOUTSTATS)->u.oplayoutstats;

		a->lsa_length = 4096;
		a->lsa_stateid = *sid;
		a->lsa_read.ii_count = 3;
		a->lsa_read.ii_bytes = 12288;
		memcpy(a->lsa_deviceid, dev, NFS4_DEVICEID4_SIZE);
		a->lsa_layoutupdate.lou_type = LAYOUT4_FLEX_FILES;
	} else {
		LAYOUTERROR4args *a = &nfs4_cl_add(&cp, OP_LAYOUTERROR)->u.oplayouterror;
		device_error4 *e = arena_alloc(&cp.arena, sizeof(*e));

		assert_non_null(e);
		memset(e, 0, sizeof(*e));
		memcpy(e->de_deviceid, dev, NFS4_DEVICEID4_SIZE);
		e->de_status = NFS4ERR_IO;
		e->de_opnum = OP_WRITE;
		a->lea_length = NFS4_UINT64_MAX;
		a->lea_stateid = *sid;
		a->lea_errors.len = 1;
		a->lea_errors.val = e;
	}
	st = nfs4_cl_send(&cp) < 0 ? NFS4ERR_SERVERFAULT : cp.status;
	nfs4_cl_compound_free(&cp);
	return st;
}

static void test_layouterror_layoutstats_and_attributes(void **st)
{
	static const uint8_t other_dev[NFS4_DEVICEID4_SIZE] = { 0xee, 0xee };
	struct nfs4_cl *cl = NULL;
	struct nfs4_cl_compound cp;
	struct ot_open_res r;
	struct lg_res lg;
	uint32_t *mask;
	uint8_t dev[NFS4_DEVICEID4_SIZE];
	const fattr4 *fa;

	(void)st;
	assert_int_equal(nfs4_cl_connect(&cl, srv.host, srv.port), 0);
	cl->minorversion = 2;
	nfs4_cl_set_owner(cl, "lo-reports", (uint64_t)proto_now_ms());
	assert_int_equal(nfs4_cl_exchange_id(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_create_session(cl, false), NFS4_OK);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	assert_int_equal(ot_open_simple(cl, "reports", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_RW, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4_OK);
	memcpy(dev, lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_deviceid, sizeof(dev));
	assert_int_equal(report(cl, &r.fh, &lg.sid, false, dev), NFS4_OK);
	assert_int_equal(report(cl, &r.fh, &lg.sid, true, dev), NFS4_OK);
	assert_int_equal(report(cl, &r.fh, &r.sid, false, dev), NFS4ERR_BAD_STATEID);
	assert_int_equal(report(cl, &r.fh, &lg.sid, false, other_dev), NFS4ERR_NOENT);
	assert_int_equal(report(cl, &r.fh, &lg.sid, true, other_dev), NFS4ERR_NOENT);

	/* layout_types (64) and layout_alignment (66) of the file */
	nfs4_cl_compound_init(&cp, cl);
	ot_putfh(&cp, &r.fh);
	mask = arena_alloc(&cp.arena, 3 * sizeof(*mask));
	assert_non_null(mask);
	mask[0] = mask[1] = 0;
	mask[2] = (1u << (FATTR4_LAYOUT_TYPES - 64)) | (1u << (FATTR4_LAYOUT_ALIGNMENT - 64));
	nfs4_cl_add(&cp, OP_GETATTR)->u.opgetattr.attr_request = (bitmap4){ .len = 3, .val = mask };
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	fa = &nfs4_cl_res(&cp, OP_GETATTR)->u.opgetattr.u.resok4.obj_attributes;
	assert_true(fa->attrmask.len >= 3);
	assert_int_equal(fa->attrmask.val[2], mask[2]);
	assert_int_equal(fa->attr_vals.len, 12);   /* count 1, FLEX_FILES, alignment */
	assert_int_equal(get_be32(fa->attr_vals.val), 1);
	assert_int_equal(get_be32(fa->attr_vals.val + 4), LAYOUT4_FLEX_FILES);
	assert_true(get_be32(fa->attr_vals.val + 8) >= 512);
	nfs4_cl_compound_free(&cp);

	assert_int_equal(layoutreturn(cl, &r.fh, LAYOUTRETURN4_FILE, &lg.sid, LAYOUTIOMODE4_ANY, 0,
				      NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(report(cl, &r.fh, &lg.sid, true, dev), NFS4ERR_BAD_STATEID);
	lg_free(&lg);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
}

static void test_pnfs_off_by_default(void **st)
{
	struct proto_server plain;
	struct nfs4_cl *cl;
	struct ot_open_res r;
	struct lg_res lg;

	(void)st;
	assert_int_equal(proto_server_start(&plain, "layout-off", NULL), 0);
	cl = ot_client(&plain, "lo-off");
	assert_true(cl->eir_flags & EXCHGID4_FLAG_USE_NON_PNFS);
	assert_false(cl->eir_flags & (EXCHGID4_FLAG_USE_PNFS_MDS | EXCHGID4_FLAG_USE_PNFS_DS));
	assert_int_equal(ot_open_simple(cl, "off", true, OPEN4_SHARE_ACCESS_BOTH,
					OPEN4_SHARE_DENY_NONE, &r), NFS4_OK);
	assert_int_equal(layoutget(cl, &r.fh, &r.sid, LAYOUT4_FLEX_FILES, LAYOUTIOMODE4_READ, 0,
				   NFS4_UINT64_MAX, 0, 4096, &lg), NFS4ERR_LAYOUTUNAVAILABLE);
	lg_free(&lg);
	assert_int_equal(ot_close(cl, &r.fh, &r.sid, NULL), NFS4_OK);
	ot_fh_free(&r.fh);
	nfs4_cl_close(cl, true);
	assert_int_equal(proto_server_stop_checked(&plain), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_and_fs_layout_type),
		cmocka_unit_test(test_layout_round_trip),
		cmocka_unit_test(test_layout_access_rules),
		cmocka_unit_test(test_layoutget_errors),
		cmocka_unit_test(test_getdeviceinfo_sizes_and_ids),
		cmocka_unit_test(test_layoutcommit),
		cmocka_unit_test(test_layouts_follow_the_opens),
		cmocka_unit_test(test_layouterror_layoutstats_and_attributes),
		cmocka_unit_test(test_pnfs_off_by_default),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
