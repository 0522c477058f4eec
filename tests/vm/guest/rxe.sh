# tests/vm/guest/rxe.sh: soft-RoCE smoke test (scenario rxe).
#
# Job: prove the RDMA bed the transport work builds on: rdma_rxe loads, rxe0
# comes up on eth0, an RDMA CM ping (rping) and a verbs RC ping-pong
# (ibv_rc_pingpong over RoCE GID 1) work between two processes in the guest.
. /host/guest/lib.sh

must "modprobe rdma_rxe" modprobe rdma_rxe
must "modprobe ib_uverbs rdma_ucm" eval 'modprobe ib_uverbs && modprobe rdma_ucm'
must "rdma link add rxe0 type rxe netdev eth0" rdma link add rxe0 type rxe netdev eth0
rdma link show
ck "rxe0 state ACTIVE" eval 'rdma link show rxe0/1 | grep -q "state ACTIVE"'
ibv_devices
ck "ibv_devices lists rxe0" eval 'ibv_devices | grep -q rxe0'
ck "ibv_devinfo rxe0 PORT_ACTIVE" eval 'ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE'

rping_pair() {
	rping -s -a 10.0.2.15 -C 3 >/tmp/rping-s.log 2>&1 &
	spid=$!
	sleep 1
	timeout 60 rping -c -a 10.0.2.15 -C 3 -v >/tmp/rping-c.log 2>&1
	crc=$?
	wait $spid
	src=$?
	cat /tmp/rping-c.log
	[ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$(grep -c 'ping data' /tmp/rping-c.log)" -eq 3 ]
}
ck "rping -C 3 over 10.0.2.15" rping_pair

pingpong() {
	ibv_rc_pingpong -d rxe0 -g 1 -n 100 >/tmp/pp-s.log 2>&1 &
	spid=$!
	sleep 1
	timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 100 10.0.2.15 >/tmp/pp-c.log 2>&1
	crc=$?
	wait $spid
	src=$?
	cat /tmp/pp-c.log
	[ $crc -eq 0 ] && [ $src -eq 0 ] && grep -q 'iters in' /tmp/pp-c.log
}
ck "ibv_rc_pingpong -g 1" pingpong
finish
