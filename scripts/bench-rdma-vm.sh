#!/usr/bin/env bash
# NFS over RPC-over-RDMA against TCP, daxnfsd and knfsd on the same
# machine: the VM test bed's rdmabench scenario (tests/vm/guest/rdmabench.sh)
# runs fio (Debian's, in that scenario's own guest image) 1 MiB sequential and
# 4 KiB random (QD1 and QD8) O_DIRECT I/O through a vers=4.2 kernel mount in
# one TCG guest, against daxnfsd over RDMA and over
# TCP, then against the guest kernel's own nfsd over RDMA and over TCP, the
# RDMA transport being soft-RoCE (rdma_rxe) on the guest's NIC, and prints
# the markdown table (docs/benchmarks.md). A benchmark, not a test: absolute
# figures are TCG's and rxe's emulation; the ratios on the same work are the
# point.
#
# usage: scripts/bench-rdma-vm.sh [--mib N] [--secs S] [--kernel SERIES]
#        (defaults: 256 MiB, 15 s per random run; the host suite's kernel)
exec "$(dirname "$0")/bench-fio-vm.sh" rdmabench RDMABENCH "$@"
