#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print check-mutants' table (kernel x test, one per windows mode) and its
# verdict from results.tsv (KERNEL MODE TEST RUN VERDICT SECONDS). Exit 1
# if the clean kernel failed a test (or armed, skipped one), or if a mutant
# escaped: its own test (the patch's "Test:" line), or one of its
# "Also-Test:" lines' (a second test of the same race, such as a
# single-threaded one with an adversary), failed in fewer than 95% of its
# armed runs, or, without a "Test:" line, no test ever failed. A
# patch with an "Uncaught:" line (a bug of the class that no test catches
# on this platform, with the reason measured) never fails the run: its
# verdict is reported in a section of its own.
#
# A cell reads "ok", "skip", "FAIL 1.2s" (failed, seconds to detection),
# "died" (the guest died during the test), "error" (it failed without a
# verdict: it could not run or set up; neither a pass nor a catch),
# "unscanned" (its kernel log could
# not be scanned: neither a pass nor a catch) or "-" (not run); with several
# runs, "FAIL 19/20 1.2s" (failed runs, median seconds of those).
#
# Usage: mutant-table.sh RESULTS.TSV PATCHDIR "TEST..."
set -eu
results=$1
dir=$2
suite=$3
owns=$(for p in "$dir"/*.patch; do
	[ -f "$p" ] || continue
	printf '%s\t%s\t%s\t%s\n' "$(basename "$p" .patch)" \
		"$(sed -n 's/^Test: *\([a-z0-9_]*\).*/\1/p' "$p" | head -n 1)" \
		"$(grep -c '^Uncaught:' "$p" || true)" \
		"$(sed -n 's/^Also-Test: *\([a-z0-9_]*\).*/\1/p' "$p" | tr '\n' ' ')"
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
	for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); own[f[1]] = f[2]; uncaught[f[1]] = f[3] + 0; also[f[1]] = f[4] }
}
{
	k = $1; m = $2; t = $3; v = $5
	if (!(k in kseen)) { kseen[k] = 1; kernels[++nk] = k }
	if (!(m in mseen)) { mseen[m] = 1; modes[++nm] = m }
	key = k SUBSEP m SUBSEP t
	if (!((m, t) in tseen)) { tseen[m, t] = 1; mtests[m, ++mnt[m]] = t }
	if (v != "pass" && $6 ~ /^seed=/) seeds[key] = seeds[key] " " substr($6, 6)
	runs[key]++
	cnt[key, v]++
	if (bad(v)) { nbad[key]++; if ($6 != "" && $6 !~ /^seed=/) secs[key] = secs[key] " " $6 }
	if (v == "build-failed") buildfail[k] = 1
	# A run the guest never started (it died in an earlier one) is no run.
	if (v == "not-run") { runs[key]--; cnt[key, v]--; if (!runs[key]) delete runs[key] }
}
END {
	status = 0
	for (mi = 1; mi <= nm; mi++) {
		m = modes[mi]
		# The regression suite in its order; the upstream suites as seen.
		if (m == "upstream") { ncol = mnt[m]; for (j = 1; j <= ncol; j++) col[j] = mtests[m, j] }
		else { ncol = nt; for (j = 1; j <= nt; j++) col[j] = tests[j] }
		if (m == "upstream") printf "\nthe kernel'"'"'s own mm selftests, plainly and under mmrace-run (+mmrace):\n%-42s", "kernel \\ suite"
		else printf "\nwindows %s:\n%-42s", m, "kernel \\ test"
		for (j = 1; j <= ncol; j++) printf " | %-22s", col[j]
		printf "\n"
		for (i = 1; i <= nk; i++) {
			k = kernels[i]
			if (buildfail[k]) { printf "%-42s | does not build\n", k; continue }
			printf "%-42s", k
			for (j = 1; j <= ncol; j++) {
				key = k SUBSEP m SUBSEP col[j]
				if (!(key in runs)) c = "-"
				else if (nbad[key]) {
					c = (cnt[key, "died"] && !cnt[key, "fail"]) ? "died" : "FAIL"
					if (runs[key] > 1) c = c " " nbad[key] "/" runs[key]
					s = median(secs[key]); if (s != "") c = c " " s "s"
					if (key in seeds) c = c " seed" seeds[key]
				} else if (cnt[key, "error"]) {
					c = "error"; if (runs[key] > 1) c = c " " cnt[key, "error"] "/" runs[key]
				} else if (cnt[key, "unscanned"]) {
					c = "unscanned"; if (runs[key] > 1) c = c " " cnt[key, "unscanned"] "/" runs[key]
				} else if (cnt[key, "skip"]) {
					c = "skip"; if (runs[key] > 1) c = c " " cnt[key, "skip"] "/" runs[key]
				} else {
					c = "ok"; if (runs[key] > 1) c = c " " runs[key] "/" runs[key]
				}
				if (own[k] == col[j]) c = "*" c
				else if (index(" " also[k], " " col[j] " ")) c = "+" c
				printf " | %-22s", c
			}
			printf "\n"
		}
	}
	printf "\n(* marks each mutant'"'"'s own test, + its Also-Test lines)\n"
	for (i = 1; i <= nk; i++) {
		k = kernels[i]
		if (buildfail[k]) { printf "not ok %s: does not build\n", k; status = 1; continue }
		if (k == "clean") {
			msg = ""
			for (mi = 1; mi <= nm; mi++) {
				m = modes[mi]
				ncol = (m == "upstream") ? mnt[m] : nt
				for (j = 1; j <= ncol; j++) {
					t = (m == "upstream") ? mtests[m, j] : tests[j]
					key = k SUBSEP m SUBSEP t
					if (nbad[key]) msg = msg " " t "(" m ")"
					else if (cnt[key, "error"]) msg = msg " " t "(" m ", error)"
					else if (cnt[key, "unscanned"]) msg = msg " " t "(kernel log not scanned)"
					else if (m == "armed" && cnt[key, "skip"]) msg = msg " " t "(skipped)"
				}
			}
			if (msg == "") printf "ok clean kernel: every regression test passes\n"
			else { printf "not ok clean kernel:%s\n", msg; status = 1 }
			continue
		}
		key = k SUBSEP "armed" SUBSEP own[k]
		if (uncaught[k]) {
			printf "# uncaught on this platform (its header says why): %s: own test %s failed in %d of %d armed runs\n", k, own[k], nbad[key], runs[key]
			continue
		}
		na = split(also[k], al, " ")
		for (a = 1; a <= na; a++) {
			akey = k SUBSEP "armed" SUBSEP al[a]
			if (!(akey in runs)) continue
			if (nbad[akey] * 100 >= 95 * runs[akey]) printf "ok %s: also caught by %s in %d/%d runs\n", k, al[a], nbad[akey], runs[akey]
			else { printf "not ok %s: escaped %s (Also-Test) in %d of %d runs\n", k, al[a], runs[akey] - nbad[akey], runs[akey]; status = 1 }
		}
		if (own[k] != "") {
			if (!(key in runs)) { if ("armed" in mseen) printf "# %s: own test %s not run armed\n", k, own[k]; continue }
			if (nbad[key] * 100 >= 95 * runs[key]) printf "ok %s: caught by %s in %d/%d runs\n", k, own[k], nbad[key], runs[key]
			else { printf "not ok %s: escaped %s in %d of %d runs\n", k, own[k], runs[key] - nbad[key], runs[key]; status = 1 }
		} else {
			caught = ""
			for (j = 1; j <= nt; j++) if (nbad[k SUBSEP "armed" SUBSEP tests[j]]) caught = caught " " tests[j]
			if (caught != "") printf "ok %s: caught by%s\n", k, caught
			else { printf "not ok %s: no test caught it\n", k; status = 1 }
		}
	}
	# What the upstream suites catch, plainly and under the profile.
	if ("upstream" in mseen) {
		for (i = 1; i <= nk; i++) {
			k = kernels[i]
			if (k == "clean" || buildfail[k]) continue
			nmut++
			p = q = ""
			for (j = 1; j <= mnt["upstream"]; j++) {
				t = mtests["upstream", j]
				if (!nbad[k SUBSEP "upstream" SUBSEP t]) continue
				if (t ~ /\+mmrace$/) q = q " " t (seeds[k SUBSEP "upstream" SUBSEP t] != "" ? "(seed" seeds[k SUBSEP "upstream" SUBSEP t] ")" : "")
				else p = p " " t
			}
			if (p != "") plain++
			if (q != "") prof++
			if (p != "" || q != "") printf "# upstream suites on %s: plainly%s; under mmrace-run%s\n", k, (p == "" ? " none" : p), (q == "" ? " none" : q)
		}
		printf "# upstream suites caught %d of %d mutants plainly, %d under mmrace-run\n", plain, nmut, prof
	}
	exit status
}
' "$results"
