// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru) in reclaim: isolate_lru_folios()
 * (shrink_inactive_list(), shrink_active_list(): kswapd, direct and node
 * reclaim) takes a speculative reference on an LRU folio and clears
 * PG_lru (folio_test_clear_lru()), the folio unlocked and mapped, while
 * other tasks set and clear other bits of the same flags word: page
 * faults lock and unlock it (PG_locked) or queue on its lock
 * (PG_waiters). The sibling of lru_isolate_vs_folio_lock
 * (folio_isolate_lru()) and compact_isolate_vs_folio_lock (compaction's
 * own isolation).
 *
 * The page cache of a block device (a zram device the test creates),
 * allocated on the last node. Reclaim is driven there without memory
 * cgroups (the test kernel has none): a child process (side B, CPU 1)
 * holds page 0 (vmsplice(2): reclaim can never free it, so it isolates it
 * and puts it back, again and again), fills the node with a memfd's
 * pages (fallocate(2) under MPOL_BIND; no swap, so reclaim cannot take
 * them) until 40 MB are
 * left free, then reads a second zram device of 64 MB round and round
 * under the same policy: its page cache keeps the node's small file LRU
 * turning over, evicted by the node's kswapd and by direct reclaim in the
 * child (lru_flags_lib.h, ->reclaim). Two windows the test defines at
 * the speculative reference isolate_lru_folios() takes before it clears
 * PG_lru, "t:rcl_isok page_ref_mod_unless<-isolate_lru_folios" for the
 * node's kswapd (the reclaimer the test's load drives; the verdict's
 * window) and the same, "rcl_iso", for the process tree (the child's
 * direct reclaim, rarer), both targeted at page 0, hold each isolation
 * for 2 ms (interrupts off, the lru_lock held). Nothing activates page 0
 * (the reader's mapping is MADV_RANDOM: no recency), so it stays on the
 * inactive list that reclaim turns over.
 * Side A (CPU 0), the reader, reads a word of page 0 through its own
 * mapping and zaps the PTE (MADV_DONTNEED) so that every read faults and
 * locks the folio. The main thread is the watchdog.
 *
 * Invariant: the lock state of a folio (PG_locked, PG_waiters) as page
 * faults set and clear it survives reclaim's isolation of the folio (no
 * lost flag, no lost wake-up), and faults read the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds, or read foreign bytes, or side B made no
 *         progress for 3 * STALL_S seconds; any BUG (VM_BUG_ON_FOLIO in
 *         folio_unlock()) or hung-task report in the kernel log too;
 *   PASS  none of this, rcl_isok was hit, and lock_changed > 0 (both
 *         windows): in some isolation by reclaim, another party changed
 *         PG_locked or set PG_waiters (a fault locking or unlocking the
 *         folio, or queuing on its lock; not another bit, whose loss is
 *         invisible here) while a window held it, the interleaving the
 *         bug loses;
 *   SKIP  otherwise (no zram, fewer than two NUMA nodes, windows
 *         disabled, windows/define refused the site).
 * Mutant: 308-reclaim-isolate-nonatomic-lru-clear.patch.
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
		.name = "reclaim_isolate_vs_folio_lock",
		.exercise = "isolations by reclaim with the folio's lock taken, released or queued for by another party in the window (lock_changed: PG_locked changed or PG_waiters set)",
		.invariant = "a folio's lock state survives its isolation by reclaim",
		.lost = "its wakeup was lost (PG_waiters wiped) or PG_locked was written back",
		.exercised = exercised,
		.reclaim = true,
		.define = {
			{ "rcl_isok", "t:rcl_isok page_ref_mod_unless<-isolate_lru_folios" },
			{ "rcl_iso", "t:rcl_iso page_ref_mod_unless<-isolate_lru_folios" },
		},
	};

	lru_flags_run(&t);
}
