// SPDX-License-Identifier: GPL-2.0
/*
 * Control under fire.
 *
 * The storm: controller threads arm, disarm and re-target every window
 * (enable, delay_us, pid, pfn, target, wait_for, phase, the rest, and
 * control's disarm-all and reset) as fast as they can, while workload
 * threads drive the probed paths: GUP-fast and migration of an anonymous
 * page, page-cache reads and migration of a shmem page. Every write must
 * succeed, but for the documented failures (a target whose page is being
 * migrated is not present).
 *
 * The cycles: with the workloads still running, load the module, arm every
 * window with a long delay, wait until a task is inside a window, disarm
 * every window and arm it again (what a user does by hand in make shell),
 * wait until a task is inside again, and rmmod; 100 cycles by default, or
 * as many as fit in MMRACE_FIRE_BUDGET_S seconds (default 400: a debug
 * kernel under single-threaded TCG is far slower), at least MIN_CYCLES.
 * Meanwhile a prodder thread keeps opening, reading and writing the debugfs
 * files, so the unload also races with them.
 *
 * It disarms probes while other CPUs run into them, which QEMU's
 * multi-threaded TCG gets wrong (a CPU may still execute the removed int3,
 * whatever the probe's owner: Documentation/testing.rst): there it skips;
 * make check runs it in a second guest, on single-threaded TCG.
 *
 * Asserts: every thread joins within a bound and rmmod returns within one
 * (no task left blocked), no task is left in D state, no kprobe is left
 * registered after any unload, free memory (after dropping caches) comes
 * back to its level before the test within a tolerance (see
 * MEMORY_TOLERANCE_KB; measured again, up to MEMORY_TRIES times, while it
 * is not), no W/D/B/L taint; the runner scans the kernel
 * log for splats.
 *
 * A monitor thread names the step the main thread is in when one takes
 * over STEP_SLOW_S, with the main thread's kernel stack, so that a slow
 * or stuck run says where it is before the runner's timeout kills it.
 *
 * Usage: mmrace_control_fire [-t STORM_SECONDS] [-n CYCLES] [-s SEED]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define MAX_WINDOWS 16
#define MAX_PHASES 16
#define MAX_SYMBOLS 64
#define CONTROLLERS 4
/* Bounds: far above what the work takes, far below the hung-task timer. */
#define JOIN_MS 10000
#define UNLOAD_MS 15000
/* Fewer cycles than this in the time budget fail the cycles' test. */
#define MIN_CYCLES 10
#define STEP_SLOW_S 60
/* The kernel's ENOTSUPP, which has no user-space name. */
#define ENOTSUPP 524

struct window {
	char name[64];
	int nphases;
	char phases[MAX_PHASES][32];
};

static struct window windows[MAX_WINDOWS];
static int nwindows;
static char symbols[MAX_SYMBOLS][64];	/* kprobe sites, from `sites` */
static int nsymbols;
static struct race_page anon, shmem;
static pid_t mypid;

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(uint64_t *s, unsigned int n)
{
	return rnd(s) % n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool join_within(pthread_t t, unsigned int ms)
{
	struct timespec dl;

	deadline_in(&dl, ms);
	return pthread_timedjoin_np(t, NULL, &dl) == 0;
}

/* ---- The step monitor ---- */

/* Published by a release store of step, read after an acquire load. */
static const char *step;	/* what the main thread does now */
static double step_t0;
static unsigned long step_cycle;
static int monitor_stop;
static pid_t main_tid;

static void step_begin(const char *what, unsigned long cycle)
{
	step_cycle = cycle;
	step_t0 = now_s();
	__atomic_store_n(&step, what, __ATOMIC_RELEASE);
}

static void step_end(void)
{
	__atomic_store_n(&step, NULL, __ATOMIC_RELEASE);
}

/* Names a step over STEP_SLOW_S once, with the main thread's kernel stack. */
static void *monitor_main(void *arg)
{
	const char *seen = NULL, *what;
	double seen_t0 = 0, t0;
	char path[64], buf[2048];

	(void)arg;
	while (!__atomic_load_n(&monitor_stop, __ATOMIC_RELAXED)) {
		sleep(1);
		what = __atomic_load_n(&step, __ATOMIC_ACQUIRE);
		t0 = what ? step_t0 : 0;
		if (!what || now_s() - t0 < STEP_SLOW_S ||
		    (what == seen && t0 == seen_t0))
			continue;
		seen = what;
		seen_t0 = t0;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stack",
			 main_tid);
		if (mmrace_read(path, buf, sizeof(buf)) <= 0)
			snprintf(buf, sizeof(buf), "(unreadable)\n");
		ksft_print_msg("cycle %lu: %s has taken %.0f s so far; the main thread's kernel stack:\n%s",
			       step_cycle, what, now_s() - t0, buf);
	}
	return NULL;
}

