// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004, class 1 (speculative page-cache references), path
 * find_get_entry(): the gang lookups of truncation (find_lock_entries(),
 * find_get_entries()) against a folio whose refcount migration has frozen.
 *
 * A tmpfs file (memfd), in cycles. Side A (CPU 0) writes a pattern into
 * pages 1 to NPAGES - 1, maps page 1 by reading it through its mapping, and
 * lets side B go: B, a child process on CPU 1, migrates A's page 1 to the
 * other node with move_pages(2) on A's pid. The migrate_freeze window (phase
 * "frozen", filtered to the test's process tree) holds the folio frozen,
 * refcount 0, for DELAY_US. With the windows armed, A waits until the
 * window's counter shows the freeze (with them off it punches at once),
 * then punches a hole over pages 0 to FILE_PAGES - 1 (fallocate(PUNCH_HOLE):
 * shmem_undo_range()) and reads the file back.
 *
 * The layout lets the punch reach the frozen folio while it is frozen:
 * - page 1 is the first folio of the hole, pages 0 and FILE_PAGES - 1 are
 *   holes: both passes of shmem_undo_range(), find_lock_entries() then
 *   find_get_entries(), meet the frozen folio first, truncate nothing
 *   before it (truncation takes the xarray lock the frozen folio's
 *   migration holds) and no partially covered folio makes the punch wait
 *   for a folio lock;
 * - the migration runs in another mm than the one mapping the page: the
 *   punch's unmap flushes the TLB of A's mm, which async migration left
 *   with a batched flush pending (flush_tlb_batched_pending()); had B been
 *   a thread of A's process, that flush would be an IPI to B's CPU, which
 *   waits out the window with interrupts off, and the punch would always
 *   arrive after it.
 *
 * A's hole punches run with the page_ref_mod_unless trace event on, filtered
 * to A's failed references (ret == 0): each is a lookup of the punch that
 * met a frozen (or just freed) folio, the interleaving this test is about.
 * That count, not a window hit, decides PASS (at least one) or SKIP (none):
 * a failed reference changes nothing the frozen window watches.
 *
 * Invariant: after the punch, the range reads as zeros: a folio the
 * truncation's lookup cannot reference is waited for, not taken for the
 * end of the file.
 * Verdict: fails on a violation (a page reads nonzero after the punch);
 * passes only if A's punches met at least one failed reference (traced);
 * else SKIP, and always SKIP with the windows off.
 * Mutant: 007-find-get-entry-frozen-as-end.patch.
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
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define NPAGES 16		/* mapped; pages 1 to NPAGES - 1 hold data */
#define FILE_PAGES (2 * NPAGES)	/* the hole's span */
#define DELAY_US 10000
#define TRACING "/sys/kernel/tracing"
#define EVENT TRACING "/events/page_ref/page_ref_mod_unless"
#define INVARIANT "a hole punch never leaves a folio it could not reference"

static struct regress r;
static char *map;
static size_t psize;

/* Shared with B: A's "go", one migration per cycle, B clears it. */
struct shared {
	int go, stop;
	unsigned long moved, not_moved;
};

static struct shared *sh;

static uint64_t pattern(int i)
{
	return 0x6d6d725000000000ULL | (uint64_t)i;
}

/* B, a child process: migrates A's page 1 to the other node on each "go". */
static void migrator(pid_t a)
{
	void *page = map + psize;
	int node, status;

	regress_pin_cpu(1);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		if (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE)) {
			sched_yield();
			continue;
		}
		if (syscall(SYS_move_pages, a, 1, &page, NULL, &status, 0) < 0)
			status = 0;
		node = status == 1 ? 0 : 1;
		if (syscall(SYS_move_pages, a, 1, &page, &node, &status,
			    MPOL_MF_MOVE) < 0 || status != node)
			sh->not_moved++;
		else
			sh->moved++;
		__atomic_store_n(&sh->go, 0, __ATOMIC_RELEASE);
	}
	_exit(0);
}

/* Windows armed: waits (at most 100 ms) for a freeze after @since. */
static void wait_frozen(unsigned long long since)
{
	struct mmrace_stats s;
	double until = regress_elapsed(&r) + 0.1;

	if (!r.armed)
		return;
	while (regress_elapsed(&r) < until && !win_stats("migrate_freeze", &s) &&
	       s.entered == since)
		;
}

