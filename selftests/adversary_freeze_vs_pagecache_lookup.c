// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004 with one task: page-cache lookups of a page whose reference
 * count the in-module adversary "freeze" holds frozen while the lookup is
 * held between loading the folio and taking its reference.
 *
 * One task reads one memfd page (filled with a pattern, not mapped) with
 * pread(2), in a loop, on CPU 0; it runs no second thread and no helper.
 * The pagecache_pre_grab window (phase "loaded": the folio pointer loaded,
 * no reference yet), filtered to this process and targeted at the page,
 * holds each lookup open for DELAY_US and posts a "freeze" job: the
 * module's worker (a work item, on another CPU) takes the folio's lock and
 * the mapping's xarray lock and freezes its count as migration does, then
 * holds it frozen until the window has closed on the page (at most 1 ms).
 * The lookup's speculative reference then meets the frozen count: it must
 * retry until the count is unfrozen.
 * After each read the task drains its CPU's LRU batches (MADV_COLD of an
 * untouched page calls lru_add_drain()): a reference a batch holds makes
 * the freeze fail (EAGAIN), as it makes migration fail.
 *
 * Invariant: a read never returns anything but the pattern (mutant 004
 * takes the frozen folio for a hole: zeros).
 * Verdict: fails on a violation; passes only if a freeze was made while the
 * window held the lookup and the window closed with the count still frozen
 * (adversary_inside > 0); else SKIP with the numbers.
 * Mutant: 004-pagecache-lookup-frozen-as-absent.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#ifndef MADV_COLD
#define MADV_COLD 20
#endif

#define WINDOW "pagecache_pre_grab"
#define DELAY_US 700

static uint64_t pattern(size_t i)
{
	return 0x667265657a650000ULL | i;
}

int main(void)
{
	struct mmrace_stats s;
	char buf[256], *map, *drain;
	unsigned long reads = 0;
	struct regress r;
	uint64_t *words;
	size_t psize, i;
	int fd, ret;

	regress_init(&r, "adversary_freeze_vs_pagecache_lookup", 10);
	regress_pin_cpu(0);
	psize = sysconf(_SC_PAGESIZE);
	words = malloc(psize);
	fd = memfd_create("mmrace-freeze", 0);
	if (!words || fd < 0 || ftruncate(fd, psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	for (i = 0; i < psize / 8; i++)
		words[i] = pattern(i);
	if (pwrite(fd, words, psize, 0) != (ssize_t)psize)
		ksft_exit_fail_msg("pwrite: %s\n", strerror(errno));
	mmrace_map_with_drain(fd, psize, &map, &drain);

	regress_arm(&r, WINDOW, "loaded", DELAY_US, REGRESS_PROCESS);
	if (r.armed) {
		/* Mapped only for target to find the page; then unmapped. */
		if (__atomic_load_n((uint64_t *)map, __ATOMIC_RELAXED) !=
		    pattern(0))
			ksft_exit_fail_msg("the page does not hold the pattern\n");
		ret = win_target(WINDOW, map);
		if (!ret)
			ret = win_set(WINDOW, "adversary", "freeze");
		if (ret)
			ksft_exit_fail_msg("target, adversary: %s\n",
					   strerror(-ret));
	}
	/* A freeze needs the folio unmapped: migration's precondition. */
	munmap(map, psize);
	regress_exercise(&r, "freezes held until the window closed on the lookup (adversary_inside)");

	while (regress_running(&r)) {
		memset(words, 0, psize);
		if (pread(fd, words, psize, 0) != (ssize_t)psize) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		reads++;
		regress_check_words(&r, words, psize / 8, pattern,
				    "a hole: the frozen folio was taken for an absent one");
		madvise(drain, psize, MADV_COLD);
	}
	ksft_print_msg("%lu reads\n", reads);
	if (r.armed && !win_stats(WINDOW, &s)) {
		ksft_print_msg("%s adversary: %s\n", WINDOW,
			       win_adversary_str(&s, buf, sizeof(buf)));
		regress_exercised(&r, s.adversary_inside);
	}
	regress_finish(&r, "a page-cache lookup never takes a frozen folio for a hole");
}
