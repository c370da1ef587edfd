// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on THP split: splitting a THP one of whose pages someone holds.
 *
 * A split freezes the folio's reference count at the count it can account
 * for (its mappings, the page cache, its caller) and backs off if the
 * count is anything else; the pages it makes get their counts from that
 * accounting. A pin or a GUP reference on a page of a THP is a reference
 * on the folio that no accounting explains: the split must fail while it
 * is held, or the holder's reference ends up on a page whose count never
 * had it (an unpin then takes GUP_PIN_COUNTING_BIAS off a small page, a
 * put frees a page still mapped), and the page is no longer known to be
 * pinned (a fork shares it, reclaim unmaps it).
 *
 * For each way of splitting (a path of its own in the kernel, each with
 * its own checks before split_huge_page_to_list_to_order()) and each way
 * of holding page HELD_PAGE of a PMD-mapped THP (a writable long-term
 * FOLL_PIN by GUP slow and by GUP-fast, gup_test PIN_LONGTERM_TEST_START;
 * a FOLL_GET reference by vmsplice(2) into a pipe), a round maps a THP,
 * writes a word to each page, holds the page, and asks for the split:
 *   anon/debugfs   split_huge_pages (debugfs), "pid,start,end" of the
 *                  range: split_huge_pages_pid();
 *   anon/deferred  munmap(2) of the THP's first half, then the deferred
 *                  split shrinker (drop_caches 2): deferred_split_scan();
 *   anon/cold      MADV_COLD of the first half of the PMD-mapped range:
 *                  madvise_cold_or_pageout_pte_range() splits the folio;
 *   anon/pmd       not a split of the folio but of its PMD mapping
 *                  (__split_huge_pmd_locked(), by mprotect(2) of the
 *                  first page), then mprotect(2) of the whole range
 *                  read-only and back: the PTEs of an exclusive THP must
 *                  come out exclusive (PageAnonExclusive) and writable
 *                  again, or the process's write copies the pinned page;
 *   shmem/debugfs  split_huge_pages on a memfd THP mapped shared;
 *   shmem/punch    fallocate(PUNCH_HOLE) of the memfd THP's first half:
 *                  truncate_inode_partial_folio().
 * With the page still held, /proc/kpageflags must show it still part of a
 * compound page, and the holder (PIN_LONGTERM_TEST_READ, read(2) of the
 * pipe) must read the word the process then writes to it. Then the round
 * lets go and asks again the same way (the deferred path only runs the
 * shrinker again; the punch goes to the THP's last page): the page must now
 * be split. That shows the attempt made with the page held could have
 * split it: only then does the case count as exercised. The anon/pmd case
 * counts when the PMD was split with the page held (smaps' AnonHugePages).
 *
 * Invariant: a large folio is never split while a page of it is pinned or
 * GUP-referenced; the pinned page stays the page the process maps.
 * Verdict: fails on a violation (or a kernel BUG/WARNING, in the log);
 * passes only if every case was exercised; SKIP naming the cases that were
 * not (no THP to be had, a split that did not happen once let go).
 * Mutants: 227-split-ignores-pins.patch (every path but the debugfs ones,
 * whose own check before the split still refuses; anon/pmd splits no
 * folio), 229-pmd-split-drops-anon-exclusive.patch (anon/pmd).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#define SPLIT_FILE	"/sys/kernel/debug/split_huge_pages"
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
/* In the THP's second half, which no path here unmaps, punches or cools. */
#define HELD_PAGE	300

enum path { ANON_DEBUGFS, ANON_DEFERRED, ANON_COLD, ANON_PMD,
	    SHMEM_DEBUGFS, SHMEM_PUNCH, NR_PATH };
static const char *const path_name[NR_PATH] = {
	"anon/debugfs", "anon/deferred", "anon/cold", "anon/pmd",
	"shmem/debugfs", "shmem/punch"
};

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_HOLD * NR_PATH];
static char *buf;

struct thp {
	char *map;
	int fd;		/* the memfd of the shmem paths, else -1 */
};

static bool path_shmem(int path)
{
	return path >= SHMEM_DEBUGFS;
}

/* A PMD-mapped THP, anonymous or a memfd's mapped shared; false if none. */
static bool thp_get(struct thp *t, int path)
{
	static const char *const pmd[] = { "ShmemPmdMapped", NULL };
	char *res;

	t->fd = -1;
	if (!path_shmem(path)) {
		t->map = thp_alloc();
		return t->map;
	}
	t->fd = memfd_create("split_vs_pin", 0);
	if (t->fd < 0 || ftruncate(t->fd, THP_SIZE))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	res = mmap(NULL, 2 * THP_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	t->map = (char *)(((unsigned long)res + THP_SIZE - 1) &
			  ~(THP_SIZE - 1));
	if (t->map > res)
		munmap(res, t->map - res);
	munmap(t->map + THP_SIZE, res + THP_SIZE - t->map);
	if (mmap(t->map, THP_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, t->fd, 0) == MAP_FAILED ||
	    madvise(t->map, THP_SIZE, MADV_HUGEPAGE))
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(t->map, 0x5a, THP_SIZE);
	if (smaps_kb(t->map, pmd) >= THP_SIZE >> 10)
		return true;
	munmap(t->map, THP_SIZE);
	close(t->fd);
	return false;
}

static void thp_put(struct thp *t)
{
	munmap(t->map, THP_SIZE);
	if (t->fd >= 0)
		close(t->fd);
}

/* Whether the page mapped at @addr is part of a compound page now. */
static bool page_compound(const char *addr, int path)
{
	uint64_t pfn, flags = 0;
	int ret;

	/* A punch unmaps the folio first: fault it back in. */
	(void)get_word(addr);
	pfn = mmrace_own_pfn(addr);
	ret = pfn ? mmrace_kpageflags(pfn, &flags) : -ENOENT;

	if (ret)
		ksft_exit_fail_msg("%s: page %d: %s\n", path_name[path],
				   HELD_PAGE, pfn ? strerror(-ret) :
				   "not present (/proc/self/pagemap)");
	return flags & (1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL);
}

/* Asks for the THP's split by @path; @again: the attempt once let go. */
static void split_ask(struct thp *t, int path, bool again)
{
	char cmd[96];

	switch (path) {
	case ANON_DEBUGFS:
	case SHMEM_DEBUGFS:
		snprintf(cmd, sizeof(cmd), "%d,0x%lx,0x%lx", getpid(),
			 (unsigned long)t->map,
			 (unsigned long)t->map + THP_SIZE);
		if (mmrace_write(SPLIT_FILE, cmd))
			ksft_exit_skip("cannot write %s (CONFIG_DEBUG_FS, THP)\n",
				       SPLIT_FILE);
		break;
	case ANON_DEFERRED:
		if (!again && munmap(t->map, THP_SIZE / 2))
			ksft_exit_fail_msg("munmap: %s\n", strerror(errno));
		if (mmrace_write("/proc/sys/vm/drop_caches", "2"))
			ksft_exit_fail_msg("drop_caches: %s\n", strerror(errno));
		break;
	case ANON_COLD:
		if (madvise(t->map, THP_SIZE / 2, MADV_COLD))
			ksft_exit_fail_msg("MADV_COLD: %s\n", strerror(errno));
		break;
	case ANON_PMD:
		/* The PMD split by the first, the pages write-protected. */
		if (mprotect(t->map, psize, PROT_READ) ||
		    mprotect(t->map, THP_SIZE, PROT_READ) ||
		    mprotect(t->map, THP_SIZE, PROT_READ | PROT_WRITE))
			ksft_exit_fail_msg("mprotect: %s\n", strerror(errno));
		break;
	case SHMEM_PUNCH:
		if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      again ? THP_SIZE - psize : 0,
			      again ? psize : THP_SIZE / 2))
			ksft_exit_fail_msg("PUNCH_HOLE: %s\n", strerror(errno));
		break;
	}
}

