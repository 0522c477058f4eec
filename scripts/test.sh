#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with AddressSanitizer
# and UndefinedBehaviorSanitizer and -Werror, and runs every test through ctest
# (unit, protocol, storage and VM tests). Needs root for loop devices, XFS
# and leases; tests that cannot run here say SKIPPED with the reason.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-test"
"$top/scripts/install-deps.sh" all
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DDAXNFS_SANITIZE=ON -DDAXNFS_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 1500 "$@"
