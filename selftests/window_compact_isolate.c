// SPDX-License-Identifier: GPL-2.0
/*
 * Window compact_isolate: a folio isolated and locked for migration, against
 * a task faulting on it and waiting for the lock (seed 002).
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "compact_isolate",
		.phase = "migrate",
		.probe_symbol = "move_to_new_folio",
		.memfd = false,
		.side_a = side_migrate,
		.a_name = "move_pages",
		.side_b = side_touch,
		.b_name = "reads of the page",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
