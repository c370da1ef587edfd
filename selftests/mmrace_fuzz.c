// SPDX-License-Identifier: GPL-2.0
/*
 * A debugfs fuzzer: every file under /sys/kernel/debug/mmrace/ (found by
 * walking the tree) written with random and malformed input: empty, only
 * whitespace, very long, embedded NULs, non-ASCII and control bytes,
 * negative, overflowing, 0x and octal-looking numbers, commands split over
 * two writes, writes at non-zero offsets, pwrite(2), buffers running into
 * an unmapped page; reads with tiny buffers.
 *
 * A model of each file's syntax, written from Documentation/debugfs.rst,
 * predicts whether a write is accepted and what the file then reads.
 *
 * Phase 1, one thread: every write is checked against the model: a rejected
 * write must fail with the documented error and leave the file byte for
 * byte as before (read back and compared), an accepted one must read back
 * as written. Phase 2: writer threads (several on the same file at once)
 * and a tiny-buffer reader; every write's verdict is still checked, every
 * snapshot read must be well formed, and a reset must then bring every file
 * back to its default.
 *
 * The random-window profile (profile/) is modelled too: phase 1 keeps what
 * its accepted writes set (pid, selection, adversaries, seed, whether it is
 * enabled) and predicts from it whether `1` to profile/enable arms, what
 * profile/state then reads (the adversaries attached: one of the set per
 * armed window, of those that fit the window if the set has any, the same
 * again from the same seed), and how the selected
 * windows are configured. A window's own `adversary` is modelled as
 * debugfs.rst says: none, one of the operations (zap and +reuse ones
 * included) accepted,
 * anything else rejected; valid writes never pick zap, which would unmap
 * this process's own pages at a target. Its valid pids
 * are -1, 0, this process and pids no process can have: the profile never
 * delays another process tree on purpose, and every reset disarms it.
 *
 * windows/define is modelled from its grammar: valid definitions at sites
 * every 6.12 kernel has, removals, and hostile ones (bad names, kinds,
 * arguments, missing symbols, the kprobe blacklist, names taken), each
 * with its errno; a definition accepted in phase 1 must list in the
 * grammar, and is removed at once (so that no other file sees it); phase 2
 * defines and removes under the other writers, and what is left is
 * removed before the final check of the defaults.
 *
 * typestate/run is only written commands that cannot be valid (a valid one
 * would run a scenario); files this test does not know are only written
 * what the common layer rejects for every file.
 *
 * Usage: mmrace_fuzz [-s SEED] [-n WRITES] [-c WRITES_PER_THREAD]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define MAX_FILES 256
#define MAX_WINDOWS 16
#define MAX_PHASES 16
#define READ_MAX 8192
/* MMRACE_ATTR_MAX_WRITE in the shim: longer writes are rejected. */
#define WRITE_MAX 256
#define INPUT_MAX 4200
#define THREADS 4
#define MAX_REPORTS 25
#define ANY UINT64_MAX

enum kind {
	K_UNKNOWN, K_VERSION, K_CONTROL, K_SUMMARY, K_RUN,
	K_ENABLE, K_DELAY_US, K_PROBABILITY, K_INTERVAL, K_TIMES, K_PID,
	K_PID_TREE, K_PFN, K_TARGET, K_VERBOSE, K_WAIT_FOR,
	K_WAIT_TIMEOUT_US, K_PHASE, K_ADVERSARY, K_STATS, K_SITES,
	K_P_ENABLE, K_P_PID, K_P_PROBABILITY, K_P_MAX_DELAY_US, K_P_WINDOWS,
	K_P_ADVERSARIES, K_P_SEED, K_P_STATE, K_DEFINE,
};

/* The files of a window (debugfs.rst), with their modes. */
static const struct {
	const char *name;
	enum kind kind;
	mode_t mode;
} window_files[] = {
	{ "enable", K_ENABLE, 0600 },
	{ "delay_us", K_DELAY_US, 0600 },
	{ "probability", K_PROBABILITY, 0600 },
	{ "interval", K_INTERVAL, 0600 },
	{ "times", K_TIMES, 0600 },
	{ "pid", K_PID, 0600 },
	{ "pid_tree", K_PID_TREE, 0600 },
	{ "pfn", K_PFN, 0600 },
	{ "target", K_TARGET, 0600 },
	{ "verbose", K_VERBOSE, 0600 },
	{ "wait_for", K_WAIT_FOR, 0600 },
	{ "wait_timeout_us", K_WAIT_TIMEOUT_US, 0600 },
	{ "phase", K_PHASE, 0600 },
	{ "adversary", K_ADVERSARY, 0600 },
	{ "stats", K_STATS, 0600 },
	{ "sites", K_SITES, 0400 },
};

static const struct {
	const char *rel;
	enum kind kind;
	mode_t mode;
} top_files[] = {
	{ "version", K_VERSION, 0400 },
	{ "control", K_CONTROL, 0600 },
	{ "summary", K_SUMMARY, 0400 },
	{ "typestate/run", K_RUN, 0600 },
	{ "profile/enable", K_P_ENABLE, 0600 },
	{ "profile/pid", K_P_PID, 0600 },
	{ "profile/probability", K_P_PROBABILITY, 0600 },
	{ "profile/max_delay_us", K_P_MAX_DELAY_US, 0600 },
	{ "profile/windows", K_P_WINDOWS, 0600 },
	{ "profile/adversaries", K_P_ADVERSARIES, 0600 },
	{ "profile/seed", K_P_SEED, 0600 },
	{ "profile/state", K_P_STATE, 0400 },
	{ "windows/define", K_DEFINE, 0600 },
};

/* Scenario names (typestate.rst), completed from the file's own listing. */
static char scenarios[32][64] = {
	"transitions", "drop_frozen", "freeze_contended", "lock",
	"lock_contended", "seed002_racy", "seed002_typestate",
};

static int nscenarios = 7;

struct window {
	char name[64];
	int nphases;
	char phases[MAX_PHASES][32];
	unsigned int present;	/* phases whose sites this kernel has */
	bool armable;
	bool armed;		/* phase 1: what the accepted writes did */
};

struct file {
	char path[PATH_MAX];
	char rel[PATH_MAX];
	enum kind kind;
	int win;		/* index in windows[], or -1 */
	mode_t mode;
	int fd;			/* O_RDWR, kept open for phase 1 */
	char *def;		/* contents after a reset */
};

static struct window windows[MAX_WINDOWS];
static int nwindows;
static struct file files[MAX_FILES];
static int nfiles;
static pid_t mypid;

/* The pairs the profile draws a rendezvous among: waiting, partner. */
static const char * const pairs[][2] = {
	{ "migrate_freeze", "pagecache_pre_grab" },
	{ "pagecache_pre_grab", "migrate_freeze" },
};

/* The transparent adversary operations, in the module's order. */
static const char * const adv_ops[] = {
	"migrate", "pageout", "split", "compact", "evict", "freeze",
};

#define ADV_ALL ((1u << ARRAY_SIZE(adv_ops)) - 1)

/*
 * The operations that fit each built-in window's pages (profile.rst,
 * "Adversaries"), as bits of adv_ops[]: the profile draws among them when
 * its set has any. A defined window: all.
 */
static const struct {
	const char *window;
	unsigned int ops;
} adv_fits[] = {
	{ "gup_fast_pre_grab", 0x0f },		/* migrate pageout split compact */
	{ "gup_fast_post_grab", 0x0f },
	{ "pagecache_pre_grab", 0x33 },		/* migrate pageout evict freeze */
	{ "pagecache_post_grab", 0x33 },
	{ "migrate_freeze", 0x08 },		/* compact */
	{ "compact_isolate", 0x08 },		/* compact */
};

/* The operations of the profile's set window @name may be given. */
static unsigned int adv_drawable(const char *name, unsigned int set)
{
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(adv_fits); k++)
		if (!strcmp(adv_fits[k].window, name) &&
		    (set & adv_fits[k].ops))
			return set & adv_fits[k].ops;
	return set;
}

/*
 * A window's adversary: none, a transparent operation, zap (intrusive:
 * accepted there, never in profile/adversaries), or migrate, evict or zap
 * with +reuse (not in profile/adversaries either). Valid writes never pick
 * zap: a target may name this process's own pages.
 */
static bool window_adversary(const char *s)
{
	unsigned int k;

	if (!strcmp(s, "none") || !strcmp(s, "zap") ||
	    !strcmp(s, "migrate+reuse") || !strcmp(s, "evict+reuse") ||
	    !strcmp(s, "zap+reuse"))
		return true;
	for (k = 0; k < ARRAY_SIZE(adv_ops); k++)
		if (!strcmp(s, adv_ops[k]))
			return true;
	return false;
}

/*
 * The profile as phase 1's accepted writes left it (profile.rst). In phase
 * 2 (known false) the writers race, and only the syntax is predicted.
 */
static struct {
	bool known;
	long long pid;
	unsigned long long probability, max_delay_us, seed;
	unsigned int windows;		/* bit i: windows[i] selected */
	unsigned int adversaries;	/* bit i: adv_ops[i] in the set */
	char attached[512];		/* state's "attached:" value */
	bool enabled;
	unsigned int armed;		/* bit i: armed by the last enable */
	unsigned int rendezvous;	/* bit k: pairs[k] drawn */
} prof;

/* The last arm's seed, selection and draws: a seed replays. */
static struct {
	unsigned long long seed;
	unsigned int windows, adversaries, rendezvous;
	char attached[512];
} last_arm;

/* windows[] in the module's order, the order profile/windows lists. */
static int worder[MAX_WINDOWS];
static int nworder;

/* Pages for `target`: present (accepted) and never touched (rejected). */
static char *present, *absent;
static long page_size;
static unsigned long mmap_min;
/* A page whose second half is unmapped: writes from it fault. */
static char *guard;

/* The random numbers: splitmix64, one state per thread. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(struct rng *r, unsigned int n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Reading files ---- */

/* The whole file, with one pread(2) at offset 0: a fresh snapshot. */
static ssize_t snap(int fd, char *buf)
{
	ssize_t n = pread(fd, buf, READ_MAX - 1, 0);

	if (n < 0) {
		buf[0] = '\0';
		return -errno;
	}
	buf[n] = '\0';
	return n;
}

/* ---- The model (Documentation/debugfs.rst) ---- */

enum verdict { REJECT, ACCEPT, EITHER };

enum effect { E_NONE, E_ARM, E_DISARM, E_RESET, E_DISARM_ALL, E_PFN,
	      E_TARGET, E_STATS, E_TIMES, E_PROFILE, E_P_ARM, E_P_DISARM,
	      E_DEFINE, E_UNDEFINE };

struct expect {
	enum verdict v;
	int err;		/* REJECT: the errno; EITHER: if not 0, too */
	const char *why;	/* REJECT: the rule */
	char text[512];		/* ACCEPT: what the file then reads */
	enum effect effect;
	long long num;		/* times, or the profile setting written */
};

enum wmode { W_PLAIN, W_FRESH, W_OFFSET, W_PWRITE, W_FAULT, W_NULL };

static const char * const wmode_names[] = {
	"write", "open+write", "write at an offset", "pwrite",
	"write from a faulting buffer", "write from NULL",
};

/* Whitespace as Rust's is_ascii_whitespace() (not \v). */
static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool allowed_byte(unsigned char c)
{
	return (c > 0x20 && c < 0x7f) || is_ws(c);
}

/* Decimal, or hexadecimal with 0x (or 0X): the whole word, fitting u64. */
static bool parse_u64(const char *s, uint64_t *v)
{
	unsigned int base = 10, d;
	uint64_t x = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
	}
	*v = x;
	return true;
}

static bool parse_max(const char *s, uint64_t max, uint64_t *v)
{
	return parse_u64(s, v) && *v <= max;
}

/* "-1" (ANY) or a number up to @max. */
static bool parse_any(const char *s, uint64_t max, uint64_t *v)
{
	if (!strcmp(s, "-1")) {
		*v = ANY;
		return true;
	}
	return parse_max(s, max, v);
}

