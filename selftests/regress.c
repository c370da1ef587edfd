// SPDX-License-Identifier: GPL-2.0
/*
 * The frame of mmrace's regression tests (regress.h).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

static pthread_mutex_t regress_lock = PTHREAD_MUTEX_INITIALIZER;
static int regress_loaded;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void regress_init(struct regress *r, const char *name, double default_cap_s)
{
	const char *windows = getenv("MMRACE_WINDOWS");
	const char *cap = getenv("MMRACE_CAP_S");

	memset(r, 0, sizeof(*r));
	r->name = name;
	r->armed = !windows || strcmp(windows, "off");
	r->cap_s = cap ? atof(cap) : default_cap_s;
	if (r->cap_s <= 0)
		r->cap_s = default_cap_s;
	ksft_print_header();
	regress_loaded = mmrace_get();
	if (regress_loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n",
			       strerror(-regress_loaded));
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_exit_skip("a race needs two CPUs\n");
	mmrace_control("reset");
	ksft_print_msg("%s: windows %s, time cap %.0f s\n", name,
		       r->armed ? "armed" : "disabled (MMRACE_WINDOWS=off)",
		       r->cap_s);
	r->start = now_s();
}

double regress_elapsed(const struct regress *r)
{
	return now_s() - r->start;
}

bool regress_running(const struct regress *r)
{
	return !__atomic_load_n(&r->violated, __ATOMIC_ACQUIRE) &&
	       regress_elapsed(r) < r->cap_s;
}

void regress_violation(struct regress *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&regress_lock);
	if (!r->violated) {
		r->violated_at = regress_elapsed(r);
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof(r->why), fmt, ap);
		va_end(ap);
		__atomic_store_n(&r->violated, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&regress_lock);
}

bool regress_check_words(struct regress *r, const uint64_t *words, size_t n,
			 uint64_t (*pattern)(size_t i), const char *hole)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (words[i] == pattern(i))
			continue;
		regress_violation(r, "word %zu read %#llx, expected %#llx: %s",
				  i, (unsigned long long)words[i],
				  (unsigned long long)pattern(i),
				  words[i] ? "wrong data" : hole);
		return false;
	}
	return true;
}

void regress_arm(struct regress *r, const char *window, const char *phase,
		 unsigned int delay_us, enum regress_scope scope)
{
	int ret = 0;

	if (!r->armed)
		return;
	ret = win_set(window, "pid", "%d", getpid());
	if (!ret && scope == REGRESS_TREE)
		ret = win_set(window, "pid_tree", "1");
	if (!ret && phase)
		ret = win_set(window, "phase", "%s", phase);
	if (!ret)
		ret = win_set(window, "delay_us", "%u", delay_us);
	if (!ret)
		ret = win_set(window, "enable", "1");
	if (ret)
		ksft_exit_fail_msg("cannot arm %s: %s\n", window,
				   strerror(-ret));
	if (r->nwindows < 4)
		r->windows[r->nwindows++] = window;
}

void regress_exercise(struct regress *r, const char *what)
{
	r->exercise = what;
}

void regress_exercise_own(struct regress *r, const char *what)
{
	r->exercise = what;
	r->exercise_own = true;
}

void regress_exercised(struct regress *r, unsigned long long n)
{
	__atomic_add_fetch(&r->exercised, n, __ATOMIC_RELAXED);
}

int regress_scenario(struct regress *r, const char *cmd, bool verbose)
{
	static char report[8192];
	enum mmrace_report_line kind;
	const char *pos = report;
	char line[512];
	int ret;

	ret = mmrace_scenario(cmd, report, sizeof(report));
	if (ret)
		return ret;
	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END) {
		unsigned long long n;

		if (kind == MMRACE_REPORT_NOT_OK)
			regress_violation(r, "%s", line);
		else if (kind == MMRACE_REPORT_NOTE &&
			 sscanf(line, "exercised: %llu", &n) == 1)
			regress_exercised(r, n);
		else if (kind == MMRACE_REPORT_NOTE && verbose)
			ksft_print_msg("%s\n", line);
	}
	return 0;
}

void regress_adversary(struct regress *r, const char *window, const char *op,
		       struct mmrace_adversary *adv)
{
	int ret;

	if (!r->armed)
		return;
	ret = win_set(window, "adversary", "%s", op);
	if (ret)
		ksft_exit_fail_msg("%s adversary %s: %s\n", window, op,
				   strerror(-ret));
	ret = mmrace_adversary_start(adv, 1);
	if (ret)
		ksft_exit_fail_msg("adversary helper: %s\n", strerror(-ret));
}

void regress_migrate_rendezvous(struct regress *r, const char *window,
				unsigned int timeout_us)
{
	const char *rv = getenv("MMRACE_ADVERSARY_RENDEZVOUS");
	int ret;

	if (!r->armed || (rv && !strcmp(rv, "off")))
		return;
	regress_arm(r, "migrate_freeze", "check", 0, REGRESS_TREE);
	ret = win_set("migrate_freeze", "wait_for", "%s", window);
	if (!ret)
		ret = win_set("migrate_freeze", "wait_timeout_us", "%u",
			      timeout_us);
	if (ret)
		ksft_exit_fail_msg("rendezvous: %s\n", strerror(-ret));
}

void regress_adversary_stop(struct regress *r, const char *window,
			    struct mmrace_adversary *adv)
{
	const struct mmrace_adversary_counts *c = adv->counts;
	struct mmrace_stats s;
	char buf[256];
	int ret;

	ret = mmrace_adversary_stop(adv);
	if (ret)
		ksft_print_msg("adversary helper: %s\n", strerror(-ret));
	if (c)
		ksft_print_msg("helper: %lu jobs, %lu changed the page, %lu failed (last errno %d), %lu empty waits; wake-up mean %llu us max %llu us; operation mean %llu us max %llu us\n",
			       c->jobs, c->moved, c->failed, c->last_error,
			       c->timeouts,
			       c->jobs ? c->wake_ns_sum / c->jobs / 1000 : 0,
			       c->wake_ns_max / 1000,
			       c->jobs ? c->op_ns_sum / c->jobs / 1000 : 0,
			       c->op_ns_max / 1000);
	if (r->armed && !win_stats(window, &s))
		ksft_print_msg("%s adversary: %s\n", window,
			       win_adversary_str(&s, buf, sizeof(buf)));
}

void regress_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static struct regress compaction_race;
static unsigned long compactions;

static void *compactor(void *arg)
{
	(void)arg;
	regress_pin_cpu(1);
	while (regress_running(&compaction_race)) {
		if (!mmrace_write("/proc/sys/vm/compact_memory", "1"))
			compactions++;
	}
	return NULL;
}

void regress_compaction_main(const char *name, const char *scenario,
			     const char *phase, unsigned int interval,
			     const char *what, const char *invariant)
{
	struct regress *r = &compaction_race;
	char cmd[128];
	pthread_t t;
	int runs = 0, ret;

	regress_init(r, name, 15);
	if (access("/proc/sys/vm/compact_memory", W_OK))
		ksft_exit_skip("no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)\n");
	regress_arm(r, "compact_isolate", phase, 2000, REGRESS_PROCESS);
	ret = r->armed ? win_set("compact_isolate", "interval", "%u",
				 interval) : 0;
	if (ret)
		ksft_exit_fail_msg("compact_isolate interval: %s\n",
				   strerror(-ret));
	regress_exercise(r, what);
	snprintf(cmd, sizeof(cmd), "%s iterations=2000", scenario);
	pthread_create(&t, NULL, compactor, NULL);
	while (regress_running(r)) {
		ret = regress_scenario(r, cmd, true);
		if (ret)
			ksft_exit_fail_msg("scenario %s: %s\n", scenario,
					   strerror(-ret));
		runs++;
	}
	pthread_join(t, NULL);
	ksft_print_msg("%d runs of 2 s, %lu compactions\n", runs, compactions);
	regress_finish(r, invariant);
}

void regress_finish(struct regress *r, const char *invariant)
{
	struct mmrace_stats s;
	uint64_t hits = 0;
	bool shown;
	int i;

	for (i = 0; i < r->nwindows; i++) {
		if (win_stats(r->windows[i], &s))
			continue;
		win_print(r->windows[i], "during the race", &s);
		if (s.rendezvous_met + s.rendezvous_timeout)
			ksft_print_msg("mmrace-rendezvous: %s window=%s met=%llu timeout=%llu fraction=%.3f\n",
				       r->name, r->windows[i],
				       (unsigned long long)s.rendezvous_met,
				       (unsigned long long)s.rendezvous_timeout,
				       (double)s.rendezvous_met /
				       (s.rendezvous_met + s.rendezvous_timeout));
		/* The first window armed is the one the verdict rests on. */
		if (i == 0)
			hits = s.hits;
	}
	mmrace_control("reset");
	ksft_print_msg("mmrace-detect: %s windows=%s detected=%d seconds=%.2f cap=%.0f\n",
		       r->name, r->armed ? "armed" : "off", r->violated,
		       r->violated ? r->violated_at : regress_elapsed(r),
		       r->cap_s);
	ksft_print_msg("mmrace-exercised: %s count=%llu what=%s\n", r->name,
		       r->exercised, r->exercise ? r->exercise : "(none)");
	shown = r->armed && (hits || r->exercise_own) && r->exercise &&
		r->exercised;
	ksft_set_plan(1);
	if (r->violated)
		ksft_test_result_fail("%s: violated after %.2f s: %s\n",
				      invariant, r->violated_at, r->why);
	else if (!r->armed)
		ksft_test_result_skip("%s: held for %.0f s, windows disabled: nothing shows the race ran\n",
				      invariant, regress_elapsed(r));
	else if (!hits && !r->exercise_own)
		ksft_test_result_skip("%s: held, but no window was hit: the race was not exercised\n",
				      invariant);
	else if (!r->exercise)
		ksft_test_result_skip("%s: held, but the test counts no dangerous interleaving\n",
				      invariant);
	else if (!r->exercised)
		ksft_test_result_skip("%s: held, %llu window hits, but no %s in this run: the race was not exercised\n",
				      invariant, (unsigned long long)hits,
				      r->exercise);
	else
		ksft_test_result_pass("%s: held for %.0f s, %llu window hits, %llu %s\n",
				      invariant, regress_elapsed(r),
				      (unsigned long long)hits, r->exercised,
				      r->exercise);
	if (regress_loaded == 1)
		mmrace_unload();
	/* A skipped verdict exits as a SKIP (ksft_finished() would pass it). */
	if (!r->violated && !shown) {
		ksft_print_cnts();
		exit(KSFT_SKIP);
	}
	ksft_finished();
}
