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
MIB=${RDMABENCH_MIB:-256}
SECS=${RDMABENCH_SECS:-15}
ADDR=10.0.2.15
MNT=/mnt

command -v fio >/dev/null || { echo "FAIL: fio is not in the guest image (run-vm.sh adds it for rdmabench)"; NFAIL=1; finish; }
echo "fio: $(fio --version)"

# fio_run NAME FIELD FIO-ARGS...: one fio job on $MNT/seq (O_DIRECT); sets FIG
# to field FIELD of its terse (version 3) line: 7 read KiB/s, 8 read IOPS,
# 48 write KiB/s, 49 write IOPS (field 5 is the job's error), 0 when it failed.
fio_run() {
	_name=$1 _field=$2
	shift 2
	fio --name="$_name" --filename=$MNT/seq --direct=1 --size=${MIB}M \
		--output-format=terse --terse-version=3 "$@" > /tmp/fio.out 2>&1
	_rc=$?
	_line=$(grep -m1 '^3;' /tmp/fio.out)
	echo "$srvname $_name $_line" >> /host/out/fio.terse
	_err=$(echo "$_line" | cut -d';' -f5)
	ck "$srvname: fio $_name exits 0 with no error" eq "fio rc;error" "$_rc;$_err" "0;0" ||
		sed 's/^/  fio: /' /tmp/fio.out | head -5
	FIG=$(echo "$_line" | cut -d';' -f"$_field" | cut -d. -f1)
	FIG=${FIG:-0}
}

rxe_up
must "modprobe nfsd nfsv4" eval 'modprobe nfsd && modprobe nfsv4'
must "modprobe loop xfs" eval 'modprobe loop && modprobe xfs'
must "modprobe rpcrdma (svcrdma too)" eval 'modprobe rpcrdma; modprobe svcrdma 2>/dev/null; true'

: > /host/out/fio.terse
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
	dd if=/tmp/src of=$MNT/seq bs=1M oflag=direct status=none
	got=$(dd if=$MNT/seq bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
	ck "$srvname: the file read back is the one written" eq "sha256" "$got" "$src_sum"
	fio_run seqwrite 48 --rw=write --bs=1M --ioengine=psync; wr=$((FIG / 1024))
	fio_run seqread 7 --rw=read --bs=1M --ioengine=psync; rd=$((FIG / 1024))
	fio_run randread-qd1 8 --rw=randread --bs=4k --ioengine=psync --runtime=$SECS --time_based; rr=$FIG
	fio_run randwrite-qd1 49 --rw=randwrite --bs=4k --ioengine=psync --runtime=$SECS --time_based; rw=$FIG
	fio_run randread-qd8 8 --rw=randread --bs=4k --ioengine=libaio --iodepth=8 --runtime=$SECS --time_based; rr8=$FIG
	fio_run randwrite-qd8 49 --rw=randwrite --bs=4k --ioengine=libaio --iodepth=8 --runtime=$SECS --time_based; rw8=$FIG
	umount $MNT
	echo "$srvname $wr $rd $rr $rw $rr8 $rw8" >> /tmp/rows
	echo "$srvname: seq write $wr MiB/s, seq read $rd MiB/s, 4k rand read $rr/$rr8 IOPS (QD1/QD8), 4k rand write $rw/$rw8 IOPS (QD1/QD8)"
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
row() { awk -v n="$1" '$1 == n { print $2, $3, $4, $5, $6, $7 }' /tmp/rows; }
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
