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
#include "kselftest.h"
#include "mmrace_lib.h"

#define ITERATIONS "200"
#define WINDOW_US "1000"

static const char *const scenarios[] = {
	"seed002_racy iterations=" ITERATIONS " window_us=" WINDOW_US,
	"seed002_typestate iterations=" ITERATIONS " window_us=" WINDOW_US,
};

int main(void)
{
	/* The checks name their scenario: no prefix. */
	mmrace_scenarios_main(scenarios, ARRAY_SIZE(scenarios), NULL, 0,
			      false);
}
