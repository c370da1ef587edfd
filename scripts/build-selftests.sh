#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kselftests (static) and gather what the guest runs into OUT:
# the test binaries, settings, mmrace.ko and the list of tests in order.
# Usage: build-selftests.sh KDIR OUT
set -eu
. "$(dirname "$0")/env.sh"
kdir=$1
out=$2
ksft=$kdir/source/tools/testing/selftests
[ -d "$ksft" ] || ksft=$kdir/tools/testing/selftests
khdr=
[ -d "$kdir/usr/include/linux" ] && khdr="-isystem $kdir/usr/include"

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
make -s -C "$MMRACE_TOP/selftests" KSFT_DIR="$ksft" OUTPUT="$out" \
	KHDR_INCLUDES="$khdr" all
make -s -C "$MMRACE_TOP/selftests" KSFT_DIR="$ksft" OUTPUT="$out" \
	emit_tests | sed 's/^[^:]*://' >"$out/tests"
cp "$MMRACE_TOP/selftests/settings" "$MMRACE_TOP/mmrace.ko" \
	"$MMRACE_TOP"/selftests/*.sh "$out/"
