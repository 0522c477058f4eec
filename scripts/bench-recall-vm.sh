#!/usr/bin/env bash
# Delegation recall latency against knfsd and daxnfsd on the same machine:
# the VM test bed's recallbench scenario (tests/vm/guest/recallbench.sh) runs
# tests/bench/recall_bench in one TCG guest, first against the guest
# kernel's own nfsd, then against daxnfsd, both on tmpfs exports over
# loopback, and prints both markdown tables (docs/benchmarks.md). A
# benchmark, not a test: absolute figures are TCG's; the comparison is the
# point. NFS-Ganesha's FSAL_VFS grants no delegations (docs/benchmarks.md).
# knfsd declines delegations on files it recalled one on in the last
# 30-60 s, by a bloom filter that a burst of recalls fills: recall_bench
# skips such files and waits, so knfsd's part takes minutes (about 7 with
# the defaults), daxnfsd's seconds.
#
# usage: scripts/bench-recall-vm.sh [-n N] [-c C] [--kernel SERIES]
#        (defaults: -n 1000 -c 100; the guest kernel: the host suite's)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-bench"
n=1000 c=100 kernel=
while [ $# -gt 0 ]; do
	case "$1" in
	-n) n=$2; shift 2 ;;
	-c) c=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) echo "usage: $0 [-n N] [-c C] [--kernel SERIES]" >&2; exit 2 ;;
	esac
done
echo "== building daxnfsd and recall_bench (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd recall_bench >/dev/null
echo "== $(git -C "$top" describe --always --dirty 2>/dev/null), Release, in a TCG guest (2 vCPUs) on $(nproc) host cores"
RECALL_BENCH_ARGS="-n $n -c $c" "$top/tests/vm/run-vm.sh" --build "$build" \
	--daxnfsd "$build/server/daxnfsd" --recall-bench "$build/tests/recall_bench" \
	--timeout 1800 ${kernel:+--kernel "$kernel"} recallbench
out="$build/vm-work/recallbench${kernel:+-$kernel}/share/out"
for s in knfsd daxnfsd; do
	echo
	echo "## $s"
	cat "$out/recall-$s.md"
done
