// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001, class 1 (speculative page-cache references), path
 * next_uptodate_folio(): fault-around (filemap_map_pages()) mapping a
 * tmpfs file's folios into a process while one of them is punched out,
 * freed and reused by the same file at another index.
 *
 * A tmpfs file (memfd) of NPAGES pages, in cycles. B, a child process on
 * CPU 1 (outside the windows' pid filter), writes page 0 (folio X, pattern
 * naming page 0) and notes X's pfn through its own mapping. A, the test's
 * process on CPU 0, reads page 0 through a read-only mapping: the read
 * fault's fault-around loads X from the xarray and, before its speculative
 * reference, the pagecache_pre_grab window (phase "map": xas_find()
 * returning to next_uptodate_folio()) holds it for REUSE_DELAY_US.
 * Meanwhile B punches page 0 out (X is freed to CPU 1's per-CPU list) and
 * writes page REUSE_PAGE, whose new folio is most often X again, and checks
 * that through its mapping (pagemap) and that A's window was still open.
 * Then B punches the whole file, which also unmaps A's pages. With the
 * windows off, B punches as soon as A is about to fault.
 *
 * Invariant: a fault maps the file's bytes: A reads page 0's pattern or
 * zeros (the hole), never page REUSE_PAGE's (a folio that left its slot is
 * dropped by the re-check, not mapped at the slot it was loaded from).
 * Verdict: fails on a violation; passes only if A's window was hit (X
 * changed under A's unreferenced pointer) and B saw X reused for page
 * REUSE_PAGE while that window was open at least once; else SKIP.
 * Mutant: 008-map-pages-no-slot-recheck.patch.
 * The cycle: reuse_lib.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "regress.h"
#include "reuse_lib.h"

#define NPAGES REUSE_NPAGES
#define INVARIANT "a fault never maps a folio that left its slot"

static struct regress r;
static uint64_t *map;
static uint64_t v;

static uint64_t pattern(int i)
{
	return 0x6d6d724600000000ULL | (uint64_t)i;
}

/* A read fault on page 0: fault-around maps the file's pages. */
static void a_lookup(void)
{
	v = __atomic_load_n(&map[0], __ATOMIC_RELAXED);
}

static bool a_check(void)
{
	if (v != pattern(0) && v)
		regress_violation(&r, "page 0 read %#llx: %s",
				  (unsigned long long)v,
				  v == pattern(REUSE_PAGE) ?
				  "the folio reused for page 5 was mapped at page 0" :
				  "foreign bytes");
	return true;
}

static struct reuse_test t = {
	.pattern = pattern,
	.a_lookup = a_lookup,
	.a_check = a_check,
};

int main(void)
{
	regress_init(&r, "fault_around_vs_punch_reuse", 10);
	t.fd = reuse_memfd("mmrace-faultaround");
	map = mmap(NULL, NPAGES * sysconf(_SC_PAGESIZE), PROT_READ,
		   MAP_SHARED, t.fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_exercised(&r, reuse_run(&r, "map", &t));
	regress_finish(&r, INVARIANT);
}
