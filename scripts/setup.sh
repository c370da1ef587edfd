#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what mmrace needs on a Debian 12 machine. Idempotent: a second run
# only checks. Packages come from apt; bindgen-cli (pinned) from crates.io into
# the cache, because Debian's bindgen is older than the kernel's minimum.
set -eu
. "$(dirname "$0")/env.sh"

pkgs="linux-source-6.12 rustc-web rust-web-src clang-16 lld-16 llvm-16
libclang-16-dev qemu-system-x86 busybox-static cpio flex bison bc libelf-dev
libssl-dev make gcc libc6-dev xz-utils perl rsync rustfmt-web rust-web-clippy
libnuma-dev"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	[ "$(id -u)" = 0 ] || { echo "setup: need root for apt-get" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! "$BINDGEN" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	echo "setup: building bindgen-cli $BINDGEN_VERSION into $BINDGEN_ROOT"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" \
		--root "$BINDGEN_ROOT"
fi
echo "setup: toolchain ready ($(/usr/bin/rustc --version), $("$BINDGEN" --version))"
