#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/guest-results.sh on a fake guest run (a results.log where tests a
# and b pass, a console.log), as KTAP: the verdicts follow the KTAP and the
# kernel-log scan, and a kernel log that cannot be scanned (no console.log,
# no splat-patterns) fails every test and kernel-log instead of counting as
# "no splats"; a missing results.log fails every test too.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"
# A run directory: RESULTS and CONSOLE are "-" for none.
run() { # DIR RESULTS CONSOLE
	mkdir -p "$1"
	[ "$2" = - ] || printf '%s\n' "$2" >"$1/results.log"
	[ "$3" = - ] || printf '%s\n' "$3" >"$1/console.log"
}
# The verdicts of guest-results.sh (from SCRIPTS) on DIR, as "v:name ...".
verdicts() { # SCRIPTS DIR VMRC
	"$1/guest-results.sh" "$2" "$work/tests" "$3" 2>/dev/null >"$2/v"
	cut -f1,2 "$2/v" | tr '\t\n' ': '
}

printf 'a\nb\n' >"$work/tests"
ktap="ok 1 selftests: mmrace: a
ok 2 selftests: mmrace: b"
clean="[    1.0] mmrace-test: begin a
[    1.1] mmrace-test: end a rc=0
[    2.0] mmrace-test: begin b
[    2.1] mmrace-test: end b rc=0"
splat="[    1.0] mmrace-test: begin a
[    1.1] mmrace-test: end a rc=0
[    2.0] mmrace-test: begin b
[    2.1] WARNING: CPU: 0 PID: 1 at mm/x.c:1 x+0x0/0x1
[    2.2] mmrace-test: end b rc=0"
all_fail="fail:a fail:b fail:kernel-log "

echo "TAP version 13"
echo "1..6"
run "$work/clean" "$ktap" "$clean"
expect "a clean run passes" "pass:a pass:b pass:kernel-log " \
	"$(verdicts "$scripts" "$work/clean" 0)"
run "$work/splat" "$ktap" "$splat"
expect "a splat fails the test it happened in" "pass:a fail:b pass:kernel-log " \
	"$(verdicts "$scripts" "$work/splat" 0)"

run "$work/noconsole" "$ktap" -
expect "no console.log: every test and kernel-log fail" "$all_fail" \
	"$(verdicts "$scripts" "$work/noconsole" 0)"
grep -q 'not scanned' "$work/noconsole/v" 2>/dev/null
expect "no console.log: the verdicts say the log was not scanned" 0 $?

mkdir "$work/nopat"
cp "$scripts/guest-results.sh" "$scripts/scan-log.sh" "$work/nopat/"
run "$work/nopatrun" "$ktap" "$clean"
expect "no splat-patterns: every test and kernel-log fail" "$all_fail" \
	"$(verdicts "$work/nopat" "$work/nopatrun" 0)"

run "$work/noresults" - "$clean"
expect "no results.log: every test fails (did not complete)" \
	"fail:a fail:b pass:kernel-log " "$(verdicts "$scripts" "$work/noresults" 0)"
exit $failed
