// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace.ko loads and unloads cleanly, repeatedly: its debugfs tree comes
 * and goes with it, it taints the kernel as a test module (TAINT_TEST) and
 * never with W/D/B/L.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define CYCLES 20

int main(void)
{
	unsigned long taint_before = mmrace_tainted();
	bool was_loaded = mmrace_loaded();
	int i, ret = 0, failed_cycle = -1;

	ksft_print_header();
	if (access(mmrace_ko_path(), R_OK) && !was_loaded)
		ksft_exit_skip("no module at %s (set MMRACE_KO)\n", mmrace_ko_path());
	ksft_set_plan(5);

	if (was_loaded) {
		ret = mmrace_unload();
		ksft_test_result(!ret, "unload the module found loaded (%s)\n",
				 strerror(-ret));
	} else {
		ksft_test_result_pass("module not loaded at start\n");
	}

	ret = mmrace_load();
	ksft_test_result(!ret && mmrace_loaded(), "load (%s)\n", strerror(-ret));
	ksft_test_result(access(MMRACE_DEBUGFS "/version", R_OK) == 0,
			 "debugfs tree present while loaded\n");

	for (i = 0; i < CYCLES && failed_cycle < 0; i++) {
		if (mmrace_unload() || access(MMRACE_DEBUGFS, F_OK) == 0 ||
		    mmrace_load() || access(MMRACE_DEBUGFS, F_OK) != 0)
			failed_cycle = i;
	}
	ksft_print_msg("%d unload/load cycles done\n", i);
	ret = mmrace_unload();
	ksft_test_result(failed_cycle < 0 && !ret && !mmrace_loaded() &&
			 access(MMRACE_DEBUGFS, F_OK) != 0,
			 "%d unload/load cycles, debugfs tree gone after unload\n",
			 CYCLES);

	ksft_print_msg("tainted: %#lx before, %#lx after\n", taint_before,
		       mmrace_tainted());
	ksft_test_result((mmrace_tainted() & MMRACE_TAINT_TEST) &&
			 !((mmrace_tainted() & ~taint_before) & MMRACE_BAD_TAINT),
			 "kernel tainted as a test module (N), not W/D/B/L\n");

	if (was_loaded)
		mmrace_load();
	ksft_finished();
}
