#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: install what is missing, build what is not cached, boot the test
# kernel and run the guest's demo job (scripts/guest/demo), printing its
# output. Exits non-zero if the demo failed or the guest died.
set -eu
. "$(dirname "$0")/env.sh"
build=$MMRACE_TOP/build
out=$build/demo

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
mkdir -p "$out"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$build/payload" "$out/initrd.gz"
set +e
"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
	"$out/initrd.gz" "$out" demo
rc=$?
set -e
tr -d '\r' <"$out/results.log"
if [ "$rc" != 0 ] || ! "$MMRACE_TOP/scripts/scan-log.sh" "$out/console.log"; then
	echo "demo: failed (vm=$rc); kernel log in ${out#"$MMRACE_TOP"/}/console.log" >&2
	exit 1
fi
