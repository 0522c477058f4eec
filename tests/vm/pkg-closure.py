#!/usr/bin/env python3
"""tests/vm/pkg-closure.py: the Debian package closure of the VM guest image.

Job: given root package names, print (one per line, sorted) the packages whose
files the guest needs: the roots and everything they Depend/Pre-Depend on,
taking the first installable alternative of each "a | b" group and the first
provider of a virtual package. Packages only needed by maintainer scripts or
by a booted init system (EXCLUDE) are left out: the guest never runs dpkg.

Calls: apt-cache (the host's apt lists). Called by: tests/vm/build-image.sh.
"""
import re
import subprocess
import sys

# Needed only to configure packages or to run a full init system; the guest
# image is unpacked with dpkg -x and booted with a tiny /init.
EXCLUDE = re.compile(
    r"^(debconf|debconf-2\.0|cdebconf|perl|perl-base|perl-modules-.*|python3.*|"
    r"udev|systemd|systemd-sysv|adduser|ucf|init-system-helpers|lsb-base|"
    r"sysvinit-utils|linux-base|initramfs-tools.*|dracut.*|tiny-initramfs|"
    r"linux-initramfs-tool|apparmor|firmware-.*|logsave|login|passwd)$")

APT_DEPENDS = ["apt-cache", "depends", "--no-recommends", "--no-suggests",
               "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]


def strip_arch(name):
    return name.split(":", 1)[0]


def parse(text):
    """Returns {pkg: [[alternatives...], ...]} with virtual names resolved to
    their provider lists: each alternative is (name, [providers])."""
    out = {}
    cur = None
    group = []
    last = None
    for line in text.splitlines():
        if not line.startswith(" "):
            cur = strip_arch(line.strip())
            out[cur] = []
            group = []
            last = None
            continue
        m = re.match(r"^ (\|| )(PreDepends|Depends): (.*)$", line)
        if m:
            alt = [strip_arch(m.group(3).strip()), []]
            group.append(alt)
            last = alt
            if m.group(1) != "|":       # group ends with a non-| line
                out[cur].append(group)
                group = []
            continue
        m = re.match(r"^    (\S+)$", line)
        if m and last is not None:
            last[1].append(strip_arch(m.group(1)))
    return out


def main():
    roots = sys.argv[1:]
    chosen = set()
    queue = list(roots)
    while queue:
        batch = sorted(set(queue) - chosen)
        queue = []
        if not batch:
            break
        chosen.update(batch)
        res = subprocess.run(APT_DEPENDS + ["--"] + batch, capture_output=True,
                             text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            sys.exit("pkg-closure: apt-cache depends failed for %s" % " ".join(batch))
        for pkg, groups in parse(res.stdout).items():
            for group in groups:
                cands = []
                for name, providers in group:
                    if name.startswith("<"):
                        cands += providers
                    else:
                        cands.append(name)
                cands = [c for c in cands if not EXCLUDE.match(c)]
                if not cands or any(c in chosen or c in queue for c in cands):
                    continue
                queue.append(cands[0])
    for p in sorted(chosen):
        if p.startswith("<"):
            sys.exit("pkg-closure: root %s is a virtual package" % p)
        print(p)


if __name__ == "__main__":
    main()
