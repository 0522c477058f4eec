# tests/vm/guest/backchannel.sh: scenario backchannel (issue 21): the NFSv4.1
# back channel of the kernel client, vers=4.1 and then vers=4.2, against the
# daxnfsd that run-vm.sh started on the host (10.0.2.2).
#
# Job: per version, in this one boot: mount (the second mount comes after the
# first one's umount: a mount of the same server would reuse the first one's
# client and transport), a short workload (~15 s: a few MiB written with fsync
# and read back with O_DIRECT, rounds of small files created, renamed and
# removed; a delegated file appended to by a process on the host, which
# makes the server recall the delegation; data checked with O_DIRECT), then
# the mount's per-op counters from /proc/self/mountstats: at
# most 2 BIND_CONN_TO_SESSION per mount. A client whose back channel the
# server keeps reporting down (SEQ4_STATUS_CB_PATH_DOWN) binds its connection
# again after every such reply, so a broken back channel shows there as tens
# of BIND_CONN_TO_SESSION. Evidence, not checked: the client's answers to the
# server's CB_SEQUENCE calls (tracepoint nfs4:nfs4_cb_sequence, a hist
# trigger keyed by the status it returned; 10052 is NFS4ERR_BADSESSION).
# One line per mount goes to /host/out/backchannel.txt; run-vm.sh prints it
# and checks the server's side (its log: "back channel up: ... after 1 probe").
#
# Called by: init, for run-vm.sh's scenario backchannel (either kernel).
. /host/guest/lib.sh
MNT=/mnt
RES=/host/out/backchannel.txt
TR=/sys/kernel/tracing
EV=$TR/events/nfs4/nfs4_cb_sequence
: > $RES
mkdir -p $MNT

# nfsv4 defines the trace event; the mount would load it too late.
must "modprobe nfsv4" modprobe nfsv4
[ -d $TR/events ] || mount -t tracefs tracefs $TR 2>/dev/null
if [ -d $EV ] && echo 'hist:keys=error' > $EV/trigger 2>/dev/null; then
	echo '!hist:keys=error' > $EV/trigger
	CBTRACE=1
else
	CBTRACE=0
	echo "NOTE: no hist trigger on nfs4:nfs4_cb_sequence here: the client's CB_SEQUENCE answers are not counted"
	[ -r $EV/format ] && grep 'field:' $EV/format | sed 's/^/  nfs4_cb_sequence format: /'
fi

# cb_counts: "TOTAL FAILED DELAY" of the client's CB_SEQUENCE answers since
# the trigger was set (DELAY: NFS4ERR_DELAY, 10008; the hist table is
# logged), then removes the trigger.
cb_counts() {
	[ $CBTRACE = 1 ] || { echo "n/a n/a n/a"; return; }
	grep '^{' $EV/hist | sed 's/^/--- cb_sequence hist: /' >&2
	awk '/^\{/ { n = $NF; total += n; if ($3 != 0) bad += n; if ($3 == 10008) delay += n }
		END { printf "%d %d %d\n", total, bad, delay }' $EV/hist
	echo '!hist:keys=error' > $EV/trigger
}

# opcount OP: the mount's count of OP (per-op statistics of mountstats:
# "OP: ops transmissions timeouts ..."); empty when the mount has no such line.
opcount() {
	awk -v m=$MNT -v op="$1:" '$1 == "device" { show = ($5 == m) }
		show && $1 == op { print $2; exit }' /proc/self/mountstats
}

at_most() {     # at_most WHAT N MAX
	[ -n "$2" ] || { echo "no $1 line in the mount's per-op statistics (/proc/self/mountstats)"; return 1; }
	[ "$2" -le "$3" ] && return 0
	echo "$2 $1 on one mount, want at most $3"
	return 1
}

same_direct() { # same_direct FILE LOCAL: FILE read with O_DIRECT (from the server) equals LOCAL
	a=$(dd if="$1" iflag=direct bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1)
	eq "sha256 of $1" "$a" "$(sha256sum < "$2" | cut -d' ' -f1)"
}

# rounds DIR SECS: rounds of 20 files created (shell redirections, one
# OPEN/WRITE/CLOSE each), 5 of them renamed, the directory renamed, listed,
# removed; until SECS seconds have passed (3 rounds at least).
rounds() {
	now_cs
	_r_t0=$T
	r=0
	while :; do
		r=$((r + 1))
		mkdir $1/r$r || return 1
		i=1
		while [ $i -le 20 ]; do
			echo "round $r file $i" > $1/r$r/f$i || return 1
			i=$((i + 1))
		done
		for i in 1 2 3 4 5; do mv $1/r$r/f$i $1/r$r/g$i || return 1; done
		mv $1/r$r $1/m$r || return 1
		[ "$(ls $1/m$r | wc -l)" = 20 ] || { echo "round $r: $(ls $1/m$r | wc -l) files, want 20"; return 1; }
		[ "$(cat $1/m$r/g3)" = "round $r file 3" ] || { echo "round $r: g3 holds '$(cat $1/m$r/g3)'"; return 1; }
		rm -r $1/m$r || return 1
		now_cs
		[ $((T - _r_t0)) -ge $(($2 * 100)) ] && [ $r -ge 3 ] && break
		[ $r -ge 200 ] && break
	done
	echo "$r rounds in $(((T - _r_t0) / 100)) s"
}

