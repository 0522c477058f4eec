# tests/vm/guest/pnfsbench.sh: scenario pnfsbench (a benchmark, not a test):
# the kernel client's throughput through flexible file layouts against the
# same without them, and against the guest kernel's own nfsd, one after the
# other in one boot: fio (fiobench.sh: 1 MiB sequential write and read of a
# PNFSBENCH_MIB MiB file, PNFSBENCH_SECS s each of 4 KiB random read and
# write at queue depth 1 and 8; O_DIRECT) through a vers=4.2 TCP mount of
# daxnfsd with Enable_pNFS (its own data server, on 10.0.2.15), of daxnfsd
# without it (same XFS, same files), and of knfsd (an XFS of its own). The
# markdown table goes to /host/out/pnfsbench.md (scripts/bench-pnfs-vm.sh
# prints it). Checked: the pNFS mount takes flex files layouts, daxnfsd's
# data server served layout-stateid I/O then, the bytes come back, fio exits 0.
. /host/guest/lib.sh
. /host/guest/fiobench.sh
MIB=${PNFSBENCH_MIB:-256}
SECS=${PNFSBENCH_SECS:-15}
ADDR=10.0.2.15
MNT=/mnt

command -v fio >/dev/null || { echo "FAIL: fio is not in the guest image (run-vm.sh adds it for pnfsbench)"; NFAIL=1; finish; }
echo "fio: $(fio --version)"
must "modprobe nfsd nfsv4 nfs_layout_flexfiles" \
	eval 'modprobe nfsd && modprobe nfsv4 && modprobe nfs_layout_flexfiles'
must "modprobe loop xfs" eval 'modprobe loop && modprobe xfs'

: > /host/out/fio.terse
: > /tmp/rows
head -c $((MIB * 1048576)) /dev/urandom > /tmp/src
src_sum=$(sha256sum < /tmp/src | cut -d' ' -f1)

must "XFS for daxnfsd" loop_xfs dax $((MIB * 2 + 300))
# daxnfsd_run NAME PNFS: daxnfsd with Enable_pNFS = PNFS, measured
daxnfsd_run() {
	cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = $ADDR; NFS_Port = 2049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/srv/dax/state"; Enable_pNFS = $2; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /srv/dax/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
	rm -rf /srv/dax/state/* /srv/dax/export/seq
	daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd-$1.log 2>&1 &
	srv=$!
	must "$1: daxnfsd listens" wait_listen 2049 30
	measure $1 tcp 2049 $([ "$2" = true ] && echo pnfs)
	kill -TERM $srv
	wait $srv
	grep -a 'pNFS: ' /host/out/daxnfsd-$1.log
}
daxnfsd_run daxnfsd-pnfs true
ds_io() {
	grep -a 'pNFS: .* LAYOUTGETs granted' /host/out/daxnfsd-daxnfsd-pnfs.log |
		sed -n 's/.* \([0-9][0-9]*\) WRITEs.*/\1/p'
}
ck "daxnfsd-pnfs: WRITEs came to the data server with a layout stateid" test "$(ds_io)" -gt 0
daxnfsd_run daxnfsd false

must "XFS for knfsd" loop_xfs knfsd $((MIB * 2 + 300))
start_knfsd /srv/knfsd/export
measure knfsd tcp 2049

set -- $(row daxnfsd-pnfs); p_w=$1 p_r=$2 p_rr=$3 p_rw=$4 p_rr8=$5 p_rw8=$6
set -- $(row daxnfsd); d_w=$1 d_r=$2 d_rr=$3 d_rw=$4 d_rr8=$5 d_rw8=$6
set -- $(row knfsd); k_w=$1 k_r=$2 k_rr=$3 k_rw=$4 k_rr8=$5 k_rw8=$6
# line LABEL PNFS PLAIN KNFSD: one table row
line() {
	echo "| $1 | $2 | $3 | $4 | $(ratio $2 $3) | $(ratio $2 $4) |"
}
{
	echo "| fio, vers=4.2 TCP, O_DIRECT, $MIB MiB file | daxnfsd pNFS | daxnfsd | knfsd | pNFS ÷ no pNFS | daxnfsd pNFS ÷ knfsd |"
	echo "|---|---|---|---|---|---|"
	line "1 MiB sequential write (MiB/s)" $p_w $d_w $k_w
	line "1 MiB sequential read (MiB/s)" $p_r $d_r $k_r
	line "4 KiB random read, QD1, $SECS s (IOPS)" $p_rr $d_rr $k_rr
	line "4 KiB random write, QD1, $SECS s (IOPS)" $p_rw $d_rw $k_rw
	line "4 KiB random read, QD8 libaio, $SECS s (IOPS)" $p_rr8 $d_rr8 $k_rr8
	line "4 KiB random write, QD8 libaio, $SECS s (IOPS)" $p_rw8 $d_rw8 $k_rw8
} > /host/out/pnfsbench.md
cat /host/out/pnfsbench.md
finish
