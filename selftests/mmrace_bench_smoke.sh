#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench's workload, once and briefly (--smoke), so that it cannot rot:
# it must run to the end and print its three tables. The numbers are not
# checked: a benchmark is not a pass/fail test.
dir=$(dirname "$0")
echo "TAP version 13"
echo "1..1"
out=$("$dir/mmrace_bench" --smoke 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
if [ "$rc" = 4 ]; then
	echo "ok 1 bench smoke run # SKIP $(printf '%s' "$out" | tail -n 1)"
	exit 4
fi
for table in "Amplification per window" "Rendezvous determinism" "Overhead"; do
	if ! printf '%s\n' "$out" | grep -q "^$table"; then
		echo "not ok 1 bench smoke run: no '$table' table (exit $rc)"
		exit 1
	fi
done
if [ "$rc" != 0 ]; then
	echo "not ok 1 bench smoke run: exit $rc"
	exit 1
fi
echo "ok 1 bench smoke run: three tables"
