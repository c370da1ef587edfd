/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-term pins (gup_test PIN_LONGTERM_TEST_*), THPs, page nodes, and the
 * verdict of the pin tests (pin_vs_migration, cow_pin_paths): their races
 * need no window, a pin that stays held is the other party; a test passes
 * only if every case it names met its conflicting change with the pin held
 * (counted, and checked where it can be: the page is a PMD-mapped THP, it
 * migrates once unpinned), and is a SKIP naming the cases that did not.
 */
#ifndef MMRACE_PIN_LIB_H
#define MMRACE_PIN_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "regress.h"

#define PIN_SLOW	0
#define PIN_FAST	2	/* PIN_LONGTERM_TEST_FLAG_USE_FAST */
#define PIN_WRITE	1	/* PIN_LONGTERM_TEST_FLAG_USE_WRITE */
#define THP_SIZE	(2UL << 20)

/* The first word of a page, written and read as the process does. */
static inline void put_word(char *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

static inline uint64_t get_word(const char *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

/*
 * How a test holds a page: a long-term pin through gup_test, by
 * pin_user_pages() or pin_user_pages_fast(), or a GUP reference that
 * vmsplice(2) leaves in a pipe.
 */
enum hold { HOLD_PIN_SLOW, HOLD_PIN_FAST, HOLD_VMSPLICE, NR_HOLD };
/* "pin_user_pages", "pin_user_pages_fast", "vmsplice". */
extern const char *const hold_name[NR_HOLD];

struct held {
	enum hold how;
	int fds[2];		/* the pipe of HOLD_VMSPLICE */
};

/* Holds the page at @addr (@size bytes) as @how says; 0 or -errno. */
int hold_start(struct held *h, enum hold how, void *addr, size_t size);
/*
 * Copies the held page's contents, as the holder sees them, to @buf (@size
 * bytes) and lets go of it; 0 or -errno (let go all the same).
 */
int hold_read_stop(struct held *h, void *buf, size_t size);

/*
 * A child that shares the process's pages after fork() and reads the first
 * word of one when asked: the other party of the COW tests.
 */
struct sharer {
	pid_t pid;
	int to_child[2], from_child[2];
};

/* Forks it; it waits until sharer_read() asks for the word at @page. */
void sharer_fork(struct sharer *s, const char *page);
/*
 * The word it reads now; reaps it and closes its pipes (fails the test if
 * it does not answer).
 */
uint64_t sharer_read(struct sharer *s);

/* regress_init(), and opens gup_test (SKIP without it). */
void pin_init(struct regress *r, const char *name, double default_cap_s);
/* Pins @size bytes at @addr long-term (FOLL_LONGTERM | PIN_* @flags). */
int pin_start(void *addr, size_t size, unsigned int flags);
/* Copies the pinned pages' contents (as the pin holder sees them) to @buf. */
int pin_read(void *buf);
/*
 * The first word of the pinned pages as the pin holder sees it (pin_read()
 * into a buffer of the pins' size); exits failing if the read fails.
 */
uint64_t pinned_word(void);
void pin_stop(void);
/*
 * A 2 MiB-aligned private anonymous area of its own VMA, MADV_HUGEPAGE,
 * not touched, @prot; NULL if none could be had.
 */
char *thp_area(int prot);
/* A 2 MiB-aligned anonymous THP, touched; NULL if none could be had. */
char *thp_alloc(void);
void thp_free(char *thp);
/*
 * An anonymous page to test on: a small page of its own (@thp false), or
 * page 5 of a PMD-mapped THP (thp_alloc()); what to unmap in *@map. NULL
 * if no THP could be had.
 */
char *anon_page_get(bool thp, char **map);
void anon_page_put(bool thp, char *map);
/* Whether the VMA holding @addr maps a THP with a PMD (smaps). */
bool thp_pmd_mapped(const void *addr);
/*
 * The sum of the smaps fields @fields (NULL-terminated names, e.g.
 * "AnonHugePages") of the VMA holding @addr, in kB; 0 if none or unreadable.
 */
unsigned long smaps_kb(const void *addr, const char *const fields[]);
/* 0 if the page at @addr moved to the other node, -EBUSY if it stayed. */
int page_move(void *addr);
/*
 * No reference left behind: the page at @addr must migrate once the race
 * is over (page_move(), retried for half a second); a violation of @r if
 * it does not.
 */
void page_must_migrate(struct regress *r, void *addr);
/*
 * The cases @a_name[i]/@b_name[j] (@nr_a x @nr_b) of a test: runs
 * @round(i, j, seq) on each, three times over while regress_running(), seq
 * counting the calls; then prints how often each was exercised (@exercised,
 * row-major) and appends the ones never exercised to @missing (@len bytes).
 */
void pin_cases(struct regress *r, const char *const *a_name, int nr_a,
	       const char *const *b_name, int nr_b,
	       void (*round)(int a, int b, unsigned int seq),
	       const unsigned long *exercised, char *missing, size_t len);
/*
 * The verdict: not ok if violated; SKIP if @missing (the cases not
 * exercised) is not empty; else ok. Prints the mmrace-detect line, resets
 * and unloads the module as regress_finish() does. Never returns.
 */
void pin_finish(struct regress *r, const char *invariant, const char *missing);

#endif /* MMRACE_PIN_LIB_H */
