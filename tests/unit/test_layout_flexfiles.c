/*
 * tests/unit/test_layout_flexfiles.c: the flexible file layout type
 * (layout/layout_flexfiles.c) read back with the generated RFC 8435
 * decoders: the layout a client gets (the whole file, one mirror, one data
 * server with the file's handle, the layout stateid and the device id), the
 * device address (a netaddr per transport, NFSv4.1 and 4.2, tightly
 * coupled), unknown device ids, and LAYOUTRETURN bodies good and bad.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "layout/layout_flexfiles.h"
#include "rpc/xdr.h"

static struct layout_ff ff;
static struct arena arena;
/* As server/ would find them for a client that came over RDMA. */
static const struct layout_devinfo_args where = {
	.addrs = { { "rdma", "10.0.2.15.78.81" }, { "tcp", "10.0.2.15.8.1" } },
	.naddrs = 2,
};

static int setup(void **state)
{
	(void)state;
	arena_init(&arena, 1 << 20);
	return layout_ff_init(&ff, 1 << 20, 1 << 20, (1u << 1) | (1u << 2));
}

static int teardown(void **state)
{
	(void)state;
	arena_release(&arena);
	return 0;
}

static void test_config_limits(void **state)
{
	struct layout_ff x;

	(void)state;
	assert_int_equal(layout_ff_init(&x, 0, 4096, 2), -EINVAL);
	assert_int_equal(layout_ff_init(&x, 4096, 4096, 1), -EINVAL);   /* NFSv4.0: no pNFS */
	assert_int_equal(layout_ff_init(&x, 4096, 4096, 0), -EINVAL);
	assert_int_equal(layout_ff_init(&x, 4096, 4096, 2), 0);
}

