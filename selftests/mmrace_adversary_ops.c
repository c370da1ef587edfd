// SPDX-License-Identifier: GPL-2.0
/*
 * The adversary operations other than migrate (windows.rst, "Adversaries"),
 * each run by the helper (mmrace_lib.c) against the window's own page while
 * the window holds a read of it, on a correct kernel.
 *
 * One task reads one page of a file with pread(2), in a loop, for
 * MMRACE_ADV_OPS_MS (default 3000) per operation. The pagecache_pre_grab
 * window (phase "loaded": the folio pointer loaded, no reference yet),
 * filtered to this process and targeted at the page, holds each lookup for
 * DELAY_US and posts a job; the helper, a child on CPU 1, does it:
 *   pageout  process_madvise(2) MADV_PAGEOUT of the page, mapped from a
 *            zram block device (a clean file page: reclaim drops it, no
 *            swap needed);
 *   split    a write to split_huge_pages of the page's address, the page
 *            in a shmem THP (memfd, MADV_COLLAPSE before each read whose
 *            page is no longer in one);
 *   compact  nodeN/compact of the node holding the memfd page;
 *   evict    POSIX_FADV_DONTNEED of the zram block device page, unmapped
 *            (MADV_DONTNEED after the target is set) so it can be dropped;
 *   evict+reuse  done by the module's worker (invalidate_mapping_pages()
 *            of the page's index, the fadvise path), which then allocates
 *            the freed page again on its CPU, fills it with another
 *            pattern and holds it until the window closed.
 * After each re-read the task drains its CPU's LRU batch (MADV_COLD of an
 * untouched page calls lru_add_drain()): a folio still in the batch cannot
 * be isolated or invalidated until every CPU is drained, which waits for
 * the window's CPU to leave its preemption-off delay.
 *
 * Invariant: every read returns the pattern (the operations are
 * transparent).
 * After the helper stopped (but for evict+reuse), the test takes one job itself, posted by a read
 * of its own, and reports it done once that read returned: it must count
 * in adversary_after, not inside (the inside count, which the verdict rests
 * on, tells a closed window from an open one).
 * Verdict per operation: fails on a wrong read, or if that job counted
 * inside; passes only if the helper
 * took jobs (adversary_started > 0), one was done while the window held the
 * page (adversary_inside > 0) and the helper saw the operation change the
 * page (reclaimed, split, evicted; evict+reuse also recovered the page at
 * least once, adversary_reused > 0; for compact, which may leave the page
 * where it is, compactions that completed and a scan of theirs that
 * covered the page: the compaction trace events' ranges); else SKIP with
 * the numbers.
 * Mutant: none (a correct-kernel test of the adversary operations).
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
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define WINDOW "pagecache_pre_grab"
#define DELAY_US 5000
#define THP_SIZE (2UL << 20)
#define ZRAM_SIZE (1UL << 20)
#define KPF_THP 22
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif

enum op {
	OP_PAGEOUT, OP_SPLIT, OP_COMPACT, OP_EVICT, OP_EVICT_REUSE, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"pageout", "split", "compact", "evict", "evict+reuse"
};

/* evict, with or without +reuse. */
static bool evicts(enum op op)
{
	return op == OP_EVICT || op == OP_EVICT_REUSE;
}

static size_t psize;
static char *drain_page, sink;

static uint64_t pattern(size_t i)
{
	return 0x6164766572730000ULL | i;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether the page mapped at @p is in a THP (/proc/kpageflags). */
static bool in_thp(const void *p)
{
	uint64_t pfn = mmrace_own_pfn(p), flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return false;
	if (!pfn || pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) !=
	    sizeof(flags))
		flags = 0;
	close(fd);
	return flags & (1ULL << KPF_THP);
}

#define TRACING "/sys/kernel/tracing"
#define COMPACTION TRACING "/events/compaction/"

/* The events of compaction's migration and free scanners: their ranges. */
static const char *const scan_event[] = {
	COMPACTION "mm_compaction_isolate_migratepages/",
	COMPACTION "mm_compaction_isolate_freepages/",
};

static int event_set(int i, const char *file, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s%s", scan_event[i], file);
	return mmrace_write(path, val);
}