static int find_window(const char *name)
{
	int i;

	for (i = 0; i < nwindows; i++)
		if (!strcmp(windows[i].name, name))
			return i;
	return -1;
}

static bool is_scenario(const char *name)
{
	int i;

	for (i = 0; i < nscenarios; i++)
		if (!strcmp(scenarios[i], name))
			return true;
	return false;
}

static bool profile_kind(enum kind kind)
{
	return kind >= K_P_ENABLE && kind <= K_P_STATE;
}

static unsigned int all_windows(void)
{
	return (1u << nwindows) - 1;
}

static unsigned int armable_windows(void)
{
	unsigned int mask = 0;
	int i;

	for (i = 0; i < nwindows; i++)
		if (windows[i].armable)
			mask |= 1u << i;
	return mask;
}

/* The profile after a reset (debugfs.rst; pid -1: none). */
static void profile_defaults(void)
{
	prof.pid = -1;
	prof.probability = 10;
	prof.max_delay_us = 1000;
	prof.windows = all_windows();
	prof.adversaries = ADV_ALL;
	snprintf(prof.attached, sizeof(prof.attached), " none");
	prof.seed = 0;
	prof.enabled = false;
	prof.armed = 0;
	prof.rendezvous = 0;
}

/* The windows of @mask, comma-separated in the module's order, or none. */
static void render_windows(char *out, size_t len, unsigned int mask)
{
	size_t n = 0;
	int k;

	out[0] = '\0';
	for (k = 0; k < nworder && n < len; k++)
		if (mask & (1u << worder[k]))
			n += snprintf(out + n, len - n, "%s%s", n ? "," : "",
				      windows[worder[k]].name);
	if (!n)
		snprintf(out, len, "none");
}

/* The operations of @mask, comma-separated in order, or none. */
static void render_adversaries(char *out, size_t len, unsigned int mask)
{
	size_t n = 0;
	unsigned int k;

	out[0] = '\0';
	for (k = 0; k < ARRAY_SIZE(adv_ops) && n < len; k++)
		if (mask & (1u << k))
			n += snprintf(out + n, len - n, "%s%s", n ? "," : "",
				      adv_ops[k]);
	if (!n)
		snprintf(out, len, "none");
}

/* What profile/state reads, from the model. */
static void render_state(char *out, size_t len)
{
	char armed[512], adv[128];
	size_t n;
	unsigned int k;

	render_windows(armed, sizeof(armed), prof.armed);
	render_adversaries(adv, sizeof(adv), prof.adversaries);
	n = snprintf(out, len,
		     "enabled: %d\nseed: %llu\npid: %lld\nprobability: %llu\nmax_delay_us: %llu\nadversaries: %s\narmed: %s\nattached:%s\nrendezvous:",
		     prof.enabled, prof.seed, prof.pid, prof.probability,
		     prof.max_delay_us, adv, armed, prof.attached);
	for (k = 0; k < ARRAY_SIZE(pairs) && n < len; k++)
		if (prof.rendezvous & (1u << k))
			n += snprintf(out + n, len - n, " %s->%s",
				      pairs[k][0], pairs[k][1]);
	if (n < len)
		snprintf(out + n, len - n, "%s\n",
			 prof.rendezvous ? "" : " none");
}

/* Splits @s at ASCII whitespace into at most @max words; the word count. */
static int split_words(char *s, char **words, int max)
{
	int n = 0;

	for (;;) {
		while (*s && is_ws(*s))
			s++;
		if (!*s)
			return n;
		if (n < max)
			words[n] = s;
		n++;
		while (*s && !is_ws(*s))
			s++;
		if (!*s)
			return n;
		*s++ = '\0';
	}
}

/*
 * Whether typestate/run might accept @s (and run a scenario): its first word
 * names a scenario and every option's key is a real one. Conservative: the
 * values are not looked at.
 */
static bool run_might_accept(const char *s)
{
	char copy[WRITE_MAX + 1], *words[64];
	int n, i;

	snprintf(copy, sizeof(copy), "%s", s);
	n = split_words(copy, words, 64);
	if (n < 1 || n > 64 || !is_scenario(words[0]))
		return false;
	for (i = 1; i < n; i++)
		if (strncmp(words[i], "iterations=", 11) &&
		    strncmp(words[i], "window_us=", 10) &&
		    strncmp(words[i], "fd=", 3))
			return false;
	return true;
}

static int rejects(struct expect *e, int err, const char *why)
{
	e->v = REJECT;
	e->err = err;
	e->why = why;
	return 0;
}

static int accepts(struct expect *e, enum effect eff, const char *fmt, ...)
	__printf(3, 4);

static int accepts(struct expect *e, enum effect eff, const char *fmt, ...)
{
	va_list ap;

	e->v = ACCEPT;
	e->effect = eff;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return 0;
}

/* Accepted or rejected: the model cannot tell, but only with @err. */
static int either(struct expect *e, int err, enum effect eff)
{
	e->v = EITHER;
	e->err = err;
	e->why = "accepted or rejected";
	e->effect = eff;
	return 0;
}

static void render_any(char *out, size_t len, uint64_t v)
{
	if (v == ANY)
		snprintf(out, len, "-1\n");
	else
		snprintf(out, len, "%llu\n", (unsigned long long)v);
}

static int model_target(const char *s, struct expect *e)
{
	char copy[WRITE_MAX + 1], *words[3];
	uint64_t pid, addr;
	uintptr_t a;

	if (!strcmp(s, "none") || !strcmp(s, "-1"))
		return accepts(e, E_TARGET, "none\n");
	snprintf(copy, sizeof(copy), "%s", s);
	if (split_words(copy, words, 3) != 2)
		return rejects(e, EINVAL, "target: two words");
	if (!parse_max(words[0], INT32_MAX, &pid) ||
	    !parse_u64(words[1], &addr))
		return rejects(e, EINVAL, "target: bad PID or ADDRESS");
	a = addr;
	if ((pid_t)pid == mypid && a >= (uintptr_t)present &&
	    a < (uintptr_t)present + 4 * page_size) {
		accepts(e, E_TARGET, "%d 0x%llx pfn ", (int)pid,
		       (unsigned long long)addr);
		return 0;
	}
	if ((pid_t)pid == mypid && a >= (uintptr_t)absent &&
	    a < (uintptr_t)absent + 4 * page_size)
		return rejects(e, EINVAL, "target: page not present");
	/* Never a user page in any process (the vsyscall page aside). */
	if ((addr >= 0x7ffffffff000ULL &&
	     (addr & ~0xfffULL) != 0xffffffffff600000ULL) ||
	    addr < mmap_min)
		return rejects(e, EINVAL, "target: not a user address");
	/* Someone else's address space: who knows. */
	e->v = EITHER;
	snprintf(e->text, sizeof(e->text), "%d 0x%llx pfn ", (int)pid,
		 (unsigned long long)addr);
	e->effect = E_TARGET;
	return 0;
}

static int model_phase(const struct window *w, const char *s, struct expect *e)
{
	char copy[WRITE_MAX + 1], *name, *p = copy;
	unsigned int mask = 0;
	int i, n = 0, len = 0;

	/* As Rust's split(','): empty pieces count, and are no phase. */
	snprintf(copy, sizeof(copy), "%s", s);
	while ((name = strsep(&p, ",")) != NULL) {
		for (i = 0; i < w->nphases; i++)
			if (!strcmp(w->phases[i], name))
				break;
		if (i < w->nphases)
			mask |= 1u << i;
		else if (!strcmp(name, "all"))
			mask = ~0u;
		else
			return rejects(e, EINVAL, "phase: unknown phase");
		n++;
	}
	/* "all": the phases this kernel has. */
	if (mask == ~0u)
		mask = w->present;
	else if (mask & ~w->present) {
		/* Named, with no site here: never generated (see gen). */
		e->v = EITHER;
		return n;
	}
	e->v = ACCEPT;
	e->effect = E_NONE;
	for (i = 0; i < w->nphases; i++)
		len += snprintf(e->text + len, sizeof(e->text) - len,
				mask & (1u << i) ? "%s[%s]" : "%s%s",
				i ? " " : "", w->phases[i]);
	snprintf(e->text + len, sizeof(e->text) - len, "\n");
	return n;
}

static int model_profile_windows(const char *s, struct expect *e)
{
	char copy[WRITE_MAX + 1], *name, *p = copy;
	unsigned int mask = 0;
	int i;

	/* As Rust's split(','): every piece, empty ones too, is looked up. */
	snprintf(copy, sizeof(copy), "%s", s);
	while ((name = strsep(&p, ",")) != NULL) {
		i = find_window(name);
		if (i >= 0)
			mask |= 1u << i;
		else if (!strcmp(name, "all"))
			mask = all_windows();
		else
			return rejects(e, EINVAL,
				       "profile/windows: windows' names or all");
	}
	e->v = ACCEPT;
	e->effect = E_PROFILE;
	e->num = mask;
	render_windows(e->text, sizeof(e->text) - 1, mask);
	strcat(e->text, "\n");
	return 0;
}

static int model_profile_adversaries(const char *s, struct expect *e)
{
	char copy[WRITE_MAX + 1], *name, *p = copy;
	unsigned int mask = 0, k;

	if (strcmp(s, "none")) {
		/* As Rust's split(','): empty pieces are names too. */
		snprintf(copy, sizeof(copy), "%s", s);
		while ((name = strsep(&p, ",")) != NULL) {
			for (k = 0; k < ARRAY_SIZE(adv_ops); k++)
				if (!strcmp(name, adv_ops[k]))
					break;
			if (k == ARRAY_SIZE(adv_ops))
				return rejects(e, EINVAL,
					       "profile/adversaries: none or transparent operations");
			mask |= 1u << k;
		}
	}
	e->v = ACCEPT;
	e->effect = E_PROFILE;
	e->num = mask;
	render_adversaries(e->text, sizeof(e->text) - 1, mask);
	strcat(e->text, "\n");
	return 0;
}

/* What writing @len bytes of @in to @f with @m should do. */
/* ---- windows/define (debugfs.rst) ---- */

/* Symbols every 6.12 kernel has out of line, and kprobes accepts. */
static const char * const def_symbols[] = {
	"folio_mark_accessed", "filemap_get_entry", "vfs_read",
	"filemap_read", "shmem_get_folio_gfp",
};

static const char * const def_tracepoints[] = {
	"page_ref_mod_unless", "page_ref_freeze", "page_ref_mod",
};

static const char * const def_regs[] = {
	"di", "si", "dx", "cx", "r8", "r9", "ax", "bx", "bp", "sp", "r10",
	"r11", "r12", "r13", "r14", "r15",
};

static bool in_list(const char *s, const char * const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

static bool def_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 31 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool def_symbol_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 127 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == n;
}

/*
 * What a write to windows/define does (the module's order: the grammar,
 * then the site, then the name). In phase 1 no defined window is left
 * between writes; in phase 2 any may be.
 */