one_mount() {   # one_mount VERS
	v=$1
	D=$MNT/bc$v
	[ $CBTRACE = 1 ] && echo 'hist:keys=error' > $EV/trigger
	must "vers=$v: mount 10.0.2.2:$PORT" mount -t nfs -o "vers=$v,proto=tcp,port=$PORT" 10.0.2.2:/ $MNT
	ck "vers=$v: mount is nfs4 vers=$v" eval "grep ' $MNT nfs4 ' /proc/mounts | grep -q 'vers=$v'"
	rm -rf $D 2>/dev/null
	must "vers=$v: mkdir" mkdir $D
	head -c 4M /dev/urandom > /tmp/bc.4m
	ck "vers=$v: 4 MiB written with fsync" dd if=/tmp/bc.4m of=$D/big bs=1M conv=fsync status=none
	ck "vers=$v: 4 MiB read back with O_DIRECT" same_direct $D/big /tmp/bc.4m
	for i in 1 2 3 4; do
		head -c 1M /dev/urandom > /tmp/bc.1m.$i
		ck "vers=$v: 1 MiB file $i written with fsync" dd if=/tmp/bc.1m.$i of=$D/s$i bs=64k conv=fsync status=none
	done
	ck "vers=$v: 1 MiB files read back with O_DIRECT" eval "same_direct $D/s1 /tmp/bc.1m.1 && same_direct $D/s2 /tmp/bc.1m.2 &&
		same_direct $D/s3 /tmp/bc.1m.3 && same_direct $D/s4 /tmp/bc.1m.4"
	ckv "vers=$v: create/rename/remove rounds for 12 s" rounds $D 12
	# A delegation, and its recall by a process on the server: the guest
	# keeps the file open for reading (the server delegates it to this
	# client), then asks the host (run-vm.sh, /host/ctl) to append to the
	# same file in the export directory. That open breaks the server's
	# lease: the server recalls the delegation, the client returns it, the
	# host's append goes through. The data must be whole afterwards.
	printf 'delegated\n' > $D/dl && sync
	exec 3< $D/dl
	ck "vers=$v: read under the delegation" eval "[ \"\$(cat <&3)\" = delegated ]"
	echo "bc$v/dl" > /host/ctl/deleg-$v
	ck "vers=$v: a host process appended to the delegated file (recall by lease break)" \
		eval "wait_file /host/ctl/deleg-$v.done 60 && grep -q '^ok' /host/ctl/deleg-$v.done"
	echo "vers=$v: host append: $(cat /host/ctl/deleg-$v.done 2>/dev/null)"
	exec 3<&-
	ck "vers=$v: the file after the recall, read with O_DIRECT" \
		eval "[ \"\$(dd if=$D/dl iflag=direct bs=4k 2>/dev/null)\" = \"\$(printf 'delegated\nhost')\" ]"
	dr=$(opcount DELEGRETURN)
	ck "vers=$v: the client returned delegations (mountstats DELEGRETURN: ${dr:-none})" \
		eval "[ \"\${dr:-0}\" -ge 1 ]"
	ck "vers=$v: rm -r" rm -r $D
	sync
	sleep 2
	log_mount $MNT | head -14
	awk -v m=$MNT '$1 == "device" { show = ($5 == m) }
		show && $1 ~ /^(BIND_CONN_TO_SESSION|SEQUENCE|EXCHANGE_ID|CREATE_SESSION|DESTROY_SESSION|RECLAIM_COMPLETE|DELEGRETURN|OPEN):$/' \
		/proc/self/mountstats | sed 's/^[[:space:]]*/--- mountstats per-op: /'
	n=$(opcount BIND_CONN_TO_SESSION)
	set -- $(cb_counts)
	line="vers=$v DELEGRETURN=${dr:-none} BIND_CONN_TO_SESSION=${n:-none} EXCHANGE_ID=$(opcount EXCHANGE_ID) CREATE_SESSION=$(opcount CREATE_SESSION) client_CB_SEQUENCE=$1 failed=$2 of_which_NFS4ERR_DELAY=$3"
	echo "backchannel: $line"
	echo "$line" >> $RES
	ck "vers=$v: at most 2 BIND_CONN_TO_SESSION on the mount (mountstats: ${n:-none})" \
		at_most BIND_CONN_TO_SESSION "$n" 2
	cd /
	must "vers=$v: umount" umount $MNT
}

one_mount 4.1
one_mount 4.2
finish
