#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build mmrace.ko against KDIR, with clippy (CLIPPY=1) so that lints are
# checked on every build. The build log goes to build/module.log for the lint
# test. Usage: build-module.sh KDIR
set -eu
. "$(dirname "$0")/env.sh"
kdir=$1
mkdir -p "$MMRACE_TOP/build"
make -C "$kdir" M="$MMRACE_TOP" "${KMAKE_ARGS[@]}" CLIPPY=1 \
	-j"$(nproc)" modules 2>&1 | tee "$MMRACE_TOP/build/module.log"
test "${PIPESTATUS[0]}" = 0
