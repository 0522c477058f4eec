# tests/vm/guest/knfsd.sh: the workload against the guest kernel's own nfsd,
# to prove the workload script itself (a reference, not a daxnfsd test).
. /host/guest/lib.sh
. /host/guest/workload.sh
must "modprobe nfsd" modprobe nfsd
mkdir -p /srv/export /proc/fs/nfsd /var/lib/nfs/v4recovery
mount -t tmpfs -o size=1200M tmpfs /srv/export
must "mount nfsd fs" mount -t nfsd nfsd /proc/fs/nfsd
echo '/srv/export *(rw,no_root_squash,fsid=0,insecure,no_subtree_check)' > /etc/exports
touch /var/lib/nfs/etab /var/lib/nfs/rmtab
must "exportfs" exportfs -ra
must "rpc.nfsd" rpc.nfsd -N 3 -V 4.1 -V 4.2 4
workload 127.0.0.1 2049 "$VERS"
finish
