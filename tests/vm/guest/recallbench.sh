# tests/vm/guest/recallbench.sh: scenario recallbench (a benchmark, not a
# test): delegation recall latency, the same recall_bench work against the
# guest kernel's own nfsd and against daxnfsd, both in this guest on tmpfs
# exports, one after the other in one boot (scripts/bench-recall-vm.sh).
# recall_bench's markdown goes to /host/out/recall-knfsd.md and
# /host/out/recall-daxnfsd.md; RECALL_BENCH_ARGS (env.sh) are its -n/-c.
# Only daxnfsd's run is checked (exit 0, nothing revoked); knfsd's outcome
# is printed as it is.
. /host/guest/lib.sh
must "recall_bench is in the share" test -x /host/bin/recall_bench

must "modprobe nfsd" modprobe nfsd
mkdir -p /srv/knfsd /srv/dax/export /srv/dax/state /proc/fs/nfsd /var/lib/nfs/v4recovery
mount -t tmpfs -o size=256M tmpfs /srv/knfsd
mount -t tmpfs -o size=256M tmpfs /srv/dax
mkdir -p /srv/dax/export /srv/dax/state
must "mount nfsd fs" mount -t nfsd nfsd /proc/fs/nfsd
echo '/srv/knfsd *(rw,no_root_squash,fsid=0,insecure,no_subtree_check)' > /etc/exports
touch /var/lib/nfs/etab /var/lib/nfs/rmtab
must "exportfs" exportfs -ra
# knfsd grants no delegation during its grace period: a short one, waited out.
echo 15 > /proc/fs/nfsd/nfsv4leasetime
echo 15 > /proc/fs/nfsd/nfsv4gracetime
must "rpc.nfsd" rpc.nfsd -N 3 -V 4.1 -V 4.2 4
# knfsd maps a caller's address to the export's client through rpc.mountd
# (the auth.unix.ip cache); without it a new client's first call waits for
# an upcall nobody answers (the kernel client retries until it goes
# through; recall_bench gives up).
rpcbind -w 2>/dev/null
must "rpc.mountd" rpc.mountd -N 2 -N 3
must "knfsd listens on 127.0.0.1:2049" wait_listen 2049 30
sleep 35   # the grace period ends at the laundromat run after it (lease time)
echo "--- knfsd: $(uname -r)"
NFS4_CL_DUMP=1 /host/bin/recall_bench 127.0.0.1 2049 $RECALL_BENCH_ARGS > /host/out/recall-knfsd.md 2>&1
rc=$?
# Not a check: what knfsd does with recall_bench is reported as it is (on
# Linux 6.1 it answered the holder's OPEN without a delegation).
[ $rc = 0 ] || echo "NOTE: recall_bench against knfsd ended with rc=$rc (its output below)"
cat /host/out/recall-knfsd.md

cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 20490; Threads = 8; }
NFSV4 { Lease_Lifetime = 90; Grace_Period = 90; Recovery_Dir = "/srv/dax/state"; Recall_Timeout = 30; }
LOG { Level = warn; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /srv/dax/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on 127.0.0.1:20490" wait_listen 20490 30
echo "--- daxnfsd"
/host/bin/recall_bench 127.0.0.1 20490 $RECALL_BENCH_ARGS > /host/out/recall-daxnfsd.md 2>&1
ck "recall_bench against daxnfsd" eq "recall_bench exit status" "$?" 0
cat /host/out/recall-daxnfsd.md
kill -TERM $srv
wait $srv
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd exit status" "$?" 0
ck "daxnfsd revoked nothing" eval "! grep -q revoked /host/out/daxnfsd.log"
finish
