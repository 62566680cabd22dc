# SPDX-License-Identifier: LGPL-2.1-or-later
# Entry points for people. Each target first installs the Debian packages it needs that are missing
# (tools/install-deps.sh says which), then calls meson.
#
#   make build     build into build/
#   make check     every test suite: unit, fuzz corpora, end-to-end (installed binary), downloads,
#                  backups, the systemd sandbox, the Debian package (built, lintian, installed and upgraded
#                  in the sandbox), each install-deps.sh group alone on a minimal Debian; then unit, fuzz,
#                  e2e and the sandbox again under ASan+UBSan
#   make demo      a real upgrade end to end on the fake chain daemon, under systemd (throw-away container)
#   make demo-exec the same upgrade with the exec launcher, no systemd
#   make deb       the Debian package: build-deb/oraivisor_<version>_<arch>.deb (dpkg-buildpackage)
#   make install   install into the system (meson's prefix, /usr/local by default)
#   make bench     the benchmarks under bench/
#   make fuzz      libFuzzer builds of the fuzz targets (clang), run for FUZZ_SECONDS each

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DEB_BUILD ?= build-deb
DESTDIR_TEST := $(CURDIR)/$(BUILD)/destdir
FUZZ_SECONDS ?= 60
MESON_TEST_ARGS ?= --print-errorlogs
# -Dtests: auto builds the test suites when Criterion is installed; the check targets (and bench, which uses
# tools built with them) set enabled, so that a missing Criterion stops them instead of leaving them with
# nothing to run.
TESTS ?= auto
check check-unit check-asan bench: TESTS = enabled

.PHONY: all build install-test check check-unit check-asan deb demo demo-exec install bench fuzz clean deps-build deps-test deps-demo deps-deb deps-bench

all: build

deps-build:
	@tools/install-deps.sh build

deps-test:
	@tools/install-deps.sh test

deps-demo:
	@tools/install-deps.sh demo

deps-deb:
	@tools/install-deps.sh deb

deps-bench:
	@tools/install-deps.sh bench

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dtests=$(TESTS)

build: deps-build $(BUILD)/build.ninja
	@[ "$(TESTS)" = auto ] || meson configure $(BUILD) -Dtests=$(TESTS)
	meson compile -C $(BUILD)

# The end-to-end suites run the installed oraivisor, as an operator would get it.
install-test: build
	rm -rf $(DESTDIR_TEST)
	meson install -C $(BUILD) --destdir $(DESTDIR_TEST) --quiet

check: deps-test install-test
	meson test -C $(BUILD) $(MESON_TEST_ARGS)
	$(MAKE) --no-print-directory check-asan

check-unit: deps-test build
	meson test -C $(BUILD) --suite unit $(MESON_TEST_ARGS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled

# The unit tests, fuzz corpora and end-to-end suites again, with oraivisor built with ASan+UBSan (a
# sanitizer report changes the exit status, which every test checks), then the systemd sandbox suite
# with that build installed in the container (5 torture runs there).
check-asan: deps-test $(ASAN_BUILD)/build.ninja
	meson configure $(ASAN_BUILD) -Dtests=enabled
	meson compile -C $(ASAN_BUILD)
	rm -rf $(CURDIR)/$(ASAN_BUILD)/destdir
	meson install -C $(ASAN_BUILD) --destdir $(CURDIR)/$(ASAN_BUILD)/destdir --quiet
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite unit --suite fuzz --suite e2e $(MESON_TEST_ARGS)
	ORAIVISOR_BUILD_ROOT=$(CURDIR)/$(ASAN_BUILD) TORTURE_UNIT_RUNS=5 tests/systemd/run.sh

demo: deps-demo install-test
	tests/systemd/demo.sh $(BUILD)

# The same upgrade with the exec launcher (no systemd): oraivisor runs fakechaind as its own child.
demo-exec: deps-demo install-test
	tests/demo/exec-demo.sh $(BUILD)

# The Debian package (debian/), built from a copy of the tree; `apt install ./build-deb/oraivisor_*.deb`.
deb: deps-deb
	tools/build-deb.sh $(DEB_BUILD)

install: build
	meson install -C $(BUILD)

# The benchmarks use tools built with the tests (backup-tool, fakechaind): Criterion is installed first.
bench: deps-bench install-test
	bench/run.sh $(BUILD)

$(FUZZ_BUILD)/build.ninja:
	@tools/install-deps.sh fuzz
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

fuzz: $(FUZZ_BUILD)/build.ninja
	meson compile -C $(FUZZ_BUILD)
	tests/fuzz/run-libfuzzer.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
