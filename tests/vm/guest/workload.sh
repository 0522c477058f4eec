# tests/vm/guest/workload.sh: the user workload over a kernel NFS mount.
#
# Job: what a user does on an NFS mount, each step a named check: files
# written and read back with sha256 compared (small files, a 256 MiB file,
# 1,000 files in a tree, or $WL_TREE_FILES), mkdir -p / rmdir, rename
# across directories, hard links, symlinks, chmod/chown/touch -d checked
# with stat, truncate up and down, append, ls -lR, find, du, cp -a in and
# out, fsync, mmap writes, fcntl and flock locks between two processes, and
# an unmount/remount that must keep all of it. Reads that must come from the server use O_DIRECT or follow
# a remount, never the client's page cache. Leaves the sha256 of the data it
# wrote to the files it keeps in /host/out/export.sha256 (paths relative to
# the export) so that the host can check its own copy.
#
# Sourced after lib.sh; call: workload SERVER PORT VERS. Called by:
# workload-host.sh, pmem.sh, knfsd.sh.

MNT=/mnt
OPTS=

nfs_mount() {
	mount -t nfs -o "vers=$WL_VERS,proto=${WL_PROTO:-tcp},port=$WL_PORT$OPTS" "$WL_SERVER:/" $MNT
}

# sums DIR: "sha256  ./path" of every file under DIR, sorted.
sums() {
	(cd "$1" && find . -type f | sort | xargs -r sha256sum)
}

# same_sums A B: the trees A and B hold the same files with the same sha256;
# otherwise names the files that differ (ck shows the last lines).
same_sums() {
	sums "$1" > /tmp/sums.a
	sums "$2" > /tmp/sums.b
	cmp -s /tmp/sums.a /tmp/sums.b && return 0
	echo "$(diff /tmp/sums.a /tmp/sums.b | grep -c '^>') of $(wc -l < /tmp/sums.a) files differ between $1 and $2 (sha256), e.g.:"
	diff /tmp/sums.a /tmp/sums.b | grep '^[<>]' | head -2
	return 1
}

direct_sum() {
	dd if="$1" iflag=direct bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1
}

cmp_sum() {     # cmp_sum FILE WANT_SHA256 (read from the server with O_DIRECT)
	got=$(direct_sum "$1")
	eq "sha256 of $1" "$got" "$2"
}

remount() {
	sync
	umount $MNT || { echo "umount: busy?"; fuser -vm $MNT 2>&1; return 1; }
	nfs_mount
}

lock_pair() {   # fcntl: a second process cannot take the lock while the first holds it
	vmtool lock-hold $W/locks/f 4 >/tmp/lockhold.out &
	hp=$!
	i=0
	while ! grep -q held /tmp/lockhold.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q held /tmp/lockhold.out || { echo "holder never got the lock"; kill $hp; return 1; }
	vmtool lock-try $W/locks/f
	trc=$?
	wait $hp
	hrc=$?
	[ $trc -eq 1 ] || { echo "lock-try while held: rc=$trc, want 1 (conflict)"; return 1; }
	[ $hrc -eq 0 ] || { echo "holder rc=$hrc"; return 1; }
	vmtool lock-try $W/locks/f || { echo "lock-try after release failed"; return 1; }
}

flock_pair() {
	flock -x $W/locks/g -c 'echo held > /tmp/flock.out; sleep 4' &
	hp=$!
	i=0
	while ! grep -q held /tmp/flock.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	flock -n -x $W/locks/g true && { echo "flock -n succeeded while another process holds it"; wait $hp; return 1; }
	wait $hp || { echo "holder failed"; return 1; }
	flock -n -x $W/locks/g true || { echo "flock -n failed after release"; return 1; }
}