static int model_define(char *s, struct expect *e)
{
	char *w[8], *name, *place, *callers, *plus, *arg, *c, *save;
	bool known = true, ret, has_off = false, taken;
	int n, ncallers = 0;
	uint64_t off = 0;

	n = split_words(s, w, 8);
	name = n >= 1 ? strchr(w[0], ':') : NULL;
	if (!name)
		return rejects(e, EINVAL, "define: no KIND:NAME");
	*name++ = '\0';
	if (!def_name_ok(name))
		return rejects(e, EINVAL, "define: name not [a-z0-9_]{1,31}");
	if (!strcmp(w[0], "-")) {
		if (n != 1)
			return rejects(e, EINVAL, "define: -:NAME and more");
		if (find_window(name) >= 0)
			return rejects(e, EINVAL, "define: built-in windows stay");
		if (prof.known)
			return rejects(e, ENOENT, "define: no such window");
		return either(e, ENOENT, E_UNDEFINE);
	}
	if (n < 2)
		return rejects(e, EINVAL, "define: no site");
	place = w[1];
	callers = strstr(place, "<-");
	if (callers) {
		*callers = '\0';
		callers += 2;
		/* Empty names between the bars, or none at all. */
		if (!*callers || *callers == '|' ||
		    callers[strlen(callers) - 1] == '|' || strstr(callers, "||"))
			return rejects(e, EINVAL, "define: empty caller");
		for (c = strtok_r(callers, "|", &save); c;
		     c = strtok_r(NULL, "|", &save)) {
			if (++ncallers > 6 || !def_symbol_ok(c))
				return rejects(e, EINVAL, "define: bad callers");
			known &= in_list(c, def_symbols, ARRAY_SIZE(def_symbols));
		}
	}
	plus = strchr(place, '+');
	if (plus) {
		*plus++ = '\0';
		if (!parse_u64(plus, &off) || off > UINT32_MAX)
			return rejects(e, EINVAL, "define: bad offset");
		has_off = true;
	}
	taken = find_window(name) >= 0 || !strcmp(name, "define");
	if (!strcmp(w[0], "p") || !strcmp(w[0], "r")) {
		ret = !strcmp(w[0], "r");
		if (ret && has_off)
			return rejects(e, EINVAL, "define: r: with +OFFS");
		arg = n >= 3 ? strchr(w[2], '=') : NULL;
		if (!arg)
			return rejects(e, EINVAL, "define: no KIND=ARG");
		*arg++ = '\0';
		if (strcmp(w[2], "page") && strcmp(w[2], "folio") &&
		    strcmp(w[2], "pfn"))
			return rejects(e, EINVAL, "define: kind not page, folio, pfn");
		if (ret) {
			if (strcmp(arg, "$retval"))
				return rejects(e, EINVAL, "define: r: fetches $retval");
		} else if (!strncmp(arg, "$arg", 4)) {
			if (strlen(arg) != 5 || arg[4] < '1' || arg[4] > '6')
				return rejects(e, EINVAL, "define: $arg1 to $arg6");
			if (off)
				return rejects(e, EINVAL, "define: $argN with an offset");
		} else if (arg[0] != '%' ||
			   !in_list(arg + 1, def_regs, ARRAY_SIZE(def_regs))) {
			return rejects(e, EINVAL, "define: not $argN or %REG");
		}
		if (!def_symbol_ok(place))
			return rejects(e, EINVAL, "define: bad symbol");
		if (n > 3)
			return rejects(e, EINVAL, "define: trailing words");
		/*
		 * A symbol not in the list: missing (ENOENT), refused (EINVAL,
		 * EILSEQ) or accepted; so is an offset into a known one (and
		 * +0 is not listed).
		 */
		if (!in_list(place, def_symbols, ARRAY_SIZE(def_symbols)) ||
		    has_off)
			return either(e, 0, E_DEFINE);
	} else if (!strcmp(w[0], "t")) {
		if (!in_list(place, def_tracepoints,
			     ARRAY_SIZE(def_tracepoints)))
			return rejects(e, EINVAL, "define: no such tracepoint");
		if (has_off || !ncallers)
			return rejects(e, EINVAL, "define: t: needs callers, no offset");
		if (n > 2)
			return rejects(e, EINVAL, "define: trailing words");
	} else {
		return rejects(e, EINVAL, "define: kind not p, r, t or -");
	}
	/* A caller not in the list: missing, or there. */
	if (!known)
		return either(e, taken ? 0 : ENOENT, E_DEFINE);
	if (taken)
		return rejects(e, EEXIST, "define: name taken");
	if (!prof.known)
		return either(e, EEXIST, E_DEFINE);
	return accepts(e, E_DEFINE, "%s", "");
}

/* Removes every defined window (the lines of windows/define not built in). */
static void undefine_all(void)
{
	char buf[READ_MAX], name[64], cmd[80], *line, *save;

	if (mmrace_read(MMRACE_DEBUGFS "/windows/define", buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*1[prt]:%63[a-z0-9_] ", name) == 1 &&
		    find_window(name) < 0) {
			snprintf(cmd, sizeof(cmd), "-:%s", name);
			mmrace_write(MMRACE_DEBUGFS "/windows/define", cmd);
		}
	}
}

static void model(const struct file *f, const uint8_t *in, size_t len,
		  enum wmode m, struct expect *e)
{
	const struct window *w = f->win >= 0 ? &windows[f->win] : NULL;
	enum effect set = profile_kind(f->kind) ? E_PROFILE : E_NONE;
	char s[WRITE_MAX + 1];
	size_t i, a, b;
	uint64_t v;

	memset(e, 0, sizeof(*e));
	if (m == W_PWRITE) {
		rejects(e, ESPIPE, "pwrite on a seq_file");
		return;
	}
	if (m == W_OFFSET) {
		rejects(e, EINVAL, "write at a non-zero offset");
		return;
	}
	if (len > WRITE_MAX) {
		rejects(e, EINVAL, "longer than 256 bytes");
		return;
	}
	if ((m == W_FAULT || m == W_NULL) && len) {
		rejects(e, EFAULT, "unreadable buffer");
		return;
	}
	for (i = 0; i < len; i++) {
		if (!allowed_byte(in[i])) {
			rejects(e, EINVAL, "a byte that is not printable ASCII");
			return;
		}
	}
	for (a = 0; a < len && is_ws(in[a]); a++)
		;
	for (b = len; b > a && is_ws(in[b - 1]); b--)
		;
	memcpy(s, in + a, b - a);
	s[b - a] = '\0';

	switch (f->kind) {
	case K_UNKNOWN:
		/* Only common-layer rejections are sent there. */
		e->v = EITHER;
		break;
	case K_VERSION:
	case K_SUMMARY:
	case K_SITES:
	case K_P_STATE:
		rejects(e, EINVAL, "read-only file");
		break;
	case K_CONTROL:
		if (!strcmp(s, "reset"))
			accepts(e, E_RESET, "%s", f->def);
		else if (!strcmp(s, "disarm-all"))
			accepts(e, E_DISARM_ALL, "%s", f->def);
		else
			rejects(e, EINVAL, "control: unknown command");
		break;
	case K_RUN:
		if (run_might_accept(s))
			e->v = EITHER;	/* never sent */
		else
			rejects(e, EINVAL, "run: unknown scenario or option");
		break;
	case K_ENABLE:
		if (!strcmp(s, "0"))
			accepts(e, E_DISARM, "0\n");
		else if (!strcmp(s, "1") && w->armable)
			accepts(e, E_ARM, "1\n");
		else if (!strcmp(s, "1"))
			e->v = EITHER;	/* ENOENT or ENOTSUPP, checked once */
		else
			rejects(e, EINVAL, "enable: 0 or 1");
		break;
	case K_PID_TREE:
		if (!strcmp(s, "0") || !strcmp(s, "1"))
			accepts(e, E_NONE, "%s\n", s);
		else
			rejects(e, EINVAL, "pid_tree: 0 or 1");
		break;
	case K_DELAY_US:
	case K_WAIT_TIMEOUT_US:
	case K_P_MAX_DELAY_US:
		if (parse_max(s, 100000, &v)) {
			e->num = (long long)v;
			accepts(e, set, "%llu\n", (unsigned long long)v);
		} else {
			rejects(e, EINVAL, "0 to 100000");
		}
		break;
	case K_PROBABILITY:
	case K_P_PROBABILITY:
		if (parse_max(s, 100, &v)) {
			e->num = (long long)v;
			accepts(e, set, "%llu\n", (unsigned long long)v);
		} else {
			rejects(e, EINVAL, "probability: 0 to 100");
		}
		break;
	case K_VERBOSE:
		if (parse_max(s, 2, &v))
			accepts(e, E_NONE, "%llu\n", (unsigned long long)v);
		else
			rejects(e, EINVAL, "verbose: 0 to 2");
		break;
	case K_INTERVAL:
		if (parse_max(s, UINT32_MAX, &v) && v >= 1)
			accepts(e, E_NONE, "%llu\n", (unsigned long long)v);
		else
			rejects(e, EINVAL, "interval: 1 to 2^32-1");
		break;
	case K_TIMES:
		if (parse_any(s, INT64_MAX, &v)) {
			e->num = v == ANY ? -1 : (long long)v;
			accepts(e, E_TIMES, "%lld\n", e->num);
		} else {
			rejects(e, EINVAL, "times: -1 or 0 to 2^63-1");
		}
		break;
	case K_PID:
	case K_P_PID:
		if (parse_any(s, INT32_MAX, &v)) {
			e->num = v == ANY ? -1 : (long long)v;
			accepts(e, set, "%lld\n", e->num);
		} else {
			rejects(e, EINVAL, "pid: -1 or 0 to 2^31-1");
		}
		break;
	case K_P_SEED:
		if (parse_u64(s, &v)) {
			e->num = (long long)v;
			accepts(e, E_PROFILE, "%llu\n", (unsigned long long)v);
		} else {
			rejects(e, EINVAL, "profile/seed: 0 to 2^64-1");
		}
		break;
	case K_P_WINDOWS:
		model_profile_windows(s, e);
		break;
	case K_P_ADVERSARIES:
		model_profile_adversaries(s, e);
		break;
	case K_P_ENABLE:
		if (!strcmp(s, "0"))
			accepts(e, E_P_DISARM, "0\n");
		else if (strcmp(s, "1"))
			rejects(e, EINVAL, "profile/enable: 0 or 1");
		else if (prof.known && prof.pid < 0)
			rejects(e, EINVAL, "profile/enable: no pid written");
		else if (prof.known && (prof.windows & armable_windows()))
			accepts(e, E_P_ARM, "1\n");
		else	/* phase 2, or no selected window can be armed */
			either(e, EINVAL, E_P_ARM);
		break;
	case K_PFN:
		if (parse_any(s, ANY - 1, &v)) {
			e->v = ACCEPT;
			e->effect = E_PFN;
			render_any(e->text, sizeof(e->text), v);
		} else {
			rejects(e, EINVAL, "pfn: -1 or 0 to 2^64-2");
		}
		break;
	case K_TARGET:
		model_target(s, e);
		break;
	case K_WAIT_FOR:
		if (!strcmp(s, "none")) {
			accepts(e, E_NONE, "none\n");
		} else if (find_window(s) >= 0 && find_window(s) != f->win) {
			accepts(e, E_NONE, "%s\n", s);
		} else if (!prof.known && find_window(s) < 0 && def_name_ok(s)) {
			/* Phase 2: another thread may have defined it. */
			either(e, EINVAL, E_NONE);
			snprintf(e->text, sizeof(e->text), "%s\n", s);
		} else {
			rejects(e, EINVAL, "wait_for: another window or none");
		}
		break;
	case K_PHASE:
		model_phase(w, s, e);
		break;
	case K_ADVERSARY:
		if (window_adversary(s))
			accepts(e, E_NONE, "%s\n", s);
		else
			rejects(e, EINVAL, "adversary: none or an operation");
		break;
	case K_STATS:
		if (!strcmp(s, "0"))
			accepts(e, E_STATS, "%s", "");
		else
			rejects(e, EINVAL, "stats: only 0");
		break;
	case K_DEFINE:
		model_define(s, e);
		/* What an accepted definition lists as: the input, words one
		 * space apart (the valid ones generated have no offset).
		 */
		if (e->effect == E_DEFINE) {
			char copy[WRITE_MAX + 1], *w[8];
			int i, n;

			memcpy(copy, in + a, b - a);
			copy[b - a] = '\0';
			n = split_words(copy, w, 8);
			if (n > 8)
				n = 8;
			e->text[0] = '\0';
			for (i = 0; i < n; i++)
				snprintf(e->text + strlen(e->text),
					 sizeof(e->text) - strlen(e->text),
					 "%s%s", i ? " " : "", w[i]);
		}
		break;
	}
}

/* ---- Generating input ---- */

static const char ws_chars[] = " \t\n\r\f";

