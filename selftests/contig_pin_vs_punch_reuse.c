// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001, class 1 (speculative page-cache references), path
 * filemap_get_folios_contig(): a long-term pin of a memfd page by
 * memfd_pin_folios() (what udmabuf takes) while the folio its lookup
 * loaded is punched out, freed and reused by the same file at another
 * index.
 *
 * The test kernel builds no caller of memfd_pin_folios() (udmabuf) nor any
 * other of filemap_get_folios_contig() (nilfs2), so the pin is the module's
 * scenario memfd_pin (typestate/run: "memfd_pin fd=N iterations=1"), run in
 * this process: it pins page 0 of the memfd, notes the page's first word
 * and unpins it.
 *
 * A tmpfs file (memfd) of NPAGES pages, in cycles (reuse_lib.h). B, a
 * child process on CPU 1 (outside the windows' pid filter), writes page 0
 * (folio X, pattern naming page 0) and notes X's pfn through its own
 * mapping. A, the test's process on CPU 0, pins page 0:
 * filemap_get_folios_contig() loads X from the xarray and, before its
 * speculative reference, the pagecache_pre_grab window (phase "contig")
 * holds it for REUSE_DELAY_US. Meanwhile B punches page 0 out (X is freed
 * to CPU 1's per-CPU list) and writes page REUSE_PAGE, whose new folio is
 * most often X again, and checks that through its mapping (pagemap) and
 * that A's window was still open. With the windows off, B punches as soon
 * as A is about to pin.
 *
 * memfd_pin_folios() takes the first folio the lookup returns whatever its
 * index: only the lookup's re-check of the slot tells a folio reused by
 * the same file from the one that was in the slot.
 *
 * Invariant: the pinned page is the file's page 0: its first word is page
 * 0's pattern or zero (the hole, filled by the pin), never page
 * REUSE_PAGE's.
 * Verdict: fails on a violation; passes only if A's window was hit and B
 * saw X reused for page REUSE_PAGE while that window was open at least
 * once; else SKIP.
 * Mutant: 011-folios-contig-no-slot-recheck.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"
#include "reuse_lib.h"

#define INVARIANT "memfd_pin_folios() never pins a folio that left its slot"

static struct regress r;
static uint64_t word;
static int ret;

static uint64_t pattern(int i)
{
	return 0x6d6d725000000000ULL | (uint64_t)i;
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
	static char report[4096];
	char cmd[64];
	const char *w;

	snprintf(cmd, sizeof(cmd), "memfd_pin fd=%d iterations=1", t.fd);
	ret = mmrace_scenario(cmd, report, sizeof(report));
	w = ret ? NULL : strstr(report, "# word ");
	if (!ret && (!w || sscanf(w, "# word %llx",
				  (unsigned long long *)&word) != 1))
		ret = -EPROTO;
}

static bool a_check(void)
{
	if (ret) {
		regress_violation(&r, "memfd_pin of page 0: %s", strerror(-ret));
		return false;
	}
	if (word == pattern(0) || !word)
		return true;
	regress_violation(&r, "the pin of page 0 read %#llx: %s",
			  (unsigned long long)word,
			  word == pattern(REUSE_PAGE) ?
			  "the folio reused for page 5 was pinned for page 0" :
			  "foreign bytes");
	return true;
}

int main(void)
{
	regress_init(&r, "contig_pin_vs_punch_reuse", 10);
	t.fd = reuse_memfd("mmrace-contig");
	regress_exercised(&r, reuse_run(&r, "contig", &t));
	regress_finish(&r, INVARIANT);
}
