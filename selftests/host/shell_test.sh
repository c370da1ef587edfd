#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make shell driven by a script on its standard input, as KTAP: the shell
# comes up with mmrace.ko loaded, debugfs mounted and the kselftests on
# PATH, runs the commands (arm a window, read summary, disarm, rmmod),
# and exit powers the guest off (nothing after it runs); make shell exits
# 0, and the kernel log (build/shell/console.log) is clean. Then a session
# that puts a splat in the kernel log: it exits 1.
set -u
. "$(dirname "$0")/lib.sh"
d=/sys/kernel/debug/mmrace
w=$d/windows/gup_fast_pre_grab

# Each check prints "shell-test: NAME=VALUE" on a line of its own (the
# leading newline starts it after the prompt). A script's commands are not
# echoed (scripts/shell.sh turns the guest terminal's echo off for one), so
# nothing else lands in an output line.
cat >"$work/script" <<CMDS
printf '\\nshell-test: version=%s\\n' "\$(cat $d/version)"
printf '\\nshell-test: path=%s\\n' "\$(command -v mmrace_unload_armed)"
printf '\\nshell-test: helper=%s\\n' "\$(command -v mmrace-run)"
echo 1 >$w/enable
printf '\\nshell-test: armed=%s\\n' "\$(grep -c '^gup_fast_pre_grab enabled=1 ' $d/summary)"
echo 0 >$w/enable
printf '\\nshell-test: disarmed=%s\\n' "\$(grep -c 'enabled=1 ' $d/summary)"
rmmod mmrace; printf '\\nshell-test: rmmod=%s\\n' "\$?"
exit
printf '\\nshell-test: after=exit\\n'
CMDS

echo "TAP version 13"
echo "1..8"
MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-300} make -s -C "$top" shell \
	<"$work/script" >"$work/out" 2>&1
rc=$?
tr -d '\r' <"$work/out" | sed 's/^/# /'
got() { tr -d '\r' <"$work/out" | sed -n "s/^shell-test: $1=//p"; }
expect "make shell exits 0 (powered off, kernel log clean)" 0 "$rc"
expect "mmrace.ko is loaded, debugfs mounted" 1 \
	"$(got version | grep -c '^[0-9]')"
expect "the kselftests and their helpers are on PATH" \
	"/mmrace/selftests/mmrace_unload_armed /mmrace/selftests/mmrace-run" \
	"$(got path) $(got helper)"
expect "a window armed from the shell shows in summary" 1 "$(got armed)"
expect "disarmed, rmmod succeeds" "0 0" "$(got disarmed) $(got rmmod)"
expect "exit powers the guest off: nothing after it runs" "" "$(got after)"
"$top/scripts/scan-log.sh" "$top/build/shell/console.log" >"$work/splats"
scan=$?
sed 's/^/# splat: /' "$work/splats"
expect "the kernel log is clean (scan-log.sh)" 0 "$scan"

printf '%s\n' 'echo "WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1" >/dev/kmsg' \
	exit >"$work/splat"
# scripts/shell.sh, which make shell runs: make itself exits 2 on any
# failure.
MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-300} "$top/scripts/shell.sh" \
	<"$work/splat" >"$work/out2" 2>&1
rc=$?
tail -n 3 "$work/out2" | tr -d '\r' | sed 's/^/# /'
expect "a splat in the kernel log: scripts/shell.sh exits 1" 1 "$rc"
exit $failed
