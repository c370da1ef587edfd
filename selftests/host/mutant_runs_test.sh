#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-mutants' per-run verdicts (scripts/mutant-runs.sh, on the one
# scanner scan-log.sh -r) and its table (scripts/mutant-table.sh) on a fake
# guest run in which test t ran twice and u once, as KTAP: a splat is blamed
# on the run it happened in; a kernel log that cannot be scanned (no
# console.log, no splat-patterns) makes no run a pass, so that the clean
# kernel fails and no mutant counts as caught; check-mutants.sh does no
# pattern matching of its own; and the time-to-detection report
# (scripts/mutant-report.sh) shows a test that skipped every run of a mode
# as skipped, with no ratio, not as a miss at the cap.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"
# A guest run in DIR: CONSOLE is "-" for none.
run() { # DIR CONSOLE
	mkdir -p "$1"
	printf 't\nt\nu\n' >"$1/tests"
	printf '%s\n' "# selftests: mmrace: t" "# mmrace-detect: t windows=armed detected=0 seconds=1.00 cap=5" \
		"ok 1 selftests: mmrace: t" "# selftests: mmrace: t" \
		"# mmrace-detect: t windows=armed detected=0 seconds=2.00 cap=5" \
		"ok 2 selftests: mmrace: t" "# selftests: mmrace: u" "ok 3 selftests: mmrace: u" \
		>"$1/results.log"
	[ "$2" = - ] || printf '%s\n' "$2" >"$1/console.log"
}
# The verdicts of mutant-runs.sh (from SCRIPTS) as "TEST#RUN:VERDICT ...".
verdicts() { # SCRIPTS DIR
	"$1/mutant-runs.sh" clean armed "$2" "$2/tests" 2>/dev/null >"$2/rows"
	awk -F'\t' '{ printf "%s#%s:%s ", $3, $4, $5 }' "$2/rows"
}
# mutant-table.sh's verdict lines on the rows of DIR, as KERNEL (and the
# mutant "m" whose own test is t), and its exit status.
table() { # DIR KERNEL
	mkdir -p "$1/patches"
	printf 'Test: t\n' >"$1/patches/m.patch"
	sed "s/^clean\t/$2\t/" "$1/rows" >"$1/tsv"
	"$scripts/mutant-table.sh" "$1/tsv" "$1/patches" "t u" | grep -E '^(not )?ok '
	echo "exit ${PIPESTATUS[0]}"
}

clean="[    1.0] mmrace-test: begin t
[    1.1] mmrace-test: end t rc=0
[    2.0] mmrace-test: begin t
[    2.1] mmrace-test: end t rc=0
[    3.0] mmrace-test: begin u
[    3.1] mmrace-test: end u rc=0"
splat="[    1.0] mmrace-test: begin t
[    1.1] mmrace-test: end t rc=0
[    2.0] mmrace-test: begin t
[    2.1] WARNING: CPU: 0 PID: 1 at mm/x.c:1 x+0x0/0x1
[    2.2] mmrace-test: end t rc=0
[    3.0] mmrace-test: begin u
[    3.1] mmrace-test: end u rc=0"

echo "TAP version 13"
echo "1..8"
run "$work/clean" "$clean"
expect "a clean log: the runs' own verdicts" "t#1:pass t#2:pass u#1:pass " \
	"$(verdicts "$scripts" "$work/clean")"
run "$work/splat" "$splat"
expect "a splat in the second run of t fails that run only" \
	"t#1:pass t#2:fail u#1:pass " "$(verdicts "$scripts" "$work/splat")"

run "$work/noconsole" -
got=$(verdicts "$scripts" "$work/noconsole")
expect "no console.log: no run passes or skips" "" \
	"$(echo "$got" | grep -oE '[a-z]+#[0-9]:(pass|skip)')"
expect "no console.log: the clean kernel fails" \
	"$(printf 'not ok clean kernel: t(kernel log not scanned) u(kernel log not scanned)\nexit 1')" \
	"$(table "$work/noconsole" clean)"
expect "no console.log: the mutant's own test did not catch it" \
	"$(printf 'not ok m: escaped t in 2 of 2 runs\nexit 1')" "$(table "$work/noconsole" m)"

mkdir "$work/nopat"
cp "$scripts/mutant-runs.sh" "$scripts/scan-log.sh" "$work/nopat/" 2>/dev/null
run "$work/nopatrun" "$clean"
got=$(verdicts "$work/nopat" "$work/nopatrun")
expect "no splat-patterns: no run passes or skips" "" \
	"$(echo "$got" | grep -oE '[a-z]+#[0-9]:(pass|skip)')"

printf 'm\t%s\t%s\t1\t%s\t%s\n' armed t fail 0.50 off t pass 60.00 \
	armed u fail 0.20 off u skip 60.00 >"$work/report.tsv"
expect "report: a miss counts as the cap, all skips show as skipped" \
	"$(printf 'm t 1/1 0.50s 0/1 >=60s >=120.0x\nm + u 1/1 0.20s skip 1/1 -')" \
	"$("$scripts/mutant-report.sh" 60 "$work/report.tsv" | grep '^m ' | tr -s ' ')"

own=$(grep -nE 'splat-patterns|pats\[' "$scripts/check-mutants.sh")
expect "check-mutants.sh does no pattern matching of its own" "" "$own"
exit $failed
