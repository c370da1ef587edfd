#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-kselftest-tree: selftests/ dropped into a kernel tree as
# tools/testing/selftests/mmrace and driven by the kernel's own kselftest
# Makefiles: built with "make -C tools/testing/selftests TARGETS=mmrace",
# installed with its install target (the kselftest-install flow), then run in
# the guest by the installed tree's run_kselftest.sh. Prints KTAP and ends
# with "N passed, N failed, N skipped"; exits non-zero on any failure.
#
# The tree is a scratch one, build/kselftest/tree: of the kernel source only
# what a selftest build reads (tools/testing/selftests' top level and
# kselftest/, scripts/subarch.include, mm/gup_test.h), the built kernel's
# exported headers (usr/include) and selftests/ with mmrace.ko in it.
#
# MMRACE_KSFT_TESTS: the tests the guest runs (default: mmrace_module
# mmrace_debugfs, each a -t mmrace:TEST); empty runs -c mmrace, all of them
# (some skip on multi-threaded TCG, see Documentation/testing.rst).
set -eu
. "$(dirname "$0")/env.sh"
work=$MMRACE_TOP/build/kselftest
tree=$work/tree
inst=$work/install
out=$work/vm
tests=${MMRACE_KSFT_TESTS-mmrace_module mmrace_debugfs}

"$MMRACE_TOP/scripts/setup.sh" >&2
kdir=$("$MMRACE_TOP/scripts/build-kernel.sh")
"$MMRACE_TOP/scripts/build-module.sh" "$kdir" >/dev/null
ksrc=$kdir/source
[ -d "$ksrc/tools" ] || ksrc=$kdir

. "$MMRACE_TOP/scripts/ktap.sh"
finish() {
	ktap_finish
	exit
}
# Run a step with its output in LOG; on failure show the log's tail.
step() { # LOG COMMAND...
	local log=$1
	shift
	"$@" >>"$log" 2>&1 && return 0
	tail -n 20 "$log" | sed 's/^/# /'
	return 1
}

echo "TAP version 13"

# The scratch tree. Copies, not links: nothing may write into the pristine
# source.
rm -rf "$work"
mkdir -p "$tree"/{tools/testing/selftests,scripts,mm,usr} "$out"
ksft=$tree/tools/testing/selftests
rsync -a --exclude='*/' "$ksrc/tools/testing/selftests/" "$ksft/"
rsync -a "$ksrc/tools/testing/selftests/kselftest" "$ksft/"
cp "$ksrc/scripts/subarch.include" "$tree/scripts/"
cp "$ksrc/mm/gup_test.h" "$tree/mm/"
# Without them (a KDIR never "make headers"-ed), the C library's.
[ -d "$kdir/usr/include/linux" ] &&
	rsync -a --exclude='.*' "$kdir/usr/include" "$tree/usr/"
cp -r "$MMRACE_TOP/selftests" "$ksft/mmrace"
cp "$MMRACE_TOP/mmrace.ko" "$ksft/mmrace/"
echo "# tree: ${tree#"$MMRACE_TOP"/} ($(du -sh "$tree" | cut -f1), kernel $(basename "$kdir"))"

# What the collection holds, by the kselftest Makefile's own account.
all_tests=$(make -s --no-print-directory -C "$ksft/mmrace" COLLECTION=mmrace \
	emit_tests | sed 's/^mmrace://')
static_tests() { # DIR: every test there, executable and static
	local t
	for t in $all_tests; do
		[ -x "$1/$t" ] || { echo "$1/$t: missing"; return 1; }
		case $t in *.sh) continue ;; esac
		if readelf -l "$1/$t" | grep -q INTERP; then
			echo "$1/$t: dynamically linked"
			return 1
		fi
	done
}

# (a) make -C tools/testing/selftests TARGETS=mmrace
echo "# make -C tools/testing/selftests TARGETS=mmrace"
if step "$work/build.log" \
	make -C "$ksft" TARGETS=mmrace -j"$(nproc)" &&
	step "$work/build.log" static_tests "$ksft/mmrace"; then
	result pass "tree:build" "$(echo "$all_tests" | wc -w) tests, static"
