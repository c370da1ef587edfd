// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 002 on a folio the module owns: a lock holder clears PG_isolated
 * while another thread sets a waiters-style bit (PG_owner_priv_1, which the
 * kernel ignores on that folio) in the same flags word, inside a forced
 * window. Through the layer's deliberately racy path (load, window, store)
 * the bit set in the window is lost; written with the typestate API (only
 * an atomic clear compiles, the freeze that would allow a non-atomic one is
 * refused) nothing is. The counts are printed; each check is a KTAP line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define ITERATIONS "200"
#define WINDOW_US "1000"

static const char *const scenarios[] = {
	"seed002_racy iterations=" ITERATIONS " window_us=" WINDOW_US,
	"seed002_typestate iterations=" ITERATIONS " window_us=" WINDOW_US,
};

#define NR_SCENARIOS ARRAY_SIZE(scenarios)

static char reports[NR_SCENARIOS][4096];
static int errors[NR_SCENARIOS];

static void report_results(const char *report)
{
	enum mmrace_report_line kind;
	const char *pos = report;
	bool done = false;
	char line[512], name[64] = "";

	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END) {
		switch (kind) {
		case MMRACE_REPORT_OK:
		case MMRACE_REPORT_NOT_OK:
			ksft_test_result(kind == MMRACE_REPORT_OK, "%s\n", line);
			break;
		case MMRACE_REPORT_NOTE:
			ksft_print_msg("%s\n", line);
			break;
		case MMRACE_REPORT_DONE:
			done = true;
			break;
		default:
			sscanf(line, "scenario %63s", name);
			break;
		}
	}
	ksft_test_result(done, "%s: ran to completion\n", name);
}

int main(void)
{
	int loaded, plan = 0;
	size_t i;

	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	if (access(MMRACE_SCENARIO_RUN, W_OK))
		ksft_exit_skip("%s: %s\n", MMRACE_SCENARIO_RUN, strerror(errno));

	for (i = 0; i < NR_SCENARIOS; i++) {
		errors[i] = mmrace_scenario(scenarios[i], reports[i],
					    sizeof(reports[i]));
		plan += errors[i] ? 1 : mmrace_report_checks(reports[i]) + 1;
	}
	ksft_set_plan(plan);
	for (i = 0; i < NR_SCENARIOS; i++) {
		ksft_print_msg("%s\n", scenarios[i]);
		if (errors[i])
			ksft_test_result_fail("%s: %s\n", scenarios[i],
					      strerror(-errors[i]));
		else
			report_results(reports[i]);
	}

	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
