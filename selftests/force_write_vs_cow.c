// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on the forced-write path: FOLL_FORCE writes through GUP into a
 * read-only private mapping (ptrace's POKEDATA, /proc/PID/mem: a
 * debugger's breakpoints) must break COW, never write the page they find.
 *
 * Through a read-only entry, can_follow_write_pte() and
 * can_follow_write_pmd() (mm/gup.c) let a forced write through only to
 * an exclusive anonymous page, one this process's own COW fault made;
 * anything else must first take a write fault, which copies. A round
 * writes a word through /proc/self/mem at a read-only address mapping:
 *
 *   file       a memfd page mapped MAP_PRIVATE, read first, so the entry
 *              maps the page cache's page (its pfn is the one a shared
 *              mapping of the file maps);
 *   anon       a private anonymous page shared with a child after
 *              fork() (the child maps the same pfn), then mprotect()ed
 *              read-only;
 *   thp        the same for a PMD-mapped THP (page 5 of it), the whole
 *              THP mprotect()ed, still PMD-mapped;
 *   huge_zero  a read-only, THP-enabled anonymous range read first, so
 *              the PMD maps the huge zero page (/proc/kpageflags:
 *              KPF_ZERO_PAGE and KPF_THP).
 *
 * and checks the write went to a copy of the writer's own: the process
 * reads the new word; the file, the child, and another range mapping the
 * huge zero page still read the old one. A round counts as exercised
 * when the precondition above held when the write was made (checked,
 * not assumed) and the writer reads its word.
 *
 * Invariant: a forced write into a private mapping never changes what
 * another party (the file, a process sharing the page, the zero page)
 * sees.
 * Verdict: fails on a violation; passes only if every case was exercised;
 * SKIP naming the others (no THP, no huge zero page). No window: nothing
 * races here, the write meets the shared page at once.
 * Mutants: 238-force-write-pte-any-page.patch (file, anon),
 * 239-force-write-pmd-any-page.patch (thp, huge_zero).
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

#define KPF_THP		22
#define KPF_ZERO_PAGE	24

enum kind { K_FILE, K_ANON, K_THP, K_HUGE_ZERO, NR_KIND };
static const char *const kind_name[NR_KIND] = {
	"file", "anon", "thp", "huge_zero"
};
static const char *const how_name[1] = { "proc_mem" };

static struct regress r;
static size_t psize;
static int mem_fd;
static unsigned long exercised[NR_KIND];

/* The forced write (a failed one fails the test: FOLL_FORCE must work). */
static void force_write(char *addr, uint64_t v)
{
	ssize_t n = pwrite(mem_fd, &v, sizeof(v), (unsigned long)addr);

	if (n != sizeof(v))
		ksft_exit_fail_msg("pwrite of /proc/self/mem at %p: %s\n", addr,
				   n < 0 ? strerror(errno) : "short");
}

/* Whether the PMD at @addr maps the huge zero page. */
static bool maps_huge_zero(const char *addr)
{
	uint64_t pfn = mmrace_own_pfn(addr), flags;

	return pfn && !mmrace_kpageflags(pfn, &flags) &&
	       (flags >> KPF_ZERO_PAGE & 1) && (flags >> KPF_THP & 1);
}

static void round_file(uint64_t v)
{
	char *priv, *shared;
	uint64_t old = v - 1, seen = 0;
	bool pre;
	int fd;

	fd = memfd_create("mmrace-force", 0);
	if (fd < 0 || ftruncate(fd, psize))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	shared = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, psize, PROT_READ, MAP_PRIVATE, fd, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	put_word(shared, old);
	/* The read maps the page cache's page at priv, read-only. */
	pre = get_word(priv) == old &&
	      mmrace_own_pfn(priv) == mmrace_own_pfn(shared);
	force_write(priv, v);
	if (pread(fd, &seen, sizeof(seen), 0) != sizeof(seen))
		ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	if (seen != old)
		regress_violation(&r, "file: the file reads %#llx after a forced write of %#llx into a read-only private mapping of it (was %#llx): the page cache's page was written",
				  (unsigned long long)seen,
				  (unsigned long long)v,
				  (unsigned long long)old);
	else if (pre && get_word(priv) == v)
		exercised[K_FILE]++;
	munmap(priv, psize);
	munmap(shared, psize);
	close(fd);
}

/* anon and thp: a page shared with a child after fork(). */
static void round_shared(bool thp, uint64_t v)
{
	uint64_t old = v - 1, seen;
	struct sharer s;
	char *map, *page;
	bool pre;

	page = anon_page_get(thp, &map);
	if (!page)
		return;
	put_word(page, old);
	sharer_fork(&s, page);
	if (mprotect(map, thp ? THP_SIZE : psize, PROT_READ))
		ksft_exit_fail_msg("mprotect: %s\n", strerror(errno));
	pre = mmrace_own_pfn(page) &&
	      mmrace_own_pfn(page) == mmrace_pid_pfn(s.pid, page) &&
	      (!thp || thp_pmd_mapped(page));
	force_write(page, v);
	seen = sharer_read(&s);
	if (seen != old)
		regress_violation(&r, "%s: the child reads %#llx after the parent's forced write of %#llx into the page they shared read-only (was %#llx): the shared page was written",
				  thp ? "thp" : "anon",
				  (unsigned long long)seen,
				  (unsigned long long)v,
				  (unsigned long long)old);
	else if (pre && get_word(page) == v)
		exercised[thp ? K_THP : K_ANON]++;
	anon_page_put(thp, map);
}

static void round_huge_zero(uint64_t v)
{
	char *a, *b, *page;
	uint64_t seen;
	bool pre;

	a = thp_area(PROT_READ);
	b = thp_area(PROT_READ);
	if (!a || !b) {
		/* No THP here: the case is never exercised (SKIP). */
		if (a)
			munmap(a, THP_SIZE);
		if (b)
			munmap(b, THP_SIZE);
		return;
	}
	page = a + 5 * psize;
	pre = get_word(page) == 0 && maps_huge_zero(page);
	force_write(page, v);
	/* Another range's read maps the huge zero page too. */
	seen = get_word(b + 5 * psize);
	if (seen)
		regress_violation(&r, "huge_zero: a fresh THP-enabled range reads %#llx after a forced write of %#llx into another read-only one: the huge zero page was written",
				  (unsigned long long)seen,
				  (unsigned long long)v);
	else if (pre && maps_huge_zero(b + 5 * psize) && get_word(page) == v)
		exercised[K_HUGE_ZERO]++;
	munmap(a, THP_SIZE);
	munmap(b, THP_SIZE);
}

static void round_one(int k, int how, unsigned int seq)
{
	uint64_t v = 0x666f726365000000ULL + seq * 2 + 1;

	(void)how;
	switch (k) {
	case K_FILE:
		round_file(v);
		break;
	case K_ANON:
	case K_THP:
		round_shared(k == K_THP, v);
		break;
	case K_HUGE_ZERO:
		round_huge_zero(v);
		break;
	}
}

int main(void)
{
	char missing[256] = "";

	pin_init(&r, "force_write_vs_cow", 10);
	psize = sysconf(_SC_PAGESIZE);
	mem_fd = open("/proc/self/mem", O_RDWR);
	if (mem_fd < 0)
		ksft_exit_fail_msg("/proc/self/mem: %s\n", strerror(errno));
	pin_cases(&r, kind_name, NR_KIND, how_name, 1, round_one, exercised,
		  missing, sizeof(missing));
	pin_finish(&r, "a forced write into a private mapping never writes a page others see",
		   missing);
}
