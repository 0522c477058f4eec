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
exec "$(dirname "$0")/bench-fio-vm.sh" pnfsbench PNFSBENCH "$@"
