/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Seed 001, class 1 (speculative page-cache references): the cycle of the
 * tests in which A's page-cache lookup loads page 0's folio X and, held in
 * the pagecache_pre_grab window before its speculative reference, X is
 * freed and reused by the same file at another index
 * (fault_around_vs_punch_reuse, get_entry_vs_punch_reuse,
 * invalidate_vs_evict_reuse).
 *
 * In cycles: B, a child process on CPU 1 (outside the windows' pid filter),
 * drops pages 0 to REUSE_NPAGES - 1, loads page 0 (X) and notes X's pfn
 * through its own mapping (pagemap). A, the test's process on CPU 0, runs
 * its lookup, which the window (the test's phase) holds for REUSE_DELAY_US.
 * Meanwhile B drops page 0 (X is freed to CPU 1's per-CPU list) and loads
 * page REUSE_PAGE, whose new folio is most often X again, and counts that
 * (through its mapping) and whether A's window was still open. Then A
 * checks what its lookup returned. With the windows off, B drops page 0 as
 * soon as A is about to look.
 */
#ifndef MMRACE_REUSE_LIB_H
#define MMRACE_REUSE_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "regress.h"

#define REUSE_NPAGES	16
#define REUSE_PAGE	5
#define REUSE_DELAY_US	5000

struct reuse_test {
	uint64_t (*pattern)(int page);	/* the words of @page (for writes) */
	int fd;				/* the file */
	/* B: opens the file to cycle on (once; NULL: fd); < 0 ends B. */
	int (*b_open)(void);
	/*
	 * B: drops the pages of [@off, @off + @len) from the page cache
	 * (NULL: punches a hole).
	 */
	void (*b_drop)(int fd, off_t off, size_t len);
	/* B: brings page @page into the page cache (NULL: writes it). */
	void (*b_load)(int fd, int page);
	/* B unmaps its mapping after each pfn it notes (so it can be evicted). */
	bool b_unmap;
	/* A: the lookup under test. */
	void (*a_lookup)(void);
	/* A, once B is done: checks what the lookup saw; false to stop. */
	bool (*a_check)(void);
};

/* A tmpfs file (memfd) of REUSE_NPAGES pages; fails the test if it cannot. */
int reuse_memfd(const char *name);
/*
 * Pins to CPU 0, arms pagecache_pre_grab's @phase and names what is
 * exercised, forks B and runs @t's cycles until the cap or a violation;
 * stops B, prints the counts and returns the reuses of X for page
 * REUSE_PAGE while A's window held it.
 */
unsigned long reuse_run(struct regress *r, const char *phase,
			const struct reuse_test *t);

#endif /* MMRACE_REUSE_LIB_H */
