// SPDX-License-Identifier: GPL-2.0
/*
 * Rendezvous: a window waiting for its partner makes the interleaving
 * deterministic.
 *
 * Pair that meets (seed 004): migration holds a shmem folio's refcount
 * frozen (migrate_freeze, phase frozen) until a page-cache lookup has
 * loaded that folio (pagecache_pre_grab): every migration should meet a
 * reader.
 *
 * Pair that cannot meet (seed 000), a documented finding: GUP-fast holding
 * its reference with interrupts off (gup_fast_post_grab) waiting for
 * migration's refcount check (migrate_freeze, phase check). Migration must
 * first unmap the page and flush the TLB, and the flush IPI cannot reach a
 * CPU with interrupts off: it waits for GUP-fast's window to time out, so
 * the two never overlap.
 */
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

int main(void)
{
	struct mmrace_stats mig, rd, gup;
	struct race_page p;
	unsigned long moves, reads;
	int loaded, ret;

	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_exit_skip("a race needs two CPUs\n");
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	ksft_set_plan(3);

	/* Migration (frozen) waits for a page-cache reader. */
	ret = race_memfd_page(&p);
	if (ret)
		ksft_exit_fail_msg("no page: %s\n", strerror(-ret));
	mmrace_control("reset");
	win_set("migrate_freeze", "pid", "%d", getpid());
	win_set("migrate_freeze", "phase", "frozen");
	win_set("migrate_freeze", "wait_for", "pagecache_pre_grab");
	win_set("migrate_freeze", "wait_timeout_us", "20000");
	win_set("pagecache_pre_grab", "pid", "%d", getpid());
	win_set("pagecache_pre_grab", "enable", "1");
	ret = win_set("migrate_freeze", "enable", "1");
	if (ret) {
		ksft_test_result_skip("cannot arm migrate_freeze/frozen: %s\n",
				      strerror(-ret));
		ksft_test_result_skip("no frozen-phase rendezvous\n");
	} else {
		race_run(&p, side_migrate, side_read, 2000, &moves, &reads);
		win_stats("migrate_freeze", &mig);
		win_stats("pagecache_pre_grab", &rd);
		ksft_print_msg("%lu move_pages, %lu preads\n", moves, reads);
		win_print("migrate_freeze", "frozen, waiting", &mig);
		win_print("pagecache_pre_grab", "partner", &rd);
		ksft_test_result(mig.delayed > 0,
				 "migration froze the folio %llu times\n",
				 (unsigned long long)mig.delayed);
		ksft_test_result(mig.delayed > 0 &&
				 mig.rendezvous_met * 10 >= mig.delayed * 9,
				 "rendezvous met in %llu of %llu attempts (>= 90%%)\n",
				 (unsigned long long)mig.rendezvous_met,
				 (unsigned long long)mig.delayed);
	}
	race_page_free(&p);

	/* GUP-fast (interrupts off) waits for migration's check. */
	ret = race_anon_page(&p);
	if (ret || p.gup_fd < 0) {
		ksft_test_result_skip("no gup_test for the GUP-fast pair\n");
	} else {
		mmrace_control("reset");
		win_set("gup_fast_post_grab", "pid", "%d", getpid());
		win_set("gup_fast_post_grab", "wait_for", "migrate_freeze");
		win_set("gup_fast_post_grab", "wait_timeout_us", "5000");
		win_set("migrate_freeze", "pid", "%d", getpid());
		win_set("migrate_freeze", "phase", "check");
		win_set("migrate_freeze", "enable", "1");
		win_set("gup_fast_post_grab", "enable", "1");
		race_run(&p, side_gup_fast, side_migrate, 2000, &reads, &moves);
		win_stats("gup_fast_post_grab", &gup);
		win_stats("migrate_freeze", &mig);
		ksft_print_msg("%lu GUP-fast, %lu move_pages\n", reads, moves);
		win_print("gup_fast_post_grab", "waiting, irqs off", &gup);
		win_print("migrate_freeze", "partner", &mig);
		ksft_print_msg("finding: met %llu of %llu: the TLB-flush IPI of the unmap cannot reach the CPU waiting with interrupts off\n",
			       (unsigned long long)gup.rendezvous_met,
			       (unsigned long long)gup.delayed);
		ksft_test_result(gup.delayed > 0,
				 "GUP-fast/migration pair attempted %llu times (met %llu, timed out %llu)\n",
				 (unsigned long long)gup.delayed,
				 (unsigned long long)gup.rendezvous_met,
				 (unsigned long long)gup.rendezvous_timeout);
		race_page_free(&p);
	}
	mmrace_control("reset");
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
