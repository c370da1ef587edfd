// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on GUP-fast against fork(): a writable FOLL_PIN that lands while
 * fork() is copying the page tables (upstream 57efa1fe5957, "mm/gup:
 * prevent gup_fast from racing with COW during fork").
 *
 * fork() checks that a folio is not pinned (folio_try_dup_anon_rmap_ptes()),
 * shares it with the child, clears PageAnonExclusive and only then
 * write-protects the parent's PTEs. A GUP-fast pin taken between the check
 * and the write-protect passes GUP-fast's own PTE re-check (the PTE is still
 * writable); only mm->write_protect_seq, which copy_page_range() holds odd
 * while it copies a VMA, makes gup_fast() drop such a pin and fall back to
 * GUP slow (which waits for fork's mmap_lock and breaks COW).
 *
 * Each round maps a fresh anonymous THP and splits its PMD (mprotect(2) of
 * its first page), so that fork() copies the other 511 pages as one batch:
 * the check comes first, then 511 rmap updates, then 511 write-protects,
 * and the test pins the last page, whose gap is the widest. A second
 * thread, on CPU 0, pins that page with GUP-fast (gup_test
 * PIN_LONGTERM_TEST_START, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM through
 * pin_user_pages_fast()) over and over; this thread, on CPU 1, forks once
 * (the child exits at once). After each pin the pin holder waits until
 * fork() has returned, then the process writes a new word to the page and
 * the holder reads the pinned page (PIN_LONGTERM_TEST_READ): it must read
 * that word, and the pin is dropped.
 *
 * The window gup_fast_pre_grab (target: the round's page, this process's
 * threads) holds GUP-fast between its lockless PTE read and taking the
 * pin; a hit is fork() changing the page's folio (its references, its
 * mapcount) or PTE meanwhile.
 *
 * Invariant: a pinned page stays the page the process maps until it is
 * unpinned: what the pin holder reads is what the process wrote, fork()
 * or not.
 * Verdict: fails on a violation; passes only if the window was hit in at
 * least one round while fork() ran (GUP-fast was in flight on the page
 * while fork() copied its folio: the dangerous interleaving); else SKIP
 * (also with the windows disabled, or without THPs).
 * The window holds one pin in 8 (MMRACE_FORK_INTERVAL): holding every pin
 * cuts the pin rate 15-20 times and, with it, the catches.
 * Mutant: 216-gup-fast-no-fork-seqcount.patch (3/5 armed, 4/5 off: below
 * the 95% bar, so marked Uncaught and not rotated into make check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#define WINDOW		"gup_fast_pre_grab"
#define KPF_THP		22

static struct regress r;
static size_t psize;
static char *page;		/* the round's page, the THP's last */
static unsigned int round_seq, round_done, round_stop;
static int fork_busy;		/* set around fork() in the parent */
static unsigned long pins, pins_in_fork, rounds, thp_rounds, hit_rounds;
static uint64_t word = 0x1000;
static char *pin_buf;

static unsigned int load(const unsigned int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(unsigned int *p, unsigned int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Whether the page at @addr is part of a THP (/proc/kpageflags). */
static bool page_in_thp(const void *addr)
{
	uint64_t ent = 0, flags = 0;
	bool thp = false;
	int pm, kf;

	pm = open("/proc/self/pagemap", O_RDONLY);
	kf = open("/proc/kpageflags", O_RDONLY);
	if (pm >= 0 && kf >= 0 &&
	    pread(pm, &ent, 8, (unsigned long)addr / psize * 8) == 8 &&
	    (ent >> 63) && (ent & ((1ULL << 55) - 1)) &&
	    pread(kf, &flags, 8, (ent & ((1ULL << 55) - 1)) * 8) == 8)
		thp = flags >> KPF_THP & 1;
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return thp;
}

/* One pin of the round's page, held until fork() has returned. */
static void pin_once(void)
{
	bool in_fork = __atomic_load_n(&fork_busy, __ATOMIC_ACQUIRE);
	uint64_t seen;
	int ret;

	ret = pin_start(page, psize, PIN_FAST | PIN_WRITE);
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(-ret));
	pins++;
	while (__atomic_load_n(&fork_busy, __ATOMIC_ACQUIRE))
		in_fork = true;
	pins_in_fork += in_fork;
	word++;
	put_word(page, word);
	ret = pin_read(pin_buf);
	pin_stop();
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_READ: %s\n",
				   strerror(-ret));
	seen = *(uint64_t *)pin_buf;
	if (seen != word)
		regress_violation(&r, "the GUP-fast pin reads %#llx, the process wrote %#llx after fork(): the pin landed while fork() shared the page, and the write copied it away",
				  (unsigned long long)seen,
				  (unsigned long long)word);
}

static void *pinner(void *arg)
{
	unsigned int seq = 0;

	(void)arg;
	regress_pin_cpu(0);
	for (;;) {
		while (load(&round_seq) == seq)
			;
		seq = load(&round_seq);
		if (!seq)
			return NULL;	/* the end */
		while (!load(&round_stop))
			pin_once();
		store(&round_done, seq);
	}
}

static void one_round(unsigned int seq)
{
	struct mmrace_stats before, after;
	char *map;
	bool thp;
	pid_t pid;
	int status;

	map = thp_alloc();
	if (!map)
		return;
	/* Split the PMD, keep the THP: fork() copies 511 PTEs as a batch. */
	if (mprotect(map, psize, PROT_READ))
		ksft_exit_fail_msg("mprotect: %s\n", strerror(errno));
	page = map + THP_SIZE - psize;
	rounds++;
	thp = page_in_thp(page);
	thp_rounds += thp;
	if (r.armed && win_target(WINDOW, page))
		ksft_exit_fail_msg("cannot target %s\n", WINDOW);
	store(&round_stop, 0);
	store(&round_seq, seq);
	/* Let the pinner get going, a varying while. */
	usleep(seq % 7 * 50);
	if (r.armed && win_stats(WINDOW, &before))
		memset(&before, 0, sizeof(before));
	__atomic_store_n(&fork_busy, 1, __ATOMIC_RELEASE);
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid)
		_exit(0);
	__atomic_store_n(&fork_busy, 0, __ATOMIC_RELEASE);
	waitpid(pid, &status, 0);
	store(&round_stop, 1);
	while (load(&round_done) != seq)
		;
	if (r.armed && thp && !win_stats(WINDOW, &after) &&
	    after.hits > before.hits) {
		hit_rounds++;
		regress_exercised(&r, 1);
	}
	munmap(map, THP_SIZE);
}

