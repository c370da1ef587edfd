// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 002: compaction clears PG_isolated on a locked page while other tasks
 * wait for its lock.
 *
 * Runs the in-kernel scenario isolated_putback
 * (src/scenario/isolated_putback.rs): the module's own non-LRU movable
 * pages, placed where compaction reaches them, a kernel thread locking and
 * unlocking them in turn, a watchdog checking that it is always woken.
 * Meanwhile this test's second thread triggers compaction
 * (/proc/sys/vm/compact_memory; compaction runs in that thread, so the
 * window's pid filter, this process, admits it), which isolates the pages,
 * fails to migrate them and puts them back, with the compact_isolate window
 * (phase putback_callback) holding each page locked and isolated in the
 * driver's putback callback, so that waiters pile up; one putback in
 * INTERVAL only, so that the others run as often as without the window:
 * the historic bug's window is one instruction (mutant 300), and the
 * chance to hit it grows with the number of putbacks met by a waiter.
 *
 * Verdict:
 *   FAIL  a waiter slept for over a second on an unlocked page (a lost
 *         PG_waiters; the scenario's no_lost_wakeup check), or a hung-task
 *         report (the runner scans the kernel log);
 *   PASS  neither, the window was hit, and waiter_queued > 0: at least one
 *         putback of the test's own pages had the locker queue on the page
 *         during the callback (PG_waiters clear when it began, set when it
 *         ended), the interleaving the bug loses;
 *   SKIP  otherwise, with the counts (windows disabled, no window hit, or
 *         no such putback: the race did not run).
 * Mutants: 002-putback-nonatomic-isolated-clear.patch (widened),
 * 300-putback-nonatomic-isolated-clear-real-size.patch (historic size).
 */
#include "regress.h"

int main(void)
{
	/*
	 * Hold one putback in 8: the held ones let waiters pile up in the
	 * callback (a widened non-atomic clear loses them), the others keep
	 * putbacks as frequent as without the window (the historic
	 * one-instruction clear needs many: mutant 300).
	 */
	regress_compaction_main("isolated_clear_vs_lock_waiters",
				"isolated_putback", "putback_callback", 8,
				"putbacks with a lock waiter queued during the callback (waiter_queued)",
				"a lock waiter is always woken while compaction puts pages back");
}
