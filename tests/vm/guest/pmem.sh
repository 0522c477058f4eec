# tests/vm/guest/pmem.sh: scenario pmem: daxnfsd inside the guest exports an
# XFS on the emulated NVDIMM (/dev/pmem0) mounted -o dax=always; the guest's
# kernel client mounts it over 127.0.0.1 and runs the workload. The files the
# server keeps must really be DAX: statx STATX_ATTR_DAX (0x200000), logged.
. /host/guest/lib.sh
. /host/guest/workload.sh

# is_dax FILE: statx attributes of FILE include STATX_ATTR_DAX.
is_dax() {
	a=$(xfs_io -r -c 'statx -r' "$1" | awk '$1 == "stat.attributes" {print $3}')
	if [ -n "$a" ] && [ $(( a & 0x200000 )) -ne 0 ]; then
		echo "statx attributes of $1: $a: STATX_ATTR_DAX (0x200000) is set: DAX is on"
		return 0
	fi
	echo "statx attributes of $1: '$a': STATX_ATTR_DAX (0x200000) is NOT set"
	return 1
}

pmem_xfs_up
echo probe > /pmem/export/.daxprobe
ckv "a file on the XFS is DAX (statx)" is_dax /pmem/export/.daxprobe
rm -f /pmem/export/.daxprobe

# The pmem backend's own DAX unit test (tests/unit/test_pmem_dax.c) on this
# mount: MAP_SYNC mappings and the CPU cache flush of stable writes, which a
# host without a DAX device cannot exercise. It skips itself when it finds no
# DAX file; here that is a failure.
dax_unit() {
	mkdir -p /pmem/unit
	run_cmocka test_pmem_dax 2 env DAXNFS_DAX_DIR=/pmem/unit ASAN_OPTIONS=detect_leaks=1 test_pmem_dax
	_du_rc=$?
	rmdir /pmem/unit 2>/dev/null
	return $_du_rc
}
if [ -x /host/bin/test_pmem_dax ]; then
	ckv "pmem backend DAX unit test on /pmem" dax_unit
else
	echo "NOTE: no test_pmem_dax in the share (not built): the backend's DAX unit test is not run"
fi

cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 2049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/pmem/state"; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /pmem/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on 127.0.0.1:2049" wait_listen 2049 30
grep -i -E 'dax|export' /host/out/daxnfsd.log | head -5

# The extended-attribute protocol test (tests/proto/test_xattr.c) here,
# where the kernel has vfat: its export on a FAT image (no user xattrs, file
# handles all the same) must answer NFS4ERR_NOTSUPP and xattr_support false;
# the host has no vfat and skips that case. Its other exports on an XFS
# image (tmpfs keeps no user.* before Linux 6.6).
xattr_proto() {
	modprobe loop && modprobe vfat && modprobe nls_cp437 && modprobe nls_ascii || return 1
	mkdir -p /xt && mount -t tmpfs -o size=400m tmpfs /xt && truncate -s 320M /xt/img &&
		mkfs.xfs -q /xt/img && mkdir -p /xt/fs && mount -o loop /xt/img /xt/fs || return 1
	run_cmocka test_xattr 3 env DAXNFSD=/host/bin/daxnfsd DAXNFS_TEST_TMP=/xt/fs proto_test_xattr
	_xp_rc=$?
	umount /xt/fs; umount /xt
	return $_xp_rc
}
if [ -x /host/bin/proto_test_xattr ]; then
	ckv "extended-attribute protocol test (FAT export included)" xattr_proto
else
	echo "NOTE: no proto_test_xattr in the share (not built): the FAT export case is not run"
fi

workload 127.0.0.1 2049 4.2

ckv "the server's 256 MiB file is DAX (statx)" is_dax /pmem/export/wl/big
ckv "a small file on the server is DAX (statx)" is_dax /pmem/export/wl/small/f1
ck "the export's files match the client's checksums" eval "cd /pmem/export && sha256sum --quiet -c /host/out/export.sha256"

kill -TERM $srv
wait $srv
rc=$?
tail -3 /host/out/daxnfsd.log
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd exit status" "$rc" 0
ck "no sanitizer report from daxnfsd" eval "! grep -E 'Sanitizer|runtime error' /host/out/daxnfsd.log"
finish
