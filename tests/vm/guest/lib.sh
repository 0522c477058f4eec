# tests/vm/guest/lib.sh: check helpers for the guest scripts (sourced by dash).
#
# Job: run one named check at a time, print "RUN: name" before it (so a hung
# guest shows where it hung) and "ok: name" or "FAIL: name: detail" after it,
# count failures, and end the script with the right exit code (init prints it
# as "DONE rc=N"). Called by: the other guest/*.sh scripts.
. /host/env.sh
PATH=/host/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
NFAIL=0
FAILED=

# A guest-side watchdog a little shorter than the host's timeout: a check hung
# in the kernel (a hard NFS mount whose server stopped answering) is named, the
# blocked tasks are shown, and the guest ends with rc=124 instead of being
# killed silently from outside.
if [ -n "${GUEST_BUDGET:-}" ]; then
	(
		sleep "$GUEST_BUDGET"
		echo "FAIL: watchdog: the guest script ran out of its $GUEST_BUDGET s; blocked tasks:"
		for p in /proc/[0-9]*; do
			[ "$(awk '/^State:/ {print $2}' $p/status 2>/dev/null)" = D ] || continue
			echo "  $(cat $p/comm 2>/dev/null) (pid ${p#/proc/}): $(tr '\n' ' ' < $p/stack 2>/dev/null | cut -c1-300)"
		done
		echo "DONE rc=124"
		sync
		/bin/busybox poweroff -f
	) &
fi

