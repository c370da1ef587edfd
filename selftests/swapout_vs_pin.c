// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on reclaim: MADV_PAGEOUT of a pinned anonymous page, swapped out
 * or, once MADV_FREE made it lazily freeable, discarded.
 *
 * The test swaps to a zram device of its own (hot_add, a swap header
 * written by hand, swapon(2)), removed at the end. For each way of pinning
 * (a writable long-term FOLL_PIN by GUP slow and by GUP-fast, gup_test
 * PIN_LONGTERM_TEST_START) a round runs three cases on a private anonymous
 * page:
 *
 * plain     pin the page, MADV_PAGEOUT it, write a new word through the
 *           mapping: the pin must read it.
 * fork      the same with a fork() (the child exits at once) between the
 *           MADV_PAGEOUT and the write: a swap PTE copied by fork() loses
 *           its exclusive marker, so a pinned page that was unmapped would
 *           be copied at the parent's write.
 * swapcache the page is first swapped out unpinned, read back into the
 *           swap cache (MADV_WILLNEED) and mapped by a read; then as fork:
 *           a page already in the swap cache skips reclaim's
 *           folio_maybe_dma_pinned() test, only try_to_unmap_one()'s
 *           back-off keeps it mapped.
 * lazyfree  pin the page, MADV_FREE it (clean, lazily freeable), then
 *           MADV_PAGEOUT and a write through the mapping: reclaim may
 *           discard a clean lazyfree page instead of swapping it, but not
 *           one someone holds (try_to_unmap_one()'s reference count test,
 *           the race of a direct-I/O read into a MADV_FREE buffer).
 * lazyfree_thp
 *           the same on a PMD-mapped THP, its first page pinned, MADV_FREE
 *           and MADV_PAGEOUT of the whole 2 MiB: reclaim splits the PMD
 *           (TTU_SPLIT_HUGE_PMD) and takes the PTEs one by one through the
 *           same test. (6.12 has a PMD-whole discard,
 *           __discard_anon_folio_pmd_locked(), but nothing calls it: a
 *           mutant there was not caught, as nothing runs it.)
 *
 * swapin   (no pin; run twice a round, the parent reading the page before
 *           its write and not) an unpinned page is swapped out, then the
 *           process forks: parent and child share the swap entry (fork()
 *           drops its exclusive marker). The parent's write swaps the page
 *           in through the swap cache, which the child's entry still
 *           refers to: do_swap_page() may map it writable only if it is
 *           exclusive, so the write must copy, and the child must read
 *           the word from before fork(). Exercised if the page was
 *           swapped out at fork().
 * swapoff  (no pin) the same, but between fork() and the parent's write
 *           the swap device is turned off (and on again): swapoff's
 *           unuse_pte() maps the swapped page back into parent and child
 *           alike, exclusive only where the swap PTE's marker says so, and
 *           fork() dropped it; the parent's write must copy. Exercised if
 *           the page was swapped out at fork() and mapped in the parent
 *           after swapoff (pagemap), before any access.
 *
 * After each case the pin is let go, and MADV_PAGEOUT must then swap the
 * page out (pagemap: swapped) and a read must bring back the last word
 * written; for the lazyfree cases, MADV_FREE and MADV_PAGEOUT must then
 * discard it (pagemap: neither present nor swapped; what it read before
 * is gone, as MADV_FREE allows). That shows the MADV_PAGEOUT with the pin
 * held could have swapped or discarded it. A case counts as exercised
 * only then (for swapcache, only if its first, unpinned swap-out happened
 * too; for lazyfree_thp, only if the THP was PMD-mapped when it was
 * reclaimed with the pin held).
 *
 * No window: the pin is held across the whole reclaim, so there is
 * nothing to widen; reclaim racing a pin being taken (GUP-fast against
 * try_to_unmap_one()'s clear-PTE-then-check) is not tested here.
 *
 * Invariant: a pinned page stays the page the process maps until it is
 * unpinned: the pin reads what the process wrote.
 * SKIP: no zram or no swap (CONFIG_ZRAM, CONFIG_SWAP), or a case whose
 * page never swapped out (or was never discarded, or was no THP) once let
 * go.
 * Mutants: 212-swapout-unmaps-pinned-page.patch (plain, fork, swapcache),
 * 221-lazyfree-discards-pinned-page.patch (lazyfree, lazyfree_thp),
 * 224-swapin-maps-shared-page-writable.patch (swapin),
 * 230-swapoff-maps-shared-page-exclusive.patch (swapoff).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif

#define SWAP_SIZE	(64UL << 20)

enum cas { C_PLAIN, C_FORK, C_SWAPCACHE, C_LAZYFREE, C_LAZYFREE_THP,
	   NR_CASES };
/* The pins of pin_lib.h's holds (HOLD_PIN_SLOW, HOLD_PIN_FAST) only. */
#define NR_PINS HOLD_VMSPLICE

static const char *const case_name[NR_CASES] = {
	"plain", "fork", "swapcache", "lazyfree", "lazyfree_thp"
};

static struct regress r;
static size_t psize;
static int pagemap_fd = -1, zram_id = -1;
static char swap_dev[32];
static bool swap_on;
static unsigned long exercised[NR_CASES][NR_PINS], swapped_held;
static unsigned long swapin_exercised, swapoff_exercised;

static void swap_teardown(void)
{
	if (swap_on)
		syscall(SYS_swapoff, swap_dev);
	swap_on = false;
	if (zram_id >= 0)
		mmrace_zram_remove(zram_id);
	zram_id = -1;
}

/* Swap on a fresh zram device; 0, or a reason to skip. */
static const char *swap_setup(void)
{
	char *hdr = calloc(1, psize);
	uint32_t *info = (uint32_t *)(hdr + 1024);
	int fd;

	zram_id = mmrace_zram_add(SWAP_SIZE);
	if (zram_id < 0 || !hdr)
		return "no zram device (CONFIG_ZRAM, zram-control)";
	snprintf(swap_dev, sizeof(swap_dev), "/dev/zram%d", zram_id);
	info[0] = 1;				/* version */
	info[1] = SWAP_SIZE / psize - 1;	/* last_page */
	memcpy(hdr + psize - 10, "SWAPSPACE2", 10);
	fd = open(swap_dev, O_WRONLY);
	if (fd < 0 || pwrite(fd, hdr, psize, 0) != (ssize_t)psize) {
		free(hdr);
		return "cannot write the swap header to the zram device";
	}
	close(fd);
	free(hdr);
	if (syscall(SYS_swapon, swap_dev, 0))
		return "swapon of the zram device failed (CONFIG_SWAP)";
	swap_on = true;
	return NULL;
}

static uint64_t pagemap_entry(const char *p)
{
	uint64_t e = 0;

	if (pread(pagemap_fd, &e, sizeof(e),
		  (unsigned long)p / psize * sizeof(e)) != sizeof(e))
		ksft_exit_fail_msg("pagemap: %s\n", strerror(errno));
	return e;
}

/* Whether the page at @p is swapped out (pagemap bit 62). */
static bool swapped(const char *p)
{
	return pagemap_entry(p) >> 62 & 1;
}

/* Whether the page at @p was discarded: neither present nor swapped. */
static bool discarded(const char *p)
{
	return !(pagemap_entry(p) >> 62 & 3);
}

/* MADV_PAGEOUT, retried (LRU batches): whether the page swapped out. */
static bool page_out(char *p)
{
	int i;

	for (i = 0; i < 5; i++) {
		if (madvise(p, psize, MADV_PAGEOUT))
			ksft_exit_fail_msg("MADV_PAGEOUT: %s\n", strerror(errno));
		if (swapped(p))
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * MADV_FREE then MADV_PAGEOUT of @len bytes at @p, retried (LRU batches):
 * whether the page at @p was discarded.
 */
static bool lazy_out(char *p, size_t len)
{
	int i;

	for (i = 0; i < 5; i++) {
		if (madvise(p, len, MADV_FREE) || madvise(p, len, MADV_PAGEOUT))
			ksft_exit_fail_msg("MADV_FREE, MADV_PAGEOUT: %s\n",
					   strerror(errno));
		if (discarded(p))
			return true;
		usleep(1000);
	}
	return false;
}

static void round_one(enum cas c, enum hold h, uint64_t v)
{
	static const char *const how[] = { "left mapped", "swapped out" };
	bool lazy = c == C_LAZYFREE || c == C_LAZYFREE_THP;
	size_t len = c == C_LAZYFREE_THP ? THP_SIZE : psize;
	bool pre = true, held_out;
	int ret, status;
	uint64_t seen;
	char *page;
	pid_t pid;

	if (c == C_LAZYFREE_THP) {
		page = thp_alloc();
		if (!page)
			return;
	} else {
		page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	}
	put_word(page, v);
	if (c == C_SWAPCACHE) {
		/* Out, back into the swap cache, mapped by a read fault. */
		pre = page_out(page);
		madvise(page, psize, MADV_WILLNEED);
		usleep(1000);
		if (get_word(page) != v)
			regress_violation(&r, "swapcache/%s: the page read %#llx back from swap, %#llx was written",
					  hold_name[h],
					  (unsigned long long)get_word(page),
					  (unsigned long long)v);
	}
	ret = pin_start(page, psize, PIN_WRITE |
			(h == HOLD_PIN_FAST ? PIN_FAST : PIN_SLOW));
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START (%s): %s\n",
				   hold_name[h], strerror(-ret));
	if (lazy) {
		/* Clean and lazily freeable, still pinned: reclaim it. */
		madvise(page, len, MADV_FREE);
		pre = c != C_LAZYFREE_THP || thp_pmd_mapped(page);
		madvise(page, len, MADV_PAGEOUT);
		held_out = discarded(page);
	} else {
		madvise(page, psize, MADV_PAGEOUT);
		held_out = swapped(page);
	}
	swapped_held += held_out;
	if (c != C_PLAIN) {
		pid = fork();
		if (pid < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		if (!pid)
			_exit(0);
		waitpid(pid, &status, 0);
	}
	put_word(page, v + 1);
	seen = pinned_word();
	pin_stop();
	if (seen != v + 1) {
		const char *what = how[held_out];

		if (lazy && held_out)
			what = "discarded";
		regress_violation(&r, "%s/%s: the pin reads %#llx, the process wrote %#llx (MADV_PAGEOUT %s the pinned page): the process no longer maps the pinned page",
				  case_name[c], hold_name[h],
				  (unsigned long long)seen,
				  (unsigned long long)(v + 1), what);
		goto out;
	}
	/* Let go: now the page must be discarded. */
	if (lazy) {
		if (!lazy_out(page, len)) {
			ksft_print_msg("%s/%s: the page is not discarded once let go\n",
				       case_name[c], hold_name[h]);
			goto out;
		}
		goto exercised;
	}
	/* Let go: now the page must swap out, and come back intact. */
	if (!page_out(page)) {
		ksft_print_msg("%s/%s: the page does not swap out once let go\n",
			       case_name[c], hold_name[h]);
		goto out;
	}
	if (get_word(page) != v + 1) {
		regress_violation(&r, "%s/%s: the page read %#llx back from swap, %#llx was written",
				  case_name[c], hold_name[h],
				  (unsigned long long)get_word(page),
				  (unsigned long long)(v + 1));
		goto out;
	}
exercised:
	if (pre) {
		exercised[c][h]++;
		regress_exercised(&r, 1);
	}
out:
	munmap(page, len);
}

enum swapin_how { SWAPIN_READ_FIRST, SWAPIN_WRITE, SWAPIN_SWAPOFF };

/*
 * The swapin and swapoff cases: a page swapped out and shared with a child
 * by fork(); the parent (after a read fault if @how says so, after a
 * swapoff that maps it back if it says that) writes; the child must read
 * @v.
 */
static void swapin_case(enum swapin_how how, uint64_t v)
{
	bool read_first = how == SWAPIN_READ_FIRST, mapped_back = false;
	struct sharer child;
	uint64_t seen;
	char *page;
	bool out;

	page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	put_word(page, v);
	out = page_out(page);
	sharer_fork(&child, page);
	if (how == SWAPIN_SWAPOFF) {
		if (syscall(SYS_swapoff, swap_dev))
			ksft_exit_fail_msg("swapoff %s: %s\n", swap_dev,
					   strerror(errno));
		mapped_back = pagemap_entry(page) >> 63;
		if (syscall(SYS_swapon, swap_dev, 0))
			ksft_exit_fail_msg("swapon %s again: %s\n", swap_dev,
					   strerror(errno));
	}
	if (read_first && get_word(page) != v)
		regress_violation(&r, "swapin: the parent read %#llx back from swap, %#llx was written",
				  (unsigned long long)get_word(page),
				  (unsigned long long)v);
	put_word(page, v + 1);
	seen = sharer_read(&child);
	if (seen != v)
		regress_violation(&r, "swap%s: the child reads %#llx, it had %#llx at fork(): the parent's write after swap-in went to the page the child still shares through the swap cache%s",
				  how == SWAPIN_SWAPOFF ? "off" :
				  read_first ? "in (read first)" : "in",
				  (unsigned long long)seen,
				  (unsigned long long)v,
				  seen == v + 1 ? " (the parent's data)" : "");
	else if (out && how != SWAPIN_SWAPOFF)
		swapin_exercised++;
	else if (out && mapped_back)
		swapoff_exercised++;
	munmap(page, psize);
}

static void round_seq(int c, int h, unsigned int seq)
{
	round_one(c, h, 0x5000 + seq * 0x10ULL);
}

int main(void)
{
	char missing[512] = "";
	const char *why;
	int n;

	pin_init(&r, "swapout_vs_pin", 30);
	regress_exercise_own(&r, "swap-outs and discards attempted on a pinned page");
	psize = sysconf(_SC_PAGESIZE);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		ksft_exit_skip("no /proc/self/pagemap\n");
	why = swap_setup();
	if (why) {
		swap_teardown();
		ksft_exit_skip("%s\n", why);
	}
	pin_cases(&r, case_name, NR_CASES, hold_name, NR_PINS, round_seq,
		  &exercised[0][0], missing, sizeof(missing));
	for (n = 0; n < 3 && regress_running(&r); n++) {
		swapin_case(SWAPIN_READ_FIRST, 0x7000 + n * 0x10ULL);
		swapin_case(SWAPIN_WRITE, 0x7008 + n * 0x10ULL);
		swapin_case(SWAPIN_SWAPOFF, 0x7800 + n * 0x10ULL);
	}
	ksft_print_msg("swapin: exercised %lu times; swapoff: %lu times\n",
		       swapin_exercised, swapoff_exercised);
	if (!swapin_exercised)
		snprintf(missing + strlen(missing),
			 sizeof(missing) - strlen(missing), " swapin");
	if (!swapoff_exercised)
		snprintf(missing + strlen(missing),
			 sizeof(missing) - strlen(missing), " swapoff");
	swap_teardown();
	ksft_print_msg("pinned pages swapped out or discarded by MADV_PAGEOUT: %lu\n",
		       swapped_held);
	ksft_print_msg("mmrace-exercised: %s count=%llu what=%s\n", r.name,
		       r.exercised, r.exercise);
	pin_finish(&r, "reclaim leaves pinned pages mapped", missing);
}
