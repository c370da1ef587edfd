// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004 with one task: page-cache lookups of a page that an adversary
 * migrates while the lookup holds it.
 *
 * One task reads one memfd page (filled with a pattern) with pread(2), in
 * a loop; it runs no second thread. The pagecache_pre_grab window
 * (phase "loaded": the folio pointer loaded, no reference yet), filtered to
 * this process and targeted at the page, holds each lookup open for
 * DELAY_US and posts an adversary job ("migrate"): the adversary helper
 * (mmrace_lib.c, a child process on CPU 1) moves the page to the other node
 * with move_pages(2). move_pages(2) cannot complete inside the opening
 * that woke it (it first waits for every CPU to leave its preemption-off
 * section: lru_cache_disable()); so migrate_freeze (phase "check", the
 * helper's migration, folio locked and unmapped) waits up to 20 ms for
 * this task's next lookup of the page to arrive at pagecache_pre_grab, and
 * the migration then completes while that lookup is held. When the window
 * closes, the lookup's speculative reference meets a folio migration froze
 * or freed: it must retry and find the new folio.
 * MMRACE_ADVERSARY_RENDEZVOUS=off leaves the rendezvous out (to measure).
 *
 * Invariant: a read never returns anything but the pattern (mutant 004
 * takes the frozen or freed folio for a hole: zeros).
 * Verdict: fails on a violation; passes only if a migration was reported
 * done while the window that posted it still held the lookup
 * (adversary_inside > 0) and the page moved; else SKIP with the numbers.
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

#define WINDOW "pagecache_pre_grab"
#define DELAY_US 5000
#define RENDEZVOUS_US 20000

static uint64_t pattern(size_t i)
{
	return 0x6d6d726163650000ULL | i;
}

int main(void)
{
	struct mmrace_adversary adv = { 0 };
	struct mmrace_stats s;
	unsigned long reads = 0, untargeted = 0;
	struct regress r;
	uint64_t *words;
	size_t psize, i;
	char *map;
	int fd;

	regress_init(&r, "adversary_migrate_vs_pagecache_lookup", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	words = malloc(psize);
	fd = memfd_create("mmrace-adv", 0);
	if (!words || fd < 0 || ftruncate(fd, psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (i = 0; i < psize / 8; i++)
		((uint64_t *)map)[i] = pattern(i);

	regress_arm(&r, WINDOW, "loaded", DELAY_US, REGRESS_PROCESS);
	regress_migrate_rendezvous(&r, WINDOW, RENDEZVOUS_US);
	regress_adversary(&r, WINDOW, "migrate", &adv);
	regress_exercise(&r, "migrations done while the lookup was held (adversary_inside)");

	regress_pin_cpu(0);
	while (regress_running(&r)) {
		/*
		 * The page moves: target it where it is now. While it is
		 * being migrated it is not mapped (EINVAL): the old target,
		 * the page migration holds, stays.
		 */
		if (r.armed && win_target(WINDOW, map))
			untargeted++;
		if (pread(fd, words, psize, 0) != (ssize_t)psize) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		reads++;
		regress_check_words(&r, words, psize / 8, pattern,
				    "a hole: the frozen or freed folio was taken for an absent one");
	}
	regress_adversary_stop(&r, WINDOW, &adv);
	ksft_print_msg("%lu reads (%lu with the previous target)\n", reads,
		       untargeted);
	/* A migration inside the window moved the page. */
	if (r.armed && !win_stats(WINDOW, &s) && adv.counts &&
	    adv.counts->moved)
		regress_exercised(&r, s.adversary_inside);
	regress_finish(&r, "a page-cache lookup never takes a migrated folio for a hole");
}
