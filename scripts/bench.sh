#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the test kernel, run selftests/mmrace_bench in the guest
# (amplification per window, rendezvous determinism, overhead), print its
# tables and write them to Documentation/benchmarks.rst with the date, the
# kernel, the accelerator and the command. MMRACE_BENCH=--smoke for a short
# run (then the document is not rewritten). On TCG a second boot, with one
# vCPU, measures the overhead again with kprobes jump optimization on, as
# on KVM or hardware (multi-threaded TCG turns it off: testing.rst; with
# two vCPUs on one host thread, the other vCPU's work lands in the
# measured task's time); not with --smoke.
set -eu
. "$(dirname "$0")/env.sh"
build=$MMRACE_TOP/build
out=$build/bench

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
rm -rf "$out"
mkdir -p "$out"
"$MMRACE_TOP/scripts/build-initramfs.sh" "$build/payload" "$out/initrd.gz"
set +e
MMRACE_APPEND="${MMRACE_APPEND:-} mmrace_bench=${MMRACE_BENCH:-}" \
	MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-1800} \
	"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
	"$out/initrd.gz" "$out" bench
rc=$?
set -e
# The workload's own diagnostics ("# ...") are not part of the tables.
tr -d '\r' <"$out/results.log" | sed -n '/^BEGIN RST$/,/^END RST$/p' |
	sed '1d;$d' | grep -v '^# ' >"$out/tables.rst"
if [ "$rc" = 0 ] && [ "${MMRACE_BENCH:-}" != --smoke ] &&
	[ "${MMRACE_KVM:-0}" != 1 ] && [ "${MMRACE_TCG_THREAD:-multi}" = multi ]; then
	mkdir -p "$out/optimized"
	set +e
	MMRACE_APPEND="${MMRACE_APPEND:-} mmrace_bench=--overhead-table" \
		MMRACE_TCG_THREAD=single MMRACE_SMP=1 \
		MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-1800} \
		"$MMRACE_TOP/scripts/run-vm.sh" "$kdir/arch/x86/boot/bzImage" \
		"$out/initrd.gz" "$out/optimized" bench
	rc=$?
	set -e
	tr -d '\r' <"$out/optimized/results.log" |
		sed -n '/^BEGIN RST$/,/^END RST$/p' | sed '1d;$d' | grep -v '^# ' \
		>>"$out/tables.rst"
	"$MMRACE_TOP/scripts/scan-log.sh" "$out/optimized/console.log" || rc=1
fi
cat "$out/tables.rst"
if [ "$rc" != 0 ] || [ ! -s "$out/tables.rst" ] ||
	! "$MMRACE_TOP/scripts/scan-log.sh" "$out/console.log"; then
	echo "bench: failed (vm=$rc); see ${out#"$MMRACE_TOP"/}/" >&2
	exit 1
fi
[ -n "${MMRACE_BENCH:-}" ] && exit 0

# Time to detection per mutant kernel, windows armed and disabled, each
# mutant against its own regression test, capped at 60 s a run
# (MMRACE_BENCH_MUTANTS=0 leaves it out, keeping the table already in
# Documentation/benchmarks.rst: it takes about 10 minutes).
if [ "${MMRACE_BENCH_MUTANTS:-1}" != 0 ]; then
	runs=${MMRACE_BENCH_MUTANT_RUNS:-3}
	for mode in armed off; do
		MMRACE_SKIP_CLEAN=1 MMRACE_MUTANT_TESTS=own MMRACE_MUTANT_MODES=$mode \
			MMRACE_MUTANT_RUNS=$runs MMRACE_CAP_S=60 \
			"$MMRACE_TOP/scripts/check-mutants.sh" >"$out/mutants-$mode.log" 2>&1 || true
		cp "$MMRACE_TOP/build/mutants/results.tsv" "$out/mutants-$mode.tsv"
	done
	{
		echo
		echo "Time to detection per mutant"
		echo "----------------------------"
		echo
		cat <<EOT
Each mutant kernel (selftests/mutants/) against its own regression test,
$runs runs with the windows armed and $runs with every window disabled
(\`\`MMRACE_WINDOWS=off\`\`), each run capped at 60 s: runs that detected it /
runs, and the median seconds to detection (a run that did not detect counts
as 60 s; \`\`>=\`\` when most did not); \`\`skip N/N\`\`: the test skipped in every
run, so it did not run against the mutant (a one-task adversary test,
marked \`\`+\`\`, has no adversary without a window).
EOT
		echo
		"$MMRACE_TOP/scripts/mutant-report.sh" 60 "$out"/mutants-*.tsv
	} >>"$out/tables.rst"
elif grep -q '^Time to detection per mutant$' "$MMRACE_TOP/Documentation/benchmarks.rst"; then
	# Keep the last measured table (it says which run it comes from).
	{
		echo
		sed -n '/^Time to detection per mutant$/,$p' \
			"$MMRACE_TOP/Documentation/benchmarks.rst"
	} >>"$out/tables.rst"
fi
accel="QEMU TCG (multi-threaded, kprobes jump optimization off: Documentation/testing.rst; the second overhead table on one vCPU, optimization on), ${MMRACE_SMP:-2} vCPUs"
[ "${MMRACE_KVM:-0}" = 1 ] && accel="QEMU KVM, ${MMRACE_SMP:-2} vCPUs"
{
	echo ".. SPDX-License-Identifier: GPL-2.0"
	echo
	echo "=========="
	echo "Benchmarks"
	echo "=========="
	echo
	echo "Measured $(date -u +%Y-%m-%d) with \`\`make bench\`\` on kernel"
	echo "$(basename "$kdir" | cut -d- -f1), $accel, on a $(nproc)-core host."
	echo "Timing in a TCG guest is noisy: the numbers are ratios within one"
	echo "boot and medians over repetitions."
	echo
	cat "$out/tables.rst"
} >"$MMRACE_TOP/Documentation/benchmarks.rst"
echo "bench: wrote Documentation/benchmarks.rst"
