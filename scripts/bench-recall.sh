#!/usr/bin/env bash
# Delegation recall latency (tests/bench/recall_bench.c) against daxnfsd on a
# tmpfs export: 1000 serial recalls (conflicting OPEN -> DELAY -> CB_RECALL
# -> DELEGRETURN -> OPEN granted) and 100 clients recalled at once; prints
# markdown tables (docs/benchmarks.md). A benchmark, not a test.
#
# usage: scripts/bench-recall.sh [-n N] [-c C]    (defaults: -n 1000 -c 100)
# Needs root (tmpfs mount). Everything started is stopped and unmounted on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench-recall.sh: needs root (tmpfs mount)" >&2; exit 1; }
build="$top/build-bench"
scratch=$(mktemp -d /tmp/daxnfs-recall.XXXXXX)
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

echo "== building daxnfsd and recall_bench (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd recall_bench >/dev/null

mkdir -p "$scratch/exp" "$scratch/state"
mount -t tmpfs -o size=256m tmpfs "$scratch/exp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$scratch/daxnfsd.conf" <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = $port; Threads = 8; }
NFSV4 { Lease_Lifetime = 90; Grace_Period = 90; Recovery_Dir = "$scratch/state"; Recall_Timeout = 30; }
LOG { Level = warn; Destination = stderr; }
EXPORT { Export_Id = 1; Path = "$scratch/exp"; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
"$build/server/daxnfsd" -f "$scratch/daxnfsd.conf" >"$scratch/daxnfsd.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
echo "== $(uname -r), $(nproc) cores, $(git -C "$top" describe --always --dirty 2>/dev/null), Release, tmpfs, loopback"
"$build/tests/recall_bench" 127.0.0.1 "$port" "$@"
if grep -q "revoked" "$scratch/daxnfsd.log"; then
	echo "bench-recall.sh: the server revoked delegations during the run:" >&2
	grep "revoked" "$scratch/daxnfsd.log" | head -5 >&2
	exit 1
fi
