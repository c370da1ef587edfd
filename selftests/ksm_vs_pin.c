// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on KSM: ksmd merging a page someone holds.
 *
 * Each round maps four anonymous pages, MADV_MERGEABLE: pages 0 and 1 with
 * one content, pages 2 and 3 (the control) with another, both new in each
 * round. Page 0 is held, one of three ways: a writable long-term FOLL_PIN by
 * GUP-fast or GUP slow (gup_test PIN_LONGTERM_TEST_START), or a FOLL_GET
 * reference by vmsplice(2) into a pipe. Then ksmd runs (run=1,
 * sleep_millisecs=0) until the control twins are merged (both pages are
 * KSM pages in /proc/kpageflags) or 8 full scans have passed. Then the
 * process writes a new word to page 0 and the holder reads the page
 * (PIN_LONGTERM_TEST_READ, read(2) of the pipe): it must read that word.
 *
 * On a correct kernel write_protect_page() refuses page 0 (its reference
 * count is above its mapcount + 1, and a pinned exclusive page cannot be
 * shared), so it stays the process's writable page; had ksmd merged it,
 * the write would fault on the write-protected KSM page and go to a copy
 * the holder never sees.
 *
 * Invariant: a pinned (or GUP-referenced) page stays the page the process
 * maps until it is let go: what the holder reads is what the process
 * wrote.
 * Verdict: fails on a violation; passes only if, for each way of holding,
 * ksmd merged the control twins in at least one round while page 0 was
 * held (KSM ran over the held page's neighbours and merged what it could);
 * else SKIP naming the cases (also without CONFIG_KSM).
 * Mutant: 217-ksm-merges-pinned-page.patch.
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
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#define KSM		"/sys/kernel/mm/ksm/"
#define KPF_KSM		21
#define NR_PAGES	4
#define MAX_SCANS	8

static const char *const page_name[1] = { "page" };

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_HOLD];
static char saved_run[32], saved_sleep[32], saved_scan[32], saved_smart[32];
static char *buf;

static long ksm_read(const char *file)
{
	char path[128], val[32];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), KSM "%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	val[n] = 0;
	return atol(val);
}

static int ksm_write(const char *file, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), KSM "%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static void ksm_save(const char *file, char *val, size_t len)
{
	long v = ksm_read(file);

	if (v < 0)
		ksft_exit_skip("no " KSM "%s (CONFIG_KSM)\n", file);
	snprintf(val, len, "%ld", v);
}

/* Whether the page mapped at @addr is a KSM page (/proc/kpageflags). */
static bool page_ksm(const void *addr)
{
	uint64_t ent = 0, flags = 0, pfn;
	bool ksm = false;
	int pm, kf;

	pm = open("/proc/self/pagemap", O_RDONLY);
	kf = open("/proc/kpageflags", O_RDONLY);
	if (pm >= 0 && kf >= 0 &&
	    pread(pm, &ent, 8, (unsigned long)addr / psize * 8) == 8 &&
	    (ent >> 63)) {
		pfn = ent & ((1ULL << 55) - 1);
		if (pfn && pread(kf, &flags, 8, pfn * 8) == 8)
			ksm = flags >> KPF_KSM & 1;
	}
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return ksm;
}

/* Runs ksmd until @map's control twins are merged or MAX_SCANS passed. */
static bool ksm_merge(char *map)
{
	long start = ksm_read("full_scans"), now = start;
	bool merged = false;

	if (ksm_write("run", "1"))
		ksft_exit_fail_msg("cannot start ksmd\n");
	while (regress_running(&r) && now >= 0 && now - start < MAX_SCANS) {
		merged = page_ksm(map + 2 * psize) && page_ksm(map + 3 * psize);
		if (merged)
			break;
		usleep(1000);
		now = ksm_read("full_scans");
	}
	ksm_write("run", "0");
	return merged;
}

static void round_one(int hold, int b, unsigned int seq)
{
	uint64_t w = 0x5000000 + seq * 4, seen = 0;
	struct held held;
	int ret, i;
	bool merged, held_ksm;
	char *map;

	(void)b;
	map = mmap(NULL, NR_PAGES * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise(map, NR_PAGES * psize, MADV_NOHUGEPAGE);
	for (i = 0; i < NR_PAGES; i++) {
		memset(map + i * psize, i < 2 ? 0x5a : 0xa5, psize);
		put_word(map + i * psize, w + (i >> 1));
	}
	if (madvise(map, NR_PAGES * psize, MADV_MERGEABLE))
		ksft_exit_fail_msg("MADV_MERGEABLE: %s\n", strerror(errno));
	ret = hold_start(&held, hold, map, psize);
	if (ret)
		ksft_exit_fail_msg("holding the page by %s: %s\n",
				   hold_name[hold], strerror(-ret));
	merged = ksm_merge(map);
	held_ksm = page_ksm(map);
	put_word(map, w + 2);
	ret = hold_read_stop(&held, buf, psize);
	if (ret)
		ksft_exit_fail_msg("reading the held page: %s\n", strerror(-ret));
	seen = *(uint64_t *)buf;
	if (seen != w + 2)
		regress_violation(&r, "%s: the holder reads %#llx, the process wrote %#llx%s: ksmd merged the held page",
				  hold_name[hold], (unsigned long long)seen,
				  (unsigned long long)(w + 2),
				  held_ksm ? " (page 0 was a KSM page before the write)" : "");
	else if (merged)
		exercised[hold]++;
	madvise(map, NR_PAGES * psize, MADV_UNMERGEABLE);
	munmap(map, NR_PAGES * psize);
}

int main(void)
{
	char missing[256] = "";

	pin_init(&r, "ksm_vs_pin", 30);
	psize = sysconf(_SC_PAGESIZE);
	buf = malloc(psize);
	if (!buf)
		ksft_exit_fail_msg("malloc\n");
	ksm_save("run", saved_run, sizeof(saved_run));
	ksm_save("sleep_millisecs", saved_sleep, sizeof(saved_sleep));
	ksm_save("pages_to_scan", saved_scan, sizeof(saved_scan));
	/* Smart scan would skip a page that failed to merge (page 0). */
	if (ksm_read("smart_scan") >= 0) {
		ksm_save("smart_scan", saved_smart, sizeof(saved_smart));
		ksm_write("smart_scan", "0");
	}
	if (ksm_write("sleep_millisecs", "0") ||
	    ksm_write("pages_to_scan", "1000"))
		ksft_exit_fail_msg("cannot set ksmd up\n");

	pin_cases(&r, hold_name, NR_HOLD, page_name, 1, round_one, exercised,
		  missing, sizeof(missing));

	ksm_write("run", saved_run);
	ksm_write("sleep_millisecs", saved_sleep);
	ksm_write("pages_to_scan", saved_scan);
	if (*saved_smart)
		ksm_write("smart_scan", saved_smart);
	pin_finish(&r, "a pinned or GUP-referenced page is never merged by KSM",
		   missing);
}
