# tests/vm/guest/pmem.sh: scenario pmem: daxnfsd inside the guest exports an
# XFS on the emulated NVDIMM (/dev/pmem0) mounted -o dax=always; the guest's
# kernel client mounts it over 127.0.0.1 and runs the workload. The files the
# server keeps must really be DAX: statx STATX_ATTR_DAX (0x200000), logged.
. /host/guest/lib.sh
. /host/guest/workload.sh

# is_dax FILE: statx attributes of FILE include STATX_ATTR_DAX.
is_dax() {
	a=$(xfs_io -r -c 'statx -r' "$1" | awk '$1 == "stat.attributes" {print $3}')
	echo "statx attributes of $1: $a"
	[ -n "$a" ] && [ $(( a & 0x200000 )) -ne 0 ]
}

must "modprobe nfit nd_pmem" eval "modprobe nfit && modprobe nd_pmem"
i=0
while [ ! -b /dev/pmem0 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
ndctl list -N
if ! ndctl list -N | grep -q '"mode":"fsdax"'; then
	must "ndctl create-namespace fsdax" ndctl create-namespace -f -e namespace0.0 -m fsdax
fi
must "/dev/pmem0 exists" test -b /dev/pmem0
must "mkfs.xfs -m reflink=1" mkfs.xfs -q -f -m reflink=1 /dev/pmem0
must "mount -o dax=always" mount -o dax=always /dev/pmem0 /pmem
grep /pmem /proc/mounts
dmesg | grep -i dax | tail -3
mkdir -p /pmem/export /pmem/state
echo probe > /pmem/export/.daxprobe
ck "a file on the XFS is DAX (statx)" is_dax /pmem/export/.daxprobe
rm -f /pmem/export/.daxprobe

cat > /tmp/daxnfsd.conf <<CONF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = 2049; }
NFSV4 { Lease_Lifetime = 15; Grace_Period = 15; Recovery_Dir = "/pmem/state"; }
LOG { Level = info; Destination = stderr; }
EXPORT { Export_Id = 1; Path = /pmem/export; Pseudo = /; Access_Type = RW; Squash = none; }
CONF
daxnfsd -f /tmp/daxnfsd.conf > /host/out/daxnfsd.log 2>&1 &
srv=$!
must "daxnfsd listens on 127.0.0.1:2049" wait_listen 2049 30
grep -i -E 'dax|export' /host/out/daxnfsd.log | head -5

workload 127.0.0.1 2049 4.2

ck "the server's 256 MiB file is DAX (statx)" is_dax /pmem/export/wl/big
ck "a server file of the tree is DAX (statx)" is_dax /pmem/export/wl/small/f1
ck "the export's files match the client's checksums" eval "cd /pmem/export && sha256sum --quiet -c /host/out/export.sha256"

kill -TERM $srv
wait $srv
rc=$?
tail -3 /host/out/daxnfsd.log
ck "daxnfsd exits 0 on SIGTERM" eq "daxnfsd exit status" "$rc" 0
ck "no sanitizer report from daxnfsd" eval "! grep -E 'Sanitizer|runtime error' /host/out/daxnfsd.log"
finish
