# tests/vm/guest/restart.sh: scenario restart: the host's daxnfsd is killed
# with SIGKILL while the client writes files, each fsync'd (dd conv=fsync),
# and restarted on the same state directory. The client must recover through
# the grace period (reclaiming an open file it holds across the restart) and
# every file whose fsync returned before the kill must be intact. The kill and
# the restart are done by run-vm.sh on request: /host/ctl/{kill,restart}.
. /host/guest/lib.sh
MNT=/mnt
S=/tmp/src
mkdir -p $MNT $S

nfs_mount() {
	mount -t nfs -o "vers=4.1,proto=tcp,port=$PORT" 10.0.2.2:/ $MNT
}

must "mount vers=4.1" nfs_mount
log_mount $MNT
rm -rf $MNT/r
must "mkdir r" mkdir $MNT/r

# Source data: 60 files of 64 KiB .. 1 MiB, made locally first.
i=1
while [ $i -le 60 ]; do
	head -c $(( (i % 16 + 1) * 65536 )) /dev/urandom > $S/f$i
	i=$((i + 1))
done
(cd $S && sha256sum f*) > /tmp/src.sha256

# An open file held across the restart: its state must be reclaimed.
exec 7>>$MNT/r/held
echo before >&7

# The writer: each file is copied with fsync; its name is logged when the
# fsync has returned (the server acknowledged the data as stable).
: > /tmp/done.list
(
	i=1
	while [ $i -le 60 ]; do
		dd if=$S/f$i of=$MNT/r/f$i bs=64k conv=fsync status=none || { echo "writer: dd f$i failed"; exit 1; }
		echo f$i >> /tmp/done.list
		i=$((i + 1))
	done
) &
writer=$!

# Kill the server once a third of the files are stable.
i=0
while [ "$(wc -l < /tmp/done.list)" -lt 20 ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
must "20 files fsync'd before the kill" eval "[ \$(wc -l < /tmp/done.list) -ge 20 ]"
touch /host/ctl/kill
must "host killed daxnfsd (SIGKILL)" wait_file /host/ctl/killed 30
cp /tmp/done.list /tmp/done.before
echo "killed daxnfsd with $(wc -l < /tmp/done.before) files fsync'd"
sleep 2
touch /host/ctl/restart
must "host restarted daxnfsd" wait_file /host/ctl/restarted 60
must "daxnfsd restart succeeded" eval "! grep -q fail /host/ctl/restarted"

t0=$(date +%s)
wait $writer
wrc=$?
echo "writer finished $(( $(date +%s) - t0 )) s after the restart"
ck "the writer finished after recovery" eq "writer rc" "$wrc" 0
ck "write through the reclaimed open file" eval "echo after >&7"
exec 7>&-
# The client's recovery, as its counters show it (per-op: count, ...).
awk -v m=$MNT '$1 == "device" { show = ($5 == m) } show' /proc/self/mountstats \
	| grep -E 'events|^[[:space:]]*(OPEN|RECLAIM_COMPLETE|EXCHANGE_ID|CREATE_SESSION|DESTROY_SESSION|SEQUENCE):' \
	| sed 's/^/--- mountstats: /'

check_list() {  # every file named in list $1 has its source's checksum
	while read -r f; do
		want=$(grep " $f\$" /tmp/src.sha256 | cut -d' ' -f1)
		got=$(dd if=$MNT/r/$f iflag=direct bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "$f: sha256 $got, want $want"; return 1; }
	done < "$1"
}
ck "files fsync'd before the kill are intact" check_list /tmp/done.before
ck "all 60 files intact after recovery" check_list /tmp/done.list
ck "held file has both writes" eq "held" "$(cat $MNT/r/held | tr '\n' ' ')" "before after "

must "umount" umount $MNT
must "remount" nfs_mount
ck "after remount: files intact" check_list /tmp/done.list
(cd $MNT && for f in $(cat /tmp/done.list); do grep " $f\$" /tmp/src.sha256 | sed "s| $f\$| r/$f|"; done) > /host/out/export.sha256
umount $MNT
finish
