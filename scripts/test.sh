#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with AddressSanitizer
# and UndefinedBehaviorSanitizer and -Werror, and runs every test through ctest
# (unit, protocol, storage and VM tests); then builds without sanitizers and
# runs the protocol tests again with an optimised (-O2, -Werror) daemon under
# valgrind (no leaks, no memory errors); then runs the protocol tests with
# daxnfsd and the tests built with ThreadSanitizer (scripts/tsan.sh, no
# report allowed); then builds the libFuzzer targets with
# clang and runs each for a short while (docs/fuzzing.md); then builds the
# Debian package and checks it (scripts/package.sh: lintian, dpkg -i into a
# scratch root). Needs root for loop devices, XFS and leases; tests that
# cannot run here say SKIPPED with the reason. Extra arguments go to the first
# ctest run (e.g. -LE vm for a quick run without the VM tests).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$top/scripts/install-deps.sh" all

echo "== sanitizer build and the whole suite"
cmake -S "$top" -B "$top/build-test" -DCMAKE_BUILD_TYPE=Debug \
      -DDAXNFS_SANITIZE=ON -DDAXNFS_WERROR=ON >/dev/null
cmake --build "$top/build-test" -j"$jobs"
(cd "$top/build-test" && ctest --output-on-failure --timeout 1500 "$@")

echo "== valgrind build and the protocol tests with daxnfsd under valgrind"
cmake -S "$top" -B "$top/build-valgrind" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDAXNFS_VALGRIND_TESTS=ON -DDAXNFS_WERROR=ON >/dev/null
cmake --build "$top/build-valgrind" -j"$jobs"
(cd "$top/build-valgrind" && ctest --output-on-failure --timeout 1500 -L valgrind)

echo "== ThreadSanitizer build and the protocol tests (scripts/tsan.sh)"
"$top/scripts/tsan.sh"

echo "== fuzz build (clang, libFuzzer, ASan + UBSan) and a short run of every fuzz target"
cmake -S "$top" -B "$top/build-fuzz" -DCMAKE_C_COMPILER=clang -DDAXNFS_FUZZ=ON >/dev/null
cmake --build "$top/build-fuzz" -j"$jobs"
(cd "$top/build-fuzz" && ctest --output-on-failure -L fuzz)

echo "== Debian package (scripts/package.sh)"
"$top/scripts/package.sh"
