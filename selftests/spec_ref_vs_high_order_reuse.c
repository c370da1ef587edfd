// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001: a speculative page-cache reference outliving the page's reuse
 * as part of a high-order, non-compound allocation.
 *
 * Runs the in-kernel scenario spec_ref_reuse (src/scenario/spec_ref_reuse.rs)
 * over and over: the exact sequence of the thread, an owner allocating,
 * publishing and __free_pages()ing order-2 blocks without __GFP_COMP and a
 * reader looking them up the page cache's way (load, speculative
 * reference, re-check, put), with the pagecache_pre_grab and
 * pagecache_post_grab windows holding the reader at its load and at its
 * reference. Each run compares free pages (per-CPU lists included) before
 * and after; this test also reports MemFree before and after all runs.
 *
 * Invariant: no page is lost: a reference that outlives __free_pages()
 * still frees the whole block.
 * Verdict: fails on lost pages; passes only if the post-grab window was hit
 * by this test's reader and blocks were freed with the reader's reference
 * held (the scenario's "exercised" count), in some run enough of them
 * (171) that their lost tails would have been twice that run's limit: a
 * run with fewer counts none, since a kernel that loses them could pass
 * it as well; else SKIP.
 * Mutant: 001-free-pages-leak-non-compound-tail.patch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

int main(void)
{
	struct regress r;
	long before, after;
	int runs = 0, ret;

	regress_init(&r, "spec_ref_vs_high_order_reuse", 10);
	/* The scenario's reader runs in this process: its windows only. */
	regress_arm(&r, "pagecache_post_grab", NULL, 100, REGRESS_PROCESS);
	regress_arm(&r, "pagecache_pre_grab", NULL, 20, REGRESS_PROCESS);
	regress_exercise(&r, "frees with the reader's reference held, in runs of 171 or more (fewer would leak too little over the check's noise)");
	before = mmrace_meminfo_kb("MemFree");
	while (regress_running(&r)) {
		ret = regress_scenario(&r, "spec_ref_reuse iterations=1000 window_us=200",
				       runs == 0);
		if (ret)
			ksft_exit_fail_msg("scenario spec_ref_reuse: %s\n",
					   strerror(-ret));
		runs++;
	}
	after = mmrace_meminfo_kb("MemFree");
	ksft_print_msg("%d runs of 1000 blocks; MemFree %ld kB before, %ld kB after\n",
		       runs, before, after);
	regress_finish(&r, "a speculative reference never loses the tail of a non-compound block");
}