workload() {
	WL_SERVER=$1
	WL_PORT=$2
	WL_VERS=$3
	W=$MNT/wl
	L=/tmp/wl-local
	rm -rf $L
	mkdir -p $MNT $L

	must "mount vers=$WL_VERS $WL_SERVER:$WL_PORT" nfs_mount
	log_mount $MNT
	ck "mount is nfs4 vers=$WL_VERS" eval "grep ' $MNT nfs4 ' /proc/mounts | grep -q 'vers=$WL_VERS'"
	ck "statfs of the mount" df -k $MNT
	rm -rf $W 2>/dev/null
	must "mkdir $W" mkdir $W

	# small files: written, read back after a remount
	mkdir -p $L/small
	i=1
	while [ $i -le 40 ]; do
		head -c $((i * 1031 + i * i * 97)) /dev/urandom > $L/small/f$i
		i=$((i + 1))
	done
	head -c 0 /dev/null > $L/small/empty
	ck "write 41 small files" cp -r $L/small $W/small
	ck "small files read back (page cache)" same_sums $L/small $W/small

	# 256 MiB file, streamed; read back with O_DIRECT so the server answers
	big_sum=$(head -c 256M /dev/urandom | tee $W/big | sha256sum | cut -d' ' -f1)
	ck "256 MiB file size" eq "size of big" "$(stat -c %s $W/big)" 268435456
	ck "256 MiB file sync" sync $W/big
	ck "256 MiB file read back with O_DIRECT" cmp_sum $W/big "$big_sum"

	# A tree copied in with cp -a: 1,000 files (WL_TREE_FILES, 100 in the
	# scenarios that leave the 1,000 to another one: the time budget).
	nt=${WL_TREE_FILES:-1000}
	must "make a $nt file tree locally" vmtool mktree $L/tree $$ $((nt / 10))
	chmod 0750 $L/tree/d3
	touch -d '2010-06-07 08:09:10 UTC' $L/tree/d4/file1
	ck "cp -a tree in ($nt files)" cp -a $L/tree $W/tree
	ck "find counts $nt files" eq "files in tree" "$(find $W/tree -type f | wc -l)" $nt
	ck "find counts 21 directories" eq "dirs in tree" "$(find $W/tree -type d | wc -l)" 21
	ck "cp -a kept the mode" eq "mode of d3" "$(stat -c %a $W/tree/d3)" 750
	ck "cp -a kept the mtime" eq "mtime of file1" "$(stat -c %Y $W/tree/d4/file1)" 1275898150
	ck "ls -lR" eval "ls -lR $W > /tmp/lslR && [ \$(grep -c '^-' /tmp/lslR) -ge $((nt + 42)) ]"
	ck "du -sk counts the 256 MiB file" eval "[ \$(du -sk $W | cut -f1) -ge 262144 ]"

	# mkdir -p / rmdir
	ck "mkdir -p a/b/c/d" mkdir -p $W/a/b/c/d
	ck "deep dir exists" test -d $W/a/b/c/d
	ck "rmdir of a non-empty dir fails" eval "! rmdir $W/a/b 2>/dev/null"
	ck "rmdir -p a/b/c/d" eval "cd $W && rmdir -p a/b/c/d"
	ck "rmdir removed a" eval "! test -e $W/a"

	# rename across directories, over an existing target too
	mkdir -p $W/r1 $W/r2
	echo one > $W/r1/x
	echo two > $W/r2/y
	ck "rename across dirs" mv $W/r1/x $W/r2/x2
	ck "rename: old name gone" eval "! test -e $W/r1/x"
	ck "rename: new name content" eq "r2/x2" "$(cat $W/r2/x2)" one
	ck "rename over an existing file" mv $W/r2/x2 $W/r2/y
	ck "rename over: content" eq "r2/y" "$(cat $W/r2/y)" one
	ck "rename a directory across dirs" mv $W/r2 $W/r1/r2moved
	ck "renamed dir content" eq "r1/r2moved/y" "$(cat $W/r1/r2moved/y)" one

	# hard links
	echo linked > $W/hl
	ck "link" ln $W/hl $W/r1/hl2
	ck "nlink 2" eq "nlink" "$(stat -c %h $W/hl)" 2
	ck "same inode" eq "inode" "$(stat -c %i $W/r1/hl2)" "$(stat -c %i $W/hl)"
	ck "unlink first name" rm $W/hl
	ck "content by second name" eq "hl2" "$(cat $W/r1/hl2)" linked
	ck "nlink 1 after unlink" eq "nlink" "$(stat -c %h $W/r1/hl2)" 1

	# symlinks
	ck "symlink" ln -s ../small/f3 $W/r1/sl
	ck "readlink" eq "readlink" "$(readlink $W/r1/sl)" ../small/f3
	ck "read through symlink" eq "via symlink" "$(sha256sum < $W/r1/sl)" "$(sha256sum < $L/small/f3)"
	ck "dangling symlink" ln -s /nonexistent/target $W/dangle
	ck "readlink dangling" eq "readlink" "$(readlink $W/dangle)" /nonexistent/target
	ck "stat -c %F symlink" eq "type" "$(stat -c %F $W/dangle)" "symbolic link"

	# attributes
	echo attrs > $W/attr
	ck "chmod 0640" chmod 0640 $W/attr
	ck "mode 640" eq "mode" "$(stat -c %a $W/attr)" 640
	ck "chown 1000:1000" chown 1000:1000 $W/attr
	ck "owner 1000:1000" eq "owner" "$(stat -c %u:%g $W/attr)" 1000:1000
	ck "chmod 4755" chmod 4755 $W/attr
	ck "mode 4755" eq "mode" "$(stat -c %a $W/attr)" 4755
	ck "touch -d" touch -d '2001-02-03 04:05:06 UTC' $W/attr
	ck "mtime set" eq "mtime" "$(stat -c %Y $W/attr)" 981173106
	ck "atime set" eq "atime" "$(stat -c %X $W/attr)" 981173106
	ck "touch -m -d (mtime only)" touch -m -d '2002-01-01 00:00:00 UTC' $W/attr
	ck "mtime only changed" eq "mtime/atime" "$(stat -c %Y/%X $W/attr)" 1009843200/981173106

	# truncate up and down, append
	head -c 1000 /dev/urandom > $L/tr
	cp $L/tr $W/tr
	truncate -s 3000000 $L/tr
	ck "truncate up" truncate -s 3000000 $W/tr
	ck "truncate up: size" eq "size" "$(stat -c %s $W/tr)" 3000000
	ck "truncate up: zeros past the end" cmp_sum $W/tr "$(sha256sum < $L/tr | cut -d' ' -f1)"
	truncate -s 100 $L/tr
	ck "truncate down" truncate -s 100 $W/tr
	ck "truncate down: size" eq "size" "$(stat -c %s $W/tr)" 100
	ck "truncate down: content" cmp_sum $W/tr "$(sha256sum < $L/tr | cut -d' ' -f1)"
	printf 'first\n' > $W/app
	printf 'second\n' >> $W/app
	printf 'third\n' >> $W/app
	ck "append" cmp_sum $W/app "$(printf 'first\nsecond\nthird\n' | sha256sum | cut -d' ' -f1)"

	# fsync
	ck "dd conv=fsync" dd if=$L/small/f7 of=$W/fsynced bs=4k conv=fsync status=none
	ck "sync FILE (fsync)" sync $W/fsynced
	ck "fsync'd file content" cmp_sum $W/fsynced "$(sha256sum < $L/small/f7 | cut -d' ' -f1)"

	# mmap writes
	head -c 1048576 /dev/zero > $W/mm
	cp $W/mm $L/mm
	ck "mmap write 100 bytes at 4000" vmtool mmap-write $W/mm 4000 100 65
	ck "mmap write 8192 bytes at 600000" vmtool mmap-write $W/mm 600000 8192 66
	vmtool mmap-write $L/mm 4000 100 65 && vmtool mmap-write $L/mm 600000 8192 66
	ck "mmap writes reached the server" cmp_sum $W/mm "$(sha256sum < $L/mm | cut -d' ' -f1)"

	# locks between two processes
	mkdir -p $W/locks
	echo lock > $W/locks/f
	echo lock > $W/locks/g
	ck "fcntl lock conflict between two processes" lock_pair
	ck "flock conflict between two processes" flock_pair

	# cp -a out
	ck "cp -a tree out" cp -a $W/tree $L/tree_out
	ck "tree out == tree in" same_sums $L/tree $L/tree_out
	ck "cp -a out kept the mtime" eq "mtime of file1" "$(stat -c %Y $L/tree_out/d4/file1)" 1275898150

	# unmount, remount: everything is still there, read from the server
	must "umount + remount" remount
	log_mount $MNT
	ck "remount: small files" same_sums $L/small $W/small
	ck "remount: tree" same_sums $L/tree $W/tree
	ck "remount: 256 MiB file" eq "sha256 of big" "$(sha256sum < $W/big | cut -d' ' -f1)" "$big_sum"
	ck "remount: mode/owner/mtime" eq "attr" "$(stat -c %a/%u:%g/%Y $W/attr)" 4755/1000:1000/1009843200
	ck "remount: symlink" eq "readlink" "$(readlink $W/r1/sl)" ../small/f3
	ck "remount: hard link" eq "hl2" "$(cat $W/r1/hl2)" linked
	ck "remount: mmap file" eq "mm" "$(sha256sum < $W/mm)" "$(sha256sum < $L/mm)"
	ck "remount: truncated file" eq "tr size" "$(stat -c %s $W/tr)" 100

	# What the server must hold: checksums of the data the guest wrote, from
	# its local copies (not read back through the mount, so a server that
	# stores right but reads wrong, or the reverse, is caught on both sides).
	{
		(cd $L && find small -type f | sort | xargs sha256sum) | sed 's|  |  wl/|'
		echo "$(sha256sum < $L/mm | cut -d' ' -f1)  wl/mm"
		echo "$(sha256sum < $L/small/f7 | cut -d' ' -f1)  wl/fsynced"
		echo "$(printf 'first\nsecond\nthird\n' | sha256sum | cut -d' ' -f1)  wl/app"
		echo "$big_sum  wl/big"
	} > /host/out/export.sha256

	ck "rm -rf of a tree" rm -rf $W/tree
	ck "tree is gone" eval "! test -e $W/tree"
	cd /
	ck "umount" umount $MNT
}
