#!/usr/bin/env bash
# Server-side copies against a plain copy, daxnfsd and knfsd on the same
# machine: the VM test bed's copybench scenario (tests/vm/guest/copybench.sh)
# copies a 1 GiB file three ways through an NFSv4.2 mount in one TCG guest
# — cp --reflink=always (CLONE), copy_file_range (COPY) and a read-and-write
# copy with O_DIRECT — first against daxnfsd, then against the guest
# kernel's own nfsd, each exporting an XFS with reflink on a loop image in
# the guest's memory, and prints the markdown table (docs/benchmarks.md). A
# benchmark, not a test: absolute figures are TCG's; the ratios are the
# point.
#
# usage: scripts/bench-copy-vm.sh [--mib N] [--kernel SERIES]
#        (defaults: 1024 MiB; the guest kernel: the host suite's)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-bench"
mib=1024 kernel=
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) mib=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) echo "usage: $0 [--mib N] [--kernel SERIES]" >&2; exit 2 ;;
	esac
done
echo "== building daxnfsd (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd >/dev/null
echo "== $(git -C "$top" describe --always --dirty 2>/dev/null), Release, in a TCG guest on $(nproc) host cores, ${mib} MiB"
COPYBENCH_MIB=$mib "$top/tests/vm/run-vm.sh" --build "$build" \
	--daxnfsd "$build/server/daxnfsd" --timeout 1800 ${kernel:+--kernel "$kernel"} copybench
out="$build/vm-work/copybench${kernel:+-$kernel}/share/out"
echo
cat "$out/copybench.md"
