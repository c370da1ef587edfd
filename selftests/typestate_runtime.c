// SPDX-License-Identifier: GPL-2.0
/*
 * The typestate folio API on real pages, in the kernel: every transition
 * (alloc, non-atomic updates while unpublished, publish, atomic updates,
 * freeze with the wrong and the right count, non-atomic updates while
 * frozen, unfreeze), a frozen handle dropped without unfreeze, a freeze
 * refused while another thread holds a reference, and the lock guard alone
 * and with a real waiter. Each check of each scenario is one KTAP line;
 * malformed commands to typestate/run are rejected with EINVAL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

static const char *const scenarios[] = {
	"transitions",
	"drop_frozen",
	"freeze_contended",
	"lock",
	"lock_contended iterations=50",
};

#define NR_SCENARIOS ARRAY_SIZE(scenarios)

static const char *const bad_writes[] = {
	"no_such_scenario",
	"transitions iterations=0",
	"seed002_racy window_us=99999",
	"lock colour=blue",
};

static char reports[NR_SCENARIOS][4096];
static int errors[NR_SCENARIOS];

static void report_results(const char *scenario, const char *report)
{
	enum mmrace_report_line kind;
	const char *pos = report;
	bool done = false;
	char line[512];

	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END) {
		switch (kind) {
		case MMRACE_REPORT_OK:
		case MMRACE_REPORT_NOT_OK:
			ksft_test_result(kind == MMRACE_REPORT_OK, "%s: %s\n",
					 scenario, line);
			break;
		case MMRACE_REPORT_NOTE:
			ksft_print_msg("%s: %s\n", scenario, line);
			break;
		case MMRACE_REPORT_DONE:
			done = true;
			break;
		default:
			break;
		}
	}
	ksft_test_result(done, "%s: ran to completion\n", scenario);
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

	/* Run everything first: the plan is the number of checks. */
	for (i = 0; i < NR_SCENARIOS; i++) {
		errors[i] = mmrace_scenario(scenarios[i], reports[i],
					    sizeof(reports[i]));
		plan += errors[i] ? 1 : mmrace_report_checks(reports[i]) + 1;
	}
	ksft_set_plan(plan + ARRAY_SIZE(bad_writes));
	for (i = 0; i < ARRAY_SIZE(bad_writes); i++) {
		int ret = mmrace_write(MMRACE_SCENARIO_RUN, bad_writes[i]);

		ksft_test_result(ret == -EINVAL, "run: '%s' rejected with EINVAL (%s)\n",
				 bad_writes[i], strerror(-ret));
	}
	for (i = 0; i < NR_SCENARIOS; i++) {
		if (errors[i])
			ksft_test_result_fail("%s: %s\n", scenarios[i],
					      strerror(-errors[i]));
		else
			report_results(scenarios[i], reports[i]);
	}

	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
