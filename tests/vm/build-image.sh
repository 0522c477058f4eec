#!/usr/bin/env bash
# tests/vm/build-image.sh: builds the VM test bed's guest image from Debian packages.
#
# Usage: build-image.sh [--kernel SERIES] [--packages 'PKG...'] CACHE_DIR [HOST_BINARY...]
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
# The kernel: the host's own linux-image-amd64 (6.1 on Debian 12), or with
# --kernel SERIES (major.minor, e.g. 7.3) the newest linux-image-SERIES.N of
# Debian's trixie-backports when SERIES is not the host's own. Those .debs come
# through a second apt state in CACHE_DIR/apt-trixie-backports (its own source
# list, lists, cache and an empty dpkg status; the one source line uses the
# archive URI of the machine's own apt sources), so the host's apt state is
# never touched and nothing is installed; the userland stays the host's suite.
# Such an image lives in CACHE_DIR/kSERIES/ (image-KEY, image), next to the
# host kernel's. When that kernel cannot be had (apt-get update of the suite
# fails, no such kernel), it exits 77 with "SKIP: reason" on the last line.
#
# --packages adds Debian packages (and their closure) to the guest's userland
# for one purpose, e.g. fio for a benchmark: fio alone pulls in the ceph and
# gluster client libraries (~45 MB), which every test boot would otherwise
# unpack. Such an image lives in its own directory (CACHE_DIR[/kSERIES]/with-
# PKG+PKG/), so building it neither evicts nor replaces the tests' image.
#
# Calls: apt-cache, apt-get download, dpkg -x, depmod, modprobe, ldconfig, cpio,
# zstd, xz. Called by: tests/vm/run-vm.sh (under a lock), or by hand.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage="usage: build-image.sh [--kernel SERIES] [--packages 'PKG...'] CACHE_DIR [HOST_BINARY...]"
kseries=
xpkgs=()       # --packages: more guest packages, for a separate image
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kseries=${2:?$usage}; shift 2 ;;
    --packages) read -r -a xpkgs <<< "${2:?$usage}"; shift 2 ;;
    *) break ;;
  esac
done
cache=${1:?$usage}
shift
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: ERROR: $*" >&2; exit 1; }
skip() { echo "build-image: SKIP: $*" >&2; echo "SKIP: $*"; exit 77; }
# set -e alone would end the builder without a word.
trap 'echo "build-image: ERROR: command failed (rc=$?) at line $LINENO: $BASH_COMMAND" >&2' ERR

for t in apt-get apt-cache dpkg dpkg-deb depmod cpio zstd python3; do
  command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh all installs it)"
