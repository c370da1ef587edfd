// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's guest side: measures, in one boot,
 *
 * 1. amplification per window: hits per second of the window's detector
 *    with the window armed (delay_us=2000) and with a zero-length window
 *    (delay_us=0: the same detector, no delay), same workload and duration;
 * 2. rendezvous determinism: for each pair, the fraction of attempts in
 *    which the partner arrived, and the time per attempt;
 * 3. overhead: GUP-fast (CONFIG_GUP_TEST's GUP_FAST_BENCHMARK), a
 *    page-cache read loop and a move_pages loop, with the module not
 *    loaded, loaded with every window disarmed, loaded with every
 *    window armed but filtered to a page the workload never touches, with
 *    the windows on each workload's path so armed, and with each window
 *    so armed alone; interleaved in the same boot,
 *    medians and spread; and how each window's probes reach their sites
 *    (direct, ftrace, int3, tracepoint), from its "sites" file.
 *
 * Prints reStructuredText tables between "BEGIN RST" and "END RST", which
 * scripts/bench.sh puts into Documentation/benchmarks.rst. --smoke runs
 * everything briefly, for make check; --overhead the overhead tables alone
 * (MMRACE_BENCH=--overhead make bench: the document is not rewritten);
 * --overhead-table the overhead table without the table of sites (make
 * bench's second boot, with kprobes jump optimization on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gup_test.h"
#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define MAX_REPS 32

static unsigned int run_ms = 2000, reps = 21, gup_pages = 256, loops = 2000;

struct window_bench {
	const char *window;
	const char *phase;
	bool memfd, retarget;
	race_fn a, b;
	const char *what;
};

static const struct window_bench windows[] = {
	{ "gup_fast_pre_grab", NULL, false, true, side_gup_fast, side_migrate,
	  "GUP-fast vs move_pages" },
	{ "gup_fast_post_grab", NULL, false, true, side_gup_fast, side_migrate,
	  "GUP-fast vs move_pages" },
	{ "migrate_freeze", "check", true, false, side_migrate, side_read,
	  "move_pages vs pread (shmem)" },
	{ "compact_isolate", "migrate", false, false, side_migrate, side_touch,
	  "move_pages vs reads of the page" },
	{ "pagecache_pre_grab", NULL, true, false, side_read, side_migrate,
	  "pread vs move_pages (shmem)" },
	{ "pagecache_post_grab", NULL, true, false, side_read, side_migrate,
	  "pread vs move_pages (shmem)" },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hits per second, and hits per window (or per event, for delay 0). */
static double hits_per_s(const struct window_bench *w, struct race_page *p,
			 unsigned int delay_us, double *fraction)
{
	struct mmrace_stats s;
	uint64_t opened;

	win_set(w->window, "delay_us", "%u", delay_us);
	win_set(w->window, "stats", "0");
	race_run(p, w->a, w->b, run_ms, NULL, NULL);
	win_stats(w->window, &s);
	opened = delay_us ? s.delayed : s.entered - s.filtered_out;
	*fraction = opened ? 100.0 * s.hits / opened : 0;
	return s.hits * 1000.0 / run_ms;
}

static void amplification(void)
{
	struct race_page p;
	unsigned int i;

	printf("Amplification per window\n------------------------\n\n");
	printf("Hits per second of each window's detector, %u ms per run: armed (``delay_us=2000``) against a zero-length window (``delay_us=0``, the same detector without delay: the natural rate). Where no natural hit was seen, the natural rate is given as an upper bound (fewer than one per run) and the ratio as a lower bound. Delays slow the workload (fewer events per second), so the table also gives the fraction of events (natural) and of windows (armed) that saw the conflict.\n\n",
	       run_ms);
	printf("==================== ================================ ========== ========== ========== ========== ==========\n");
	printf("window               workload                         natural/s  armed/s    ratio      natural %%  armed %%\n");
	printf("==================== ================================ ========== ========== ========== ========== ==========\n");
	for (i = 0; i < ARRAY_SIZE(windows); i++) {
		const struct window_bench *w = &windows[i];
		double natural, armed, nat_pc, arm_pc;

		if ((w->memfd ? race_memfd_page(&p) : race_anon_page(&p)))
			continue;
		mmrace_control("reset");
		win_set(w->window, "pid", "%d", getpid());
		if (w->phase)
			win_set(w->window, "phase", "%s", w->phase);
		if (w->retarget)
			p.retarget = w->window;
		if (win_set(w->window, "enable", "1")) {
			printf("%-20s %-32s (cannot arm)\n", w->window, w->what);
			race_page_free(&p);
			continue;
		}
		natural = hits_per_s(w, &p, 0, &nat_pc);
		armed = hits_per_s(w, &p, 2000, &arm_pc);
		if (natural > 0)
			printf("%-20s %-32s %-10.1f %-10.1f %-10.1f %-10.2f %-10.1f\n",
			       w->window, w->what, natural, armed,
			       armed / natural, nat_pc, arm_pc);
		else
			printf("%-20s %-32s <%-9.2f %-10.1f >%-9.0f %-10.2f %-10.1f\n",
			       w->window, w->what, 1000.0 / run_ms, armed,
			       armed * run_ms / 1000.0, nat_pc, arm_pc);
		mmrace_control("reset");
		race_page_free(&p);
	}
	printf("==================== ================================ ========== ========== ========== ========== ==========\n\n");
}

static void rendezvous_pair(const char *waiting, const char *phase_w,
			    const char *partner, const char *phase_p,
			    bool memfd, race_fn a, race_fn b, const char *what)
{
	struct mmrace_stats s;
	struct race_page p;

	if ((memfd ? race_memfd_page(&p) : race_anon_page(&p)))
		return;
	mmrace_control("reset");
	win_set(waiting, "pid", "%d", getpid());
	win_set(partner, "pid", "%d", getpid());
	if (phase_w)
		win_set(waiting, "phase", "%s", phase_w);
	if (phase_p)
		win_set(partner, "phase", "%s", phase_p);
	win_set(waiting, "wait_for", "%s", partner);
	win_set(waiting, "wait_timeout_us", "20000");
	if (win_set(partner, "enable", "1") || win_set(waiting, "enable", "1")) {
		printf("%-40s (cannot arm)\n", what);
		race_page_free(&p);
		return;
	}
	race_run(&p, a, b, run_ms, NULL, NULL);
	win_stats(waiting, &s);
	printf("%-40s %-9llu %-9llu %-9.1f %-10.0f\n", what,
	       (unsigned long long)s.delayed,
	       (unsigned long long)s.rendezvous_met,
	       s.delayed ? 100.0 * s.rendezvous_met / s.delayed : 0.0,
	       s.delayed ? s.total_delay_ns / 1000.0 / s.delayed : 0.0);
	mmrace_control("reset");
	race_page_free(&p);
}

static void rendezvous(void)
{
	printf("Rendezvous determinism\n----------------------\n\n");
	printf("The waiting window holds until its partner arrives on the same page (timeout 20 ms), %u ms per pair.\n\n",
	       run_ms);
	printf("======================================== ========= ========= ========= ==========\n");
	printf("waiting -> partner                       attempts  met       met %%     us/attempt\n");
	printf("======================================== ========= ========= ========= ==========\n");
	rendezvous_pair("migrate_freeze", "frozen", "pagecache_pre_grab", NULL,
			true, side_migrate, side_read,
			"migrate_freeze/frozen -> pagecache_pre");
	rendezvous_pair("pagecache_pre_grab", NULL, "migrate_freeze", "frozen",
			true, side_read, side_migrate,
			"pagecache_pre -> migrate_freeze/frozen");
	rendezvous_pair("gup_fast_post_grab", NULL, "migrate_freeze", "check",
			false, side_gup_fast, side_migrate,
			"gup_fast_post -> migrate_freeze/check");
	printf("======================================== ========= ========= ========= ==========\n\n");
	printf("The GUP-fast pair cannot meet: migration's unmap waits for the TLB-flush IPI to the CPU that GUP-fast holds with interrupts off (windows.rst).\n\n");
}

/* One measurement of each workload, in microseconds per operation. */
static void workloads(struct race_page *anon, struct race_page *shm,
		      double *gup_us, double *read_us, double *move_us)
{
	struct gup_test gup = {
		.addr = (unsigned long)anon->addr,
		.size = gup_pages * sysconf(_SC_PAGESIZE),
		.nr_pages_per_call = gup_pages,
	};
	unsigned int i;
	double t;
	char buf[64];

	*gup_us = 0;
	for (i = 0; i < loops / 20; i++) {
		if (ioctl(anon->gup_fd, GUP_FAST_BENCHMARK, &gup))
			break;
		*gup_us += gup.get_delta_usec;
	}
	*gup_us /= (double)(loops / 20) * gup_pages;
	t = now_s();
	for (i = 0; i < loops * 10; i++)
		if (pread(shm->memfd, buf, sizeof(buf), 0) != sizeof(buf))
			break;
	*read_us = (now_s() - t) * 1e6 / (loops * 10);
	t = now_s();
	for (i = 0; i < loops / 10; i++)
		side_migrate(anon);
	*move_us = (now_s() - t) * 1e6 / (loops / 10);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The mechanisms of a window's sites (of the phases it arms by default),
 * from its "sites" file ("PHASE: SITE [MECHANISM]"), joined with '+', each
 * once; with @table, also one table row per site.
 */
static void mechanisms(const char *window, char *out, size_t len, bool table)
{
	char path[256], buf[4096], phases[512], want[80], *line, *save, *l, *r;

	out[0] = '\0';
	/* The selected phases: "[name]" in "phase" (none: one phase). */
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/phase", window);
	if (mmrace_read(path, phases, sizeof(phases)) <= 0)
		phases[0] = '\0';
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/sites", window);
	if (mmrace_read(path, buf, sizeof(buf)) <= 0) {
		snprintf(out, len, "?");
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		l = strrchr(line, '[');
		r = strrchr(line, ']');
		if (!l || !r || r < l || !strchr(line, ':'))
			continue;
		snprintf(want, sizeof(want), "[%.*s]",
			 (int)(strchr(line, ':') - line), line);
		if (phases[0] && !strstr(phases, want))
			continue;
		*r = '\0';
		if (table)
			printf("%-20s %-70.*s %s\n", window, (int)(l - line - 1),
			       line, l + 1);
		if (!strstr(out, l + 1))
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
				 out[0] ? "+" : "", l + 1);
	}
}

/*
 * The windows on each workload's path, armed together in a state of their
 * own: GUP-fast's (its two windows), pread's (the page-cache windows) and
 * move_pages's (migration's and compaction's): the cost a user pays who
 * arms the windows of the race they chase.
 */
static const struct {
	const char *name;
	unsigned int mask;	/* bits of windows[] */
} paths[] = {
	{ "GUP-fast's windows (gup_fast_*)", 1u << 0 | 1u << 1 },
	{ "pread's windows (pagecache_*)", 1u << 4 | 1u << 5 },
	{ "move_pages's (migrate, compact)", 1u << 2 | 1u << 3 },
};

/* Whether kprobes jump-optimizes probes here (an int3 otherwise). */
static bool kprobes_optimized(void)
{
	char buf[8];

	return mmrace_read("/proc/sys/debug/kprobes-optimization", buf,
			   sizeof(buf)) > 0 && buf[0] == '1';
}

/*
 * With jump optimization on, waits (at most 2 s) until kprobes' delayed
 * optimizer is done with the probes just armed: the number of
 * [OPTIMIZED] probes in kprobes/list unchanged for 100 ms. A probe left
 * armed spends its life optimized; the first jiffies on an int3 are not
 * what it costs.
 */
static void settle(void)
{
	static char buf[16384];
	int last = -1, same = 0, n, i;
	const char *q;

	if (!kprobes_optimized())
		return;
	for (i = 0; i < 100 && same < 5; i++) {
		usleep(20000);
		if (mmrace_read("/sys/kernel/debug/kprobes/list", buf,
				sizeof(buf)) < 0)
			return;
		for (n = 0, q = buf; (q = strstr(q, "[OPTIMIZED]")); q++)
			n++;
		same = n == last ? same + 1 : 0;
		last = n;
	}
}

/* The windows of @mask armed, filtered to another page. */
static void arm_filtered(unsigned int mask, const struct race_page *other)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(windows); i++) {
		if (!(mask & 1u << i))
			continue;
		win_target(windows[i].window, other->addr);
		win_set(windows[i].window, "enable", "1");
	}
	settle();
}

/*
 * States: not loaded, loaded and disarmed, every window armed but filtered
 * to another page, the windows of each path so armed, then each window
 * alone (which hook costs what).
 */
#define FIRST_PATH 3
#define FIRST_ALONE (FIRST_PATH + ARRAY_SIZE(paths))
#define NR_STATES (FIRST_ALONE + ARRAY_SIZE(windows))

static void overhead_table(bool sites)
{
	static const char * const work[] = {
		"GUP-fast, us/page", "pread, us/call", "move_pages, us/move",
	};
	static double v[NR_STATES][3][MAX_REPS];
	double paired[NR_STATES][3], min[NR_STATES][3];
	char names[NR_STATES][64], mech[NR_STATES][64];
	struct race_page anon, shm, other;
	unsigned int r, st, k, i;
	size_t size;

	size = gup_pages * sysconf(_SC_PAGESIZE);
	if (race_memfd_page(&shm) || race_anon_page(&other) ||
	    race_anon_page(&anon) || anon.gup_fd < 0) {
		printf("No gup_test: no overhead table\n");
		return;
	}
	munmap(anon.addr, sysconf(_SC_PAGESIZE));
	anon.addr = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(anon.addr, 1, size);

	snprintf(names[0], sizeof(names[0]), "not loaded");
	snprintf(names[1], sizeof(names[1]), "loaded, all disarmed");
	snprintf(names[2], sizeof(names[2]), "armed, filtered to another page");
	snprintf(mech[0], sizeof(mech[0]), "-");
	snprintf(mech[1], sizeof(mech[1]), "-");
	snprintf(mech[2], sizeof(mech[2]), "all below");
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		snprintf(names[FIRST_PATH + i], sizeof(names[0]), "... %s",
			 paths[i].name);
		snprintf(mech[FIRST_PATH + i], sizeof(mech[0]), "as below");
	}
	for (i = 0; i < ARRAY_SIZE(windows); i++) {
		snprintf(names[FIRST_ALONE + i], sizeof(names[0]),
			 "... %s alone", windows[i].window);
		mechanisms(windows[i].window, mech[FIRST_ALONE + i],
			   sizeof(mech[0]), false);
	}

	for (r = 0; r < reps; r++) {
		for (st = 0; st < NR_STATES; st++) {
			if (st == 0) {
				mmrace_unload();
			} else {
				if (!mmrace_loaded())
					mmrace_load();
				mmrace_control("reset");
			}
			if (st == 2)
				arm_filtered(~0u, &other);
			else if (st >= FIRST_ALONE)
				arm_filtered(1u << (st - FIRST_ALONE), &other);
			else if (st >= FIRST_PATH)
				arm_filtered(paths[st - FIRST_PATH].mask, &other);
			workloads(&anon, &shm, &v[st][0][r], &v[st][1][r],
				  &v[st][2][r]);
		}
	}
	mmrace_control("reset");

	/*
	 * Each state's time over "not loaded"'s in the same repetition: the
	 * states of one repetition run within a second or two, mostly at one
	 * of the host's speeds.
	 */
	for (st = 0; st < NR_STATES; st++) {
		for (k = 0; k < 3; k++) {
			double ratio[MAX_REPS];

			for (r = 0; r < reps; r++)
				ratio[r] = v[0][k][r] ? v[st][k][r] / v[0][k][r] : 0;
			paired[st][k] = median(ratio, reps);
		}
	}

	if (kprobes_optimized())
		printf("Overhead, kprobes jump-optimized\n--------------------------------\n\n");
	else
		printf("Overhead, kprobes on breakpoints\n--------------------------------\n\n");
	printf("%u repetitions, the states interleaved in each; median (min-max), then the median of its ratios to \"not loaded\" in the same repetition, and the ratio of the minimums (the host's TCG speed changes for seconds at a time: the states of one repetition run within a second or two, mostly at one speed, and the minimum is what a state costs at least). GUP-fast: ``GUP_FAST_BENCHMARK`` on %u pages; pread: 64 bytes of a shmem page; move_pages: one page between the two nodes. \"Armed, filtered\": every window below armed (default phases) with a ``target`` on a page the workloads never touch; then the windows on each workload's path (read each in its own column), then each window alone. %s The mechanism is how its probes reach their sites (table below): ``direct`` (the function's ftrace call made a direct call of mmrace's trampoline), ``ftrace`` (a kprobe on the function's ftrace call), ``callsite`` (a kprobe right after each call of the function in the callers the site names), ``int3`` (a breakpoint), ``tracepoint``. Every probe whose value is a page or folio carries the target's pfn: calls for other pages are turned away in the glue, before any handler (windows.rst, \"How probes reach their sites\").\n\n",
	       reps, gup_pages,
	       kprobes_optimized() ?
	       "kprobes jump-optimizes the kprobes it can (the kernel's default: what a kernel on KVM or hardware does), after each arming the bench waits for its optimizer." :
	       "kprobes jump optimization is off (multi-threaded TCG, Documentation/testing.rst): every kprobe is a breakpoint, a trap at each hit.");
	printf("==================================== ====================== ======================================== ======================================== ========================================\n");
	printf("state                                mechanism              %-40s %-40s %-40s\n",
	       work[0], work[1], work[2]);
	printf("==================================== ====================== ======================================== ======================================== ========================================\n");
	for (st = 0; st < NR_STATES; st++) {
		char cell[3][64];

		for (k = 0; k < 3; k++) {
			double lo = 1e30, hi = 0, m;

			for (r = 0; r < reps; r++) {
				lo = v[st][k][r] < lo ? v[st][k][r] : lo;
				hi = v[st][k][r] > hi ? v[st][k][r] : hi;
			}
			m = median(v[st][k], reps);
			min[st][k] = lo;
			snprintf(cell[k], sizeof(cell[k]),
				 "%.3f (%.3f-%.3f) x%.2f/x%.2f", m, lo, hi,
				 paired[st][k], min[0][k] ? lo / min[0][k] : 0);
		}
		printf("%-36s %-22s %-40s %-40s %-40s\n", names[st], mech[st],
		       cell[0], cell[1], cell[2]);
	}
	printf("==================================== ====================== ======================================== ======================================== ========================================\n\n");

	if (!sites)
		goto out;
	printf("Sites and mechanisms\n--------------------\n\n");
	printf("Each site of the windows above (``sites``; the default phases are armed), and how its probe reaches it. A return probe (``:return``) with callers is a kprobe right after each call of the function in those callers (``callsite``: calls from elsewhere pay nothing, and none pays a return hook); without, a kretprobe (its entry rides the mechanism given; ``int3`` or ``ftrace``) or, where the function's arguments all travel in registers, a direct call whose trampoline calls the body itself; either way its entry filter turns away calls that cannot match (disarmed, another task, or another page when the entry names it), and only the others have their return hooked.\n\n");
	printf("==================== ====================================================================== ==========\n");
	printf("window               site                                                                   mechanism\n");
	printf("==================== ====================================================================== ==========\n");
	if (!mmrace_loaded())
		mmrace_load();
	for (i = 0; i < ARRAY_SIZE(windows); i++)
		mechanisms(windows[i].window, mech[0], sizeof(mech[0]), true);
	printf("==================== ====================================================================== ==========\n\n");
out:
	race_page_free(&shm);
	race_page_free(&other);
	close(anon.gup_fd);
}

int main(int argc, char **argv)
{
	bool overhead_only = argc > 1 && !strcmp(argv[1], "--overhead");
	/* The overhead table alone (make bench's second boot). */
	bool table_only = argc > 1 && !strcmp(argv[1], "--overhead-table");

	if (argc > 1 && !strcmp(argv[1], "--smoke")) {
		run_ms = 200;
		reps = 3;
		gup_pages = 16;
		loops = 100;
	}
	/* The overhead table alone needs no second CPU (make bench's one). */
	if (race_nodes() < 2 ||
	    (!table_only && sysconf(_SC_NPROCESSORS_ONLN) < 2)) {
		printf("bench needs two CPUs and two NUMA nodes\n");
		return 4;
	}
	if (mmrace_get() < 0) {
		printf("cannot load mmrace.ko\n");
		return 1;
	}
	printf("BEGIN RST\n");
	if (!overhead_only && !table_only) {
		amplification();
		rendezvous();
	}
	overhead_table(!table_only);
	printf("END RST\n");
	fflush(stdout);
	return 0;
}
