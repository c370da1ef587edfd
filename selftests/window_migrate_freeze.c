// SPDX-License-Identifier: GPL-2.0
/*
 * Window migrate_freeze: migration at its expected-refcount check, against
 * GUP-fast references (seeds 000, 004).
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "migrate_freeze",
		.phase = "check",
		.probe_symbol = "__migrate_folio",
		.memfd = false,
		.side_a = side_migrate,
		.a_name = "move_pages",
		.side_b = side_gup_fast,
		.b_name = "GUP-fast get",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
