#!/usr/bin/env bash
# pNFS layout recalls under random timing, then their latency
# (tests/bench/layout_trials.c), against daxnfsd with Enable_pNFS on an XFS
# loop image (reflinks work there): 1000 randomized trials (holders that
# return or ignore the recall; a local truncate, write or reflink at a random
# moment; every file checked byte for byte), then the time from a local
# truncate's lease break to its end with 1 and with 100 holders. Fails when
# a trial fails or when daxnfsd logged that the kernel took a lease itself.
# A long trial and a benchmark, not part of the default test run
# (docs/benchmarks.md, docs/vm-testbed.md).
#
# usage: scripts/layout-trials.sh [-t TRIALS] [-n ROUNDS] [-c HOLDERS] [-s SEED] [-b BUILD]
#        (defaults: 1000 trials, 50 rounds, 100 holders, a time seed,
#        build-bench: Release; -b build-test runs the sanitizer build)
# Needs root (loop device, XFS, leases).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
trials=1000 rounds=50 holders=100 seed=$(date +%s) build="$top/build-bench"
while getopts "t:n:c:s:b:" o; do
	case $o in
	t) trials=$OPTARG ;; n) rounds=$OPTARG ;; c) holders=$OPTARG ;; s) seed=$OPTARG ;;
	b) build=$(cd "$OPTARG" && pwd) ;;
	*) echo "usage: $0 [-t TRIALS] [-n ROUNDS] [-c HOLDERS] [-s SEED] [-b BUILD]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "layout-trials.sh: needs root (loop device, XFS)" >&2; exit 1; }
scratch=$(mktemp -d /tmp/daxnfs-layout.XXXXXX)
server_pid=""
cleanup() {
	set +e
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	mountpoint -q "$scratch/exp" && umount "$scratch/exp"
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$build" = "$top/build-bench" ]; then
	echo "== building daxnfsd and layout_trials (Release) in $build"
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
	      -DDAXNFS_SANITIZE=OFF >/dev/null
fi
cmake --build "$build" -j2 --target daxnfsd layout_trials >/dev/null

mkdir -p "$scratch/exp" "$scratch/state"
truncate -s 1G "$scratch/xfs.img"
mkfs.xfs -q -m reflink=1 "$scratch/xfs.img"
mount -o loop "$scratch/xfs.img" "$scratch/exp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$scratch/daxnfsd.conf" <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = $port; Threads = 8; }
NFSV4 { Lease_Lifetime = 90; Grace_Period = 90; Recovery_Dir = "$scratch/state";
        Enable_pNFS = true; Recall_Timeout = 1; Max_Clients = 4096; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = "$scratch/exp"; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
"$build/server/daxnfsd" -f "$scratch/daxnfsd.conf" >"$scratch/daxnfsd.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
echo "== $(uname -r), $(nproc) cores, $(git -C "$top" describe --always --dirty 2>/dev/null), $(basename "$build"), XFS loop image, loopback"
"$build/tests/layout_trials" 127.0.0.1 "$port" "$scratch/exp" 1000 --trials "$trials" --seed "$seed"
echo "== recall latency (Recall_Timeout 1 s; every holder returns at once)"
"$build/tests/layout_trials" 127.0.0.1 "$port" "$scratch/exp" 1000 --bench -n "$rounds" -c "$holders"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "layout-trials.sh: daxnfsd exited $?" >&2; server_pid=""; exit 1; }
server_pid=""
grep -a "pNFS recalls" "$scratch/daxnfsd.log"
if grep -aq "broken by the kernel" "$scratch/daxnfsd.log"; then
	echo "layout-trials.sh: the kernel took a lease before daxnfsd released it:" >&2
	grep -a "broken by the kernel" "$scratch/daxnfsd.log" | head -5 >&2
	exit 1
fi
echo "layout-trials.sh: passed"
