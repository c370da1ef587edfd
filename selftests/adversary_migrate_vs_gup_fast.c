// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 000 with one task: a GUP reference held in a pipe while an
 * adversary migrates the page it was taken on.
 *
 * One task, no second thread: it writes a value to its anonymous page,
 * puts the page into a pipe with vmsplice(2) (GUP-fast: the pipe keeps the
 * reference), holds it there for HOLD_US while it takes and drops more
 * GUP-fast references to the page (vmsplice(2) into a second pipe, drained
 * at once), then writes a new value through the mapping and reads the
 * first pipe back. The gup_fast_post_grab window, filtered to this process
 * and targeted at the page, holds each GUP-fast grab for DELAY_US and posts
 * an adversary job ("migrate"): the helper (mmrace_lib.c, a child process
 * on CPU 1) moves the page to the other node with move_pages(2), which
 * unmaps it once the window has closed (its TLB-flush IPI waits for the
 * window's CPU), while the pipe holds its reference; the task's next
 * GUP-fast grab finds the migration entry and waits in GUP's slow path.
 * Migration's refcount check must see the pipe's reference and back off.
 *
 * No rendezvous: the GUP-fast window and migration's refcount check
 * (migrate_freeze phase "check") cannot meet on x86, migration's unmap
 * waits for the IPI to the CPU the window holds with interrupts off
 * (windows.rst; mmrace_bench's rendezvous table). For the same reason
 * a migration never completes inside a GUP-fast opening: adversary_inside
 * stays 0 (and a migration that backs off counts as adversary_failed).
 *
 * Invariant: the page in the pipe is always the page the process maps
 * (what the pipe returns is what the process wrote after vmsplice), and
 * no reference is left behind (after the race the page migrates).
 * Verdict: fails on a violation; passes only if the window was hit and at
 * least one adversary migration finished while the pipe held its reference
 * and backed off (a failed job, done within the hold); else SKIP.
 * Mutant: 000-migrate-skip-anon-refcount-check.patch.
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
#include "regress.h"

#define WINDOW "gup_fast_post_grab"
#define DELAY_US 2000
#define HOLD_US 30000

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* vmsplice(2) of the page into @fd; 0 or -errno. */
static int splice_page(int fd, char *page, size_t psize)
{
	struct iovec iov = { page, psize };

	return vmsplice(fd, &iov, 1, 0) == (ssize_t)psize ? 0 : -errno;
}

/* Jobs the helper has finished (a migrate job either moved or failed). */
static unsigned long finished(const struct mmrace_adversary *a)
{
	return __atomic_load_n(&a->counts->failed, __ATOMIC_RELAXED) +
	       __atomic_load_n(&a->counts->moved, __ATOMIC_RELAXED);
}

int main(void)
{
	struct mmrace_adversary adv = { 0 };
	unsigned long rounds = 0, grabs = 0, untargeted = 0;
	unsigned long failed0, fin0, in_hold = 0;
	int held[2], other[2], ret;
	struct regress r;
	uint64_t v = 2, seen;
	size_t psize;
	char *page, *buf;
	double end;

	regress_init(&r, "adversary_migrate_vs_gup_fast", 10);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = malloc(psize);
	if (page == MAP_FAILED || !buf || pipe(held) || pipe(other))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	memset(page, 1, psize);

	regress_arm(&r, WINDOW, NULL, DELAY_US, REGRESS_PROCESS);
	regress_adversary(&r, WINDOW, "migrate", &adv);
	regress_exercise(&r, "adversary migrations that backed off while the pipe held its GUP reference");

	regress_pin_cpu(0);
	while (regress_running(&r)) {
		/* The page moves (between holds): target it where it is. */
		if (r.armed && win_target(WINDOW, page))
			untargeted++;
		put_word(page, v);
		ret = splice_page(held[1], page, psize);
		if (ret) {
			regress_violation(&r, "vmsplice: %s", strerror(-ret));
			break;
		}
		/* The pipe holds a reference on the page from here on. */
		failed0 = adv.counts ? __atomic_load_n(&adv.counts->unchanged,
						       __ATOMIC_RELAXED) : 0;
		fin0 = adv.counts ? finished(&adv) : 0;
		for (end = now_us() + HOLD_US; now_us() < end;) {
			if (splice_page(other[1], page, psize) ||
			    read(other[0], buf, psize) != (ssize_t)psize) {
				regress_violation(&r, "second pipe: %s",
						  strerror(errno));
				break;
			}
			grabs++;
		}
		/*
		 * Migrations done within the hold that backed off: move_pages(2)
		 * ran and left the page where it was (EAGAIN), not those that
		 * failed otherwise (a stale target, isolation refused).
		 */
		if (adv.counts && finished(&adv) > fin0)
			in_hold += __atomic_load_n(&adv.counts->unchanged,
						   __ATOMIC_RELAXED) - failed0;
		put_word(page, v + 1);
		if (read(held[0], buf, psize) != (ssize_t)psize) {
			regress_violation(&r, "read: %s", strerror(errno));
			break;
		}
		seen = get_word(buf);
		if (seen != v + 1)
			regress_violation(&r, "the pipe's page shows %#llx, the process wrote %#llx after vmsplice: the page was migrated under the pipe's GUP reference",
					  (unsigned long long)seen,
					  (unsigned long long)(v + 1));
		v += 2;
		rounds++;
	}
	regress_adversary_stop(&r, WINDOW, &adv);
	regress_exercised(&r, in_hold);
	ksft_print_msg("%lu holds of %u us, %lu GUP-fast grabs in them (%lu with the previous target); %lu adversary migrations backed off within a hold\n",
		       rounds, HOLD_US, grabs, untargeted, in_hold);
	/* No reference left behind: the page must migrate now. */
	page_must_migrate(&r, page);
	regress_finish(&r, "migration backs off while a pipe holds a GUP reference");
}
