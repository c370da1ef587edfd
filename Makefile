# SPDX-License-Identifier: GPL-2.0
#
# mmrace: the user's vocabulary. The kernel module itself is described by
# Kbuild (built against the test kernel by scripts/build-module.sh).
#
#   make demo     boot the test kernel, load mmrace.ko, show what it does
#   make shell    a shell in the test guest: mmrace.ko loaded, the
#                 kselftests on PATH; exit or Ctrl-D powers it off
#                 (Documentation/howto.rst)
#   make check    the whole test suite (host tests + kselftests in the guest)
#   make check-upstream  the kernel's own mm selftests, plainly and under
#                 mmrace-run (the random-window profile)
#   make check-debug  the kselftests on the debug kernel (KASAN, lockdep,
#                 kmemleak, tight detectors), and the lockdown refusal
#   make check-mutants  the regression tests on the clean kernel and on each
#                 mutant kernel (selftests/mutants/*.patch, or
#                 MUTANTS_DIR=<dir> of your own patches): the table
#   make check-broken  the kselftests against mmrace.ko broken on purpose
#                 (selftests/broken/*.patch): each must fail (or skip,
#                 never pass) on the patches that name it
#   make check-kselftest-tree  selftests/ as a kernel tree's
#                 tools/testing/selftests/mmrace: built and installed with the
#                 kernel's kselftest Makefiles, run by run_kselftest.sh in the guest
#   make bench    amplification, rendezvous and overhead numbers, written to
#                 Documentation/benchmarks.rst
#   make setup    only install the toolchain (apt + bindgen-cli)
#   make kernel   only build (or find in the cache) the test kernel
#   make module   only build mmrace.ko
#   make clean    remove build products from the tree (the cache stays)
#
# KDIR=<dir> uses your own Rust-enabled kernel build instead of the cached one.

SHELL := /bin/bash
export KDIR MUTANTS_DIR

.PHONY: all demo shell check check-broken check-debug check-mutants check-upstream check-kselftest-tree bench \
	setup kernel module clean

all: module

demo:
	@scripts/demo.sh

shell:
	@scripts/shell.sh

check:
	@scripts/check.sh

bench:
	@scripts/bench.sh

check-mutants:
	@scripts/check-mutants.sh

check-broken:
	@scripts/check-broken.sh

check-debug:
	@scripts/check-debug.sh

check-upstream:
	@scripts/check-upstream.sh

check-kselftest-tree:
	@scripts/check-kselftest-tree.sh

setup:
	@scripts/setup.sh

kernel: setup
	@scripts/build-kernel.sh

module: setup
	@scripts/build-module.sh "$$(scripts/build-kernel.sh)"

clean:
	rm -rf build
	find src \( -name '*.o' -o -name '.*.cmd' -o -name '*.d' \
		-o -name '*.rmeta' -o -name 'shim_generated.rs' \) -delete
	rm -f mmrace.ko mmrace.mod mmrace.mod.c mmrace.mod.o mmrace.o \
		.mmrace* modules.order Module.symvers .modules.order.cmd \
		.Module.symvers.cmd