/* ---- The tree ---- */

static void read_window(struct window *w)
{
	char path[256], buf[4096], *line, *save, *t, sym[64];

	w->nphases = 0;
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/phase", w->name);
	/*
	 * The default reading brackets the phases this kernel has (a debug
	 * kernel may lack one's site): only those are written.
	 */
	if (mmrace_read(path, buf, sizeof(buf)) > 0) {
		for (t = strtok_r(buf, "\n ", &save);
		     t && w->nphases < MAX_PHASES;
		     t = strtok_r(NULL, "\n ", &save))
			if (t[0] == '[' && t[strlen(t) - 1] == ']')
				snprintf(w->phases[w->nphases++],
					 sizeof(w->phases[0]), "%.*s",
					 (int)strlen(t) - 2, t + 1);
	}
	/* "PHASE: SYMBOL:entry(argN)<-CALLER" or "PHASE: tracepoint:..." */
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/sites", w->name);
	if (mmrace_read(path, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*[^:]: %63[^:]:", sym) != 1 ||
		    !strcmp(sym, "tracepoint") || nsymbols == MAX_SYMBOLS)
			continue;
		snprintf(symbols[nsymbols++], sizeof(symbols[0]), "%s", sym);
	}
}

static int find_windows(void)
{
	struct dirent *d;
	DIR *dp = opendir(MMRACE_WINDOWS);

	if (!dp)
		return -errno;
	while ((d = readdir(dp)) && nwindows < MAX_WINDOWS) {
		/* Windows are directories (windows/define is a file). */
		if (d->d_name[0] == '.' || d->d_type != DT_DIR)
			continue;
		snprintf(windows[nwindows].name, sizeof(windows[0].name),
			 "%.63s", d->d_name);
		read_window(&windows[nwindows++]);
	}
	closedir(dp);
	return nwindows ? 0 : -ENOENT;
}

/* ---- kprobes/list ---- */

static char kprobes_before[16384];
static int directs_before;

static bool kprobes_readable(void)
{
	directs_before = direct_count();
	return mmrace_read("/sys/kernel/debug/kprobes/list", kprobes_before,
			   sizeof(kprobes_before)) >= 0;
}

/*
 * Whether a probe (a kprobe, or a direct call) is registered that was not
 * before the test, on any of the windows' symbols or anywhere; says which.
 */
static bool kprobe_left(void)
{
	static char now[16384];
	char *line, *save;
	int i;

	for (i = 0; i < nsymbols; i++) {
		if (hook_listed(symbols[i])) {
			ksft_print_msg("kprobe left on %s\n", symbols[i]);
			return true;
		}
	}
	if (direct_count() > directs_before) {
		ksft_print_msg("direct call left: %d, %d before\n",
			       direct_count(), directs_before);
		return true;
	}
	if (mmrace_read("/sys/kernel/debug/kprobes/list", now, sizeof(now)) < 0)
		return false;
	for (line = strtok_r(now, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(kprobes_before, line)) {
			ksft_print_msg("kprobe left: %s\n", line);
			return true;
		}
	}
	return false;
}

/* ---- Memory ---- */

struct mem {
	long free_kb, avail_kb, pcp_kb, slab_kb, unreclaim_kb, vmalloc_kb;
};

static void settle_and_measure(struct mem *m)
{
	/* Let RCU free what unregistering the probes handed it. */
	usleep(500000);
	mmrace_write("/proc/sys/vm/drop_caches", "3");
	usleep(200000);
	m->pcp_kb = mmrace_pcp_free_kb();
	/* Pages on the per-CPU lists are free, but not counted as such. */
	m->free_kb = mmrace_meminfo_kb("MemFree") + m->pcp_kb;
	m->avail_kb = mmrace_meminfo_kb("MemAvailable") + m->pcp_kb;
	m->slab_kb = mmrace_meminfo_kb("Slab");
	m->unreclaim_kb = mmrace_meminfo_kb("SUnreclaim");
	m->vmalloc_kb = mmrace_meminfo_kb("VmallocUsed");
}

