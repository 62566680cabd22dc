#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run by tests/deps/run.sh inside a fresh minbase chroot, in a copy of the source: one install-deps.sh
# group, as a newcomer would use it. Exits non-zero at the first thing that does not work.
set -euo pipefail
group="$1"
cd /src/oraivisor
say() { printf '\n== %s\n' "$*"; }

# What README asks for before the first make: make itself.
say "apt-get install make"
apt-get update -qq
apt-get install -y -qq --no-install-recommends make >/dev/null

case "$group" in
build)
        say "make build (only the build group's packages)"
        make build 2>&1 | tee /tmp/build.log
        grep -q "Tests: not built (Criterion not found)" /tmp/build.log ||
                { echo "no line saying that the tests are not built" >&2; exit 1; }
        say "meson setup -Dtests=enabled without Criterion must stop and say what to install"
        if meson setup /tmp/enabled -Dtests=enabled >/tmp/enabled.log 2>&1; then
                echo "-Dtests=enabled configured without Criterion" >&2; exit 1
        fi
        grep "needs Criterion" /tmp/enabled.log
        ;;
demo)
        say "make demo-exec"
        make demo-exec 2>&1 | tee /tmp/demo.log
        grep -q "^== current -> upgrades/v2$" /tmp/demo.log || { echo "the demo did not switch to v2" >&2; exit 1; }
        ;;
test)
        say "tools/install-deps.sh test; make build TESTS=enabled"
        tools/install-deps.sh test
        make build TESTS=enabled
        ;;
bench)
        say "what make bench does before it runs the benchmarks (make deps-bench install-test TESTS=enabled)"
        make deps-bench install-test TESTS=enabled
        ls build/tests/backup/backup-tool build/tests/fakechaind/fakechaind-v1
        ;;
fuzz)
        say "tools/install-deps.sh fuzz; the libFuzzer build of make fuzz"
        tools/install-deps.sh fuzz
        make build-fuzz/build.ninja
        meson compile -C build-fuzz
        ls build-fuzz/tests/fuzz/fuzz-config-libfuzzer
        ;;
deb)
        say "tools/install-deps.sh deb; make deb"
        tools/install-deps.sh deb
        make deb
        ls -l build-deb/oraivisor_*.deb
        ;;
*)
        echo "unknown group '$group'" >&2; exit 2 ;;
esac
say "group $group: done"
