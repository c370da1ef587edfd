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
#include "kselftest.h"
#include "mmrace_lib.h"

static const char *const scenarios[] = {
	"transitions",
	"drop_frozen",
	"freeze_contended",
	"lock",
	"lock_contended iterations=50",
};

static const char *const bad_writes[] = {
	"no_such_scenario",
	"transitions iterations=0",
	"seed002_racy window_us=99999",
	"lock colour=blue",
};

int main(void)
{
	mmrace_scenarios_main(scenarios, ARRAY_SIZE(scenarios), bad_writes,
			      ARRAY_SIZE(bad_writes), true);
}
