// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of the LRU folio flag tests (migrate_flags_vs_lock_waiters,
 * lru_add_vs_lock_waiters, lru_isolate_vs_folio_lock; lru_flags_lib.h): a
 * zram device's page cache migrated with move_pages(2) by one thread while
 * another faults its pages (locking them, or waiting for their lock), a
 * compact_isolate phase holding each migration's flags copy, LRU add or
 * isolation, and a watchdog for a lost wake-up or a folio locked for good.
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
#include "lru_flags_lib.h"
#include "mmrace_lib.h"
#include "race.h"
#include "regress.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define NPAGES 16
#define STALL_S 2.0
#define KPF_LOCKED 0
static const struct lru_flags_test *test;
static struct regress r;
static char *map_a, *map_b;
static size_t psize;
static int stop;		/* __atomic */
static unsigned long moved, not_moved;
static unsigned long reads;	/* the reader's progress */
static unsigned long rounds;	/* the migrator's (__atomic) */
static int reading = -1;	/* the page it reads, or -1 (__atomic) */

static uint64_t pattern(int i)
{
	return 0x6d6d724c00000000ULL | (uint64_t)i;
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
		__atomic_add_fetch(&rounds, 1, __ATOMIC_RELAXED);
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
	unsigned long last = 0, seen, last_round = 0, round;
	double since = now_s(), m_since = now_s(), stalled;
	int i, locked;

	while (regress_running(&r)) {
		usleep(50000);
		round = __atomic_load_n(&rounds, __ATOMIC_RELAXED);
		if (round != last_round) {
			last_round = round;
			m_since = now_s();
		} else if (now_s() - m_since > 3 * STALL_S) {
			regress_violation(&r, "the migrator slept %.1f s in one move_pages(2): a folio lock it waits for was never released (PG_locked written back) or its wakeup was lost",
					  now_s() - m_since);
			return true;
		}
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
			regress_violation(&r, "the reader slept %.1f s in a fault on page %d, which is %s: %s",
					  stalled, i, locked == 0 ? "unlocked" :
					  "still not readable", test->lost);
			return true;
		}
	}
	return false;
}

void lru_flags_run(const struct lru_flags_test *t)
{
	struct mmrace_stats s;
	pthread_t a, b;
	char dev[32];
	size_t len;
	int fd, id;
	bool stuck;

	test = t;
	regress_init(&r, t->name, 15);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	fd = mmrace_zram_file(len * 4, NPAGES, pattern, &id, dev, sizeof(dev));
	map_a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	map_b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map_a == MAP_FAILED || map_b == MAP_FAILED)
		ksft_exit_fail_msg("mmap %s: %s\n", dev, strerror(errno));
	regress_arm(&r, "compact_isolate", t->phase, 2000, REGRESS_PROCESS);
	regress_exercise(&r, t->exercise);

	pthread_create(&a, NULL, reader, NULL);
	pthread_create(&b, NULL, migrator, NULL);
	stuck = watchdog();
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	if (!stuck) {
		pthread_join(b, NULL);
		pthread_join(a, NULL);
	}
	ksft_print_msg("%lu faulting reads; pages moved %lu times, not moved %lu times\n",
		       reads, moved, not_moved);
	if (r.armed && !win_stats("compact_isolate", &s))
		regress_exercised(&r, t->exercised(&s));
	if (!stuck) {
		munmap(map_a, len);
		munmap(map_b, len);
		close(fd);
		mmrace_zram_remove(id);
	}
	/*
	 * A stuck reader sleeps killable: the exit ends it. A stuck migrator
	 * sleeps in folio_lock(), uninterruptible: the hung-task report ends
	 * the guest after the verdict.
	 */
	regress_finish(&r, t->invariant);
}
