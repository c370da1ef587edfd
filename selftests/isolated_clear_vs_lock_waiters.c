// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 002: compaction clears PG_isolated on a locked page while other tasks
 * wait for its lock.
 *
 * Runs the in-kernel scenario isolated_putback
 * (src/scenario/isolated_putback.rs): the module's own non-LRU movable
 * pages, a kernel thread locking and unlocking them in turn, a watchdog
 * checking that it is always woken. Meanwhile this test's second thread
 * triggers compaction (/proc/sys/vm/compact_memory), which isolates the
 * pages, fails to migrate them and puts them back, with the
 * compact_isolate window (phase putback_callback) holding each page locked and
 * isolated in the driver's putback callback, so that waiters pile up.
 *
 * Invariant: no waiter sleeps on an unlocked page (a lost PG_waiters); no
 * hung-task report (the runner scans the kernel log).
 * Mutant: 002-putback-nonatomic-isolated-clear.patch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

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
	regress_finish(&r, "a lock waiter is always woken while compaction puts pages back");
}
