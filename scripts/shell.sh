#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make shell: boot the test kernel (or KDIR's) with mmrace.ko loaded and
# give an interactive shell on this terminal (scripts/guest/shell); leaving
# it (exit, Ctrl-D) powers the guest off. The shell is on the guest's second
# serial port, this terminal; the kernel console goes to
# build/shell/console.log (dmesg in the guest shows it too), so kernel
# messages never garble the prompt. Nothing is rebuilt when nothing changed.
#
# Standard input that is not a terminal is a script: it is held back until
# the guest's shell is ready (its line in the kernel log), then fed to it,
# with the guest's terminal echo off (mmrace_script=1): the script arrives
# at once, and echoed as it arrives it would land in the middle of the
# commands' output.
#
# Single-threaded TCG by default (MMRACE_TCG_THREAD=single): there,
# unregistering kprobes under load is safe; on multi-threaded TCG a CPU may
# execute an int3 that kprobes has removed (Documentation/testing.rst).
# MMRACE_TCG_THREAD=multi, MMRACE_SMP, MMRACE_MEM and MMRACE_APPEND are
# passed to scripts/run-vm.sh; MMRACE_TIMEOUT (default: none on a
# terminal, 900 s for a script) bounds the session.
#
# Exits 0 if the guest powered off cleanly with a clean kernel log, 1 if
# the log has a splat, 2 if the guest died or hung.
set -eu
. "$(dirname "$0")/env.sh"
out=$MMRACE_TOP/build/shell

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
mkdir -p "$out"
rm -f "$out/console.log" "$out/stdin"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$MMRACE_TOP/build/payload" \
	"$out/initrd.gz"
echo "shell: booting $(basename "$kdir") on TCG" \
	"(${MMRACE_TCG_THREAD:-single}-threaded); kernel log in" \
	"${out#"$MMRACE_TOP"/}/console.log" >&2

export MMRACE_TCG_THREAD=${MMRACE_TCG_THREAD:-single}
# A terminal's session is unbounded; a script's, 900 s, so that a guest
# that never gets ready, or a script that never exits, cannot hang a run.
if [ -t 0 ]; then
	export MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-0}
else
	export MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-900}
fi
# The terminal's size, for the guest's line editing.
size=
[ ! -t 0 ] || size=$(stty size 2>/dev/null) || true
if [[ $size =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]]; then
	MMRACE_APPEND="mmrace_rows=${size% *} mmrace_cols=${size#* } ${MMRACE_APPEND:-}"
	export MMRACE_APPEND
fi
if [ ! -t 0 ]; then
	MMRACE_APPEND="mmrace_script=1 ${MMRACE_APPEND:-}"
	export MMRACE_APPEND
fi

set +e
if [ -t 0 ]; then
	"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
		"$out/initrd.gz" "$out" shell
	vm=$?
else
	mkfifo "$out/stdin"
	exec 3<&0
	{
		until grep -qs '^\[[ 0-9.]*\] mmrace-guest: shell ready' \
			"$out/console.log"; do
			sleep 0.1
		done
		cat <&3
	} >"$out/stdin" &
	feeder=$!
	"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
		"$out/initrd.gz" "$out" shell <"$out/stdin"
	vm=$?
	kill "$feeder" 2>/dev/null
	wait "$feeder" 2>/dev/null
	rm -f "$out/stdin"
fi
"$MMRACE_TOP/scripts/scan-log.sh" "$out/console.log" >"$out/splats"
scan=$?
set -e
if [ "$vm" != 0 ]; then
	echo "shell: the guest died or hung (vm=$vm); the end of its kernel log:" >&2
	tail -n 40 "$out/console.log" >&2
	exit 2
fi
if [ "$scan" != 0 ]; then
	echo "shell: the kernel log has splats (${out#"$MMRACE_TOP"/}/console.log):" >&2
	cut -f2 "$out/splats" >&2
	exit 1
fi
echo "shell: the guest powered off; kernel log clean" >&2
