#!/usr/bin/env bash
# NFS-level benchmark: daxnfsd against NFS-Ganesha on the same export
# filesystem, same machine, same load generator (tests/bench/nfs_bench.c).
#
# Builds daxnfsd and nfs_bench in Release (build-bench/), then for each
# filesystem (tmpfs, and XFS on a 2 GiB sparse loop image) starts each server
# on a free loopback port, runs nfs_bench once, stops the server; three rounds,
# the servers alternating, then a markdown table of the median run per workload. Ganesha is
# installed from Debian's packages when missing (skipped if unavailable).
# knfsd is not measured: the host kernel has no nfsd.
#
# Server "daxnfsd-nomac" is the same daemon built without the file handle
# MAC's work (build-bench-nomac/, -DDAXNFS_BENCH_FH_NO_MAC): the A/B of what
# the MAC costs, e.g.
#   scripts/bench.sh --fs tmpfs --servers "daxnfsd daxnfsd-nomac" --rounds 7 -- -w getattr -r 1
#
# Server "daxnfsd-metrics" is daxnfsd with its METRICS endpoint on and
# scraped once a second during the run (a harsher rate than Prometheus'
# usual 15 s; DAXNFS_BENCH_SCRAPE_SECS sets another interval, 0 none): the
# cost of the metrics, e.g.
#   scripts/bench.sh --fs tmpfs --servers "daxnfsd daxnfsd-metrics" --rounds 5 -- -w getattr -r 1
#
# Server "daxnfsd-base" is the daxnfsd binary named by DAXNFS_BENCH_BASE
# (another tree's Release build): the A/B of a change, e.g.
#   DAXNFS_BENCH_BASE=/tmp/old/build/server/daxnfsd \
#     scripts/bench.sh --fs tmpfs --servers "daxnfsd daxnfsd-base" --rounds 5 -- -w getattr_qd1 -r 1
#
# usage: scripts/bench.sh [--fs tmpfs|xfs|both] [--servers "daxnfsd ganesha"]
#                         [--wait-quiet] [--perf] [--rounds N] [--out DIR] [-- nfs_bench options]
#   --wait-quiet  wait until no qemu-system process runs before each server run
#   --rounds N    rounds (default 3); nfs_bench runs once per round (-r 1)
#   --perf        record daxnfsd/ganesha with perf (cpu-clock, call graphs) during
#                 the run; reports go to DIR/perf-<server>-<fs>.txt
# Needs root (mounts). Everything started is stopped and unmounted on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
fs_list="tmpfs xfs"
servers="daxnfsd ganesha"
wait_quiet=0
runs=3
use_perf=0
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--fs) [ "$2" = both ] && fs_list="tmpfs xfs" || fs_list="$2"; shift 2 ;;
	--servers) servers="$2"; shift 2 ;;
	--wait-quiet) wait_quiet=1; shift ;;
	--perf) use_perf=1; shift ;;
	--out) out="$2"; shift 2 ;;
	--rounds) runs="$2"; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--fs tmpfs|xfs|both] [--servers LIST] [--wait-quiet] [--perf] [--out DIR] [-- nfs_bench options]" >&2; exit 2 ;;
	esac