/* Starts tracing the compaction scans over @pfn: 0 or -errno. */
static int scans_start(unsigned long long pfn)
{
	char filter[96];
	int i, fd, ret;

	if (access(TRACING "/trace", F_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	ret = mmrace_write(TRACING "/tracing_on", "0");
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(filter, sizeof(filter), "start_pfn <= %llu && end_pfn > %llu",
		 pfn, pfn);
	for (i = 0; i < 2 && !ret; i++) {
		ret = event_set(i, "filter", filter);
		ret = ret ?: event_set(i, "enable", "1");
	}
	return ret ?: mmrace_write(TRACING "/tracing_on", "1");
}

/* Stops it: how many scans covered the pfn. */
static unsigned long scans_stop(void)
{
	static char buf[1 << 16];
	unsigned long n = 0;
	char *line;
	int i;

	mmrace_write(TRACING "/tracing_on", "0");
	for (i = 0; i < 2; i++) {
		event_set(i, "enable", "0");
		event_set(i, "filter", "0");
	}
	if (mmrace_read(TRACING "/trace", buf, sizeof(buf)) > 0)
		for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			n += line[0] != '#';
	mmrace_write(TRACING "/tracing_on", "1");
	return n;
}

/* A fresh zram device of @len bytes, opened read-write: the fd, or -1. */
static int zram_open(size_t len, int *id)
{
	char path[64];
	int i, fd = -1;

	*id = mmrace_zram_add(len);
	if (*id < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/zram%d", *id);
	/* The node may come a little after the device. */
	for (i = 0; i < 100 && fd < 0; i++) {
		fd = open(path, O_RDWR);
		if (fd < 0)
			usleep(10000);
	}
	return fd;
}

static void zram_close(int fd, int id)
{
	if (fd >= 0)
		close(fd);
	if (id >= 0)
		mmrace_zram_remove(id);
}

/* A @len mapping of @fd aligned to THP_SIZE, or NULL. */
static char *map_aligned(int fd, size_t len)
{
	char *res, *a;

	res = mmap(NULL, len + THP_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	a = (char *)(((unsigned long)res + THP_SIZE - 1) & ~(THP_SIZE - 1));
	munmap(res, len + THP_SIZE);
	res = mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		   0);
	return res == MAP_FAILED ? NULL : res;
}

struct run {
	enum op op;
	int fd, zram;
	size_t len;
	char *map;
	uint64_t *words;
	unsigned long reads, retargets, collapses, collapse_failed;
	char why[256];		/* a reason to skip the operation */
};

/* The file, filled, mapped: 0, or -1 with @r->why set. */
static int setup(struct run *r)
{
	size_t i;

	r->zram = -1;
	r->len = r->op == OP_SPLIT ? THP_SIZE : psize;
	if (r->op == OP_PAGEOUT || evicts(r->op)) {
		r->fd = zram_open(ZRAM_SIZE, &r->zram);
		if (r->fd < 0) {
			snprintf(r->why, sizeof(r->why),
				 "no zram device (CONFIG_ZRAM, zram-control)");
			return -1;
		}
	} else {
		r->fd = memfd_create("mmrace-adv-ops", 0);
		if (r->fd < 0 || ftruncate(r->fd, r->len))
			ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	}
	if (r->op == OP_SPLIT &&
	    access("/sys/kernel/debug/split_huge_pages", W_OK)) {
		snprintf(r->why, sizeof(r->why),
			 "no split_huge_pages (CONFIG_TRANSPARENT_HUGEPAGE)");
		return -1;
	}
	r->map = map_aligned(r->fd, r->len);
	if (!r->map)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (i = 0; i < r->len / 8; i++)
		((uint64_t *)r->map)[i] = pattern(i);
	if (msync(r->map, r->len, MS_SYNC) || fsync(r->fd))
		ksft_exit_fail_msg("sync: %s\n", strerror(errno));
	if (r->op == OP_SPLIT &&
	    (madvise(r->map, r->len, MADV_COLLAPSE) || !in_thp(r->map))) {
		snprintf(r->why, sizeof(r->why),
			 "the memfd did not become a THP (MADV_COLLAPSE: %s)",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Gets page 0 ready for the next read and targets it. */
static void prepare(struct run *r)
{
	if (r->op == OP_SPLIT && !in_thp(r->map)) {
		r->collapses++;
		if (madvise(r->map, r->len, MADV_COLLAPSE))
			r->collapse_failed++;
	}
	/* Mapped, so that target can resolve it (and pageout reach it). */
	sink += __atomic_load_n(r->map, __ATOMIC_RELAXED);
	madvise(drain_page, psize, MADV_COLD);
	if (win_target(WINDOW, r->map))
		r->retargets++;
	/* Unmapped, so that POSIX_FADV_DONTNEED may drop it. */
	if (evicts(r->op))
		madvise(r->map, psize, MADV_DONTNEED);
}

/* Reads page 0 and checks it: 0, or -1 on a wrong read (reported). */
static int check_read(struct run *r)
{
	size_t i;

	if (pread(r->fd, r->words, psize, 0) != (ssize_t)psize) {
		ksft_print_msg("%s: pread: %s\n", op_name[r->op],
			       strerror(errno));
		return -1;
	}
	r->reads++;
	for (i = 0; i < psize / 8; i++) {
		if (r->words[i] == pattern(i))
			continue;
		ksft_print_msg("%s: word %zu read %#llx, expected %#llx\n",
			       op_name[r->op], i,
			       (unsigned long long)r->words[i],
			       (unsigned long long)pattern(i));
		return -1;
	}
	return 0;
}

/*
 * Takes a job posted by a read of the test's own, after the helper
 * stopped, and reports it done with the window closed (the read returned;
 * nothing else reads the page): 0 with the counts before and after the
 * done, or -errno (no job to take).
 */
static int done_after(struct run *r, struct mmrace_stats *b,
		      struct mmrace_stats *a, bool *wrong)
{
	char buf[256], done[64], *end;
	unsigned long long seq;
	int i, ret = -EAGAIN;

	/* A read may only bring an evicted page back: a few tries. */
	for (i = 0; i < 5 && ret == -EAGAIN && !*wrong; i++) {
		prepare(r);
		*wrong = check_read(r);
		ret = mmrace_write(MMRACE_DEBUGFS "/adversary/wait", "200");
	}
	if (ret) {
		win_stats(WINDOW, a);
		mmrace_read(MMRACE_WINDOWS "/" WINDOW "/target", buf, sizeof(buf));
		ksft_print_msg("%s: no job after %d reads: delayed=%llu throttled=%llu posted=%llu, target %.*s\n",
			       op_name[r->op], i,
			       (unsigned long long)a->delayed,
			       (unsigned long long)a->throttled,
			       (unsigned long long)a->adversary_posted,
			       (int)strcspn(buf, "\n"), buf);
		return ret;
	}
	if (mmrace_read(MMRACE_DEBUGFS "/adversary/job", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	seq = strtoull(buf, &end, 10);
	if (end == buf)
		return -ENOENT;
	ret = win_stats(WINDOW, b);
	snprintf(done, sizeof(done), "done %llu 0", seq);
	ret = ret ?: mmrace_write(MMRACE_DEBUGFS "/adversary/job", done);
	return ret ?: win_stats(WINDOW, a);
}

static void run_op(enum op op, double secs)
{
	struct mmrace_adversary adv = { 0 };
	struct run r = { .op = op, .fd = -1 };
	struct mmrace_adversary_counts *c;
	struct mmrace_stats s = { 0 }, b = { 0 }, a = { 0 };
	char advbuf[256];
	unsigned long scanned = 0;
	int traced = -ENOENT, late;
	bool wrong = false, ran;
	double t0;
	int ret;

	r.words = malloc(psize);
	if (!r.words)
		ksft_exit_fail_msg("malloc\n");
	if (setup(&r)) {
		ksft_test_result_skip("%s: %s\n", op_name[op], r.why);
		goto out;
	}
	mmrace_control("reset");
	ret = win_set(WINDOW, "pid", "%d", getpid());
	ret = ret ?: win_set(WINDOW, "phase", "loaded");
	ret = ret ?: win_set(WINDOW, "delay_us", "%d", DELAY_US);
	ret = ret ?: win_set(WINDOW, "adversary", "%s", op_name[op]);
	ret = ret ?: win_target(WINDOW, r.map);
	ret = ret ?: win_set(WINDOW, "enable", "1");
	if (ret)
		ksft_exit_fail_msg("arming %s for %s: %s\n", WINDOW,
				   op_name[op], strerror(-ret));
	ret = mmrace_adversary_start(&adv, 1);
	if (ret)
		ksft_exit_fail_msg("adversary helper: %s\n", strerror(-ret));

	if (op == OP_COMPACT)
		traced = scans_start(mmrace_own_pfn(r.map));
	t0 = now_s();
	while (!wrong && now_s() - t0 < secs) {
		prepare(&r);
		wrong = check_read(&r);
	}
	ret = mmrace_adversary_stop(&adv);
	if (ret)
		ksft_print_msg("adversary helper: %s\n", strerror(-ret));
	win_stats(WINDOW, &s);
	/* evict+reuse is the module's: no job for the helper's done. */
	late = wrong ? -ECANCELED : op == OP_EVICT_REUSE ? 0 :
	       done_after(&r, &b, &a, &wrong);
	win_set(WINDOW, "enable", "0");
	mmrace_control("reset");
	if (!traced)
		scanned = scans_stop();

	c = adv.counts;
	ksft_print_msg("%s: %lu reads (%lu with the previous target); helper: %lu jobs, %lu changed the page, %lu failed (last errno %d), %lu empty waits; wake-up mean %llu us max %llu us; op mean %llu us max %llu us\n",
		       op_name[op], r.reads, r.retargets,
		       c->jobs, c->moved, c->failed, c->last_error, c->timeouts,
		       c->jobs ? c->wake_ns_sum / c->jobs / 1000 : 0,
		       c->wake_ns_max / 1000,
		       c->jobs ? c->op_ns_sum / c->jobs / 1000 : 0,
		       c->op_ns_max / 1000);
	if (op == OP_SPLIT)
		ksft_print_msg("split: %lu collapses back into a THP, %lu failed\n",
			       r.collapses, r.collapse_failed);
	if (op == OP_COMPACT && traced)
		ksft_print_msg("compact: no compaction trace events (%s)\n",
			       strerror(-traced));
	else if (op == OP_COMPACT)
		ksft_print_msg("compact: %lu scans (trace events mm_compaction_isolate_migratepages, _freepages) covered the page\n",
			       scanned);
	ksft_print_msg("%s: %s delayed=%llu hits=%llu %s\n", op_name[op], WINDOW,
		       (unsigned long long)s.delayed,
		       (unsigned long long)s.hits,
		       win_adversary_str(&s, advbuf, sizeof(advbuf)));
	/*
	 * compact may leave the page where it is: compactions that completed
	 * and scanned count.
	 */
	ran = op == OP_COMPACT ? c->jobs > c->failed && scanned :
	      op == OP_EVICT_REUSE ? s.adversary_reused > 0 : c->moved > 0;
	if (!late && op != OP_EVICT_REUSE)
		ksft_print_msg("%s: a job done after its window closed: inside %llu -> %llu, after %llu -> %llu\n",
			       op_name[op],
			       (unsigned long long)b.adversary_inside,
			       (unsigned long long)a.adversary_inside,
			       (unsigned long long)b.adversary_after,
			       (unsigned long long)a.adversary_after);
	if (wrong)
		ksft_test_result_fail("%s: a read returned wrong data\n",
				      op_name[op]);
	else if (!late && op != OP_EVICT_REUSE && (a.adversary_inside != b.adversary_inside ||
			   a.adversary_after != b.adversary_after + 1))
		ksft_test_result_fail("%s: a job done after its window closed did not count after\n",
				      op_name[op]);
	else if (late)
		ksft_test_result_skip("%s: no job to check the inside count with (%s)\n",
				      op_name[op], strerror(-late));
	else if (s.adversary_started && s.adversary_inside && ran &&
		 (op != OP_EVICT_REUSE || s.adversary_reused))
		ksft_test_result_pass("%s: done on the held page (inside=%llu, reused=%llu), reads unchanged\n",
				      op_name[op],
				      (unsigned long long)s.adversary_inside,
				      (unsigned long long)s.adversary_reused);
	else
		ksft_test_result_skip("%s: not shown: started=%llu inside=%llu reused=%llu, %lu jobs changed the page%s\n",
				      op_name[op],
				      (unsigned long long)s.adversary_started,
				      (unsigned long long)s.adversary_inside,
				      (unsigned long long)s.adversary_reused,
				      c->moved,
				      op == OP_COMPACT && !scanned ?
				      ", no scan covered it" : "");
out:
	if (r.map)
		munmap(r.map, r.len);
	if (r.zram >= 0)
		zram_close(r.fd, r.zram);
	else if (r.fd >= 0)
		close(r.fd);
	free(r.words);
}

int main(void)
{
	const char *env = getenv("MMRACE_ADV_OPS_MS");
	double secs = (env ? atoi(env) : 3000) / 1000.0;
	cpu_set_t set;
	int loaded, op;

	ksft_print_header();
	psize = sysconf(_SC_PAGESIZE);
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	ksft_set_plan(NR_OPS);
	drain_page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (drain_page == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (op = 0; op < NR_OPS; op++)
		run_op(op, secs);
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
