// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2, the Dirty COW race (CVE-2016-5195) with one task: a forced
 * write through /proc/self/mem into a read-only private file mapping,
 * whose COW copy an adversary zaps between the write fault and GUP's
 * retried lookup.
 *
 * __get_user_pages() follows the page; through a read-only entry of the
 * page cache's page a FOLL_FORCE write finds nothing it may write, takes a
 * write fault (do_wp_page(): a private copy, mapped read-only, the
 * mapping has no VM_WRITE), and looks again. If the copy is zapped in
 * between (MADV_DONTNEED), the retry must fault for writing again, never
 * settle for what a read fault maps there: the page cache's page.
 *
 * One task: it maps a memfd page MAP_PRIVATE read-only, reads it (the
 * entry maps the page cache's page) and writes a word there through
 * /proc/self/mem, over and over, zapping its copy itself before each
 * round (not racing: the next round starts from the page cache's page).
 * A window it defines, "fw_cow" at free_swap_cache() called from
 * do_wp_page() (the COW's last step with the old page, the new entry in
 * place, the page-table lock dropped), filtered to this process and
 * targeted at the page cache's page, holds the fault open for DELAY_US
 * and posts the zap adversary: the module's worker, on the other CPU,
 * unmaps the copy at the target address as MADV_DONTNEED does, while the
 * fault is held. With the windows off (MMRACE_WINDOWS=off) a thread of
 * the test zaps in a loop instead, the two-party race of the 2016
 * exploit.
 *
 * Invariant: the file never reads a word written into a private mapping
 * of it.
 * Verdict: fails on a violation; passes only if a zap was done while the
 * window held the fault (adversary_inside > 0); else SKIP with the
 * numbers. Also printed: forced writes that faulted twice (the thread's
 * minor faults), which only a zap between the fault and the retry causes.
 * Mutant: 237-force-write-retries-as-read.patch.
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
#include <sys/resource.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#define WINDOW "fw_cow"
/* wp_page_copy() is inlined into do_wp_page() in the test kernel. */
static const char *const define[] = {
	"p:" WINDOW " free_swap_cache<-do_wp_page folio=$arg1",
	"p:" WINDOW " free_swap_cache<-wp_page_copy folio=$arg1",
};
#define DELAY_US 5000

static struct regress r;
static size_t psize;
static char *priv;
static int stop;

static const uint64_t old_word = 0x66696c6564617461ULL;

static uint64_t read_word(const char *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static void undefine(void)
{
	mmrace_write(MMRACE_WINDOWS "/define", "-:" WINDOW);
}

static long thread_minflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? -1 : ru.ru_minflt;
}

/* Windows off: the other party, zapping the copy in a loop. */
static void *zapper(void *arg)
{
	(void)arg;
	regress_pin_cpu(1);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		madvise(priv, psize, MADV_DONTNEED);
	return NULL;
}

int main(void)
{
	unsigned long writes = 0, twice = 0, untargeted = 0;
	struct mmrace_adversary adv = { 0 };
	struct mmrace_stats s;
	pthread_t thread;
	uint64_t seen, v;
	const char *line;
	int fd, mem_fd, ret;
	long before;

	regress_init(&r, "force_write_vs_zap", 10);
	psize = sysconf(_SC_PAGESIZE);
	fd = memfd_create("mmrace-dirtycow", 0);
	if (fd < 0 || ftruncate(fd, psize) ||
	    pwrite(fd, &old_word, sizeof(old_word), 0) != sizeof(old_word))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	priv = mmap(NULL, psize, PROT_READ, MAP_PRIVATE, fd, 0);
	mem_fd = open("/proc/self/mem", O_RDWR);
	if (priv == MAP_FAILED || mem_fd < 0)
		ksft_exit_fail_msg("mmap or /proc/self/mem: %s\n",
				   strerror(errno));

	if (r.armed) {
		atexit(undefine);
		line = define[0];
		ret = mmrace_write(MMRACE_WINDOWS "/define", line);
		if (ret == -ENOENT) {
			line = define[1];
			ret = mmrace_write(MMRACE_WINDOWS "/define", line);
		}
		if (ret)
			ksft_exit_skip("windows/define refused \"%s\": %s\n",
				       line, strerror(-ret));
		/* Targeted before it is armed: no opening without a target. */
		if (read_word(priv) != old_word ||
		    win_target(WINDOW, priv))
			ksft_exit_fail_msg("targeting the page cache's page failed\n");
		regress_arm(&r, WINDOW, NULL, DELAY_US, REGRESS_PROCESS);
		regress_adversary(&r, WINDOW, "zap", &adv);
		regress_exercise(&r, "zaps of the copy done while the forced write's COW fault was held (adversary_inside)");
	} else {
		regress_exercise(&r, "forced writes that faulted twice (a zap between the fault and the retry)");
		if (pthread_create(&thread, NULL, zapper, NULL))
			ksft_exit_fail_msg("pthread_create\n");
	}

	regress_pin_cpu(0);
	for (v = 1; regress_running(&r); v++) {
		/* Each round starts from the page cache's page, read-only. */
		madvise(priv, psize, MADV_DONTNEED);
		/* The read maps the page cache's page: target it. */
		if (read_word(priv) != old_word && !r.violated)
			regress_violation(&r, "the private mapping reads %#llx before the write, not the file's %#llx",
					  (unsigned long long)read_word(priv),
					  (unsigned long long)old_word);
		if (r.armed && win_target(WINDOW, priv))
			untargeted++;
		before = thread_minflt();
		if (pwrite(mem_fd, &v, sizeof(v), (unsigned long)priv) !=
		    sizeof(v))
			ksft_exit_fail_msg("pwrite of /proc/self/mem: %s\n",
					   strerror(errno));
		if (thread_minflt() - before >= 2)
			twice++;
		writes++;
		if (pread(fd, &seen, sizeof(seen), 0) != sizeof(seen))
			ksft_exit_fail_msg("pread: %s\n", strerror(errno));
		if (seen != old_word)
			regress_violation(&r, "the file reads %#llx after forced write %llu into a read-only private mapping of it: the write reached the page cache's page",
					  (unsigned long long)seen,
					  (unsigned long long)v);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	if (r.armed)
		regress_adversary_stop(&r, WINDOW, &adv);
	else
		pthread_join(thread, NULL);
	ksft_print_msg("%lu forced writes, %lu faulted twice (%lu with the previous target)\n",
		       writes, twice, untargeted);
	if (r.armed && !win_stats(WINDOW, &s))
		regress_exercised(&r, s.adversary_inside);
	else if (!r.armed)
		regress_exercised(&r, twice);
	regress_finish(&r, "a forced write into a private mapping never reaches the file");
}
