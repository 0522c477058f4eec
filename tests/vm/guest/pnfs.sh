# tests/vm/guest/pnfs.sh: scenario pnfs: the Linux kernel client doing pNFS
# with flexible file layouts against daxnfsd (Enable_pNFS) in the guest,
# daxnfsd being its own data server on 10.0.2.15 (an address the client can
# reach: a host daxnfsd behind QEMU's user network sees 127.0.0.1 as its
# own address, which the guest cannot connect to).
#
# The kernel client mounts vers=4.1, writes and reads back a 4 MiB file
# with O_DIRECT and runs the user workload (checksums); then vers=4.2 reads
# the workload's files back and does the 4 MiB round trip. Checked per mount: the client took the layout type (mountstats
# "pnfs=LAYOUT_FLEX_FILES") and asked for the device (GETDEVICEINFO in
# mountstats; its LAYOUTGETs ride in its OPEN compounds, so mountstats
# counts them as OPENs). At the end, from daxnfsd's exit line: layouts were
# granted, and READs and WRITEs came to the data server with a layout
# stateid (at least the two 4 MiB files' worth); daxnfsd exits 0.
. /host/guest/lib.sh
. /host/guest/workload.sh

ADDR=10.0.2.15

must "modprobe nfsv4 loop xfs" eval 'modprobe nfsv4 && modprobe loop && modprobe xfs'
must "modprobe nfs_layout_flexfiles" modprobe nfs_layout_flexfiles
must "XFS for daxnfsd" loop_xfs dax 1200
cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = $ADDR; NFS_Port = 2049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/srv/dax/state"; Enable_pNFS = true; }
LOG { Level = ${DAXNFS_VM_LOG_LEVEL:-info}; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /srv/dax/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on $ADDR:2049" wait_listen 2049 30

# op_count OP: the count of OP on the mount at $MNT (mountstats per-op line)
op_count() {
	awk -v m="$MNT" -v op="$1:" '$1 == "device" { show = ($5 == m) }
		show && $1 == op { print $2; exit }' /proc/self/mountstats
}

# pnfs_used VERS: a mount of VERS whose client uses flex files layouts, after
# some I/O that needs them (O_DIRECT and buffered)
pnfs_used() {
	mount -t nfs -o vers=$1,proto=tcp,port=2049 $ADDR:/ $MNT || return 1
	grep -q 'pnfs=LAYOUT_FLEX_FILES' /proc/self/mountstats ||
		{ echo "no pnfs=LAYOUT_FLEX_FILES in mountstats"; umount $MNT; return 1; }
	head -c 4194304 /dev/urandom > /tmp/pnfs.src
	timeout 120 dd if=/tmp/pnfs.src of=$MNT/pnfs-$1 bs=1M oflag=direct status=none &&
		timeout 120 cmp /tmp/pnfs.src $MNT/pnfs-$1 &&
		timeout 120 dd if=$MNT/pnfs-$1 of=/tmp/pnfs.back bs=1M iflag=direct status=none &&
		cmp /tmp/pnfs.src /tmp/pnfs.back
	_rc=$?
	[ $_rc -eq 0 ] || dmesg | tail -20 | sed 's/^/  dmesg: /' 
	cp /proc/self/mountstats /host/out/mountstats-$1.txt
	gdi=$(op_count GETDEVICEINFO)
	echo "vers=$1: GETDEVICEINFO ${gdi:-?}, OPEN $(op_count OPEN), READ $(op_count READ), WRITE $(op_count WRITE), LAYOUTRETURN $(op_count LAYOUTRETURN)"
	umount $MNT
	[ $_rc -eq 0 ] || { echo "the file did not read back"; return 1; }
	[ "${gdi:-0}" -ge 1 ] || { echo "no GETDEVICEINFO"; return 1; }
}
ck "vers=4.1: flex files layouts taken and used (mountstats)" pnfs_used 4.1

WL_TREE_FILES=100
workload $ADDR 2049 4.1
# vers=4.2 (the data server reached with the metadata server's minor
# version, nfs4_layout.c): the 4.1 workload's files read back, and the
# 4 MiB O_DIRECT round trip.
v42_files() {
	mount -t nfs -o vers=4.2,proto=tcp,port=2049 $ADDR:/ $MNT || return 1
	(cd $MNT && sha256sum -c --quiet /host/out/export.sha256)
	_v_rc=$?
	umount $MNT
	return $_v_rc
}
ck "vers=4.2: the 4.1 workload's files match through layouts" v42_files
ck "vers=4.2: flex files layouts taken and used (mountstats)" pnfs_used 4.2

# truncate_recall: the guest holds a file open and writes it through its
# layout (O_DIRECT, acknowledged); a process on the server's side truncates
# it (dd's open for writing and ftruncate): the lease breaks, the client is sent CB_LAYOUTRECALL and returns, the
# truncate goes on; the client writes on past the cut (a new LAYOUTGET).
# The file must then be exactly: the first write up to the cut, zeros, the
# second write.
truncate_recall() {
	mount -t nfs -o vers=4.2,proto=tcp,port=2049 $ADDR:/ $MNT || return 1
	_f=$MNT/trunc-recall
	_e=/srv/dax/export/trunc-recall
	: > $_f
	exec 7<>$_f   # held open: the client keeps its layout while a file is open
	timeout 120 dd if=/tmp/pnfs.src of=$_f bs=1M count=1 conv=notrunc,fsync oflag=direct \
		status=none
	_w1=$?
	_t0=$(date +%s%N)
	# (dd, not truncate(1): coreutils' truncate opens with O_NONBLOCK and
	# gets EAGAIN from a lease break instead of waiting for it)
	timeout 60 dd if=/dev/null of=$_e bs=1 seek=524288 status=none; _tr=$?
	_t1=$(date +%s%N)
	echo "server-side truncate under a layout: $(( (_t1 - _t0) / 1000000 )) ms (exit $_tr)"
	timeout 120 dd if=/tmp/pnfs.src of=$_f bs=1M skip=1 seek=1 count=1 conv=notrunc,fsync \
		oflag=direct status=none; _w2=$?
	exec 7>&-
	umount $MNT
	[ $_w1 -eq 0 ] && [ $_tr -eq 0 ] && [ $_w2 -eq 0 ] ||
		{ echo "write 1: $_w1, truncate: $_tr, write 2: $_w2"; return 1; }
	{ head -c 524288 /tmp/pnfs.src; head -c 524288 /dev/zero;
	  tail -c +1048577 /tmp/pnfs.src | head -c 1048576; } > /tmp/trunc.expect
	cmp /tmp/trunc.expect $_e || { ls -l $_e; return 1; }
}
ck "a server-side truncate recalls the layout of a file the client writes; no acknowledged write lost" truncate_recall

kill -TERM $srv
wait $srv
ck "daxnfsd exits 0" eq "daxnfsd's exit status" "$?" 0
grep -a "pNFS" /host/out/daxnfsd.log
# figure N WORDS: the number before WORDS in daxnfsd's pNFS exit line
figure() {
	grep -a 'pNFS: .* LAYOUTGETs granted' /host/out/daxnfsd.log | tail -1 |
		sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"
}
# at_least WHAT N: daxnfsd's figure for WHAT is N or more
at_least() {
	_v=$(figure "$1")
	[ "${_v:-0}" -ge "$2" ] || { echo "$1: ${_v:-none}, want at least $2"; return 1; }
}
ck "daxnfsd granted layouts (2 or more)" at_least "LAYOUTGETs granted" 2
ck "WRITEs came to the data server with a layout stateid (8 or more)" at_least WRITEs 8
ck "READs came to the data server with a layout stateid (8 or more)" at_least READs 8
grep -a "pNFS recalls" /host/out/daxnfsd.log
# recall_figure WORD: the number before WORD in daxnfsd's recall exit line
recall_figure() {
	grep -a 'pNFS recalls: ' /host/out/daxnfsd.log | tail -1 | sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"
}
recalls_returned() {
	_s=$(recall_figure started); _r=$(recall_figure returned); _v=$(recall_figure revoked)
	[ "${_s:-0}" -ge 1 ] && [ "${_r:-0}" -ge 1 ] && [ "${_v:-x}" = 0 ] ||
		{ echo "recalls started ${_s:-none}, returned ${_r:-none}, revoked ${_v:-none}"; return 1; }
}
ck "daxnfsd recalled layouts and every holder returned (none revoked)" recalls_returned
finish
