// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru), compaction's own isolation: the
 * migrate scanner of compaction (isolate_migratepages_block()) takes a
 * speculative reference on a folio it found by pfn, checks it, and claims
 * it from its LRU list by clearing PG_lru (folio_test_clear_lru()), the
 * folio unlocked and mapped, while other tasks hold it and set and clear
 * other bits of the same flags word: page faults lock and unlock it
 * (PG_locked) or queue on its lock (PG_waiters).
 *
 * The page cache of a block device (a zram device the test creates),
 * allocated on the last NUMA node (the least used, so that compaction's
 * migrate scanner, which starts at the zone's start, reaches it).
 * Side B (CPU 1), a child process, writes the node's sysfs "compact" over
 * and over (each a full pass of compact_node()) while it holds a reference
 * on page 0 (vmsplice(2)), so that each pass isolates the folio, fails to
 * migrate it and puts it back where the next pass reaches it again; the
 * compact_isolate window (phase isolate: the page_ref_mod_unless
 * tracepoint of compaction's speculative reference, before the PG_lru
 * clear), targeted at page 0, holds each isolation of it.
 * Side A (CPU 0), the reader, zaps its own mapping of page 0
 * (MADV_DONTNEED) and reads a word of it, so that every read faults and
 * the fault locks the folio and unlocks it, or waits for its lock. The
 * main thread is the watchdog (lru_flags_lib.c).
 *
 * Invariant: the lock state of a folio (PG_locked, PG_waiters) as page
 * faults set and clear it survives compaction's isolation of the folio (no
 * lost flag, no lost wake-up), and faults read the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over 2 s in one fault while the page is
 *         unlocked, or over 6 s (a PG_locked written back), or read
 *         foreign bytes, or the compactor made no progress for 6 s; any
 *         BUG (VM_BUG_ON_FOLIO in folio_unlock()) or hung task in the
 *         kernel log fails it too;
 *   PASS  none of this, and lock_changed > 0 (window stats): in some
 *         isolation of page 0, another party changed PG_locked or set
 *         PG_waiters while the window held it (a change of another bit,
 *         PG_referenced say, is not counted: its loss is invisible here);
 *   SKIP  otherwise (no zram, one node, windows disabled, compaction
 *         never reached the page, no page_ref tracepoints).
 * Mutant: 306-compact-isolate-nonatomic-lru-clear.patch.
 */
#include <stdint.h>

#include "lru_flags_lib.h"

static unsigned long long exercised(const struct mmrace_stats *s)
{
	return s->lock_changed;
}

int main(void)
{
	static const struct lru_flags_test t = {
		.name = "compact_isolate_vs_folio_lock",
		.phase = "isolate",
		.exercise = "compaction isolations of the page with its lock taken, released or queued for by another party in the window (lock_changed: PG_locked changed or PG_waiters set)",
		.invariant = "a folio's lock state survives its isolation by compaction",
		.lost = "its wakeup was lost (PG_waiters wiped) or PG_locked was written back",
		.exercised = exercised,
		.compact = true,
	};

	lru_flags_run(&t);
}
