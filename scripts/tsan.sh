#!/usr/bin/env bash
# ThreadSanitizer run of the protocol tests: builds daxnfsd and the protocol
# tests with -fsanitize=thread (build-tsan/, -DDAXNFS_TSAN=ON, -Werror) and
# runs every protocol test (ctest -L proto), proto.test_state_concurrency
# among them (8 clients on 8 threads on the state core). Fails when a test
# fails (a daxnfsd that reported a race exits 66, which the tests' checked
# stop refuses) or when any process, daemon or test client, left a report in
# the log directory. scripts/test.sh runs it; extra arguments go to ctest
# (e.g. -R test_state_concurrency).
# The unit tests are not run here: the SIGBUS-guarded copy of pmem/
# (posix_copy_guarded) leaves its signal handler by siglongjmp, which this
# ThreadSanitizer does not follow (it reports every later malloc as "inside
# a signal", and unit.test_pmem_io's truncated-mapping case dies of the
# SIGBUS under it); report_signal_unsafe=0 is set for the same reason.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
logs="$top/build-tsan/tsan-reports"

cmake -S "$top" -B "$top/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDAXNFS_TSAN=ON -DDAXNFS_WERROR=ON >/dev/null
cmake --build "$top/build-tsan" -j"$jobs"
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="second_deadlock_stack=1 report_signal_unsafe=0 log_path=$logs/tsan"
(cd "$top/build-tsan" && ctest --output-on-failure --timeout 1500 -L proto "$@")
if [ -n "$(ls -A "$logs")" ]; then
	echo "ThreadSanitizer reports:" >&2
	for f in "$logs"/*; do
		echo "---- $f" >&2
		cat "$f" >&2
	done
	exit 1
fi
echo "ThreadSanitizer: no report from daxnfsd or the protocol tests"
