/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driving races from user space for mmrace's tests: pages to race on, the
 * two sides (GUP-fast, migration, page-cache reads, faults, compaction),
 * two threads on two CPUs, and the windows' debugfs files.
 */
#ifndef MMRACE_RACE_H
#define MMRACE_RACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kselftest.h"

#define MMRACE_WINDOWS MMRACE_DEBUGFS "/windows"

struct mmrace_stats {
	uint64_t entered;
	uint64_t filtered_out;
	uint64_t throttled;
	uint64_t delayed;
	uint64_t hits;
	uint64_t rendezvous_met;
	uint64_t rendezvous_timeout;
	uint64_t total_delay_ns;
	uint64_t max_delay_ns;
	uint64_t waiters_queued;	/* PG_waiters clear -> set in a window */
	uint64_t flags_changed;		/* flags differ at close from at open */
	uint64_t lock_changed;		/* PG_locked differs, PG_waiters set */
	uint64_t released;		/* refcount 0 or mapping changed */
	uint64_t adversary_posted;	/* adversary jobs posted */
	uint64_t adversary_started;	/* ... taken by the helper */
	uint64_t adversary_inside;	/* ... done while the window held */
	uint64_t adversary_after;	/* ... done after it closed */
	uint64_t adversary_failed;	/* ... failed (or had no target) */
	uint64_t adversary_last_error;	/* errno of the last failure */
	uint64_t invalid;		/* defined windows: failed claims */
	uint64_t adversary_throttled;	/* not posted: global rate limit */
	uint64_t adversary_reused;	/* +reuse: the freed page allocated again */
};

/* Write a value to windows/<window>/<file>; 0 or -errno. */
int win_set(const char *window, const char *file, const char *fmt, ...)
	__printf(3, 4);
/*
 * Target windows/<window> at this process's page at @addr; 0 or -errno.
 * The page may be in flux when the write comes (a migration entry while
 * compaction or an adversary moves it, swapped out): then the write is
 * rejected ("no page mapped": -EINVAL, as every rejected write, the reason
 * in the kernel log), and it is retried, up to a second, after touching
 * the page (which waits for the migration or swaps it back in), as a
 * transparent migration requires. The value is well formed, so -EINVAL
 * here means no page.
 */
int win_target(const char *window, const void *addr);
/*
 * The same for the page at @addr in process @pid (another process: the
 * write is only retried, as that process is the one to fault it back in).
 */
int win_target_pid(const char *window, pid_t pid, const void *addr);
/* Read windows/<window>/stats; 0 or -errno. */
int win_stats(const char *window, struct mmrace_stats *s);
/*
 * A window's adversary stats as "posted=N started=N inside=N after=N
 * failed=N last_error=N" in @buf; returns @buf.
 */
char *win_adversary_str(const struct mmrace_stats *s, char *buf, size_t len);
/* Print a window's stats as one KTAP diagnostic line. */
void win_print(const char *window, const char *label,
	       const struct mmrace_stats *s);
/* Write to the top-level control file ("reset", "disarm-all"). */
int mmrace_control(const char *cmd);
/* The page under test and the handles the sides need. */
struct race_page {
	char *addr;		/* one page, mapped and populated */
	int memfd;		/* -1 for anonymous memory */
	char *unfaulted;	/* the memfd page mapped again, never
				 * touched: mincore(2) looks it up in the
				 * page cache (NULL for anonymous memory)
				 */
	int gup_fd;		/* /sys/kernel/debug/gup_test, or -1 */
	const char *retarget;	/* window whose target side A re-writes */
};

int race_anon_page(struct race_page *p);
int race_memfd_page(struct race_page *p);
void race_page_free(struct race_page *p);
/* How many NUMA nodes have memory (move_pages needs two). */
int race_nodes(void);

/* One iteration of a side; each returns 0 or -errno (failures are counted). */
typedef int (*race_fn)(struct race_page *p);
int side_gup_fast(struct race_page *p);		/* GUP-fast get + put */
int side_pin_fast(struct race_page *p);		/* GUP-fast pin + unpin */
int side_migrate(struct race_page *p);		/* move_pages to the other node */
int side_read(struct race_page *p);		/* pread(2) of the memfd page */
int side_mincore(struct race_page *p);		/* a lockless page-cache lookup */
int side_touch(struct race_page *p);		/* read the mapped page */
int side_compact(struct race_page *p);		/* /proc/sys/vm/compact_memory */

/*
 * Run @a on CPU 0 and @b on CPU 1, each in a loop, for @ms milliseconds.
 * @iters_a / @iters_b receive the iteration counts.
 */
void race_run(struct race_page *p, race_fn a, race_fn b, unsigned int ms,
	      unsigned long *iters_a, unsigned long *iters_b);

/* The same, started and stopped by the caller. */
struct race;
struct race *race_start(struct race_page *p, race_fn a, race_fn b);
void race_stop(struct race *r, unsigned long *iters_a, unsigned long *iters_b);
/*
 * race_stop(), but waiting at most @ms for the two threads: -ETIMEDOUT if
 * one is still running (then @r is left allocated), else 0.
 */
int race_stop_within(struct race *r, unsigned int ms, unsigned long *iters_a,
		     unsigned long *iters_b);
/* The iteration counts so far, while the race runs. */
void race_iters(struct race *r, unsigned long *iters_a, unsigned long *iters_b);

/* A test of one window: side A runs into the window, side B is the other
 * side of the race. The window is filtered to this process (both sides run
 * here), first with delay_us=0 (the natural rate: one look at the page per
 * event), then with @delay_us. It fails if the armed windows did not hold
 * (none opened, or the longest or the mean shorter than delay_us); it
 * passes only if the delay changed the outcome (hits per opened window at
 * least 5 times the natural hits per event, and at least 20 %), and is a
 * SKIP, with the numbers, if the workload could not show that.
 */
struct window_test {
	const char *window;
	const char *phase;		/* NULL: the window's default */
	const char *probe_symbol;	/* checked in kprobes/list; NULL: none */
	const char *marker;		/* NULL, or a second window armed with
					 * delay_us=0 for the same pid: its
					 * arrivals on the page while the tested
					 * window is open are that window's hits
					 * (a lookup that fails or waits changes
					 * nothing the window watches)
					 */
	bool memfd;			/* a shmem page instead of anonymous */
	bool retarget;			/* side A re-targets the window to the
					 * page (which migration moves) before
					 * each iteration; else: pid filter only
					 */
	race_fn side_a, side_b;
	const char *a_name, *b_name;
	unsigned int delay_us;
	unsigned int ms;		/* per run */
};

int window_test_main(const struct window_test *t);

#endif /* MMRACE_RACE_H */
