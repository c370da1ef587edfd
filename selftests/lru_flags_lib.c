// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of the LRU folio flag tests (migrate_flags_vs_lock_waiters,
 * lru_add_vs_lock_waiters, lru_isolate_vs_folio_lock,
 * compact_isolate_vs_folio_lock; lru_flags_lib.h): a
 * zram device's page cache migrated with move_pages(2) by one thread while
 * another faults its pages (locking them, or waiting for their lock), a
 * compact_isolate phase holding each migration's flags copy, LRU add or
 * isolation, and a watchdog for a lost wake-up or a folio locked for good.
 * With ->compact, compaction of the pages' node (sysfs) instead of
 * move_pages(2), the reader on page 0 only, the window targeted at it.
 * With ->define, LRU moves of page 0 (activation by read(2), deactivation
 * by MADV_COLD) instead, held by windows the test defines; with ->reclaim
 * as well, reclaim of page 0's node, driven by a child (lru_flags_lib.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
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
#ifndef MPOL_BIND
#define MPOL_DEFAULT 0
#define MPOL_BIND 2
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
static int npages_read = NPAGES;	/* the reader's pages: 1 with ->compact, ->define */
static int dev_fd;		/* the device (->define's reads) */
static int cnode;		/* the node ->compact compacts */
/* The compactor's or reclaimer's state, shared with its process. */
static struct compactor_shared {
	int stop;		/* __atomic */
	unsigned long rounds;	/* __atomic */
	unsigned long filled_mb;	/* the reclaimer's fill (a memfd) */
	long free_kb;		/* its node's MemFree after the fill */
	long free_pass_kb;	/* ... and after the first pass */
	unsigned long churn_reads;	/* its reads of the second device */
} *sh;

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

/*
 * Side B with ->compact, a child process (so that its CPU, which may hold
 * the window with interrupts off under the lru_lock, never runs the
 * reader's mm): compacts the node of the pages over and over. It keeps a
 * reference on page 0 (vmsplice(2) into a pipe it never reads): each pass
 * isolates the folio, fails to migrate it (the extra reference) and puts
 * it back where it was, so the next pass's migrate scanner reaches it
 * again (a folio compaction moved would land at the top of the zone, past
 * where the scanners meet). Before each pass it re-targets the window at
 * the page (the target's pfn is taken when it is written).
 */
static void compactor(void)
{
	struct iovec iov = { .iov_base = map_b, .iov_len = psize };
	void *page = map_b;
	int fd, ret, held[2];
	char path[64];

	regress_pin_cpu(1);
	if (pipe(held) || vmsplice(held[1], &iov, 1, 0) != (ssize_t)psize) {
		ksft_print_msg("vmsplice: %s\n", strerror(errno));
		_exit(1);
	}
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/compact",
		 cnode);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		(void)__atomic_load_n((char *)page, __ATOMIC_RELAXED);
		ret = r.armed ? win_target_pid("compact_isolate", getppid(),
					       page) : 0;
		if (ret) {
			ksft_print_msg("compact_isolate target: %s\n",
				       strerror(-ret));
			_exit(1);
		}
		fd = open(path, O_WRONLY);
		ret = fd < 0 ? -1 : write(fd, "1", 1);
		if (fd >= 0)
			close(fd);
		if (ret != 1) {
			ksft_print_msg("%s: %s\n", path, strerror(errno));
			_exit(1);
		}
		__atomic_add_fetch(&sh->rounds, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}


#define FILL_FLOOR_KB (40 << 10)
#define CHURN_BYTES (64UL << 20)
static char churn_dev[32];	/* ->reclaim's second device */

/* MemFree of node @node in kB, or 0. */
static long node_free_kb(int node)
{
	char path[64], line[128];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "MemFree:"))
			sscanf(strstr(line, "MemFree:") + 8, "%ld", &kb);
	fclose(f);
	return kb;
}

