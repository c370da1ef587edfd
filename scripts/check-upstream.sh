#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-upstream: the kernel's own mm selftests (cow, gup_test,
# gup_longterm, migration), built static from a copy of the same
# linux-source tree's tools/testing/selftests/mm with mmrace's fixes of races
# in the tests themselves applied (selftests/upstream/*.patch, each says
# which), run in the guest twice: plainly, and under mmrace-run (the
# random-window profile armed for the test's process tree). Both passes run
# the same patched binaries, so they compare like with like. Both must pass
# on the clean kernel: mmrace must not make a correct kernel fail.
# mmrace-run prints the windows' statistics, the adversaries' counters and
# the seed after each suite; a summary line per suite follows the log.
#
# MMRACE_UPSTREAM_TESTS overrides the list; MMRACE_SEED fixes the seed
# (default 0: a new one per suite, printed); MMRACE_PROBABILITY (default 10)
# and MMRACE_MAX_DELAY_US (default 1000) tune the profile;
# MMRACE_ADVERSARIES is mmrace-run's --adversaries; unset, the profile's
# default (the transparent operations, Documentation/profile.rst), and
# "none" runs the windows alone.
# MMRACE_KERNEL_IMAGE boots another image of the same build (a mutant, for
# check-mutants); MMRACE_UPSTREAM_OUT puts the logs elsewhere.
set -eu
. "$(dirname "$0")/env.sh"
build=$MMRACE_TOP/build
out=${MMRACE_UPSTREAM_OUT:-$build/upstream}
tests=${MMRACE_UPSTREAM_TESTS:-cow gup_test gup_longterm migration}

kdir=$("$MMRACE_TOP/scripts/prepare.sh")
rm -rf "$out"
mkdir -p "$out/payload"
payload=$(cd "$out/payload" && pwd)
ksrc=$kdir/source
[ -d "$ksrc/tools" ] || ksrc=$kdir

# A copy of the suites' sources, laid out as in the kernel tree (what the
# mm Makefile reaches: lib.mk and the kselftest headers, x86/'s compiler
# probes, mm/gup_test.h, tools/include/uapi), with selftests/upstream/*.patch
# applied. The shared tree in the cache is never written.
src=$out/src
sel=tools/testing/selftests
mkdir -p "$src/$sel/x86" "$src/mm" "$src/tools/include"
cp -r "$ksrc/$sel/mm" "$ksrc/$sel/kselftest" "$ksrc/$sel/lib.mk" \
	"$ksrc/$sel/kselftest.h" "$ksrc/$sel/kselftest_harness.h" "$src/$sel/"
rm -f "$src/$sel/mm/local_config.mk" "$src/$sel/mm/local_config.h"
cp "$ksrc/$sel/x86/check_cc.sh" "$ksrc/$sel"/x86/trivial_*program.c "$src/$sel/x86/"
cp "$ksrc/mm/gup_test.h" "$src/mm/"
cp -r "$ksrc/tools/include/uapi" "$src/tools/include/"
for p in "$MMRACE_TOP"/selftests/upstream/*.patch; do
	[ -e "$p" ] || continue
	echo "# applying selftests/upstream/$(basename "$p")"
	patch -s -p1 -d "$src" --no-backup-if-mismatch <"$p"
done

targets=
for t in $tests; do targets="$targets $payload/$t"; done
# shellcheck disable=SC2086
make -s -C "$src/$sel/mm" OUTPUT="$payload" \
	KHDR_INCLUDES="-isystem $kdir/usr/include" USERLDFLAGS=-static \
	$targets 2>&1 | grep -v -e '^  CC' -e getaddrinfo -e 'affinity_ip' || true
cp "$build/payload/mmrace.ko" "$build/payload/mmrace-run" "$payload/"
echo "timeout=1200" >"$payload/settings"
: >"$payload/tests"
for t in $tests; do
	echo "$t" >>"$payload/tests"
done
for t in $tests; do
	cat >"$payload/$t.mmrace" <<EOS
#!/bin/sh
# $t under the random-window profile.
cd "\$(dirname "\$0")"
exec ./mmrace-run --seed ${MMRACE_SEED:-0} \\
	--probability ${MMRACE_PROBABILITY:-10} \\
	--max-delay-us ${MMRACE_MAX_DELAY_US:-1000} \\
	${MMRACE_ADVERSARIES:+--adversaries $MMRACE_ADVERSARIES} -- ./$t
EOS
	chmod +x "$payload/$t.mmrace"
	echo "$t.mmrace" >>"$payload/tests"
done
"$MMRACE_TOP/scripts/build-initramfs.sh" "$payload" "$out/initrd.gz"

set +e
# The migration test wants at least three CPUs.
MMRACE_SMP=${MMRACE_SMP:-4} MMRACE_TIMEOUT=${MMRACE_TIMEOUT:-3600} \
	"$MMRACE_TOP/scripts/run-vm.sh" \
	"${MMRACE_KERNEL_IMAGE:-$kdir/arch/x86/boot/bzImage}" \
	"$out/initrd.gz" "$out" check
vm=$?
set -e
tr -d '\r' <"$out/results.log" | sed 's/^/# /'
# Per suite under mmrace-run: what the adversary helper did, and whether any
# job was done while its window still held (mmrace-run's last two lines).
tr -d '\r' <"$out/results.log" | awk '
	/^# selftests: [^:]*: [^ ]*\.mmrace$/ { t = $NF; sub(/\.mmrace$/, "", t) }
	/^# mmrace-run: adversary( helper:|_inside )/ {
		sub(/^# mmrace-run: /, ""); print "# adversaries, " t ": " $0 }'
pass=0 fail=0 skip=0 n=0
echo "TAP version 13"
while IFS=$'\t' read -r status name comment; do
	n=$((n + 1))
	case $status in
	pass) pass=$((pass + 1)); echo "ok $n upstream:$name" ;;
	skip) skip=$((skip + 1)); echo "ok $n upstream:$name # SKIP $comment" ;;
	*) fail=$((fail + 1)); echo "not ok $n upstream:$name # $comment" ;;
	esac
done < <("$MMRACE_TOP/scripts/guest-results.sh" "$out" "$payload/tests" "$vm")
echo "1..$n"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
