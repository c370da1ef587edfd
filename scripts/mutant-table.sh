#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print check-mutants' table (kernel x test, one per windows mode) and its
# verdict from results.tsv (KERNEL MODE TEST RUN VERDICT SECONDS). Exit 1
# if the clean kernel failed a test (or armed, skipped one), or if a mutant
# escaped: its own test (the patch's "Test:" line) failed in fewer than 95%
# of its armed runs, or, without a "Test:" line, no test ever failed.
#
# A cell reads "ok", "skip", "FAIL 1.2s" (failed, seconds to detection),
# "died" (the guest died during the test) or "-" (not run); with several
# runs, "FAIL 19/20 1.2s" (failed runs, median seconds of those).
#
# Usage: mutant-table.sh RESULTS.TSV PATCHDIR "TEST..."
set -eu
results=$1
dir=$2
suite=$3
owns=$(for p in "$dir"/*.patch; do
	[ -f "$p" ] || continue
	printf '%s\t%s\n' "$(basename "$p" .patch)" \
		"$(sed -n 's/^Test: *\([a-z0-9_]*\).*/\1/p' "$p" | head -n 1)"
done)

awk -F'\t' -v suite="$suite" -v owns="$owns" '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n ? a[int((n + 1) / 2)] : ""
}
function bad(v) { return v == "fail" || v == "died" || v == "timeout" }
BEGIN {
	nt = split(suite, tests, " ")
	n = split(owns, lines, "\n")
	for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); own[f[1]] = f[2] }
}
{
	k = $1; m = $2; t = $3; v = $5
	if (!(k in kseen)) { kseen[k] = 1; kernels[++nk] = k }
	if (!(m in mseen)) { mseen[m] = 1; modes[++nm] = m }
	key = k SUBSEP m SUBSEP t
	runs[key]++
	cnt[key, v]++
	if (bad(v)) { nbad[key]++; if ($6 != "") secs[key] = secs[key] " " $6 }
	if (v == "build-failed") buildfail[k] = 1
}
END {
	status = 0
	for (mi = 1; mi <= nm; mi++) {
		m = modes[mi]
		printf "\nwindows %s:\n%-42s", m, "kernel \\ test"
		for (j = 1; j <= nt; j++) printf " | %-22s", tests[j]
		printf "\n"
		for (i = 1; i <= nk; i++) {
			k = kernels[i]
			if (buildfail[k]) { printf "%-42s | does not build\n", k; continue }
			printf "%-42s", k
			for (j = 1; j <= nt; j++) {
				key = k SUBSEP m SUBSEP tests[j]
				if (!(key in runs)) c = "-"
				else if (nbad[key]) {
					c = (cnt[key, "died"] && !cnt[key, "fail"]) ? "died" : "FAIL"
					if (runs[key] > 1) c = c " " nbad[key] "/" runs[key]
					s = median(secs[key]); if (s != "") c = c " " s "s"
				} else if (cnt[key, "skip"]) {
					c = "skip"; if (runs[key] > 1) c = c " " cnt[key, "skip"] "/" runs[key]
				} else {
					c = "ok"; if (runs[key] > 1) c = c " " runs[key] "/" runs[key]
				}
				if (own[k] == tests[j]) c = "*" c
				printf " | %-22s", c
			}
			printf "\n"
		}
	}
	printf "\n(* marks each mutant'"'"'s own test)\n"
	for (i = 1; i <= nk; i++) {
		k = kernels[i]
		if (buildfail[k]) { printf "not ok %s: does not build\n", k; status = 1; continue }
		if (k == "clean") {
			msg = ""
			for (mi = 1; mi <= nm; mi++) for (j = 1; j <= nt; j++) {
				key = k SUBSEP modes[mi] SUBSEP tests[j]
				if (nbad[key]) msg = msg " " tests[j] "(" modes[mi] ")"
				else if (modes[mi] == "armed" && cnt[key, "skip"]) msg = msg " " tests[j] "(skipped)"
			}
			if (msg == "") printf "ok clean kernel: every regression test passes\n"
			else { printf "not ok clean kernel:%s\n", msg; status = 1 }
			continue
		}
		key = k SUBSEP "armed" SUBSEP own[k]
		if (own[k] != "") {
			if (!(key in runs)) { printf "# %s: own test %s not run armed\n", k, own[k]; continue }
			if (nbad[key] * 100 >= 95 * runs[key]) printf "ok %s: caught by %s in %d/%d runs\n", k, own[k], nbad[key], runs[key]
			else { printf "not ok %s: escaped %s in %d of %d runs\n", k, own[k], runs[key] - nbad[key], runs[key]; status = 1 }
		} else {
			caught = ""
			for (j = 1; j <= nt; j++) if (nbad[k SUBSEP "armed" SUBSEP tests[j]]) caught = caught " " tests[j]
			if (caught != "") printf "ok %s: caught by%s\n", k, caught
			else { printf "not ok %s: no test caught it\n", k; status = 1 }
		}
	}
	exit status
}
' "$results"
