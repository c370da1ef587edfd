#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the host's TSC frequency in kHz (the host kernel's tsc_khz), or
# nothing when the host kernel does not tell it. Under TCG the guest's TSC
# runs at this rate (QEMU's rdtsc reads the host's TSC), hence run-vm.sh's
# tsc_early_khz.
#
# Where it comes from, in order:
# - /sys/devices/system/cpu/cpu0/tsc_freq_khz: tsc_khz itself, on kernels
#   that export it (Google's, or with the out-of-tree tsc_freq_khz module;
#   mainline does not).
# - The kernel log (dmesg, if readable and its boot lines are still in the
#   ring buffer). arch/x86/kernel/tsc.c prints every value it gives tsc_khz,
#   in order: "tsc: Detected N MHz processor" (cpu_khz, equal to tsc_khz
#   unless "tsc: Detected N MHz TSC" follows), then, if the TSC was
#   calibrated against a timer later, "tsc: Refined TSC clocksource
#   calibration: N MHz". The last of these is tsc_khz. The kernel got it
#   from CPUID leaves 0x15/0x16, MSRs or a hypervisor where they tell it,
#   which is why this script does not read CPUID itself (that needs
#   /dev/cpu/N/cpuid, root, and leaf 0x15's crystal frequency is often 0).
# Never /proc/cpuinfo's "cpu MHz": with cpufreq it is a core's current
# clock, not the TSC's.
#
# MMRACE_TSC_SYSFS: another path for the sysfs file (for the host tests).
set -eu
sysfs=${MMRACE_TSC_SYSFS:-/sys/devices/system/cpu/cpu0/tsc_freq_khz}
khz=
if [ -r "$sysfs" ]; then
	khz=$(tr -dc 0-9 <"$sysfs")
else
	khz=$( (dmesg 2>/dev/null || true) | awk '
		/tsc: (Detected [0-9]+\.[0-9]+ MHz (processor|TSC)|Refined TSC clocksource calibration: [0-9]+\.[0-9]+ MHz)/ {
			match($0, /[0-9]+\.[0-9][0-9][0-9] MHz/)
			v = substr($0, RSTART, RLENGTH - 4)
			sub(/\./, "", v)
			khz = v + 0
		}
		END { if (khz) print khz }')
fi
# A TSC between 100 MHz and 10 GHz, or none.
if [ -n "$khz" ] && [ "$khz" -ge 100000 ] && [ "$khz" -le 10000000 ]; then
	echo "$khz"
fi
