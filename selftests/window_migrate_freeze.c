// SPDX-License-Identifier: GPL-2.0
/*
 * Window migrate_freeze: migration of a shmem folio at its expected-refcount
 * check, against page-cache lookups taking speculative references (seeds 000,
 * 004). GUP-fast cannot be the other side here: the page is already unmapped.
 * Nor can read(2): shmem's read takes the folio lock, which migration holds,
 * so a reader waits out the window with its reference already taken. The
 * other side is mincore(2) of the file's page through a mapping that was
 * never faulted: a page-cache lookup that takes and drops a speculative
 * reference without the lock. Its reference is too brief for the window to
 * see it reliably by looking at the refcount (10 % of windows in a loaded
 * run), so a zero-length pagecache_pre_grab marks each lookup's arrival:
 * a lookup that arrives on the page while the window holds is a hit.
 */
#include "race.h"

int main(void)
{
	static const struct window_test t = {
		.window = "migrate_freeze",
		.phase = "check",
		.probe_symbol = "__migrate_folio",
		.marker = "pagecache_pre_grab",
		.memfd = true,
		.side_a = side_migrate,
		.a_name = "move_pages",
		.side_b = side_mincore,
		.b_name = "mincore",
		.delay_us = 5000,
	};

	return window_test_main(&t);
}