static const char * const bad_numbers[] = {
	"-5", "-0", "+5", "--1", "-1-1", "- 1", "1 2", "5x", "x5", "1e3",
	"1.0", "0o17", "0b101", "0x", "0X", "0xg", "0x-1", "0x+1", "+0x10",
	"18446744073709551616", "18446744073709551615",
	"99999999999999999999999", "0x10000000000000000",
	"0xffffffffffffffff", "0x0000000000000000000000001",
	"000000000000000000000000000007", "9223372036854775808",
	"9223372036854775807", "4294967296", "4294967295", "2147483648",
	"2147483647", "100001", "100000", "101", "100", "3", "2", "-2",
	"010", "0777", "00", "0", "1", "-1", "0x0", "0xA", "0Xa", "１",
	"\xc2\xb9", "\xef\xbc\x91", "\xff", "1\xc2\xa0", "1,2", "1;2",
	"1\\n", "\"1\"", "'1'", "1#", "$1", "1\v", "\v1", "NaN", "inf",
	"0x1p3", "0d10", "1_000", "1'000",
};

static const char * const words[] = {
	"none", "all", "reset", "disarm-all", "-1", "0", "1", "2", "none ",
	"iterations=1", "window_us=5", "iterations=0", "iterations=10001",
	"window_us=", "iterations", "=", ",", ",,", "enable", "phase",
	"disarm_all", "RESET", "Reset", "reset-all", "arm-all", "help",
	"?", "*", "..", "/", "NONE", "None", "freeze+reuse", "Freeze",
};

