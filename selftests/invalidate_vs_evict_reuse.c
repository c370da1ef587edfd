// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 001, class 1 (speculative page-cache references), path
 * find_get_entry(): the gang lookup of invalidation (find_lock_entries()
 * under posix_fadvise(POSIX_FADV_DONTNEED), mapping_try_invalidate(); the
 * same lookup truncation and hole punching use) while the folio it loaded is
 * evicted, freed and reused by the same file at another index.
 *
 * The page cache of a zram block device (a real backing device: fadvise
 * invalidates, and reads allocate folios at any index without the inode
 * lock), in cycles. B, a child process on CPU 1 (outside the windows' pid
 * filter), with readahead off (POSIX_FADV_RANDOM), reads page 0 (folio X)
 * and notes X's pfn through its own mapping, then unmaps it. A, the test's
 * process on CPU 0, invalidates pages 0 to NPAGES - 1: find_lock_entries()
 * loads X from the xarray and, before its speculative reference, the
 * pagecache_pre_grab window (phase "gang") holds it for REUSE_DELAY_US.
 * Meanwhile B invalidates page 0 (X is freed to CPU 1's per-CPU list) and
 * reads page REUSE_PAGE, whose new folio is most often X again, and checks
 * that through its mapping and that A's window was still open.
 *
 * A lookup that returns X for index 0 meets find_lock_entries()'s
 * VM_BUG_ON_FOLIO(!folio_contains(folio, xas.xa_index)) (CONFIG_DEBUG_VM,
 * in this directory's config): the kernel log fails the run. Without
 * CONFIG_DEBUG_VM nothing shows here: invalidating X at its new index is
 * allowed. The test checks the device's bytes after each cycle all the same.
 *
 * Invariant: invalidation never meets a folio that left its slot (no
 * VM_BUG_ON), and pages read back the device's bytes.
 * Verdict: fails on a wrong read (or, through the runner, a kernel BUG);
 * passes only if B saw X reused for page REUSE_PAGE while A's window held it
 * at least once; else SKIP.
 * Mutant: 010-find-get-entry-no-slot-recheck.patch (the VM_BUG_ON, 5/5).
 * The cycle: reuse_lib.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"
#include "reuse_lib.h"

#define NPAGES REUSE_NPAGES
#define INVARIANT "invalidation never takes a folio that left its slot"

static struct regress r;
static char dev[32];
static uint64_t *buf;
static size_t psize, len;
static int fd = -1;

static uint64_t pattern(int i)
{
	return 0x6d6d724900000000ULL | (uint64_t)i;
}

/* B's own open file, with readahead off. */
static int b_open(void)
{
	int b_fd = open(dev, O_RDONLY);

	if (b_fd < 0 || posix_fadvise(b_fd, 0, 0, POSIX_FADV_RANDOM))
		return -1;
	return b_fd;
}

static void b_drop(int b_fd, off_t off, size_t size)
{
	posix_fadvise(b_fd, off, size, POSIX_FADV_DONTNEED);
}

static void b_load(int b_fd, int page)
{
	uint64_t word;

	pread(b_fd, &word, 8, page * psize);
}

static void a_lookup(void)
{
	posix_fadvise(fd, 0, len, POSIX_FADV_DONTNEED);
}

static bool a_check(void)
{
	size_t w;

	if (pread(fd, buf, len, 0) != (ssize_t)len) {
		regress_violation(&r, "pread: %s", strerror(errno));
		return false;
	}
	for (w = 0; w < len / 8; w++) {
		if (buf[w] == pattern(w * 8 / psize))
			continue;
		regress_violation(&r, "page %zu read %#llx after the invalidation",
				  w * 8 / psize,
				  (unsigned long long)buf[w]);
		break;
	}
	return true;
}

int main(void)
{
	const struct reuse_test t = {
		.b_open = b_open,
		.b_drop = b_drop,
		.b_load = b_load,
		.b_unmap = true,	/* unmapped, X can be evicted */
		.a_lookup = a_lookup,
		.a_check = a_check,
	};
	unsigned long reused;
	int id;

	regress_init(&r, "invalidate_vs_evict_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	fd = mmrace_zram_file(len * 4, NPAGES, pattern, &id, dev, sizeof(dev));
	buf = malloc(len);
	if (!buf)
		ksft_exit_fail_msg("malloc: %s\n", strerror(errno));
	reused = reuse_run(&r, "gang", &t);
	close(fd);
	mmrace_zram_remove(id);
	regress_exercised(&r, reused);
	regress_finish(&r, INVARIANT);
}
