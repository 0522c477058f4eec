#!/usr/bin/env bash
# Builds the fuzz configuration (clang; libFuzzer coverage, AddressSanitizer
# and UBSan on the code under test and on the harnesses) in build-fuzz/ and
# runs each libFuzzer target of tests/fuzz/ over its committed seeds
# (tests/fuzz/corpus/<target>/) and what earlier runs found
# (build-fuzz/fuzz-corpus/<target>/). See docs/fuzzing.md.
#
#   scripts/fuzz.sh                      every target 20 s (a smoke run)
#   scripts/fuzz.sh --time 120           every target 120 s
#   scripts/fuzz.sh --long 3600          a long run: every target 3600 s, one after another
#   scripts/fuzz.sh --long 3600 fuzz_compound      one target only
#   scripts/fuzz.sh --fork 2 --long 3600 ...       2 libFuzzer processes per target
#   scripts/fuzz.sh --build-only
#
# New inputs stay in build-fuzz/fuzz-corpus/<target>/, a crashing input is
# written to build-fuzz/fuzz-artifacts/<target>/ and the whole output to
# build-fuzz/fuzz-logs/<target>.log. Exits 1 when any target failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-fuzz"
all_targets=(fuzz_record fuzz_rpc_call fuzz_fattr4 fuzz_cb_reply fuzz_compound fuzz_nfs4_decode
	fuzz_rpc_rdma_hdr)

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

seconds=20
fork=0
build_only=false
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time|--long) seconds=${2:?"$1 needs a number of seconds"}; shift 2 ;;
	--fork) fork=${2:?"--fork needs a number of processes"}; shift 2 ;;
	--build-only) build_only=true; shift ;;
	-h|--help) usage 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; usage 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: '$seconds' is not a number of seconds" >&2; exit 2 ;; esac

command -v clang >/dev/null || "$top/scripts/install-deps.sh" all

echo "== fuzz build (clang, libFuzzer, ASan + UBSan) in $build"
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DDAXNFS_FUZZ=ON >/dev/null
# -j2 at most: the machine is shared with other builds and a VM
cmake --build "$build" -j"$(( $(nproc) < 2 ? $(nproc) : 2 ))" \
	--target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
	tail -40 "$build/fuzz-build.log"
	echo "fuzz.sh: build failed (whole log: $build/fuzz-build.log)" >&2
	exit 1
}
$build_only && exit 0

mkdir -p "$build/fuzz-logs"
failed=()
printf '%-18s %6s %10s %8s %7s %7s %14s %8s\n' target secs execs exec/s cov ft corpus peak_rss
for t in "${targets[@]}"; do
	bin=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
	if [ -z "$bin" ]; then
		echo "fuzz.sh: no binary for $t" >&2
		failed+=("$t")
		continue
	fi
	corpus="$build/fuzz-corpus/$t"
	artifacts="$build/fuzz-artifacts/$t"
	log="$build/fuzz-logs/$t.log"
	mkdir -p "$corpus" "$artifacts"
	extra=()
	[ "$fork" -gt 0 ] && extra+=(-fork="$fork" -ignore_crashes=0)
	# -timeout: one input may take at most 10 s (a hang is a finding);
	# -rss_limit_mb: the process may not grow past 2 GiB (a leak is one too)
	rc=0
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${extra[@]}" "$corpus" "$top/tests/fuzz/corpus/$t" \
		>"$log" 2>&1 || rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [ -z "$done_line" ]; then
		# -fork: the parent's last "#N: cov: C ft: F corp: K exec/s E ..." line
		done_line=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
		execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$done_line")
		rate=$(sed -n 's/.* exec\/s \([0-9]*\).*/\1/p' <<<"$done_line")
	fi
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
	corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$done_line")
	printf '%-18s %6s %10s %8s %7s %7s %14s %8s\n' "$t" "$seconds" "${execs:--}" "${rate:--}" \
		"${cov:--}" "${ft:--}" "${corp:--}" "${rss:+${rss}MB}"
	if [ "$rc" -ne 0 ]; then
		failed+=("$t")
		echo "   FAILED (exit $rc): $(grep -m1 -E 'ERROR: |invariant broken|runtime error' "$log" || true)"
		grep -E 'Test unit written to|^artifact_prefix' "$log" | sed 's/^/   /' || true
		echo "   log: $log"
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: every target ran $seconds s without a finding"
