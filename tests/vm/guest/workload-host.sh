# tests/vm/guest/workload-host.sh: scenarios tcp41/tcp42: the workload against
# the daxnfsd that run-vm.sh started on the host (10.0.2.2 from the guest).
. /host/guest/lib.sh
. /host/guest/workload.sh
workload 10.0.2.2 "$PORT" "$VERS"
finish