# Centiseconds since boot, without starting a process (a process start costs
# ~0.1 s under TCG): each check's time is logged, for the time budget.
now_cs() {
	read -r _ck_up _ck_x < /proc/uptime
	_ck_x=${_ck_up#*.}
	T=$(( ${_ck_up%.*} * 100 + ${_ck_x#0} ))   # "08" would be bad octal
}
since() {       # "[S.CC s]" since the T saved in $1
	now_cs
	_ck_d=$((T - $1))
	printf '[%d.%02d s]' $((_ck_d / 100)) $((_ck_d % 100))
}

# ck NAME CMD...: a check; its failure is counted and the script goes on.
ck() {
	name=$1
	shift
	echo "RUN: $name"
	now_cs
	_ck_t0=$T
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok: $name $(since $_ck_t0)"
		return 0
	fi
	echo "FAIL: $name: rc=$rc $(echo "$out" | tail -3 | tr '\n' ' ')"
	NFAIL=$((NFAIL + 1))
	FAILED="$FAILED
  $name"
	return 1
}

# ckv NAME CMD...: ck that also logs the check's output when it passes (a
# check whose evidence belongs in the test log, e.g. statx attributes).
ckv() {
	name=$1
	shift
	echo "RUN: $name"
	now_cs
	_ck_t0=$T
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/  /'
	if [ $rc -eq 0 ]; then
		echo "ok: $name $(since $_ck_t0)"
		return 0
	fi
	echo "FAIL: $name: rc=$rc $(echo "$out" | tail -1)"
	NFAIL=$((NFAIL + 1))
	FAILED="$FAILED
  $name"
	return 1
}

# must NAME CMD...: a check the rest of the script depends on.
must() {
	ck "$@" || finish
}

# eq WHAT GOT WANT: compare two strings (used inside ck).
eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: got '$2', want '$3'"
	return 1
}

finish() {
	if [ $NFAIL -eq 0 ]; then
		echo "ALL CHECKS PASSED"
		exit 0
	fi
	echo "$NFAIL CHECKS FAILED:$FAILED"
	exit 1
}

# run_cmocka TAG N CMD...: a cmocka test program run in the guest, its output
# logged with TAG; passes only with exit 0, N tests passed and none skipped
# (a test that skips itself here would hide the case the guest is for).
run_cmocka() {
	_rc_tag=$1 _rc_n=$2
	shift 2
	_rc_out=$("$@" 2>&1)
	_rc_rc=$?
	echo "$_rc_out" | sed "s/^/  $_rc_tag: /"
	[ $_rc_rc -eq 0 ] || { echo "$_rc_tag rc=$_rc_rc"; return 1; }
	echo "$_rc_out" | grep -q -E 'SKIPPED|SKIP' && { echo "$_rc_tag skipped a test"; return 1; }
	echo "$_rc_out" | grep -q "PASSED.*$_rc_n test" ||
		{ echo "$_rc_tag did not report $_rc_n passed tests"; return 1; }
}

# Mount stats of mount point $1: the /proc/mounts line and the mountstats block.
log_mount() {
	echo "--- /proc/mounts: $(grep " $1 " /proc/mounts)"
	awk -v m="$1" '$1 == "device" { show = ($5 == m) } show' /proc/self/mountstats | head -40 | sed 's/^/--- mountstats: /'
}

# Waits until something listens on TCP port $1 (hex in /proc/net/tcp), $2 s at most.
wait_listen() {
	hex=$(printf '%04X' "$1")
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		grep -q ":$hex 00000000:0000 0A" /proc/net/tcp && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "nothing listens on port $1 after $2 s"
	return 1
}

# wait_file PATH SECS: until PATH exists (a request answered by run-vm.sh
# through /host/ctl), at most SECS seconds.
wait_file() {
	_wf_i=0
	while [ ! -f "$1" ] && [ $_wf_i -lt $(($2 * 5)) ]; do sleep 0.2; _wf_i=$((_wf_i + 1)); done
	[ -f "$1" ] || { echo "no $1 after $2 s"; return 1; }
}

# start_knfsd DIR: the guest kernel's own nfsd exporting DIR as the NFSv4
# root (vers 4.1 and 4.2, lease and grace 15 s), rpc.mountd beside it, up on
# 127.0.0.1:2049 (benchmark scenarios; checks through must).
start_knfsd() {
	mkdir -p /proc/fs/nfsd /var/lib/nfs/v4recovery
	must "mount nfsd fs" mount -t nfsd nfsd /proc/fs/nfsd
	echo "$1 *(rw,no_root_squash,fsid=0,insecure,no_subtree_check)" > /etc/exports
	touch /var/lib/nfs/etab /var/lib/nfs/rmtab
	must "exportfs" exportfs -ra
	# knfsd grants no delegation during its grace period: a short one.
	echo 15 > /proc/fs/nfsd/nfsv4leasetime
	echo 15 > /proc/fs/nfsd/nfsv4gracetime
	must "rpc.nfsd" rpc.nfsd -N 3 -V 4.1 -V 4.2 4
	# knfsd maps a caller's address to the export's client through
	# rpc.mountd (the auth.unix.ip cache); without it a new client's first
	# call waits for an upcall nobody answers.
	rpcbind -w 2>/dev/null
	must "rpc.mountd" rpc.mountd -N 2 -N 3
	must "knfsd listens on 127.0.0.1:2049" wait_listen 2049 30
}

# rxe_up: soft-RoCE (rdma_rxe) on eth0 as rxe0, port ACTIVE (checks through must).
rxe_up() {
	must "modprobe rdma_rxe" modprobe rdma_rxe
	must "modprobe ib_uverbs rdma_ucm" eval 'modprobe ib_uverbs && modprobe rdma_ucm'
	must "rdma link add rxe0 type rxe netdev eth0" rdma link add rxe0 type rxe netdev eth0
	rdma link show
	must "rxe0 state ACTIVE" eval 'rdma link show rxe0/1 | grep -q "state ACTIVE"'
}

# pmem_xfs_up: an XFS with reflink on the emulated NVDIMM (/dev/pmem0,
# namespace in fsdax mode) mounted -o dax=always on /pmem, with
# /pmem/export and /pmem/state (checks through must).
pmem_xfs_up() {
	must "modprobe nfit nd_pmem" eval "modprobe nfit && modprobe nd_pmem"
	_px_i=0
	while [ ! -b /dev/pmem0 ] && [ $_px_i -lt 50 ]; do sleep 0.2; _px_i=$((_px_i + 1)); done
	ndctl list -N
	if ! ndctl list -N | grep -q '"mode":"fsdax"'; then
		must "ndctl create-namespace fsdax" ndctl create-namespace -f -e namespace0.0 -m fsdax
	fi
	must "/dev/pmem0 exists" test -b /dev/pmem0
	must "mkfs.xfs -m reflink=1" mkfs.xfs -q -f -m reflink=1 /dev/pmem0
	must "mount -o dax=always" mount -o dax=always /dev/pmem0 /pmem
	grep /pmem /proc/mounts
	dmesg | grep -i dax | tail -3
	mkdir -p /pmem/export /pmem/state
}

# rping_pair: an RDMA CM ping, -C 3, between a server and a client on 10.0.2.15.
rping_pair() {
	rping -s -a 10.0.2.15 -C 3 >/tmp/rping-s.log 2>&1 &
	spid=$!
	sleep 1
	timeout 60 rping -c -a 10.0.2.15 -C 3 -v >/tmp/rping-c.log 2>&1
	crc=$?
	wait $spid
	src=$?
	cat /tmp/rping-c.log
	[ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$(grep -c 'ping data' /tmp/rping-c.log)" -eq 3 ]
}

# pingpong: a verbs RC ping-pong over RoCE GID 1, 100 iterations.
pingpong() {
	ibv_rc_pingpong -d rxe0 -g 1 -n 100 >/tmp/pp-s.log 2>&1 &
	spid=$!
	sleep 1
	timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 100 10.0.2.15 >/tmp/pp-c.log 2>&1
	crc=$?
	wait $spid
	src=$?
	cat /tmp/pp-c.log
	[ $crc -eq 0 ] && [ $src -eq 0 ] && grep -q 'iters in' /tmp/pp-c.log
}

# rxe_smoke: the RDMA bed works before anything of ours runs on it: the
# device is listed, rping_pair and pingpong pass.
rxe_smoke() {
	ibv_devices
	ck "ibv_devices lists rxe0" eval 'ibv_devices | grep -q rxe0'
	ck "ibv_devinfo rxe0 PORT_ACTIVE" eval 'ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE'
	ck "rping -C 3 over 10.0.2.15" rping_pair
	ck "ibv_rc_pingpong -g 1" pingpong
}

# loop_xfs NAME MIB: an XFS with reflink on a loop image of MIB MiB in a
# tmpfs of its own (the guest's memory), mounted on /srv/NAME/export, with
# /srv/NAME/state beside it (benchmark scenarios).
loop_xfs() {
	mkdir -p /srv/$1
	mount -t tmpfs -o size=$(($2 + 100))M tmpfs /srv/$1 || return 1
	truncate -s $2M /srv/$1/xfs.img &&
		mkfs.xfs -q -m reflink=1 /srv/$1/xfs.img >/dev/null 2>&1 &&
		mkdir -p /srv/$1/export /srv/$1/state &&
		mount -o loop /srv/$1/xfs.img /srv/$1/export
}