/*
 * How far free memory (MemFree and MemAvailable, plus the pages on the
 * per-CPU lists, which are free but not counted as such) may end below
 * where it started, in kB: 2 MB.
 *
 * What legitimately stays allocated: empty slabs the slab caches keep
 * after a shrink, the stacks glibc keeps cached for the test's exited
 * threads, page tables. The module allocates per load its image (some
 * 140 kB) and its debugfs tree (some 90 inodes and dentries, some 70 kB),
 * and per arming its probes (under 4 kB): any of these leaked once per
 * cycle comes to over 7 MB in 100 cycles, well past 2 MB. Leaks of a few
 * bytes per cycle are kmemleak's to find (the debug configuration).
 */
#define MEMORY_TOLERANCE_KB 2048
/*
 * Measures taken at most, 1 s apart, while free memory is short by more:
 * what 100 cycles leaked stays, an allocation of the moment goes (one run
 * in about ten ended 2568 kB short, the next at HEAD 116 kB).
 */
#define MEMORY_TRIES 4

static bool memory_short(const struct mem *before, const struct mem *after,
			 long tolerance_kb)
{
	return before->free_kb - after->free_kb > tolerance_kb ||
	       before->avail_kb - after->avail_kb > tolerance_kb;
}

/* ---- The storm ---- */

struct controller {
	pthread_t thread;
	uint64_t seed;
	unsigned long ops, unexpected, target_missed;
	char first[256];
};

static int stop_storm;

static const char *any_window(uint64_t *s)
{
	return windows[below(s, nwindows)].name;
}

static unsigned long long page_pfn(const struct race_page *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long ps = sysconf(_SC_PAGESIZE);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)p->addr / ps * sizeof(e)) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return e & ((1ULL << 55) - 1);
}

/* One random control operation; 0 or -errno. */
static int control_op(uint64_t *s, char *what, size_t len)
{
	const struct window *w = &windows[below(s, nwindows)];
	const struct race_page *p = below(s, 2) ? &anon : &shmem;
	char val[256];
	const char *file;
	int i, n, ret;

	switch (below(s, 16)) {
	case 0:
	case 1:
	case 2:
		file = "enable";	/* armed more often than not */
		snprintf(val, sizeof(val), "%d", below(s, 3) ? 1 : 0);
		break;
	case 3:
		file = "delay_us";
		snprintf(val, sizeof(val), "%u", below(s, 10) ? below(s, 20001) :
			 100000);
		break;
	case 4:
		file = "pid";
		snprintf(val, sizeof(val), "%d", below(s, 3) ? mypid :
			 below(s, 2) ? -1 : (int)below(s, 1 << 22));
		break;
	case 5:
		file = "pfn";
		if (below(s, 3))
			snprintf(val, sizeof(val), "%llu", page_pfn(p));
		else
			snprintf(val, sizeof(val), "-1");
		break;
	case 6:
	case 7:
		file = "target";
		if (below(s, 4))
			snprintf(val, sizeof(val), "%d %p", mypid, p->addr);
		else
			snprintf(val, sizeof(val), "none");
		break;
	case 8:
		file = "wait_for";
		snprintf(val, sizeof(val), "%s", below(s, 2) ? "none" :
			 any_window(s));
		if (!strcmp(val, w->name))
			snprintf(val, sizeof(val), "none");
		break;
	case 9:
		file = "wait_timeout_us";
		snprintf(val, sizeof(val), "%u", below(s, 20001));
		break;
	case 10:
		if (!w->nphases) {
			file = "probability";
			snprintf(val, sizeof(val), "%u", below(s, 101));
			break;
		}
		file = "phase";
		n = 1 + below(s, w->nphases);
		val[0] = '\0';
		for (i = 0; i < n; i++)
			snprintf(val + strlen(val), sizeof(val) - strlen(val),
				 "%s%s", i ? "," : "",
				 w->phases[below(s, w->nphases)]);
		break;
	case 11:
		file = "interval";
		snprintf(val, sizeof(val), "%u", 1 + below(s, 3));
		break;
	case 12:
		file = "times";
		snprintf(val, sizeof(val), "%d", below(s, 2) ? -1 :
			 (int)below(s, 100));
		break;
	case 13:
		file = "stats";
		snprintf(val, sizeof(val), "0");
		break;
	case 14:
		file = "pid_tree";
		snprintf(val, sizeof(val), "%u", below(s, 2));
		break;
	default:
		/* Rarely: everything off, or back to the defaults. */
		n = below(s, 40);
		if (n > 1) {
			file = "verbose";
			snprintf(val, sizeof(val), "0");
			break;
		}
		snprintf(what, len, "control %s", n ? "disarm-all" : "reset");
		return mmrace_control(n ? "disarm-all" : "reset");
	}
	snprintf(what, len, "%s/%s '%s'", w->name, file, val);
	ret = win_set(w->name, file, "%s", val);
	/* A page being migrated is not present: a documented refusal. */
	if (ret == -EINVAL && !strcmp(file, "target"))
		return 1;
	return ret;
}

