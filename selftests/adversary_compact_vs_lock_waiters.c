// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 002 with one task: an adversary compaction puts the module's
 * movable pages back while a lock waiter queues on them.
 *
 * One task, no second thread: it runs the in-kernel scenario
 * isolated_putback (src/scenario/isolated_putback.rs: the module's non-LRU
 * movable pages, a kernel thread of the module locking them in turn, a
 * watchdog), RUN_MS at a time, over and over. Before each run it reads
 * one page of its own memfd, placed on the node of the movable pages,
 * with pread(2) and vmsplice(2): the four windows those accesses open
 * (pagecache_pre_grab, pagecache_post_grab, gup_fast_pre_grab,
 * gup_fast_post_grab; delay 0, targeted at that page) each post an
 * adversary job ("compact"), and the helper (mmrace_lib.c, a child process
 * on CPU 1) does them one after the other: it writes the node's compact
 * file, and compaction isolates the movable pages, fails to migrate them
 * and puts them back while the scenario sets up and runs (one job alone
 * mostly finished before the scenario's pages existed: 16 putbacks in 167
 * runs). The compact_isolate window (phase putback_callback, this process
 * and its descendants: the helper's compaction) holds one putback in
 * INTERVAL for 2 ms in the driver's callback, the page locked and
 * isolated, so that the locker queues on it.
 *
 * compact_isolate cannot post the jobs itself: it opens only inside
 * compaction, and an adversary job needs a target mapped in a process
 * (whose pfn then filters the window), which the module's pages never
 * are. The posters close before the compaction they post runs, so their
 * adversary_inside says nothing: the proof that the interleaving ran is
 * the scenario's count of putbacks during which the locker queued on the
 * page (waiter_queued) and compact_isolate's hits.
 *
 * Invariant: a lock waiter is always woken (the scenario's no_lost_wakeup
 * check; mutant 002 clears PG_isolated with a non-atomic write that wipes
 * PG_waiters).
 * Verdict: fails on a lost wakeup; passes only if compact_isolate was hit
 * and at least one putback had the locker queue during the callback;
 * else SKIP with the counts.
 * Mutants: 002-putback-nonatomic-isolated-clear.patch,
 * 300-putback-nonatomic-isolated-clear-real-size.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"
#include "regress.h"

/*
 * The windows the task's accesses to its page open, each posting one
 * compaction: the helper does them one after the other, so that
 * compaction goes on while the scenario sets up its pages and runs.
 */
static const char *const posters[] = {
	"pagecache_pre_grab", "pagecache_post_grab",
	"gup_fast_pre_grab", "gup_fast_post_grab",
};
#define NR_POSTERS ARRAY_SIZE(posters)
#define HOLDER "compact_isolate"
#define INTERVAL 8
#define RUN_MS 50

/* The node of the module's movable pages, from a scenario's report. */
static int movable_node(void)
{
	static char report[8192];
	const char *p;
	int nid;

	if (mmrace_scenario("isolated_putback iterations=1", report,
			    sizeof(report)))
		return -1;
	p = strstr(report, "; node ");
	if (!p || sscanf(p, "; node %d", &nid) != 1)
		return -1;
	return nid;
}

int main(void)
{
	struct mmrace_adversary adv = { 0 };
	unsigned long runs = 0;
	char cmd[64], *map, *buf, line[256];
	int fd, nid, ret, pipefd[2];
	struct mmrace_stats s;
	struct iovec iov;
	struct regress r;
	size_t psize, i;

	regress_init(&r, "adversary_compact_vs_lock_waiters", 15);
	if (access("/sys/devices/system/node/node0/compact", W_OK))
		ksft_exit_skip("no node compact file (CONFIG_COMPACTION, CONFIG_NUMA)\n");
	psize = sysconf(_SC_PAGESIZE);
	fd = memfd_create("mmrace-adv-compact", 0);
	if (fd < 0 || ftruncate(fd, psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(map, 0x5a, psize);
	buf = malloc(psize);
	if (!buf)
		ksft_exit_fail_msg("malloc\n");
	iov.iov_base = map;
	iov.iov_len = psize;
	if (pipe(pipefd))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	/* Pages are placed on the writing task's node: stay on CPU 0. */
	regress_pin_cpu(0);
	nid = movable_node();
	if (nid < 0)
		ksft_exit_fail_msg("isolated_putback: no placement in its report\n");
	/* The helper compacts the node of the target page: put it there. */
	if (page_node(map) != nid && (race_nodes() < 2 || page_move(map)))
		ksft_exit_skip("cannot put the target page on node %d\n", nid);
	ksft_print_msg("movable pages and target page on node %d\n", nid);

	regress_arm(&r, HOLDER, "putback_callback", 2000, REGRESS_TREE);
	ret = r.armed ? win_set(HOLDER, "interval", "%u", INTERVAL) : 0;
	if (ret)
		ksft_exit_fail_msg("%s interval: %s\n", HOLDER, strerror(-ret));
	for (i = 0; i < NR_POSTERS; i++) {
		regress_arm(&r, posters[i], NULL, 0, REGRESS_PROCESS);
		ret = r.armed ? win_set(posters[i], "adversary", "compact") : 0;
		if (ret)
			ksft_exit_fail_msg("%s adversary: %s\n", posters[i],
					   strerror(-ret));
	}
	ret = r.armed ? mmrace_adversary_start(&adv, 1) : 0;
	if (ret)
		ksft_exit_fail_msg("adversary helper: %s\n", strerror(-ret));
	regress_exercise(&r, "putbacks with a lock waiter queued during the callback (waiter_queued)");

	snprintf(cmd, sizeof(cmd), "isolated_putback iterations=%d", RUN_MS);
	while (regress_running(&r)) {
		for (i = 0; r.armed && i < NR_POSTERS; i++) {
			ret = win_target(posters[i], map);
			if (ret)
				ksft_exit_fail_msg("target: %s\n",
						   strerror(-ret));
		}
		/* The read and the splice open the posters. */
		if (pread(fd, buf, psize, 0) != (ssize_t)psize ||
		    vmsplice(pipefd[1], &iov, 1, 0) != (ssize_t)psize ||
		    read(pipefd[0], buf, psize) != (ssize_t)psize)
			ksft_exit_fail_msg("access: %s\n", strerror(errno));
		ret = regress_scenario(&r, cmd, false);
		if (ret)
			ksft_exit_fail_msg("scenario: %s\n", strerror(-ret));
		runs++;
	}
	regress_adversary_stop(&r, posters[0], &adv);
	for (i = 1; i < NR_POSTERS; i++)
		if (r.armed && !win_stats(posters[i], &s))
			ksft_print_msg("%s adversary: %s\n", posters[i],
				       win_adversary_str(&s, line, sizeof(line)));
	ksft_print_msg("%lu runs of %d ms\n", runs, RUN_MS);
	regress_finish(&r, "a lock waiter is always woken while an adversary compaction puts pages back");
}
