// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 003: COW reuse decisions against references from GUP.
 *
 * Each round runs two checks, while a thread (CPU 1) takes transient
 * GUP-fast references on the page (gup_test) and the gup_fast_post_grab
 * window holds each of them open:
 *
 * 1. No leak into the child (CVE-2020-29374): the parent writes A to a
 *    private anonymous page and forks; the child vmsplice(2)s the page into
 *    a pipe (a GUP reference) and unmaps it; the parent writes B, a COW
 *    fault on a page mapped once but referenced twice, which must copy; the
 *    child then reads the pipe and must see A.
 * 2. A pin keeps showing the process's writes: with a child sharing the
 *    page, the parent takes a read-only long-term pin (gup_test
 *    PIN_LONGTERM_TEST_START, which unshares the page first), the child
 *    writes its copy and exits, the parent writes: the pinned page must
 *    hold the parent's data, never the child's.
 *
 * Verdict: fails on a violation; passes only if the window was hit by this
 * process tree and at least one COW fault or pinned write happened with the
 * other GUP reference held (each completed round is one, by its protocol);
 * else SKIP.
 *
 * Swap-out of a pinned page: swapout_vs_pin (on a zram swap of its own).
 * Mutant: 003-cow-reuse-on-mapcount.patch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cow_lib.h"
#include "gup_test.h"
#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

static struct regress r;
static size_t psize;
static int gup_fd;
static char *current_page;	/* __atomic: the grabber reads it */
static unsigned long transient, leak_rounds, pin_rounds;

/* Side B: transient GUP-fast references on whatever page is current. */
static void *grabber(void *arg)
{
	(void)arg;
	regress_pin_cpu(1);
	while (regress_running(&r)) {
		char *p = __atomic_load_n(&current_page, __ATOMIC_RELAXED);
		struct gup_test g = {
			.addr = (unsigned long)p,
			.size = psize,
			.nr_pages_per_call = 1,
		};

		if (p && !ioctl(gup_fd, GUP_FAST_BENCHMARK, &g))
			transient++;
	}
	return NULL;
}

/* Check 1; returns 0, or a violation is recorded. */
static void leak_round(uint64_t a, uint64_t b)
{
	enum cow_leak_seen seen;
	struct cow_leak l;
	char *page;
	int status;

	page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	*(uint64_t *)page = a;
	__atomic_store_n(&current_page, page, __ATOMIC_RELAXED);
	cow_leak_fork(&l, page, page, psize, a, b);
	*(uint64_t *)page = b;		/* COW fault: must copy */
	seen = cow_leak_reap(&l, &status);
	__atomic_store_n(&current_page, NULL, __ATOMIC_RELAXED);
	if (seen == COW_LEAK_FAILED)
		regress_violation(&r, "the vmsplice child failed (status %#x)",
				  status);
	else if (seen == COW_LEAK_LEAKED)
		regress_violation(&r,
				  "the child read the parent's post-fork write from its pipe: COW reused a page the child's pipe references");
	else
		regress_exercised(&r, 1);	/* wrote while the pipe held it */
	munmap(page, psize);
	leak_rounds++;
}

/* Check 2. */
static void pin_round(uint64_t a, uint64_t b)
{
	struct pin_longterm_test pin = { .size = 0, .flags = 0 };
	int to_child[2], to_parent[2], status;
	uint64_t seen = 0;
	char *page, *buf;
	pid_t pid;

	page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = malloc(psize);
	if (page == MAP_FAILED || !buf || pipe(to_child) || pipe(to_parent))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	*(uint64_t *)page = a;
	__atomic_store_n(&current_page, page, __ATOMIC_RELAXED);
	pid = fork();
	if (!pid) {
		cow_wait_byte(to_child[0]);
		*(uint64_t *)page = ~a;	/* the child's own copy */
		_exit(0);
	}
	pin.addr = (unsigned long)page;
	pin.size = psize;
	if (ioctl(gup_fd, PIN_LONGTERM_TEST_START, &pin))
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(errno));
	cow_send_byte(to_child[1]);
	waitpid(pid, &status, 0);
	*(uint64_t *)page = b;
	{
		uint64_t addr = (unsigned long)buf;

		if (ioctl(gup_fd, PIN_LONGTERM_TEST_READ, &addr))
			ksft_exit_fail_msg("PIN_LONGTERM_TEST_READ: %s\n",
					   strerror(errno));
	}
	seen = *(uint64_t *)buf;
	ioctl(gup_fd, PIN_LONGTERM_TEST_STOP);
	regress_exercised(&r, 1);	/* wrote while the pin held the page */
	__atomic_store_n(&current_page, NULL, __ATOMIC_RELAXED);
	if (seen != b)
		regress_violation(&r,
				  "the read-only pin shows %#llx, the process wrote %#llx%s",
				  (unsigned long long)seen,
				  (unsigned long long)b,
				  seen == ~a ? " (the child's data)" : "");
	munmap(page, psize);
	free(buf);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	pin_rounds++;
}

int main(void)
{
	uint64_t v = 0x1000;
	pthread_t t;

	regress_init(&r, "cow_reuse_vs_gup_pin", 10);
	psize = sysconf(_SC_PAGESIZE);
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		ksft_exit_skip("no /sys/kernel/debug/gup_test (CONFIG_GUP_TEST)\n");
	regress_arm(&r, "gup_fast_post_grab", NULL, 500, REGRESS_TREE);
	regress_exercise(&r, "writes to a page another GUP reference or pin held");

	pthread_create(&t, NULL, grabber, NULL);
	regress_pin_cpu(0);
	while (regress_running(&r)) {
		leak_round(v, v + 1);
		if (!regress_running(&r))
			break;
		pin_round(v + 2, v + 3);
		v += 4;
	}
	pthread_join(t, NULL);
	ksft_print_msg("%lu fork+vmsplice rounds, %lu pin rounds, %lu transient GUP-fast references\n",
		       leak_rounds, pin_rounds, transient);
	regress_finish(&r, "GUP'd pages keep the process's data and leak none to a child");
}