struct gen {
	uint8_t buf[INPUT_MAX];
	size_t len;
};

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > sizeof(g->buf))
		n = sizeof(g->buf) - g->len;
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void gputs(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void gprintf(struct gen *g, const char *fmt, ...) __printf(2, 3);

static void gprintf(struct gen *g, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	gputs(g, tmp);
}

/* A number written in one of its accepted forms. */
static void put_number(struct rng *r, struct gen *g, uint64_t v)
{
	switch (below(r, 6)) {
	case 0:
		gprintf(g, "0x%llx", (unsigned long long)v);
		break;
	case 1:
		gprintf(g, "0X%llX", (unsigned long long)v);
		break;
	case 2:
		gprintf(g, "%0*llu", 1 + below(r, 24), (unsigned long long)v);
		break;
	default:
		gprintf(g, "%llu", (unsigned long long)v);
	}
}

static uint64_t some_number(struct rng *r, uint64_t max)
{
	switch (below(r, 5)) {
	case 0:
		return 0;
	case 1:
		return max;
	case 2:
		return below(r, 10) < max ? below(r, 10) : max;
	default:
		return max == UINT64_MAX ? rnd(r) : rnd(r) % (max + 1);
	}
}

static const char *other_window(struct rng *r, int own)
{
	int i = below(r, nwindows);

	if (i == own)
		i = (i + 1) % nwindows;
	return windows[i].name;
}

/* PID_MAX_LIMIT: no process has a pid above it. */
#define PID_LIMIT 4194304

/*
 * A pid for profile/pid: -1, 0 (no tree), this process, or one no process
 * can have. Never another tree on purpose: arming would delay it.
 */
static void put_profile_pid(struct rng *r, struct gen *g)
{
	switch (below(r, 5)) {
	case 0:
		gputs(g, "-1");
		break;
	case 1:
		put_number(r, g, 0);
		break;
	case 2:
		put_number(r, g, mypid);
		break;
	default:
		put_number(r, g, PID_LIMIT + 1 +
			   rnd(r) % ((uint64_t)INT32_MAX - PID_LIMIT));
	}
}

/* Something the file accepts (as far as the model knows). */
/*
 * A write to windows/define: mostly valid definitions (at sites every
 * 6.12 kernel has) and removals, and hostile ones the model knows.
 */
static void gen_define(struct rng *r, struct gen *g)
{
	static const char * const kinds[] = { "page", "folio", "pfn" };
	static const char * const hostile[] = {
		"p:fz0 mmrace_no_such_symbol page=$arg1",	/* ENOENT */
		"p:fz1 get_kprobe page=$arg1",			/* blacklist */
		"p:migrate_freeze vfs_read page=$arg1",		/* EEXIST */
		"p:define vfs_read page=$arg1",			/* EEXIST */
		"-:compact_isolate",				/* EINVAL */
		"-:fz7",					/* ENOENT */
		"p:FZ vfs_read page=$arg1",
		"p:fz2 vfs_read page=$arg0",
		"r:fz3 vfs_read page=$arg1",
		"t:fz4 page_ref_mod_unless",
		"t:fz5 page_ref_mod<-mmrace_no_such_caller",
		"p:fz6 vfs_read<-filemap_read|mmrace_no_such page=%di",
	};
	unsigned int k = below(r, 100), fz = below(r, 8);
	const char *kind = kinds[below(r, 3)];

	if (k < 25) {
		gprintf(g, "p:fz%u %s %s=$arg%u", fz,
			def_symbols[below(r, ARRAY_SIZE(def_symbols))], kind,
			1 + below(r, 6));
	} else if (k < 35) {
		gprintf(g, "p:fz%u %s%s %s=%%%s", fz,
			def_symbols[below(r, ARRAY_SIZE(def_symbols))],
			chance(r, 30) ? "<-filemap_read|vfs_read" : "", kind,
			def_regs[below(r, ARRAY_SIZE(def_regs))]);
	} else if (k < 45) {
		gprintf(g, "r:fz%u filemap_get_entry%s %s=$retval", fz,
			chance(r, 50) ? "<-shmem_get_folio_gfp" : "", kind);
	} else if (k < 55) {
		gprintf(g, "t:fz%u %s<-filemap_get_entry|shmem_get_folio_gfp",
			fz, def_tracepoints[below(r, 3)]);
	} else if (k < 75) {
		gprintf(g, "-:fz%u", fz);
	} else {
		gputs(g, hostile[below(r, ARRAY_SIZE(hostile))]);
	}
}

static void gen_valid(struct rng *r, const struct file *f, struct gen *g)
{
	const struct window *w = f->win >= 0 ? &windows[f->win] : NULL;
	unsigned long off;
	int i, n, j;

	switch (f->kind) {
	case K_ENABLE:
	case K_PID_TREE:
		/*
		 * Arming and disarming register and unregister probes, some
		 * 50 ms each under TCG, against some 40 us for any other
		 * write: 1 in 12 of the valid writes to enable.
		 */
		if (f->kind == K_ENABLE)
			gputs(g, chance(r, 8) ? "1" : "0");
		else
			gputs(g, below(r, 2) ? "1" : "0");
		break;
	case K_DELAY_US:
	case K_WAIT_TIMEOUT_US:
		put_number(r, g, some_number(r, 100000));
		break;
	case K_PROBABILITY:
		put_number(r, g, some_number(r, 100));
		break;
	case K_VERBOSE:
		put_number(r, g, some_number(r, 2));
		break;
	case K_INTERVAL:
		put_number(r, g, some_number(r, UINT32_MAX - 1) + 1);
		break;
	case K_TIMES:
		if (chance(r, 25))
			gputs(g, "-1");
		else
			put_number(r, g, some_number(r, INT64_MAX));
		break;
	case K_PID:
		if (chance(r, 25))
			gputs(g, "-1");
		else if (chance(r, 30))
			put_number(r, g, mypid);
		else
			put_number(r, g, some_number(r, INT32_MAX));
		break;
	case K_PFN:
		if (chance(r, 25))
			gputs(g, "-1");
		else
			put_number(r, g, some_number(r, ANY - 1));
		break;
	case K_TARGET:
		n = below(r, 10);
		if (n == 0) {
			gputs(g, chance(r, 50) ? "none" : "-1");
			break;
		}
		off = below(r, 4 * page_size);
		put_number(r, g, n == 1 ? some_number(r, INT32_MAX) :
			   (uint64_t)mypid);
		put(g, &ws_chars[below(r, 5)], 1);
		if (chance(r, 30))
			put(g, &ws_chars[below(r, 5)], 1);
		put_number(r, g, (uintptr_t)(n < 7 ? present : absent) + off);
		break;
	case K_WAIT_FOR:
		gputs(g, chance(r, 25) ? "none" : other_window(r, f->win));
		break;
	case K_PHASE:
		n = 1 + below(r, w->nphases + 1);
		for (i = 0; i < n; i++) {
			if (i)
				gputs(g, ",");
			j = below(r, w->nphases);
			/* Only phases this kernel has (debugfs.rst). */
			if (chance(r, 15) || !(w->present & (1u << j)))
				gputs(g, "all");
			else
				gputs(g, w->phases[j]);
		}
		break;
	case K_ADVERSARY:
		gputs(g, chance(r, 30) ? "none" :
		      adv_ops[below(r, ARRAY_SIZE(adv_ops))]);
		break;
	case K_STATS:
		gputs(g, "0");
		break;
	case K_CONTROL:
		gputs(g, chance(r, 50) ? "reset" : "disarm-all");
		break;
	case K_RUN:
		gprintf(g, "%s", scenarios[below(r, nscenarios)]);
		if (chance(r, 50))
			gprintf(g, " iterations=%u", below(r, 20000));
		break;
	case K_DEFINE:
		gen_define(r, g);
		break;
	case K_P_ENABLE:
		/*
		 * `1` arms every selected window, and each costs some 50 ms
		 * under TCG when disarmed again (the other threads waiting in
		 * phase 2): 1 in 50 valid writes, 1 in 100 in phase 2.
		 */
		gputs(g, chance(r, prof.known ? 2 : 1) ? "1" : "0");
		break;
	case K_P_PID:
		put_profile_pid(r, g);
		break;
	case K_P_PROBABILITY:
		put_number(r, g, some_number(r, 100));
		break;
	case K_P_MAX_DELAY_US:
		put_number(r, g, some_number(r, 100000));
		break;
	case K_P_SEED:
		put_number(r, g, chance(r, 25) ? 0 : some_number(r, UINT64_MAX));
		break;
	case K_P_WINDOWS:
		/* Few windows mostly: each one armed costs time. */
		if (chance(r, 10)) {
			gputs(g, "all");
			break;
		}
		n = 1 + below(r, 3);
		for (i = 0; i < n; i++) {
			if (i)
				gputs(g, ",");
			gputs(g, chance(r, 5) ? "all" :
			      windows[below(r, nwindows)].name);
		}
		break;
	case K_P_ADVERSARIES:
		if (chance(r, 10)) {
			gputs(g, "none");
			break;
		}
		n = 1 + below(r, 3);
		for (i = 0; i < n; i++) {
			if (i)
				gputs(g, ",");
			/* zap: intrusive, never taken; none: not in a list. */
			gputs(g, chance(r, 5) ? (chance(r, 50) ? "zap" : "none") :
			      adv_ops[below(r, ARRAY_SIZE(adv_ops))]);
		}
		break;
	default:
		gputs(g, words[below(r, ARRAY_SIZE(words))]);
	}
}

static void put_ws(struct rng *r, struct gen *g, unsigned int max)
{
	unsigned int n = below(r, max + 1);

	while (n--)
		put(g, &ws_chars[below(r, 5)], 1);
}

/* A byte the common layer rejects: NUL, control, \v, DEL, non-ASCII. */
static uint8_t bad_byte(struct rng *r)
{
	static const uint8_t some[] = { 0, 0, 0x0b, 0x7f, 0x1b, 0x01, 0x08,
					0x80, 0xa0, 0xc2, 0xff };
	uint8_t c;

	if (chance(r, 50))
		return some[below(r, sizeof(some))];
	do {
		c = rnd(r);
	} while (allowed_byte(c));
	return c;
}

static void insert(struct gen *g, size_t at, const uint8_t *p, size_t n)
{
	if (g->len + n > sizeof(g->buf))
		return;
	memmove(g->buf + at + n, g->buf + at, g->len - at);
	memcpy(g->buf + at, p, n);
	g->len += n;
}

/* One random edit: flip, delete, duplicate, insert, truncate. */
static void mutate(struct rng *r, struct gen *g)
{
	size_t at = below(r, g->len + 1);
	uint8_t c;

	switch (below(r, 6)) {
	case 0:
		if (at < g->len)
			g->buf[at] ^= 1u << below(r, 8);
		break;
	case 1:
		if (at < g->len) {
			memmove(g->buf + at, g->buf + at + 1, g->len - at - 1);
			g->len--;
		}
		break;
	case 2:
		if (at < g->len)
			insert(g, at, g->buf + at, 1);
		break;
	case 3:
		c = 0x20 + below(r, 0x5f);
		insert(g, at, &c, 1);
		break;
	case 4:
		g->len = at;	/* a partial command */
		break;
	default:
		c = "-+0x ,"[below(r, 6)];
		insert(g, at, &c, 1);
	}
}

/* Input the common layer rejects whatever the file. */
static void gen_common_reject(struct rng *r, struct gen *g)
{
	uint8_t c;

	g->len = 0;
	if (chance(r, 30)) {
		g->len = WRITE_MAX + 1 + below(r, INPUT_MAX - WRITE_MAX - 1);
		memset(g->buf, '0' + below(r, 10), g->len);
		return;
	}
	gputs(g, words[below(r, ARRAY_SIZE(words))]);
	c = bad_byte(r);
	insert(g, below(r, g->len + 1), &c, 1);
}

static void gen_input(struct rng *r, const struct file *f, struct gen *g)
{
	unsigned int k = below(r, 100), i, n;

	g->len = 0;
	if (f->kind == K_UNKNOWN) {
		gen_common_reject(r, g);
		return;
	}
	if (k < 30) {			/* valid, maybe padded */
		put_ws(r, g, chance(r, 30) ? 3 : 0);
		gen_valid(r, f, g);
		if (chance(r, 50))
			gputs(g, "\n");
		put_ws(r, g, chance(r, 20) ? 3 : 0);
	} else if (k < 42) {		/* valid, edited */
		gen_valid(r, f, g);
		mutate(r, g);
		if (chance(r, 30))
			mutate(r, g);
	} else if (k < 52) {		/* numbers, good and bad */
		gputs(g, bad_numbers[below(r, ARRAY_SIZE(bad_numbers))]);
		if (chance(r, 30))
			gputs(g, "\n");
	} else if (k < 56) {		/* nothing, or only whitespace */
		put_ws(r, g, below(r, 2) ? 0 : 8);
	} else if (k < 61) {		/* long: 256 bytes is the limit */
		gen_valid(r, f, g);
		n = chance(r, 50) ? WRITE_MAX : WRITE_MAX + 1 +
			below(r, INPUT_MAX - WRITE_MAX - 1);
		if (chance(r, 50)) {
			while (g->len < n)
				put(g, &ws_chars[below(r, 5)], 1);
		} else {
			g->len = 0;
			while (g->len < n)
				gen_valid(r, f, g);
			g->len = n;
		}
	} else if (k < 67) {		/* embedded NUL, control, non-ASCII */
		gen_valid(r, f, g);
		n = 1 + below(r, 2);
		for (i = 0; i < n; i++) {
			uint8_t c = bad_byte(r);

			insert(g, below(r, g->len + 1), &c, 1);
		}
	} else if (k < 77) {		/* random bytes */
		n = below(r, 48);
		for (i = 0; i < n; i++)
			g->buf[i] = rnd(r);
		g->len = n;
	} else if (k < 87) {		/* random printable ASCII */
		n = 1 + below(r, 24);
		for (i = 0; i < n; i++)
			g->buf[i] = 0x20 + below(r, 0x5f);
		g->len = n;
	} else {			/* words of the ABI, combined */
		n = 1 + below(r, 3);
		for (i = 0; i < n; i++) {
			if (i)
				gputs(g, chance(r, 50) ? "," : " ");
			k = below(r, 4);
			if (k == 0)
				gputs(g, windows[below(r, nwindows)].name);
			else if (k == 1)
				gputs(g, scenarios[below(r, nscenarios)]);
			else if (k == 2 && f->win >= 0 && windows[f->win].nphases)
				gputs(g, windows[f->win].phases[below(r,
					windows[f->win].nphases)]);
			else
				gputs(g, words[below(r, ARRAY_SIZE(words))]);
		}
	}
}

/* typestate/run is only given commands it must reject. */
static void make_safe(struct rng *r, const struct file *f, struct gen *g)
{
	struct expect e;
	int tries = 0;

	if (f->kind != K_RUN)
		return;
	for (;;) {
		model(f, g->buf, g->len, W_PLAIN, &e);
		if (e.v == REJECT)
			return;
		if (++tries > 8) {
			g->len = 0;
			gputs(g, "bogus");
			return;
		}
		gen_input(r, f, g);
	}
}

static enum wmode pick_mode(struct rng *r, size_t len)
{
	unsigned int k = below(r, 100);

	if (k < 80)
		return W_PLAIN;
	if (k < 86)
		return W_FRESH;
	if (k < 90)
		return W_OFFSET;
	if (k < 93)
		return W_PWRITE;
	if (len && k < 98)
		return W_FAULT;
	return len ? W_NULL : W_PLAIN;
}

/* ---- Writing ---- */

/*
 * 0 when all @len bytes were taken, -errno, -EMSGSIZE for a short write, or
 * NOT_WRITTEN when lseek(2) refused the offset (nothing was written).
 */
#define NOT_WRITTEN 1

static int do_write(int fd, const char *path, struct rng *r,
		    const uint8_t *in, size_t len, enum wmode m)
{
	const void *src = in;
	size_t k;
	ssize_t n;
	int err;

	switch (m) {
	case W_FRESH:
	case W_OFFSET:
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (m == W_OFFSET &&
		    lseek(fd, 1 + below(r, 5000), SEEK_SET) < 0) {
			close(fd);
			return NOT_WRITTEN;
		}
		n = write(fd, in, len);
		err = n < 0 ? -errno : 0;
		close(fd);
		break;
	case W_PWRITE:
		n = pwrite(fd, in, len, 0);
		err = n < 0 ? -errno : 0;
		break;
	case W_FAULT:
	case W_NULL:
		/* The first k bytes readable, the rest in the unmapped page. */
		k = below(r, len < WRITE_MAX ? len : WRITE_MAX);
		memcpy(guard + page_size - k, in, k);
		src = guard + page_size - k;
		n = write(fd, m == W_NULL ? NULL : src, len);
		err = n < 0 ? -errno : 0;
		break;
	default:
		n = write(fd, in, len);
		err = n < 0 ? -errno : 0;
	}
	if (!err && (size_t)n != len)
		return -EMSGSIZE;
	return err;
}

/* ---- Phase 1: one thread, every write checked ---- */

static struct {
	unsigned long writes, accepted, rejected, either;
	unsigned long verdict_bad, unchanged_bad, roundtrip_bad, errno_bad;
	unsigned long tiny_reads, tiny_bad, resets, arms, defines;
	unsigned long pwrites, paccepted, parms, pdisarms, pstates;
	unsigned int reports;
	unsigned long slow;
	double slow_s, fast_s, parm_s;
} st;

static void escape(const uint8_t *in, size_t len, char *out, size_t olen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 32 < olen; i++) {
		if (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\\')
			out[o++] = in[i];
		else
			o += snprintf(out + o, olen - o, "\\x%02x", in[i]);
	}
	if (i < len)
		o += snprintf(out + o, olen - o, "...(%zu bytes)", len);
	out[o] = '\0';
}

static void report(const struct file *f, const uint8_t *in, size_t len,
		   enum wmode m, const char *fmt, ...) __printf(5, 6);

static void report(const struct file *f, const uint8_t *in, size_t len,
		   enum wmode m, const char *fmt, ...)
{
	char esc[200], what[600];
	va_list ap;

	if (st.reports++ >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	escape(in, len, esc, sizeof(esc));
	ksft_print_msg("write %lu: %s '%s' (%zu bytes) to %s: %s\n",
		       st.writes, wmode_names[m], esc, len, f->rel, what);
}

static bool any_armed(void)
{
	int i;

	for (i = 0; i < nwindows; i++)
		if (windows[i].armed)
			return true;
	return false;
}

static bool counter_key(const char *k)
{
	return !strcmp(k, "entered") || !strcmp(k, "delayed") ||
	       !strcmp(k, "hits") || !strcmp(k, "rendezvous_met") ||
	       !strcmp(k, "rendezvous_timeout");
}

/* Whether word @a may follow word @b: a counter grown, `times` counted down. */
static bool word_moved(enum kind kind, char *b, char *a)
{
	char *eb, *ea;

	if (kind == K_STATS) {
		/* The values after "key:" words. */
		return strtoull(b, &eb, 10) <= strtoull(a, &ea, 10) &&
		       !*eb && !*ea && eb != b && ea != a;
	}
	eb = strchr(b, '=');
	ea = strchr(a, '=');
	if (!eb || !ea || eb - b != ea - a || strncmp(b, a, eb - b))
		return false;
	*eb = '\0';
	if (!strcmp(b, "times"))
		return atoll(eb + 1) >= 0 && atoll(ea + 1) >= 0 &&
		       atoll(ea + 1) <= atoll(eb + 1);
	return counter_key(b) &&
	       strtoull(ea + 1, NULL, 10) >= strtoull(eb + 1, NULL, 10);
}

/*
 * Whether @after may follow @before with no write in between: equal, or,
 * while windows are armed, counters grown and `times` counted down.
 */
static bool unchanged(const struct file *f, const char *before,
		      const char *after)
{
	char b[READ_MAX], a[READ_MAX], *sb, *sa, *tb, *ta;
	bool armed = f->win >= 0 ? windows[f->win].armed : any_armed();

	if (!strcmp(before, after))
		return true;
	if (!armed)
		return false;
	if (f->kind == K_TIMES)
		return atoll(before) >= 0 && atoll(after) >= 0 &&
		       atoll(after) <= atoll(before);
	if (f->kind != K_STATS && f->kind != K_SUMMARY)
		return false;
	/* Word by word: "key: value" (stats) or "key=value" (summary). */
	snprintf(b, sizeof(b), "%s", before);
	snprintf(a, sizeof(a), "%s", after);
	tb = strtok_r(b, "\n ", &sb);
	ta = strtok_r(a, "\n ", &sa);
	while (tb && ta) {
		if (strcmp(tb, ta) && !word_moved(f->kind, tb, ta))
			return false;
		tb = strtok_r(NULL, "\n ", &sb);
		ta = strtok_r(NULL, "\n ", &sa);
	}
	return !tb && !ta;
}

static struct file *file_of(int win, enum kind kind)
{
	int i;

	for (i = 0; i < nfiles; i++)
		if (files[i].win == win && files[i].kind == kind)
			return &files[i];
	return NULL;
}

/* The pfn /proc/self/pagemap gives for @addr, or 0. */
static unsigned long long pagemap_pfn(unsigned long addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), addr / page_size * sizeof(e)) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/* Every file reads its default (after a reset); how many do not. */
static int check_defaults(bool print)
{
	char buf[READ_MAX];
	int i, bad = 0;

	for (i = 0; i < nfiles; i++) {
		snap(files[i].fd, buf);
		if (strcmp(buf, files[i].def)) {
			if (print && bad < 5 && st.reports++ < MAX_REPORTS)
				ksft_print_msg("%s reads '%.*s', its default is '%.*s'\n",
					       files[i].rel,
					       (int)strcspn(buf, "\n"), buf,
					       (int)strcspn(files[i].def, "\n"),
					       files[i].def);
			bad++;
		}
	}
	return bad;
}

/* ---- The profile's effects (profile.rst) ---- */

/* The file of @kind in window @win (-1: top and profile/), or "". */
static void snap_file(int win, enum kind kind, char *buf)
{
	struct file *f = file_of(win, kind);

	if (f)
		snap(f->fd, buf);
	else
		buf[0] = '\0';
}

/* @s on one line, for a message. */
static const char *oneline(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		out[i] = s[i] == '\n' ? ';' : s[i];
	out[i] = '\0';
	return out;
}

/* profile/state reads what the model says (reported if not). */
static bool profile_state_ok(const struct file *f, const uint8_t *in,
			     size_t len, enum wmode m)
{
	char want[1024], buf[READ_MAX], a[256], b[256];

	render_state(want, sizeof(want));
	snap_file(-1, K_P_STATE, buf);
	st.pstates++;
	if (!strcmp(buf, want))
		return true;
	report(f, in, len, m, "profile/state reads '%s', expected '%s'",
	       oneline(buf, a, sizeof(a)), oneline(want, b, sizeof(b)));
	return false;
}

static void profile_set(enum kind kind, long long v)
{
	switch (kind) {
	case K_P_PID:
		prof.pid = v;
		break;
	case K_P_PROBABILITY:
		prof.probability = v;
		break;
	case K_P_MAX_DELAY_US:
		prof.max_delay_us = v;
		break;
	case K_P_WINDOWS:
		prof.windows = v;
		break;
	case K_P_ADVERSARIES:
		prof.adversaries = v;
		break;
	case K_P_SEED:
		prof.seed = (unsigned long long)v;
		break;
	default:
		break;
	}
}

/*
 * The rendezvous in profile/state: pairs the code can draw (both windows
 * selected, at most one way round); the exact text is compared after.
 */
static bool read_rendezvous(const char *state, unsigned int *rv)
{
	const char *p = strstr(state, "\nrendezvous:");
	char line[512], pair[160], *t, *save;
	unsigned int j, k;
	int a, b;

	*rv = 0;
	if (!p)
		return false;
	p += strlen("\nrendezvous:");
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	for (t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (!strcmp(t, "none"))
			continue;
		for (k = 0; k < ARRAY_SIZE(pairs); k++) {
			snprintf(pair, sizeof(pair), "%s->%s", pairs[k][0],
				 pairs[k][1]);
			if (!strcmp(t, pair))
				break;
		}
		if (k == ARRAY_SIZE(pairs))
			return false;
		*rv |= 1u << k;
	}
	for (k = 0; k < ARRAY_SIZE(pairs); k++) {
		if (!(*rv & (1u << k)))
			continue;
		a = find_window(pairs[k][0]);
		b = find_window(pairs[k][1]);
		if (a < 0 || b < 0 || !(prof.windows & (1u << a)) ||
		    !(prof.windows & (1u << b)))
			return false;
		for (j = 0; j < k; j++)
			if ((*rv & (1u << j)) &&
			    (!strcmp(pairs[j][0], pairs[k][1]) ||
			     !strcmp(pairs[j][1], pairs[k][0])))
				return false;
	}
	return true;
}

/*
 * The adversaries in profile/state: one of the set for each armed window
 * (adv_drawable()), none with an empty set; the exact text is compared
 * after.
 */
static bool read_attached(const char *state, char *out, size_t len)
{
	const char *p = strstr(state, "\nattached:");
	char line[512], *t, *save, *op;
	unsigned int k, seen = 0, want;
	int w;

	if (!p)
		return false;
	p += strlen("\nattached:");
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	snprintf(line, sizeof(line), "%s", out);
	want = prof.adversaries ? prof.armed : 0;
	for (t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (!strcmp(t, "none") && !want)
			return !strcmp(out, " none");
		op = strchr(t, '=');
		if (!op)
			return false;
		*op++ = '\0';
		w = find_window(t);
		for (k = 0; k < ARRAY_SIZE(adv_ops); k++)
			if (!strcmp(op, adv_ops[k]))
				break;
		if (w < 0 || !(want & (1u << w)) || (seen & (1u << w)) ||
		    k == ARRAY_SIZE(adv_ops) ||
		    !(adv_drawable(t, prof.adversaries) & (1u << k)))
			return false;
		seen |= 1u << w;
	}
	return seen == want;
}

/* Window @w waits for its partner in pairs[], or -1. */
static int waits_in(int w)
{
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(pairs); k++)
		if ((prof.rendezvous & (1u << k)) &&
		    !strcmp(pairs[k][0], windows[w].name))
			return k;
	return -1;
}

