#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel-log scanner (scripts/scan-log.sh) on canned logs, as KTAP: the
# clean log yields nothing; every splat log is caught and blamed on the test
# its markers name ("victim", or "-" for boot-splat.log); and every pattern
# in scripts/splat-patterns is exercised by at least one canned log.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
scan=$top/scripts/scan-log.sh
logs=$top/selftests/host/logs
failed=0
n=0
result() { # OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 1 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

splat_logs=$(ls "$logs"/*.log | grep -v '/clean.log$')
patterns=$(grep -c . "$top/scripts/splat-patterns")
echo "TAP version 13"
echo "1..$(( $(echo "$splat_logs" | wc -l) + 2 ))"

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

unused=$(grep . "$top/scripts/splat-patterns" | while read -r p; do
	cat $splat_logs | grep -qE -- "$p" || echo "$p"
done)
[ -z "$unused" ] || echo "# patterns without a canned log: $unused"
result "$([ -z "$unused" ] && echo 1)" "all $patterns patterns have a canned log"
exit $failed
