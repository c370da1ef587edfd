#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kselftests (static) and gather what the guest runs into OUT:
# the test binaries, settings, mmrace.ko and the list of tests in order.
# Incremental: OUT/.inputs records what the binaries were built from (the
# sources in selftests/, the kernel tree, the compiler); when that has not
# changed, only mmrace.ko and the small files are copied again.
# Usage: build-selftests.sh KDIR OUT
set -eu
. "$(dirname "$0")/env.sh"
kdir=$(cd "$1" && pwd)
out=$2
ksft=$kdir/source/tools/testing/selftests
[ -d "$ksft" ] || ksft=$kdir/tools/testing/selftests
khdr=
[ -d "$kdir/usr/include/linux" ] && khdr="-isystem $kdir/usr/include"

# What the binaries depend on: every source of selftests/ (not its host
# tests, mutants or broken patches), the kernel tree (its path and its
# build's timestamp) and the compiler.
inputs=$( {
	echo "$kdir $ksft $khdr"
	stat -c '%n %Y %s' "$kdir/Module.symvers" "$kdir/.config"
	cc --version | head -n 1
	cd "$MMRACE_TOP/selftests" &&
		find . -path ./host -prune -o -path ./mutants -prune \
			-o -path ./broken -prune -o -type f ! -name mmrace.ko \
			-print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)

if [ "$(cat "$out/.inputs" 2>/dev/null)" != "$inputs" ]; then
	rm -rf "$out"
	mkdir -p "$out"
	o=$(cd "$out" && pwd)
	make -s -C "$MMRACE_TOP/selftests" KSFT_DIR="$ksft" OUTPUT="$o" \
		KHDR_INCLUDES="$khdr" all
	make -s -C "$MMRACE_TOP/selftests" KSFT_DIR="$ksft" OUTPUT="$o" \
		emit_tests | sed 's/^[^:]*://' >"$o/tests"
	echo "$inputs" >"$out/.inputs"
fi
cp "$MMRACE_TOP/selftests/settings" "$MMRACE_TOP/mmrace.ko" \
	"$MMRACE_TOP"/selftests/*.sh "$out/"
