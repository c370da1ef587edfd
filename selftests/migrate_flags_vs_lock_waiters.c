// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on LRU folios): migration copies the source's
 * flags to the new folio (folio_migrate_flags()) after the new folio has
 * replaced the source in the page cache, locked, while page faults that
 * found it there wait for its lock.
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache, migrated by
 * buffer_migrate_folio_norefs() -> __migrate_folio(), which calls
 * folio_migrate_mapping() and then folio_migrate_flags()). NPAGES pages
 * are written with a pattern and synced (clean).
 * Side B (CPU 1) maps the device and migrates its pages between two nodes
 * with move_pages(2); the compact_isolate window (phase migrate_flags,
 * at folio_migrate_ksm() inside folio_migrate_flags()) holds each
 * migration with the new folio in the page cache and locked.
 * Side A (CPU 0), the reader, has its own mapping of the device: it zaps
 * the PTE of a page (MADV_DONTNEED) and reads a word of it, so that every
 * read faults: filemap_fault() finds the folio in the page cache and, if
 * it is locked, waits (killable) for its lock, setting PG_waiters. The
 * main thread is the watchdog.
 *
 * Invariant: a fault that waits for a folio's lock is woken when the
 * folio is unlocked (no lost PG_waiters), and reads the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds, or read foreign bytes;
 *   PASS  none of this, the window was hit, and waiters_queued > 0 (window
 *         stats): some migration had a task queue on the new folio's lock
 *         while the window held it (PG_waiters clear when it opened, set
 *         when it closed), the interleaving the bug loses;
 *   SKIP  otherwise (no zram, one node, windows disabled, no such window).
 * Mutant: 303-migrate-flags-nonatomic-copy.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"
#include "regress.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define NPAGES 16
#define STALL_S 2.0
#define KPF_LOCKED 0
#define INVARIANT "a page fault waiting for a folio under migration is always woken"

static struct regress r;
static char *map_a, *map_b;
static size_t psize;
static int stop;		/* __atomic */
static unsigned long moved, not_moved;
static unsigned long reads;	/* the reader's progress */
static int reading = -1;	/* the page it reads, or -1 (__atomic) */

static uint64_t pattern(int i)
{
	return 0x6d6d724600000000ULL | (uint64_t)i;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *migrator(void *arg)
{
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES], node = 1, i;

	(void)arg;
	regress_pin_cpu(1);
	for (i = 0; i < NPAGES; i++)
		pages[i] = map_b + i * psize;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < NPAGES; i++) {
			(void)__atomic_load_n((char *)pages[i], __ATOMIC_RELAXED);
			nodes[i] = node;
		}
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

static void *reader(void *arg)
{
	int i;

	(void)arg;
	regress_pin_cpu(0);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < NPAGES; i++) {
			char *p = map_a + i * psize;
			uint64_t v;

			madvise(p, psize, MADV_DONTNEED);
			__atomic_store_n(&reading, i, __ATOMIC_RELAXED);
			v = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
			__atomic_store_n(&reading, -1, __ATOMIC_RELAXED);
			if (v != pattern(i))
				regress_violation(&r, "page %d read %#llx, not %#llx",
						  i, (unsigned long long)v,
						  (unsigned long long)pattern(i));
			__atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* Whether B's page @i is locked now: 1, 0, or -1 if it cannot tell. */
static int page_locked(int i)
{
	uint64_t ent, kflags;
	int fd, ret = -1;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &ent, 8, (uintptr_t)(map_b + i * psize) / psize * 8) == 8 &&
	    (ent >> 63) & 1 && (ent & ((1ULL << 55) - 1))) {
		close(fd);
		fd = open("/proc/kpageflags", O_RDONLY);
		if (fd >= 0 && pread(fd, &kflags, 8,
				     (ent & ((1ULL << 55) - 1)) * 8) == 8)
			ret = (kflags >> KPF_LOCKED) & 1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Watches the reader until the run ends; true if it is stuck. */
static bool watchdog(void)
{
	unsigned long last = 0, seen;
	double since = now_s(), stalled;
	int i, locked;

	while (regress_running(&r)) {
		usleep(50000);
		seen = __atomic_load_n(&reads, __ATOMIC_RELAXED);
		i = __atomic_load_n(&reading, __ATOMIC_RELAXED);
		if (seen != last || i < 0) {
			last = seen;
			since = now_s();
			continue;
		}
		stalled = now_s() - since;
		locked = stalled > STALL_S ? page_locked(i) : 1;
		if (locked == 0 || stalled > 3 * STALL_S) {
			regress_violation(&r, "the reader slept %.1f s in a fault on page %d, which is %s: its wakeup was lost (PG_waiters wiped)",
					  stalled, i, locked == 0 ? "unlocked" :
					  "still not readable");
			return true;
		}
	}
	return false;
}

int main(void)
{
	struct mmrace_stats s;
	pthread_t a, b;
	char dev[32];
	int fd, id;
	size_t len;
	bool stuck;

	regress_init(&r, "migrate_flags_vs_lock_waiters", 15);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	fd = mmrace_zram_file(len * 4, NPAGES, pattern, &id, dev, sizeof(dev));
	map_a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	map_b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map_a == MAP_FAILED || map_b == MAP_FAILED)
		ksft_exit_fail_msg("mmap %s: %s\n", dev, strerror(errno));
	regress_arm(&r, "compact_isolate", "migrate_flags", 2000,
		    REGRESS_PROCESS);
	regress_exercise(&r, "migrations with a task queued on the new folio's lock in the window (waiters_queued)");

	pthread_create(&a, NULL, reader, NULL);
	pthread_create(&b, NULL, migrator, NULL);
	stuck = watchdog();
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(b, NULL);
	if (!stuck)
		pthread_join(a, NULL);
	ksft_print_msg("%lu faulting reads; pages moved %lu times, not moved %lu times\n",
		       reads, moved, not_moved);
	if (r.armed && !win_stats("compact_isolate", &s))
		regress_exercised(&r, s.waiters_queued);
	if (!stuck) {
		munmap(map_a, len);
		munmap(map_b, len);
		close(fd);
		mmrace_zram_remove(id);
	}
	/* A stuck reader sleeps killable: the exit ends it. */
	regress_finish(&r, INVARIANT);
}
