// SPDX-License-Identifier: GPL-2.0
/*
 * How the windows' probes reach their sites: every line of every built-in
 * window's "sites" names its mechanism. On a kernel with ftrace direct
 * calls (the test kernel), a site at the entry of a function ftrace can
 * trace is a direct call of mmrace's trampoline, and so is the return of
 * try_grab_folio_fast() (its arguments travel in registers): armed, it is
 * listed in tracefs enabled_functions ("direct-->mmrace_direct_stub"), not
 * in kprobes/list. A return site with callers (xas_load()'s and
 * xas_find()'s into the page-cache lookups) is a kprobe right after each
 * call of the function in those callers ("callsite": kprobes/list shows
 * them at caller+offset, nothing on xas_load itself; "sites" gives the
 * number of calls; without calls in the callers, as fault-around's on the
 * debug kernel, a kretprobe). Another return site
 * of a traceable function is a kretprobe riding ftrace ([FTRACE] in
 * kprobes/list); elsewhere (lib/, built without ftrace calls; a kernel
 * without the tracer) a probe is an int3 kprobe. Caller filters hold on
 * both kinds: a window defined on filemap_get_entry()'s return for the
 * shmem callers (its call sites there) and one on folio_mark_accessed()'s
 * entry for shmem_file_read_iter() (a direct call, its caller read from
 * the trampoline's frame) see this process's reads of a memfd, the same
 * for other callers none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define READS 200
#define DEFINE MMRACE_WINDOWS "/define"

/* Windows whose probes the glue filters by page, one per mechanism. */
static const char * const filtered[] = {
	"gup_fast_pre_grab", "gup_fast_post_grab", "pagecache_pre_grab",
	"pagecache_post_grab",
};

static const char * const builtin[] = {
	"gup_fast_pre_grab", "gup_fast_post_grab", "migrate_freeze",
	"compact_isolate", "pagecache_pre_grab", "pagecache_post_grab",
};

/* Whether ftrace can trace @symbol: it is in available_filter_functions. */
static bool ftrace_has(const char *symbol)
{
	static const char * const paths[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	char line[256];
	size_t n = strlen(symbol);
	unsigned int i;
	bool found = false;

	for (i = 0; i < ARRAY_SIZE(paths) && !found; i++) {
		FILE *f = fopen(paths[i], "r");

		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f))
			found = !strncmp(line, symbol, n) &&
				(line[n] == '\n' || line[n] == ' ');
		fclose(f);
	}
	return found;
}

/* Checks one "PHASE: SITE [MECHANISM]" line; false with a message if bad. */
static bool site_ok(const char *window, char *line, bool ftrace,
		    bool direct)
{
	char *l = strrchr(line, '['), *r = strrchr(line, ']');
	const char *want;

	if (!l || !r || r < l || r[1]) {
		ksft_print_msg("%s: no mechanism in '%s'\n", window, line);
		return false;
	}
	ksft_print_msg("%s: %s\n", window, line);
	*r = '\0';
	if (strstr(line, ": tracepoint:")) {
		want = "tracepoint";
	} else if (strstr(line, "+0x")) {
		want = "int3";	/* inside a function: no ftrace call there */
	} else if (strstr(line, ":return<-") && strstr(line, " call")) {
		/* "(N calls)": after each call in the callers. */
		want = "callsite";
	} else {
		/*
		 * Without calls in the callers (inlined, or more than eight:
		 * the debug kernel's fault-around), a kretprobe, its entry as
		 * any entry's.
		 */
		char sym[128];

		/* lib/ (xas_load, xas_find) is built without ftrace calls. */
		if (sscanf(line, "%*[^:]: %127[^:+]", sym) != 1)
			sym[0] = '\0';
		want = ftrace && ftrace_has(sym) ? "ftrace" : "int3";
		/* Entries, and try_grab_folio_fast's return, go direct. */
		if (!strcmp(want, "ftrace") && direct &&
		    (strstr(line, ":entry(arg") ||
		     strstr(line, ": try_grab_folio_fast:return")))
			want = "direct";
	}
	if (strcmp(l + 1, want)) {
		ksft_print_msg("... is %s, expected %s\n", l + 1, want);
		return false;
	}
	return true;
}

/*
 * Whether kprobes/list shows @symbol's probes on ftrace ([FTRACE]) if
 * ftrace can trace @symbol, and as int3 kprobes otherwise.
 */
static bool listed_as_expected(const char *symbol)
{
	bool ftrace = ftrace_has(symbol);
	static char buf[16384];
	char needle[128], *line, *save;
	bool any = false, all = true;

	if (mmrace_read("/sys/kernel/debug/kprobes/list", buf, sizeof(buf)) < 0)
		return false;
	snprintf(needle, sizeof(needle), " %s+", symbol);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, needle))
			continue;
		ksft_print_msg("kprobes/list: %s\n", line);
		any = true;
		all = all && !strstr(line, "[FTRACE]") == !ftrace;
	}
	return any && all;
}

