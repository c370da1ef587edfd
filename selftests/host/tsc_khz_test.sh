#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest's tsc_early_khz, as KTAP: scripts/host-tsc-khz.sh reads the
# host's TSC frequency from the sysfs file or the kernel log (fake ones
# here: a dmesg on PATH, MMRACE_TSC_SYSFS), the last value the kernel gave
# tsc_khz, and nothing when neither tells; scripts/run-vm.sh (with a fake
# qemu-system-x86_64 that records -append) passes that value, leaves
# tsc_early_khz out when there is none, never takes /proc/cpuinfo's
# "cpu MHz", and obeys MMRACE_TSC_KHZ.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"

mkdir "$work/bin"
# shellcheck disable=SC2016 # for the fakes
{
	printf '#!/bin/sh\n[ -f "$FAKE_DMESG" ] || { echo "dmesg: read kernel buffer failed" >&2; exit 1; }\ncat "$FAKE_DMESG"\n' >"$work/bin/dmesg"
	printf '#!/bin/bash\nwhile [ $# -gt 0 ]; do [ "$1" = -append ] && echo "$2" >"$FAKE_APPEND"; shift; done\nexit 33\n' \
		>"$work/bin/qemu-system-x86_64"
}
chmod +x "$work/bin/dmesg" "$work/bin/qemu-system-x86_64"
export PATH=$work/bin:$PATH TMPDIR=$work FAKE_DMESG=$work/dmesg FAKE_APPEND=$work/append
export MMRACE_TSC_SYSFS=$work/tsc_freq_khz
unset MMRACE_TSC_KHZ

log() { printf '[    0.000000] %s\n' "$@" >"$work/dmesg"; }
khz() { "$scripts/host-tsc-khz.sh" 2>&1; }
# The tsc_early_khz= run-vm.sh passes, or "none".
vm_khz() {
	rm -f "$work/append"
	"$scripts/run-vm.sh" /dev/null /dev/null "$work/vm" check >/dev/null 2>&1
	[ -f "$work/append" ] || { echo "qemu not run"; return; }
	grep -o 'tsc_early_khz=[0-9]*' "$work/append" || echo none
}
processor="tsc: Detected 2000.000 MHz processor"
tsc="tsc: Detected 2445.418 MHz TSC"
refined="tsc: Refined TSC clocksource calibration: 2445.501 MHz"

echo "TAP version 13"
echo "1..9"
log "$processor" "clocksource: Switched to clocksource tsc"
expect "dmesg: Detected ... MHz processor alone" 2000000 "$(khz)"
log "$processor" "$tsc"
expect "dmesg: then Detected ... MHz TSC" 2445418 "$(khz)"
log "$processor" "$tsc" "clocksource: Switched to clocksource tsc" "$refined"
expect "dmesg: then Refined TSC clocksource calibration" 2445501 "$(khz)"
echo 2500000 >"$work/tsc_freq_khz"
expect "the sysfs tsc_freq_khz first" 2500000 "$(khz)"
rm "$work/tsc_freq_khz" "$work/dmesg"
expect "no sysfs file, dmesg unreadable: nothing" "" "$(khz)"

log "Linux version 6.12" "clocksource: Switched to clocksource tsc"
cpumhz=$(grep -m1 '^cpu MHz' /proc/cpuinfo | tr -s '\t ' ' ')
if [ -n "$cpumhz" ]; then
	expect "run-vm.sh: no TSC frequency on the host, no tsc_early_khz (not /proc/cpuinfo's $cpumhz)" \
		none "$(vm_khz)"
else
	n=$((n + 1))
	echo "ok $n run-vm.sh: not from /proc/cpuinfo # SKIP it has no cpu MHz line"
fi
log "$processor" "$tsc" "$refined"
expect "run-vm.sh: the host's TSC frequency" tsc_early_khz=2445501 "$(vm_khz)"
expect "run-vm.sh: MMRACE_TSC_KHZ= leaves it out" none "$(MMRACE_TSC_KHZ='' vm_khz)"
expect "run-vm.sh: MMRACE_TSC_KHZ=1234567" tsc_early_khz=1234567 "$(MMRACE_TSC_KHZ=1234567 vm_khz)"
exit $failed