else
	result fail "tree:build" "see ${work#"$MMRACE_TOP"/}/build.log"
	finish
fi

# run_tests loads mmrace.ko, so not on the host: make -n shows what it
# would run (lib.mk's RUN_TESTS: kselftest/runner.sh's run_many), and the
# guest below runs it for real (the host's make and its libraries go along).
# Under -n make runs only the recipes that call $(MAKE).
dry=$(make -n -s -C "$ksft" TARGETS=mmrace run_tests 2>&1 | grep run_many || true)
missing=
for t in $all_tests; do
	case " $dry " in *" $t "* | *"/mmrace/$t "*) ;; *) missing="$missing $t" ;; esac
done
if [ -n "$dry" ] && [ -z "$missing" ]; then
	result pass "tree:run_tests" "make -n: run_many of all $(echo "$all_tests" | wc -w)"
else
	result fail "tree:run_tests" "make -n: not run:${missing:- run_many}"
fi

# (b) make -C tools/testing/selftests TARGETS=mmrace INSTALL_PATH=DIR install
echo "# make -C tools/testing/selftests TARGETS=mmrace INSTALL_PATH=${inst#"$MMRACE_TOP"/} install"
listed=
if step "$work/install.log" \
	make -C "$ksft" TARGETS=mmrace INSTALL_PATH="$inst" install &&
	step "$work/install.log" static_tests "$inst/mmrace"; then
	listed=$("$inst/run_kselftest.sh" -l | grep -c '^mmrace:' || true)
fi
if [ -z "$listed" ]; then
	result fail "tree:install" "see ${work#"$MMRACE_TOP"/}/install.log"
	finish
elif [ "$listed" != "$(echo "$all_tests" | wc -w)" ]; then
	result fail "tree:install" "run_kselftest.sh -l lists $listed mmrace tests"
	finish
elif ! cmp -s "$MMRACE_TOP/mmrace.ko" "$inst/mmrace/mmrace.ko"; then
	result fail "tree:install" "mmrace.ko not installed beside the tests"
	finish
else
	result pass "tree:install" "run_kselftest.sh -l lists $listed, mmrace.ko beside them"
fi

# The installed tree in the guest, by its own run_kselftest.sh.
ksft_arg=
timeout=300
if [ -n "$tests" ]; then
	ksft_arg=mmrace_kselftest=$(printf 'mmrace:%s,' $tests)
	ksft_arg=${ksft_arg%,}
	printf '%s\n' $tests >"$out/tests"
	echo "# guest: run_kselftest.sh$(printf ' -t mmrace:%s' $tests)"
else
	printf '%s\n' $all_tests >"$out/tests"
	timeout=900
	echo "# guest: run_kselftest.sh -c mmrace"
fi
# For run_tests in the guest: the built tree, and make with its libraries.
cp -a "$tree" "$inst/tree"
mkdir -p "$inst/host"
cp -L /usr/bin/make "$inst/host/"
ldd /usr/bin/make | grep -o '/[^ ]*' | xargs -I{} cp -L {} "$inst/host/"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$inst" "$out/initrd.gz"
set +e
MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-$timeout} \
	MMRACE_APPEND="${MMRACE_APPEND:-} $ksft_arg" \
	"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
	"$out/initrd.gz" "$out" kselftest
vm=$?
set -e
guest_results "$out" "$out/tests" "$vm" kselftest
# The same tests by make run_tests in the tree (prefixed in the log).
want=$(wc -l <"$out/tests")
got=$(tr -d '\r' <"$out/results.log" | grep -cE '^run_tests: ok [0-9]+ selftests: mmrace: ' || true)
if tr -d '\r' <"$out/results.log" | grep -q '^run_tests: not ok '; then
	result fail "tree:run_tests(guest)" "a test failed; see ${out#"$MMRACE_TOP"/}/results.log"
elif [ "$got" = "$want" ]; then
	result pass "tree:run_tests(guest)" "make -C tools/testing/selftests TARGETS=mmrace run_tests: $got ok"
else
	result fail "tree:run_tests(guest)" "$got of $want ok; see ${out#"$MMRACE_TOP"/}/results.log"
fi
finish