/*
 * What @wf, a file of window @w, reads once the profile armed @w: armed if
 * it can be, the profile's pid (pid_tree 1), probability and delay, the
 * rendezvous drawn, every other setting at its default.
 */
static void armed_reads(int w, const struct file *wf, char *want, size_t len)
{
	int k = waits_in(w);

	switch (wf->kind) {
	case K_ENABLE:
		snprintf(want, len, "%d\n", windows[w].armable);
		break;
	case K_PID:
		snprintf(want, len, "%lld\n", prof.pid);
		break;
	case K_PID_TREE:
		snprintf(want, len, "1\n");
		break;
	case K_PROBABILITY:
		snprintf(want, len, "%llu\n", prof.probability);
		break;
	case K_DELAY_US:
		snprintf(want, len, "%llu\n", prof.max_delay_us);
		break;
	case K_WAIT_FOR:
		snprintf(want, len, "%s\n", k < 0 ? "none" : pairs[k][1]);
		break;
	case K_WAIT_TIMEOUT_US:
		if (k < 0)
			snprintf(want, len, "%s", wf->def);
		else
			snprintf(want, len, "%llu\n", prof.max_delay_us);
		break;
	default:
		snprintf(want, len, "%s", wf->def);
	}
}

/* Every selected window configured as armed_reads() says. */
static bool profile_configured(const struct file *f, const uint8_t *in,
			       size_t len, enum wmode m)
{
	char buf[READ_MAX], want[READ_MAX];
	struct file *wf;
	int i, bad = 0;

	for (i = 0; i < nfiles; i++) {
		wf = &files[i];
		/*
		 * Statistics: zeroed, but counting again once armed. The
		 * adversary: drawn, checked in profile/state.
		 */
		if (wf->win < 0 || !(prof.windows & (1u << wf->win)) ||
		    wf->kind == K_STATS || wf->kind == K_ADVERSARY)
			continue;
		armed_reads(wf->win, wf, want, sizeof(want));
		snap(wf->fd, buf);
		if (!strcmp(buf, want))
			continue;
		report(f, in, len, m, "%s reads '%.*s' once armed, expected '%.*s'",
		       wf->rel, (int)strcspn(buf, "\n"), buf,
		       (int)strcspn(want, "\n"), want);
		bad++;
	}
	return !bad;
}

/*
 * After an accepted `1` to profile/enable: the seed kept (or drawn, not 0),
 * a possible rendezvous (the same as last time from the same seed and
 * selection: a seed replays), profile/state, the windows configured.
 */
static bool profile_armed(const struct file *f, const uint8_t *in,
			  size_t len, enum wmode m)
{
	char buf[READ_MAX], a[256], attached[512], *end;
	unsigned long long seed;
	unsigned int rv;
	int i;

	snap_file(-1, K_P_SEED, buf);
	seed = strtoull(buf, &end, 10);
	if (end == buf || strcmp(end, "\n") || !seed ||
	    (prof.seed && seed != prof.seed)) {
		report(f, in, len, m, "profile/seed was %llu, reads '%.*s' once armed",
		       prof.seed, (int)strcspn(buf, "\n"), buf);
		return false;
	}
	prof.seed = seed;
	prof.enabled = true;
	prof.armed = prof.windows & armable_windows();
	for (i = 0; i < nwindows; i++)
		if (prof.windows & (1u << i))
			windows[i].armed = windows[i].armable;
	snap_file(-1, K_P_STATE, buf);
	if (!read_rendezvous(buf, &rv) ||
	    !read_attached(buf, attached, sizeof(attached))) {
		report(f, in, len, m, "profile/state: not a possible draw: '%s'",
		       oneline(buf, a, sizeof(a)));
		return false;
	}
	if (last_arm.seed == seed && last_arm.windows == prof.windows &&
	    (last_arm.rendezvous != rv ||
	     (last_arm.adversaries == prof.adversaries &&
	      strcmp(last_arm.attached, attached)))) {
		report(f, in, len, m, "seed %llu drew rendezvous %#x and adversaries '%s', last time %#x and '%s'",
		       seed, rv, attached, last_arm.rendezvous,
		       last_arm.attached);
		return false;
	}
	last_arm.seed = seed;
	last_arm.windows = prof.windows;
	last_arm.adversaries = prof.adversaries;
	last_arm.rendezvous = rv;
	snprintf(last_arm.attached, sizeof(last_arm.attached), "%s", attached);
	prof.rendezvous = rv;
	snprintf(prof.attached, sizeof(prof.attached), "%s", attached);
	return profile_state_ok(f, in, len, m) &&
	       profile_configured(f, in, len, m);
}

/* After an accepted `0` to profile/enable. */
static bool profile_disarmed(const struct file *f, const uint8_t *in,
			     size_t len, enum wmode m)
{
	char buf[READ_MAX];
	int i, bad = 0;

	for (i = 0; i < nwindows; i++) {
		if (!(prof.armed & (1u << i)))
			continue;
		snap_file(i, K_ENABLE, buf);
		/*
		 * Disabling the profile disarms what it armed. Disabling it
		 * again disarms them again, even if armed since through
		 * their own enable: undocumented, so followed, not checked.
		 */
		if (prof.enabled && strcmp(buf, "0\n")) {
			report(f, in, len, m, "windows/%s still armed",
			       windows[i].name);
			bad++;
		}
		windows[i].armed = !strcmp(buf, "1\n");
	}
	prof.enabled = false;
	return profile_state_ok(f, in, len, m) && !bad;
}

/* After an accepted write: the file, and what it changes elsewhere. */
static bool round_trip(struct file *f, const struct expect *e,
		       const char *after, const uint8_t *in, size_t len,
		       enum wmode m)
{
	struct window *w = f->win >= 0 ? &windows[f->win] : NULL;
	unsigned long long pfn, addr, now;
	char buf[READ_MAX], want[64];
	long long t;
	int i, bad, pid;

	switch (e->effect) {
	case E_STATS:
		/* Zeroed; only exact with the window disarmed. */
		if (w->armed)
			return true;
		for (i = 0; after[i]; i++)
			if (after[i] >= '1' && after[i] <= '9') {
				report(f, in, len, m, "stats not zeroed: '%s'",
				       after);
				return false;
			}
		return true;
	case E_TIMES:
		t = atoll(after);
		if (!strcmp(after, e->text) ||
		    (w->armed && e->num > 0 && t >= 0 && t <= e->num))
			return true;
		break;
	case E_TARGET:
		if (strncmp(after, e->text, strlen(e->text)))
			break;
		snap(file_of(f->win, K_PFN)->fd, buf);
		if (!strcmp(e->text, "none\n")) {
			if (!strcmp(buf, "-1\n"))
				return true;
			report(f, in, len, m, "pfn reads %s", buf);
			return false;
		}
		/* "PID 0xADDR pfn PFN": the page's, and pfn says the same. */
		if (sscanf(after + strlen(e->text), "%llu", &pfn) != 1 ||
		    sscanf(e->text, "%d %llx", &pid, &addr) != 2)
			break;
		now = pid == mypid ? pagemap_pfn(addr) : 0;
		if (now && now != pfn && pagemap_pfn(addr) != pfn) {
			report(f, in, len, m, "pfn %llu, pagemap says %llu",
			       pfn, now);
			return false;
		}
		snprintf(want, sizeof(want), "%llu\n", pfn);
		if (strcmp(buf, want)) {
			report(f, in, len, m, "target pfn %llu, pfn reads %s",
			       pfn, buf);
			return false;
		}
		return true;
	case E_PFN:
		if (strcmp(after, e->text))
			break;
		snap(file_of(f->win, K_TARGET)->fd, buf);
		if (strcmp(buf, "none\n")) {
			report(f, in, len, m, "target not cleared: %s", buf);
			return false;
		}
		return true;
	case E_RESET:
		for (i = 0; i < nwindows; i++)
			windows[i].armed = false;
		profile_defaults();
		st.resets++;
		bad = check_defaults(true);
		if (bad)
			report(f, in, len, m, "%d files not at their default after reset",
			       bad);
		return !bad && !strcmp(after, e->text);
	case E_DISARM_ALL:
		bad = 0;
		for (i = 0; i < nwindows; i++) {
			windows[i].armed = false;
			snap(file_of(i, K_ENABLE)->fd, buf);
			bad += strcmp(buf, "0\n") != 0;
		}
		if (bad)
			report(f, in, len, m, "%d windows still armed", bad);
		/*
		 * disarm-all leaves profile/enable at 1 (and state's enabled:
		 * 1) with nothing armed; debugfs.rst does not say: followed.
		 */
		snap_file(-1, K_P_ENABLE, buf);
		prof.enabled = !strcmp(buf, "1\n");
		return !bad && !strcmp(after, e->text);
	case E_ARM:
		w->armed = true;
		st.arms++;
		break;
	case E_DISARM:
		w->armed = false;
		break;
	case E_PROFILE:
		if (strcmp(after, e->text))
			break;
		profile_set(f->kind, e->num);
		return profile_state_ok(f, in, len, m);
	case E_P_ARM:
		if (strcmp(after, e->text))
			break;
		st.parms++;
		return profile_armed(f, in, len, m);
	case E_P_DISARM:
		if (strcmp(after, e->text))
			break;
		st.pdisarms++;
		return profile_disarmed(f, in, len, m);
	case E_DEFINE:
		/* Listed last, in the grammar (phase 1: no other is left). */
		st.defines++;
		if (e->v != ACCEPT)
			return true;
		snprintf(buf, sizeof(buf), "%s%s\n", f->def, e->text);
		if (!strcmp(after, buf))
			return true;
		report(f, in, len, m, "lists '%s' after '%.40s...', not '%s'",
		       after + (strlen(after) > strlen(f->def) ? strlen(f->def) : 0),
		       after, e->text);
		return false;
	case E_UNDEFINE:
		return !strcmp(after, f->def);
	default:
		break;
	}
	if (!strcmp(after, e->text))
		return true;
	report(f, in, len, m, "reads '%.*s', expected '%.*s'",
	       (int)strcspn(after, "\n"), after,
	       (int)strcspn(e->text, "\n"), e->text);
	return false;
}