/*
 * Whether kprobes/list shows the call sites of pagecache_pre_grab/loaded
 * (kprobes inside filemap_get_entry() or filemap_get_read_batch()) and
 * nothing on xas_load() itself.
 */
static bool call_sites_listed(void)
{
	static char buf[16384];
	char *line, *save;
	bool any = false, on_callee = false;

	if (mmrace_read("/sys/kernel/debug/kprobes/list", buf, sizeof(buf)) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, " filemap_get_entry+0x") ||
		    strstr(line, " filemap_get_read_batch+0x")) {
			ksft_print_msg("kprobes/list: %s\n", line);
			any = true;
		}
		if (strstr(line, " xas_load+")) {
			ksft_print_msg("kprobes/list: %s (on the callee)\n",
				       line);
			on_callee = true;
		}
	}
	return any && !on_callee;
}

/*
 * Caller filters: defines two windows (@in, whose caller a shmem read of
 * @p has, and @out, whose caller it never has), arms them for this
 * process with zero-length windows, reads @p READS times, and gives their
 * statistics in @in_s and @out_s and @in's first "sites" line in @site.
 * Each read enters @in (its caller check matched) and never @out.
 */
static bool caller_pair(struct race_page *p, const char *in, const char *out,
			struct mmrace_stats *in_s, struct mmrace_stats *out_s,
			char *site, size_t len)
{
	const char *defs[2] = { in, out };
	char names[2][32], path[256], buf[64];
	unsigned int i;

	mmrace_control("reset");
	for (i = 0; i < 2; i++) {
		/* "p:NAME ..." or "r:NAME ...": the name. */
		if (sscanf(defs[i], "%*c:%31s", names[i]) != 1 ||
		    mmrace_write(DEFINE, defs[i]) ||
		    win_set(names[i], "pid", "%d", getpid()) ||
		    win_set(names[i], "enable", "1")) {
			ksft_print_msg("cannot define or arm '%s'\n", defs[i]);
			return false;
		}
	}
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/sites", names[0]);
	if (mmrace_read(path, site, len) <= 0)
		site[0] = '\0';
	site[strcspn(site, "\n")] = '\0';
	ksft_print_msg("%s: %s\n", names[0], site);
	for (i = 0; i < READS; i++)
		if (pread(p->memfd, buf, sizeof(buf), 0) != sizeof(buf))
			ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	win_stats(names[0], in_s);
	win_print(names[0], "after the reads", in_s);
	win_stats(names[1], out_s);
	win_print(names[1], "after the reads", out_s);
	return true;
}

