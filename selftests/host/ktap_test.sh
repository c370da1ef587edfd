#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# results_from (scripts/ktap.sh), which turns a sub-run's KTAP log and exit
# status into make check's results (check.sh: check-upstream.sh,
# check-kselftest-tree.sh), on fake logs, as KTAP: a sub-run that exits
# non-zero fails even when its log has no "not ok" line (it died after its
# last result), and a call without the exit status does not pass.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"
# The summary line of results_from ARGS... in a fresh shell, and its exit
# status (ktap_finish: non-zero on any failure), as "SUMMARY / exit N".
summary() {
	local out rc
	out=$(
		set -eu
		# shellcheck source=/dev/null
		. "$scripts/ktap.sh"
		results_from "$@" >/dev/null
		ktap_finish
	)
	rc=$?
	echo "$(printf '%s\n' "$out" | tail -n 1) / exit $rc"
}

printf '%s\n' "TAP version 13" "ok 1 tree:build" "ok 2 tree:install # 2 tests" \
	"1..2" >"$work/ok.log"
printf '%s\n' "TAP version 13" "ok 1 tree:build" "not ok 2 tree:install # broken" \
	"1..2" >"$work/notok.log"
: >"$work/empty.log"

echo "TAP version 13"
echo "1..6"
expect "all ok, exit 0: passes" "2 passed, 0 failed, 0 skipped / exit 0" \
	"$(summary "$work/ok.log" "tree:" tree 0)"
expect "all ok, exit 1: one more result, failed" "2 passed, 1 failed, 0 skipped / exit 1" \
	"$(summary "$work/ok.log" "tree:" tree 1)"
expect "a not ok, exit 1: that failure only" "1 passed, 1 failed, 0 skipped / exit 1" \
	"$(summary "$work/notok.log" "tree:" tree 1)"
expect "no result, exit 0: one failed result" "0 passed, 1 failed, 0 skipped / exit 1" \
	"$(summary "$work/empty.log" "tree:" tree 0)"
got=$(summary "$work/ok.log" "tree:" tree 2>/dev/null)
expect "no exit status given: does not pass" 1 "$([ "${got##* }" != 0 ] && echo 1)"
calls=$(grep -hE '^\s*results_from ' "$scripts"/*.sh | awk 'NF != 5' | sed 's/^\s*//')
expect "every results_from call in scripts/ passes an exit status" "" "$calls"
exit $failed
