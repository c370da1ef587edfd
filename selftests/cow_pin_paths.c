// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 (seed 003) on the paths beside wp_can_reuse_anon_folio(): where a
 * pin (or a GUP reference) meets a copy.
 *
 * Each round runs these cases, on a small anonymous page, on a page
 * inside a PMD-mapped anonymous THP and on a page inside a private
 * anonymous hugetlb page (MAP_HUGETLB, 2 MiB, from the pool the guest's
 * init fills):
 *
 * leak    (THP only; the small page is cow_reuse_vs_gup_pin's) the parent
 *         writes A and forks; the child vmsplice(2)s the page (a GUP-fast
 *         reference) and unmaps it; the parent writes B: a write fault on
 *         a page mapped once but referenced twice, which must copy. The
 *         child reads the pipe: A. Exercised if the parent's THP was still
 *         PMD-mapped at its write (do_huge_pmd_wp_page() decided).
 * ropin_slow, ropin_fast
 *         with a child sharing the page, the parent pins it read-only and
 *         long-term by GUP slow (pin_user_pages) or GUP-fast
 *         (pin_user_pages_fast): the pin must unshare the page first
 *         (FAULT_FLAG_UNSHARE). The child writes and exits, the parent
 *         writes B: the pin must read B. Exercised if the page was shared
 *         (and, for the THP, PMD-mapped) when pinned. On hugetlb the
 *         parent writes B while the child still maps the page and the
 *         child exits without writing: hugetlb_wp() reuses a page on its
 *         mapcount alone, so once the child is gone a wrong pin would
 *         still see B.
 * fork    the parent pins the page writable and long-term, forks (the
 *         child exits at once) and writes B: fork() must have copied the
 *         pinned page for the child, so the parent's write goes to the
 *         pinned page. Exercised if (for the THP) it was PMD-mapped at fork.
 *         On hugetlb the child lives until the parent has written (as
 *         above: with the child gone the write would reuse the page).
 * file    (small page only) a private mapping of a memfd, only read so
 *         far, so it maps the page-cache page: a read-only long-term pin
 *         must break COW first; the parent writes B; the pin reads B.
 * mprotect (small page and THP) the parent writes A and forks; the child
 *         waits; the parent makes its mapping (the whole THP)
 *         PROT_READ and then PROT_READ|PROT_WRITE again, and writes B:
 *         mprotect() may map a page writable at once only if it is
 *         exclusive (can_change_pte_writable(), can_change_pmd_writable()),
 *         and this one is shared with the child, so the write must copy.
 *         The child reads A. No pin: the other party is the child's
 *         mapping. Exercised if (for the THP) it was PMD-mapped at the
 *         parent's write.
 *
 * Invariant: a pinned page stays the page the process maps until it is
 * unpinned (the pin reads what the process wrote); COW never reuses a page
 * another party holds.
 * Mutants: 202-thp-cow-reuse-on-mapcount.patch (leak),
 * 203-gup-slow-pte-no-unshare.patch, 204-gup-fast-pte-no-unshare.patch,
 * 205-gup-slow-pmd-no-unshare.patch, 206-gup-fast-pmd-no-unshare.patch
 * (ropin), 207-gup-no-unshare-pagecache-in-cow-mapping.patch (file),
 * 208-fork-shares-pinned-pte.patch, 209-fork-shares-pinned-pmd.patch
 * (fork), 218-hugetlb-fork-shares-pinned-page.patch (fork/hugetlb),
 * 219-hugetlb-unshare-reuses-shared-page.patch (ropin/hugetlb),
 * 222-mprotect-upgrades-shared-pte.patch (mprotect/page),
 * 223-mprotect-upgrades-shared-pmd.patch (mprotect/thp).
 * No leak case on hugetlb: hugetlb_wp() reuses on the mapcount by design
 * ("there can still be leaks between processes, for example, with
 * FOLL_GET users"), so a clean kernel fails it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cow_lib.h"
#include "kselftest.h"
#include "pin_lib.h"

enum cas {
	C_LEAK, C_ROPIN_SLOW, C_ROPIN_FAST, C_FORK, C_FILE, C_MPROTECT,
	NR_CASES
};
static const char *const test_name[NR_CASES] = {
	"leak", "ropin_slow", "ropin_fast", "fork", "file", "mprotect"
};

enum kind { K_PAGE, K_THP, K_HUGETLB, NR_KINDS };
static const char *const kind_name[NR_KINDS] = { "page", "thp", "hugetlb" };

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_KINDS][NR_CASES];	/* [kind][case] */

/*
 * Whether the VMA holding @addr maps a 2 MiB hugetlb page (smaps: shared
 * with a child after fork(), or private).
 */
static bool hugetlb_mapped(const void *addr)
{
	static const char *const fields[] = {
		"Shared_Hugetlb", "Private_Hugetlb", NULL
	};

	return smaps_kb(addr, fields) >= THP_SIZE >> 10;
}

/* A page to test: small (its own mapping), inside a THP or a hugetlb page. */
static char *area_get(enum kind k, char **map)
{
	if (k == K_THP) {
		*map = thp_alloc();
		return *map ? *map + 7 * psize : NULL;
	}
	if (k == K_HUGETLB) {
		*map = mmap(NULL, THP_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (*map == MAP_FAILED)
			return NULL;
		/* A page from the pool, else SIGBUS here. */
		memset(*map, 0x22, THP_SIZE);
		return *map + 7 * psize;
	}
	*map = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED)
		return NULL;
	memset(*map, 0x22, psize);
	return *map;
}

static void area_put(enum kind k, char *map)
{
	munmap(map, k == K_PAGE ? psize : THP_SIZE);
}

/* Whether the page is still what @k says (PMD-mapped THP, hugetlb). */
static bool kind_held(enum kind k, const char *page)
{
	if (k == K_THP)
		return thp_pmd_mapped(page);
	if (k == K_HUGETLB)
		return hugetlb_mapped(page);
	return true;
}

/*
 * The start of a case with a child: a page of @k holding @a (NULL if there
 * is none here) and a pipe to the child.
 */
static char *case_start(enum kind k, char **map, int to_child[2], uint64_t a)
{
	char *page = area_get(k, map);

	if (!page)
		return NULL;
	if (pipe(to_child))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	put_word(page, a);
	return page;
}

static pid_t fork_or_fail(void)
{
	pid_t pid = fork();

	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	return pid;
}

static void case_end(enum kind k, char *map, int to_child[2])
{
	area_put(k, map);
	close(to_child[0]);
	close(to_child[1]);
}

static void leak_case(uint64_t a, uint64_t b)
{
	struct cow_leak l;
	enum cow_leak_seen seen;
	char *map, *page;
	bool was_thp;
	int status;

	page = area_get(K_THP, &map);
	if (!page)
		return;
	put_word(page, a);
	cow_leak_fork(&l, page, map, THP_SIZE, a, b);
	was_thp = thp_pmd_mapped(page);
	put_word(page, b);	/* COW fault: must copy */
	seen = cow_leak_reap(&l, &status);
	if (seen == COW_LEAK_FAILED)
		regress_violation(&r, "leak/thp: the vmsplice child failed (status %#x)",
				  status);
	else if (seen == COW_LEAK_LEAKED)
		regress_violation(&r, "leak/thp: the child read the parent's post-fork write from its pipe: the THP COW fault reused a page the pipe references");
	else if (was_thp)
		exercised[K_THP][C_LEAK]++;
	area_put(K_THP, map);
}

static void ropin_case(enum kind k, bool fast, uint64_t a, uint64_t b)
{
	enum cas c = fast ? C_ROPIN_FAST : C_ROPIN_SLOW;
	int to_child[2], status, ret;
	char *map, *page;
	bool was_kind;
	uint64_t seen;
	pid_t pid;

	page = case_start(k, &map, to_child, a);
	if (!page)
		return;
	pid = fork_or_fail();
	if (!pid) {
		cow_wait_byte(to_child[0]);
		if (k != K_HUGETLB)
			put_word(page, ~a);	/* the child's copy */
		_exit(0);
	}
	was_kind = kind_held(k, page);
	ret = pin_start(page, psize, fast ? PIN_FAST : PIN_SLOW);
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(-ret));
	if (k == K_HUGETLB)
		put_word(page, b);	/* while the child maps the page */
	cow_send_byte(to_child[1]);
	waitpid(pid, &status, 0);
	if (k != K_HUGETLB)
		put_word(page, b);
	seen = pinned_word();
	pin_stop();
	if (seen != b)
		regress_violation(&r, "%s/%s: the read-only pin reads %#llx, the process wrote %#llx%s",
				  test_name[c], kind_name[k],
				  (unsigned long long)seen,
				  (unsigned long long)b,
				  seen == ~a ? " (the child's data)" :
				  seen == a ? " (the data before the write)" : "");
	else if (was_kind)
		exercised[k][c]++;
	case_end(k, map, to_child);
}

