#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The per-run verdicts of one check-mutants guest run, as results.tsv rows
# "LABEL MODE TEST RUN VERDICT SECONDS", one per line of TESTLIST (a test
# listed N times ran N times): the run's KTAP line in OUTDIR/results.log,
# "fail" if scan-log.sh -r blames a kernel-log splat on that run, "died" if
# it started and never reported (the guest died during it), "not-run" if
# it never started (the guest died before), "error" if it failed without a
# verdict of its own (no "mmrace-detect: ... detected=1" line: it could not
# run, or gave up setting up) and without a splat, which is not a catch. A
# kernel log that cannot be scanned
# (scan-log.sh exit 2) turns every "pass" or "skip" into "unscanned", which
# counts neither as a pass of the clean kernel nor as a mutant caught.
#
# Usage: mutant-runs.sh LABEL MODE OUTDIR TESTLIST
set -eu
o=$3
scan=0
"$(dirname "$0")/scan-log.sh" -r "$o/console.log" >"$o/splats" || scan=$?
cut -f1 "$o/splats" | grep -v '^-$' | sort -u >"$o/splat-runs"
results=/dev/null
[ ! -f "$o/results.log" ] || results=$o/results.log
tr -d '\r' <"$results" | awk -v label="$1" -v mode="$2" -v splats="$o/splat-runs" \
	-v list="$4" -v unscanned="$((scan > 1))" '
BEGIN {
	while ((getline s < splats) > 0) bad[s] = 1
	while ((getline t < list) > 0) order[++nt] = t
}
/^# selftests: mmrace: / { t = $4; k = t "#" (++seen[t]); secs[k] = ""; started[k] = 1; next }
/mmrace-detect:/ {
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^seconds=/) secs[k] = substr($i, 9)
		if ($i == "detected=1") detected[k] = 1
	}
	next
}
/^(not )?ok [0-9]+ selftests: mmrace: / {
	v = ($1 == "not") ? ((k in detected) ? "fail" : "error") : "pass"
	if ($0 ~ /# SKIP/) v = "skip"
	if ($0 ~ /# TIMEOUT/) v = "timeout"
	if (k in bad) v = "fail"
	verdict[k] = v
}
END {
	for (i = 1; i <= nt; i++) {
		t = order[i]; k = t "#" (++r[t])
		v = (k in verdict) ? verdict[k] : ((k in bad) ? "fail" : \
			((k in started) ? "died" : "not-run"))
		if (unscanned && (v == "pass" || v == "skip")) v = "unscanned"
		printf "%s\t%s\t%s\t%d\t%s\t%s\n", label, mode, t, r[t], v, secs[k]
	}
}'
