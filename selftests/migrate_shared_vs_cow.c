// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 (seed 003) on migration's way back: a page that fork() left
 * shared between parent and child is migrated, and must come back shared.
 *
 * Migration replaces each mapping of the page by a migration entry that
 * records whether the page was exclusive to that process (readable,
 * readable-exclusive or writable entries: try_to_migrate_one()), and the
 * new page is mapped back from those entries (remove_migration_pte(),
 * remove_migration_pmd() for a PMD-mapped THP), exclusive only where the
 * entry says so. A page shared after fork() is exclusive to neither, so
 * the parent's next write must copy it: COW never reuses a page another
 * party maps.
 *
 * For a small anonymous page and for a PMD-mapped anonymous THP (fork()
 * shares the PMD), each round writes a word, forks (the child waits),
 * migrates the page to the other node with move_pages(2)
 * (MPOL_MF_MOVE_ALL: it is mapped twice), then the parent writes a new
 * word (after a read of it in every other round) and the child reads the
 * page: it must read the word from before fork(). A round counts as
 * exercised only if the page moved while shared (its node changed) and,
 * for the THP, was PMD-mapped in the parent before and after.
 *
 * Invariant: migration keeps a shared anonymous page shared; the parent's
 * write after it goes to a copy, the child keeps its bytes.
 * Verdict: fails on a violation (or a kernel BUG/WARNING in the log);
 * passes only if both kinds were exercised; SKIP naming a kind that was
 * not (one NUMA node, no THP, a page that never moved).
 * Mutants: 231-migrate-restores-shared-pte-exclusive.patch (page),
 * 232-migrate-restores-shared-pmd-exclusive.patch (thp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL 4
#endif

enum kind { K_PAGE, K_THP, NR_KIND };
static const char *const kind_name[NR_KIND] = { "page", "thp" };
static const char *const op_name[1] = { "migrate" };

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_KIND];

/* Moves the page at @p, mapped by two processes, to the other node. */
static bool move_shared(char *p)
{
	void *pages[1] = { p };
	int node = page_node(p), status = -1;

	if (node < 0)
		return false;
	node = !node;
	if (syscall(SYS_move_pages, 0, 1, pages, &node, &status,
		    MPOL_MF_MOVE_ALL) < 0)
		return false;
	return page_node(p) == node;
}

static void round_one(int k, int op, unsigned int seq)
{
	uint64_t v = 0x5300000 + seq * 4, seen;
	bool moved, pmd_before = true, pmd_after = true;
	struct sharer child;
	char *map, *page;

	(void)op;
	page = anon_page_get(k == K_THP, &map);
	if (!page)
		return;
	put_word(page, v);
	sharer_fork(&child, page);
	if (k == K_THP)
		pmd_before = thp_pmd_mapped(page);
	moved = move_shared(page);
	if (k == K_THP)
		pmd_after = thp_pmd_mapped(page);
	if ((seq & 1) && get_word(page) != v)
		regress_violation(&r, "%s: the parent reads %#llx after the migration, it wrote %#llx",
				  kind_name[k],
				  (unsigned long long)get_word(page),
				  (unsigned long long)v);
	put_word(page, v + 1);
	seen = sharer_read(&child);
	if (seen != v)
		regress_violation(&r, "%s: the child reads %#llx, it had %#llx at fork(): the parent's write after the migration (%s) reused the page the child maps%s",
				  kind_name[k], (unsigned long long)seen,
				  (unsigned long long)v,
				  moved ? "moved" : "not moved",
				  seen == v + 1 ? " (the parent's data)" : "");
	else if (moved && pmd_before && pmd_after)
		exercised[k]++;
	anon_page_put(k == K_THP, map);
}

int main(void)
{
	char missing[256] = "";

	pin_init(&r, "migrate_shared_vs_cow", 30);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	pin_cases(&r, kind_name, NR_KIND, op_name, 1, round_one, exercised,
		  missing, sizeof(missing));
	pin_finish(&r, "migration keeps a page shared after fork() shared: the parent's write copies it",
		   missing);
}
