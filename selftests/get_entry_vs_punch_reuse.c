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
 * pagecache_pre_grab window (phase "loaded") holds it for DELAY_US.
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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#define NPAGES 16
#define REUSE_PAGE 5
#define DELAY_US 5000
#define INVARIANT "read(2) of tmpfs never returns a folio that left its slot"

enum { PREPARE, READY, READING, DONE };

/* Shared between A and B. */
struct shared {
	int state, stop;
	unsigned long reused, reused_in_window, cycles;
};

static struct regress r;
static struct shared *sh;
static int fd;
static size_t psize;

static uint64_t pattern(int i)
{
	return 0x6d6d724500000000ULL | (uint64_t)i;
}

static void set_state(int s)
{
	__atomic_store_n(&sh->state, s, __ATOMIC_RELEASE);
}

/* Waits for @s; false if told to stop or past the cap (the other side died). */
static bool wait_state(int s)
{
	while (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) != s)
		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) ||
		    regress_elapsed(&r) > r.cap_s + 5)
			return false;
	return true;
}

/* The pfn mapped at @p in this process (touching it first), or 0. */
static uint64_t pfn_of(int pagemap, const char *p)
{
	uint64_t e;

	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	if (pread(pagemap, &e, 8, (uintptr_t)p / psize * 8) != 8 ||
	    !(e >> 63))
		return 0;
	return e & ((1ULL << 55) - 1);
}

/* Windows that passed the filters (opened or throttled) so far. */
static unsigned long long passed(void)
{
	struct mmrace_stats s;

	if (win_stats("pagecache_pre_grab", &s))
		return 0;
	return s.entered - s.filtered_out;
}

static void side_b(bool armed)
{
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	unsigned long long before = 0, closed = 0, throttled = 0;
	uint64_t buf[512], pfn0, pfn;
	struct mmrace_stats s;
	char *map;
	size_t w;

	regress_pin_cpu(1);
	map = mmap(NULL, NPAGES * psize, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || pagemap < 0 || psize > sizeof(buf))
		_exit(1);
	while (wait_state(PREPARE)) {
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			  NPAGES * psize);
		for (w = 0; w < psize / 8; w++)
			buf[w] = pattern(0);
		pwrite(fd, buf, psize, 0);
		pfn0 = pfn_of(pagemap, map);
		if (armed) {
			before = passed();
			if (!win_stats("pagecache_pre_grab", &s)) {
				closed = s.delayed;
				throttled = s.throttled;
			}
		}
		set_state(READY);
		if (!wait_state(READING))
			break;
		/* Armed: until A's lookup holds X (at most 100 ms). */
		for (w = 0; armed && passed() == before && w < 1000; w++)
			usleep(100);
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			  psize);
		for (w = 0; w < psize / 8; w++)
			buf[w] = pattern(REUSE_PAGE);
		pwrite(fd, buf, psize, REUSE_PAGE * psize);
		pfn = pfn_of(pagemap, map + REUSE_PAGE * psize);
		if (pfn && pfn == pfn0) {
			sh->reused++;
			/*
			 * A's read passed the filters, opened a window (was
			 * not throttled) and no window has closed since: A's
			 * still held X.
			 */
			if (armed && passed() > before &&
			    !win_stats("pagecache_pre_grab", &s) &&
			    s.throttled == throttled && s.delayed == closed)
				sh->reused_in_window++;
		}
		sh->cycles++;
		set_state(DONE);
	}
	_exit(0);
}

int main(void)
{
	uint64_t *page;
	size_t w;
	ssize_t n;
	int status;
	pid_t pid;

	regress_init(&r, "get_entry_vs_punch_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	page = malloc(psize);
	fd = memfd_create("mmrace-getentry", 0);
	if (!page || fd < 0 || ftruncate(fd, NPAGES * psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_pin_cpu(0);
	regress_arm(&r, "pagecache_pre_grab", "loaded", DELAY_US,
		    REGRESS_PROCESS);
	regress_exercise(&r, "reuses of A's loaded folio for another index while A's window held it");

	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid)
		side_b(r.armed);
	/* The state starts at PREPARE (zeroed): B may already be past it. */
	while (regress_running(&r)) {
		if (!wait_state(READY))
			break;
		set_state(READING);
		n = pread(fd, page, psize, 0);
		if (!wait_state(DONE))
			break;
		if (n != (ssize_t)psize) {
			regress_violation(&r, "pread of page 0: %zd (%s)", n,
					  strerror(errno));
			break;
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
		set_state(PREPARE);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ksft_print_msg("B ended with %s %d\n",
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       WTERMSIG(status));
	ksft_print_msg("%lu cycles; page 0's folio reused for page %d %lu times, %lu of them while A's window held it\n",
		       sh->cycles, REUSE_PAGE, sh->reused,
		       sh->reused_in_window);
	regress_exercised(&r, sh->reused_in_window);
	regress_finish(&r, INVARIANT);
}