static void test_layout_body_reads_back(void **state)
{
	const uint8_t fh[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	struct layout_get_args a = { .fh = fh, .fh_len = sizeof(fh), .owner_uid = 1000,
				     .owner_gid = 100 };
	struct layout_seg seg = { { 4096, 8192 }, LAYOUTIOMODE4_RW };
	struct xdr_stream x;
	ff_layout4 lo;
	deviceid4 dev0;
	void *body;
	uint32_t len;

	(void)state;
	a.stateid.seqid = 1;
	memset(a.stateid.other, 0xab, sizeof(a.stateid.other));
	assert_int_equal(layout_ff_ops.layoutget(&ff, &a, &seg, &arena, &body, &len), NFS4_OK);
	/* The whole file, whatever was asked for. */
	assert_true(seg.range.start == 0 && seg.range.end == LAYOUT_END);
	assert_int_equal(seg.iomode, LAYOUTIOMODE4_RW);
	assert_int_equal(len % 4, 0);
	xdr_init_decode(&x, body, len, &arena);
	assert_true(xdr_dec_ff_layout4(&x, &lo));
	assert_int_equal(xdr_remaining(&x), 0);
	assert_int_equal(lo.ffl_mirrors.len, 1);
	assert_int_equal(lo.ffl_flags, FF_FLAGS_NO_LAYOUTCOMMIT);
	assert_int_equal(lo.ffl_mirrors.val[0].ffm_data_servers.len, 1);
	const ff_data_server4 *ds = &lo.ffl_mirrors.val[0].ffm_data_servers.val[0];
	layout_ff_deviceid(0, dev0);
	assert_memory_equal(ds->ffds_deviceid, dev0, NFS4_DEVICEID4_SIZE);
	assert_int_equal(ds->ffds_stateid.seqid, 1);
	assert_memory_equal(ds->ffds_stateid.other, a.stateid.other, sizeof(a.stateid.other));
	assert_int_equal(ds->ffds_fh_vers.len, 1);
	assert_int_equal(ds->ffds_fh_vers.val[0].len, sizeof(fh));
	assert_memory_equal(ds->ffds_fh_vers.val[0].val, fh, sizeof(fh));
	assert_int_equal(ds->ffds_user.len, 4);
	assert_memory_equal(ds->ffds_user.val, "1000", 4);
	assert_int_equal(ds->ffds_group.len, 3);
	assert_memory_equal(ds->ffds_group.val, "100", 3);
}

static void test_device_address_reads_back(void **state)
{
	struct xdr_stream x;
	ff_device_addr4 da;
	deviceid4 dev0, other;
	void *body;
	uint32_t len, i;

	(void)state;
	layout_ff_deviceid(0, dev0);
	assert_int_equal(layout_ff_ops.getdeviceinfo(&ff, dev0, &where, &arena, &body, &len), NFS4_OK);
	xdr_init_decode(&x, body, len, &arena);
	assert_true(xdr_dec_ff_device_addr4(&x, &da));
	assert_int_equal(xdr_remaining(&x), 0);
	assert_int_equal(da.ffda_netaddrs.len, 2);
	assert_int_equal(da.ffda_netaddrs.val[0].na_r_netid.len, 4);
	assert_memory_equal(da.ffda_netaddrs.val[0].na_r_netid.val, "rdma", 4);
	assert_memory_equal(da.ffda_netaddrs.val[1].na_r_addr.val, "10.0.2.15.8.1", 13);
	assert_int_equal(da.ffda_versions.len, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(da.ffda_versions.val[i].ffdv_version, 4);
		assert_int_equal(da.ffda_versions.val[i].ffdv_minorversion, i + 1);
		assert_int_equal(da.ffda_versions.val[i].ffdv_rsize, 1 << 20);
		assert_true(da.ffda_versions.val[i].ffdv_tightly_coupled);
	}
	/* Asked from an NFSv4.2 session: 4.2 first (the client then reaches
	 * the data server with the metadata server's version). */
	{
		struct layout_devinfo_args w42 = where;

		w42.minorversion = 2;
		assert_int_equal(layout_ff_ops.getdeviceinfo(&ff, dev0, &w42, &arena, &body, &len), NFS4_OK);
		xdr_init_decode(&x, body, len, &arena);
		assert_true(xdr_dec_ff_device_addr4(&x, &da));
		assert_int_equal(da.ffda_versions.len, 2);
		assert_int_equal(da.ffda_versions.val[0].ffdv_minorversion, 2);
		assert_int_equal(da.ffda_versions.val[1].ffdv_minorversion, 1);
	}
	/* An id this server never gave out, or another index. */
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(layout_ff_ops.getdeviceinfo(&ff, other, &where, &arena, &body, &len), NFS4ERR_NOENT);
	layout_ff_deviceid(1, other);
	assert_int_equal(layout_ff_ops.getdeviceinfo(&ff, other, &where, &arena, &body, &len), NFS4ERR_NOENT);
}

static void test_layoutreturn_bodies(void **state)
{
	ff_ioerr4 err;
	ff_iostats4 st[2];
	ff_layoutreturn4 lr;
	uint8_t buf[1024];
	struct xdr_stream x;
	size_t n;

	(void)state;
	assert_int_equal(layout_ff_ops.layoutreturn(&ff, NULL, NULL, NULL, 0, &arena), NFS4_OK);
	assert_true(ff.returns_with_reports == 0);
	memset(&err, 0, sizeof(err));
	memset(st, 0, sizeof(st));
	memset(&lr, 0, sizeof(lr));
	err.ffie_length = 4096;
	lr.fflr_ioerr_report.len = 1;
	lr.fflr_ioerr_report.val = &err;
	lr.fflr_iostats_report.len = 2;
	lr.fflr_iostats_report.val = st;
	xdr_init_encode(&x, buf, sizeof(buf));
	assert_true(xdr_enc_ff_layoutreturn4(&x, &lr));
	n = xdr_pos(&x);
	assert_int_equal(layout_ff_ops.layoutreturn(&ff, NULL, NULL, buf, (uint32_t)n, &arena), NFS4_OK);
	assert_true(ff.returns_with_reports == 1 && ff.ioerrs_reported == 1 && ff.iostats_reported == 2);
	/* Cut short, or with bytes after it, or an absurd count. */
	assert_int_equal(layout_ff_ops.layoutreturn(&ff, NULL, NULL, buf, (uint32_t)n - 4, &arena),
			 NFS4ERR_BADXDR);
	memset(buf + n, 0, 8);
	assert_int_equal(layout_ff_ops.layoutreturn(&ff, NULL, NULL, buf, (uint32_t)n + 8, &arena),
			 NFS4ERR_BADXDR);
	memset(buf, 0xff, 8);
	assert_int_equal(layout_ff_ops.layoutreturn(&ff, NULL, NULL, buf, 8, &arena), NFS4ERR_BADXDR);
	assert_true(ff.returns_with_reports == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_limits),
		cmocka_unit_test_setup_teardown(test_layout_body_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_address_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layoutreturn_bodies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
