# tests/vm/guest/rdma.sh: scenario rdma: NFS over RPC-over-RDMA on soft-RoCE.
#
# Job: first the RDMA bed's own smoke checks (rxe_smoke: rping, an RC
# ping-pong); then daxnfsd inside the guest exports a DAX XFS on the emulated
# NVDIMM (as scenario pmem) with Enable_RDMA on eth0's address; rxe0
# (rdma_rxe) carries it. The guest's kernel client mounts vers=4.1 with
# proto=rdma,port=20049 and runs the user workload (checksums), then
# vers=4.2 reads those files back and runs it again. Checked: the mounts'
# transport is rdma (mountstats "xprt: rdma"); each session's back channel came up over RDMA
# (daxnfsd's "back channel up ... minor M" lines: its CB_NULL and
# CB_SEQUENCE probe went out on the RDMA connection and was answered
# there); rxe0's packet counters moved; a delegation is recalled over
# RDMA when a local process breaks the lease. Then a hostile verbs client
# (rdma_hostile), one that vanishes mid-RDMA-Read, and rdma link delete
# with a mount up: RDMA_ERROR or a dropped connection, the server serves
# on (over TCP once the device is gone). At the end the data went by RDMA
# Read and RDMA Write (daxnfsd's RDMA figures at exit: at least the 256 MiB
# written and read back) and daxnfsd exits 0 with no memory registration
# left.
. /host/guest/lib.sh
. /host/guest/workload.sh

ADDR=10.0.2.15

rxe_up
rxe_smoke
pmem_xfs_up

cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = $ADDR; NFS_Port = 2049; Enable_RDMA = true; NFS_RDMA_Port = 20049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/pmem/state"; }
LOG { Level = ${DAXNFS_VM_LOG_LEVEL:-info}; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /pmem/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on $ADDR:2049" wait_listen 2049 30
ck "daxnfsd listens on RDMA port 20049" eval "grep -q 'listening on $ADDR RDMA port 20049' /host/out/daxnfsd.log"
grep -a rdma /host/out/daxnfsd.log

# rxe0's packet counters (hw counters of the port), for the before/after
rxe_pkts() {
	rdma statistic show link rxe0/1 2>/dev/null | tr ' ' '\n' |
		awk '/^sent_pkts$/ { getline; s = $1 } /^rcvd_pkts$/ { getline; r = $1 } END { print s + r }'
}
pkts_before=$(rxe_pkts)
echo "rxe0 packets sent+received before the mounts: $pkts_before"

# the mount's transport in /proc/self/mountstats
xprt_is_rdma() {
	awk -v m="$MNT" '$1 == "device" { show = ($5 == m) } show && $1 == "xprt:" { print $2; exit }' \
		/proc/self/mountstats | grep -qx rdma
}

WL_PROTO=rdma
WL_TREE_FILES=100
workload $ADDR 20049 4.1
v41_xprt() {
	mount -t nfs -o vers=4.1,proto=rdma,port=20049 $ADDR:/ $MNT || return 1
	log_mount $MNT
	xprt_is_rdma
	_x_rc=$?
	umount $MNT
	return $_x_rc
}
ck "vers=4.1 mount's transport is rdma (mountstats)" v41_xprt

# vers=4.2: the 4.1 workload's files (its checksums, from its local copies)
# read back on a fresh mount, then the whole workload again
v42_files() {
	mount -t nfs -o vers=4.2,proto=rdma,port=20049 $ADDR:/ $MNT || return 1
	log_mount $MNT
	xprt_is_rdma || { echo "xprt is not rdma"; umount $MNT; return 1; }
	(cd $MNT && sha256sum -c --quiet /host/out/export.sha256)
	_v_rc=$?
	umount $MNT
	return $_v_rc
}
ck "vers=4.2 over rdma: the 4.1 workload's files match (xprt rdma)" v42_files
workload $ADDR 20049 4.2

pkts_after=$(rxe_pkts)
echo "rxe0 packets sent+received after the mounts: $pkts_after"
# 256 MiB each way at most 4 KiB per packet is at least 131072 packets
ck "rxe0 carried the data (packets)" eval "[ $((pkts_after - pkts_before)) -ge 131072 ]"

backchannel_up() {
	grep -a 'back channel' /host/out/daxnfsd.log | head -5
	grep -a -q -E "back channel up: clientid [0-9a-f]+ minor 1 after" /host/out/daxnfsd.log &&
		grep -a -q -E "back channel up: clientid [0-9a-f]+ minor 2 after" /host/out/daxnfsd.log
}
ck "back channel up over RDMA for minor 1 and 2 (daxnfsd log)" backchannel_up

# A delegation recalled over RDMA: the client holds the file open for
# reading (the server delegates it), then a process here, on the server's
# side, appends to it in the export: that open breaks daxnfsd's lease, so
# CB_RECALL goes to the client on its RDMA connection, the client returns
# the delegation, and the append goes through. The data must be whole.
deleg_recall() {
	mount -t nfs -o vers=4.1,proto=rdma,port=20049 $ADDR:/ $MNT || return 1
	printf 'delegated\n' > $MNT/wl/dl && sync
	exec 3< $MNT/wl/dl
	[ "$(cat <&3)" = delegated ] || { echo "read under the delegation"; umount $MNT; return 1; }
	timeout 60 sh -c 'printf "host\n" >> /pmem/export/wl/dl'
	_dr_rc=$?
	exec 3<&-
	[ $_dr_rc -eq 0 ] && [ "$(dd if=$MNT/wl/dl iflag=direct bs=4k 2>/dev/null)" = "$(printf 'delegated\nhost')" ]
	_dr_rc=$?
	umount $MNT
	return $_dr_rc
}
ck "a delegation recalled over RDMA (a local append breaks the lease)" deleg_recall

# A hostile client (tests/vm/rdma_hostile.c), each case on a connection of
# its own: what RFC 8166 §4.5 says to answer is answered, what cannot be
# answered is dropped, a Read chunk the server cannot read ends that
# connection; then a client that vanishes while the server reads its 1 MiB.
hostile() {
	rdma_hostile $ADDR 20049 "$@" > /tmp/hostile.log 2>&1
	_h_rc=$?
	cat /tmp/hostile.log
	grep FAIL /tmp/hostile.log
	return $_h_rc
}
ckv "hostile RDMA client: ERR_VERS, ERR_CHUNK (unaligned, 65 segments, RDMA_MSGP), a short message dropped, a bad rkey disconnects" \
	hostile vers unaligned segments msgp short badkey
ck "a client gone in the middle of the server's RDMA Read" rdma_hostile $ADDR 20049 vanish
sleep 3
ck "still serving over RDMA after them (mount, xprt rdma)" v41_xprt

# rdma link delete while an RDMA mount is up. The server must let go of
# everything on the device: its connections close, its protection domain,
# pool and every registration on it are freed ("rxe0: released ... 0
# registrations left in all"), and it stops listening on RDMA; TCP goes on.
# The removal itself completes only once librdmacm's device context closes
# too (soft-RoCE cannot take a device from under a process that has it
# open), which librdmacm does at the process's exit: so it runs in the
# background and must be done once daxnfsd has exited.
link_delete() {
	mount -t nfs -o vers=4.1,proto=rdma,port=20049 $ADDR:/ $MNT || return 1
	ls $MNT > /dev/null
	# the device was released before, when the last mount went: a new line
	_ld_before=$(grep -a -c 'rxe0: released' /host/out/daxnfsd.log)
	rdma link delete rxe0 > /tmp/linkdel.log 2>&1 &
	echo $! > /tmp/linkdel.pid
	_ld_i=0
	while [ $_ld_i -lt 150 ]; do
		[ "$(grep -a -c 'rxe0: released' /host/out/daxnfsd.log)" -gt "$_ld_before" ] && break
		sleep 0.2
		_ld_i=$((_ld_i + 1))
	done
	# the kernel client's mount lost its device: detached lazily, in the
	# background (its RPC client may wait for a transport that is gone)
	umount -l $MNT > /dev/null 2>&1 &
	sleep 1
	grep -a -E 'device rxe0 removed|rxe0: released|no longer listening' /host/out/daxnfsd.log
	grep -a 'rxe0: released' /host/out/daxnfsd.log | tail -1 | grep -q ' 0 registrations left in all' &&
		[ "$(grep -a -c 'rxe0: released' /host/out/daxnfsd.log)" -gt "$_ld_before" ]
}
ck "rdma link delete rxe0 with a mount up: the server releases the device (0 registrations)" link_delete
tcp_after() {
	mount -t nfs -o vers=4.1,proto=tcp,port=2049 $ADDR:/ $MNT || return 1
	[ -f $MNT/wl/big ]
	_ta_rc=$?
	umount $MNT
	return $_ta_rc
}
ck "TCP still serves after the device is gone" tcp_after

kill -TERM $srv
wait $srv
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd's exit status" "$?" 0
link_delete_done() {
	_ldd_pid=$(cat /tmp/linkdel.pid 2>/dev/null)
	_ldd_i=0
	while [ -n "$_ldd_pid" ] && [ -d /proc/$_ldd_pid ] && [ $_ldd_i -lt 150 ]; do
		sleep 0.2
		_ldd_i=$((_ldd_i + 1))
	done
	cat /tmp/linkdel.log
	[ -n "$_ldd_pid" ] && [ ! -d /proc/$_ldd_pid ] && ! rdma link show rxe0 > /dev/null 2>&1
}
ck "rdma link delete done once daxnfsd has exited" link_delete_done
line=$(grep -a 'rdma: at exit:' /host/out/daxnfsd.log | tail -1)
echo "daxnfsd: $line"
# "RDMA Read N bytes, RDMA Write M bytes" and "K registrations left"
rd=$(echo "$line" | sed -n 's/.*RDMA Read \([0-9]*\) bytes.*/\1/p')
wr=$(echo "$line" | sed -n 's/.*RDMA Write \([0-9]*\) bytes.*/\1/p')
left=$(echo "$line" | sed -n 's/.* \([0-9]*\) registrations left.*/\1/p')
ck "WRITE data came by RDMA Read (>= 256 MiB)" eval "[ \"${rd:-0}\" -ge 268435456 ]"
ck "READ data went by RDMA Write (>= 256 MiB)" eval "[ \"${wr:-0}\" -ge 268435456 ]"
ck "no memory registration left" eq "registrations left" "${left:-?}" 0
dline=$(grep -a 'delegations: ' /host/out/daxnfsd.log | tail -1)
echo "daxnfsd: $dline"
recalled=$(echo "$dline" | sed -n 's/.* \([0-9]*\) recalled.*/\1/p')
revoked=$(echo "$dline" | sed -n 's/.* \([0-9]*\) revoked.*/\1/p')
ck "delegations recalled over RDMA (>= 1), none revoked" eval "[ \"${recalled:-0}\" -ge 1 ] && [ \"${revoked:-x}\" = 0 ]"
ck "the export's files match the client's checksums" eval "cd /pmem/export && sha256sum --quiet -c /host/out/export.sha256"
finish
