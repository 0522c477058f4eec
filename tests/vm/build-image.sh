#!/usr/bin/env bash
# tests/vm/build-image.sh: builds the VM test bed's guest image from Debian packages.
#
# Usage: build-image.sh CACHE_DIR [HOST_BINARY...]
#
# Job: resolve the package closure of the guest's tools (pkg-closure.py), fetch
# the .debs with apt-get download into CACHE_DIR/debs, unpack them with dpkg -x,
# keep only the kernel modules the tests load (with their dependencies), add
# tests/vm/init, and pack a cpio+zstd initrd. HOST_BINARYs are the host-built
# programs the guest will run from the 9p share: the packages that own their
# shared libraries (ldd + dpkg -S, e.g. libasan8 for a sanitizer build) join the
# image. The result is CACHE_DIR/image-KEY/{vmlinuz,initrd.img,versions.txt},
# KEY being a hash of the exact .deb file names and of this builder, so a second
# run with the same packages costs only the apt look-ups. CACHE_DIR/image
# points at the newest. Prints the image directory on the last line.
#
# Calls: apt-cache, apt-get download, dpkg -x, depmod, modprobe, ldconfig, cpio,
# zstd. Called by: tests/vm/run-vm.sh (under a lock), or by hand.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: build-image.sh CACHE_DIR [HOST_BINARY...]}
shift
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: ERROR: $*" >&2; exit 1; }
# set -e alone would end the builder without a word.
trap 'echo "build-image: ERROR: command failed (rc=$?) at line $LINENO: $BASH_COMMAND" >&2' ERR

for t in apt-get apt-cache dpkg dpkg-deb depmod cpio zstd python3; do
  command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh all installs it)"
done

# The guest's userland. The kernel comes through linux-image-amd64, whose
# versioned dependency changes with every security update.
guest_pkgs=(rdma-core ibverbs-providers rdmacm-utils perftest ibverbs-utils iproute2
  nfs-common nfs-kernel-server xfsprogs ndctl dash coreutils util-linux mount
  busybox-static findutils procps kmod grep sed tar diffutils gawk attr)

# Kernel modules the scenarios load; modprobe adds their dependencies. Some
# are only request_module()d at run time (crypto drivers, pNFS layout drivers),
# so they are named here explicitly.
modules=(virtio_pci virtio_net virtio_blk 9p 9pnet_virtio
  rdma_rxe crc32_generic ib_uverbs ib_umad rdma_ucm rpcrdma svcrdma
  nfs nfsv4 nfsv3 nfsd nfs_layout_nfsv41_files nfs_layout_flexfiles blocklayoutdriver
  xfs crc32c_generic crc32c_intel crc32_pclmul libcrc32c
  nd_pmem nd_btt nfit dax_pmem device_dax libnvdimm dax
  loop ext4 overlay)

