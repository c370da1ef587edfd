// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru): a folio is moved between LRU lists
 * (folio_batch_move_lru(): PG_lru cleared by folio_test_clear_lru(), the
 * move under the lru_lock, PG_lru set again by folio_set_lru()) while
 * other tasks hold it and set and clear other bits of the same flags
 * word: read(2) activates a mapped page-cache folio and MADV_COLD
 * deactivates it, unlocked, and page faults on it lock and unlock it
 * meanwhile (PG_locked), or queue on its lock (PG_waiters). The sibling
 * of lru_add_vs_lock_waiters (the same function, after an LRU add).
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache). NPAGES pages are written with a
 * pattern and synced (clean).
 * Side B (CPU 1) maps page 0, reads it twice through the device (with
 * page 1 between: folio_mark_accessed() queues its activation) and
 * deactivates it with MADV_COLD (whose lru_add_drain() runs the queued
 * activation), twice (the second runs the queued deactivation). Two
 * windows the test defines hold the moves: "p:lru_move lru_activate
 * folio=$arg2" and the same at lru_deactivate() ("lru_move_d"), for this
 * process, targeted at page 0; each holds for 2 ms, interrupts off, the
 * lru_lock held, PG_lru clear.
 * Side A (CPU 0), the reader, has its own mapping of the device: it reads
 * a word of page 0 and zaps the PTE (MADV_DONTNEED) so that every read
 * faults: the fault (fault-around's trylock, or filemap_fault()) locks the
 * folio and unlocks it once it is mapped, or waits for its lock
 * (killable), setting PG_waiters. The main thread is the watchdog.
 *
 * Invariant: the lock state of a folio (PG_locked, PG_waiters) as page
 * faults set and clear it survives the folio's moves between LRU lists
 * (no lost flag, no lost wake-up), and faults read the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds (a PG_locked written back: the folio locked
 *         for ever), or read foreign bytes, or side B made no progress
 *         for 3 * STALL_S seconds; any BUG (VM_BUG_ON_FOLIO in
 *         folio_unlock(): a PG_locked wiped under its holder) or hung-task
 *         report in the kernel log fails it too;
 *   PASS  none of this, the window was hit, and lock_changed > 0 (the
 *         two windows' stats): in some move, another party changed
 *         PG_locked or set PG_waiters (a fault locking or unlocking the
 *         folio, or queuing on its lock; not another bit, whose loss is
 *         invisible here) while a window held it, the interleaving the
 *         bug loses;
 *   SKIP  otherwise (no zram, windows disabled, windows/define refused
 *         the sites: a kernel without lru_activate() or lru_deactivate()
 *         as functions).
 * Mutant: 307-lru-move-nonatomic-lru-set.patch.
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
		.name = "lru_move_vs_lock_waiters",
		.exercise = "LRU moves (activation, deactivation) with the folio's lock taken, released or queued for by another party in the window (lock_changed: PG_locked changed or PG_waiters set)",
		.invariant = "a folio's lock state survives its moves between LRU lists",
		.lost = "its wakeup was lost (PG_waiters wiped) or PG_locked was written back",
		.exercised = exercised,
		.define = {
			{ "lru_move", "p:lru_move lru_activate folio=$arg2" },
			{ "lru_move_d", "p:lru_move_d lru_deactivate folio=$arg2" },
		},
	};

	lru_flags_run(&t);
}
