// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod while every window is armed with a long delay and tasks sit inside
 * the windows: the unload succeeds, nothing fires after it (no probe left
 * registered), the workload carries on, and the kernel log stays clean
 * (the runner scans it). Like mmrace_control_fire, it runs in make check's
 * second guest, on single-threaded TCG (testing.rst).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

static const char * const windows[] = {
	"gup_fast_pre_grab", "gup_fast_post_grab", "migrate_freeze",
	"compact_isolate", "pagecache_pre_grab", "pagecache_post_grab",
};

int main(void)
{
	unsigned long gups, moves;
	struct mmrace_stats s;
	struct race_page p;
	struct race *r;
	unsigned int i, armed = 0, cycles = 0;
	int ret = 0;

	ksft_print_header();
	if (mmrace_loaded() && mmrace_unload())
		ksft_exit_skip("mmrace is loaded and busy\n");
	if (race_nodes() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_exit_skip("needs two CPUs and two NUMA nodes\n");
	if (mmrace_guest_mttcg())
		ksft_exit_skip("multi-threaded TCG executes removed int3s when kprobes are disarmed under load: run on single-threaded TCG (make check's second guest), KVM or hardware\n");
	if (race_anon_page(&p) || p.gup_fd < 0)
		ksft_exit_skip("no page or no gup_test\n");
	ksft_set_plan(3);

	for (cycles = 0; cycles < 5 && !ret; cycles++) {
		ret = mmrace_load();
		if (ret)
			break;
		for (i = 0; i < ARRAY_SIZE(windows); i++) {
			win_set(windows[i], "delay_us", "50000");
			if (!win_set(windows[i], "enable", "1"))
				armed++;
		}
		/* The workload runs into the windows; unload under it. */
		r = race_start(&p, side_gup_fast, side_migrate);
		usleep(200000);
		win_stats("gup_fast_pre_grab", &s);
		do {
			ret = mmrace_unload();
		} while (ret == -EAGAIN || ret == -EBUSY);
		race_stop(r, &gups, &moves);
		ksft_print_msg("cycle %u: unloaded under %lu GUP-fast, %lu move_pages; gup_fast_pre_grab had delayed %llu\n",
			       cycles, gups, moves,
			       (unsigned long long)s.delayed);
	}
	ksft_test_result(!ret && cycles == 5,
			 "5 load/arm-all/unload cycles under load (%u windows armed in all; %s)\n",
			 armed, strerror(-ret));
	ksft_test_result(!hook_listed("try_grab_folio_fast") &&
			 !hook_listed("xas_load") &&
			 !hook_listed("filemap_get_entry") &&
			 !hook_listed("move_to_new_folio"),
			 "no kprobe left registered after unload\n");
	race_run(&p, side_gup_fast, side_migrate, 200, &gups, &moves);
	ksft_test_result(gups > 0 && moves > 0,
			 "workload carries on after unload (%lu GUP-fast, %lu move_pages)\n",
			 gups, moves);
	race_page_free(&p);
	ksft_finished();
}