# Fast path: the same apt lists, builder and host binaries' libraries as a
# previous run give the same image; skip the package resolution (~6 s).
quick=$( (ls -l --time-style=full-iso /var/lib/apt/lists/ 2>/dev/null; cat "$0" "$here/pkg-closure.py" "$here/init"
  for b in "$@"; do { ldd "$b" 2>/dev/null || true; } | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p'; done) | sha256sum | cut -c1-16)
if [ -f "$cache/quick-$quick" ]; then
  img=$(cat "$cache/quick-$quick")
  if [ -f "$img/initrd.img" ] && [ -f "$img/vmlinuz" ]; then
    log "cached image $img (apt lists unchanged)"
    echo "$img"
    exit 0
  fi
fi

# Lists older than a day may name .debs the mirror no longer has (a kernel
# security update supersedes the old one): refresh them before resolving.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
   [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  log "apt lists are empty or older than a day: apt-get update"
  apt-get update -qq || die "apt-get update failed"
fi
kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^  Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 to a versioned kernel package"
kver=${kpkg#linux-image-}

# Packages that own the shared libraries of the host binaries.
extra=()
for b in "$@"; do
  [ -e "$b" ] || die "host binary $b does not exist"
  while read -r lib; do
    real=$(readlink -f "$lib")
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true)
    owner=${owner%%:*}
    [ -n "$owner" ] || die "$b needs $lib, which no Debian package owns"
    extra+=("$owner")
  done < <(ldd "$b" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
done

mapfile -t pkgs < <(python3 "$here/pkg-closure.py" "$kpkg" "${guest_pkgs[@]}" ${extra[@]+"${extra[@]}"} | sort -u)
[ ${#pkgs[@]} -gt 10 ] || die "package closure is implausibly small: ${pkgs[*]}"

# The candidates' pool file names carry the exact versions.
# apt-get download names a file PKG_VERSION_ARCH.deb with the epoch's ':' as %3a.
debs=$(apt-cache show --no-all-versions "${pkgs[@]}" | awk '
  /^Package: / {p = $2} /^Version: / {v = $2} /^Architecture: / {a = $2}
  /^$/ && p != "" {gsub(":", "%3a", v); print p "_" v "_" a ".deb"; p = ""}' | sort -u)
[ "$(echo "$debs" | wc -l)" -eq ${#pkgs[@]} ] || die "apt-cache show gave $(echo "$debs" | wc -l) files for ${#pkgs[@]} packages"
key=$( (echo "$debs"; cat "$0" "$here/pkg-closure.py" "$here/init") | sha256sum | cut -c1-16)
img="$cache/image-$key"

if [ -f "$img/initrd.img" ] && [ -f "$img/vmlinuz" ]; then
  log "cached image $img (kernel $kver, ${#pkgs[@]} packages)"
  ln -sfn "image-$key" "$cache/image"
  rm -f "$cache"/quick-*; echo "$img" > "$cache/quick-$quick"
  echo "$img"
  exit 0
fi

t0=$(date +%s)
missing=()
for d in $debs; do
  [ -f "$cache/debs/$d" ] || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "downloading ${#missing[@]} packages"
  # apt-get download takes package names; map each missing file back to its name.
  names=()
  for d in "${missing[@]}"; do names+=("${d%%_*}"); done
  (cd "$cache/debs" && apt-get download -q "${names[@]}" >/dev/null 2>"$cache/download.err") \
    || { cat "$cache/download.err" >&2; die "apt-get download failed"; }
  for d in "${missing[@]}"; do
    [ -f "$cache/debs/$d" ] || die "download of $d did not produce the file"
  done
fi

work="$cache/build.$$"
rm -rf "$work"
mkdir -p "$work/root" "$work/kernel"
trap 'rm -rf "$work"' EXIT
root="$work/root"

for d in $debs; do
  case "$d" in
    linux-image-*) dpkg-deb -x "$cache/debs/$d" "$work/kernel" ;;
    *) dpkg-deb -x "$cache/debs/$d" "$root" ;;
  esac
done

# Kernel: vmlinuz and the module closure.
[ -f "$work/kernel/boot/vmlinuz-$kver" ] || die "no /boot/vmlinuz-$kver in $kpkg"
kmod_dir=lib/modules/$kver
depmod -b "$work/kernel" "$kver"
mapfile -t modfiles < <(for m in "${modules[@]}"; do
  if grep -q "/$m.ko" "$work/kernel/$kmod_dir/modules.builtin" 2>/dev/null; then continue; fi
  modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" 2>/dev/null \
    || echo "MISSING $m"
done | awk '/^MISSING/ {print; next} $1 == "insmod" {print $2}' | sort -u)
for f in "${modfiles[@]}"; do
  case "$f" in MISSING*) die "kernel $kver has no module ${f#MISSING }";; esac
  rel=${f#"$work/kernel/"}
  mkdir -p "$root/$(dirname "$rel")"
  cp "$f" "$root/$rel"
done
cp "$work/kernel/$kmod_dir"/modules.{order,builtin,builtin.modinfo} "$root/$kmod_dir/" 2>/dev/null || true
depmod -b "$root" "$kver"

# Documentation, translations and iconv modules: never used in the guest.
rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bug} "$root"/usr/lib/x86_64-linux-gnu/gconv

# busybox applets fill in what the packages do not provide (sh for /init,
# poweroff, ip as a fallback); real tools win.
bb="$root/bin/busybox"
[ -x "$bb" ] || die "busybox-static did not provide /bin/busybox"
for a in $("$bb" --list-full); do
  [ -e "$root/$a" ] || [ -L "$root/$a" ] || { mkdir -p "$root/$(dirname "$a")"; ln -s /bin/busybox "$root/$a"; }
done

mkdir -p "$root"/{proc,sys,dev,tmp,run,mnt,host,pmem,var/lib/nfs,etc}
cp "$here/init" "$root/init"
chmod 755 "$root/init"
echo "daxnfs-vm" > "$root/etc/hostname"
printf '127.0.0.1 localhost\n10.0.2.15 daxnfs-vm\n10.0.2.2 host\n' > "$root/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser1:x:1000:1000::/tmp:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nuser1:x:1000:\n' > "$root/etc/group"
[ -e "$root/etc/mtab" ] || ln -s /proc/self/mounts "$root/etc/mtab"
ldconfig -r "$root"

{
  echo "kernel: $kpkg ($kver)"
  echo "packages (${#pkgs[@]}):"
  for d in $debs; do d=${d%.deb}; echo "  ${d//%3a/:}"; done
} > "$work/versions.txt"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | zstd -q -T2 -10 > "$work/initrd.img"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"

mkdir -p "$img.tmp"
mv "$work/initrd.img" "$work/vmlinuz" "$work/versions.txt" "$img.tmp/"
rm -rf "$img"
mv "$img.tmp" "$img"
ln -sfn "image-$key" "$cache/image"
# Old images of earlier package sets are of no further use.
for old in "$cache"/image-*; do
  [ "$old" = "$img" ] || rm -rf "$old"
done
rm -f "$cache"/quick-*; echo "$img" > "$cache/quick-$quick"
log "built $img in $(( $(date +%s) - t0 )) s: kernel $kver, ${#pkgs[@]} packages, initrd $(du -m "$img/initrd.img" | cut -f1) MiB"
echo "$img"
