#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Documentation/howto.rst, "Reproduce your own race", run as written.
#
# 1. A window defined at a site that is not a built-in one (compaction's
#    speculative reference in isolate_migratepages_block(), the page_ref
#    tracepoint of folio_get_nontail_page()), on one page of a process,
#    held while mmrace's adversary unmaps that page (`zap`, what
#    MADV_DONTNEED does) from another CPU.
# 2. The same with the built-in compact_isolate window's `isolate` phase,
#    the same site (windows.rst).
#
# Each passes when the statistics prove it: the window opened on the page
# (delayed), saw it change (hits), and the unmap landed inside it
# (adversary_inside); the process then reads zeros there, never foreign
# data. Each SKIPs, saying why, when compaction never reached the page or
# the unmap never landed inside the window (three attempts).
dir=$(cd "$(dirname "$0")" && pwd)
PATH=$dir:$PATH
D=/sys/kernel/debug/mmrace
echo "TAP version 13"
echo "1..2"
loaded=
if [ ! -d $D ]; then
	insmod "${MMRACE_KO:-$dir/mmrace.ko}" || {
		echo "not ok 1 howto: insmod failed"
		exit 1
	}
	loaded=1
fi
hold=/tmp/howto-hold.$$
fifo=/tmp/howto-fifo.$$
failed=0 skipped=0
stat() { sed -n "s/^$2: //p" "$D/windows/$1/stats"; }
# The last NUMA node: the least used, so that the page lies near its zone's
# start, where compaction's migrate scanner begins (howto.rst, step 2).
node=$(ls -d /sys/devices/system/node/node* | sed 's/.*node//' | sort -n | tail -n 1)

# Steps 2-5 of howto.rst on window $1, up to three times (each with a new
# process: a zapped page is gone); sets $why on a failure of the setup.
race() {
	W=$D/windows/$1
	why=
	for attempt in 1 2 3; do
		rm -f "$fifo" "$hold"
		mkfifo "$fifo"
		mmrace-hold -n 8192 -N "$node" <"$fifo" >"$hold" &
		exec 3>"$fifo"
		# Up to 60 s: filling 8192 pages takes a while on a debug kernel.
		for _ in $(seq 600); do [ -s "$hold" ] && break; sleep 0.1; done
		if ! read -r pid addr pfn <"$hold"; then
			why="mmrace-hold printed nothing"
		else
			echo "# $1, attempt $attempt: pid $pid, page $addr, pfn $pfn"
			echo "$pid $addr" >$W/target || why="target refused"
			echo 2000 >$W/delay_us
			echo zap >$W/adversary || why="adversary zap refused"
			echo 1 >$W/enable || why="enable refused"
			# Twice if the first pass missed the page (the scanners
			# met below it; the first pass moved pages out of the
			# way).
			for _ in 1 2; do
				for node in /sys/devices/system/node/node*/compact; do
					echo 1 >"$node"
				done
				[ "$(stat "$1" delayed)" -gt 0 ] && break
			done
			echo 0 >$W/enable
		fi
		exec 3>&-
		wait
		sed 's/^/# /' "$hold"
		[ -n "$why" ] && return
		if ! tail -n 1 "$hold" | grep -q ' 0 foreign$'; then
			why="mmrace-hold found foreign data in its pages"
			return
		fi
		[ "$(stat "$1" adversary_inside)" -gt 0 ] && break
	done
	rm -f "$hold" "$fifo"
}

# The verdict of test $1 (number) on window $2, named $3.
verdict() {
	delayed=$(stat "$2" delayed) hits=$(stat "$2" hits)
	inside=$(stat "$2" adversary_inside) after=$(stat "$2" adversary_after)
	grep -E '^(entered|filtered_out|delayed|hits|adversary_[a-z]+):' \
		"$D/windows/$2/stats" | tr '\n' ' ' | sed 's/^/# /; s/ $/\n/'
	if [ -n "$why" ]; then
		echo "not ok $1 $3: $why"
		failed=1
	elif [ "${delayed:-0}" = 0 ]; then
		echo "ok $1 $3 # SKIP compaction never took a reference on the target page (the window never opened)"
		skipped=1
	elif [ "${inside:-0}" = 0 ]; then
		echo "ok $1 $3 # SKIP the window opened $delayed times but the unmap never landed inside it (adversary_after $after)"
		skipped=1
	elif [ "${hits:-0}" = 0 ]; then
		echo "not ok $1 $3: the unmap landed inside the window $inside times but the window saw no change (hits 0)"
		failed=1
	else
		echo "ok $1 $3: window opened $delayed times, hits $hits, the unmap inside it $inside times"
	fi
}

# 1. Define the window (howto.rst, step 1), race on it, remove it.
if echo 't:compiso page_ref_mod_unless<-isolate_migratepages_block' \
	>$D/windows/define && [ -d $D/windows/compiso ]; then
	race compiso
	verdict 1 compiso "howto: a defined window (t:compiso)"
	echo '-:compiso' >$D/windows/define ||
		{ echo "# -:compiso refused"; failed=1; }
else
	echo "not ok 1 howto: windows/define refused the howto's line"
	failed=1
fi

# 2. The built-in window's phase at the same site.
if echo isolate >$D/windows/compact_isolate/phase; then
	race compact_isolate
	verdict 2 compact_isolate "compact_isolate phase isolate"
else
	echo "not ok 2 compact_isolate phase isolate: the phase was refused"
	failed=1
fi
echo reset >$D/control

[ -z "$loaded" ] || rmmod mmrace
[ "$failed" = 0 ] || exit 1
[ "$skipped" = 0 ] || exit 4
exit 0