static void fork_case(enum kind k, uint64_t a, uint64_t b)
{
	int to_child[2], status, ret;
	char *map, *page;
	bool was_kind;
	uint64_t seen;
	pid_t pid;

	page = case_start(k, &map, to_child, a);
	if (!page)
		return;
	ret = pin_start(page, psize, PIN_WRITE);
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(-ret));
	was_kind = kind_held(k, page);
	pid = fork_or_fail();
	if (!pid) {
		if (k == K_HUGETLB)
			cow_wait_byte(to_child[0]);
		_exit(0);
	}
	if (k == K_HUGETLB) {
		put_word(page, b);	/* while the child lives */
		cow_send_byte(to_child[1]);
	}
	waitpid(pid, &status, 0);
	if (k != K_HUGETLB)
		put_word(page, b);
	seen = pinned_word();
	pin_stop();
	if (seen != b)
		regress_violation(&r, "fork/%s: the writable pin reads %#llx, the process wrote %#llx after fork(): fork() shared the pinned page and the write copied it away",
				  kind_name[k],
				  (unsigned long long)seen,
				  (unsigned long long)b);
	else if (was_kind)
		exercised[k][C_FORK]++;
	case_end(k, map, to_child);
}

static void file_case(uint64_t b)
{
	char *map, *data;
	uint64_t seen;
	int fd, ret;

	data = malloc(psize);
	fd = memfd_create("cow_pin_paths", 0);
	if (!data || fd < 0)
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	memset(data, 0x33, psize);
	if (write(fd, data, psize) != (ssize_t)psize)
		ksft_exit_fail_msg("write: %s\n", strerror(errno));
	map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	get_word(map);	/* map the page-cache page */
	ret = pin_start(map, psize, PIN_SLOW);
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(-ret));
	put_word(map, b);
	seen = pinned_word();
	pin_stop();
	if (seen != b)
		regress_violation(&r, "file/page: the read-only pin of a private file mapping reads %#llx, the process wrote %#llx: the pin holds the page-cache page, the write went to a COW copy",
				  (unsigned long long)seen,
				  (unsigned long long)b);
	else
		exercised[K_PAGE][C_FILE]++;
	munmap(map, psize);
	close(fd);
	free(data);
}

