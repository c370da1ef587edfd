// SPDX-License-Identifier: GPL-2.0
/*
 * The cycle of the class-1 tests that reuse a folio loaded by a lookup
 * (reuse_lib.h).
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

#include "kselftest.h"
#include "mmrace_lib.h"
#include "reuse_lib.h"

enum { PREPARE, READY, LOOKING, DONE };

/* Shared between A and B. */
struct shared {
	int state, stop;
	unsigned long reused, reused_in_window, cycles;
};

static const struct reuse_test *t;
static struct regress *r;
static struct shared *sh;
static size_t psize;

static void set_state(int s)
{
	__atomic_store_n(&sh->state, s, __ATOMIC_RELEASE);
}

/* Waits for @s; false if told to stop or past the cap (the other side died). */
static bool wait_state(int s)
{
	while (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) != s)
		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) ||
		    regress_elapsed(r) > r->cap_s + 5)
			return false;
	return true;
}

/* The pfn mapped at @p in this process (touching it first), or 0. */
static uint64_t pfn_of(int pagemap, const char *p)
{
	uint64_t e;

	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	if (pread(pagemap, &e, 8, (uintptr_t)p / psize * 8) != 8 ||
	    !(e >> 63))
		return 0;
	return e & ((1ULL << 55) - 1);
}

/* Windows that passed the filters (opened or throttled) so far. */
static unsigned long long passed(void)
{
	struct mmrace_stats s;

	if (win_stats("pagecache_pre_grab", &s))
		return 0;
	return s.entered - s.filtered_out;
}

static void punch(int fd, off_t off, size_t len)
{
	fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

static void write_page(int fd, int page)
{
	static uint64_t *buf;
	size_t w;

	if (!buf)
		buf = malloc(psize);
	if (!buf)
		_exit(1);
	for (w = 0; w < psize / 8; w++)
		buf[w] = t->pattern(page);
	pwrite(fd, buf, psize, page * psize);
}

static void side_b(bool armed)
{
	void (*drop)(int, off_t, size_t) = t->b_drop ? t->b_drop : punch;
	void (*load)(int, int) = t->b_load ? t->b_load : write_page;
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	int fd = t->b_open ? t->b_open() : t->fd;
	unsigned long long before = 0, closed = 0, throttled = 0;
	size_t len = REUSE_NPAGES * psize, w;
	struct mmrace_stats s;
	uint64_t pfn0, pfn;
	char *map;

	regress_pin_cpu(1);
	if (fd < 0 || pagemap < 0)
		_exit(1);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		_exit(1);
	while (wait_state(PREPARE)) {
		drop(fd, 0, len);
		load(fd, 0);
		pfn0 = pfn_of(pagemap, map);
		if (t->b_unmap)
			madvise(map, len, MADV_DONTNEED);
		if (armed) {
			before = passed();
			if (!win_stats("pagecache_pre_grab", &s)) {
				closed = s.delayed;
				throttled = s.throttled;
			}
		}
		set_state(READY);
		if (!wait_state(LOOKING))
			break;
		/* Armed: until A's lookup holds X (at most 100 ms). */
		for (w = 0; armed && passed() == before && w < 1000; w++)
			usleep(100);
		drop(fd, 0, psize);
		load(fd, REUSE_PAGE);
		pfn = pfn_of(pagemap, map + REUSE_PAGE * psize);
		if (t->b_unmap)
			madvise(map, len, MADV_DONTNEED);
		if (pfn && pfn == pfn0) {
			sh->reused++;
			/*
			 * A's lookup passed the filters, opened a window (was
			 * not throttled) and no window has closed since: A's
			 * still held X.
			 */
			if (armed && passed() > before &&
			    !win_stats("pagecache_pre_grab", &s) &&
			    s.throttled == throttled && s.delayed == closed)
				sh->reused_in_window++;
		}
		sh->cycles++;
		set_state(DONE);
	}
	_exit(0);
}

int reuse_memfd(const char *name)
{
	int fd = memfd_create(name, 0);

	if (fd < 0 || ftruncate(fd, REUSE_NPAGES * sysconf(_SC_PAGESIZE)))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	return fd;
}

unsigned long reuse_run(struct regress *regress, const char *phase,
			const struct reuse_test *test)
{
	int status;
	pid_t pid;

	r = regress;
	t = test;
	psize = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	regress_pin_cpu(0);
	regress_arm(r, "pagecache_pre_grab", phase, REUSE_DELAY_US,
		    REGRESS_PROCESS);
	regress_exercise(r, "reuses of A's loaded folio for another index while A's window held it");

	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid)
		side_b(r->armed);
	/* The state starts at PREPARE (zeroed): B may already be past it. */
	while (regress_running(r)) {
		if (!wait_state(READY))
			break;
		set_state(LOOKING);
		t->a_lookup();
		if (!wait_state(DONE))
			break;
		if (!t->a_check())
			break;
		set_state(PREPARE);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ksft_print_msg("B ended with %s %d\n",
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       WTERMSIG(status));
	ksft_print_msg("%lu cycles; page 0's folio reused for page %d %lu times, %lu of them while A's window held it\n",
		       sh->cycles, REUSE_PAGE, sh->reused,
		       sh->reused_in_window);
	return sh->reused_in_window;
}

