#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Time to detection per mutant, windows armed against windows disabled, as
# a reStructuredText table, from check-mutants' results.tsv files (any
# number; rows of every mode are pooled). A run that did not detect the
# mutant counts as the cap (MMRACE_CAP_S), so the off-mode median is a lower
# bound when fewer than half its runs detected it.
#
# A test that skipped in every run of a mode (the one-task adversary tests
# with the windows off: no adversary without a window) shows "skip N/N"
# there, and no ratio: it did not run against the mutant.
#
# One row per mutant and test: its own test first, then its Also-Test:
# tests (the single-threaded adversary tests of issue 16 next to the
# two-party test of the same race), each under the same cap.
#
# Usage: mutant-report.sh CAP_S RESULTS.TSV...
set -eu
cap=$1
shift
cat "$@" | awk -F'\t' -v cap="$cap" '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n ? a[int((n + 1) / 2)] : ""
}
$2 == "armed" || $2 == "off" {
	if ($1 == "clean" || $3 == "kernel-log" || $3 ~ /^upstream/) next
	k = $1 SUBSEP $3; m = $2
	if (!(k in seen)) { seen[k] = 1; ks[++nk] = k; mut[k] = $1; test[k] = (++nt[$1] > 1 ? "+ " : "") $3 }
	n[k, m]++
	det = ($5 == "fail" || $5 == "died" || $5 == "timeout")
	if (det) d[k, m]++
	if ($5 == "skip") sk[k, m]++
	s = det && $6 != "" ? $6 : cap
	t[k, m] = t[k, m] " " s
}
END {
	line = "====================================== ======================================== ============ ============== ========="
	print line
	printf "%-38s %-40s %-12s %-14s %s\n", "mutant", "its test (+ also)", "armed", "off", "off/armed"
	print line
	for (i = 1; i <= nk; i++) {
		k = ks[i]
		ma = median(t[k, "armed"]); mo = median(t[k, "off"])
		a = n[k, "armed"] ? sprintf("%d/%d %ss", d[k, "armed"], n[k, "armed"], ma) : "-"
		o = n[k, "off"] ? sprintf("%d/%d %s%ss", d[k, "off"], n[k, "off"], (d[k, "off"] * 2 < n[k, "off"]) ? ">=" : "", mo) : "-"
		r = (ma > 0 && mo != "") ? sprintf("%s%.1fx", (d[k, "off"] * 2 < n[k, "off"]) ? ">=" : "", mo / ma) : "-"
		if (n[k, "armed"] && sk[k, "armed"] == n[k, "armed"]) { a = sprintf("skip %d/%d", n[k, "armed"], n[k, "armed"]); r = "-" }
		if (n[k, "off"] && sk[k, "off"] == n[k, "off"]) { o = sprintf("skip %d/%d", n[k, "off"], n[k, "off"]); r = "-" }
		printf "%-38s %-40s %-12s %-14s %s\n", mut[k], test[k], a, o, r
	}
	print line
}'
