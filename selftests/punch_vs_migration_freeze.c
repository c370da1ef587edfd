// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004, class 1 (speculative page-cache references), path
 * find_get_entry(): the gang lookups of truncation (find_lock_entries(),
 * find_get_entries()) against a folio whose refcount migration has frozen.
 *
 * A tmpfs file (memfd) of NPAGES pages. Side B (CPU 1) maps the pages and
 * migrates them between two nodes with move_pages(2); the migrate_freeze
 * window (phase "frozen") holds each folio frozen, refcount 0, for a while.
 * Side A (CPU 0) writes a pattern into every page, punches a hole over the
 * whole file (fallocate(PUNCH_HOLE): shmem_undo_range()), and reads it back.
 * A's hole punches run with the page_ref_mod_unless trace event on, filtered
 * to A's failed references (ret == 0): each is a lookup of the punch that
 * met a frozen (or just freed) folio, the interleaving this test is about.
 * That count, not a window hit, decides PASS (at least one) or SKIP (none):
 * a failed reference changes nothing the frozen window watches.
 *
 * Invariant: after the punch, the range reads as zeros: a folio the
 * truncation's lookup cannot reference is waited for, not taken for the
 * end of the file.
 * Mutant: 007-find-get-entry-frozen-as-end.patch.
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
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define NPAGES 16
#define TRACING "/sys/kernel/tracing"
#define EVENT TRACING "/events/page_ref/page_ref_mod_unless"
#define INVARIANT "a hole punch never leaves a folio it could not reference"

static struct regress r;
static char *map;
static size_t psize;
static unsigned long moved, not_moved;

static uint64_t pattern(int i)
{
	return 0x6d6d725000000000ULL | (uint64_t)i;
}

static void *migrator(void *arg)
{
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES], node = 1, i;

	(void)arg;
	regress_pin_cpu(1);
	for (i = 0; i < NPAGES; i++)
		pages[i] = map + i * psize;
	while (regress_running(&r)) {
		for (i = 0; i < NPAGES; i++) {
			/* Map the page (a hole is filled with zeros). */
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
		ret = mmrace_write(TRACING "/trace", "");
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
	mmrace_write(TRACING "/trace", "");
	mmrace_write(TRACING "/tracing_on", "1");
	return n;
}

int main(void)
{
	unsigned long punches = 0, failed;
	uint64_t *buf;
	size_t len, w;
	pthread_t t;
	int fd, on, i, ret;

	regress_init(&r, "punch_vs_migration_freeze", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	buf = malloc(len);
	fd = memfd_create("mmrace-punch", 0);
	if (!buf || fd < 0 || ftruncate(fd, len))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_pin_cpu(0);
	ret = trace_setup(syscall(SYS_gettid));
	on = open(TRACING "/tracing_on", O_WRONLY);
	if (ret || on < 0) {
		mmrace_control("reset");
		ksft_exit_skip("no page_ref_mod_unless trace event (%s): cannot see the punch meet a frozen folio\n",
			       strerror(ret ? -ret : errno));
	}
	regress_arm(&r, "migrate_freeze", "frozen", 500, REGRESS_PROCESS);
	/* Traced on this thread only: the evidence stands without a hit. */
	regress_exercise_own(&r, "failed speculative references met by the punches");

	pthread_create(&t, NULL, migrator, NULL);
	while (regress_running(&r)) {
		for (i = 0; i < NPAGES; i++)
			for (w = 0; w < psize / 8; w++)
				buf[i * psize / 8 + w] = pattern(i);
		if (pwrite(fd, buf, len, 0) != (ssize_t)len) {
			regress_violation(&r, "pwrite: %s", strerror(errno));
			break;
		}
		pwrite(on, "1", 1, 0);
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, len);
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
	pthread_join(t, NULL);
	close(on);
	failed = trace_count();
	ksft_print_msg("%lu punches; pages moved %lu times, not moved %lu times; %lu failed speculative references during the punches\n",
		       punches, moved, not_moved, failed);
	regress_exercised(&r, failed);
	regress_finish(&r, INVARIANT);
}
