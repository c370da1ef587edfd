#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest runner itself, as KTAP: boot the test kernel with a payload of
# fake tests (pass, fail, skip, a kernel-log splat, a hang past the timeout,
# then a pass) and check that every verdict survives the chain
# (scripts/guest/run-tests -> isa-debug-exit -> run-vm.sh ->
# scripts/guest-results.sh); then boot a guest whose init cannot start and
# check that the death (init exits: a panic) is a failure, not a silent pass.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"
fake() { # NAME BODY
	printf '#!/bin/sh\n%s\n' "$2" >"$work/payload/$1"
	chmod +x "$work/payload/$1"
	echo "$1" >>"$work/payload/tests"
}
verdicts() { cut -f1,2 "$1" | tr '\t\n' ': '; }

kernel=$KDIR/arch/x86/boot/bzImage
mkdir -p "$work/payload"
echo timeout=3 >"$work/payload/settings"
fake pass_t 'echo "ok 1 fine"; exit 0'
fake fail_t 'echo "not ok 1 broken"; exit 1'
fake skip_t 'exit 4'
fake splat_t 'echo "WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1" >/dev/kmsg; exit 0'
fake hang_t 'sleep 60'
fake after_t 'exit 0'
"$scripts/build-initramfs.sh" "$work/payload" "$work/initrd.gz"

echo "TAP version 13"
echo "1..4"
MMRACE_TIMEOUT=120 "$scripts/run-vm.sh" "$kernel" "$work/initrd.gz" \
	"$work/run1" check
expect "a run with failures exits 1 through isa-debug-exit" 1 $?
"$scripts/guest-results.sh" "$work/run1" "$work/payload/tests" 1 >"$work/v1"
sed 's/^/# /' "$work/v1"
expect "every verdict survives the chain" \
	"pass:pass_t fail:fail_t skip:skip_t fail:splat_t fail:hang_t pass:after_t pass:kernel-log " \
	"$(verdicts "$work/v1")"

MMRACE_TIMEOUT=120 MMRACE_APPEND="rdinit=/bin/false" "$scripts/run-vm.sh" \
	"$kernel" "$work/initrd.gz" "$work/run2" check 2>/dev/null
expect "a guest that panics exits 2" 2 $?
"$scripts/guest-results.sh" "$work/run2" "$work/payload/tests" 2 >"$work/v2"
expect "a dead guest fails every test and the kernel log" \
	"fail:pass_t fail:fail_t fail:skip_t fail:splat_t fail:hang_t fail:after_t fail:kernel-log " \
	"$(verdicts "$work/v2")"
exit $failed
