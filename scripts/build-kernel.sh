#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) the Rust-enabled test kernel and print its
# build directory. The source comes from Debian's linux-source-6.12 tarball;
# the configuration is tinyconfig + selftests/config (the kselftest "config"
# file is the single source of truth for what the tests need). The build is
# cached under $MMRACE_CACHE/kbuild/, keyed by kernel version, the config
# fragment and the toolchain versions, so a warm run does not rebuild.
#
# With KDIR set, use that (Rust-enabled, already built) tree instead.
set -eu
. "$(dirname "$0")/env.sh"

if [ -n "${KDIR:-}" ]; then
	[ -f "$KDIR/Module.symvers" ] ||
		{ echo "build-kernel: KDIR=$KDIR has no Module.symvers" >&2; exit 1; }
	echo "$KDIR"
	exit 0
fi

# Pristine source, keyed by the tarball's contents.
tar_id=$(sha256sum "$KSRC_TARBALL" | cut -c1-12)
src=$MMRACE_CACHE/src/$tar_id/linux-source-6.12
if [ ! -f "$src/.mmrace-extracted" ]; then
	echo "build-kernel: extracting $KSRC_TARBALL" >&2
	rm -rf "$MMRACE_CACHE/src/$tar_id"
	mkdir -p "$MMRACE_CACHE/src/$tar_id"
	tar -C "$MMRACE_CACHE/src/$tar_id" -xJf "$KSRC_TARBALL"
	touch "$src/.mmrace-extracted"
fi

kver=$(make -s -C "$src" kernelversion)
# MMRACE_KCONFIG_EXTRA: more fragments (make check-debug's config.debug).
# shellcheck disable=SC2206
fragments=("$MMRACE_TOP/selftests/config" ${MMRACE_KCONFIG_EXTRA:-} "$@")
key=$( {
	echo "$kver $tar_id"
	cat "${fragments[@]}"
	/usr/bin/rustc --version
	clang-16 --version | head -n 1
	"$BINDGEN" --version
} | sha256sum | cut -c1-12)
out=$MMRACE_CACHE/kbuild/$kver-$key

if [ ! -f "$out/.mmrace-built" ]; then
	echo "build-kernel: building $kver into $out (a few minutes)" >&2
	rm -rf "$out"
	mkdir -p "$out"
	kmake() { make -s -C "$src" O="$out" "${KMAKE_ARGS[@]}" "$@"; }
	kmake tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"${fragments[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	# Options whose dependencies are missing are dropped silently: refuse.
	dropped=$(grep -hE '^CONFIG_[A-Z0-9_]+=' "${fragments[@]}" |
		while read -r line; do
			grep -qxF "$line" "$out/.config" || echo "$line"
		done)
	if [ -n "$dropped" ]; then
		echo "build-kernel: options dropped by Kconfig:" $dropped >&2
		exit 1
	fi
	kmake -j"$(nproc)" all >&2
	# UAPI headers for the selftests (GUP_TEST's ioctls and the like).
	kmake headers_install >&2
	touch "$out/.mmrace-built"
fi
echo "$out"
