// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 (seed 003) on fork() against migration: fork() copying a page
 * table entry that migration has replaced by a migration entry.
 *
 * While migration holds an anonymous page unmapped, each process that
 * mapped it has a migration entry recording whether the page was writable
 * and exclusive to it. fork() copies such an entry into the child, and
 * must make it readable (shared) in both: the page will be mapped back
 * from these entries (remove_migration_pte(), remove_migration_pmd()),
 * and a page left writable or exclusive in both would be shared writable
 * between parent and child (copy_nonpresent_pte(); copy_huge_pmd() for a
 * PMD migration entry).
 *
 * For a small anonymous page and a PMD-mapped anonymous THP, each round
 * writes a word; a thread on CPU 1 migrates the page to the other node
 * (move_pages(2)); the migrate_freeze window (phase check, targeted at the
 * page, this process) holds the migration after the unmap, before the
 * copy, for HOLD_US (HOLD_KASAN_US on a KASAN kernel, where fork() alone
 * takes longer: the child must see the entry before the migration ends);
 * on CPU 0 the test forks after a delay from the
 * start of the migration. The child reads its pagemap entry of the page at
 * once (a migration entry shows as swapped) and reports it; then the
 * parent writes a new word and the child must still read the old one. The
 * delay adapts: longer while the child finds the old page mapped (fork()
 * came first), shorter while it finds the new one (fork() came after).
 * A round counts as exercised when the child found a migration entry:
 * fork() copied it (for the THP, only if it is still PMD-mapped after the
 * migration: one the migration split gave fork() PTE entries, not the
 * PMD path). With the windows disabled the entry lives for the
 * migration's copy alone, and rounds are rarely exercised.
 *
 * Invariant: fork() shares a page it finds under migration; the parent's
 * write after the migration copies it, the child keeps its bytes.
 * Verdict: fails on a violation (or a kernel BUG/WARNING in the log);
 * passes only if both kinds had a fork() copy a migration entry; else SKIP
 * naming the kinds (one NUMA node, no THP, windows disabled and the
 * timing never met).
 * Mutants: 233-fork-copies-exclusive-migration-pte.patch (page),
 * 234-fork-copies-exclusive-migration-pmd.patch (thp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

#define WINDOW		"migrate_freeze"
#define HOLD_US		10000
/* On a KASAN kernel fork() alone takes longer than HOLD_US. */
#define HOLD_KASAN_US	60000
/* Rounds that had a fork() copy a migration entry, per kind, to end. */
#define WANT		5

enum kind { K_PAGE, K_THP, NR_KIND };
static const char *const kind_name[NR_KIND] = { "page", "thp" };

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_KIND], before[NR_KIND], after[NR_KIND];
/* THP rounds whose migration split the THP (fork() copied PTE entries). */
static unsigned long split[NR_KIND];
static uint64_t fork_ns, forks;	/* time spent in fork(), forks */

/* The migrating thread and its handshake with the main one. */
static struct {
	char *page;
	int round, go, done;	/* round numbers (__atomic) */
	uint64_t started_ns;
	bool stop;
} mig;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *migrator(void *arg)
{
	int round = 0, node, status;
	void *pages[1];

	(void)arg;
	regress_pin_cpu(1);
	for (;;) {
		while (__atomic_load_n(&mig.go, __ATOMIC_ACQUIRE) == round)
			;
		if (__atomic_load_n(&mig.stop, __ATOMIC_ACQUIRE))
			return NULL;
		round = mig.go;
		pages[0] = mig.page;
		node = !page_node(mig.page);
		__atomic_store_n(&mig.started_ns, now_ns(), __ATOMIC_RELEASE);
		syscall(SYS_move_pages, 0, 1, pages, &node, &status,
			MPOL_MF_MOVE);
		__atomic_store_n(&mig.done, round, __ATOMIC_RELEASE);
	}
}

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_PFN		((1ULL << 55) - 1)

