# tests/vm/guest/v42ops.sh: scenario v42ops (issue 10): the NFSv4.2 data
# operations as the Linux client sends them, vers=4.2 against the daxnfsd
# that run-vm.sh started on the host exporting an XFS with reflink (a loop
# image) at /xfs and a tmpfs at /tmpfs.
#
# Job: cp --reflink=always (CLONE), xfs_io copy_range (COPY, no READ or
# WRITE on the wire), cp of 256 MiB on the tmpfs export (no reflink there:
# an asynchronous COPY ended by CB_OFFLOAD, no READ or WRITE for the data),
# fallocate -l (ALLOCATE), fallocate -p
# (DEALLOCATE), SEEK_DATA/SEEK_HOLE through xfs_io (SEEK), setfattr /
# getfattr / removal of user.* attributes (SETXATTR, GETXATTR, LISTXATTRS,
# REMOVEXATTR); every result checked with checksums, stat and the mount's
# per-op counters. The names of the files whose extents must be shared on
# the server go to /host/out/v42ops-shared.txt; run-vm.sh checks them there
# (FIEMAP) and src's user.colour attribute after the guest is done.
#
# Called by: init, for run-vm.sh's scenario v42ops.
. /host/guest/lib.sh
MNT=/mnt
MNT2=/mnt2
D=$MNT/v42
mkdir -p $MNT $MNT2
: > /host/out/v42ops-shared.txt

opcount() {     # opcount OP [MOUNT]: the mount's count of OP (mountstats per-op line)
	awk -v m=${2:-$MNT} -v op="$1:" '$1 == "device" { show = ($5 == m) }
		show && $1 == op { print $2; exit }' /proc/self/mountstats
}
at_least() {    # at_least OP N: the mount sent OP at least N times
	n=$(opcount "$1")
	[ "${n:-0}" -ge "$2" ] && return 0
	echo "mountstats $1: ${n:-none}, want at least $2"
	return 1
}

must "modprobe nfsv4" modprobe nfsv4
must "mount 10.0.2.2:/xfs vers=4.2" mount -t nfs -o "vers=4.2,proto=tcp,port=$PORT" 10.0.2.2:/xfs $MNT
must "mount 10.0.2.2:/tmpfs vers=4.2" mount -t nfs -o "vers=4.2,proto=tcp,port=$PORT" 10.0.2.2:/tmpfs $MNT2
rm -rf $D 2>/dev/null
must "mkdir" mkdir $D

# CLONE: cp --reflink=always shares the extents on the server.
head -c 64M /dev/urandom > /tmp/src.64m
ck "64 MiB source written with fsync" dd if=/tmp/src.64m of=$D/src bs=1M conv=fsync status=none
ck "cp --reflink=always" cp --reflink=always $D/src $D/clone
ck "the clone's content (O_DIRECT)" eval "[ \"\$(dd if=$D/clone iflag=direct bs=1M 2>/dev/null | sha256sum)\" = \"\$(sha256sum < /tmp/src.64m)\" ]"
ck "mountstats CLONE" at_least CLONE 1
echo "v42/clone" >> /host/out/v42ops-shared.txt
# A write to the source afterwards leaves the clone as it was.
ck "a write to the source" dd if=/dev/zero of=$D/src bs=64k count=1 conv=notrunc,fsync status=none
ck "the clone unchanged" eval "[ \"\$(dd if=$D/clone iflag=direct bs=1M 2>/dev/null | sha256sum)\" = \"\$(sha256sum < /tmp/src.64m)\" ]"

# COPY: copy_file_range (xfs_io copy_range) is a server-side copy; no data
# travels as READ or WRITE.
r0=$(opcount READ); w0=$(opcount WRITE)
ck "copy_range of the 64 MiB source (xfs_io)" xfs_io -f -c "copy_range $D/src" $D/copy
r1=$(opcount READ); w1=$(opcount WRITE)
ck "the copy's content (O_DIRECT)" eval "[ \"\$(dd if=$D/copy iflag=direct bs=1M 2>/dev/null | sha256sum)\" = \"\$(dd if=$D/src iflag=direct bs=1M 2>/dev/null | sha256sum)\" ]"
ck "mountstats COPY" at_least COPY 1
ck "no READ or WRITE for the copy (mountstats: READ ${r0:-?}->${r1:-?}, WRITE ${w0:-?}->${w1:-?})" \
	eval "[ \"${r0:-x}\" = \"${r1:-y}\" ] && [ \"${w0:-x}\" = \"${w1:-y}\" ]"

