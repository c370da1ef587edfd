// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 000: a GUP-fast reference against migration's refcount check.
 *
 * Side A (CPU 0) puts an anonymous page into a pipe with vmsplice(2), whose
 * GUP-fast reference the pipe keeps, writes a new value through the mapping
 * and reads the pipe back: the pipe holds the very page the process maps,
 * so it must return the new value. Side B (CPU 1) migrates the page between
 * two nodes with move_pages(2) all along; whenever a reference is held,
 * migration must back off (the page stays put) and retry later. The
 * gup_fast_post_grab window holds GUP-fast between taking its reference and
 * re-checking the PTE, the transient reference of the seed thread.
 *
 * Invariant: the page in the pipe is always the page the process sees, and
 * no reference is left behind (after the race the page migrates).
 * Verdict: fails on a violation; passes only if the window was hit by this
 * process and at least one migration attempt backed off while the pipe
 * held its GUP reference (the dangerous interleaving); else SKIP.
 * Mutant: 000-migrate-skip-anon-refcount-check.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"
#include "regress.h"

static struct regress r;
static char *page;
static size_t psize;
static unsigned long spliced, migrated, backed_off;
/* Odd while the pipe holds a reference on the page (between vmsplice and
 * the read that drains it); bumped at both ends.
 */
static unsigned long held;

static void *migrator(void *arg)
{
	(void)arg;
	regress_pin_cpu(1);
	while (regress_running(&r)) {
		unsigned long before = __atomic_load_n(&held, __ATOMIC_ACQUIRE);
		int ret = page_move(page);
		unsigned long after = __atomic_load_n(&held, __ATOMIC_ACQUIRE);

		if (!ret) {
			migrated++;
			continue;
		}
		backed_off++;
		/* It backed off, and the pipe held its reference at some
		 * point during the attempt.
		 */
		if ((before & 1) || after != before)
			regress_exercised(&r, 1);
	}
	return NULL;
}

static void splicer(void)
{
	uint64_t *word = (uint64_t *)page, seen;
	int fds[2];
	char *buf = malloc(psize);
	uint64_t v = 1;

	if (!buf || pipe(fds))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	regress_pin_cpu(0);
	while (regress_running(&r)) {
		struct iovec iov = { page, psize };

		*word = v;
		if (vmsplice(fds[1], &iov, 1, 0) != (ssize_t)psize) {
			regress_violation(&r, "vmsplice: %s", strerror(errno));
			break;
		}
		spliced++;
		__atomic_add_fetch(&held, 1, __ATOMIC_RELEASE);
		/* The pipe now holds a reference on the page: write through
		 * the mapping, then read the pipe's page.
		 */
		*word = v + 1;
		if (read(fds[0], buf, psize) != (ssize_t)psize) {
			regress_violation(&r, "read: %s", strerror(errno));
			break;
		}
		__atomic_add_fetch(&held, 1, __ATOMIC_RELEASE);
		seen = *(uint64_t *)buf;
		if (seen != v + 1)
			regress_violation(&r,
					  "the pipe's page shows %llu, the process wrote %llu after vmsplice: the page was migrated under a GUP reference",
					  (unsigned long long)seen,
					  (unsigned long long)(v + 1));
		v += 2;
	}
	close(fds[0]);
	close(fds[1]);
	free(buf);
}

int main(void)
{
	pthread_t t;

	regress_init(&r, "gup_fast_vs_migration", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(page, 1, psize);
	regress_arm(&r, "gup_fast_post_grab", NULL, 500, REGRESS_PROCESS);
	regress_exercise(&r, "migrations that backed off while the pipe held its GUP reference");

	pthread_create(&t, NULL, migrator, NULL);
	splicer();
	pthread_join(t, NULL);
	ksft_print_msg("vmsplice %lu times; migrations: %lu moved, %lu backed off\n",
		       spliced, migrated, backed_off);

	/* No reference left behind: the page must migrate now. */
	page_must_migrate(&r, page);
	regress_finish(&r, "a GUP reference makes migration back off");
}
