#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn one guest run into one verdict per test, as lines
# "pass|fail|skip<TAB>NAME<TAB>COMMENT": the test's own KTAP line in
# OUTDIR/results.log, overridden by a kernel-log splat blamed on it
# (scripts/scan-log.sh), and "fail" for a test that never reported (the guest
# died or hung). A last line "kernel-log" covers splats outside any test and
# a guest that did not exit through isa-debug-exit (VMRC 2, from run-vm.sh).
# A kernel log that cannot be scanned (no console.log, no splat-patterns:
# scan-log.sh exits 2) fails every test and the kernel-log line: a splat
# nobody looked for is not "no splat".
#
# Usage: guest-results.sh OUTDIR TESTLIST VMRC
set -eu
outdir=$1
tests=$2
vm=$3
results=
[ ! -f "$outdir/results.log" ] || results=$(tr -d '\r' <"$outdir/results.log")
scan=0
"$(dirname "$0")/scan-log.sh" "$outdir/console.log" >"$outdir/splats" \
	2>"$outdir/scan.err" || scan=$?
unscanned=
[ "$scan" -le 1 ] ||
	unscanned="kernel log not scanned (scan-log.sh exit $scan: $(head -n 1 "$outdir/scan.err"))"

blame() { awk -F'\t' -v t="$1" '$1 == t { sub(/^\[[^]]*\] /, "", $2); print $2; exit }' "$outdir/splats"; }

while read -r t; do
	line=$(printf '%s\n' "$results" |
		grep -E "^(not )?ok [0-9]+ selftests: mmrace: $t( |$)" || true)
	splat=$(blame "$t")
	if [ -n "$unscanned" ]; then
		printf 'fail\t%s\t%s\n' "$t" "$unscanned"
	elif [ -n "$splat" ]; then
		printf 'fail\t%s\tkernel log: %s\n' "$t" "$splat"
	elif [ -z "$line" ]; then
		printf 'fail\t%s\tdid not complete (guest died or hung)\n' "$t"
	elif [ "${line#not ok}" != "$line" ]; then
		printf 'fail\t%s\t%s\n' "$t" "${line#*# }"
	elif [ "${line%# SKIP*}" != "$line" ]; then
		printf 'skip\t%s\t%s\n' "$t" "$(echo "${line#*# SKIP}" | sed 's/^ *//')"
	else
		printf 'pass\t%s\t\n' "$t"
	fi
done <"$tests"

splat=$(blame -)
if [ -n "$unscanned" ]; then
	printf 'fail\tkernel-log\t%s\n' "$unscanned"
elif [ -n "$splat" ]; then
	printf 'fail\tkernel-log\toutside any test: %s\n' "$splat"
elif [ "$vm" = 2 ]; then
	printf 'fail\tkernel-log\tguest died or hung, see %s/console.log\n' "$outdir"
else
	printf 'pass\tkernel-log\t\n'
fi
