#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel-log scanner (scripts/scan-log.sh) on canned logs, as KTAP: the
# clean log yields nothing; every splat log is caught and blamed on the test
# its markers name ("victim", or "-" for boot-splat.log); every pattern in
# scripts/splat-patterns is exercised by at least one canned log; with -r a
# splat is blamed on the run of a test that was running (NAME#N); and the
# scanner fails closed: exit 2 and a message on stderr, never "no splats",
# when the log or the patterns are missing or the patterns are empty.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
scripts=${MMRACE_SCRIPTS:-$top/scripts}
scan=$scripts/scan-log.sh
logs=$top/selftests/host/logs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
n=0
result() { # OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 1 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

splat_logs=$(ls "$logs"/*.log | grep -v '/clean.log$')
patterns=$(grep -c . "$scripts/splat-patterns")
echo "TAP version 13"
echo "1..$(( $(echo "$splat_logs" | wc -l) + 7 ))"

out=$("$scan" "$logs/clean.log")
result "$([ $? = 0 ] && [ -z "$out" ] && echo 1)" "clean.log: no report"

for log in $splat_logs; do
	name=$(basename "$log" .log)
	want=victim
	[ "$name" = boot-splat ] && want=-
	out=$("$scan" "$log")
	rc=$?
	blamed=$(printf '%s\n' "$out" | cut -f1 | sort -u | tr '\n' ' ')
	[ "$rc" = 1 ] && [ "$blamed" = "$want " ] && ok=1 || ok=0
	[ "$ok" = 1 ] || echo "# $name: exit $rc, blamed '$blamed', wanted '$want'"
	result "$ok" "$name.log: caught and blamed on '$want'"
done

unused=$(grep . "$scripts/splat-patterns" | while read -r p; do
	cat $splat_logs | grep -qE -- "$p" || echo "$p"
done)
[ -z "$unused" ] || echo "# patterns without a canned log: $unused"
result "$([ -z "$unused" ] && echo 1)" "all $patterns patterns have a canned log"

# -r: the second of two runs of "victim" splats, and one outside any test.
{
	echo "[    1.0] mmrace-test: begin victim"
	echo "[    1.1] mmrace-test: end victim rc=0"
	echo "[    1.2] mmrace-test: begin other"
	echo "[    1.3] mmrace-test: end other rc=0"
	echo "[    2.0] mmrace-test: begin victim"
	echo "[    2.1] WARNING: CPU: 0 PID: 1 at mm/x.c:1 x+0x0/0x1"
	echo "[    2.2] mmrace-test: end victim rc=0"
	echo "[    3.0] BUG: Bad page state in process init  pfn:1234a"
} >"$work/runs.log"
got=$("$scan" -r "$work/runs.log" 2>&1 | cut -f1 | tr '\n' ' ')
[ "$got" = "victim#2 - " ] || echo "# got '$got'"
result "$([ "$got" = "victim#2 - " ] && echo 1)" "-r: a splat is blamed on the run it happened in (victim#2)"

# Fail closed. Each case: exit 2, a message on stderr, nothing on stdout.
closed() { # DESCRIPTION SCANNER LOG
	local rc
	"$2" "$3" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" = 2 ] && [ -s "$work/err" ] && [ ! -s "$work/out" ]; then
		result 1 "$1: exit 2"
	else
		echo "# exit $rc, stdout '$(cat "$work/out")', stderr '$(cat "$work/err")'"
		result 0 "$1: exit 2"
	fi
}
closed "no log file" "$scan" "$work/none.log"
mkdir "$work/nopat" "$work/empty" "$work/blank"
cp "$scan" "$work/nopat/"
cp "$scan" "$work/empty/"
: >"$work/empty/splat-patterns"
cp "$scan" "$work/blank/"
printf '\n\n' >"$work/blank/splat-patterns"
closed "no splat-patterns" "$work/nopat/scan-log.sh" "$logs/warning.log"
closed "empty splat-patterns" "$work/empty/scan-log.sh" "$logs/warning.log"
closed "splat-patterns of blank lines" "$work/blank/scan-log.sh" "$logs/warning.log"
exit $failed
