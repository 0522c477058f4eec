#!/usr/bin/env bash
# Builds the Debian package of daxnfsd and checks it:
#   - a Release tree (build-pkg/, -DDAXNFS_PACKAGE=ON, no tests) and
#     `cpack -G DEB` (dist/debian/package.cmake);
#   - lintian on the .deb: any E: line fails (warnings are printed);
#   - dpkg -i of it into a scratch root (dpkg --root, dependencies not
#     installed there): the files are where the unit expects them (its
#     ExecStart binary, the -f configuration, the state directory), the
#     conffile is registered, the man pages are there, and the installed
#     binary runs (-h), stripped and hardened (dpkg-buildflags).
# usage: scripts/package.sh [--out DIR]   (the .deb is copied to DIR)
# Installs what it needs from Debian's packages (dpkg-dev, lintian).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out="$2"; shift 2 ;;
	*) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
	esac
done
"$top/scripts/install-deps.sh" build
missing=()
for p in dpkg-dev lintian file; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build="$top/build-pkg"
# Debian's hardening flags (dpkg-buildflags: fortify, stack protector, relro, bindnow)
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDAXNFS_TESTS=OFF \
	-DDAXNFS_PACKAGE=ON -DCMAKE_INSTALL_PREFIX=/usr \
	-DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -f "$build"/daxnfs_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/daxnfs_*.deb)
echo "package: $deb ($(stat -c %s "$deb") bytes)"
dpkg-deb --info "$deb" | sed 's/^/  /'
dpkg-deb --contents "$deb" | awk '{print "  " $1 " " $6}'

# lintian: errors fail the check, warnings and infos are shown.
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
[ -z "$lint" ] || echo "$lint" | sed 's/^/  lintian: /'
if grep -q '^E: ' <<<"$lint"; then
	echo "package.sh: FAIL: lintian reports errors" >&2
	exit 1
fi
echo "lintian: $(echo "$lint" | grep -c '^E: ' || true) errors, $(echo "$lint" | grep -c '^W: ' || true) warnings"

# dpkg -i into a scratch root.
root=$(mktemp -d /tmp/daxnfs-pkgroot.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root -i "$deb" >/dev/null
fail=0
check() {   # check DESCRIPTION TEST...
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fail=1; fi
}
unit="$root/lib/systemd/system/daxnfsd.service"
check "the unit is installed" test -f "$unit"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
conf=$(sed -n 's/^ExecStart=.* -f \([^ ]*\).*/\1/p' "$unit")
state=$(sed -n 's/^StateDirectory=\(.*\)/\1/p' "$unit")
check "ExecStart's binary $exe is installed and executable" test -x "$root$exe"
check "ExecStart's configuration $conf is installed" test -f "$root$conf"
check "$conf is a conffile" grep -qx "$conf" "$root/var/lib/dpkg/info/daxnfs.conffiles"
check "StateDirectory $state is /var/lib/$state, mode 0700" \
	test "$(stat -c %a "$root/var/lib/$state" 2>/dev/null)" = 700
check "the configuration's Recovery_Dir is the state directory" \
	grep -q "Recovery_Dir = \"/var/lib/$state\"" "$root$conf"
check "man pages daxnfsd(8), daxnfs.conf(5)" test -f "$root/usr/share/man/man8/daxnfsd.8.gz" -a \
	-f "$root/usr/share/man/man5/daxnfs.conf.5.gz"
check "the installed daxnfsd runs" "$root$exe" -h
check "its binary is stripped" sh -c "file '$root$exe' | grep -q ', stripped'"
check "it is built with Debian's hardening (bind now, fortified calls)" sh -c \
	"readelf -d '$root$exe' | grep -q BIND_NOW && readelf -W --dyn-syms '$root$exe' | grep -q '_chk@'"
dpkg --root="$root" --force-not-root --purge daxnfs >/dev/null
check "purge removes the files" test ! -e "$root$exe" -a ! -e "$root$conf"
[ -z "$out" ] || { mkdir -p "$out"; cp "$deb" "$out/"; }
[ $fail = 0 ] || { echo "package.sh: FAIL" >&2; exit 1; }
echo "package.sh: $deb built, lintian without errors, installs where its unit expects"
