#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-broken: show that the kselftests decide on what they name.
# Each selftests/broken/NAME.patch breaks mmrace.ko on purpose (the module's
# own mutants); its header lists the tests that must fail on it ("Fails:")
# and those that may skip but never pass ("Skips:"), and "Guest: single"
# for tests that need single-threaded TCG. For each patch: the module's
# sources are copied, patched and built out of the way of the real module,
# and its tests run in one guest. Prints one KTAP result per patch and
# test; exits non-zero if a test passed where it must not.
#
# MMRACE_BROKEN="WORD ..." runs only the patches whose names contain one.
set -eu
. "$(dirname "$0")/env.sh"
. "$MMRACE_TOP/scripts/ktap.sh"
build=$MMRACE_TOP/build
kdir=$("$MMRACE_TOP/scripts/prepare.sh")

field() { sed -n "s/^$1: *//p" "$2" | head -n 1; }

echo "TAP version 13"
for patch in "$MMRACE_TOP"/selftests/broken/*.patch; do
	name=$(basename "$patch" .patch)
	if [ -n "${MMRACE_BROKEN:-}" ]; then
		keep=0
		for w in $MMRACE_BROKEN; do
			case $name in *"$w"*) keep=1 ;; esac
		done
		[ "$keep" = 1 ] || continue
	fi
	fails=$(field Fails "$patch")
	skips=$(field Skips "$patch")
	o=$build/broken/$name
	rm -rf "$o"
	mkdir -p "$o/tree"
	(cd "$MMRACE_TOP" && git ls-files -co --exclude-standard Kbuild src |
		cpio -pdm --quiet "$o/tree")
	if ! patch -d "$o/tree" -p1 -s --no-backup-if-mismatch <"$patch"; then
		result fail "broken:$name" "does not apply"
		continue
	fi
	echo "# $name: building mmrace.ko"
	if ! make -s -C "$kdir" M="$o/tree" "${KMAKE_ARGS[@]}" \
		-j"$(nproc)" modules >"$o/module.log" 2>&1; then
		tail -n 20 "$o/module.log" | sed 's/^/# /'
		result fail "broken:$name" "does not build"
		continue
	fi
	cp -r "$build/payload" "$o/payload"
	cp "$o/tree/mmrace.ko" "$o/payload/mmrace.ko"
	printf '%s\n' $fails $skips >"$o/payload/tests"
	echo timeout=600 >"$o/payload/settings"
	"$MMRACE_TOP/scripts/build-initramfs.sh" "$o/payload" "$o/initrd.gz"
	set +e
	MMRACE_TCG_THREAD=$([ "$(field Guest "$patch")" = single ] &&
		echo single || echo multi) \
		"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
		"$o/initrd.gz" "$o" check
	vm=$?
	set -e
	tr -d '\r' <"$o/results.log" | grep -E '^# (not ok|# .*armed:)' |
		sed "s/^/# $name: /"
	while IFS=$'\t' read -r status test comment; do
		[ "$test" != kernel-log ] || continue
		must=fail
		case " $skips " in *" $test "*) must=skip ;; esac
		case $must:$status in
		fail:fail | skip:skip | skip:fail)
			result pass "broken:$name:$test" "$status, as it must" ;;
		*) result fail "broken:$name:$test" "$status on a broken module${comment:+: $comment}" ;;
		esac
	done < <("$MMRACE_TOP/scripts/guest-results.sh" "$o" "$o/payload/tests" "$vm")
done
ktap_finish
