# SPDX-License-Identifier: GPL-2.0
# Shared by the host tests that check mmrace's scripts; sourced, never run.
# Sets top (the tree), scripts (MMRACE_SCRIPTS, else this tree's scripts/:
# the directory under test), work (a scratch directory removed at exit),
# n and failed, and expect DESCRIPTION WANT GOT, one KTAP line.
# shellcheck shell=bash
top=$(cd "$(dirname "$0")/../.." && pwd)
scripts=${MMRACE_SCRIPTS:-$top/scripts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
n=0
expect() { # DESCRIPTION WANT GOT
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "# wanted: $2"
		echo "# got:    $3"
		echo "not ok $n $1"
		failed=1
	fi
}