static void mprotect_case(enum kind k, uint64_t a, uint64_t b)
{
	size_t len = k == K_PAGE ? psize : THP_SIZE;
	struct sharer child;
	char *map, *page;
	bool was_kind;
	uint64_t seen;

	page = area_get(k, &map);
	if (!page)
		return;
	put_word(page, a);
	sharer_fork(&child, page);
	if (mprotect(map, len, PROT_READ) ||
	    mprotect(map, len, PROT_READ | PROT_WRITE))
		ksft_exit_fail_msg("mprotect: %s\n", strerror(errno));
	was_kind = kind_held(k, page);
	put_word(page, b);
	seen = sharer_read(&child);
	if (seen != a)
		regress_violation(&r, "mprotect/%s: the child reads %#llx, it had %#llx at fork(): the parent's write after mprotect(PROT_READ|PROT_WRITE) went to the page it shares with the child%s",
				  kind_name[k], (unsigned long long)seen,
				  (unsigned long long)a,
				  seen == b ? " (the parent's data)" : "");
	else if (was_kind)
		exercised[k][C_MPROTECT]++;
	area_put(k, map);
}

int main(void)
{
	static const bool wanted[NR_KINDS][NR_CASES] = {
		{ false, true, true, true, true, true },
		{ true, true, true, true, false, true },
		{ false, true, true, true, false, false },
	};
	char missing[512] = "";
	uint64_t v = 0x1000;
	int k, c, n;

	pin_init(&r, "cow_pin_paths", 30);
	psize = sysconf(_SC_PAGESIZE);
	for (n = 0; n < 3 && regress_running(&r); n++, v += 0x100) {
		for (k = 0; k < NR_KINDS && regress_running(&r); k++) {
			ropin_case(k, false, v + 2, v + 3);
			ropin_case(k, true, v + 4, v + 5);
			fork_case(k, v + 6, v + 7);
			if (k != K_HUGETLB)
				mprotect_case(k, v + 11, v + 12);
		}
		leak_case(v + 8, v + 9);
		file_case(v + 10);
	}
	for (k = 0; k < NR_KINDS; k++)
		for (c = 0; c < NR_CASES; c++) {
			if (!wanted[k][c])
				continue;
			ksft_print_msg("%s/%s: exercised %lu times\n",
				       test_name[c], kind_name[k],
				       exercised[k][c]);
			if (!exercised[k][c])
				snprintf(missing + strlen(missing),
					 sizeof(missing) - strlen(missing),
					 " %s/%s", test_name[c], kind_name[k]);
		}
	pin_finish(&r, "pins and GUP references keep the process's page through COW and fork",
		   missing);
}