static void round_one(int hold, int path, unsigned int seq)
{
	uint64_t w = 0x5100000 + seq * 4, seen;
	struct held held;
	struct thp t;
	bool pmd_split;
	char *page;
	size_t i;
	int ret;

	if (!thp_get(&t, path))
		return;
	page = t.map + HELD_PAGE * psize;
	for (i = 0; i < THP_SIZE / psize; i++)
		put_word(t.map + i * psize, w);
	ret = hold_start(&held, hold, page, psize);
	if (ret)
		ksft_exit_fail_msg("holding the page by %s: %s\n",
				   hold_name[hold], strerror(-ret));
	split_ask(&t, path, false);
	pmd_split = !thp_pmd_mapped(page);
	if (!page_compound(page, path))
		regress_violation(&r, "%s/%s: the THP was split while page %d was held: the split froze a reference it does not account for",
				  hold_name[hold], path_name[path], HELD_PAGE);
	put_word(page, w + 1);
	ret = hold_read_stop(&held, buf, psize);
	if (ret)
		ksft_exit_fail_msg("reading the held page: %s\n", strerror(-ret));
	seen = *(uint64_t *)buf;
	if (seen != w + 1)
		regress_violation(&r, "%s/%s: the holder reads %#llx, the process wrote %#llx",
				  hold_name[hold], path_name[path],
				  (unsigned long long)seen,
				  (unsigned long long)(w + 1));
	if (path == ANON_PMD) {
		/* Its conflicting change is the PMD split: done, held. */
		exercised[hold * NR_PATH + path] += pmd_split && !r.violated;
	} else if (!r.violated) {
		split_ask(&t, path, true);
		if (!page_compound(page, path))
			exercised[hold * NR_PATH + path]++;
	}
	thp_put(&t);
}

int main(void)
{
	char missing[512] = "";

	pin_init(&r, "split_vs_pin", 30);
	psize = sysconf(_SC_PAGESIZE);
	buf = malloc(psize);
	if (!buf)
		ksft_exit_fail_msg("malloc\n");
	mmrace_shmem_thp_advise();

	pin_cases(&r, hold_name, NR_HOLD, path_name, NR_PATH, round_one,
		  exercised, missing, sizeof(missing));

	pin_finish(&r, "a THP is never split while a page of it is pinned or GUP-referenced",
		   missing);
}
