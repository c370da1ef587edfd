// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001, class 1 (speculative page-cache references), path
 * filemap_get_entry(): read(2) of a tmpfs file (shmem_get_folio_gfp(), the
 * lookup of tmpfs reads, writes and faults, find_get_page() and mincore)
 * while the folio it loaded is punched out, freed and reused by the same
 * file at another index.
 *
 * A tmpfs file (memfd) of NPAGES pages, in cycles. B, a child process on
 * CPU 1 (outside the windows' pid filter), writes page 0 (folio X, pattern
 * naming page 0) and notes X's pfn through its own mapping. A, the test's
 * process on CPU 0, reads page 0 with pread(2): filemap_get_entry() loads X
 * from the xarray and, before its speculative reference, the
 * pagecache_pre_grab window (phase "loaded") holds it for REUSE_DELAY_US.
 * Meanwhile B punches page 0 out (X is freed to CPU 1's per-CPU list) and
 * writes page REUSE_PAGE, whose new folio is most often X again, and checks
 * that through its mapping (pagemap) and that A's window was still open.
 * Then B punches the whole file. With the windows off, B punches as soon as
 * A is about to read.
 *
 * shmem_get_folio_gfp() checks the returned folio's mapping under its lock,
 * not its index: only the lookup's re-check of the slot tells a folio
 * reused by the same file from the one that was in the slot.
 *
 * Invariant: read(2) returns the file's bytes: A reads page 0's pattern or
 * zeros (the hole), never page REUSE_PAGE's.
 * Verdict: fails on a violation; passes only if A's window was hit (X
 * changed under A's unreferenced pointer) and B saw X reused for page
 * REUSE_PAGE while that window was open at least once; else SKIP.
 * Mutant: 009-get-entry-no-slot-recheck.patch.
 * The cycle: reuse_lib.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "regress.h"
#include "reuse_lib.h"

#define NPAGES REUSE_NPAGES
#define INVARIANT "read(2) of tmpfs never returns a folio that left its slot"

static struct regress r;
static uint64_t *page;
static size_t psize;
static ssize_t n;

static uint64_t pattern(int i)
{
	return 0x6d6d724500000000ULL | (uint64_t)i;
}

static void a_lookup(void);
static bool a_check(void);

static struct reuse_test t = {
	.pattern = pattern,
	.a_lookup = a_lookup,
	.a_check = a_check,
};

static void a_lookup(void)
{
	n = pread(t.fd, page, psize, 0);
}

static bool a_check(void)
{
	size_t w;

	if (n != (ssize_t)psize) {
		regress_violation(&r, "pread of page 0: %zd (%s)", n,
				  strerror(errno));
		return false;
	}
	for (w = 0; w < psize / 8; w++) {
		if (page[w] == page[0] &&
		    (page[0] == pattern(0) || !page[0]))
			continue;
		regress_violation(&r, "page 0 read %#llx at word %zu: %s",
				  (unsigned long long)page[w], w,
				  page[w] == pattern(REUSE_PAGE) ?
				  "the folio reused for page 5 was returned for page 0" :
				  "foreign bytes");
		break;
	}
	return true;
}

int main(void)
{
	regress_init(&r, "get_entry_vs_punch_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	page = malloc(psize);
	if (!page)
		ksft_exit_fail_msg("malloc: %s\n", strerror(errno));
	t.fd = reuse_memfd("mmrace-getentry");
	regress_exercised(&r, reuse_run(&r, "loaded", &t));
	regress_finish(&r, INVARIANT);
}
