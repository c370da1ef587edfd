// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001 with one task: a speculative page-cache reference taken on a
 * large folio that migration freed and the module allocated again as a
 * high-order block without __GFP_COMP, held while the block is freed.
 *
 * One task reads the first page of a 2 MiB memfd (shmem) backed by one THP
 * (shmem_enabled "advise" for the test, MADV_HUGEPAGE), with pread(2), in
 * a loop, on CPU 0; it runs no second thread. The pagecache_pre_grab
 * window (phase "loaded", here filemap_get_entry(): the folio pointer
 * loaded, no reference yet), filtered to this process and targeted at the
 * page, holds each lookup for DELAY_US and posts a "migrate+reuse" job:
 * the adversary helper (mmrace_lib.c, a child process on CPU 1) moves the
 * THP to the other node with move_pages(2) (migrate_freeze, phase
 * "check", holds the migration until this task's next lookup is held, as
 * in adversary_migrate_vs_pagecache_lookup); in its "done" the module
 * allocates the freed THP's pages again, on the helper's CPU, as an
 * order-9 block without __GFP_COMP whose first page is the folio the held
 * lookup loaded, fills that page with "mmreuse!" words, holds the block
 * until the window has closed (100 us after), and frees it with
 * __free_pages(). Meanwhile the released lookup's folio_try_get() succeeds
 * on the block's first page, and pagecache_post_grab holds it there for
 * HELD_US, so the block is freed under that speculative reference: the
 * seed-001 interleaving (adversary_reused counts exactly these frees). The
 * kernel must still free the block's other 511 pages at once, and the
 * lookup's put the first.
 *
 * Invariant: no page is lost (free pages, MemFree plus the per-CPU lists
 * of /proc/zoneinfo, do not fall by more than NOISE_KB, plus generic
 * KASAN's quarantine, plus a quarter of a block per such free); a read
 * never returns anything but the pattern.
 * Mutant 001 loses 511 pages (2044 kB) per such free.
 * Verdict: fails on a violation; passes only if enough blocks were freed
 * under the held lookup's reference (adversary_reused) for their lost
 * tails to exceed the limit by a block (5, or more under KASAN's
 * quarantine: with fewer, a kernel that loses them could pass as well;
 * seen on mutant 001 with one); else SKIP.
 * Mutant: 001-free-pages-leak-non-compound-tail.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"
#include "regress.h"

#define WINDOW "pagecache_pre_grab"
#define HELD "pagecache_post_grab"
#define DELAY_US 5000
#define HELD_US 500
#define RENDEZVOUS_US 20000
#define PAUSE_US 3000
/* Reads between two checks of free memory (about one a second). */
#define CHECK_READS 100
#define BLOCK_KB 2048
/* Other allocations between the two counts (helper, page tables, logs). */
#define NOISE_KB 4096

static long noise_kb = NOISE_KB;

static uint64_t pattern(size_t i)
{
	return 0x73686d656d000000ULL | i;
}

/* Free memory in kB: MemFree and the per-CPU lists (/proc/zoneinfo). */
static long free_kb(void)
{
	long kb = mmrace_meminfo_kb("MemFree");

	return kb < 0 ? -1 : kb + mmrace_pcp_free_kb();
}

/*
 * Fails the test if free memory fell by more than the noise plus a quarter
 * of a block per block freed under a speculative reference so far.
 */
static void check_lost(struct regress *r, long before,
		       const struct mmrace_stats *s, bool final)
{
	long after = free_kb(), lost = before - after;
	long limit = noise_kb + (long)s->adversary_reused * BLOCK_KB / 4;

	if (before < 0 || after < 0)
		ksft_exit_fail_msg("cannot read /proc/meminfo or /proc/zoneinfo\n");
	if (s->adversary_reused && lost > limit)
		regress_violation(r, "%ld kB of free memory lost (limit %ld kB) after %llu blocks freed under a speculative reference: their tails leaked",
				  lost, limit,
				  (unsigned long long)s->adversary_reused);
	else if (final)
		ksft_print_msg("free memory %ld kB before, %ld kB now: %ld kB fewer (limit %ld kB; a lost block tail is %d kB)\n",
			       before, after, lost, limit, BLOCK_KB - 4);
}

/*
 * The fewest blocks freed under a speculative reference whose lost tails
 * (BLOCK_KB - 4 each) exceed check_lost()'s limit by a block at least
 * (room for the helper's exit, which frees memory before the last check).
 */
static unsigned long long min_reused(void)
{
	unsigned long long n = 1;

	while ((long)n * (BLOCK_KB - 4) <
	       noise_kb + (long)n * BLOCK_KB / 4 + BLOCK_KB)
		n++;
	return n;
}

int main(void)
{
	static const char *const pmd[] = { "ShmemPmdMapped", NULL };
	struct mmrace_adversary adv = { 0 };
	unsigned long reads = 0, untargeted = 0, moved, last_moved = 0;
	static char exercise[160];
	unsigned long long need;
	long before, quarantine_kb;
	struct mmrace_stats s = { 0 };
	struct regress r;
	uint64_t *words;
	char *res, *map;
	size_t psize, i;
	int fd;

	regress_init(&r, "adversary_migrate_reuse_vs_shmem_lookup", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	mmrace_shmem_thp_advise();
	psize = sysconf(_SC_PAGESIZE);
	words = malloc(psize);
	fd = memfd_create("mmrace-adv-thp", 0);
	if (!words || fd < 0 || ftruncate(fd, THP_SIZE))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	res = mmap(NULL, 2 * THP_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	map = (char *)(((unsigned long)res + THP_SIZE - 1) & ~(THP_SIZE - 1));
	map = mmap(map, THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, fd, 0);
	if (map == MAP_FAILED || madvise(map, THP_SIZE, MADV_HUGEPAGE))
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (i = 0; i < psize / 8; i++)
		((uint64_t *)map)[i] = pattern(i);
	if (smaps_kb(map, pmd) < THP_SIZE >> 10)
		ksft_exit_skip("the memfd is not backed by a PMD-mapped THP\n");

	regress_arm(&r, WINDOW, "loaded", DELAY_US, REGRESS_PROCESS);
	regress_arm(&r, HELD, NULL, HELD_US, REGRESS_PROCESS);
	regress_migrate_rendezvous(&r, WINDOW, RENDEZVOUS_US);
	regress_adversary(&r, WINDOW, "migrate+reuse", &adv);

	regress_pin_cpu(0);
	/* Generic KASAN holds freed objects back: they count as used. */
	quarantine_kb = mmrace_kasan_quarantine_cap_kb();
	if (quarantine_kb) {
		noise_kb += quarantine_kb;
		ksft_print_msg("generic KASAN: up to %ld kB of freed objects wait in its quarantine; free memory may fall by %ld kB\n",
			       quarantine_kb, noise_kb);
	}
	need = min_reused();
	snprintf(exercise, sizeof(exercise),
		 "blocks freed under the held lookup's reference (adversary_reused), counted from %llu on (fewer would leak less than the check's noise)",
		 need);
	regress_exercise(&r, exercise);
	before = free_kb();
	while (regress_running(&r)) {
		/*
		 * The THP moved: target it where it is now. Only then: a
		 * write to "target" waits for an RCU grace period, which the
		 * rendezvous on the helper's CPU would hold up to its timeout.
		 */
		moved = adv.counts ? adv.counts->moved : 0;
		if (r.armed && (!reads || moved != last_moved) &&
		    (win_target(WINDOW, map) || win_target(HELD, map)))
			untargeted++;
		last_moved = moved;
		if (pread(fd, words, psize, 0) != (ssize_t)psize) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		reads++;
		regress_check_words(&r, words, psize / 8, pattern,
				    "a hole: a freed folio was taken for an absent one");
		/*
		 * Not every read held: the delay budget (500 ms a second)
		 * must leave room for the rendezvous and the held reference.
		 */
		usleep(PAUSE_US);
		if (r.armed && reads % CHECK_READS == 0 &&
		    !win_stats(WINDOW, &s) && !r.violated)
			check_lost(&r, before, &s, false);
	}
	regress_adversary_stop(&r, WINDOW, &adv);
	if (r.armed && win_stats(WINDOW, &s))
		memset(&s, 0, sizeof(s));
	/* Let the helper's exit and the last frees settle. */
	usleep(200000);
	if (!r.violated)
		check_lost(&r, before, &s, true);
	ksft_print_msg("%lu reads (%lu with the previous target); %s still PMD-mapped\n",
		       reads, untargeted,
		       smaps_kb(map, pmd) >= THP_SIZE >> 10 ? "THP" : "not");
	if (s.adversary_inside && s.adversary_reused >= need)
		regress_exercised(&r, s.adversary_reused);
	else if (s.adversary_reused && s.adversary_reused < need)
		ksft_print_msg("%llu blocks freed under the held reference: fewer than the %llu whose lost tails the free-memory check could tell from its noise\n",
			       (unsigned long long)s.adversary_reused, need);
	munmap(map, THP_SIZE);
	close(fd);
	regress_finish(&r, "a block freed under a speculative reference is freed whole");
}
