#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian packages a make target needs, only those missing, and says which.
#   tools/install-deps.sh build|test|demo|bench|fuzz|all   install what is missing
#   tools/install-deps.sh --list GROUP                      print the package names
set -euo pipefail

build_pkgs="gcc pkg-config meson ninja-build libsystemd-dev libcurl4-openssl-dev libjson-c-dev libarchive-dev libssl-dev"
# Tests: Criterion; python3 for the end-to-end harnesses; a real systemd in a container for the systemd
# suite; file systems and archive tools for the backup and download suites.
test_pkgs="$build_pkgs libcriterion-dev python3 systemd systemd-container dbus openssl zstd xz-utils bzip2 btrfs-progs xfsprogs e2fsprogs util-linux procps iproute2 ca-certificates"
demo_pkgs="$build_pkgs python3 systemd systemd-container dbus"
bench_pkgs="$test_pkgs curl hyperfine time"
fuzz_pkgs="$build_pkgs clang libclang-rt-14-dev"

group_pkgs() {
        case "$1" in
        build) echo "$build_pkgs" ;;
        test) echo "$test_pkgs" ;;
        demo) echo "$demo_pkgs" ;;
        bench) echo "$bench_pkgs" ;;
        fuzz) echo "$fuzz_pkgs" ;;
        all) echo "$test_pkgs $bench_pkgs $fuzz_pkgs" | tr ' ' '\n' | sort -u | tr '\n' ' ' ;;
        *) echo "unknown group '$1': use build, test, demo, bench, fuzz or all" >&2; exit 2 ;;
        esac
}

if [ "${1:-}" = "--list" ]; then
        group_pkgs "${2:?group}"
        exit 0
fi

group="${1:-build}"
missing=()
for p in $(group_pkgs "$group"); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
        exit 0
fi
echo "Installing missing Debian packages for '$group': ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
