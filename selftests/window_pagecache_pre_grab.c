// SPDX-License-Identifier: GPL-2.0
/*
 * Window pagecache_pre_grab: a page-cache lookup between its xarray load and
 * its speculative reference, against migration of the folio (seeds 001, 004).
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "pagecache_pre_grab",
		/* Its return, probed after the call in each lookup. */
		.probe_symbol = "filemap_get_entry",
		.memfd = true,
		.side_a = side_read,
		.a_name = "pread",
		.side_b = side_migrate,
		.b_name = "move_pages",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
