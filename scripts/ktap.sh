# SPDX-License-Identifier: GPL-2.0
# KTAP results for mmrace's check scripts; sourced, never run.
# shellcheck shell=bash
pass=0 fail=0 skip=0 n=0

result() { # STATUS NAME [COMMENT]
	n=$((n + 1))
	case $1 in
	pass) pass=$((pass + 1)); echo "ok $n $2${3:+ # $3}" ;;
	skip) skip=$((skip + 1)); echo "ok $n $2 # SKIP${3:+ $3}" ;;
	*) fail=$((fail + 1)); echo "not ok $n $2${3:+ # $3}" ;;
	esac
}

# Report the "ok/not ok N NAME [# COMMENT]" lines of LOG whose NAME matches
# REGEX (the KTAP of a sub-run that exited RC) as results here; and one
# failed result NAME if there are none, or if RC is non-zero and none of
# them failed (a sub-run that died after its last "ok" line).
results_from() { # LOG REGEX NAME RC
	local verdict rest name comment found=0 bad=0
	local rc=${4:?results_from: no exit status for $3}
	while read -r verdict rest; do
		found=1
		rest=${rest#* }
		name=${rest%% # *}
		comment=
		[ "$name" = "$rest" ] || comment=${rest#* # }
		case $verdict:$comment in
		ok:SKIP*) result skip "$name" "${comment#SKIP}" ;;
		ok:*) result pass "$name" "$comment" ;;
		*) bad=1; result fail "$name" "$comment" ;;
		esac
	done < <(grep -E "^(not )?ok [0-9]+ ($2)" "$1" | sed 's/^not ok/not_ok/')
	if [ "$found" = 0 ]; then
		result fail "$3" "no result (exit $rc); see $1"
	elif [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		result fail "$3" "exited $rc after its last result; see $1"
	fi
}

ktap_finish() {
	echo "1..$n"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
}

# Report one guest run (run-vm.sh's OUTDIR and exit status VM) test by
# test, as PREFIX:NAME; the guest's own output goes out as comments.
guest_results() { # OUTDIR TESTLIST VM PREFIX
	local status name comment
	tr -d '\r' <"$1/results.log" | sed 's/^/# /'
	while IFS=$'\t' read -r status name comment; do
		result "$status" "$4:$name" "$comment"
	done < <("$MMRACE_TOP/scripts/guest-results.sh" "$1" "$2" "$3")
}