static void *controller_main(void *arg)
{
	struct controller *c = arg;
	char what[300];
	int ret;

	while (!__atomic_load_n(&stop_storm, __ATOMIC_RELAXED)) {
		ret = control_op(&c->seed, what, sizeof(what));
		c->ops++;
		if (ret == 1) {
			c->target_missed++;
		} else if (ret) {
			if (!c->unexpected++)
				snprintf(c->first, sizeof(c->first), "%.200s: %s",
					 what, strerror(-ret));
		}
	}
	return NULL;
}

/* Windows opened since the last call, over every window (stats). */
struct opened {
	unsigned long long delayed[MAX_WINDOWS], total;
};

static void count_opened(struct opened *o)
{
	struct mmrace_stats s;
	int i;

	for (i = 0; i < nwindows; i++) {
		if (win_stats(windows[i].name, &s))
			continue;
		/* A reset zeroes the counters: count from zero then. */
		o->total += s.delayed >= o->delayed[i] ?
			    s.delayed - o->delayed[i] : s.delayed;
		o->delayed[i] = s.delayed;
	}
}

/*
 * Windows open right now, as far as the counters tell: events past the
 * filters that were neither throttled nor finished.
 */
static long long inside_now(void)
{
	struct mmrace_stats s;
	long long n = 0;
	int i;

	for (i = 0; i < nwindows; i++)
		if (!win_stats(windows[i].name, &s))
			n += (long long)(s.entered - s.filtered_out -
					 s.throttled - s.delayed);
	return n;
}

/* ---- The cycles ---- */

struct prodder {
	pthread_t thread;
	uint64_t seed;
	unsigned long ops, unexpected;
	char first[256];
};

static int stop_prodder;

/* Opens, reads and writes the tree while it comes and goes. */
static void *prodder_main(void *arg)
{
	struct prodder *p = arg;
	char path[256], buf[4096];
	int ret;

	while (!__atomic_load_n(&stop_prodder, __ATOMIC_RELAXED)) {
		switch (below(&p->seed, 3)) {
		case 0:
			ret = mmrace_read(MMRACE_DEBUGFS "/summary", buf,
					  sizeof(buf));
			break;
		case 1:
			snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/stats",
				 any_window(&p->seed));
			ret = mmrace_read(path, buf, sizeof(buf));
			break;
		default:
			/* The windows are meant to be armed: arm one again. */
			snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/enable",
				 any_window(&p->seed));
			ret = mmrace_write(path, "1");
		}
		p->ops++;
		/* The tree is gone, going, or being removed under us. */
		if (ret < 0 && ret != -ENOENT && ret != -ENXIO &&
		    ret != -EIO && ret != -ENODEV && !p->unexpected++)
			snprintf(p->first, sizeof(p->first), "%s",
				 strerror(-ret));
		usleep(500);
	}
	return NULL;
}

struct unloader {
	pthread_t thread;
	int ret;
	unsigned long busy;	/* EAGAIN: a file was open */
	double seconds;		/* of the delete_module() that succeeded */
};

static void *unloader_main(void *arg)
{
	struct unloader *u = arg;
	double t0 = now_s(), t;

	for (;;) {
		t = now_s();
		u->ret = mmrace_unload();
		u->seconds = now_s() - t;
		if (u->ret != -EAGAIN && u->ret != -EBUSY)
			break;
		u->busy++;
		if (now_s() - t0 > UNLOAD_MS / 1000.0 / 2)
			break;
		usleep(200);
	}
	return NULL;
}

