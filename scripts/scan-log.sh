#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a guest console log for kernel splats (scripts/splat-patterns, one
# extended regular expression per line). Each match is printed as
# "TEST<TAB>LINE", TEST being the test that was running (from the
# "mmrace-test: begin/end NAME" markers the guest writes to /dev/kmsg), or
# "-" outside any test. With -r, TEST is "NAME#N" for the Nth run of NAME in
# the log (a test run several times in one guest).
#
# Exit status: 0 if nothing matched, 1 if anything did, 2 if the log could
# not be scanned (no log, no patterns): never "no splats" on doubt.
#
# Usage: scan-log.sh [-r] LOG
set -eu
runs=0
if [ "${1:-}" = -r ]; then
	runs=1
	shift
fi
[ $# = 1 ] || { echo "usage: scan-log.sh [-r] LOG" >&2; exit 2; }
log=$1
patterns=$(dirname "$0")/splat-patterns
grep -q . "$patterns" 2>/dev/null ||
	{ echo "scan-log: no patterns in $patterns" >&2; exit 2; }
if [ ! -f "$log" ] || [ ! -r "$log" ]; then
	echo "scan-log: cannot read $log" >&2
	exit 2
fi

awk -v patfile="$patterns" -v runs="$runs" '
BEGIN {
	while ((r = getline p < patfile) > 0)
		if (p != "")
			pats[n++] = p
	if (r < 0 || n == 0) {
		print "scan-log: cannot read " patfile > "/dev/stderr"
		exit 2
	}
	test = "-"
	found = 0
}
{ sub(/\r$/, "") }
/mmrace-test: begin / { test = $NF; if (runs) test = test "#" (++seen[$NF]); next }
/mmrace-test: end / { test = "-"; next }
{
	for (i = 0; i < n; i++) {
		if ($0 ~ pats[i]) {
			print test "\t" $0
			found = 1
			break
		}
	}
}
END { exit (n == 0) ? 2 : found }
' "$log"
