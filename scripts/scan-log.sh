#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a guest console log for kernel splats (scripts/splat-patterns, one
# extended regular expression per line). Each match is printed as
# "TEST<TAB>LINE", TEST being the test that was running (from the
# "mmrace-test: begin/end NAME" markers the guest writes to /dev/kmsg), or
# "-" outside any test. Exit status: 1 if anything matched, else 0.
#
# Usage: scan-log.sh LOG
set -eu
log=$1
patterns=$(dirname "$0")/splat-patterns

awk -v patfile="$patterns" '
BEGIN {
	while ((getline p < patfile) > 0)
		if (p != "")
			pats[n++] = p
	test = "-"
	found = 0
}
{ sub(/\r$/, "") }
/mmrace-test: begin / { test = $NF; next }
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
END { exit found }
' "$log"
