// SPDX-License-Identifier: GPL-2.0
/*
 * Every control write is all or nothing, and the state the files show
 * agrees with what is registered.
 *
 * 1. profile/enable 1 (with profile/pid written) against control reset,
 *    fired together, ROUNDS times: whichever comes first, the end state is
 *    the default one (reset last clears everything; enable last is
 *    rejected, the pid being gone): profile/state "enabled: 0", "pid: -1",
 *    "armed: none", no window enabled in summary, no probe of the module's
 *    in kprobes/list. Measured on the code before the one control state:
 *    about 30% of rounds ended otherwise (windows armed for every process,
 *    or a profile "enabled" with nothing armed).
 * 2. The storm: THREADS threads write profile/pid and profile/enable 1,
 *    profile/enable 0, control reset and per-window files (delay_us,
 *    probability, interval, verbose, wait_timeout_us, phase) at random
 *    for STORM seconds, in one-second epochs; after each, summary, the
 *    windows' phase files, profile/state and kprobes/list must agree: a
 *    window is enabled exactly when the profile is enabled and lists it as
 *    armed, with the profile's pid, and kprobes/list holds exactly the
 *    kprobes of the enabled windows' selected phases.
 *
 * 3. A rejected phase write changes nothing: with the module loaded with
 *    hide_symbols=putback_movable_folio (that site counts as missing),
 *    compact_isolate armed with phase migrate, writing phase
 *    migrate,putback (putback named explicitly; "all" means the phases
 *    present) is
 *    rejected with ENOENT and the window stays armed, with phase migrate
 *    and its probe on move_to_new_folio listed. (Before the one control
 *    state, the failed re-arm left it disarmed.)
 *
 * Only the profile arms windows in 1 and 2, and no workload of the test's
 * runs into the probes. The kernel itself does: a thread that exits wakes
 * futex waiters through GUP-fast, so the storm's threads run through
 * gup_fast_pre_grab's site while other threads disarm it. On
 * multi-threaded TCG that killed a guest (Oops: int3 at
 * try_grab_folio_fast+0x1, Documentation/testing.rst): the test skips
 * there and runs on single-threaded TCG (make check's second guest).
 *
 * Usage: mmrace_control_atomic [-r ROUNDS] [-t STORM_SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define PROFILE MMRACE_DEBUGFS "/profile/"
#define WINDOWS MMRACE_DEBUGFS "/windows/"
#define KPROBES "/sys/kernel/debug/kprobes/list"
#define MAX_WINDOWS 16
#define MAX_PHASES 16
#define THREADS 4

struct window {
	char name[64];
	int nphases;			/* 0: no phase file (one phase) */
	char phases[MAX_PHASES][32];
	int kprobes[MAX_PHASES];	/* kprobe sites per phase */
	/* Functions whose direct call each phase uses ("[direct]" sites). */
	char direct[MAX_PHASES][4][64];
	int ndirect[MAX_PHASES];
};

static struct window windows[MAX_WINDOWS];
static int nwindows;
static int baseline;		/* kprobes listed before the test */
static int direct_baseline;	/* direct calls of mmrace's before */
static char pidstr[32];