/* One round on @k; @delay_ns from the migration's start to fork(). */
static void round_one(enum kind k, int round, uint64_t delay_ns,
		      uint64_t *aim_ns)
{
	uint64_t v = 0x5400000 + round * 4ULL, seen, old_pfn, e, t0;
	int to_child[2], from_child[2], status, ret;
	char *map, *page, c;
	bool pmd_kept;
	pid_t pid;

	page = anon_page_get(k == K_THP, &map);
	if (!page)
		return;
	put_word(page, v);
	old_pfn = mmrace_pagemap_entry(page) & PM_PFN;
	/* The head page: the filter matches the folio whose head it is. */
	ret = r.armed ? win_target(WINDOW, map) : 0;
	if (ret)
		ksft_exit_fail_msg("%s target: %s\n", WINDOW, strerror(-ret));
	if (pipe(to_child) || pipe(from_child))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	mig.page = page;
	__atomic_store_n(&mig.started_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&mig.go, round, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&mig.started_ns, __ATOMIC_ACQUIRE))
		;
	while (now_ns() < mig.started_ns + delay_ns)
		;
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid) {
		e = mmrace_pagemap_entry(page);
		if (write(from_child[1], &e, sizeof(e)) != sizeof(e) ||
		    read(to_child[0], &c, 1) != 1)
			_exit(3);
		seen = get_word(page);
		_exit(write(from_child[1], &seen, sizeof(seen)) == sizeof(seen) ?
		      0 : 3);
	}
	fork_ns += now_ns() - t0;
	forks++;
	if (read(from_child[0], &e, sizeof(e)) != sizeof(e))
		ksft_exit_fail_msg("the child did not report its pagemap\n");
	while (__atomic_load_n(&mig.done, __ATOMIC_ACQUIRE) != round)
		;
	/*
	 * A THP that the migration split (no free THP on the other node):
	 * fork() found PTE migration entries, not copy_huge_pmd()'s.
	 */
	pmd_kept = k != K_THP || !(e & PM_SWAP) || thp_pmd_mapped(page);
	put_word(page, v + 1);
	if (write(to_child[1], "x", 1) != 1 ||
	    read(from_child[0], &seen, sizeof(seen)) != sizeof(seen))
		ksft_exit_fail_msg("the child did not report\n");
	waitpid(pid, &status, 0);
	if (seen != v)
		regress_violation(&r, "%s: the child reads %#llx, it had %#llx at fork(), which found the page %s: the parent's write went to the page the child maps%s",
				  kind_name[k], (unsigned long long)seen,
				  (unsigned long long)v,
				  e & PM_SWAP ? "under migration" : "mapped",
				  seen == v + 1 ? " (the parent's data)" : "");
	if (e & PM_SWAP) {
		if (pmd_kept) {
			exercised[k]++;
			regress_exercised(&r, 1);
		} else {
			split[k]++;
		}
	} else if ((e & PM_PRESENT) && (e & PM_PFN) == old_pfn) {
		before[k]++;
		*aim_ns += *aim_ns / 8 + 20000;
	} else {
		after[k]++;
		*aim_ns -= *aim_ns / 8;
	}
	anon_page_put(k == K_THP, map);
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
}

int main(void)
{
	uint64_t aim_ns[NR_KIND] = { 500000, 500000 };
	char missing[128] = "";
	int round = 0, k;
	pthread_t t;

	pin_init(&r, "fork_vs_migration_entry", 20);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	regress_arm(&r, WINDOW, "check",
		    mmrace_kasan_quarantine_cap_kb() ? HOLD_KASAN_US : HOLD_US,
		    REGRESS_PROCESS);
	regress_exercise_own(&r, "forks that copied the page's migration entry (the child found it in its pagemap)");
	regress_pin_cpu(0);
	if (pthread_create(&t, NULL, migrator, NULL))
		ksft_exit_fail_msg("pthread_create\n");
	while (regress_running(&r) &&
	       (exercised[K_PAGE] < WANT || exercised[K_THP] < WANT)) {
		k = round & 1;
		round++;
		/* Spread around the aim: uniform in [aim/2, 3*aim/2]. */
		round_one(k, round, aim_ns[k] / 2 +
			  (uint64_t)rand() % (aim_ns[k] + 1), &aim_ns[k]);
	}
	__atomic_store_n(&mig.stop, true, __ATOMIC_RELEASE);
	__atomic_store_n(&mig.go, round + 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ksft_print_msg("fork() took %llu us on average\n",
		       (unsigned long long)(forks ? fork_ns / forks / 1000 : 0));
	for (k = 0; k < NR_KIND; k++) {
		ksft_print_msg("%s: %lu forks found the page under migration (and %lu a THP it split), %lu before it, %lu after; aim %llu us\n",
			       kind_name[k], exercised[k], split[k], before[k], after[k],
			       (unsigned long long)aim_ns[k] / 1000);
		if (!exercised[k])
			snprintf(missing + strlen(missing),
				 sizeof(missing) - strlen(missing), " %s",
				 kind_name[k]);
	}
	pin_finish(&r, "fork() shares a page it finds under migration", missing);
}