int main(void)
{
	char path[256], buf[4096], *line, *save;
	struct mmrace_stats s, other;
	struct race_page p, q;
	bool ftrace, direct, ok = true;
	unsigned int i, j, lines = 0;
	int ret;

	ksft_print_header();
	ret = mmrace_get();
	if (ret < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-ret));
	ksft_set_plan(6);
	ftrace = ftrace_has("try_grab_folio_fast");
	direct = ftrace && direct_calls_supported();
	ksft_print_msg("kernel %s a function tracer for kprobes, %s direct calls\n",
		       ftrace ? "has" : "lacks", direct ? "with" : "without");

	for (i = 0; i < ARRAY_SIZE(builtin); i++) {
		snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/sites",
			 builtin[i]);
		if (mmrace_read(path, buf, sizeof(buf)) <= 0)
			ksft_exit_fail_msg("%s unreadable\n", path);
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save), lines++)
			ok = site_ok(builtin[i], line, ftrace, direct) && ok;
	}
	ksft_test_result(ok && lines, "%u sites name their mechanism: %s at the entry of functions ftrace can trace, int3 elsewhere\n",
			 lines, direct ? "direct" : "ftrace");

	mmrace_control("reset");
	ret = race_memfd_page(&p);
	if (ret)
		ksft_exit_fail_msg("no page: %s\n", strerror(-ret));
	if (win_set("gup_fast_post_grab", "pid", "%d", getpid()) ||
	    win_set("gup_fast_post_grab", "enable", "1") ||
	    win_set("pagecache_pre_grab", "pid", "%d", getpid()) ||
	    win_set("pagecache_pre_grab", "phase", "loaded") ||
	    win_set("pagecache_pre_grab", "enable", "1"))
		ksft_exit_fail_msg("cannot arm\n");
	ksft_test_result((direct ? direct_listed("try_grab_folio_fast") &&
					   !kprobe_listed("try_grab_folio_fast") :
				  listed_as_expected("try_grab_folio_fast")) &&
			 call_sites_listed(),
			 "armed: try_grab_folio_fast's return %s, xas_load's return kprobes at its call sites in kprobes/list\n",
			 direct ? "a direct call in enabled_functions" :
			 ftrace_has("try_grab_folio_fast") ? "a kretprobe [FTRACE] in kprobes/list" :
			 "an int3 kretprobe in kprobes/list");

	/*
	 * Caller filters on call sites: defined return windows on
	 * filemap_get_entry(), one for the caller a shmem read has, one for
	 * a caller it never has. Zero-length windows, this process only:
	 * each read enters the first (the probe after its call in
	 * shmem_get_folio_gfp()) and never the second.
	 */
	ok = caller_pair(&p, "r:mech_shmem filemap_get_entry<-shmem_get_folio_gfp|shmem_get_folio folio=$retval",
			 "r:mech_fault filemap_get_entry<-filemap_fault folio=$retval",
			 &s, &other, buf, sizeof(buf));
	ksft_test_result(ok && s.entered - s.filtered_out >= READS &&
			 other.entered == 0 && strstr(buf, "[callsite]"),
			 "filemap_get_entry:return<-shmem_get_folio_gfp|shmem_get_folio (%s) saw %d reads (entered %llu, filtered out %llu), <-filemap_fault none (entered %llu)\n",
			 strstr(buf, "[callsite]") ? "callsite" :
			 strstr(buf, "[ftrace]") ? "ftrace" : "int3", READS,
			 (unsigned long long)s.entered,
			 (unsigned long long)s.filtered_out,
			 (unsigned long long)other.entered);
	mmrace_write(DEFINE, "-:mech_shmem");
	mmrace_write(DEFINE, "-:mech_fault");

	/*
	 * The same at an entry (a direct call where the kernel has them):
	 * shmem's read marks the folio accessed when it reads from offset 0,
	 * filemap_read() (other files) never for this memfd.
	 */
	ok = caller_pair(&p, "p:mech_acc folio_mark_accessed<-shmem_file_read_iter folio=$arg1",
			 "p:mech_accf folio_mark_accessed<-filemap_read folio=$arg1",
			 &s, &other, buf, sizeof(buf));
	ksft_test_result(ok && s.entered - s.filtered_out >= READS &&
			 other.entered == 0 &&
			 (!direct || (strstr(buf, "[direct]") &&
				      direct_listed("folio_mark_accessed"))),
			 "folio_mark_accessed:entry<-shmem_file_read_iter (%s) saw %d reads (entered %llu, filtered out %llu), <-filemap_read none (entered %llu)\n",
			 strstr(buf, "[direct]") ? "direct" :
			 strstr(buf, "[ftrace]") ? "ftrace" : "int3", READS,
			 (unsigned long long)s.entered,
			 (unsigned long long)s.filtered_out,
			 (unsigned long long)other.entered);

	/*
	 * The page filter the glue applies before the handler, on three
	 * mechanisms: gup_fast_pre_grab and gup_fast_post_grab (two users of
	 * one direct call, an entry and a return, both filtered at the
	 * entry),
	 * pagecache_pre_grab/loaded (a call site's return value, an xarray
	 * entry) and pagecache_post_grab (a tracepoint). With the target on
	 * another page, every GUP-fast and read of this page is turned away
	 * yet counted as entered and filtered out; with the target on this
	 * page, every one reaches the window.
	 */
	mmrace_control("reset");
	ret = race_memfd_page(&q);
	if (ret)
		ksft_exit_fail_msg("no second page: %s\n", strerror(-ret));
	ok = true;
	for (i = 0; i < 2; i++) {
		struct race_page *t = i ? &p : &q;
		unsigned int k;

		mmrace_control("reset");
		for (k = 0; k < ARRAY_SIZE(filtered); k++) {
			if (win_target(filtered[k], t->addr) ||
			    (!strcmp(filtered[k], "pagecache_pre_grab") &&
			     win_set(filtered[k], "phase", "loaded")) ||
			    win_set(filtered[k], "enable", "1"))
				ksft_exit_fail_msg("cannot arm %s\n", filtered[k]);
		}
		for (j = 0; j < READS; j++)
			if (side_gup_fast(&p) || side_read(&p))
				ksft_exit_fail_msg("GUP-fast or pread failed\n");
		for (k = 0; k < ARRAY_SIZE(filtered); k++) {
			win_stats(filtered[k], &s);
			ksft_print_msg("target on %s: %s entered %llu, filtered out %llu\n",
				       i ? "this page" : "another page",
				       filtered[k],
				       (unsigned long long)s.entered,
				       (unsigned long long)s.filtered_out);
			if (s.entered < READS ||
			    (i ? s.entered - s.filtered_out < READS :
				 s.filtered_out != s.entered))
				ok = false;
		}
	}
	ksft_test_result(ok, "page filter: with the target on another page, %d GUP-fasts and reads entered and filtered out in gup_fast_pre_grab and gup_fast_post_grab (direct), pagecache_pre_grab (return value) and pagecache_post_grab (tracepoint); on this page, all reach them\n",
			 READS);
	race_page_free(&q);
	mmrace_control("reset");
	mmrace_write(DEFINE, "-:mech_acc");
	mmrace_write(DEFINE, "-:mech_accf");
	ksft_test_result(!direct_listed("folio_mark_accessed"),
			 "undefined: no direct call left on folio_mark_accessed\n");
	mmrace_control("reset");
	race_page_free(&p);
	ksft_finished();
}