static int count_lines(const char *path)
{
	static char buf[65536];
	int n = 0;
	char *p;

	if (mmrace_read(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

/* The windows, their phases and how many kprobe sites each phase has. */
static void discover(void)
{
	char buf[8192], path[256], *line, *save, *tok, *s2;
	int i;

	if (mmrace_read(MMRACE_DEBUGFS "/summary", buf, sizeof(buf)) < 0)
		ksft_exit_fail_msg("summary unreadable\n");
	for (line = strtok_r(buf, "\n", &save); line && nwindows < MAX_WINDOWS;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s", windows[nwindows].name) == 1)
			nwindows++;
	for (i = 0; i < nwindows; i++) {
		struct window *w = &windows[i];
		char sites[4096];

		snprintf(path, sizeof(path), WINDOWS "%.63s/phase", w->name);
		/*
		 * The default reading brackets the phases this kernel has (a
		 * debug kernel may lack one's site): only those are written.
		 */
		if (mmrace_read(path, buf, sizeof(buf)) > 0)
			for (tok = strtok_r(buf, "\n ", &s2);
			     tok && w->nphases < MAX_PHASES;
			     tok = strtok_r(NULL, "\n ", &s2))
				if (tok[0] == '[' && tok[strlen(tok) - 1] == ']')
					snprintf(w->phases[w->nphases++],
						 sizeof(w->phases[0]), "%.*s",
						 (int)strlen(tok) - 2, tok + 1);
		snprintf(path, sizeof(path), WINDOWS "%.63s/sites", w->name);
		if (mmrace_read(path, sites, sizeof(sites)) < 0)
			ksft_exit_fail_msg("%s unreadable\n", path);
		/* "PHASE: SYMBOL:..." or "PHASE: tracepoint:..." */
		for (line = strtok_r(sites, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *colon = strchr(line, ':');
			int p = 0;

			if (!colon || !strncmp(colon + 2, "tracepoint:", 11))
				continue;
			*colon = '\0';
			while (p < w->nphases && strcmp(w->phases[p], line))
				p++;
			if (p >= MAX_PHASES)
				continue;
			/* A direct call is listed once per function. */
			if (strstr(colon + 1, "[direct]")) {
				if (w->ndirect[p] < 4)
					sscanf(colon + 2, "%63[^:+]",
					       w->direct[p][w->ndirect[p]++]);
				continue;
			}
			/* "(N call[s]) [callsite]": two kprobes per call. */
			if (strstr(colon + 1, "[callsite]")) {
				const char *n = strstr(colon + 1, " (");
				int calls = 0;

				if (n && sscanf(n, " (%d call", &calls) == 1)
					w->kprobes[p] += 2 * calls;
				continue;
			}
			w->kprobes[p]++;
		}
	}
}

/* Reads "key: value" from profile/state. */
static const char *state_value(const char *state, const char *key,
			       char *out, size_t len)
{
	const char *p = strstr(state, key);

	if (!p) {
		snprintf(out, len, "?");
		return out;
	}
	p += strlen(key);
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	return out;
}

/*
 * Whether the files agree (see the top); @why says how they do not.
 * @expect_default: the state must also be the default one.
 */
/* Adds the functions of @w's phase @p's direct calls to @set, each once. */
static void add_directs(const struct window *w, int p, char set[][64], int *n)
{
	int i, j;

	for (i = 0; i < w->ndirect[p]; i++) {
		for (j = 0; j < *n && strcmp(set[j], w->direct[p][i]); j++)
			;
		if (j == *n && *n < MAX_WINDOWS * 4)
			snprintf(set[(*n)++], 64, "%s", w->direct[p][i]);
	}
}

static bool agree(bool expect_default, char *why, size_t len)
{
	static char directs[MAX_WINDOWS * 4][64];
	int ndirects = 0;
	char summary[8192], state[1024], path[256], buf[512];
	char enabled[16], pid[32], armed[512];
	int i, expected = 0, listed;
	char *line, *save;

	if (mmrace_read(MMRACE_DEBUGFS "/summary", summary, sizeof(summary)) < 0 ||
	    mmrace_read(PROFILE "state", state, sizeof(state)) < 0) {
		snprintf(why, len, "unreadable");
		return false;
	}
	state_value(state, "enabled: ", enabled, sizeof(enabled));
	state_value(state, "pid: ", pid, sizeof(pid));
	state_value(state, "armed: ", armed, sizeof(armed));
	if (expect_default && (strcmp(enabled, "0") || strcmp(pid, "-1") ||
			       strcmp(armed, "none"))) {
		snprintf(why, len, "profile enabled: %.15s pid: %.31s armed: %.200s",
			 enabled, pid, armed);
		return false;
	}
	if (!strcmp(enabled, "1") && !strcmp(pid, "-1")) {
		snprintf(why, len, "profile enabled with pid -1");
		return false;
	}
	i = 0;
	for (line = strtok_r(summary, "\n", &save); line && i < nwindows;
	     line = strtok_r(NULL, "\n", &save), i++) {
		struct window *w = &windows[i];
		bool on = strstr(line, " enabled=1 ") != NULL;
		char wpid[48], listed_name[80];
		bool in_armed;
		int p;

		snprintf(wpid, sizeof(wpid), " pid=%s ", pid);
		snprintf(listed_name, sizeof(listed_name), ",%.63s,", w->name);
		snprintf(buf, sizeof(buf), ",%.500s,", armed);
		in_armed = strstr(buf, listed_name) != NULL;
		if (on != (!strcmp(enabled, "1") && in_armed)) {
			snprintf(why, len,
				 "%.63s enabled=%d, profile enabled: %.15s armed: %.300s",
				 w->name, on, enabled, armed);
			return false;
		}
		if (on && !strstr(line, wpid)) {
			snprintf(why, len, "%.63s armed, not for the profile's pid %.31s: %.300s",
				 w->name, pid, line);
			return false;
		}
		if (!on)
			continue;
		if (!w->nphases) {
			expected += w->kprobes[0];
			add_directs(w, 0, directs, &ndirects);
			continue;
		}
		snprintf(path, sizeof(path), WINDOWS "%.63s/phase", w->name);
		if (mmrace_read(path, buf, sizeof(buf)) < 0)
			return false;
		for (p = 0; p < w->nphases; p++) {
			char sel[48];

			snprintf(sel, sizeof(sel), "[%s]", w->phases[p]);
			if (strstr(buf, sel)) {
				expected += w->kprobes[p];
				add_directs(w, p, directs, &ndirects);
			}
		}
	}
	listed = count_lines(KPROBES) - baseline;
	if (listed != expected) {
		snprintf(why, len, "%d kprobes listed, %d expected (%.300s)",
			 listed, expected, armed);
		return false;
	}
	listed = direct_count() - direct_baseline;
	if (listed != ndirects) {
		snprintf(why, len, "%d direct calls listed, %d expected (%.300s)",
			 listed, ndirects, armed);
		return false;
	}
	return true;
}

static pthread_barrier_t barrier;

static void *enable_thread(void *arg)
{
	pthread_barrier_wait(&barrier);
	mmrace_write(PROFILE "enable", "1");
	return arg;
}

static void *reset_thread(void *arg)
{
	pthread_barrier_wait(&barrier);
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	return arg;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enable_vs_reset(int rounds)
{
	int r, bad = 0;
	char why[512] = "";
	double start = now_s();

	pthread_barrier_init(&barrier, NULL, 2);
	for (r = 0; r < rounds; r++) {
		pthread_t a, b;
		char w[512];

		mmrace_write(PROFILE "pid", pidstr);
		pthread_create(&a, NULL, enable_thread, NULL);
		pthread_create(&b, NULL, reset_thread, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		if (!agree(true, w, sizeof(w))) {
			if (!bad++)
				snprintf(why, sizeof(why), "round %d: %.480s", r, w);
			mmrace_write(MMRACE_DEBUGFS "/control", "reset");
		}
	}
	pthread_barrier_destroy(&barrier);
	ksft_print_msg("%d rounds in %.1f s\n", rounds, now_s() - start);
	if (bad)
		ksft_print_msg("first: %s\n", why);
	ksft_test_result(!bad,
			 "profile/enable 1 against control reset: %d of %d rounds end in a state no order explains\n",
			 bad, rounds);
}

static int stop;

static void *storm_thread(void *arg)
{
	unsigned int seed = (unsigned int)(unsigned long)arg;
	char path[256], val[256];

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct window *w = &windows[rand_r(&seed) % nwindows];
		int k = rand_r(&seed) % 10;

		switch (k) {
		case 0:
			mmrace_write(PROFILE "pid", pidstr);
			mmrace_write(PROFILE "enable", "1");
			continue;
		case 1:
			mmrace_write(PROFILE "enable", "0");
			continue;
		case 2:
			mmrace_write(MMRACE_DEBUGFS "/control", "reset");
			continue;
		case 3:
			snprintf(path, sizeof(path), WINDOWS "%.63s/delay_us", w->name);
			snprintf(val, sizeof(val), "%d", rand_r(&seed) % 1000);
			break;
		case 4:
			snprintf(path, sizeof(path), WINDOWS "%.63s/probability", w->name);
			snprintf(val, sizeof(val), "%d", rand_r(&seed) % 101);
			break;
		case 5:
			snprintf(path, sizeof(path), WINDOWS "%.63s/interval", w->name);
			snprintf(val, sizeof(val), "%d", 1 + rand_r(&seed) % 9);
			break;
		case 6:
			snprintf(path, sizeof(path), WINDOWS "%.63s/verbose", w->name);
			snprintf(val, sizeof(val), "0");
			break;
		case 7:
			snprintf(path, sizeof(path), WINDOWS "%.63s/wait_timeout_us",
				 w->name);
			snprintf(val, sizeof(val), "%d", rand_r(&seed) % 1000);
			break;
		default:
			if (!w->nphases)
				continue;
			snprintf(path, sizeof(path), WINDOWS "%.63s/phase", w->name);
			if (rand_r(&seed) % 3 == 0)
				snprintf(val, sizeof(val), "all");
			else
				snprintf(val, sizeof(val), "%s",
					 w->phases[rand_r(&seed) % w->nphases]);
			break;
		}
		mmrace_write(path, val);
	}
	return NULL;
}

static void storm(int seconds)
{
	int e, bad = 0, epochs = seconds > 0 ? seconds : 1;
	char why[512] = "";

	for (e = 0; e < epochs; e++) {
		pthread_t t[THREADS];
		char w[512];
		int i;

		__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
		for (i = 0; i < THREADS; i++)
			pthread_create(&t[i], NULL, storm_thread,
				       (void *)(unsigned long)(e * THREADS + i + 1));
		usleep(1000000);
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
		for (i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		if (!agree(false, w, sizeof(w)) && !bad++)
			snprintf(why, sizeof(why), "epoch %d: %.480s", e, w);
	}
	if (bad)
		ksft_print_msg("first: %s\n", why);
	ksft_test_result(!bad,
			 "%d threads writing profile, control and window files for %d s: summary, profile/state and kprobes/list disagree after %d of %d epochs\n",
			 THREADS, seconds, bad, epochs);
}

#define CI WINDOWS "compact_isolate/"

static void rejected_phase(void)
{
	char enable[16] = "", phase[128] = "";
	bool before, after;
	int ret;

	if (mmrace_unload() || mmrace_load_params("hide_symbols=putback_movable_folio")) {
		ksft_test_result_skip("rejected phase: cannot reload mmrace.ko with hide_symbols\n");
		return;
	}
	mmrace_write(CI "phase", "migrate");
	mmrace_write(CI "enable", "1");
	before = hook_listed("move_to_new_folio");
	ret = mmrace_write(CI "phase", "migrate,putback");
	mmrace_read(CI "enable", enable, sizeof(enable));
	mmrace_read(CI "phase", phase, sizeof(phase));
	after = hook_listed("move_to_new_folio");
	ksft_print_msg("phase migrate,putback: %s; then enable %.*s, phase %.*s, move_to_new_folio %slisted\n",
		       strerror(-ret), (int)strcspn(enable, "\n"), enable,
		       (int)strcspn(phase, "\n"), phase, after ? "" : "not ");
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	mmrace_unload();
	if (mmrace_load())
		ksft_print_msg("cannot reload mmrace.ko\n");
	if (!before || ret == 0) {
		ksft_test_result_skip("rejected phase: %s\n",
				      !before ? "compact_isolate could not be armed" :
				      "phase putback accepted: hide_symbols not honoured");
		return;
	}
	ksft_test_result(ret == -ENOENT && !strcmp(enable, "1\n") &&
			 !strncmp(phase, "[migrate] putback", 17) && after,
			 "a rejected phase write leaves the armed window armed, its phases and probe as they were\n");
}

int main(int argc, char **argv)
{
	int rounds = 400, seconds = 30, loaded, opt;

	while ((opt = getopt(argc, argv, "r:t:")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 't')
			seconds = atoi(optarg);
		else
			ksft_exit_fail_msg("usage: %s [-r ROUNDS] [-t SECONDS]\n",
					   argv[0]);
	}
	ksft_print_header();
	if (mmrace_guest_mttcg())
		ksft_exit_skip("multi-threaded TCG executes removed int3s (Oops: int3 with a kprobe disarmed while a CPU runs through it): run on single-threaded TCG (make check's second guest), KVM or hardware\n");
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	ksft_set_plan(3);
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	baseline = count_lines(KPROBES);
	if (baseline < 0)
		ksft_exit_skip("no " KPROBES "\n");
	direct_baseline = direct_count();
	if (direct_calls_supported() && direct_baseline < 0)
		ksft_exit_skip("no tracefs enabled_functions: direct calls cannot be counted\n");
	discover();
	snprintf(pidstr, sizeof(pidstr), "%d", getpid());

	enable_vs_reset(rounds);
	storm(seconds);
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	rejected_phase();

	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
