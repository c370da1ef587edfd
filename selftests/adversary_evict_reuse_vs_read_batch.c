// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001 with one task: batched read(2) lookups of a page that an
 * adversary evicts and the module allocates again ("evict+reuse") while
 * the lookup holds the folio pointer without a reference.
 *
 * One task reads one page of a zram block device (filled with a pattern,
 * mapped only to target it, then unmapped) with pread(2), in a loop, on
 * CPU 0; it runs no second thread and no helper. The pagecache_pre_grab window
 * (phase "loaded", here filemap_get_read_batch(): the folio pointer
 * loaded, no reference yet), filtered to this process and targeted at the
 * page, holds each lookup for DELAY_US and posts an "evict+reuse" job: the
 * module's worker (on the other CPU) drops the page as POSIX_FADV_DONTNEED
 * does (invalidate_mapping_pages() of its index), then allocates that very
 * page again on its CPU, fills it with "mmreuse!" words, marks it uptodate
 * and holds it until the window has closed. The
 * lookup's speculative reference then succeeds on a page that is no longer
 * the file's: it must see the slot changed and retry.
 *
 * Invariant: a read never returns anything but the pattern (mutant 006
 * uses the reused page: "mmreuse!" words).
 * Verdict: fails on a violation; passes only if an eviction was done while
 * the window held the lookup (adversary_inside > 0) and the page was
 * allocated again (adversary_reused, counted as exercised); else SKIP.
 * Mutant: 006-read-batch-no-slot-recheck.patch.
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
#define DELAY_US 5000
#define REUSE_WORD 0x2165737565726d6dULL

static uint64_t pattern(int page)
{
	return 0x7265616462617400ULL | page;
}

int main(void)
{
	unsigned long reads = 0, untargeted = 0;
	char buf[256], dev[64], *map, *drain;
	struct mmrace_stats s;
	struct regress r;
	uint64_t *words;
	size_t psize, i;
	int fd, id, ret;

	regress_init(&r, "adversary_evict_reuse_vs_read_batch", 10);
	regress_pin_cpu(0);
	psize = sysconf(_SC_PAGESIZE);
	words = malloc(psize);
	if (!words)
		ksft_exit_fail_msg("malloc\n");
	fd = mmrace_zram_file(1 << 20, 1, pattern, &id, dev, sizeof(dev));
	mmrace_map_with_drain(fd, psize, &map, &drain);

	regress_arm(&r, WINDOW, "loaded", DELAY_US, REGRESS_PROCESS);
	if (r.armed) {
		ret = win_set(WINDOW, "adversary", "evict+reuse");
		if (ret)
			ksft_exit_fail_msg("adversary: %s\n", strerror(-ret));
	}
	regress_exercise(&r, "evicted pages allocated again under the held lookup (adversary_reused)");

	while (regress_running(&r)) {
		/* Mapped for target to find it, unmapped so it can go. */
		if (__atomic_load_n((uint64_t *)map, __ATOMIC_RELAXED) ==
		    pattern(0) && r.armed &&
		    win_target(WINDOW, map))
			untargeted++;
		madvise(map, psize, MADV_DONTNEED);
		madvise(drain, psize, MADV_COLD);
		memset(words, 0, psize);
		if (pread(fd, words, psize, 0) != (ssize_t)psize) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		reads++;
		for (i = 0; i < psize / 8; i++) {
			if (words[i] == pattern(0))
				continue;
			regress_violation(&r, "word %zu read %#llx, expected %#llx: %s",
					  i, (unsigned long long)words[i],
					  (unsigned long long)pattern(0),
					  words[i] == REUSE_WORD ?
					  "the page the module allocated again: a freed folio used" :
					  "wrong data");
			break;
		}
	}
	ksft_print_msg("%lu reads (%lu with the previous target)\n", reads,
		       untargeted);
	if (r.armed && !win_stats(WINDOW, &s)) {
		ksft_print_msg("%s adversary: %s\n", WINDOW,
			       win_adversary_str(&s, buf, sizeof(buf)));
		if (s.adversary_inside)
			regress_exercised(&r, s.adversary_reused);
	}
	munmap(map, psize);
	close(fd);
	mmrace_zram_remove(id);
	regress_finish(&r, "a batched read never uses a folio freed and reused under it");
}
