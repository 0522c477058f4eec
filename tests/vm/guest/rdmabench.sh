# tests/vm/guest/rdmabench.sh: scenario rdmabench (a benchmark, not a test):
# the same I/O through a kernel NFS mount, vers=4.2, against daxnfsd over
# RPC-over-RDMA, daxnfsd over TCP and the guest kernel's own nfsd over RDMA
# and over TCP, one after the other in one boot, each exporting the same
# kind of XFS (a loop image in the guest's memory), the client on 10.0.2.15
# over soft-RoCE (rxe0) or TCP. Per server and transport: a 1 MiB
# sequential write and read of RDMABENCH_MIB MiB with O_DIRECT (dd), and
# 4 KiB random reads and writes at queue depth 1 with O_DIRECT for
# RDMABENCH_SECS s each (vmtool randio). fio is not in the image (Debian's
# pulls in dozens of packages the image does not have). The markdown table
# goes to /host/out/rdmabench.md (scripts/bench-rdma-vm.sh prints it).
# Only what a benchmark needs is checked: every mount has the transport it
# was asked for, and the file read back has the bytes written.
. /host/guest/lib.sh
MIB=${RDMABENCH_MIB:-256}
SECS=${RDMABENCH_SECS:-15}
ADDR=10.0.2.15
MNT=/mnt

now_ns() { date +%s%N; }

rxe_up
must "modprobe nfsd nfsv4" eval 'modprobe nfsd && modprobe nfsv4'
must "modprobe loop xfs" eval 'modprobe loop && modprobe xfs'
must "modprobe rpcrdma (svcrdma too)" eval 'modprobe rpcrdma; modprobe svcrdma 2>/dev/null; true'

head -c $((MIB * 1048576)) /dev/urandom > /tmp/src
src_sum=$(sha256sum < /tmp/src | cut -d' ' -f1)

# measure NAME PROTO PORT: one row of figures in /tmp/rows (MiB/s, IOPS)
measure() {
	srvname=$1 proto=$2 port=$3
	must "$srvname: mount vers=4.2 proto=$proto" \
		mount -t nfs -o vers=4.2,proto=$proto,port=$port $ADDR:/ $MNT
	xprt=$(awk -v m=$MNT '$1 == "device" { show = ($5 == m) } show && $1 == "xprt:" { print $2; exit }' \
		/proc/self/mountstats)
	ck "$srvname: the mount's transport is $proto" eq "xprt" "$xprt" "$proto"
	t0=$(now_ns)
	dd if=/tmp/src of=$MNT/seq bs=1M oflag=direct status=none
	t1=$(now_ns)
	got=$(dd if=$MNT/seq bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
	t2=$(now_ns)
	ck "$srvname: the file read back is the one written" eq "sha256" "$got" "$src_sum"
	wr=$((MIB * 1000000000 / (t1 - t0 + 1)))
	rd=$((MIB * 1000000000 / (t2 - t1 + 1)))
	rr=$(vmtool randio read $MNT/seq $SECS | sed -n 's/.* iops \([0-9]*\).*/\1/p')
	rw=$(vmtool randio write $MNT/seq $SECS | sed -n 's/.* iops \([0-9]*\).*/\1/p')
	umount $MNT
	echo "$srvname $wr $rd ${rr:-0} ${rw:-0}" >> /tmp/rows
	echo "$srvname: seq write $wr MiB/s, seq read $rd MiB/s, 4k rand read ${rr:-?} IOPS, 4k rand write ${rw:-?} IOPS"
}

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

# ratio A B: A/B with two decimals
ratio() {
	[ "$2" -gt 0 ] || { echo "-"; return; }
	_r=$(($1 * 100 / $2))
	printf '%d.%02d' $((_r / 100)) $((_r % 100))
}
row() { awk -v n="$1" '$1 == n { print $2, $3, $4, $5 }' /tmp/rows; }
set -- $(row daxnfsd-rdma); dr_w=$1 dr_r=$2 dr_rr=$3 dr_rw=$4
set -- $(row daxnfsd-tcp); dt_w=$1 dt_r=$2 dt_rr=$3 dt_rw=$4
set -- $(row knfsd-rdma); kr_w=$1 kr_r=$2 kr_rr=$3 kr_rw=$4
set -- $(row knfsd-tcp); kt_w=$1 kt_r=$2 kt_rr=$3 kt_rw=$4
{
	echo "| workload (vers=4.2, O_DIRECT) | daxnfsd rdma | daxnfsd tcp | knfsd rdma | knfsd tcp | daxnfsd rdma ÷ knfsd rdma | daxnfsd rdma ÷ daxnfsd tcp |"
	echo "|---|---|---|---|---|---|---|"
	echo "| 1 MiB sequential write, $MIB MiB (MiB/s) | $dr_w | $dt_w | $kr_w | $kt_w | $(ratio $dr_w $kr_w) | $(ratio $dr_w $dt_w) |"
	echo "| 1 MiB sequential read, $MIB MiB (MiB/s) | $dr_r | $dt_r | $kr_r | $kt_r | $(ratio $dr_r $kr_r) | $(ratio $dr_r $dt_r) |"
	echo "| 4 KiB random read, QD1, $SECS s (IOPS) | $dr_rr | $dt_rr | $kr_rr | $kt_rr | $(ratio $dr_rr $kr_rr) | $(ratio $dr_rr $dt_rr) |"
	echo "| 4 KiB random write, QD1, $SECS s (IOPS) | $dr_rw | $dt_rw | $kr_rw | $kt_rw | $(ratio $dr_rw $kr_rw) | $(ratio $dr_rw $dt_rw) |"
} > /host/out/rdmabench.md
cat /host/out/rdmabench.md
finish
