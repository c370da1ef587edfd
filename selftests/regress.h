/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Regression tests for the seed races (selftests/mutants/ holds the kernels
 * they must fail on). A test runs its race until the invariant is violated
 * or the time cap passes, with its windows armed (the default) or with
 * every window disabled (MMRACE_WINDOWS=off), and ends with:
 *
 *   not ok  the invariant was violated (with the seconds it took);
 *   ok      it held, its (first armed) window was hit by the test's own
 *           tasks (windows are filtered by pid: there is no "any task"
 *           scope), and the dangerous interleaving the test names
 *           (regress_exercise()) happened at least once in this run;
 *   SKIP    it held, but one of those is missing (or the windows were
 *           disabled): nothing shows the race was exercised.
 *
 * Every test prints machine-readable lines for scripts/check-mutants.sh:
 *   # mmrace-detect: NAME windows=armed|off detected=0|1 seconds=S cap=S
 *   # mmrace-exercised: NAME count=N what=WHAT
 * and, for each armed window that waited for a partner (wait_for):
 *   # mmrace-rendezvous: NAME window=W met=N timeout=N fraction=F
 */
#ifndef MMRACE_REGRESS_H
#define MMRACE_REGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "race.h"

struct mmrace_adversary;

struct regress {
	const char *name;
	bool armed;		/* MMRACE_WINDOWS is not "off" */
	double cap_s;		/* MMRACE_CAP_S, else the test's default */
	double start;
	int violated;		/* set once, by regress_violation() */
	double violated_at;
	char why[512];
	const char *windows[4];	/* armed by regress_arm() */
	int nwindows;
	const char *exercise;	/* what regress_exercised() counts */
	bool exercise_own;	/* ... counted on the test's own tasks */
	unsigned long long exercised;
};

/* Prints the KTAP header, loads mmrace.ko, reads the environment. */
void regress_init(struct regress *r, const char *name, double default_cap_s);
/* Seconds since regress_init(). */
double regress_elapsed(const struct regress *r);
/* Whether to go on: no violation yet and the cap not reached. */
bool regress_running(const struct regress *r);
/* Records the first violation of the invariant (thread-safe). */
void regress_violation(struct regress *r, const char *fmt, ...)
	__printf(2, 3);
/*
 * Whether @words[0..@n) read @pattern(i) each; otherwise a violation
 * naming the first word that did not ("wrong data", or @hole if it read 0).
 */
bool regress_check_words(struct regress *r, const uint64_t *words, size_t n,
			 uint64_t (*pattern)(size_t i), const char *hole);
/*
 * Names the dangerous interleaving the test counts (e.g. "frees with the
 * reader's reference held"); a test that never calls this cannot pass.
 */
void regress_exercise(struct regress *r, const char *what);
/*
 * The same, for a count that is already of this test's own tasks' events
 * (e.g. traced with a pid filter): it stands without a window hit.
 */
void regress_exercise_own(struct regress *r, const char *what);
/* Counts @n occurrences of it (thread-safe). */
void regress_exercised(struct regress *r, unsigned long long n);
/*
 * Whose events a window opens for: never any task's, so that a hit is the
 * test's own.
 */
enum regress_scope {
	REGRESS_PROCESS,	/* this process's threads */
	REGRESS_TREE,		/* this process and its descendants */
};

/*
 * Arms @window (optionally @phase) with @delay_us for @scope; does nothing
 * with the windows disabled. Exits (fail) if the window cannot be armed.
 * The first window armed is the test's own: its hits decide PASS or SKIP.
 */
void regress_arm(struct regress *r, const char *window, const char *phase,
		 unsigned int delay_us, enum regress_scope scope);
/*
 * Runs the in-kernel scenario @cmd once: a failed check is a violation
 * (recorded with its line); a note "exercised: N" counts N occurrences of
 * the dangerous interleaving. Prints the report's notes if @verbose.
 * 0, or -errno if the scenario could not run.
 */
int regress_scenario(struct regress *r, const char *cmd, bool verbose);
/*
 * Sets @window's adversary to @op and starts the helper on CPU 1
 * (mmrace_adversary_start()); does nothing with the windows disabled.
 * Exits (fail) if either cannot be done.
 */
void regress_adversary(struct regress *r, const char *window, const char *op,
		       struct mmrace_adversary *adv);
/*
 * Arms migrate_freeze (phase "check", this process tree: the helper is a
 * child) to wait up to @timeout_us for a task held in @window
 * (wait_for), so that the helper's migration completes while the lookup
 * is held; not with MMRACE_ADVERSARY_RENDEZVOUS=off (to measure without).
 * Exits (fail) if it cannot be set.
 */
void regress_migrate_rendezvous(struct regress *r, const char *window,
				unsigned int timeout_us);
/*
 * Stops the helper and prints its counts and @window's adversary
 * statistics (if armed).
 */
void regress_adversary_stop(struct regress *r, const char *window,
			    struct mmrace_adversary *adv);
/* Pins the calling thread to @cpu. */
void regress_pin_cpu(int cpu);
/*
 * The module's movable pages against compaction (class 3): runs the
 * in-kernel scenario @scenario ("NAME iterations=2000", 2 s) over and over
 * until the cap while a second thread, on CPU 1, writes
 * /proc/sys/vm/compact_memory (compaction runs in that thread, so the pid
 * filter admits it); compact_isolate phase @phase holds one event in
 * @interval for 2 ms. The scenario's "exercised" notes count @what. Ends
 * with regress_finish(@invariant); never returns.
 */
void regress_compaction_main(const char *name, const char *scenario,
			     const char *phase, unsigned int interval,
			     const char *what, const char *invariant);
/*
 * Prints the windows' statistics and the verdict (one KTAP result named
 * after the invariant), resets the module and exits (never returns).
 */
void regress_finish(struct regress *r, const char *invariant);

#endif /* MMRACE_REGRESS_H */