done
bench_args=("$@")
[ ${#bench_args[@]} -gt 0 ] || bench_args=(-r 1)
[ "$(id -u)" = 0 ] || { echo "bench.sh: needs root (tmpfs and loop mounts)" >&2; exit 1; }

build="$top/build-bench"
scratch=$(mktemp -d /tmp/daxnfs-bench.XXXXXX)
[ -n "$out" ] || out="$scratch/results"
mkdir -p "$out"
server_pid=""
perf_pid=""
mounted=""

cleanup() {
	set +e
	[ -n "$perf_pid" ] && kill -INT "$perf_pid" 2>/dev/null && wait "$perf_pid" 2>/dev/null
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	[ -n "$mounted" ] && umount "$mounted"
	[ -n "$loopimg" ] && rm -f "$loopimg"
	rm -rf "$scratch/exp" "$scratch/state" "$scratch/ganesha" "$scratch/daxnfsd.conf"
	rmdir "$scratch" 2>/dev/null
}
loopimg=""
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building daxnfsd and nfs_bench (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=ON \
      -DDAXNFS_SANITIZE=OFF >/dev/null
cmake --build "$build" -j2 --target daxnfsd nfs_bench >/dev/null
daxnfsd="$build/server/daxnfsd"
nfs_bench="$build/tests/nfs_bench"
if [[ " $servers " == *" daxnfsd-nomac "* ]]; then
	echo "== building daxnfsd without the file handle MAC (A/B only) in $build-nomac"
	cmake -S "$top" -B "$build-nomac" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=OFF \
	      -DDAXNFS_SANITIZE=OFF -DCMAKE_C_FLAGS=-DDAXNFS_BENCH_FH_NO_MAC >/dev/null
	cmake --build "$build-nomac" -j2 --target daxnfsd >/dev/null
fi

if [[ " $servers " == *" daxnfsd-base "* ]] && [ ! -x "${DAXNFS_BENCH_BASE:-}" ]; then
	echo "bench.sh: daxnfsd-base needs DAXNFS_BENCH_BASE, the path of a daxnfsd binary" >&2
	exit 2
fi

if [[ " $servers " == *" ganesha "* ]] && ! command -v ganesha.nfsd >/dev/null; then
	if apt-cache policy nfs-ganesha-vfs 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
		echo "== installing NFS-Ganesha from Debian"
		DEBIAN_FRONTEND=noninteractive apt-get install -y nfs-ganesha nfs-ganesha-vfs >/dev/null
	else
		echo "== NFS-Ganesha is not installable here: skipped"
		servers=${servers//ganesha/}
	fi
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {   # port pid
	local i
	for i in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

mount_fs() {    # fs -> mounts $scratch/exp
	mkdir -p "$scratch/exp"
	case "$1" in
	tmpfs) mount -t tmpfs -o size=1g tmpfs "$scratch/exp" ;;
	xfs)
		loopimg="$scratch/xfs.img"
		truncate -s 2G "$loopimg"
		mkfs.xfs -q -f "$loopimg"
		mount -o loop "$loopimg" "$scratch/exp" ;;
	*) echo "bench.sh: unknown filesystem $1" >&2; exit 2 ;;
	esac
	mounted="$scratch/exp"
}

umount_fs() {
	umount "$scratch/exp"
	mounted=""
	[ -n "$loopimg" ] && rm -f "$loopimg"
	loopimg=""
}

start_daxnfsd() {   # port [extra config block]
	mkdir -p "$scratch/state"
	rm -rf "$scratch/state"/*
	cat >"$scratch/daxnfsd.conf" <<EOF
NFS_CORE_PARAM { Bind_Addr = 127.0.0.1; NFS_Port = $1; Threads = 8; Max_Record_Size = 1114112; }
NFSV4 { Lease_Lifetime = 90; Grace_Period = 90; Recovery_Dir = "$scratch/state"; }
LOG { Level = warn; Destination = stderr; }
EXPORT { Export_Id = 1; Path = "$scratch/exp"; Pseudo = /; Access_Type = RW; Squash = none; }
${2:-}
EOF
	"$daxnfsd" -f "$scratch/daxnfsd.conf" >"$out/daxnfsd-$fs.log" 2>&1 &
	server_pid=$!
}

# daxnfsd with metrics on, and a scraper that reads them every second for
# as long as the daemon runs (each scrape's answer is counted).
start_daxnfsd-metrics() {   # port
	local mport pid
	mport=$(free_port)
	start_daxnfsd "$1" "METRICS { Metrics_Addr = 127.0.0.1; Metrics_Port = $mport; }"
	pid=$server_pid
	[ "${DAXNFS_BENCH_SCRAPE_SECS:-1}" = 0 ] && return 0
	( ok=0; bad=0
	  while kill -0 "$pid" 2>/dev/null; do
		sleep "${DAXNFS_BENCH_SCRAPE_SECS:-1}"
		if curl -sf -o /dev/null "http://127.0.0.1:$mport/metrics"; then
			ok=$((ok + 1))
		elif kill -0 "$pid" 2>/dev/null; then   # not the daemon's own stop
			bad=$((bad + 1))
		fi
	  done
	  echo "scrapes: $ok answered, $bad failed" >>"$out/daxnfsd-metrics-scrapes-$fs.txt" ) &
}

start_daxnfsd-nomac() {   # port
	local saved=$daxnfsd
	daxnfsd="$build-nomac/server/daxnfsd"
	start_daxnfsd "$1"
	daxnfsd=$saved
}

start_daxnfsd-base() {   # port
	local saved=$daxnfsd
	daxnfsd="$DAXNFS_BENCH_BASE"
	start_daxnfsd "$1"
	daxnfsd=$saved
}

start_ganesha() {   # port
	mkdir -p "$scratch/ganesha"
	cat >"$scratch/ganesha/ganesha.conf" <<EOF
NFS_CORE_PARAM { NFS_Port = $1; Bind_addr = 127.0.0.1; Protocols = 4;
                 Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
NFSV4 { Minor_Versions = 1,2; Graceless = true; RecoveryBackend = fs; }
NFS_KRB5 { Active_krb5 = false; }
EXPORT { Export_Id = 1; Path = $scratch/exp; Pseudo = /; Access_Type = RW;
         Squash = No_Root_Squash; SecType = sys; Protocols = 4; Transports = TCP;
         FSAL { Name = VFS; } }
LOG { Default_Log_Level = EVENT; }
EOF
	ganesha.nfsd -F -L "$out/ganesha-$fs.log" -f "$scratch/ganesha/ganesha.conf" \
		-p "$scratch/ganesha/pid" &
	server_pid=$!
}

stop_server() {
	kill -TERM "$server_pid"
	local i
	for i in $(seq 1 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "== daxnfsd $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?'), $(ganesha.nfsd -v 2>/dev/null | head -1 || true)"
for fs in $fs_list; do
	mount_fs "$fs"
	# Servers alternate run by run (daxnfsd, ganesha, daxnfsd, ...) so that both
	# see the same background load on a shared machine; the median of the runs
	# is reported per workload.
	for run in $(seq 1 "$runs"); do
		for srv in $servers; do
			if [ "$wait_quiet" = 1 ]; then
				while pgrep -f qemu-system >/dev/null; do sleep 10; done
			fi
			rm -rf "${scratch:?}/exp/"*
			port=$(free_port)
			"start_$srv" "$port"
			wait_port "$port" "$server_pid" || { echo "bench.sh: $srv did not start (see $out)" >&2; exit 1; }
			if [ "$use_perf" = 1 ] && [ "$run" = 1 ]; then
				perf record -q -e cpu-clock -g -p "$server_pid" -o "$out/perf-$srv-$fs.data" 2>/dev/null &
				perf_pid=$!
			fi
			echo "== $srv on $fs, run $run, load $(cut -d' ' -f1 /proc/loadavg), port $port: $nfs_bench ${bench_args[*]} 127.0.0.1 $port"
			"$nfs_bench" -p "$server_pid" "${bench_args[@]}" 127.0.0.1 "$port" | tee "$out/$srv-$fs-$run.txt"
			if [ -n "$perf_pid" ]; then
				kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
				perf report -i "$out/perf-$srv-$fs.data" --no-children --sort dso,sym \
					--stdio 2>/dev/null | grep -v '^$' | head -120 >"$out/perf-$srv-$fs.txt" || true
			fi
			stop_server
		done
	done
	umount_fs
done

# The median run of workload w for server srv on filesystem fs, by ops/s:
# "ops/s | MiB/s | p50 | p99 | server CPU us/op | context switches/op |"
# (the last two from nfs_bench -p, "-" when it could not read them).
median() {
	cat "$out/$2-$3-"*.txt | awk -v w="$1" '$1=="run1" && $2==w' | sort -k3,3n |
		awk '{l[NR]=$0} END {split(l[int((NR+1)/2)], f, " ");
			printf "%s | %s | %s | %s | %s | %s |", f[3], f[5], f[8], f[11],
				f[18] == "" ? "-" : f[18], f[22] == "" ? "-" : f[22]}'
}

echo "== medians (ops/s, MiB/s, p50/p99 us, server CPU us and context switches per request); raw output in $out"
for fs in $fs_list; do
	echo
	echo "### $fs"
	header="| workload |"; sep="|---|"
	for srv in $servers; do
		header="$header $srv ops/s | MiB/s | p50 us | p99 us | cpu us/op | ctxsw/op |"
		sep="$sep---|---|---|---|---|---|"
	done
	echo "$header"; echo "$sep"
	first=$(echo $servers | awk '{print $1}')
	for w in $(awk '$1=="run1"{print $2}' "$out/$first-$fs-1.txt"); do
		line="| $w |"
		for srv in $servers; do
			line="$line $(median "$w" "$srv" "$fs")"
		done
		echo "$line"
	done
done
for f in "$out"/daxnfsd-metrics-scrapes-*.txt; do
	[ -e "$f" ] && echo "daxnfsd-metrics on $(basename "$f" .txt | sed 's/daxnfsd-metrics-scrapes-//'): $(awk '{a += $2; b += $4} END {print a " scrapes answered, " b " failed"}' "$f")"
done
exit 0