/* One checked write. */
static void step(struct rng *r, struct file *f, const uint8_t *in,
		 size_t len, enum wmode m)
{
	static char before[READ_MAX], after[READ_MAX];
	struct expect e;
	double t;
	int ret;

	model(f, in, len, m, &e);
	/*
	 * Arming a selection no window of which can be armed fails after
	 * changing the profile: not sent, the model would lose track.
	 */
	if (f->kind == K_P_ENABLE && e.v == EITHER)
		return;
	snap(f->fd, before);
	t = now_s();
	ret = do_write(f->fd, f->path, r, in, len, m);
	t = now_s() - t;
	if (!ret && (e.effect == E_ARM || e.effect == E_RESET ||
		     e.effect == E_DISARM || e.effect == E_DISARM_ALL ||
		     e.effect == E_P_ARM || e.effect == E_P_DISARM ||
		     f->kind == K_PHASE)) {
		st.slow_s += t;
		st.slow++;
	} else {
		st.fast_s += t;
	}
	if (!ret && e.effect == E_P_ARM)
		st.parm_s += t;
	if (ret == NOT_WRITTEN)
		return;
	snap(f->fd, after);
	st.writes++;
	if (e.v == EITHER)
		st.either++;
	else if (e.v == ACCEPT)
		st.accepted++;
	else
		st.rejected++;
	if (profile_kind(f->kind)) {
		st.pwrites++;
		st.paccepted += !ret;
	}

	if (e.v == REJECT && !ret) {
		st.verdict_bad++;
		report(f, in, len, m, "accepted, but %s", e.why);
	} else if (e.v == ACCEPT && ret) {
		st.verdict_bad++;
		report(f, in, len, m, "rejected (%s), but it is valid",
		       strerror(-ret));
	} else if ((e.v == REJECT || (e.v == EITHER && e.err && ret)) &&
		   ret != -e.err) {
		st.errno_bad++;
		report(f, in, len, m, "failed with %s, expected %s (%s)",
		       strerror(-ret), strerror(e.err), e.why);
	}
	if (ret) {
		if (!unchanged(f, before, after)) {
			st.unchanged_bad++;
			report(f, in, len, m, "rejected (%s) but changed '%.*s' to '%.*s'",
			       strerror(-ret), (int)strcspn(before, "\n"),
			       before, (int)strcspn(after, "\n"), after);
		}
		/* Nothing else in the profile changed either. */
		if (profile_kind(f->kind) && !profile_state_ok(f, in, len, m))
			st.unchanged_bad++;
		return;
	}
	/* Either way: what an accepted write of it must read is known. */
	if ((e.v == ACCEPT || e.text[0]) &&
	    !round_trip(f, &e, after, in, len, m))
		st.roundtrip_bad++;
	/* A window defined lives for one write: no other file sees it. */
	if (f->kind == K_DEFINE && !ret)
		undefine_all();
}

/* Reads with 1- to 8-byte buffers give what one read gives. */
static void tiny_read(struct rng *r, struct file *f)
{
	static char whole[READ_MAX], tiny[READ_MAX], again[READ_MAX];
	size_t chunk = 1 + below(r, 8);

	snap(f->fd, whole);
	mmrace_read_chunks(f->path, tiny, READ_MAX, chunk);
	snap(f->fd, again);
	st.tiny_reads++;
	if (!strcmp(whole, tiny) || !strcmp(again, tiny))
		return;
	/* A counter that moved in between is no failure. */
	if (unchanged(f, whole, tiny) && unchanged(f, tiny, again))
		return;
	st.tiny_bad++;
	if (st.reports++ < MAX_REPORTS)
		ksft_print_msg("%s read %zu bytes at a time: '%s', whole: '%s'\n",
			       f->rel, chunk, tiny, whole);
}

static void phase1(uint64_t seed, unsigned long n)
{
	struct rng r = { seed };
	struct gen g, g2;
	struct file *f;
	enum wmode m;
	size_t cut;

	while (st.writes < n) {
		f = &files[below(&r, nfiles)];
		gen_input(&r, f, &g);
		make_safe(&r, f, &g);
		if (chance(&r, 2))
			tiny_read(&r, f);
		if (chance(&r, 3) && g.len > 1 && f->kind != K_RUN &&
		    f->kind != K_UNKNOWN) {
			/* One command in two writes: two commands. */
			cut = 1 + below(&r, g.len - 1);
			memcpy(g2.buf, g.buf + cut, g.len - cut);
			g2.len = g.len - cut;
			step(&r, f, g.buf, cut, W_PLAIN);
			step(&r, f, g2.buf, g2.len, W_PLAIN);
			continue;
		}
		m = pick_mode(&r, g.len);
		step(&r, f, g.buf, g.len, m);
	}
}

/* ---- Phase 2: threads ---- */

struct worker {
	pthread_t thread;
	struct rng r;
	unsigned long n, writes, bad, reads, malformed, pwrites, parms;
	int fds[MAX_FILES];
	char first[400];
	bool reader;
	bool done;
};

static int hot_file = -1;
static int stop_readers;

static void note(struct worker *w, const char *fmt, ...) __printf(2, 3);

static void note(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->first, sizeof(w->first), fmt, ap);
	va_end(ap);
}

/* A snapshot is lines of printable ASCII, ending with a newline. */
static bool well_formed(const char *s, size_t n)
{
	size_t i;

	if (!n || s[n - 1] != '\n')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != '\n' && (s[i] < 0x20 || s[i] > 0x7e))
			return false;
	return true;
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	char buf[READ_MAX];
	struct file *f;
	ssize_t n;

	while (!__atomic_load_n(&stop_readers, __ATOMIC_RELAXED)) {
		f = &files[below(&w->r, nfiles)];
		n = mmrace_read_chunks(f->path, buf, sizeof(buf),
				       1 + below(&w->r, 16));
		w->reads++;
		/* Readers alongside the writers, not instead of them. */
		usleep(200);
		if (n < 0 || !well_formed(buf, n)) {
			w->malformed++;
			note(w, "%s read %zd: '%s'", f->rel, n,
			     n > 0 ? buf : "");
		}
	}
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *writer_main(void *arg)
{
	struct worker *w = arg;
	char esc[200];
	struct expect e;
	struct file *f;
	struct gen g;
	enum wmode m;
	int ret, i;

	for (; w->writes < w->n; w->writes++) {
		i = __atomic_load_n(&hot_file, __ATOMIC_RELAXED);
		if (i < 0 || chance(&w->r, 50))
			i = below(&w->r, nfiles);
		f = &files[i];
		if (w->fds[i] < 0)
			w->fds[i] = open(f->path, O_RDWR | O_CLOEXEC);
		gen_input(&w->r, f, &g);
		make_safe(&w->r, f, &g);
		m = pick_mode(&w->r, g.len);
		model(f, g.buf, g.len, m, &e);
		ret = do_write(w->fds[i], f->path, &w->r, g.buf, g.len, m);
		if (ret == NOT_WRITTEN)
			continue;
		if (profile_kind(f->kind)) {
			w->pwrites++;
			w->parms += !ret && e.effect == E_P_ARM;
		}
		if ((e.v == ACCEPT && ret) || (e.v == REJECT && ret != -e.err) ||
		    (e.v == EITHER && e.err && ret && ret != -e.err)) {
			w->bad++;
			escape(g.buf, g.len, esc, sizeof(esc));
			note(w, "%s '%s' to %s: %s, expected %s", wmode_names[m],
			     esc, f->rel, ret ? strerror(-ret) : "accepted",
			     e.v == ACCEPT ? "accepted" : strerror(e.err));
		}
		/* Every thread on the same file for a while. */
		if (!below(&w->r, 1000))
			__atomic_store_n(&hot_file, below(&w->r, nfiles),
					 __ATOMIC_RELAXED);
	}
	for (i = 0; i < nfiles; i++)
		if (w->fds[i] >= 0)
			close(w->fds[i]);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Joins @t within @deadline (CLOCK_REALTIME); false if it is stuck. */
static bool join_by(pthread_t t, const struct timespec *deadline)
{
	return pthread_timedjoin_np(t, NULL, deadline) == 0;
}

static void deadline_in(struct timespec *ts, unsigned int s)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += s;
}

/* ---- Setup ---- */

static void add_file(const char *path, const char *rel, const struct stat *s)
{
	struct file *f;
	char wname[64], fname[64];
	unsigned int i;

	if (nfiles == MAX_FILES)
		return;
	f = &files[nfiles++];
	snprintf(f->path, sizeof(f->path), "%s", path);
	snprintf(f->rel, sizeof(f->rel), "%s", rel);
	f->mode = s->st_mode & 07777;
	f->kind = K_UNKNOWN;
	f->win = -1;
	for (i = 0; i < ARRAY_SIZE(top_files); i++)
		if (!strcmp(rel, top_files[i].rel))
			f->kind = top_files[i].kind;
	if (sscanf(rel, "windows/%63[^/]/%63s", wname, fname) == 2) {
		f->win = find_window(wname);
		if (f->win < 0 && nwindows < MAX_WINDOWS) {
			f->win = nwindows++;
			snprintf(windows[f->win].name,
				 sizeof(windows[f->win].name), "%s", wname);
		}
		for (i = 0; i < ARRAY_SIZE(window_files); i++)
			if (!strcmp(fname, window_files[i].name))
				f->kind = window_files[i].kind;
		if (f->kind == K_UNKNOWN)
			f->win = -1;
	}
}

static void walk(const char *dir, const char *rel)
{
	char path[PATH_MAX], r[PATH_MAX];
	struct dirent *d;
	struct stat s;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "",
			 d->d_name);
		if (lstat(path, &s))
			continue;
		if (S_ISDIR(s.st_mode))
			walk(path, r);
		else if (S_ISREG(s.st_mode))
			add_file(path, r, &s);
	}
	closedir(dp);
}

static mode_t documented_mode(const struct file *f)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(top_files); i++)
		if (f->kind == top_files[i].kind)
			return top_files[i].mode;
	for (i = 0; i < ARRAY_SIZE(window_files); i++)
		if (f->kind == window_files[i].kind)
			return window_files[i].mode;
	return 0;
}

/* The phases, from "a [b] c": what `phase` lists. */
/* Between the phases of a phase file's reading. */
#define PHASE_SEP "\n "

/*
 * The phases from the phase file's default reading, "[a] [b] c": all of
 * them, and in brackets those this kernel has ("all", the default).
 */
