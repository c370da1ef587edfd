// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on LRU folios): migration copies the source's
 * flags to the new folio (folio_migrate_flags()) after the new folio has
 * replaced the source in the page cache, locked, while page faults that
 * found it there wait for its lock.
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache, migrated by
 * buffer_migrate_folio_norefs() -> __migrate_folio(), which calls
 * folio_migrate_mapping() and then folio_migrate_flags()). NPAGES pages
 * are written with a pattern and synced (clean).
 * Side B (CPU 1) maps the device and migrates its pages between two nodes
 * with move_pages(2); the compact_isolate window (phase migrate_flags,
 * at folio_migrate_ksm() inside folio_migrate_flags()) holds each
 * migration with the new folio in the page cache and locked.
 * Side A (CPU 0), the reader, has its own mapping of the device: it zaps
 * the PTE of a page (MADV_DONTNEED) and reads a word of it, so that every
 * read faults: filemap_fault() finds the folio in the page cache and, if
 * it is locked, waits (killable) for its lock, setting PG_waiters. The
 * main thread is the watchdog.
 *
 * Invariant: a fault that waits for a folio's lock is woken when the
 * folio is unlocked (no lost PG_waiters), and reads the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds, or read foreign bytes, or the migrator
 *         made no progress for 3 * STALL_S seconds;
 *   PASS  none of this, the window was hit, and waiters_queued > 0 (window
 *         stats): some migration had a task queue on the new folio's lock
 *         while the window held it (PG_waiters clear when it opened, set
 *         when it closed), the interleaving the bug loses;
 *   SKIP  otherwise (no zram, one node, windows disabled, no such window).
 * Mutant: 303-migrate-flags-nonatomic-copy.patch.
 * The workload: lru_flags_lib.c.
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
		.name = "migrate_flags_vs_lock_waiters",
		.phase = "migrate_flags",
		.exercise = "migrations with a task queued on the new folio's lock in the window (waiters_queued)",
		.invariant = "a page fault waiting for a folio under migration is always woken",
		.lost = "its wakeup was lost (PG_waiters wiped)",
		.exercised = exercised,
	};

	lru_flags_run(&t);
}
