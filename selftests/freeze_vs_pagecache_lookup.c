// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004: page-cache lookups against a folio whose refcount migration has
 * frozen.
 *
 * A tmpfs file of NPAGES pages, each filled with a pattern naming its index.
 * Side B (CPU 1) migrates the file's pages between two nodes with
 * move_pages(2); the migrate_freeze window (phase "frozen") holds each
 * folio frozen, refcount 0 under the xarray lock, for a while. Side A (CPU
 * 0) reads the pages with pread(2): its lookup finds the frozen folio, must
 * fail to take a reference and retry until migration unfreezes it, then read
 * the pattern.
 *
 * Invariant: a read never returns anything but the pattern (a frozen folio
 * is neither returned nor mistaken for a hole), and no VM_BUG_ON fires (the
 * runner scans the kernel log).
 * Verdict: fails on a violation; passes only if this process's reader
 * arrived at least once at a folio this process's migration held frozen
 * (migrate_freeze's hits, both windows filtered by pid); else SKIP.
 * Mutant: 004-pagecache-lookup-frozen-as-absent.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define NPAGES 16

static struct regress r;
static int fd;
static char *map;
static size_t psize;
static unsigned long reads, moved, not_moved;

static uint64_t pattern(int i)
{
	return 0x6d6d726163650000ULL | (uint64_t)i;
}

static void *migrator(void *arg)
{
	(void)arg;
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES], node = 1, i;

	regress_pin_cpu(1);
	for (i = 0; i < NPAGES; i++)
		pages[i] = map + i * psize;
	while (regress_running(&r)) {
		for (i = 0; i < NPAGES; i++)
			nodes[i] = node;
		if (syscall(SYS_move_pages, 0, NPAGES, pages, nodes, status,
			    MPOL_MF_MOVE) < 0) {
			not_moved += NPAGES;
		} else {
			for (i = 0; i < NPAGES; i++) {
				if (status[i] == node)
					moved++;
				else
					not_moved++;
			}
		}
		node = !node;
	}
	return NULL;
}

int main(void)
{
	struct mmrace_stats frozen;
	uint64_t words[2];
	pthread_t t;
	int i;

	regress_init(&r, "freeze_vs_pagecache_lookup", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	fd = memfd_create("mmrace-004", 0);
	if (fd < 0 || ftruncate(fd, NPAGES * psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, NPAGES * psize, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		char *p = map + i * psize;

		memset(p, 0x5a, psize);
		*(uint64_t *)p = pattern(i);
		*(uint64_t *)(p + psize - 8) = pattern(i);
	}
	/*
	 * The reader's lookups arriving at a frozen folio change nothing on
	 * it: a zero-length pagecache_pre_grab window marks each arrival, and
	 * an arrival on the page migrate_freeze holds open is its hit.
	 */
	regress_arm(&r, "migrate_freeze", "frozen", 500, REGRESS_PROCESS);
	regress_arm(&r, "pagecache_pre_grab", NULL, 0, REGRESS_PROCESS);
	regress_exercise(&r, "lookups that met a frozen folio");

	pthread_create(&t, NULL, migrator, NULL);
	regress_pin_cpu(0);
	for (i = 0; regress_running(&r); i = (i + 1) % NPAGES) {
		off_t off = (off_t)i * psize;

		if (pread(fd, &words[0], 8, off) != 8 ||
		    pread(fd, &words[1], 8, off + psize - 8) != 8) {
			regress_violation(&r, "pread of page %d: %s", i,
					  strerror(errno));
			break;
		}
		reads++;
		if (words[0] != pattern(i) || words[1] != pattern(i))
			regress_violation(&r,
					  "page %d read %#llx/%#llx, expected %#llx: %s",
					  i, (unsigned long long)words[0],
					  (unsigned long long)words[1],
					  (unsigned long long)pattern(i),
					  words[0] || words[1] ?
					  "wrong data" :
					  "a hole: the frozen folio was taken for a freed one");
	}
	pthread_join(t, NULL);
	ksft_print_msg("%lu reads; pages moved %lu times, not moved %lu times\n",
		       reads, moved, not_moved);
	/* An arrival of the reader on the page held frozen is a hit. */
	if (r.armed && !win_stats("migrate_freeze", &frozen))
		regress_exercised(&r, frozen.hits);
	regress_finish(&r, "a frozen page-cache folio is never returned nor taken for a hole");
}
