#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian packages a make target needs, only those missing, and says which.
#   tools/install-deps.sh build|test|demo|bench|fuzz|deb|all   install what is missing
#   tools/install-deps.sh --list GROUP                      print the package names
set -euo pipefail

# libc6-dev: gcc only recommends it, and a minimal system (or --no-install-recommends) has no C headers.
# scdoc: the manual pages (docs/*.scd); protobuf-c: the chain watcher decodes the node's x/upgrade plan.
build_pkgs="gcc libc6-dev pkg-config meson ninja-build libsystemd-dev libcurl4-openssl-dev libjson-c-dev libarchive-dev libssl-dev scdoc libprotobuf-c-dev protobuf-c-compiler"
# The Debian package (make deb): debhelper builds it (dpkg-checkbuilddeps also wants build-essential),
# lintian checks it.
deb_pkgs="$build_pkgs build-essential debhelper dpkg-dev fakeroot lintian"
# Tests: Criterion; python3 for the end-to-end harnesses; a real systemd in a container for the systemd
# suite; file systems and archive tools for the backup and download suites; the package tools (make check
# builds the package, runs lintian and installs it in the container); mmdebstrap and git for the check of
# each group on a minimal Debian (tests/deps/run.sh); systemd-journal-remote and jq for the central journal
# of docs/fleet.md, run in the container; prometheus for promtool (the alerting rules of docs/ and the
# metrics file's format) and prometheus-node-exporter, which the systemd suite runs in the container to read
# oraivisor's metrics as an operator's Prometheus would; man-db, groff-base and bsdextrautils (col) to render
# the manual pages as lintian does (tests/man).
test_pkgs="$deb_pkgs libcriterion-dev man-db groff-base bsdextrautils python3 systemd systemd-container systemd-journal-remote jq dbus openssl zstd xz-utils bzip2 btrfs-progs xfsprogs e2fsprogs util-linux procps iproute2 ca-certificates mmdebstrap git prometheus prometheus-node-exporter"
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
        deb) echo "$deb_pkgs" ;;
        all) echo "$test_pkgs $bench_pkgs $fuzz_pkgs" | tr ' ' '\n' | sort -u | tr '\n' ' ' ;;
        *) echo "unknown group '$1': use build, test, demo, bench, fuzz, deb or all" >&2; exit 2 ;;
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
