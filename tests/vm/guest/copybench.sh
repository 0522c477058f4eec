# tests/vm/guest/copybench.sh: scenario copybench (a benchmark, not a test):
# a 1 GiB file copied three ways through an NFSv4.2 mount — cp
# --reflink=always (CLONE), copy_file_range (xfs_io copy_range: COPY, which
# daxnfsd runs asynchronously) and a plain read-and-write copy (dd with
# O_DIRECT both ways, every byte over the wire twice) — against daxnfsd and
# against the guest kernel's own nfsd, one after the other in one boot, each
# exporting an XFS with reflink on a loop image in the guest's memory, the
# client over loopback. The markdown table goes to /host/out/copybench.md
# (scripts/bench-copy-vm.sh prints it). Only what a benchmark needs is
# checked: each copy has the source's size and the COPY's bytes are the
# source's (cmp on the server's side).
. /host/guest/lib.sh
MIB=1048576
SIZE_MIB=${COPYBENCH_MIB:-1024}

now_ns() { date +%s%N; }
secs() {        # secs T0 T1: "S.mmm"
	_d=$((($2 - $1) / 1000000))
	printf '%d.%03d' $((_d / 1000)) $((_d % 1000))
}
ratio() {       # ratio A_NS B_NS: A/B with one decimal
	[ "$2" -gt 0 ] || { echo "-"; return; }
	_r=$(($1 * 10 / $2))
	printf '%d.%d' $((_r / 10)) $((_r % 10))
}

# run_copies NAME MNT EXPORT_DIR: the three copies through MNT; one table row.
run_copies() {
	srvname=$1 mnt=$2 exp=$3
	dd if=/dev/urandom of=/tmp/chunk bs=1M count=64 status=none
	t0=$(now_ns)
	i=0
	while [ $i -lt $((SIZE_MIB / 64)) ]; do cat /tmp/chunk; i=$((i + 1)); done |
		dd of=$mnt/src bs=1M iflag=fullblock oflag=direct conv=fsync status=none
	t1=$(now_ns)
	ck "$srvname: source written" eq "size" "$(stat -c %s $mnt/src)" $((SIZE_MIB * MIB))
	sync; echo 3 > /proc/sys/vm/drop_caches
	t2=$(now_ns)
	ck "$srvname: cp --reflink=always" cp --reflink=always $mnt/src $mnt/clone
	t3=$(now_ns)
	ck "$srvname: copy_file_range (COPY)" xfs_io -f -c "copy_range $mnt/src" $mnt/copy
	t4=$(now_ns)
	sync; echo 3 > /proc/sys/vm/drop_caches
	t5=$(now_ns)
	ck "$srvname: read-and-write copy" dd if=$mnt/src of=$mnt/rw bs=4M iflag=direct oflag=direct conv=fsync status=none
	t6=$(now_ns)
	for f in clone copy rw; do
		ck "$srvname: $f's size" eq "size" "$(stat -c %s $mnt/$f)" $((SIZE_MIB * MIB))
	done
	ck "$srvname: the COPY's bytes (cmp on the server)" cmp -s $exp/src $exp/copy
	printf '| %s | %s | %s | %s | %s | %sx | %sx |\n' "$srvname" "$(secs $t0 $t1)" \
		"$(secs $t2 $t3)" "$(secs $t3 $t4)" "$(secs $t5 $t6)" \
		"$(ratio $((t6 - t5)) $((t4 - t3)))" "$(ratio $((t6 - t5)) $((t3 - t2)))" \
		>> /host/out/copybench.md
	rm -f $mnt/src $mnt/clone $mnt/copy $mnt/rw
}

must "modprobe nfsd" modprobe nfsd
must "modprobe nfsv4" modprobe nfsv4
must "modprobe loop xfs" eval "modprobe loop && modprobe xfs"
must "XFS for knfsd" loop_xfs knfsd 3400
must "XFS for daxnfsd" loop_xfs dax 3400
mkdir -p /mnt/knfsd /mnt/dax
start_knfsd /srv/knfsd/export

cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 20490; Threads = 8; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/srv/dax/state"; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /srv/dax/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on 127.0.0.1:20490" wait_listen 20490 30

{
	echo "| server | write ${SIZE_MIB} MiB (s) | cp --reflink (s) | COPY (s) | read-and-write copy (s) | read-and-write / COPY | read-and-write / cp --reflink |"
	echo "|---|---|---|---|---|---|---|"
} > /host/out/copybench.md

must "mount daxnfsd vers=4.2" mount -t nfs -o vers=4.2,proto=tcp,port=20490 127.0.0.1:/ /mnt/dax
run_copies daxnfsd /mnt/dax /srv/dax/export
log_mount /mnt/dax | head -3
awk '$1 == "device" { show = ($5 == "/mnt/dax") }
	show && $1 ~ /^(CLONE|COPY|OFFLOAD_STATUS|READ|READ_PLUS|WRITE|COMMIT):$/' \
	/proc/self/mountstats | sed 's/^/--- daxnfsd mountstats per-op: /'
ck "umount daxnfsd" umount /mnt/dax
kill -TERM $srv
wait $srv
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd exit status" "$?" 0
grep -a 'asynchronous copies' /host/out/daxnfsd.log | sed 's/^/--- daxnfsd: /'

# knfsd's grace period (15 s) ended while daxnfsd ran.
must "mount knfsd vers=4.2" mount -t nfs -o vers=4.2,proto=tcp,port=2049 127.0.0.1:/ /mnt/knfsd
run_copies "knfsd $(uname -r)" /mnt/knfsd /srv/knfsd/export
awk '$1 == "device" { show = ($5 == "/mnt/knfsd") }
	show && $1 ~ /^(CLONE|COPY|OFFLOAD_STATUS|READ|READ_PLUS|WRITE|COMMIT):$/' \
	/proc/self/mountstats | sed 's/^/--- knfsd mountstats per-op: /'
ck "umount knfsd" umount /mnt/knfsd
cat /host/out/copybench.md
finish
