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
 * pagecache_pre_grab window (phase "gang") holds it for DELAY_US.
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
 * Mutant: 010-find-get-entry-no-slot-recheck.patch. Not yet seen to catch
 * it (its header says what was measured), so not in the Makefile's
 * REGRESSION_TESTS: built, not run.
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
#define INVARIANT "invalidation never takes a folio that left its slot"

enum { PREPARE, READY, INVALIDATING, DONE };

/* Shared between A and B. */
struct shared {
	int state, stop;
	unsigned long reused, reused_in_window, cycles;
};

static struct regress r;
static struct shared *sh;
static char dev[32];
static size_t psize;

static uint64_t pattern(int i)
{
	return 0x6d6d724900000000ULL | (uint64_t)i;
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
	int fd = open(dev, O_RDONLY);
	unsigned long long before = 0, closed = 0, throttled = 0;
	uint64_t word, pfn0, pfn;
	struct mmrace_stats s;
	char *map;
	size_t w;

	regress_pin_cpu(1);
	if (fd < 0 || pagemap < 0 ||
	    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		_exit(1);
	map = mmap(NULL, NPAGES * psize, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		_exit(1);
	while (wait_state(PREPARE)) {
		posix_fadvise(fd, 0, NPAGES * psize, POSIX_FADV_DONTNEED);
		pread(fd, &word, 8, 0);
		pfn0 = pfn_of(pagemap, map);
		/* Unmapped, X can be evicted. */
		madvise(map, NPAGES * psize, MADV_DONTNEED);
		if (armed) {
			before = passed();
			if (!win_stats("pagecache_pre_grab", &s)) {
				closed = s.delayed;
				throttled = s.throttled;
			}
		}
		set_state(READY);
		if (!wait_state(INVALIDATING))
			break;
		/* Armed: until A's lookup holds X (at most 100 ms). */
		for (w = 0; armed && passed() == before && w < 1000; w++)
			usleep(100);
		posix_fadvise(fd, 0, psize, POSIX_FADV_DONTNEED);
		pread(fd, &word, 8, REUSE_PAGE * psize);
		pfn = pfn_of(pagemap, map + REUSE_PAGE * psize);
		madvise(map, NPAGES * psize, MADV_DONTNEED);
		if (pfn && pfn == pfn0) {
			sh->reused++;
			/*
			 * A's lookup passed the filters, opened a window (was
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

/* A fresh zram device of @len bytes: its number, or -1. */
static int zram_add(size_t len)
{
	char buf[64], path[64];
	int id;

	if (mmrace_read("/sys/class/zram-control/hot_add", buf, sizeof(buf)) <= 0)
		return -1;
	id = atoi(buf);
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", id);
	snprintf(buf, sizeof(buf), "%zu", len);
	if (mmrace_write(path, buf))
		return -1;
	return id;
}

static void zram_remove(int id)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", id);
	mmrace_write("/sys/class/zram-control/hot_remove", buf);
}

int main(void)
{
	size_t len, w;
	uint64_t *buf;
	int fd = -1, id, i, tries;
	int status;
	pid_t pid;

	regress_init(&r, "invalidate_vs_evict_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	id = zram_add(len * 4);
	if (id < 0)
		ksft_exit_skip("no zram device (CONFIG_ZRAM, zram-control)\n");
	snprintf(dev, sizeof(dev), "/dev/zram%d", id);
	for (tries = 0; tries < 100 && fd < 0; tries++) {
		fd = open(dev, O_RDWR);
		if (fd < 0)
			usleep(10000);
	}
	buf = malloc(len);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || !buf || sh == MAP_FAILED)
		ksft_exit_fail_msg("%s: %s\n", dev, strerror(errno));
	for (i = 0; i < NPAGES; i++)
		for (w = 0; w < psize / 8; w++)
			buf[i * psize / 8 + w] = pattern(i);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd))
		ksft_exit_fail_msg("write %s: %s\n", dev, strerror(errno));
	regress_pin_cpu(0);
	regress_arm(&r, "pagecache_pre_grab", "gang", DELAY_US,
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
		set_state(INVALIDATING);
		posix_fadvise(fd, 0, len, POSIX_FADV_DONTNEED);
		if (!wait_state(DONE))
			break;
		if (pread(fd, buf, len, 0) != (ssize_t)len) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		for (w = 0; w < len / 8; w++) {
			if (buf[w] == pattern(w * 8 / psize))
				continue;
			regress_violation(&r, "page %zu read %#llx after the invalidation",
					  w * 8 / psize,
					  (unsigned long long)buf[w]);
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
	close(fd);
	zram_remove(id);
	regress_exercised(&r, sh->reused_in_window);
	regress_finish(&r, INVARIANT);
}