/* The pid of kswapd of node @node, or -1. */
static pid_t kswapd_pid(int node)
{
	char path[300], comm[32], want[32];
	struct dirent *d;
	pid_t pid = -1;
	DIR *dir;
	FILE *f;

	snprintf(want, sizeof(want), "kswapd%d\n", node);
	dir = opendir("/proc");
	while (dir && pid < 0 && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			pid = atoi(d->d_name);
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return pid;
}

/*
 * Page 0 to the inactive list (MADV_COLD of a mapping of its own, dropped
 * after: MADV_COLD skips a folio mapped twice), where reclaim evicts
 * first. Nothing activates it again: the reader's mapping is MADV_RANDOM
 * (no recency: its accesses and zaps do not mark the folio accessed).
 */
static void page_cold(void)
{
	(void)__atomic_load_n((char *)map_b, __ATOMIC_RELAXED);
	madvise(map_b, psize, MADV_COLD);
	madvise(map_b, psize, MADV_DONTNEED);
}

/*
 * Side B with ->reclaim, a child process (CPU 1): holds page 0
 * (vmsplice(2), so that reclaim can never free it and puts it back each
 * time), fills page 0's node with a memfd's pages (fallocate(2) under
 * MPOL_BIND; there is no swap: reclaim cannot take them) until
 * FILL_FLOOR_KB are left free, then reads a second zram device of
 * CHURN_BYTES round and round under the same policy: its page cache
 * pushes the node below its watermarks, and reclaim (kswapd of the node,
 * and direct reclaim in this child) evicts the node's small file LRU,
 * page 0 among it, over and over (isolate_lru_folios(), where the windows
 * hold).
 */
static void reclaimer(void)
{
	struct iovec iov = { .iov_base = map_b, .iov_len = psize };
	const size_t chunk = 2UL << 20, limit = 2048, rd = 256UL << 10;
	unsigned long mask = 1UL << cnode;
	off_t off = 0;
	int held[2], fd, mfd;
	char *buf;

	regress_pin_cpu(1);
	buf = malloc(rd);
	fd = open(churn_dev, O_RDONLY);
	if (!buf || fd < 0 || pipe(held) ||
	    vmsplice(held[1], &iov, 1, 0) != (ssize_t)psize) {
		ksft_print_msg("%s: %s\n", __func__, strerror(errno));
		_exit(1);
	}
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8)) {
		ksft_print_msg("set_mempolicy: %s\n", strerror(errno));
		_exit(1);
	}
	/*
	 * The fill: a memfd's pages, allocated by fallocate(2) under the
	 * policy (shmem takes the task's): no page fault, no zeroing (about
	 * 1 s where faulting anonymous memory in took several; the KASAN
	 * kernel still takes 45 to 55 s, and the test SKIPs there), not
	 * reclaimable without swap, freed with this process. Base pages:
	 * a memfd takes THPs for fallocate(2) only with shmem_enabled
	 * "always", "within_size" or "force", none the test kernel's.
	 */
	mfd = memfd_create("reclaim_fill", 0);
	if (mfd < 0) {
		ksft_print_msg("memfd_create: %s\n", strerror(errno));
		_exit(1);
	}
	while (sh->filled_mb < limit && node_free_kb(cnode) > FILL_FLOOR_KB &&
	       !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		if (fallocate(mfd, 0, (off_t)sh->filled_mb << 20, chunk))
			break;
		sh->filled_mb += chunk >> 20;
		/* Progress, for the watchdog. */
		__atomic_add_fetch(&sh->rounds, 1, __ATOMIC_RELAXED);
	}
	sh->free_kb = node_free_kb(cnode);
	/* Page 0 is held: it stays where the window's target found it. */
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		if (pread(fd, buf, rd, off) != (ssize_t)rd) {
			ksft_print_msg("%s: %s\n", churn_dev, strerror(errno));
			_exit(1);
		}
		off = (off + rd) % CHURN_BYTES;
		sh->churn_reads++;
		if (!off) {
			if (!sh->free_pass_kb)
				sh->free_pass_kb = node_free_kb(cnode);
			page_cold();
		}
		__atomic_add_fetch(&sh->rounds, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

/* The migrator's (or compactor's) rounds so far. */
static unsigned long migrator_rounds(void)
{
	if (sh)
		return __atomic_load_n(&sh->rounds, __ATOMIC_RELAXED);
	return __atomic_load_n(&rounds, __ATOMIC_RELAXED);
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

/*
 * Side B with ->define: moves page 0 between the LRU lists. Two reads of
 * it through the file, with a read of page 1 between them (read(2) marks
 * a folio accessed once per run of reads of it), make
 * folio_mark_accessed() queue its activation (PG_referenced, then
 * folio_activate()); MADV_COLD of its mapping first drains this CPU's LRU
 * batches (lru_add_drain(): lru_activate() runs here, in this thread, in
 * the window) and queues its deactivation, which the second MADV_COLD
 * drains (lru_deactivate(), the second window). MADV_COLD skips a folio
 * mapped twice: the reader maps page 0 only for the instant of its read.
 */
static void *mover(void *arg)
{
	static const off_t order[] = { 0, 1, 0 };
	char buf[64];
	unsigned int i;

	(void)arg;
	regress_pin_cpu(1);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		(void)__atomic_load_n((char *)map_b, __ATOMIC_RELAXED);
		for (i = 0; i < ARRAY_SIZE(order); i++) {
			if (pread(dev_fd, buf, sizeof(buf), order[i] * psize) !=
			    sizeof(buf))
				ksft_exit_fail_msg("read: %s\n", strerror(errno));
		}
		if (madvise(map_b, psize, MADV_COLD) ||
		    madvise(map_b, psize, MADV_COLD))
			ksft_exit_fail_msg("MADV_COLD: %s\n", strerror(errno));
		moved++;
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
		for (i = 0; i < npages_read; i++) {
			char *p = map_a + i * psize;
			uint64_t v;

			madvise(p, psize, MADV_DONTNEED);
			__atomic_store_n(&reading, i, __ATOMIC_RELAXED);
			v = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
			__atomic_store_n(&reading, -1, __ATOMIC_RELAXED);
			if (test->define[0].name)
				madvise(p, psize, MADV_DONTNEED);
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

/* Joins @t within @secs seconds: true if it ended. */
static bool join_within(pthread_t t, double secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)secs;
	return !pthread_timedjoin_np(t, NULL, &ts);
}

/* Watches the reader until the run ends; true if it is stuck. */
static bool watchdog(void)
{
	unsigned long last = 0, seen, last_round = 0, round;
	double since = now_s(), m_since = now_s(), stalled;
	int i, locked;

	while (regress_running(&r)) {
		usleep(50000);
		round = migrator_rounds();
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

/* ->define's windows go with the test, whatever its verdict. */
static void undefine(void)
{
	char line[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(test->define) && test->define[i].name; i++) {
		snprintf(line, sizeof(line), "-:%s", test->define[i].name);
		mmrace_write(MMRACE_WINDOWS "/define", line);
	}
}

/*
 * ->define's windows, defined, armed for this process with a 2 ms delay
 * and targeted at page 0 (mapped by side B); SKIP if one is refused.
 */
static void define_windows(const struct lru_flags_test *t)
{
	size_t i;
	int ret;

	atexit(undefine);
	for (i = 0; i < ARRAY_SIZE(t->define) && t->define[i].name; i++) {
		ret = mmrace_write(MMRACE_WINDOWS "/define", t->define[i].line);
		if (ret)
			ksft_exit_skip("windows/define refused \"%s\": %s\n",
				       t->define[i].line, strerror(-ret));
		regress_arm(&r, t->define[i].name, NULL, 2000,
			    t->reclaim ? REGRESS_TREE : REGRESS_PROCESS);
		/* ->reclaim's first window: the node's kswapd. */
		if (t->reclaim && i == 0) {
			pid_t k = kswapd_pid(cnode);

			if (k < 0 || win_set(t->define[i].name, "pid_tree", "0") ||
			    win_set(t->define[i].name, "pid", "%d", k))
				ksft_exit_fail_msg("%s: no kswapd%d to filter on\n",
						   t->define[i].name, cnode);
		}
		(void)__atomic_load_n(map_b, __ATOMIC_RELAXED);
		ret = win_target(t->define[i].name, (void *)map_b);
		if (ret)
			ksft_exit_fail_msg("target: %s\n", strerror(-ret));
	}
}

void lru_flags_run(const struct lru_flags_test *t)
{
	struct mmrace_stats s;
	size_t i;
	pid_t child = -1;
	pthread_t a, b;
	char dev[32];
	size_t len;
	int fd, id, churn_id = -1;
	bool stuck;

	test = t;
	regress_init(&r, t->name, 15);
	if (!t->define[0].name && race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	len = NPAGES * psize;
	if (t->compact || t->reclaim) {
		unsigned long mask;

		/*
		 * The last node: the least used, its pages near its zone's
		 * start, where compaction's migrate scanner begins (as
		 * howto_own_race.sh). The page cache is allocated by this
		 * task's writes, under its policy.
		 */
		cnode = race_nodes() - 1;
		mask = 1UL << cnode;
		npages_read = 1;
		if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask,
			    sizeof(mask) * 8))
			ksft_exit_skip("set_mempolicy: %s\n", strerror(errno));
	}
	if (t->define[0].name)
		npages_read = 1;
	fd = mmrace_zram_file(len * 4, NPAGES, pattern, &id, dev, sizeof(dev));
	dev_fd = fd;
	if ((t->compact || t->reclaim) &&
	    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0))
		ksft_exit_fail_msg("set_mempolicy: %s\n", strerror(errno));
	map_a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	map_b = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map_a == MAP_FAILED || map_b == MAP_FAILED)
		ksft_exit_fail_msg("mmap %s: %s\n", dev, strerror(errno));
	if (t->define[0].name && r.armed)
		define_windows(t);
	else if (!t->define[0].name)
		regress_arm(&r, "compact_isolate", t->phase, 2000,
			    t->compact ? REGRESS_TREE : REGRESS_PROCESS);
	/*
	 * ->reclaim: no mapping of page 0 but the reader's and, for the
	 * instant of its MADV_COLD, the child's (MADV_COLD skips a folio
	 * mapped twice).
	 */
	if (t->reclaim) {
		madvise(map_b, len, MADV_DONTNEED);
		madvise(map_a, len, MADV_RANDOM);
	}
	if (t->compact && r.armed) {
		int ret;

		(void)__atomic_load_n(map_b, __ATOMIC_RELAXED);
		ret = win_target("compact_isolate", (void *)map_b);
		if (ret)
			ksft_exit_fail_msg("compact_isolate target: %s\n",
					   strerror(-ret));
	}
	regress_exercise(&r, t->exercise);

	if (t->compact || t->reclaim) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED)
			ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
		if (t->reclaim) {
			churn_id = mmrace_zram_add(CHURN_BYTES);
			if (churn_id < 0)
				ksft_exit_skip("no second zram device\n");
			snprintf(churn_dev, sizeof(churn_dev), "/dev/zram%d",
				 churn_id);
		}
		child = fork();
		if (child < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		if (!child) {
			if (t->reclaim)
				reclaimer();
			compactor();
		}
	}
	pthread_create(&a, NULL, reader, NULL);
	if (!t->compact && !t->reclaim)
		pthread_create(&b, NULL, t->define[0].name ? mover : migrator, NULL);
	stuck = watchdog();
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	if (sh)
		__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	/*
	 * ->reclaim's child only reads and holds memory: killed, so that it
	 * never sleeps on (killable) in a fault on page 0 that the bug left
	 * locked for good, holding the test's output open.
	 */
	if (t->reclaim)
		kill(child, SIGKILL);
	if (!stuck) {
		if (t->compact || t->reclaim)
			waitpid(child, NULL, 0);
		else
			pthread_join(b, NULL);
		/* A fault that began just before the end may never return. */
		stuck = !join_within(a, 3 * STALL_S);
		if (stuck)
			regress_violation(&r, "the reader did not come back from a fault within %.0f s of the end: %s",
					  3 * STALL_S, test->lost);
	}
	if (sh && t->reclaim) {
		/* Not touched if stuck: page 0 may be locked for good. */
		if (!stuck)
			(void)__atomic_load_n((char *)map_b, __ATOMIC_RELAXED);
		ksft_print_msg("page 0 on node %d; node %d: %ld kB free after the fill, %ld kB after a pass over %s\n",
			       stuck ? -1 : page_node(map_b), cnode, sh->free_kb,
			       sh->free_pass_kb, churn_dev);
		ksft_print_msg("%lu faulting reads; node %d filled with %lu MB, then %lu reads of 256 kB from %s there\n",
			       reads, cnode, sh->filled_mb,
			       sh->churn_reads, churn_dev);
	} else if (sh) {
		ksft_print_msg("%lu faulting reads; %lu compactions of node %d\n",
			       reads, sh->rounds, cnode);
	} else if (t->define[0].name)
		ksft_print_msg("%lu faulting reads; %lu rounds of activation and deactivation\n",
			       reads, moved);
	else
		ksft_print_msg("%lu faulting reads; pages moved %lu times, not moved %lu times\n",
			       reads, moved, not_moved);
	if (r.armed && t->define[0].name) {
		for (i = 0; i < ARRAY_SIZE(t->define) && t->define[i].name; i++)
			if (!win_stats(t->define[i].name, &s))
				regress_exercised(&r, t->exercised(&s));
	} else if (r.armed && !win_stats("compact_isolate", &s)) {
		regress_exercised(&r, t->exercised(&s));
	}
	if (!stuck) {
		munmap(map_a, len);
		munmap(map_b, len);
		close(fd);
		mmrace_zram_remove(id);
		if (churn_id >= 0)
			mmrace_zram_remove(churn_id);
	}
	/*
	 * A stuck reader sleeps killable: the exit ends it. A stuck migrator
	 * sleeps in folio_lock(), uninterruptible: the hung-task report ends
	 * the guest after the verdict.
	 */
	regress_finish(&r, t->invariant);
}