done
case "$kseries" in ''|[0-9]*.[0-9]*) ;; *) die "--kernel wants a major.minor series such as 7.3, not '$kseries'" ;; esac
for p in ${xpkgs[@]+"${xpkgs[@]}"}; do
  [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "--packages: '$p' is not a Debian package name"
done

# The guest's userland. The kernel comes through linux-image-amd64, whose
# versioned dependency changes with every security update.
guest_pkgs=(rdma-core ibverbs-providers rdmacm-utils perftest ibverbs-utils iproute2
  nfs-common nfs-kernel-server xfsprogs ndctl dash coreutils util-linux mount
  busybox-static findutils procps kmod grep sed tar diffutils gawk attr dosfstools
  ${xpkgs[@]+"${xpkgs[@]}"})

# Kernel modules the scenarios load; modprobe adds their dependencies. Some
# are only request_module()d at run time (crypto drivers, pNFS layout drivers),
# so they are named here explicitly.
modules=(virtio_pci virtio_net virtio_blk 9p 9pnet_virtio
  rdma_rxe crc32_generic ib_uverbs ib_umad rdma_ucm rpcrdma svcrdma
  nfs nfsv4 nfsv3 nfsd nfs_layout_nfsv41_files nfs_layout_flexfiles blocklayoutdriver
  xfs crc32c_generic crc32c_intel crc32_pclmul libcrc32c
  nd_pmem nd_btt nfit dax_pmem device_dax libnvdimm dax
  loop ext4 overlay vfat nls_cp437 nls_ascii)
# In a backports kernel (7.3) CRC32/CRC32C are library code built into the
# kernel: these modules do not exist there, neither as modules nor listed as
# built in. The host's 6.1 has them all (rdma_rxe needs crc32_generic there).
bp_optional=" crc32_generic crc32c_generic crc32c_intel crc32_pclmul libcrc32c "

kpkg_of() {   # the versioned kernel package behind linux-image-amd64 (apt-cache args)
  apt-cache "$@" depends linux-image-amd64 2>/dev/null |
    sed -n 's/^  Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1
}
deb_files() {   # the pool file names (PKG_VERSION_ARCH.deb) of packages; apt-cache args first
  apt-cache "$@" | awk '
    /^Package: / {p = $2} /^Version: / {v = $2} /^Architecture: / {a = $2}
    /^$/ && p != "" {gsub(":", "%3a", v); print p "_" v "_" a ".deb"; p = ""}' | sort -u
}

# Which kernel: the host's own, or SERIES from a backports suite.
bp=            # the suite of a kernel that is not the host's own
out=$cache     # where this kernel's images live
if [ -n "$kseries" ]; then
  hk=$(kpkg_of)
  if [ -z "$hk" ]; then
    log "apt lists are empty: apt-get update"
    apt-get update -qq || die "apt-get update failed"
    hk=$(kpkg_of)
  fi
  [ -n "$hk" ] || die "cannot resolve the host's linux-image-amd64"
  hk=${hk#linux-image-}
  if [ "$kseries" = "$(echo "$hk" | cut -d. -f1,2)" ]; then
    kseries=   # the host's own: the same image as without --kernel
  else
    bp=trixie-backports
    out=$cache/k$kseries
  fi
fi

# The second apt state for $bp: the host's sources, lists, cache and dpkg
# status are neither used nor written; only its archive URI is read.
bp_dir=$cache/apt-$bp
bp_apt=(-o "Dir::Etc::SourceList=$bp_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$bp_dir/lists" -o "Dir::State::status=$bp_dir/status"
  -o "Dir::Cache=$bp_dir/cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
  -o APT::Sandbox::User=root)
bp_source_line() {   # "deb [signed-by=...] URI SUITE main" from the machine's own sources
  local uri entry file signed
  # The first "deb" source of a plain release (no -updates/-security suffix).
  read -r uri entry < <(apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI) $(SOURCESENTRY)' |
    awk '$1 == "deb" && $2 !~ /-/ {print $3, $4; exit}') || true
  [ -n "$uri" ] || return 1
  file=${entry%:*}
  # Its Signed-By (a keyring file), from the deb822 stanza or the one-line entry.
  signed=$(awk -v u="${uri%/}" 'BEGIN {RS = ""} index($0, u) {
      if (match($0, /Signed-By: *\/[^ \n]*/)) { s = substr($0, RSTART, RLENGTH); sub(/Signed-By: */, "", s); print s; exit }
      if (match($0, /signed-by=\/[^] ,]*/)) { s = substr($0, RSTART, RLENGTH); sub(/signed-by=/, "", s); print s; exit } }' \
    "$file" 2>/dev/null || true)
  echo "deb ${signed:+[signed-by=$signed] }$uri $bp main"
}
bp_update() {
  mkdir -p "$bp_dir/lists/partial" "$bp_dir/cache/archives/partial"
  touch "$bp_dir/status"
  local line
  line=$(bp_source_line) || skip "no Debian archive URI in this machine's apt sources to build a $bp source from"
  echo "$line" > "$bp_dir/sources.list"
  if [ -z "$(find "$bp_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    log "apt-get update of $bp (second apt state in $bp_dir): $line"
    if ! apt-get "${bp_apt[@]}" update -qq >"$bp_dir/update.log" 2>&1 ||
       grep -q -E '^(E|W): ' "$bp_dir/update.log"; then
      sed 's/^/  /' "$bp_dir/update.log" >&2
      [ -n "$(find "$bp_dir/lists" -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ] ||
        skip "apt-get update of $bp failed: $(grep -E '^(E|W): ' "$bp_dir/update.log" | head -1)"
      log "apt-get update of $bp failed: using its older lists"
    fi
  fi
}
[ -z "$bp" ] || bp_update
if [ ${#xpkgs[@]} -gt 0 ]; then
  out=$out/with-$(printf '%s\n' "${xpkgs[@]}" | sort -u | paste -sd+)
fi

# Fast path: the same apt lists, builder and host binaries' libraries as a
# previous run give the same image; skip the package resolution (~6 s).
quick=$( (echo "kernel ${kseries:-host} packages ${xpkgs[*]:-}"; ls -l --time-style=full-iso /var/lib/apt/lists/ 2>/dev/null
  [ -z "$bp" ] || ls -l --time-style=full-iso "$bp_dir/lists/"
  cat "$0" "$here/pkg-closure.py" "$here/init"
  for b in "$@"; do { ldd "$b" 2>/dev/null || true; } | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p'; done) | sha256sum | cut -c1-16)
if [ -f "$out/quick-$quick" ]; then
  img=$(cat "$out/quick-$quick")
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

kapt=()        # apt-cache/apt-get options for the kernel's packages
kpkgs=()       # the packages whose files make the kernel
if [ -z "$bp" ]; then
  kpkg=$(kpkg_of)
  [ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 to a versioned kernel package"
  kver=${kpkg#linux-image-}
  kpkgs=("$kpkg")
else
  kapt=("${bp_apt[@]}")
  # The newest linux-image-SERIES.N[+debNN]-amd64 of the suite.
  kpkg=$(apt-cache "${kapt[@]}" pkgnames "linux-image-$kseries." |
    grep -E "^linux-image-${kseries//./\\.}\.[0-9]+[+a-z0-9.~]*-amd64\$" | sort -V | tail -1 || true)
  [ -n "$kpkg" ] || skip "$bp has no linux-image-$kseries.*-amd64 (its newest kernels: $(apt-cache "${kapt[@]}" pkgnames linux-image- |
    grep -E '^linux-image-[0-9.]+[+a-z0-9.~]*-amd64$' | sort -V | tail -3 | paste -sd' '))"
  kver=${kpkg#linux-image-}
  # Since 7.x linux-image-KVER is a meta package: vmlinuz is in linux-binary-KVER,
  # the modules in linux-modules-KVER, modules.builtin in linux-base-KVER.
  mapfile -t kpkgs < <(apt-cache "${kapt[@]}" depends "$kpkg" | awk -v k="$kver" '
    ($1 == "Depends:" || $1 == "PreDepends:") &&
    ($2 == "linux-binary-" k || $2 == "linux-modules-" k || $2 == "linux-base-" k) {print $2}' | sort -u)
  [ ${#kpkgs[@]} -gt 0 ] || kpkgs=("$kpkg")   # an older kernel: one package
  log "kernel $kver from $bp: ${kpkgs[*]} ($(apt-cache "${kapt[@]}" show --no-all-versions "$kpkg" | sed -n 's/^Version: //p' | head -1))"
fi

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

# The userland (with the host's own kernel package when that is the kernel).
roots=("${guest_pkgs[@]}" ${extra[@]+"${extra[@]}"})
[ -n "$bp" ] || roots=("$kpkg" "${roots[@]}")
mapfile -t pkgs < <(python3 "$here/pkg-closure.py" "${roots[@]}" | sort -u)
[ ${#pkgs[@]} -gt 10 ] || die "package closure is implausibly small: ${pkgs[*]}"

# The candidates' pool file names carry the exact versions.
# apt-get download names a file PKG_VERSION_ARCH.deb with the epoch's ':' as %3a.
udebs=$(deb_files show --no-all-versions "${pkgs[@]}")
[ "$(echo "$udebs" | wc -l)" -eq ${#pkgs[@]} ] || die "apt-cache show gave $(echo "$udebs" | wc -l) files for ${#pkgs[@]} packages"
if [ -z "$bp" ]; then
  kdebs=$(echo "$udebs" | awk -F_ -v k="$kpkg" '$1 == k')
  udebs=$(echo "$udebs" | awk -F_ -v k="$kpkg" '$1 != k')
else
  kdebs=$(deb_files "${kapt[@]}" show --no-all-versions "${kpkgs[@]}")
fi
[ "$(echo "$kdebs" | wc -l)" -eq ${#kpkgs[@]} ] || die "no single .deb for each of ${kpkgs[*]}: $kdebs"
debs=$(printf '%s\n%s\n' "$udebs" "$kdebs" | sort -u)
key=$( (echo "$debs"; cat "$0" "$here/pkg-closure.py" "$here/init") | sha256sum | cut -c1-16)
img="$out/image-$key"
npkgs=$(echo "$debs" | wc -l)

if [ -f "$img/initrd.img" ] && [ -f "$img/vmlinuz" ]; then
  log "cached image $img (kernel $kver, $npkgs packages)"
  ln -sfn "image-$key" "$out/image"
  rm -f "$out"/quick-*; echo "$img" > "$out/quick-$quick"
  echo "$img"
  exit 0
fi

t0=$(date +%s)
fetch() {   # fetch "DEB_FILES" APT_OPTION...: download the missing ones into CACHE/debs
  local files=$1 d missing=() names=()
  shift
  for d in $files; do
    [ -f "$cache/debs/$d" ] || missing+=("$d")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "downloading ${#missing[@]} packages"
  # apt-get download takes package names; map each missing file back to its name.
  for d in "${missing[@]}"; do names+=("${d%%_*}"); done
  (cd "$cache/debs" && apt-get "$@" download -q "${names[@]}" >/dev/null 2>"$cache/download.err") \
    || { cat "$cache/download.err" >&2; die "apt-get download failed"; }
  for d in "${missing[@]}"; do
    [ -f "$cache/debs/$d" ] || die "download of $d did not produce the file"
  done
}
fetch "$udebs"
fetch "$kdebs" ${kapt[@]+"${kapt[@]}"}

mkdir -p "$out"
work="$out/build.$$"
rm -rf "$work"
mkdir -p "$work/root" "$work/kernel"
trap 'rm -rf "$work"' EXIT
root="$work/root"
kdir="$work/kernel"

for d in $udebs; do dpkg-deb -x "$cache/debs/$d" "$root"; done
for d in $kdebs; do dpkg-deb -x "$cache/debs/$d" "$kdir"; done

# Kernel: vmlinuz and the module closure. 6.1 has /boot/vmlinuz-KVER and
# /lib/modules; 7.x /usr/lib/modules/KVER/vmlinuz and compressed modules
# (.ko.xz), which are decompressed for the guest's kmod.
[ -d "$kdir/lib/modules/$kver" ] || [ ! -d "$kdir/usr/lib/modules/$kver" ] || [ -e "$kdir/lib" ] ||
  ln -s usr/lib "$kdir/lib"
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || vmlinuz=$kdir/lib/modules/$kver/vmlinuz
[ -f "$vmlinuz" ] || die "no vmlinuz of $kver in ${kpkgs[*]}"
kmod_dir=lib/modules/$kver
depmod -b "$kdir" "$kver"
mapfile -t modfiles < <(for m in "${modules[@]}"; do
  if grep -q "/$m.ko" "$kdir/$kmod_dir/modules.builtin" 2>/dev/null; then continue; fi
  modprobe -d "$kdir" -S "$kver" --show-depends "$m" 2>/dev/null \
    || echo "MISSING $m"
done | awk '/^MISSING/ {print; next} $1 == "insmod" {print $2}' | sort -u)
for f in "${modfiles[@]}"; do
  case "$f" in
    MISSING*)
      m=${f#MISSING }
      if [ -n "$bp" ] && [[ "$bp_optional" == *" $m "* ]]; then
        log "kernel $kver has no module $m (built-in library code there): left out"
        continue
      fi
      die "kernel $kver has no module $m" ;;
  esac
  rel=${f#"$kdir/"}
  mkdir -p "$root/$(dirname "$rel")"
  cp "$f" "$root/$rel"
  case "$rel" in
    *.ko.xz) command -v xz >/dev/null || die "xz not found (xz-utils)"; xz -d -f "$root/$rel" ;;
    *.ko.zst) zstd -q -d --rm -f "$root/$rel" ;;
    *.ko.gz) gzip -d -f "$root/$rel" ;;
  esac
done
cp "$kdir/$kmod_dir"/modules.{order,builtin,builtin.modinfo} "$root/$kmod_dir/" 2>/dev/null || true
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
  kv=$(echo "$kdebs" | awk -F_ '{print $2; exit}')
  echo "kernel: $kpkg ${kv//%3a/:} ($kver)${bp:+ from $bp, userland of the host suite}"
  echo "packages ($npkgs):"
  for d in $debs; do d=${d%.deb}; echo "  ${d//%3a/:}"; done
} > "$work/versions.txt"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | zstd -q -T2 -10 > "$work/initrd.img"
cp "$vmlinuz" "$work/vmlinuz"

mkdir -p "$img.tmp"
mv "$work/initrd.img" "$work/vmlinuz" "$work/versions.txt" "$img.tmp/"
rm -rf "$img"
mv "$img.tmp" "$img"
ln -sfn "image-$key" "$out/image"
# Old images of earlier package sets (of this kernel) are of no further use.
for old in "$out"/image-*; do
  [ "$old" = "$img" ] || rm -rf "$old"
done
rm -f "$out"/quick-*; echo "$img" > "$out/quick-$quick"
log "built $img in $(( $(date +%s) - t0 )) s: kernel $kver, $npkgs packages, initrd $(du -m "$img/initrd.img" | cut -f1) MiB"
echo "$img"
