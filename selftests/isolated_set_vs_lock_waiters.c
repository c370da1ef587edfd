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
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"
#include "regress.h"

#define INVARIANT "a lock waiter is always woken while compaction isolates pages"

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

	regress_init(&r, "isolated_set_vs_lock_waiters", 15);
	if (access("/proc/sys/vm/compact_memory", W_OK))
		ksft_exit_skip("no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)\n");
	regress_arm(&r, "compact_isolate", "isolate_callback", 2000,
		    REGRESS_PROCESS);
	/* The scenario's "exercised" note: waiter_queued. */
	regress_exercise(&r, "isolations with a lock waiter queued during the callback (waiter_queued)");
	pthread_create(&t, NULL, compactor, NULL);
	while (regress_running(&r)) {
		ret = regress_scenario(&r, "movable_isolate iterations=2000",
				       true);
		if (ret)
			ksft_exit_fail_msg("scenario movable_isolate: %s\n",
					   strerror(-ret));
		runs++;
	}
	pthread_join(t, NULL);
	ksft_print_msg("%d runs of 2 s, %lu compactions\n", runs, compactions);
	regress_finish(&r, INVARIANT);
}
