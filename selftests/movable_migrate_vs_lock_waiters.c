// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug at migration): migration clears PG_isolated on a
 * non-LRU movable page it has locked and migrated while other tasks wait
 * for its lock.
 *
 * Runs the in-kernel scenario movable_migrate
 * (src/scenario/movable_migrate.rs, src/scenario/movable_waiters.rs): the
 * module's own non-LRU movable pages, whose driver accepts migration
 * (keeping the source page), placed where compaction reaches them, a
 * kernel thread locking and unlocking them in turn, a watchdog checking
 * that it is always woken. Meanwhile this test's second thread triggers
 * compaction (/proc/sys/vm/compact_memory; compaction runs in that
 * thread, so the window's pid filter, this process, admits it), which
 * isolates and migrates the pages (migrate_movable_ops_page(): the
 * driver's migrate_page callback, then PG_isolated cleared, then the
 * source unlocked), with the compact_isolate window (phase
 * migrate_callback) holding each source page locked in the driver's
 * callback, so that waiters pile up.
 *
 * Verdict:
 *   FAIL  a waiter slept for over a second on an unlocked page (a lost
 *         PG_waiters; the scenario's no_lost_wakeup check), or a hung-task
 *         report (the runner scans the kernel log);
 *   PASS  neither, the window was hit, and waiter_queued > 0: at least one
 *         migration of the test's own pages had the locker queue on the
 *         page during the callback (PG_waiters clear when it began, set
 *         when it ended), the interleaving the bug loses;
 *   SKIP  otherwise, with the counts.
 * Mutant: 302-migrate-movable-nonatomic-isolated-clear.patch.
 */
#include "regress.h"

int main(void)
{
	/*
	 * One migration in 8 held: holding every one spends the delay budget
	 * (nine in ten were throttled), and a migration batch locks all its
	 * pages first, so the locker then waits on a page before its window
	 * opens. With gaps, the locker catches up with the held page.
	 */
	regress_compaction_main("movable_migrate_vs_lock_waiters",
				"movable_migrate", "migrate_callback", 8,
				"migrations with a lock waiter queued during the callback (waiter_queued)",
				"a lock waiter is always woken while compaction migrates movable pages");
}