/* rmmod in a thread of its own, so that a stuck one is seen, not waited. */
static int unload_within(struct unloader *u)
{
	memset(u, 0, sizeof(*u));
	if (pthread_create(&u->thread, NULL, unloader_main, u))
		return -EAGAIN;
	if (!join_within(u->thread, UNLOAD_MS))
		return -ETIMEDOUT;
	return u->ret;
}

/* Loads the module and arms every window on this process with @delay_us. */
static int load_and_arm(unsigned int delay_us, uint64_t *seed)
{
	int i, ret;

	ret = mmrace_load();
	if (ret)
		return ret;
	for (i = 0; i < nwindows; i++) {
		win_set(windows[i].name, "delay_us", "%u", delay_us);
		win_set(windows[i].name, "pid", "%d", mypid);
		/* Some rendezvous too: tasks waiting for a partner. */
		if (seed && !below(seed, 3))
			win_set(windows[i].name, "wait_for", "%s",
				windows[(i + 1) % nwindows].name);
		ret = win_set(windows[i].name, "enable", "1");
		/* A site missing from this kernel: ENOENT or ENOTSUPP. */
		if (ret && ret != -ENOENT && ret != -ENOTSUPP)
			return ret;
	}
	/* Count from here, with every window set up. */
	for (i = 0; i < nwindows; i++)
		win_set(windows[i].name, "stats", "0");
	return 0;
}

/* Disarms every window and arms it again, under the workloads. */
static int disarm_and_rearm(void)
{
	int i, ret;

	for (i = 0; i < nwindows; i++) {
		ret = win_set(windows[i].name, "enable", "0");
		if (ret)
			return ret;
	}
	for (i = 0; i < nwindows; i++) {
		ret = win_set(windows[i].name, "enable", "1");
		/* A site missing from this kernel: ENOENT or ENOTSUPP. */
		if (ret && ret != -ENOENT && ret != -ENOTSUPP)
			return ret;
	}
	return 0;
}

/*
 * Waits (up to @max_s) for a task to be inside a window: bounded in time,
 * not in tries, since a try is slow on a debug kernel. Adds the time spent
 * to @waited; 1 if a task was inside.
 */
static int wait_inside(double max_s, double *waited)
{
	double t = now_s();
	long long in;

	for (in = 0; in <= 0 && now_s() - t < max_s;) {
		in = inside_now();
		if (in <= 0)
			usleep(2000);
	}
	*waited += now_s() - t;
	return in > 0;
}

