#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What every guest job needs first: the toolchain installed, the test kernel
# built (or found in the cache), mmrace.ko and the kselftests built into
# build/payload. Prints the kernel build directory.
set -eu
. "$(dirname "$0")/env.sh"
"$MMRACE_TOP/scripts/setup.sh" >&2
kdir=$("$MMRACE_TOP/scripts/build-kernel.sh")
"$MMRACE_TOP/scripts/build-module.sh" "$kdir" >/dev/null
"$MMRACE_TOP/scripts/build-selftests.sh" "$kdir" "$MMRACE_TOP/build/payload" >&2
echo "$kdir"
