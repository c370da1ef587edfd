// SPDX-License-Identifier: GPL-2.0
/*
 * make demo's workload: one shmem page this process owns, migrated back and
 * forth between two NUMA nodes while another thread reads it through the
 * page cache. mmrace holds each migration with the folio's refcount frozen
 * (migrate_freeze, phase frozen) until a page-cache lookup has loaded that
 * folio (pagecache_pre_grab): the interleaving of seed 004, forced. Prints
 * both windows' statistics, first with the windows at zero length (the
 * natural rate), then armed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

static void show(const char *label, unsigned long moves, unsigned long reads)
{
	struct mmrace_stats s;

	printf("\n%s: %lu migrations, %lu reads in 2 s\n", label, moves, reads);
	win_stats("migrate_freeze", &s);
	printf("  migrate_freeze (frozen):  entered %llu, windows %llu, hits %llu, rendezvous met %llu / timed out %llu, %llu us held\n",
	       (unsigned long long)s.entered, (unsigned long long)s.delayed,
	       (unsigned long long)s.hits,
	       (unsigned long long)s.rendezvous_met,
	       (unsigned long long)s.rendezvous_timeout,
	       (unsigned long long)s.total_delay_ns / 1000);
	win_stats("pagecache_pre_grab", &s);
	printf("  pagecache_pre_grab:       entered %llu (lookups of the page: arrivals)\n",
	       (unsigned long long)s.entered);
}

int main(void)
{
	unsigned long moves, reads;
	struct race_page p;
	int ret;

	if (race_nodes() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("demo needs two CPUs and two NUMA nodes\n");
		return 1;
	}
	ret = race_memfd_page(&p);
	if (ret) {
		printf("no page: %s\n", strerror(-ret));
		return 1;
	}
	mmrace_control("reset");
	win_set("migrate_freeze", "phase", "frozen");
	/* The page moves at every migration: select it by owner, not pfn. */
	win_set("pagecache_pre_grab", "pid", "%d", getpid());
	win_set("migrate_freeze", "pid", "%d", getpid());
	ret = win_set("pagecache_pre_grab", "enable", "1");
	ret = ret ? ret : win_set("migrate_freeze", "enable", "1");
	if (ret) {
		printf("cannot arm the windows: %s\n", strerror(-ret));
		return 1;
	}

	race_run(&p, side_migrate, side_read, 2000, &moves, &reads);
	show("natural (zero-length windows)", moves, reads);

	win_set("migrate_freeze", "stats", "0");
	win_set("pagecache_pre_grab", "stats", "0");
	win_set("migrate_freeze", "wait_for", "pagecache_pre_grab");
	win_set("migrate_freeze", "wait_timeout_us", "20000");
	race_run(&p, side_migrate, side_read, 2000, &moves, &reads);
	show("armed (migration waits, frozen, for a lookup)", moves, reads);

	printf("\n");
	fflush(stdout);
	/* Left armed for the summary; rmmod disarms everything. */
	race_page_free(&p);
	return 0;
}
