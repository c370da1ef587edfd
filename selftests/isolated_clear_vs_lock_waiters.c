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
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"
#include "regress.h"

#define INVARIANT "a lock waiter is always woken while compaction puts pages back"
#define INTERVAL 8

static struct regress r;
static unsigned long compactions;

static void *compactor(void *arg)
{
	(void)arg;
	regress_pin_cpu(1);
	while (regress_running(&r)) {
		if (!mmrace_write("/proc/sys/vm/compact_memory", "1"))
			compactions++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	int runs = 0, ret;

	regress_init(&r, "isolated_clear_vs_lock_waiters", 15);
	if (access("/proc/sys/vm/compact_memory", W_OK))
		ksft_exit_skip("no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)\n");
	regress_arm(&r, "compact_isolate", "putback_callback", 2000,
		    REGRESS_PROCESS);
	/*
	 * Hold one putback in INTERVAL: the held ones let waiters pile up in
	 * the callback (a widened non-atomic clear loses them), the others
	 * keep putbacks as frequent as without the window (the historic
	 * one-instruction clear needs many: mutant 300).
	 */
	ret = r.armed ? win_set("compact_isolate", "interval", "%d", INTERVAL) : 0;
	if (ret)
		ksft_exit_fail_msg("compact_isolate interval: %s\n",
				   strerror(-ret));
	/* The scenario's "exercised" note: waiter_queued. */
	regress_exercise(&r, "putbacks with a lock waiter queued during the callback (waiter_queued)");
	pthread_create(&t, NULL, compactor, NULL);
	while (regress_running(&r)) {
		ret = regress_scenario(&r, "isolated_putback iterations=2000",
				       true);
		if (ret)
			ksft_exit_fail_msg("scenario isolated_putback: %s\n",
					   strerror(-ret));
		runs++;
	}
	pthread_join(t, NULL);
	ksft_print_msg("%d runs of 2 s, %lu compactions\n", runs, compactions);
	regress_finish(&r, INVARIANT);
}
