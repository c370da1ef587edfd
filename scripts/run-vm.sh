#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot KERNEL with INITRD under QEMU and run the guest job JOB (check, demo,
# bench, kselftest or shell: scripts/guest/init). The kernel console goes to
# OUTDIR/console.log, the job's output to OUTDIR/results.log (the shell
# job's terminal is this process's standard input and output: make shell).
# Exit status: 0 if the guest reported success through isa-debug-exit (QEMU
# exit 33), 1 if it reported failures (35), 2 if it died or hung (a panic
# exits 0 with panic=-1, the host timeout 124).
#
# Environment: MMRACE_SMP (vCPUs, default 2), MMRACE_MEM (default 2G),
# MMRACE_TIMEOUT (seconds, default 900; 0: none), MMRACE_KVM=1 to try KVM
# (it hangs on nested-virtualization hosts; TCG is the default),
# MMRACE_TCG_THREAD (multi, the default: vCPUs in parallel; single: one host thread runs them
# in turn), MMRACE_APPEND (extra kernel arguments). The guest finds which in
# mmrace_accel= on its command line (tcg-multi, tcg-single or kvm).
# MMRACE_TSC_KHZ: the guest's tsc_early_khz (default: the host's TSC
# frequency, scripts/host-tsc-khz.sh); empty leaves tsc_early_khz out.
#
# Usage: run-vm.sh KERNEL INITRD OUTDIR JOB
set -eu
kernel=$1
initrd=$2
outdir=$3
job=$4
mkdir -p "$outdir"
: >"$outdir/console.log"
: >"$outdir/results.log"

tcg_thread=${MMRACE_TCG_THREAD:-multi}
case $tcg_thread in multi | single) ;;
*) echo "run-vm: MMRACE_TCG_THREAD must be multi or single" >&2; exit 2 ;;
esac
accel="tcg,thread=$tcg_thread"
guest_accel=tcg-$tcg_thread
if [ "${MMRACE_KVM:-0}" = 1 ]; then
	accel=kvm
	guest_accel=kvm
fi
# Under TCG the guest often fails to calibrate the TSC (there is no HPET or
# PM timer without ACPI) or its watchdog finds it "skewed", and falls back
# to jiffies, which stand still on a CPU with interrupts off. TCG's guest TSC
# runs at the host's rate: say so when the host's kernel tells it
# (host-tsc-khz.sh; never /proc/cpuinfo's "cpu MHz", a core's current clock
# under cpufreq), else let the guest calibrate; and trust it.
khz=${MMRACE_TSC_KHZ-$("$(dirname "$0")/host-tsc-khz.sh")}
[ -n "$khz" ] || [ -n "${MMRACE_TSC_KHZ+set}" ] ||
	echo "run-vm: the host's TSC frequency is unknown: no tsc_early_khz (the guest may run on jiffies)" >&2
# Jump-optimized kprobes oops multi-threaded TCG guests ("Oops: int3" at a
# probed function's first byte while it runs through its detour): seen in
# 2 of 17 runs of mmrace_bench_smoke.sh, none in 24 with the optimization
# off nor in 24 on single-threaded TCG (Documentation/testing.rst). Probes
# stay int3-based there.
kopt=
[ "$guest_accel" != tcg-multi ] || kopt=sysctl.debug.kprobes-optimization=0
append="$kopt console=ttyS0 loglevel=7 tsc=reliable ${khz:+tsc_early_khz=$khz} panic=-1 oops=panic panic_on_warn=1
softlockup_panic=1 hung_task_panic=1 numa=fake=2 mmrace_run=$job
mmrace_accel=$guest_accel
${MMRACE_APPEND:-}"

# One CPU per socket: without ACPI the guest finds its CPUs in SeaBIOS's MP
# table, which lists only the first CPU of each package.
smp=${MMRACE_SMP:-2}

# One guest at a time per machine (they would compete for the same cores
# and make each other's timing unrepresentative): wait for the others.
exec 8>"${TMPDIR:-/tmp}/mmrace-vm.lock"
flock -n 8 || { echo "run-vm: waiting for another guest to finish" >&2; flock 8; }

# The shell job's terminal: Ctrl-C goes to the guest, and QEMU stays in the
# foreground process group to read it.
job_serial=(-serial "file:$outdir/results.log")
fg=()
if [ "$job" = shell ]; then
	job_serial=(-chardev "stdio,id=term,signal=off" -serial chardev:term)
	fg=(--foreground)
fi

set +e
timeout "${fg[@]}" "${MMRACE_TIMEOUT:-900}" qemu-system-x86_64 \
	-accel "$accel" -m "${MMRACE_MEM:-2G}" \
	-smp "$smp,sockets=$smp,cores=1,threads=1" \
	-kernel "$kernel" -initrd "$initrd" -append "$(echo $append)" \
	-display none -monitor none -no-reboot \
	-serial "file:$outdir/console.log" "${job_serial[@]}" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
rc=$?
set -e
case $rc in
33) exit 0 ;;
35) exit 1 ;;
124) echo "run-vm: guest hung: killed after ${MMRACE_TIMEOUT:-900}s" >&2 ;;
0) echo "run-vm: guest died (panic or reboot) before reporting" >&2 ;;
*) echo "run-vm: qemu exited $rc" >&2 ;;
esac
exit 2
