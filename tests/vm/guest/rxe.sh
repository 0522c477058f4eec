# tests/vm/guest/rxe.sh: soft-RoCE smoke test (scenario rxe).
#
# Job: prove the RDMA bed the transport work builds on: rdma_rxe loads, rxe0
# comes up on eth0, an RDMA CM ping (rping) and a verbs RC ping-pong
# (ibv_rc_pingpong over RoCE GID 1) work between two processes in the guest.
# By hand only since 2026-12-07: scenario rdma runs the same checks first.
. /host/guest/lib.sh

rxe_up
rxe_smoke
finish
