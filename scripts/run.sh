#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs daxnfsd in the
# foreground on its embedded default config (exports build/export on
# 127.0.0.1:2049). Extra arguments go to daxnfsd (e.g. -f my.conf).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh" build
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAXNFS_TESTS=OFF >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target daxnfsd
mkdir -p "$top/build/export"
exec "$top/build/server/daxnfsd" "$@"
