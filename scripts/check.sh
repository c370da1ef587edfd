#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build (or reuse) the kernel, build the
# module and the kselftests, run the host tests, boot the guest and run the
# kselftests there, then a second guest on single-threaded TCG for the ones
# that need it (below), scan the kernel logs for splats. Prints KTAP and ends
# with "N passed, N failed, N skipped"; exits non-zero on any failure.
set -eu
. "$(dirname "$0")/env.sh"
build=$MMRACE_TOP/build
out=$build/check
mkdir -p "$build"

# The tests that run on single-threaded TCG instead (the second guest,
# below), out of the first guest's list.
st_tests=(howto_own_race.sh mmrace_unload_armed mmrace_control_fire
	mmrace_control_atomic window_compact_isolate)

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
rm -rf "$out"
mkdir -p "$out"
cp -r "$build/payload" "$out/payload"
grep -vxF "${st_tests[@]/#/-e}" "$build/payload/tests" >"$out/payload/tests"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$out/payload" "$out/initrd.gz"

. "$MMRACE_TOP/scripts/ktap.sh"

echo "TAP version 13"
# Host tests: each prints KTAP and exits 0 (pass), 4 (skip) or else (fail).
for t in "$MMRACE_TOP"/selftests/host/*_test.sh; do
	name=host:$(basename "$t" .sh)
	echo "# $name"
	set +e
	KDIR=$kdir "$t" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	set -e
	case $rc in 0) result pass "$name" ;; 4) result skip "$name" ;;
	*) result fail "$name" "exit=$rc" ;; esac
done

# Guest tests.
echo "# guest: booting $(basename "$kdir") (logs in ${out#"$MMRACE_TOP"/})"
set +e
"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
	"$out/initrd.gz" "$out" check
vm=$?
set -e
guest_results "$out" "$out/payload/tests" "$vm" guest

# Tests that disarm kprobes while other CPUs run into them skip on the
# multi-threaded TCG above, where a CPU may execute an int3 that kprobes has
# removed; and window_compact_isolate, whose natural rate int3 probes
# inflate there (Documentation/testing.rst); and howto_own_race.sh,
# Documentation/howto.rst's example, on the guest make shell gives (first:
# on a fresh guest its page is low in its zone, where compaction's migrate
# scanner starts). They run here, on
# single-threaded TCG, where the vCPUs see code changes in order and jump
# optimization stays on; slower, hence the longer timeout.
st=$build/check-st
rm -rf "$st"
mkdir -p "$st"
cp -r "$build/payload" "$st/payload"
printf '%s\n' "${st_tests[@]}" >"$st/payload/tests"
echo timeout=600 >"$st/payload/settings"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$st/payload" "$st/initrd.gz"
echo "# guest, single-threaded TCG: ${st_tests[*]} (logs in ${st#"$MMRACE_TOP"/})"
set +e
MMRACE_TCG_THREAD=single "$MMRACE_TOP/scripts/run-vm.sh" \
	"$kdir/arch/x86/boot/bzImage" "$st/initrd.gz" "$st" check
vm=$?
set -e
guest_results "$st" "$st/payload/tests" "$vm" guest-st

# The kernel's own mm selftests, plainly and under mmrace-run (its own
# guest boot, 4 vCPUs). migration (about 4 minutes for both passes) is left
# to make check-upstream, to keep make check's time down (README).
# MMRACE_CHECK_UPSTREAM=0 leaves them all out. The profile runs without
# adversaries here (MMRACE_ADVERSARIES overrides): make check-upstream's
# default, the transparent set, is measured on cow only so far
# (Documentation/profile.rst).
if [ "${MMRACE_CHECK_UPSTREAM:-1}" != 0 ]; then
	echo "# upstream mm selftests, plainly and under mmrace-run"
	set +e
	KDIR=$kdir MMRACE_UPSTREAM_TESTS=${MMRACE_UPSTREAM_TESTS:-cow gup_test gup_longterm} \
		MMRACE_ADVERSARIES=${MMRACE_ADVERSARIES:-none} \
		"$MMRACE_TOP/scripts/check-upstream.sh" >"$build/upstream.log" 2>&1
	up=$?
	set -e
	grep -v -e '^# # ok' -e '^# # #' "$build/upstream.log" |
		grep -E '^# ' | sed 's/^# /# upstream: /'
	results_from "$build/upstream.log" "upstream:" upstream "$up"
fi

# selftests/ inside a kernel tree: built and installed by the kernel's own
# kselftest Makefiles, two tests run by the installed run_kselftest.sh
# (about 20 s warm).
echo "# selftests/ as tools/testing/selftests/mmrace (make check-kselftest-tree)"
set +e
KDIR=$kdir "$MMRACE_TOP/scripts/check-kselftest-tree.sh" >"$build/kselftest-tree.log" 2>&1
tree=$?
set -e
results_from "$build/kselftest-tree.log" "tree|kselftest:" kselftest-tree "$tree"

# One mutant kernel (selftests/mutants/), in rotation: its own regression
# test must fail on it. make check-mutants runs them all (about 10 minutes
# warm); here one costs about 2 minutes cold (the incremental work tree,
# one rebuild, one guest) and 30 seconds warm. MMRACE_CHECK_MUTANT=none
# leaves it out, =all runs every one, =NAME picks one by name.
# Mutants marked "Uncaught:" (no test catches them here) are not rotated.
mapfile -t mutants < <(grep -L '^Uncaught:' "$MMRACE_TOP"/selftests/mutants/*.patch)
pick=${MMRACE_CHECK_MUTANT:-auto}
if [ "$pick" = auto ]; then
	day=$(date -u +%j)
	pick=$(basename "${mutants[$((10#$day % ${#mutants[@]}))]}" .patch)
fi
if [ "$pick" != none ]; then
	[ "$pick" = all ] && pick=
	echo "# mutants: ${pick:-all}, each against its own test (rotation: day of year)"
	set +e
	KDIR=$kdir MMRACE_MUTANTS=$pick MMRACE_MUTANT_TESTS=own MMRACE_SKIP_CLEAN=1 \
		"$MMRACE_TOP/scripts/check-mutants.sh" >"$build/check-mutants.log" 2>&1
	mut=$?
	set -e
	grep -E '^(ok|not ok) ' "$build/check-mutants.log" | sed 's/^/# /'
	while read -r verdict rest; do
		name=${rest%%: *}
		case $verdict in
		ok) result pass "mutant:$name" "${rest#*: }" ;;
		*) result fail "mutant:$name" "${rest#*: }" ;;
		esac
	done < <(grep -E '^(ok|not ok) [0-9]{3}-' "$build/check-mutants.log" |
		sed 's/^not ok/not_ok/')
	if ! grep -qE '^(ok|not ok) [0-9]{3}-' "$build/check-mutants.log"; then
		result fail "mutants" "check-mutants.sh gave no verdict; see build/check-mutants.log"
	elif [ "$mut" != 0 ] && ! grep -q '^not ok ' "$build/check-mutants.log"; then
		result fail "mutants" "check-mutants.sh exited $mut; see build/check-mutants.log"
	fi
fi

ktap_finish