/* Empties the trace buffer (a write does not: it takes O_TRUNC). */
static int trace_clear(void)
{
	int fd = open(TRACING "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The trace event of failed speculative references, A's only; 0 or -errno. */
static int trace_setup(pid_t tid)
{
	char filter[64];
	int ret;

	if (access(TRACING "/trace", F_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	if (access(EVENT "/enable", W_OK))
		return -ENOENT;
	snprintf(filter, sizeof(filter), "ret == 0 && common_pid == %d", tid);
	ret = mmrace_write(TRACING "/tracing_on", "0");
	if (!ret)
		ret = trace_clear();
	if (!ret)
		ret = mmrace_write(EVENT "/filter", filter);
	if (!ret)
		ret = mmrace_write(EVENT "/enable", "1");
	return ret;
}

/* Events recorded (lines of the trace that are not comments). */
static unsigned long trace_count(void)
{
	static char buf[1 << 20];
	unsigned long n = 0;
	char *line;

	mmrace_write(TRACING "/tracing_on", "0");
	mmrace_write(EVENT "/enable", "0");
	mmrace_write(EVENT "/filter", "0");
	if (mmrace_read(TRACING "/trace", buf, sizeof(buf)) < 0)
		return 0;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#')
			n++;
	trace_clear();
	mmrace_write(TRACING "/tracing_on", "1");
	return n;
}

int main(void)
{
	unsigned long punches = 0, failed;
	struct mmrace_stats s;
	uint64_t *buf;
	size_t len, w;
	pid_t pid;
	int fd, on, i, ret;

	regress_init(&r, "punch_vs_migration_freeze", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	buf = malloc(len);
	fd = memfd_create("mmrace-punch", 0);
	if (!buf || fd < 0 || ftruncate(fd, FILE_PAGES * psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_pin_cpu(0);
	ret = trace_setup(syscall(SYS_gettid));
	on = open(TRACING "/tracing_on", O_WRONLY);
	if (ret || on < 0) {
		mmrace_control("reset");
		ksft_exit_skip("no page_ref_mod_unless trace event (%s): cannot see the punch meet a frozen folio\n",
			       strerror(ret ? -ret : errno));
	}
	regress_arm(&r, "migrate_freeze", "frozen", DELAY_US, REGRESS_TREE);
	/* Traced on this thread only: the evidence stands without a hit. */
	regress_exercise_own(&r, "failed speculative references met by the punches");

	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid) {
		pid_t a = getppid();

		/* B maps nothing of the file: only A's mm maps page 1. */
		munmap(map, len);
		migrator(a);
	}
	while (regress_running(&r)) {
		/* B is idle: nothing migrates while A writes. */
		while (__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) &&
		       regress_running(&r))
			sched_yield();
		/* Pages 1 to NPAGES - 1: page 0 stays a hole. */
		for (i = 1; i < NPAGES; i++)
			for (w = 0; w < psize / 8; w++)
				buf[i * psize / 8 + w] = pattern(i);
		if (pwrite(fd, buf + psize / 8, len - psize, psize) !=
		    (ssize_t)(len - psize)) {
			regress_violation(&r, "pwrite: %s", strerror(errno));
			break;
		}
		/* Map page 1 in A's mm, for B's move_pages(2). */
		(void)__atomic_load_n(map + psize, __ATOMIC_RELAXED);
		if (win_stats("migrate_freeze", &s))
			s.entered = 0;
		__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
		wait_frozen(s.entered);
		pwrite(on, "1", 1, 0);
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, FILE_PAGES * psize);
		pwrite(on, "0", 1, 0);
		if (ret) {
			regress_violation(&r, "punch: %s", strerror(errno));
			break;
		}
		punches++;
		if (pread(fd, buf, len, 0) != (ssize_t)len) {
			regress_violation(&r, "pread: %s", strerror(errno));
			break;
		}
		for (w = 0; w < len / 8; w++) {
			if (!buf[w])
				continue;
			regress_violation(&r, "page %zu read %#llx after the hole punch: %s",
					  w * 8 / psize,
					  (unsigned long long)buf[w],
					  buf[w] == pattern(w * 8 / psize) ?
					  "its folio was left in the page cache (a frozen folio taken for the end)" :
					  "foreign bytes");
			break;
		}
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, NULL, 0);
	close(on);
	failed = trace_count();
	ksft_print_msg("%lu punches; page 1 moved %lu times, not moved %lu times; %lu failed speculative references during the punches\n",
		       punches, sh->moved, sh->not_moved, failed);
	regress_exercised(&r, failed);
	regress_finish(&r, INVARIANT);
}
