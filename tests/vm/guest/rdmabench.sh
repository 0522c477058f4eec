# tests/vm/guest/rdmabench.sh: scenario rdmabench (a benchmark, not a test):
# the same fio loads through a kernel NFS mount, vers=4.2, against daxnfsd
# over RPC-over-RDMA, daxnfsd over TCP and the guest kernel's own nfsd over
# RDMA and over TCP, one after the other in one boot, each exporting the
# same kind of XFS (a loop image in the guest's memory), the client on
# 10.0.2.15 over soft-RoCE (rxe0) or TCP. Per server and transport, with
# fio (Debian's; run-vm.sh builds this scenario's image with it) on one file
# of RDMABENCH_MIB MiB, O_DIRECT: 1 MiB sequential write and read of the
# whole file (psync), then RDMABENCH_SECS s each of 4 KiB random read and
# write at queue depth 1 (psync) and at queue depth 8 (libaio). The markdown
# table goes to /host/out/rdmabench.md (scripts/bench-rdma-vm.sh prints it),
# fio's terse lines to /host/out/fio.terse. Only what a benchmark needs is
# checked: every mount has the transport it was asked for, the bytes dd
# wrote come back (sha256), and every fio run exits 0 with no error.
. /host/guest/lib.sh
. /host/guest/fiobench.sh
MIB=${RDMABENCH_MIB:-256}
SECS=${RDMABENCH_SECS:-15}
ADDR=10.0.2.15
MNT=/mnt

command -v fio >/dev/null || { echo "FAIL: fio is not in the guest image (run-vm.sh adds it for rdmabench)"; NFAIL=1; finish; }
echo "fio: $(fio --version)"

rxe_up
must "modprobe nfsd nfsv4" eval 'modprobe nfsd && modprobe nfsv4'
must "modprobe loop xfs" eval 'modprobe loop && modprobe xfs'
must "modprobe rpcrdma (svcrdma too)" eval 'modprobe rpcrdma; modprobe svcrdma 2>/dev/null; true'

: > /host/out/fio.terse
head -c $((MIB * 1048576)) /dev/urandom > /tmp/src
src_sum=$(sha256sum < /tmp/src | cut -d' ' -f1)

: > /tmp/rows
must "XFS for daxnfsd" loop_xfs dax $((MIB * 2 + 300))
cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = $ADDR; NFS_Port = 2049; Enable_RDMA = true; NFS_RDMA_Port = 20049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/srv/dax/state"; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /srv/dax/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens" wait_listen 2049 30
measure daxnfsd-rdma rdma 20049
measure daxnfsd-tcp tcp 2049
kill -TERM $srv
wait $srv
grep -a 'rdma: at exit' /host/out/daxnfsd.log

must "XFS for knfsd" loop_xfs knfsd $((MIB * 2 + 300))
start_knfsd /srv/knfsd/export
must "knfsd listens on RDMA 20049" eval 'echo "rdma 20049" > /proc/fs/nfsd/portlist'
measure knfsd-rdma rdma 20049
measure knfsd-tcp tcp 2049

set -- $(row daxnfsd-rdma); dr_w=$1 dr_r=$2 dr_rr=$3 dr_rw=$4 dr_rr8=$5 dr_rw8=$6
set -- $(row daxnfsd-tcp); dt_w=$1 dt_r=$2 dt_rr=$3 dt_rw=$4 dt_rr8=$5 dt_rw8=$6
set -- $(row knfsd-rdma); kr_w=$1 kr_r=$2 kr_rr=$3 kr_rw=$4 kr_rr8=$5 kr_rw8=$6
set -- $(row knfsd-tcp); kt_w=$1 kt_r=$2 kt_rr=$3 kt_rw=$4 kt_rr8=$5 kt_rw8=$6
# line LABEL DAXNFSD-RDMA DAXNFSD-TCP KNFSD-RDMA KNFSD-TCP: one table row
line() {
	echo "| $1 | $2 | $3 | $4 | $5 | $(ratio $2 $4) | $(ratio $2 $3) |"
}
{
	echo "| fio, vers=4.2, O_DIRECT, $MIB MiB file | daxnfsd rdma | daxnfsd tcp | knfsd rdma | knfsd tcp | daxnfsd rdma ÷ knfsd rdma | daxnfsd rdma ÷ daxnfsd tcp |"
	echo "|---|---|---|---|---|---|---|"
	line "1 MiB sequential write (MiB/s)" $dr_w $dt_w $kr_w $kt_w
	line "1 MiB sequential read (MiB/s)" $dr_r $dt_r $kr_r $kt_r
	line "4 KiB random read, QD1, $SECS s (IOPS)" $dr_rr $dt_rr $kr_rr $kt_rr
	line "4 KiB random write, QD1, $SECS s (IOPS)" $dr_rw $dt_rw $kr_rw $kt_rw
	line "4 KiB random read, QD8 libaio, $SECS s (IOPS)" $dr_rr8 $dt_rr8 $kr_rr8 $kt_rr8
	line "4 KiB random write, QD8 libaio, $SECS s (IOPS)" $dr_rw8 $dt_rw8 $kr_rw8 $kt_rw8
} > /host/out/rdmabench.md
cat /host/out/rdmabench.md
finish