static void read_phases(struct window *w, const char *s)
{
	char copy[512], *t, *save;

	snprintf(copy, sizeof(copy), "%s", s);
	for (t = strtok_r(copy, PHASE_SEP, &save); t && w->nphases < MAX_PHASES;
	     t = strtok_r(NULL, PHASE_SEP, &save)) {
		if (t[0] == '[') {
			w->present |= 1u << w->nphases;
			t++;
			t[strcspn(t, "]")] = '\0';
		}
		snprintf(w->phases[w->nphases++], sizeof(w->phases[0]), "%s", t);
	}
}

/* Scenario names from typestate/run's listing ("# NAME: what"). */
static void read_scenarios(const char *s)
{
	char name[64];
	const char *line;

	for (line = s; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (sscanf(line, "# %63[a-z0-9_]:", name) == 1 &&
		    !is_scenario(name) && nscenarios < 32)
			snprintf(scenarios[nscenarios++], sizeof(scenarios[0]),
				 "%s", name);
	}
}

static bool documented_present(void)
{
	unsigned int i, j;
	int w;
	bool ok = true;

	for (i = 0; i < ARRAY_SIZE(top_files); i++) {
		for (j = 0; j < (unsigned int)nfiles; j++)
			if (files[j].kind == top_files[i].kind)
				break;
		if (j == (unsigned int)nfiles) {
			ksft_print_msg("missing: %s\n", top_files[i].rel);
			ok = false;
		}
	}
	for (w = 0; w < nwindows; w++) {
		for (i = 0; i < ARRAY_SIZE(window_files); i++) {
			if (window_files[i].kind == K_PHASE)
				continue;	/* only with several phases */
			if (!file_of(w, window_files[i].kind)) {
				ksft_print_msg("missing: windows/%s/%s\n",
					       windows[w].name,
					       window_files[i].name);
				ok = false;
			}
		}
	}
	return ok && nwindows > 0;
}

/*
 * The profile's files read their documented defaults; which windows `all`
 * lists, and in what order (the module's), is learnt from profile/windows.
 */
static bool profile_documented(void)
{
	static const struct {
		enum kind kind;
		const char *def;
	} defs[] = {
		{ K_P_ENABLE, "0\n" }, { K_P_PID, "-1\n" },
		{ K_P_PROBABILITY, "10\n" }, { K_P_MAX_DELAY_US, "1000\n" },
		{ K_P_SEED, "0\n" },
		{ K_P_ADVERSARIES, "migrate,pageout,split,compact,evict,freeze\n" },
	};
	struct file *f = file_of(-1, K_P_WINDOWS);
	const char *all = f ? f->def : "";
	char copy[READ_MAX], want[1024], *t, *save;
	unsigned int i, seen = 0;
	bool ok = true;
	int w;

	snprintf(copy, sizeof(copy), "%s", all);
	for (t = strtok_r(copy, ",\n", &save); t;
	     t = strtok_r(NULL, ",\n", &save)) {
		w = find_window(t);
		if (w < 0 || (seen & (1u << w)))
			break;
		seen |= 1u << w;
		worder[nworder++] = w;
	}
	if (t || seen != all_windows()) {
		ksft_print_msg("profile/windows reads '%.*s', not every window once\n",
			       (int)strcspn(all, "\n"), all);
		ok = false;
	}
	profile_defaults();
	for (i = 0; i < ARRAY_SIZE(defs); i++) {
		f = file_of(-1, defs[i].kind);
		if (f && strcmp(f->def, defs[i].def)) {
			ksft_print_msg("%s reads '%.*s' after a reset, not '%.*s'\n",
				       f->rel, (int)strcspn(f->def, "\n"),
				       f->def, (int)strcspn(defs[i].def, "\n"),
				       defs[i].def);
			ok = false;
		}
	}
	render_state(want, sizeof(want));
	f = file_of(-1, K_P_STATE);
	if (f && strcmp(f->def, want)) {
		ksft_print_msg("profile/state reads '%s' after a reset, not '%s'\n",
			       oneline(f->def, copy, 256),
			       oneline(want, copy + 256, 256));
		ok = false;
	}
	return ok;
}

int main(int argc, char **argv)
{
	unsigned long n1 = 70000, n2 = 8000, twrites = 0, treads = 0;
	unsigned long tbad = 0, tmalformed = 0, taint_before, taint_after;
	struct worker workers[THREADS + 1];
	char buf[READ_MAX];
	struct timespec dl;
	bool modes_ok = true, joined = true, prof_ok;
	unsigned long pwrites = 0, parms = 0;
	uint64_t seed;
	double t0, t1, t2;
	int loaded, i, opt, unknown = 0, bad;
	struct file *f;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (getenv("MMRACE_FUZZ_SEED"))
		seed = strtoull(getenv("MMRACE_FUZZ_SEED"), NULL, 0);
	while ((opt = getopt(argc, argv, "s:n:c:")) != -1) {
		if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'n')
			n1 = strtoul(optarg, NULL, 0);
		else if (opt == 'c')
			n2 = strtoul(optarg, NULL, 0);
	}

	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	ksft_set_plan(11);
	ksft_print_msg("seed %#llx (rerun with -s %#llx or MMRACE_FUZZ_SEED)\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	taint_before = mmrace_tainted();
	mypid = getpid();
	page_size = sysconf(_SC_PAGESIZE);
	if (mmrace_read("/proc/sys/vm/mmap_min_addr", buf, sizeof(buf)) > 0)
		mmap_min = strtoul(buf, NULL, 10);
	present = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	absent = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	guard = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (present == MAP_FAILED || absent == MAP_FAILED ||
	    guard == MAP_FAILED || mprotect(guard + page_size, page_size,
					    PROT_NONE))
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(present, 0x5a, 4 * page_size);
	mlock(present, 4 * page_size);

	/* The tree, at its defaults. */
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	walk(MMRACE_DEBUGFS, "");
	for (i = 0; i < nfiles; i++) {
		f = &files[i];
		f->fd = open(f->path, O_RDWR | O_CLOEXEC);
		if (f->fd < 0)
			ksft_exit_fail_msg("open %s: %s\n", f->rel,
					   strerror(errno));
		snap(f->fd, buf);
		f->def = strdup(buf);
		if (f->kind == K_PHASE)
			read_phases(&windows[f->win], buf);
		if (f->kind == K_RUN)
			read_scenarios(buf);
		if (f->kind == K_UNKNOWN) {
			unknown++;
			ksft_print_msg("%s: not in debugfs.rst; only written what every file rejects\n",
				       f->rel);
		}
		if ((f->mode & 077) ||
		    (f->kind != K_UNKNOWN && f->mode != documented_mode(f))) {
			modes_ok = false;
			ksft_print_msg("%s has mode %04o\n", f->rel, f->mode);
		}
	}
	for (i = 0; i < nwindows; i++) {
		/* Windows with one phase have no file: "all" is their one. */
		f = file_of(i, K_ENABLE);
		windows[i].armable = f && !mmrace_write(f->path, "1");
		if (f && !windows[i].armable)
			ksft_print_msg("%s cannot be armed here (%s): '1' to its enable is not checked\n",
				       windows[i].name, strerror(errno));
	}
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	ksft_print_msg("%d files (%d unknown) in %d windows, at the top and in profile/\n",
		       nfiles, unknown, nwindows);
	prof_ok = profile_documented();
	ksft_test_result(documented_present() && prof_ok,
			 "tree: %d files under %s, every documented file present, the profile's at their defaults\n",
			 nfiles, MMRACE_DEBUGFS);
	ksft_test_result(modes_ok,
			 "modes as documented, nothing for group or others\n");

	/* Phase 1. */
	prof.known = true;
	t0 = now_s();
	phase1(seed, n1);
	t1 = now_s();
	ksft_print_msg("phase 1: %lu writes in %.1f s: %lu accepted, %lu rejected, %lu either way; %lu arms, %lu resets, %lu windows defined\n",
		       st.writes, t1 - t0, st.accepted, st.rejected, st.either,
		       st.arms, st.resets, st.defines);
	ksft_print_msg("phase 1: %lu arming writes took %.1f s, the others %.1f s\n",
		       st.slow, st.slow_s, st.fast_s);
	ksft_print_msg("phase 1: profile/: %lu writes, %lu accepted; %lu arms (%.2f s), %lu disarms; profile/state checked %lu times\n",
		       st.pwrites, st.paccepted, st.parms, st.parm_s,
		       st.pdisarms, st.pstates);
	ksft_test_result(!st.verdict_bad,
			 "single-threaded: every write accepted or rejected as documented (%lu wrong)\n",
			 st.verdict_bad);
	ksft_test_result(!st.errno_bad && !st.unchanged_bad,
			 "single-threaded: every rejected write failed with its errno (%lu wrong) and changed nothing (%lu changed)\n",
			 st.errno_bad, st.unchanged_bad);
	ksft_test_result(!st.roundtrip_bad,
			 "single-threaded: every accepted write reads back (%lu did not)\n",
			 st.roundtrip_bad);
	ksft_test_result(st.tiny_reads && !st.tiny_bad,
			 "%lu reads with 1- to 8-byte buffers match a whole read (%lu did not)\n",
			 st.tiny_reads, st.tiny_bad);

	/* Phase 2: the profile is no longer known, only the syntax. */
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	prof.known = false;
	memset(workers, 0, sizeof(workers));
	for (i = 0; i <= THREADS; i++) {
		workers[i].r.s = seed + 1 + i;
		workers[i].n = n2;
		workers[i].reader = i == THREADS;
		memset(workers[i].fds, -1, sizeof(workers[i].fds));
		pthread_create(&workers[i].thread, NULL,
			       workers[i].reader ? reader_main : writer_main,
			       &workers[i]);
	}
	/*
	 * A bound far above the time the writes take: 300 s for them all
	 * (72.7 s on the debug kernel under TCG, 2026-12-02, when a bound of
	 * 60 s for the first thread failed the run). A thread really stuck in
	 * the module also trips the hung-task detector.
	 */
	deadline_in(&dl, 300);
	for (i = 0; i < THREADS; i++)
		joined &= join_by(workers[i].thread, &dl);
	__atomic_store_n(&stop_readers, 1, __ATOMIC_RELAXED);
	deadline_in(&dl, 10);
	joined &= join_by(workers[THREADS].thread, &dl);
	t2 = now_s();
	for (i = 0; i <= THREADS; i++) {
		twrites += workers[i].writes;
		treads += workers[i].reads;
		tbad += workers[i].bad;
		tmalformed += workers[i].malformed;
		pwrites += workers[i].pwrites;
		parms += workers[i].parms;
		if (workers[i].first[0])
			ksft_print_msg("thread %d: %s\n", i, workers[i].first);
	}
	ksft_print_msg("phase 2: %lu writes by %d threads and %lu reads in %.1f s\n",
		       twrites, THREADS, treads, t2 - t1);
	ksft_print_msg("phase 2: profile/: %lu writes, %lu arms\n", pwrites,
		       parms);
	ksft_test_result(joined && !tbad,
			 "concurrent: %lu writes by %d threads accepted or rejected as documented (%lu wrong), all joined\n",
			 twrites, THREADS, tbad);
	ksft_test_result(treads && !tmalformed,
			 "concurrent: %lu tiny-buffer reads all well formed (%lu not)\n",
			 treads, tmalformed);
	if (!joined)
		ksft_exit_fail_msg("threads stuck in the module\n");

	undefine_all();
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	bad = check_defaults(true);
	ksft_test_result(!bad, "after a reset every file reads its default again (%d do not)\n",
			 bad);

	ksft_print_msg("writes fuzzed: %lu (%lu single-threaded, %lu concurrent) in %.1f s\n",
		       st.writes + twrites, st.writes, twrites, t2 - t0);
	ksft_test_result(st.writes + twrites >= 100000,
			 "at least 100000 writes (%lu)\n", st.writes + twrites);

	taint_after = mmrace_tainted();
	ksft_print_msg("tainted: %#lx before, %#lx after\n", taint_before,
		       taint_after);
	ksft_test_result(!((taint_after & ~taint_before) & MMRACE_BAD_TAINT),
			 "no warning (W), oops (D), bad page (B) or lockup (L) taint\n");

	for (i = 0; i < nfiles; i++)
		close(files[i].fd);
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
