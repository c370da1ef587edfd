#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-mutants: run the regression kselftests on the clean kernel and
# on each mutant kernel (the clean kernel with one historic bug put back,
# selftests/mutants/*.patch, built incrementally by build-mutant.sh), and
# print the table mutant x test. Passes only if the clean kernel passes
# every regression test and every mutant makes its own test (the patch's
# "Test:" line, and any "Also-Test:" lines) fail; a patch without a
# "Test:" line (MUTANTS_DIR, a user's own) must make at least one test fail.
#
# Environment:
#   MUTANTS_DIR            directory of patches (default selftests/mutants)
#   MMRACE_MUTANTS         only the patches whose names contain one of these
#                          words (space-separated); "none": no mutant
#   MMRACE_MUTANT_TESTS    own: each mutant runs only its own test (default
#                          all: the whole regression suite, own test first)
#   MMRACE_MUTANT_MODES    armed, off or "armed off" (windows disabled with
#                          MMRACE_WINDOWS=off; default armed)
#   MMRACE_MUTANT_RUNS     runs of each test per kernel (default 1)
#   MMRACE_MUTANT_BOOTS    boots of each kernel and mode (default 1), the
#                          runs repeated in each: a mutant caught by a
#                          panic (a warning, a BUG, a hung task) ends its
#                          guest at its first catch, so N boots of one run
#                          each are what counts it N times
#   MMRACE_CAP_S           per-test time cap, seconds (default: the test's)
#   MMRACE_SKIP_CLEAN=1    do not run the clean kernel
#   MMRACE_MUTANT_UPSTREAM suites of the kernel's own mm selftests to run on
#                          each kernel too, plainly and under mmrace-run
#                          (e.g. "cow gup_test gup_longterm"; default none:
#                          about 2 minutes per kernel); their verdicts form
#                          the table's "upstream" section, with the seed of
#                          each run under the profile
#
# Per-run results go to build/mutants/results.tsv (kernel, mode, test, run,
# verdict, seconds); the table to build/mutants/table.txt.
set -eu
. "$(dirname "$0")/env.sh"
build=$MMRACE_TOP/build
out=$build/mutants
# The regression suite: selftests/Makefile's REGRESSION_TESTS, in order.
mapfile -t suite < <(awk '/^REGRESSION_TESTS :=/ { on = 1; sub(/^[^=]*=/, "") }
	on { c = sub(/\\$/, ""); n = split($0, w); for (i = 1; i <= n; i++) print w[i]; if (!c) exit }' \
	"$MMRACE_TOP/selftests/Makefile")
dir=${MUTANTS_DIR:-$MMRACE_TOP/selftests/mutants}
dir=$(cd "$dir" && pwd)
modes=${MMRACE_MUTANT_MODES:-armed}
runs=${MMRACE_MUTANT_RUNS:-1}
boots=${MMRACE_MUTANT_BOOTS:-1}
which_tests=${MMRACE_MUTANT_TESTS:-all}

patches=()
for p in "$dir"/*.patch; do
	[ -f "$p" ] || continue
	if [ -n "${MMRACE_MUTANTS:-}" ]; then
		keep=0
		for w in $MMRACE_MUTANTS; do
			case $(basename "$p") in *"$w"*) keep=1 ;; esac
		done
		[ "$keep" = 1 ] || continue
	fi
	patches+=("$p")
done
# MMRACE_MUTANTS=none: the clean kernel only (e.g. for repeated runs).
[ "${#patches[@]}" -gt 0 ] || [ "${MMRACE_MUTANTS:-}" = none ] ||
	{ echo "check-mutants: no patches in $dir" >&2; exit 1; }

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
rm -rf "$out"
mkdir -p "$out"
: >"$out/results.tsv"

own_test() { sed -n 's/^Test: *\([a-z0-9_]*\).*/\1/p' "$1" | head -n 1; }
# Further tests of the same race ("Also-Test:" lines), run with the own test.
also_tests() { sed -n 's/^Also-Test: *\([a-z0-9_]*\).*/\1/p' "$1"; }

run_kernel() { # LABEL IMAGE MODE TEST...
	local b
	for ((b = 1; b <= boots; b++)); do
		boot_kernel "$b" "$@"
	done
}

boot_kernel() { # BOOT LABEL IMAGE MODE TEST...
	local boot=$1 label=$2 image=$3 mode=$4 vm t i
	shift 4
	local o=$out/$label-$mode
	[ "$boots" = 1 ] || o=$o-boot$boot
	mkdir -p "$o"
	cp -r "$build/payload" "$o/payload"
	: >"$o/payload/tests"
	for t in "$@"; do
		for ((i = 0; i < runs; i++)); do echo "$t" >>"$o/payload/tests"; done
	done
	cp "$o/payload/tests" "$o/tests"
	"$MMRACE_TOP/scripts/build-initramfs.sh" "$o/payload" "$o/initrd.gz"
	rm -rf "$o/payload"
	echo "# $label, windows $mode: $* (x$runs, boot $boot of $boots; logs in ${o#"$MMRACE_TOP"/})"
	set +e
	MMRACE_APPEND="MMRACE_WINDOWS=$mode ${MMRACE_CAP_S:+MMRACE_CAP_S=$MMRACE_CAP_S}" \
		MMRACE_TIMEOUT=$((600 + runs * ${#@} * 150)) \
		"$MMRACE_TOP/scripts/run-vm.sh" "$image" "$o/initrd.gz" "$o" check
	vm=$?
	set -e
	# Run numbers go on across boots (boot 2's first run is runs + 1).
	"$MMRACE_TOP/scripts/mutant-runs.sh" "$label" "$mode" "$o" "$o/tests" |
		awk -F'\t' -v OFS='\t' -v base=$(((boot - 1) * runs)) \
			'{ $4 += base; print }' >>"$out/results.tsv"
	[ "$vm" != 2 ] || echo "# $label: the guest died or hung (see ${o#"$MMRACE_TOP"/}/console.log)"
}

# The kernel's own suites on one kernel: rows "LABEL upstream SUITE[+mmrace]
# 1 VERDICT seed=N" in results.tsv.
run_upstream() { # LABEL IMAGE
	[ -n "${MMRACE_MUTANT_UPSTREAM:-}" ] || return 0
	local o=$out/$1-upstream
	echo "# $1: upstream suites ${MMRACE_MUTANT_UPSTREAM} (logs in ${o#"$MMRACE_TOP"/})"
	set +e
	KDIR=$kdir MMRACE_KERNEL_IMAGE=$2 MMRACE_UPSTREAM_OUT=$o \
		MMRACE_UPSTREAM_TESTS=$MMRACE_MUTANT_UPSTREAM \
		"$MMRACE_TOP/scripts/check-upstream.sh" >"$o.log" 2>&1
	set -e
	grep -E '^(not )?ok [0-9]+ upstream:' "$o.log" | while read -r line; do
		name=${line#*upstream:}
		name=${name%% *}
		v=pass
		case $line in not*) v=fail ;; *"# SKIP"*) v=skip ;; esac
		seed=
		case $name in *.mmrace)
			seed=$(tr -d '\r' <"$o/results.log" | awk -v t="$name" '
				$0 ~ "^# selftests: mmrace: " t "$" { on = 1; next }
				on && /^# selftests: mmrace: / { on = 0 }
				on && match($0, /seed[ =]+[0-9]+/) { s = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); print s; exit }')
			name=${name%.mmrace}+mmrace ;;
		esac
		printf '%s\tupstream\t%s\t1\t%s\t%s\n' "$1" "$name" "$v" \
			"${seed:+seed=$seed}" >>"$out/results.tsv"
	done
}

clean=$kdir/arch/x86/boot/bzImage
if [ "${MMRACE_SKIP_CLEAN:-0}" != 1 ]; then
	for mode in $modes; do
		run_kernel clean "$clean" "$mode" "${suite[@]}"
	done
	run_upstream clean "$clean"
fi
for p in ${patches[@]+"${patches[@]}"}; do
	name=$(basename "$p" .patch)
	own=$(own_test "$p")
	image=$("$MMRACE_TOP/scripts/build-mutant.sh" "$kdir" "$p") || {
		printf '%s\t-\t-\t0\tbuild-failed\t\n' "$name" >>"$out/results.tsv"
		continue
	}
	tests=()
	[ -n "$own" ] && tests+=("$own")
	mapfile -t also < <(also_tests "$p")
	tests+=(${also[@]+"${also[@]}"})
	if [ "$which_tests" = all ] || [ -z "$own" ]; then
		for t in "${suite[@]}"; do
			case " ${tests[*]} " in *" $t "*) ;; *) tests+=("$t") ;; esac
		done
	fi
	for mode in $modes; do
		run_kernel "$name" "$image" "$mode" "${tests[@]}"
	done
	run_upstream "$name" "$image"
done

# The table, and the verdict.
set +e
"$MMRACE_TOP/scripts/mutant-table.sh" "$out/results.tsv" "$dir" "${suite[*]}" \
	>"$out/table.txt"
status=$?
set -e
cat "$out/table.txt"
exit $status
