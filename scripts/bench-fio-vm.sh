#!/usr/bin/env bash
# The body of the VM benchmarks that run fio through a kernel mount
# (scripts/bench-rdma-vm.sh, scripts/bench-pnfs-vm.sh): builds daxnfsd in
# Release (build-bench/), runs the VM test bed's scenario SCENARIO with its
# MiB and seconds in PREFIX_MIB and PREFIX_SECS, and prints the table the
# scenario wrote to out/SCENARIO.md.
#
# usage: scripts/bench-fio-vm.sh SCENARIO PREFIX [--mib N] [--secs S] [--kernel SERIES]
#        (defaults: 256 MiB, 15 s per random run; the host suite's kernel)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-bench"
[ $# -ge 2 ] || { echo "usage: $0 SCENARIO PREFIX [--mib N] [--secs S] [--kernel SERIES]" >&2; exit 2; }
scenario=$1 prefix=$2
shift 2
mib=256 secs=15 kernel=
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) mib=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) echo "usage: [--mib N] [--secs S] [--kernel SERIES]" >&2; exit 2 ;;
	esac
done
echo "== building daxnfsd (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd >/dev/null
echo "== $(git -C "$top" describe --always --dirty 2>/dev/null), Release, in a TCG guest on $(nproc) host cores, ${mib} MiB, ${secs} s"
env "${prefix}_MIB=$mib" "${prefix}_SECS=$secs" "$top/tests/vm/run-vm.sh" --build "$build" \
	--daxnfsd "$build/server/daxnfsd" --timeout 2400 \
	${kernel:+--kernel "$kernel"} "$scenario"
out="$build/vm-work/$scenario${kernel:+-$kernel}/share/out"
echo
cat "$out/$scenario.md"