/* Tasks in D state (uninterruptible), sampled a few times: the stuck ones. */
static int stuck_tasks(void)
{
	char path[64], buf[512], comm[64], state, seen[8][80];
	int round, n = 0, i, found;
	struct dirent *d, *t;
	DIR *pd, *td;

	for (round = 0; round < 5; round++) {
		found = 0;
		pd = opendir("/proc");
		while (pd && (d = readdir(pd))) {
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/task", d->d_name);
			td = opendir(path);
			while (td && (t = readdir(td))) {
				if (t->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path),
					 "/proc/%.20s/task/%.20s/stat",
					 d->d_name, t->d_name);
				if (mmrace_read(path, buf, sizeof(buf)) <= 0 ||
				    sscanf(buf, "%*d (%63[^)]) %c", comm,
					   &state) != 2 || state != 'D')
					continue;
				if (found < 8)
					snprintf(seen[found], sizeof(seen[0]),
						 "%.10s/%.10s (%.40s)", d->d_name,
						 t->d_name, comm);
				found++;
			}
			if (td)
				closedir(td);
		}
		if (pd)
			closedir(pd);
		if (!found)
			return 0;
		n = found;
		usleep(300000);
	}
	for (i = 0; i < n && i < 8; i++)
		ksft_print_msg("in D state for 1.5 s: %s\n", seen[i]);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long storm_s = 10, cycles_wanted = 100, cycles = 0;
	unsigned long ops = 0, unexpected = 0, missed = 0, busy = 0;
	unsigned long inside_cycles = 0, rearmed_inside = 0, ia1, ib1, ia2, ib2, ja1, jb1;
	unsigned long taint_before, taint_after;
	struct controller ctl[CONTROLLERS];
	struct mem before, after;
	struct prodder prod;
	struct opened opened;
	struct unloader u;
	struct race *r1, *r2;
	double t0, max_unload = 0, t_arm = 0, t_wait = 0, t_unload = 0, t;
	double t_rearm = 0, budget_s = 400;
	const char *env = getenv("MMRACE_FIRE_BUDGET_S");
	pthread_t monitor;
	bool joined = true, kprobes, left = false, stopped;
	uint64_t seed = time(NULL), cseed;
	int i, ret = 0, opt, stuck, tries;
	long quarantine_kb, tolerance_kb;

	while ((opt = getopt(argc, argv, "t:n:s:")) != -1) {
		if (opt == 't')
			storm_s = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			cycles_wanted = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
	}
	if (env && *env)
		budget_s = strtod(env, NULL);
	ksft_print_header();
	mypid = getpid();
	main_tid = gettid();
	if (mmrace_guest_mttcg())
		ksft_exit_skip("multi-threaded TCG executes removed int3s (Oops: int3 with any kprobe disarmed under load): run on single-threaded TCG (make check's second guest), KVM or hardware\n");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || race_nodes() < 2)
		ksft_exit_skip("needs two CPUs and two NUMA nodes\n");
	if (access(mmrace_ko_path(), R_OK))
		ksft_exit_skip("no module at %s (set MMRACE_KO)\n",
			       mmrace_ko_path());
	if (mmrace_loaded() && mmrace_unload())
		ksft_exit_skip("mmrace is loaded and busy\n");
	if (race_anon_page(&anon) || anon.gup_fd < 0)
		ksft_exit_skip("no page or no /sys/kernel/debug/gup_test\n");
	if (race_memfd_page(&shmem))
		ksft_exit_skip("no memfd page\n");
	kprobes = kprobes_readable();
	ret = mmrace_load();
	if (ret)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-ret));
	ret = find_windows();
	mmrace_unload();
	if (ret)
		ksft_exit_fail_msg("no windows in the tree: %s\n",
				   strerror(-ret));
	ksft_set_plan(9);
	ksft_print_msg("seed %#llx; %d windows, %d kprobe sites; %lu s of storm, %lu cycles (or as many as fit in %.0f s, at least %d)\n",
		       (unsigned long long)seed, nwindows, nsymbols, storm_s,
		       cycles_wanted, budget_s, MIN_CYCLES);
	pthread_create(&monitor, NULL, monitor_main, NULL);
	taint_before = mmrace_tainted();

	/*
	 * A first cycle before the baseline: what the kernel allocates once
	 * (kprobe instruction slots, caches) is not the module's to give back.
	 */
	ret = load_and_arm(20000, NULL);
	r1 = race_start(&anon, side_gup_fast, side_migrate);
	usleep(300000);
	ret = ret ? ret : unload_within(&u);
	if (race_stop_within(r1, JOIN_MS, NULL, NULL) || ret)
		ksft_exit_fail_msg("warm-up cycle: %s\n", strerror(-ret));
	settle_and_measure(&before);

	/* The storm. */
	ret = mmrace_load();
	if (ret)
		ksft_exit_fail_msg("load: %s\n", strerror(-ret));
	r1 = race_start(&anon, side_gup_fast, side_migrate);
	r2 = race_start(&shmem, side_read, side_migrate);
	if (!r1 || !r2)
		ksft_exit_fail_msg("no memory\n");
	memset(ctl, 0, sizeof(ctl));
	memset(&opened, 0, sizeof(opened));
	for (i = 0; i < CONTROLLERS; i++) {
		ctl[i].seed = seed + i;
		pthread_create(&ctl[i].thread, NULL, controller_main, &ctl[i]);
	}
	t0 = now_s();
	while (now_s() - t0 < storm_s) {
		usleep(100000);
		count_opened(&opened);
	}
	__atomic_store_n(&stop_storm, 1, __ATOMIC_RELAXED);
	for (i = 0; i < CONTROLLERS; i++) {
		joined &= join_within(ctl[i].thread, JOIN_MS);
		ops += ctl[i].ops;
		unexpected += ctl[i].unexpected;
		missed += ctl[i].target_missed;
		if (ctl[i].first[0])
			ksft_print_msg("controller %d: %lu unexpected, first: %s\n",
				       i, ctl[i].unexpected, ctl[i].first);
	}
	if (!joined)
		ksft_exit_fail_msg("a controller is stuck in the module\n");
	count_opened(&opened);
	race_iters(r1, &ia1, &ib1);
	race_iters(r2, &ia2, &ib2);
	ksft_print_msg("storm: %lu control writes in %lu s by %d threads (%lu targets refused: page under migration); %llu windows opened; %lu GUP-fast, %lu + %lu move_pages, %lu reads\n",
		       ops, storm_s, CONTROLLERS, missed, opened.total, ia1,
		       ib1, ib2, ia2);
	ksft_test_result(ops && !unexpected,
			 "storm: %lu control writes, every one accepted (%lu unexpected errors)\n",
			 ops, unexpected);
	ksft_test_result(opened.total && ia1 && ib1 && ia2 && ib2,
			 "storm: the workloads ran into the windows (%llu opened)\n",
			 opened.total);
	ksft_test_result(joined, "storm: every controller joined within %d s\n",
			 JOIN_MS / 1000);
	mmrace_control("reset");

	/* The cycles: unload while the workloads run into armed windows. */
	ret = unload_within(&u);
	if (ret)
		ksft_exit_fail_msg("unload after the storm: %s\n",
				   strerror(-ret));
	memset(&prod, 0, sizeof(prod));
	prod.seed = seed ^ 0x5eed;
	pthread_create(&prod.thread, NULL, prodder_main, &prod);
	cseed = seed;
	t0 = now_s();
	for (cycles = 0; cycles < cycles_wanted; cycles++) {
		if (cycles && now_s() - t0 > budget_s) {
			ksft_print_msg("time budget of %.0f s spent after %lu cycles\n",
				       budget_s, cycles);
			break;
		}
		if (cycles && !(cycles % 10))
			ksft_print_msg("cycle %lu at %.1f s (%.1f s loading and arming, %.1f s disarming and re-arming, %.1f s waiting, %.1f s in rmmod)\n",
				       cycles, now_s() - t0, t_arm, t_rearm,
				       t_wait, t_unload);
		t = now_s();
		step_begin("insmod and arm", cycles);
		ret = load_and_arm(50000, &cseed);
		step_end();
		t_arm += now_s() - t;
		if (ret) {
			ksft_print_msg("cycle %lu: load and arm: %s\n", cycles,
				       strerror(-ret));
			break;
		}
		inside_cycles += wait_inside(0.4, &t_wait);
		/* Disarm and re-arm under the workloads, then unload. */
		t = now_s();
		step_begin("disarm and re-arm", cycles);
		ret = disarm_and_rearm();
		step_end();
		t_rearm += now_s() - t;
		if (ret) {
			ksft_print_msg("cycle %lu: disarm and re-arm: %s\n",
				       cycles, strerror(-ret));
			break;
		}
		/* Shorter: re-arming took a while under the workloads. */
		rearmed_inside += wait_inside(0.1, &t_wait);
		t = now_s();
		step_begin("rmmod", cycles);
		ret = unload_within(&u);
		step_end();
		t_unload += now_s() - t;
		busy += u.busy;
		if (u.seconds > max_unload)
			max_unload = u.seconds;
		if (ret) {
			ksft_print_msg("cycle %lu: rmmod: %s (%lu tries busy)\n",
				       cycles, strerror(-ret), u.busy);
			break;
		}
		if (!access(MMRACE_DEBUGFS, F_OK)) {
			ksft_print_msg("cycle %lu: debugfs tree left\n", cycles);
			ret = -EEXIST;
			break;
		}
		if (kprobes && kprobe_left()) {
			left = true;
			break;
		}
	}
	ksft_print_msg("cycles: %lu of %lu in %.1f s (%.1f s loading and arming, %.1f s disarming and re-arming, %.1f s waiting, %.1f s in rmmod), a task inside a window before %lu of the disarms and %lu of the rmmods, rmmod busy (a file open) %lu times, slowest successful rmmod %.3f s\n",
		       cycles, cycles_wanted, now_s() - t0, t_arm, t_rearm,
		       t_wait, t_unload, inside_cycles, rearmed_inside, busy,
		       max_unload);
	ksft_test_result(!ret &&
			 cycles >= (cycles_wanted < MIN_CYCLES ? cycles_wanted : MIN_CYCLES) &&
			 inside_cycles &&
			 rearmed_inside,
			 "%lu insmod/arm/disarm/re-arm/rmmod cycles with every window armed under load (a task inside at %lu disarms, %lu rmmods)\n",
			 cycles, inside_cycles, rearmed_inside);
	if (kprobes)
		ksft_test_result(!left, "no kprobe left registered after any unload\n");
	else
		ksft_test_result_skip("no /sys/kernel/debug/kprobes/list\n");

	/* Everything stops in time, and the workloads carry on. */
	__atomic_store_n(&monitor_stop, 1, __ATOMIC_RELAXED);
	pthread_join(monitor, NULL);
	__atomic_store_n(&stop_prodder, 1, __ATOMIC_RELAXED);
	stopped = join_within(prod.thread, JOIN_MS);
	race_iters(r1, &ja1, &jb1);
	usleep(300000);
	stopped &= !race_stop_within(r1, JOIN_MS, &ia1, &ib1);
	stopped &= !race_stop_within(r2, JOIN_MS, &ia2, &ib2);
	if (prod.first[0])
		ksft_print_msg("prodder: %lu ops, %lu unexpected, first: %s\n",
			       prod.ops, prod.unexpected, prod.first);
	stuck = stuck_tasks();
	ksft_test_result(stopped && !prod.unexpected && ia1 > ja1 && ib1 > jb1 &&
			 max_unload < UNLOAD_MS / 1000.0,
			 "every thread joined within %d s, rmmod returned within %.3f s, the workload runs on after the last unload (%lu GUP-fast, %lu move_pages in 0.3 s)\n",
			 JOIN_MS / 1000, max_unload, ia1 - ja1, ib1 - jb1);
	ksft_test_result(!stuck, "no task left in D state (%d)\n", stuck);
	if (!stopped)
		ksft_exit_fail_msg("threads stuck\n");

	race_page_free(&anon);
	race_page_free(&shmem);
	quarantine_kb = mmrace_kasan_quarantine_cap_kb();
	tolerance_kb = MEMORY_TOLERANCE_KB + quarantine_kb;
	settle_and_measure(&after);
	for (tries = 1; tries < MEMORY_TRIES &&
	     memory_short(&before, &after, tolerance_kb); tries++) {
		ksft_print_msg("free memory %+ld kB (MemAvailable %+ld kB) after settling: again in 1 s\n",
			       after.free_kb - before.free_kb,
			       after.avail_kb - before.avail_kb);
		sleep(1);
		settle_and_measure(&after);
	}
	ksft_print_msg("memory before/after (kB), free counting the %ld/%ld kB on per-CPU lists: MemFree %ld/%ld (%+ld), MemAvailable %ld/%ld (%+ld); Slab %ld/%ld, SUnreclaim %ld/%ld, VmallocUsed %ld/%ld\n",
		       before.pcp_kb, after.pcp_kb, before.free_kb,
		       after.free_kb, after.free_kb - before.free_kb,
		       before.avail_kb, after.avail_kb,
		       after.avail_kb - before.avail_kb, before.slab_kb,
		       after.slab_kb, before.unreclaim_kb, after.unreclaim_kb,
		       before.vmalloc_kb, after.vmalloc_kb);
	if (quarantine_kb)
		ksft_print_msg("generic KASAN: freed objects wait in its quarantine (up to %ld kB, RAM/32), still counted as Slab; tolerance %ld kB, kmemleak checks leaks\n",
			       quarantine_kb, tolerance_kb);
	ksft_test_result(before.free_kb > 0 &&
			 !memory_short(&before, &after, tolerance_kb),
			 "free memory back to its level within %ld kB after %lu cycles (MemFree %+ld kB, MemAvailable %+ld kB)\n",
			 tolerance_kb, cycles,
			 after.free_kb - before.free_kb,
			 after.avail_kb - before.avail_kb);

	taint_after = mmrace_tainted();
	ksft_print_msg("tainted: %#lx before, %#lx after\n", taint_before,
		       taint_after);
	ksft_test_result(!((taint_after & ~taint_before) & MMRACE_BAD_TAINT),
			 "no warning (W), oops (D), bad page (B) or lockup (L) taint\n");
	ksft_finished();
}
