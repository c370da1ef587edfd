# SPDX-License-Identifier: GPL-2.0
# Shared settings for mmrace's scripts; sourced, never run.
# shellcheck shell=bash
MMRACE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MMRACE_CACHE=${MMRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmrace}
BINDGEN_VERSION=0.71.1
BINDGEN_ROOT=$MMRACE_CACHE/bindgen-$BINDGEN_VERSION
BINDGEN=$BINDGEN_ROOT/bin/bindgen
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
# The kernel's toolchain: Debian's rustc, not the rustup one first on PATH.
KMAKE_ARGS=(LLVM=-16 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc BINDGEN="$BINDGEN")
export LIBCLANG_PATH=/usr/lib/llvm-16/lib
KMAKE_ARGS+=(RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver)
