// SPDX-License-Identifier: GPL-2.0
/*
 * Window pagecache_post_grab: a page-cache lookup holding its speculative
 * reference before the xarray re-check, against migration (seed 001).
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "pagecache_post_grab",
		.memfd = true,
		.side_a = side_read,
		.a_name = "pread",
		.side_b = side_migrate,
		.b_name = "move_pages",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
