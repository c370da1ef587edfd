// SPDX-License-Identifier: GPL-2.0
/*
 * Window migrate_freeze: migration of a shmem folio at its expected-refcount
 * check, against page-cache lookups taking speculative references (seeds 000,
 * 004). GUP-fast cannot be the other side here: the page is already unmapped.
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "migrate_freeze",
		.phase = "check",
		.probe_symbol = "__migrate_folio",
		.memfd = true,
		.side_a = side_migrate,
		.a_name = "move_pages",
		.side_b = side_read,
		.b_name = "pread",
		.delay_us = 2000,
	};

	return window_test_main(&t);
}
