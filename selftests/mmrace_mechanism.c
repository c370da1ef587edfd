// SPDX-License-Identifier: GPL-2.0
/*
 * How the windows' probes reach their sites: every line of every built-in
 * window's "sites" names its mechanism; on a kernel whose function tracer
 * can host kprobes (the test kernel), each kprobe site at a function's entry
 * of a function ftrace can trace (a kretprobe's entry too) rides ftrace, in
 * "sites" and in kprobes/list ([FTRACE]) once armed, and elsewhere (lib/,
 * built without ftrace calls: xas_load; a kernel without the tracer) it
 * is an int3 kprobe; and a caller-filtered return site riding ftrace
 * still recognizes its caller (the return address its entry reads): a
 * window defined on filemap_get_entry()'s return for the shmem callers
 * sees this process's reads of a memfd, one for filemap_fault() none.
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
static bool site_ok(const char *window, char *line, bool ftrace)
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
	} else {
		char sym[128];

		/* lib/ (xas_load, xas_find) is built without ftrace calls. */
		if (sscanf(line, "%*[^:]: %127[^:+]", sym) != 1)
			sym[0] = '\0';
		want = ftrace && ftrace_has(sym) ? "ftrace" : "int3";
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

int main(void)
{
	char path[256], buf[4096], *line, *save, pbuf[64];
	struct mmrace_stats s, other;
	struct race_page p;
	bool ftrace, ok = true;
	unsigned int i, lines = 0;
	int ret;

	ksft_print_header();
	ret = mmrace_get();
	if (ret < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-ret));
	ksft_set_plan(3);
	ftrace = ftrace_has("try_grab_folio_fast");
	ksft_print_msg("kernel %s a function tracer for kprobes\n",
		       ftrace ? "has" : "lacks");

	for (i = 0; i < ARRAY_SIZE(builtin); i++) {
		snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s/sites",
			 builtin[i]);
		if (mmrace_read(path, buf, sizeof(buf)) <= 0)
			ksft_exit_fail_msg("%s unreadable\n", path);
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save), lines++)
			ok = site_ok(builtin[i], line, ftrace) && ok;
	}
	ksft_test_result(ok && lines, "%u sites name their mechanism: ftrace at the entry of functions ftrace can trace, int3 elsewhere\n",
			 lines);

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
	ksft_test_result(listed_as_expected("try_grab_folio_fast") &&
			 listed_as_expected("xas_load"),
			 "armed kretprobes on try_grab_folio_fast (%s) and xas_load (%s) in kprobes/list\n",
			 ftrace_has("try_grab_folio_fast") ? "[FTRACE]" : "int3",
			 ftrace_has("xas_load") ? "[FTRACE]" : "int3");

	/*
	 * Caller filters on ftrace: defined return windows on
	 * filemap_get_entry() (mm/filemap.c: traceable), one for the caller
	 * a shmem read has, one for a caller it never has. Zero-length
	 * windows, this process only: each read enters the first (its
	 * entry's caller check matched) and never the second.
	 */
	mmrace_control("reset");
	ret = mmrace_write(DEFINE, "r:mech_shmem filemap_get_entry<-shmem_get_folio_gfp|shmem_get_folio folio=$retval");
	if (!ret)
		ret = mmrace_write(DEFINE, "r:mech_fault filemap_get_entry<-filemap_fault folio=$retval");
	if (ret)
		ksft_exit_fail_msg("cannot define: %s\n", strerror(-ret));
	for (i = 0; i < 2; i++) {
		const char *w = i ? "mech_fault" : "mech_shmem";

		if (win_set(w, "pid", "%d", getpid()) ||
		    win_set(w, "enable", "1"))
			ksft_exit_fail_msg("cannot arm %s\n", w);
	}
	snprintf(path, sizeof(path), MMRACE_WINDOWS "/mech_shmem/sites");
	if (mmrace_read(path, buf, sizeof(buf)) <= 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	ksft_print_msg("mech_shmem: %s\n", buf);
	for (i = 0; i < READS; i++)
		if (pread(p.memfd, pbuf, sizeof(pbuf), 0) != sizeof(pbuf))
			ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	win_stats("mech_shmem", &s);
	win_print("mech_shmem", "after the reads", &s);
	win_stats("mech_fault", &other);
	win_print("mech_fault", "after the reads", &other);
	ksft_test_result(s.entered - s.filtered_out >= READS &&
			 other.entered == 0 &&
			 (!ftrace_has("filemap_get_entry") ||
			  strstr(buf, "[ftrace]")),
			 "filemap_get_entry:return<-shmem_get_folio_gfp|shmem_get_folio (%s) saw %d reads (entered %llu, filtered out %llu), <-filemap_fault none (entered %llu)\n",
			 strstr(buf, "[ftrace]") ? "ftrace" : "int3", READS,
			 (unsigned long long)s.entered,
			 (unsigned long long)s.filtered_out,
			 (unsigned long long)other.entered);
	mmrace_write(DEFINE, "-:mech_shmem");
	mmrace_write(DEFINE, "-:mech_fault");
	mmrace_control("reset");
	race_page_free(&p);
	ksft_finished();
}
