#!/usr/bin/env bash
# Installs the Debian packages daxnfs needs to build and test. Idempotent:
# only missing packages are installed. Debian 12 (bookworm) or later.
set -euo pipefail

build_pkgs=(build-essential cmake python3 pkg-config libcmocka-dev libsodium-dev libcap-dev
  libibverbs-dev librdmacm-dev
  libsystemd-dev libmicrohttpd-dev libtirpc-dev)
test_pkgs=(xfsprogs util-linux attr valgrind clang libclang-rt-dev systemd prometheus curl
  groff-base man-db dpkg-dev lintian file rpcbind)
vm_pkgs=(qemu-system-x86 cpio zstd kmod busybox-static)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  all) want+=("${test_pkgs[@]}" "${vm_pkgs[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
