// SPDX-License-Identifier: GPL-2.0
/*
 * Class 3 (seed 002's bug on PG_lru): a folio is isolated from its LRU
 * list (folio_isolate_lru(): PG_lru cleared by folio_test_clear_lru(),
 * then a reference and the lru_lock) while other tasks hold it and set
 * and clear other bits of the same flags word: move_pages(2) isolates a
 * mapped page-cache folio unlocked, and page faults on it lock and unlock
 * it meanwhile (PG_locked), or queue on its lock (PG_waiters).
 *
 * The page cache of a block device (a zram device the test creates; its
 * folios are ordinary LRU page cache). NPAGES pages are written with a
 * pattern and synced (clean).
 * Side B (CPU 1) maps the device and migrates its pages between two nodes
 * with move_pages(2); the compact_isolate window (phase lru_isolate, the
 * folio_get() right after the PG_lru clear) holds each isolation, the
 * folio unlocked and still mapped.
 * Side A (CPU 0), the reader, has its own mapping of the device: it zaps
 * the PTE of a page (MADV_DONTNEED) and reads a word of it, so that every
 * read faults: the fault (fault-around's trylock, or filemap_fault())
 * locks the folio and unlocks it once it is mapped, or waits for its lock
 * (killable), setting PG_waiters. The main thread is the watchdog.
 *
 * Invariant: the lock state of a folio (PG_locked, PG_waiters) as page
 * faults set and clear it survives the folio's isolation from the LRU (no
 * lost flag, no lost wake-up), and faults read the device's bytes.
 * Verdict:
 *   FAIL  the reader slept for over STALL_S seconds in one fault while the
 *         page it reads is unlocked (/proc/kpageflags), or for over
 *         3 * STALL_S seconds (a PG_locked written back: the folio locked
 *         for ever), or read foreign bytes, or the migrator made no
 *         progress for 3 * STALL_S seconds (it sleeps in folio_lock() on
 *         such a folio); any BUG (VM_BUG_ON_FOLIO in folio_unlock(): a
 *         PG_locked wiped under its holder) or hung-task report in the
 *         kernel log fails it too;
 *   PASS  none of this, the window was hit, and flags_changed > 0 (window
 *         stats): some isolation had the folio's flags word written by
 *         another party (a fault locking or unlocking it, or queuing on
 *         its lock) while the window held it, the interleaving the bug
 *         loses;
 *   SKIP  otherwise (no zram, one node, windows disabled, no such window:
 *         it needs the page_ref tracepoints, CONFIG_DEBUG_PAGE_REF).
 * Mutant: 304-lru-isolate-nonatomic-lru-clear.patch.
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
#define INVARIANT "a folio's lock state survives its isolation from the LRU"

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
			regress_violation(&r, "the reader slept %.1f s in a fault on page %d, which is %s: its wakeup was lost (PG_waiters wiped) or PG_locked was written back",
					  stalled, i, locked == 0 ? "unlocked" :
					  "still not readable");
			return true;
		}
	}
	return false;
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
	struct mmrace_stats s;
	pthread_t a, b;
	uint64_t *buf;
	char dev[32];
	size_t len, w;
	int fd = -1, id, tries, i;
	bool stuck;

	regress_init(&r, "lru_isolate_vs_folio_lock", 15);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
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
	if (fd < 0 || !buf)
		ksft_exit_fail_msg("%s: %s\n", dev, strerror(errno));
	for (i = 0; i < NPAGES; i++)
		for (w = 0; w < psize / 8; w++)
			buf[i * psize / 8 + w] = pattern(i);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd))
		ksft_exit_fail_msg("write %s: %s\n", dev, strerror(errno));
	map_a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	map_b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map_a == MAP_FAILED || map_b == MAP_FAILED)
		ksft_exit_fail_msg("mmap %s: %s\n", dev, strerror(errno));
	regress_arm(&r, "compact_isolate", "lru_isolate", 2000,
		    REGRESS_PROCESS);
	regress_exercise(&r, "LRU isolations with the folio's flags written by another party in the window (flags_changed)");

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
		regress_exercised(&r, s.flags_changed);
	if (!stuck) {
		munmap(map_a, len);
		munmap(map_b, len);
		close(fd);
		zram_remove(id);
	}
	/*
	 * A stuck reader sleeps killable: the exit ends it. A stuck migrator
	 * sleeps in folio_lock(), uninterruptible: the hung-task report ends
	 * the guest after the verdict.
	 */
	regress_finish(&r, INVARIANT);
}
