// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru): a folio is isolated from its LRU
 * list (folio_isolate_lru(): PG_lru cleared by folio_test_clear_lru(),
 * then a reference and the lru_lock) while other tasks hold it and set
 * and clear other bits of the same flags word: move_pages(2) isolates a
 * mapped page-cache folio unlocked, and page faults on it lock and unlock
 * it meanwhile (PG_locked), or queue on its lock (PG_waiters).
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache). NPAGES pages are written with a
 * pattern and synced (clean).
 * Side B (CPU 1) maps the device and migrates its pages between two nodes
 * with move_pages(2); the compact_isolate window (phase lru_isolate, the
 * folio_get() right after the PG_lru clear) holds each isolation, the
 * folio unlocked and still mapped.
 * Side A (CPU 0), the reader, has its own mapping of the device: it zaps
 * the PTE of a page (MADV_DONTNEED) and reads a word of it, so that every
 * read faults: the fault (fault-around's trylock, or filemap_fault())
 * locks the folio and unlocks it once it is mapped, or waits for its lock
 * (killable), setting PG_waiters. The main thread is the watchdog.
 *
 * Invariant: the lock state of a folio (PG_locked, PG_waiters) as page
 * faults set and clear it survives the folio's isolation from the LRU (no
 * lost flag, no lost wake-up), and faults read the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds (a PG_locked written back: the folio locked
 *         for ever), or read foreign bytes, or the migrator made no
 *         progress for 3 * STALL_S seconds (it sleeps in folio_lock() on
 *         such a folio); any BUG (VM_BUG_ON_FOLIO in folio_unlock(): a
 *         PG_locked wiped under its holder) or hung-task report in the
 *         kernel log fails it too;
 *   PASS  none of this, the window was hit, and lock_changed > 0 (window
 *         stats): in some isolation, another party changed PG_locked or
 *         set PG_waiters (a fault locking or unlocking the folio, or
 *         queuing on its lock; not another bit, whose loss is invisible
 *         here) while the window held it, the interleaving the bug loses;
 *   SKIP  otherwise (no zram, one node, windows disabled, no such window:
 *         it needs the page_ref tracepoints, CONFIG_DEBUG_PAGE_REF).
 * Mutant: 304-lru-isolate-nonatomic-lru-clear.patch.
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
		.name = "lru_isolate_vs_folio_lock",
		.phase = "lru_isolate",
		.exercise = "LRU isolations with the folio's lock taken, released or queued for by another party in the window (lock_changed: PG_locked changed or PG_waiters set)",
		.invariant = "a folio's lock state survives its isolation from the LRU",
		.lost = "its wakeup was lost (PG_waiters wiped) or PG_locked was written back",
		.exercised = exercised,
	};

	lru_flags_run(&t);
}
