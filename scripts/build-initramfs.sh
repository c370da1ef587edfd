#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack a busybox initramfs: scripts/guest/ as /init and /mmrace/, plus the
# directory PAYLOAD (selftests, mmrace.ko, the list of tests) as
# /mmrace/selftests/. Incremental: OUTPUT.inputs records what OUTPUT was
# packed from; when nothing changed, OUTPUT is left as it is.
#
# Usage: build-initramfs.sh PAYLOAD OUTPUT.cpio.gz
set -eu
. "$(dirname "$0")/env.sh"
payload=$1
out=$2

inputs=$( {
	sha256sum /bin/busybox "$MMRACE_TOP"/scripts/guest/*
	cd "$payload" && find . -print0 | sort -z | xargs -0 stat -c '%n %a' &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
rm -f "$out.inputs"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mmrace}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$MMRACE_TOP/scripts/guest/init" "$root/init"
install -m 0755 "$MMRACE_TOP"/scripts/guest/{run-tests,demo,kselftest,shell} "$root/mmrace/"
cp -r "$payload" "$root/mmrace/selftests"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
echo "$inputs" >"$out.inputs"
