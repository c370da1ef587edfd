/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LRU folio flag tests' shared workload (lru_flags_lib.c): what differs
 * between them is the window (a compact_isolate phase, or a defined
 * window) that holds the folio, what side B does to it, and the window
 * statistic that counts the interleaving.
 */
#ifndef MMRACE_LRU_FLAGS_LIB_H
#define MMRACE_LRU_FLAGS_LIB_H

#include "race.h"

struct lru_flags_test {
	const char *name;	/* the test's name */
	const char *phase;	/* the compact_isolate phase to hold */
	const char *exercise;	/* what the exercised count counts */
	const char *invariant;
	/* What a reader asleep on an unlocked page means. */
	const char *lost;
	/* The interleaving's count, from the window's stats. */
	unsigned long long (*exercised)(const struct mmrace_stats *s);
	/*
	 * Compaction instead of move_pages(2): the pages on the last node,
	 * the side-B thread compacting that node, the window targeted at
	 * page 0 (the one the reader faults).
	 */
	bool compact;
	/*
	 * Reclaim instead of move_pages(2), with ->define's windows (the
	 * first armed for the node's kswapd, the second for the process
	 * tree): the pages on the last node, as with ->compact; a child
	 * holds page 0 (vmsplice(2): never evicted), fills the node with
	 * a memfd's pages (no swap: unreclaimable) and then reads another
	 * zram device round and round there, so that reclaim, kswapd's and
	 * the child's own direct reclaim, keeps isolating page 0 from its
	 * LRU list (isolate_lru_folios()), cannot free it, and puts it back.
	 */
	bool reclaim;
	/*
	 * LRU moves instead of move_pages(2), if ->define[0].name is set:
	 * the side-B thread activates page 0 (read(2) twice:
	 * folio_mark_accessed()) and deactivates it (MADV_COLD), the reader
	 * on page 0 only, and the windows are the ones the test defines
	 * (each a name and its windows/define line), targeted at page 0.
	 */
	struct lru_flags_window {
		const char *name;
		const char *line;
	} define[2];
};

/* Runs the test and exits with its verdict (regress_finish()). */
void lru_flags_run(const struct lru_flags_test *t);

#endif
