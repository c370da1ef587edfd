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
 * returning to next_uptodate_folio()) holds it for DELAY_US. Meanwhile B
 * punches page 0 out (X is freed to CPU 1's per-CPU list) and writes page
 * REUSE_PAGE, whose new folio is most often X again, and checks that
 * through its mapping (pagemap) and that A's window was still open. Then
 * B punches the whole file, which also unmaps A's pages. With the windows
 * off, B punches as soon as A is about to fault.
 *
 * Invariant: a fault maps the file's bytes: A reads page 0's pattern or
 * zeros (the hole), never page REUSE_PAGE's (a folio that left its slot is
 * dropped by the re-check, not mapped at the slot it was loaded from).
 * Verdict: fails on a violation; passes only if A's window was hit (X
 * changed under A's unreferenced pointer) and B saw X reused for page
 * REUSE_PAGE while that window was open at least once; else SKIP.
 * Mutant: 008-map-pages-no-slot-recheck.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#define INVARIANT "a fault never maps a folio that left its slot"

enum { PREPARE, READY, FAULTING, DONE };

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
	return 0x6d6d724600000000ULL | (uint64_t)i;
}

static void set_state(int s)
{
	__atomic_store_n(&sh->state, s, __ATOMIC_RELEASE);
}

/* Waits for @s; false if told to stop. */
static bool wait_state(int s)
{
	while (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) != s)
		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
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
	uint64_t buf[512], pfn0, pfn;
	unsigned long long before = 0, closed = 0, throttled = 0;
	struct mmrace_stats s;
	char *map;
	size_t w;

	regress_pin_cpu(1);
	map = mmap(NULL, NPAGES * psize, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || pagemap < 0)
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
		if (!wait_state(FAULTING))
			break;
		/* Armed: until A's fault-around holds X (at most 100 ms). */
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
			 * A's fault passed the filters, opened a window (was
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
	uint64_t *map;
	uint64_t v;
	pid_t pid;

	regress_init(&r, "fault_around_vs_punch_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	fd = memfd_create("mmrace-faultaround", 0);
	if (fd < 0 || ftruncate(fd, NPAGES * psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, NPAGES * psize, PROT_READ, MAP_SHARED, fd, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_pin_cpu(0);
	regress_arm(&r, "pagecache_pre_grab", "map", DELAY_US, REGRESS_PROCESS);
	regress_exercise(&r, "reuses of A's loaded folio for another index while A's window held it");

	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid)
		side_b(r.armed);
	set_state(PREPARE);
	while (regress_running(&r)) {
		if (!wait_state(READY))
			break;
		set_state(FAULTING);
		v = __atomic_load_n(&map[0], __ATOMIC_RELAXED);
		if (!wait_state(DONE))
			break;
		if (v != pattern(0) && v)
			regress_violation(&r, "page 0 read %#llx: %s",
					  (unsigned long long)v,
					  v == pattern(REUSE_PAGE) ?
					  "the folio reused for page 5 was mapped at page 0" :
					  "foreign bytes");
		set_state(PREPARE);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, NULL, 0);
	ksft_print_msg("%lu cycles; page 0's folio reused for page %d %lu times, %lu of them while A's window held it\n",
		       sh->cycles, REUSE_PAGE, sh->reused,
		       sh->reused_in_window);
	regress_exercised(&r, sh->reused_in_window);
	regress_finish(&r, INVARIANT);
}
