#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-broken: show that the window tests decide on what they name.
# Builds mmrace.ko three times deliberately broken (Kbuild's
# MMRACE_SELFTEST_BROKEN) and runs every window test against each in one
# guest:
#   nodelay  the wait ends at once          every window test must fail
#   noopen   no window ever opens           every window test must fail
#   nohit    the detector never sees a hit  no window test may pass
# Prints one KTAP result per mode and test; exits non-zero if a test passed
# where it must not. MMRACE_BROKEN="nodelay ..." picks the modes.
set -eu
. "$(dirname "$0")/env.sh"
. "$MMRACE_TOP/scripts/ktap.sh"
build=$MMRACE_TOP/build
kdir=$("$MMRACE_TOP/scripts/prepare.sh")
tests=$(grep '^window_' "$build/payload/tests")

echo "TAP version 13"
for mode in ${MMRACE_BROKEN:-nodelay noopen nohit}; do
	o=$build/broken/$mode
	rm -rf "$o"
	mkdir -p "$o/tree"
	# The module's sources only, built out of the way of the real one.
	(cd "$MMRACE_TOP" && git ls-files -co --exclude-standard Kbuild src | cpio -pdm --quiet "$o/tree")
	echo "# $mode: building mmrace.ko (MMRACE_SELFTEST_BROKEN=$mode)"
	make -s -C "$kdir" M="$o/tree" "${KMAKE_ARGS[@]}" \
		MMRACE_SELFTEST_BROKEN="$mode" -j"$(nproc)" modules \
		>"$o/module.log" 2>&1 ||
		{ tail -n 20 "$o/module.log"; result fail "broken:$mode" "does not build"; continue; }
	cp -r "$build/payload" "$o/payload"
	cp "$o/tree/mmrace.ko" "$o/payload/mmrace.ko"
	echo "$tests" >"$o/payload/tests"
	"$MMRACE_TOP/scripts/build-initramfs.sh" "$o/payload" "$o/initrd.gz"
	set +e
	"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
		"$o/initrd.gz" "$o" check
	vm=$?
	set -e
	tr -d '\r' <"$o/results.log" | grep -E '^# # (ok|not ok|window|.* armed)' |
		sed "s/^/# $mode: /"
	while IFS=$'\t' read -r status name comment; do
		[ "$name" != kernel-log ] || { [ "$status" = pass ] ||
			result fail "broken:$mode:kernel-log" "$comment"; continue; }
		case $mode:$status in
		nohit:fail | nohit:skip | nodelay:fail | noopen:fail)
			result pass "broken:$mode:$name" "$status, as it must" ;;
		*) result fail "broken:$mode:$name" "$status on a broken module${comment:+: $comment}" ;;
		esac
	done < <("$MMRACE_TOP/scripts/guest-results.sh" "$o" "$o/payload/tests" "$vm")
done
ktap_finish