# cp of 256 MiB where the server cannot reflink (tmpfs): coreutils' cp
# tries a clone (NFS4ERR_NOTSUPP), then copy_file_range: a server-side
# COPY, run asynchronously (the server's count at its stop is checked by
# run-vm.sh); no data as READ or WRITE.
head -c 256M /dev/urandom > /tmp/src.256m
ck "256 MiB source written to the tmpfs export" dd if=/tmp/src.256m of=$MNT2/big bs=1M conv=fsync status=none
r0=$(opcount READ $MNT2); w0=$(opcount WRITE $MNT2)
ck "cp of the 256 MiB file" cp $MNT2/big $MNT2/big.copy
r1=$(opcount READ $MNT2); w1=$(opcount WRITE $MNT2)
ck "mountstats COPY on the tmpfs mount" eval "[ \"\$(opcount COPY $MNT2)\" -ge 1 ]"
ck "no READ or WRITE for the cp (mountstats: READ ${r0:-?}->${r1:-?}, WRITE ${w0:-?}->${w1:-?})" \
	eval "[ \"${r0:-x}\" = \"${r1:-y}\" ] && [ \"${w0:-x}\" = \"${w1:-y}\" ]"
ck "the copy's size" eq "size" "$(stat -c %s $MNT2/big.copy)" 268435456
ck "the copy's content (O_DIRECT)" eval "[ \"\$(dd if=$MNT2/big.copy iflag=direct bs=1M 2>/dev/null | sha256sum)\" = \"\$(sha256sum < /tmp/src.256m)\" ]"
rm -f /tmp/src.256m $MNT2/big $MNT2/big.copy

# ALLOCATE, DEALLOCATE, SEEK
ck "fallocate -l 16M" fallocate -l 16M $D/falloc
ck "the allocated file's size" eq "size" "$(stat -c %s $D/falloc)" 16777216
ck "mountstats ALLOCATE" at_least ALLOCATE 1
head -c 1M /dev/urandom > /tmp/one.1m
ck "1 MiB written at 4 MiB of a sparse file" eval "truncate -s 8M $D/sparse && dd if=/tmp/one.1m of=$D/sparse bs=1M seek=4 conv=notrunc,fsync status=none"
ckv "SEEK_DATA from 0 is 4 MiB" eval "xfs_io -r -c 'seek -d 0' $D/sparse | tee /tmp/seek.out | grep -q 'DATA.*4194304'"
ckv "SEEK_HOLE from 4 MiB is 5 MiB" eval "xfs_io -r -c 'seek -h 4194304' $D/sparse | tee /tmp/seek.out | grep -q 'HOLE.*5242880'"
ck "mountstats SEEK" at_least SEEK 1
ck "fallocate -p the data" fallocate -p -o 4M -l 1M $D/sparse
ck "the size kept" eq "size" "$(stat -c %s $D/sparse)" 8388608
head -c 1M /dev/zero > /tmp/zero.1m
ck "the punched range reads as zeros" eval "dd if=$D/sparse iflag=direct bs=1M skip=4 count=1 2>/dev/null | cmp -s - /tmp/zero.1m"
ck "mountstats DEALLOCATE" at_least DEALLOCATE 1

# Extended attributes (user.* only)
ck "setfattr user.colour" setfattr -n user.colour -v blue $D/src
ck "setfattr user.size" setfattr -n user.size -v 64M $D/src
# The client caches what it set: evict the inode so that what follows asks
# the server.
sync; echo 3 > /proc/sys/vm/drop_caches
ck "getfattr user.colour" eq "value" "$(getfattr --only-values -n user.colour $D/src)" blue
ckv "getfattr -d lists both" eval "getfattr -d $D/src | tee /tmp/xa.out | grep -q 'user.colour=\"blue\"' && grep -q 'user.size=\"64M\"' /tmp/xa.out"
ck "setfattr -x user.size" setfattr -x user.size $D/src
ck "user.size is gone" eval "! getfattr -n user.size $D/src 2>/dev/null"
ck "mountstats SETXATTR" at_least SETXATTR 2
ck "mountstats GETXATTR" at_least GETXATTR 1
ck "mountstats LISTXATTRS" at_least LISTXATTRS 1
ck "mountstats REMOVEXATTR" at_least REMOVEXATTR 1

# READ_PLUS: Linux 7.3 reads with it (every read above), 6.1 does not.
case "$(uname -r)" in
7.*) ck "mountstats READ_PLUS (Linux 7.x reads with it)" at_least READ_PLUS 1 ;;
esac
log_mount $MNT | head -14
awk -v m=$MNT '$1 == "device" { show = ($5 == m) }
	show && $1 ~ /^(CLONE|COPY|ALLOCATE|DEALLOCATE|SEEK|GETXATTR|SETXATTR|LISTXATTRS|REMOVEXATTR|READ|READ_PLUS|WRITE):$/' \
	/proc/self/mountstats | sed 's/^/--- mountstats per-op: /'
awk -v m=$MNT2 '$1 == "device" { show = ($5 == m) }
	show && $1 ~ /^(COPY|OFFLOAD_STATUS|OFFLOAD_CANCEL|READ|READ_PLUS|WRITE|COMMIT):$/' \
	/proc/self/mountstats | sed 's/^/--- mountstats per-op (tmpfs): /'
ck "umount" umount $MNT
ck "umount the tmpfs mount" umount $MNT2
finish