int main(void)
{
	unsigned int seq = 0;
	char *map, *delay, *interval;
	int ret;
	pthread_t t;

	pin_init(&r, "gup_fast_vs_fork", 30);
	psize = sysconf(_SC_PAGESIZE);
	pin_buf = malloc(psize);
	/* A first pin sets MMF_HAS_PINNED: fork() then checks for pins. */
	map = thp_alloc();
	if (!map || !pin_buf)
		ksft_exit_skip("no anonymous THP (transparent_hugepage)\n");
	if (pin_start(map, psize, PIN_FAST | PIN_WRITE))
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_START: %s\n",
				   strerror(errno));
	pin_stop();
	thp_free(map);
	delay = getenv("MMRACE_FORK_DELAY_US");
	regress_arm(&r, WINDOW, NULL, delay ? atoi(delay) : 20,
		    REGRESS_PROCESS);
	/*
	 * Holding every pin cuts the pin rate 15-20 times, and with it the
	 * chance of a pin in fork()'s gap: hold one in INTERVAL, enough to
	 * show the interleaving.
	 */
	interval = getenv("MMRACE_FORK_INTERVAL");
	ret = r.armed ? win_set(WINDOW, "interval", "%d",
				interval ? atoi(interval) : 8) : 0;
	if (ret)
		ksft_exit_fail_msg("%s interval: %s\n", WINDOW, strerror(-ret));
	regress_exercise(&r, "rounds where fork() changed the page's folio or PTE while GUP-fast held its PTE read");

	pthread_create(&t, NULL, pinner, NULL);
	regress_pin_cpu(1);
	while (regress_running(&r)) {
		if (++seq == 0)
			seq = 1;
		one_round(seq);
	}
	store(&round_seq, 0);
	pthread_join(t, NULL);
	ksft_print_msg("%lu rounds (%lu with the page in a PTE-mapped THP), %lu with window hits during fork(); %lu pins, %lu held across a fork()\n",
		       rounds, thp_rounds, hit_rounds, pins, pins_in_fork);
	regress_finish(&r, "a GUP-fast pin keeps the process's page through fork()");
}
