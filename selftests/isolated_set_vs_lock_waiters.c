// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug at isolation): compaction sets PG_isolated on a
 * page it has trylocked while other tasks wait for its lock.
 *
 * Runs the in-kernel scenario movable_isolate
 * (src/scenario/movable_isolate.rs, src/scenario/movable_waiters.rs): the
 * module's own non-LRU movable pages, placed where compaction reaches
 * them, a kernel thread locking and unlocking them in turn, a watchdog
 * checking that it is always woken. Meanwhile this test's second thread
 * triggers compaction (/proc/sys/vm/compact_memory; compaction runs in
 * that thread, so the window's pid filter, this process, admits it), which
 * isolates the pages (isolate_movable_page(): trylock, the driver's
 * isolate_page callback, PG_isolated set, unlock), with the
 * compact_isolate window (phase isolate_callback) holding each page
 * locked in the driver's callback, so that waiters pile up.
 *
 * Verdict:
 *   FAIL  a waiter slept for over a second on an unlocked page (a lost
 *         PG_waiters; the scenario's no_lost_wakeup check), or a hung-task
 *         report (the runner scans the kernel log);
 *   PASS  neither, the window was hit, and waiter_queued > 0: at least one
 *         isolation of the test's own pages had the locker queue on the
 *         page during the callback (PG_waiters clear when it began, set
 *         when it ended), the interleaving the bug loses;
 *   SKIP  otherwise, with the counts.
 * Mutant: 301-isolate-nonatomic-isolated-set.patch.
 */
#include "regress.h"

int main(void)
{
	/* Every isolation held (one in 1). */
	regress_compaction_main("isolated_set_vs_lock_waiters",
				"movable_isolate", "isolate_callback", 1,
				"isolations with a lock waiter queued during the callback (waiter_queued)",
				"a lock waiter is always woken while compaction isolates pages");
}
