// SPDX-License-Identifier: GPL-2.0
/*
 * Window gup_fast_post_grab: GUP-fast holding its reference before the PTE
 * re-check, against migration (seeds 000, 004).
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "gup_fast_post_grab",
		.probe_symbol = "try_grab_folio_fast",
		.memfd = false,
		.retarget = true,
		.side_a = side_gup_fast,
		.a_name = "GUP-fast get",
		.side_b = side_migrate,
		.b_name = "move_pages",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
