#!/usr/bin/env bash
# pNFS against no pNFS and against knfsd, on the same machine: the VM test
# bed's pnfsbench scenario (tests/vm/guest/pnfsbench.sh) runs fio (Debian's,
# in that scenario's own guest image) 1 MiB sequential and 4 KiB random (QD1
# and QD8) O_DIRECT I/O through a vers=4.2 TCP kernel mount in one TCG guest,
# against daxnfsd with Enable_pNFS (the client takes flexible file layouts
# and does its I/O on the data server, daxnfsd itself), daxnfsd without it,
# and the guest kernel's own nfsd, and prints the markdown table
# (docs/benchmarks.md). A benchmark, not a test: absolute figures are TCG's;
# the ratios on the same work are the point.
#
# usage: scripts/bench-pnfs-vm.sh [--mib N] [--secs S] [--kernel SERIES]
#        (defaults: 256 MiB, 15 s per random run; the host suite's kernel)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-bench"
mib=256 secs=15 kernel=
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) mib=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) echo "usage: $0 [--mib N] [--secs S] [--kernel SERIES]" >&2; exit 2 ;;
	esac
done
echo "== building daxnfsd (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd >/dev/null
echo "== $(git -C "$top" describe --always --dirty 2>/dev/null), Release, in a TCG guest on $(nproc) host cores, ${mib} MiB, ${secs} s"
PNFSBENCH_MIB=$mib PNFSBENCH_SECS=$secs "$top/tests/vm/run-vm.sh" --build "$build" \
	--daxnfsd "$build/server/daxnfsd" --timeout 2400 \
	${kernel:+--kernel "$kernel"} pnfsbench
out="$build/vm-work/pnfsbench${kernel:+-$kernel}/share/out"
echo
cat "$out/pnfsbench.md"
