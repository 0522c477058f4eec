/*
 * layout/layout_flexfiles.h: the flexible file layout type (RFC 8435) with
 * daxnfsd as its own, tightly coupled data server.
 *
 * Job: the bodies a stock Linux client reads: ff_layout4 for LAYOUTGET (one
 * mirror, one data server: the file's own handle and the layout stateid,
 * which the data server checks on every READ, WRITE and COMMIT), and
 * ff_device_addr4 for GETDEVICEINFO (a netaddr per transport the server
 * listens on, as server/ finds them for the asking client: "tcp", and
 * "rdma" with the RDMA transport, so that a client can do pNFS over RDMA;
 * NFSv4.1 and 4.2, tightly coupled); and the reports
 * of a LAYOUTRETURN's lrf_body (ff_layoutreturn4), checked and counted.
 * Its ops go into a layout_domain's type table (layout.h).
 * Calls: the generated RFC 8435 codecs (rpc/nfs4_xdr_gen.h), libc.
 * Called by: server/ (start: layout_ff_init; then through the type table).
 */
#ifndef DAXNFS_LAYOUT_LAYOUT_FLEXFILES_H
#define DAXNFS_LAYOUT_LAYOUT_FLEXFILES_H

#include <stdint.h>

#include "layout/layout.h"

/* The flex files type of one server: what its data server accepts, and
 * the counts of what clients reported. */
struct layout_ff {
	uint32_t rsize, wsize;          /* the data server's transfer sizes */
	uint32_t minor_versions;        /* bit n: NFSv4.n (1 and 2) */
	uint64_t returns_with_reports;  /* LAYOUTRETURNs whose body had reports */
	uint64_t ioerrs_reported;       /* ff_ioerr4 entries */
	uint64_t iostats_reported;      /* ff_iostats4 entries */
};

extern const struct layout_type_ops layout_ff_ops;

/* Sets ff up for a data server of rsize/wsize speaking the minor versions
 * in minor_mask (bits 1 and 2). 0 or -EINVAL. */
int layout_ff_init(struct layout_ff *ff, uint32_t rsize, uint32_t wsize, uint32_t minor_mask);
/* The device id of the data server (one today: index 0). */
void layout_ff_deviceid(unsigned index, deviceid4 out);

#endif
