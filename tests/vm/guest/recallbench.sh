# tests/vm/guest/recallbench.sh: scenario recallbench (a benchmark, not a
# test): delegation recall latency, the same recall_bench work against the
# guest kernel's own nfsd and against daxnfsd, both in this guest on tmpfs
# exports, one after the other in one boot (scripts/bench-recall-vm.sh).
# recall_bench's markdown goes to /host/out/recall-knfsd.md and
# /host/out/recall-daxnfsd.md; RECALL_BENCH_ARGS (env.sh) are its -n/-c.
# Only daxnfsd's run is checked (exit 0, no holder OPEN answered without a
# delegation, nothing revoked); knfsd's outcome is printed as it is. knfsd
# declines delegations on files it recently recalled one on (a bloom filter
# that a burst of recalls fills, docs/benchmarks.md): recall_bench skips
# those files, so knfsd's part takes minutes where daxnfsd's takes seconds.
. /host/guest/lib.sh
must "recall_bench is in the share" test -x /host/bin/recall_bench

must "modprobe nfsd" modprobe nfsd
mkdir -p /srv/knfsd /srv/dax/export /srv/dax/state
mount -t tmpfs -o size=256M tmpfs /srv/knfsd
mount -t tmpfs -o size=256M tmpfs /srv/dax
mkdir -p /srv/dax/export /srv/dax/state
start_knfsd /srv/knfsd
sleep 35   # the grace period ends at the laundromat run after it (lease time)
echo "--- knfsd: $(uname -r)"
NFS4_CL_DUMP=1 /host/bin/recall_bench 127.0.0.1 2049 $RECALL_BENCH_ARGS > /host/out/recall-knfsd.md 2>&1
rc=$?
# Not a check: what knfsd does with recall_bench is reported as it is.
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
# recall_bench goes on past a declined delegation (for knfsd); daxnfsd has
# no reason to decline one here.
ck "daxnfsd granted every holder OPEN a delegation" \
	eval "! grep 'without a delegation: [1-9]' /host/out/recall-daxnfsd.md"
kill -TERM $srv
wait $srv
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd exit status" "$?" 0
ck "daxnfsd revoked nothing" eval "! grep -q revoked /host/out/daxnfsd.log"
finish
