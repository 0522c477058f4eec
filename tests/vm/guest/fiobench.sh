# tests/vm/guest/fiobench.sh: the fio measurements of the VM benchmarks
# (rdmabench, pnfsbench), sourced after lib.sh: one fio job at a time on
# $MNT/seq of $MIB MiB (O_DIRECT), one row of figures per server in
# /tmp/rows, ratios for the tables. Callers set MIB, SECS, ADDR, MNT and
# write /tmp/src ($MIB MiB of random bytes, src_sum its sha256) first.

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

# measure NAME PROTO PORT [pnfs]: one row of figures in /tmp/rows (MiB/s,
# IOPS); with pnfs, the mount must use flexible file layouts
measure() {
	srvname=$1 proto=$2 port=$3
	must "$srvname: mount vers=4.2 proto=$proto" \
		mount -t nfs -o vers=4.2,proto=$proto,port=$port $ADDR:/ $MNT
	if [ "${4:-}" = pnfs ]; then
		ck "$srvname: the mount uses flex files layouts" \
			grep -q 'pnfs=LAYOUT_FLEX_FILES' /proc/self/mountstats
	fi
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

# ratio A B: A/B with two decimals
ratio() {
	[ "$2" -gt 0 ] || { echo "-"; return; }
	_r=$(($1 * 100 / $2))
	printf '%d.%02d' $((_r / 100)) $((_r % 100))
}
row() { awk -v n="$1" '$1 == n { print $2, $3, $4, $5, $6, $7 }' /tmp/rows; }
