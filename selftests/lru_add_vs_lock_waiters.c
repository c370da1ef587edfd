// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru): a folio is added to an LRU list
 * (lru_add(), then PG_lru set by folio_batch_move_lru()) while other tasks
 * hold it and set bits of the same flags word: migration adds the new
 * folio (folio_add_lru() in migrate_folio_move()) while it is locked and
 * already in the page cache, and page faults that found it there wait for
 * its lock.
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache, migrated by
 * buffer_migrate_folio_norefs()). NPAGES pages are written with a pattern
 * and synced (clean).
 * Side B (CPU 1) maps the device and migrates its pages between two nodes
 * with move_pages(2), which disables the per-CPU LRU batches, so that the
 * new folio's LRU add runs at once, in B; the compact_isolate window
 * (phase lru_add, at lru_add()'s entry) holds each add with the new folio
 * in the page cache and locked.
 * Side A (CPU 0), the reader, has its own mapping of the device: it zaps
 * the PTE of a page (MADV_DONTNEED) and reads a word of it, so that every
 * read faults: filemap_fault() finds the folio in the page cache and, if
 * it is locked, waits (killable) for its lock, setting PG_waiters. The
 * main thread is the watchdog.
 *
 * Invariant: a fault that waits for a folio's lock is woken when the
 * folio is unlocked, however the folio's other flags (PG_lru) change
 * meanwhile (no lost PG_waiters), and reads the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds, or read foreign bytes, or the migrator
 *         made no progress for 3 * STALL_S seconds (a folio left locked
 *         for ever: the window also holds the LRU add of a source folio
 *         put back unlocked, which the reader locks and unlocks
 *         meanwhile, and a stale write-back can keep PG_locked set or
 *         wipe it, a VM_BUG_ON in folio_unlock()); any BUG or hung-task
 *         report in the kernel log fails it too;
 *   PASS  none of this, the window was hit, and waiters_queued > 0 (window
 *         stats): some LRU add had a task queue on the folio's lock while
 *         the window held it (PG_waiters clear when it opened, set when it
 *         closed), the interleaving the bug loses;
 *   SKIP  otherwise (no zram, one node, windows disabled, no such window).
 * Mutant: 305-lru-add-nonatomic-lru-set.patch.
 */
#include <stdint.h>

#include "lru_flags_lib.h"

static unsigned long long exercised(const struct mmrace_stats *s)
{
	return s->waiters_queued;
}

int main(void)
{
	static const struct lru_flags_test t = {
		.name = "lru_add_vs_lock_waiters",
		.phase = "lru_add",
		.exercise = "LRU adds with a task queued on the folio's lock in the window (waiters_queued)",
		.invariant = "a page fault waiting for a folio being added to the LRU is always woken",
		.lost = "its wakeup was lost (PG_waiters wiped)",
		.exercised = exercised,
	};

	lru_flags_run(&t);
}
