// SPDX-License-Identifier: GPL-2.0
/*
 * windows/define: windows defined at run time (debugfs.rst).
 *
 * 1. The grammar: every bad definition is refused with its errno and
 *    changes nothing (the listing and the windows/ directory are as
 *    before).
 * 2. A window at a site no built-in window has (folio_mark_accessed(), a
 *    shmem pread's) with a pfn filter and a delay opens on the page
 *    (entered, delayed > 0); the same site fetching a register (%di), a
 *    tracepoint window and a return-probe window open on it too. SKIP, not pass, when the workload never reached it.
 * 3. Wrong claims (vfs_read()'s count claimed a page, its file a folio)
 *    are counted as invalid and never used: entered stays 0, no oops.
 * 4. Removal: refused while a window waits for it, then its directory
 *    goes; 64 windows at most (ENOSPC).
 * 5. Unloading with defined windows armed leaves no probe behind.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define DEFINE MMRACE_WINDOWS "/define"
#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's: no CONFIG_DEBUG_PAGE_REF */
#endif
#define LIST_MAX 32768

static char before[LIST_MAX], after[LIST_MAX];

static int define(const char *line)
{
	return mmrace_write(DEFINE, line);
}

static bool dir_exists(const char *name)
{
	char path[256];
	struct stat s;

	snprintf(path, sizeof(path), MMRACE_WINDOWS "/%s", name);
	return !stat(path, &s) && S_ISDIR(s.st_mode);
}

static bool listed(const char *line)
{
	static char buf[LIST_MAX];
	char want[300];

	if (mmrace_read(DEFINE, buf, sizeof(buf)) < 0)
		return false;
	snprintf(want, sizeof(want), "%s\n", line);
	return strstr(buf, want) != NULL;
}

static const struct {
	const char *line;
	int err;
} bad[] = {
	{ "p:Bad folio_mark_accessed folio=$arg1", EINVAL },
	{ "p: folio_mark_accessed folio=$arg1", EINVAL },
	{ "p:a23456789012345678901234567890123 folio_mark_accessed folio=$arg1", EINVAL },
	{ "p:x folio_mark_accessed", EINVAL },
	{ "p:x folio_mark_accessed struct=$arg1", EINVAL },
	{ "p:x folio_mark_accessed folio=$arg7", EINVAL },
	{ "p:x folio_mark_accessed folio=$arg01", EINVAL },
	{ "p:x folio_mark_accessed folio=$retval", EINVAL },
	{ "p:x folio_mark_accessed folio=%xyz", EINVAL },
	{ "p:x folio_mark_accessed+8 folio=$arg1", EINVAL },
	{ "r:x folio_mark_accessed folio=$arg1", EINVAL },
	{ "r:x folio_mark_accessed+4 folio=$retval", EINVAL },
	{ "t:x page_ref_mod_unless", EINVAL },
	{ "t:x page_ref_bogus<-filemap_get_entry", EINVAL },
	{ "q:x folio_mark_accessed page=$arg1", EINVAL },
	{ "p:x folio_mark_accessed folio=$arg1 extra", EINVAL },
	{ "p:x folio_mark_accessed<-a|b|c|d|e|f|g folio=$arg1", EINVAL },
	{ "p:x folio/mark page=$arg1", EINVAL },
	{ "-:x extra", EINVAL },
	{ "-:migrate_freeze", EINVAL },
	{ "-:nosuch", ENOENT },
	{ "p:x mmrace_no_such_function page=$arg1", ENOENT },
	{ "p:x folio_mark_accessed<-mmrace_no_such_caller folio=$arg1", ENOENT },
	{ "p:migrate_freeze folio_mark_accessed folio=$arg1", EEXIST },
	/* On the kprobe blacklist (NOKPROBE_SYMBOL). */
	{ "p:x get_kprobe page=$arg1", EINVAL },
};

static void grammar(void)
{
	unsigned int i, wrong = 0;
	int ret;

	mmrace_read(DEFINE, before, sizeof(before));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = define(bad[i].line);
		mmrace_read(DEFINE, after, sizeof(after));
		if (ret != -bad[i].err || strcmp(before, after) ||
		    dir_exists("x")) {
			ksft_print_msg("'%s': %s (want %s), listing %s\n",
				       bad[i].line, strerror(-ret),
				       strerror(bad[i].err),
				       strcmp(before, after) ? "changed" : "same");
			wrong++;
		}
	}
	ksft_test_result(!wrong,
			 "%zu bad definitions refused with their errno, nothing changed (%u wrong)\n",
			 ARRAY_SIZE(bad), wrong);
}

/* Arms @name for this process's page at @p->addr with @delay_us. */
static int arm(const char *name, const struct race_page *p,
	       const char *delay_us)
{
	int ret;

	ret = win_target(name, (void *)p->addr);
	if (!ret)
		ret = win_set(name, "delay_us", "%s", delay_us);
	if (!ret)
		ret = win_set(name, "enable", "1");
	return ret;
}

static void reads(struct race_page *p, int n)
{
	while (n--)
		side_read(p);
}

static void hit(void)
{
	struct mmrace_stats acc, reg, lookup, get;
	unsigned long moves = 0, preads = 0;
	struct race_page p;
	int ret, rr, rt, rg;

	ret = race_memfd_page(&p);
	if (ret)
		ksft_exit_fail_msg("no page: %s\n", strerror(-ret));
	ret = define("p:acc folio_mark_accessed folio=$arg1");
	if (ret)
		ksft_exit_fail_msg("defining acc: %s\n", strerror(-ret));
	ksft_test_result(dir_exists("acc") &&
			 listed("p:acc folio_mark_accessed folio=$arg1"),
			 "acc defined: windows/acc/ made, listed in the grammar\n");
	rr = define("p:accreg folio_mark_accessed folio=%di");
	rt = define("t:lookup page_ref_mod_unless<-filemap_get_entry|shmem_get_folio_gfp");
	rg = define("r:getent filemap_get_entry folio=$retval");
	ret = arm("acc", &p, "200");
	if (ret)
		ksft_exit_fail_msg("arming acc: %s\n", strerror(-ret));
	if (!rr)
		rr = arm("accreg", &p, "10");
	if (!rt)
		rt = arm("lookup", &p, "10");
	if (!rg)
		rg = arm("getent", &p, "10");
	if (race_nodes() >= 2 && sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		race_run(&p, side_read, side_migrate, 1000, &preads, &moves);
	else
		reads(&p, 2000), preads = 2000;
	win_stats("acc", &acc);
	win_stats("accreg", &reg);
	win_stats("lookup", &lookup);
	win_stats("getent", &get);
	ksft_print_msg("%lu preads, %lu move_pages\n", preads, moves);
	win_print("acc", "p: folio_mark_accessed, target, 200 us", &acc);
	if (acc.delayed == 0)
		ksft_test_result_skip("acc never opened on the target page (entered %llu): the workload did not reach folio_mark_accessed\n",
				      (unsigned long long)acc.entered);
	else
		ksft_test_result(acc.delayed > 0 && acc.invalid == 0 &&
				 acc.max_delay_ns >= 200000,
				 "acc opened %llu times on the target page (hits %llu, longest %llu ns, invalid %llu)\n",
				 (unsigned long long)acc.delayed,
				 (unsigned long long)acc.hits,
				 (unsigned long long)acc.max_delay_ns,
				 (unsigned long long)acc.invalid);
	if (rr)
		ksft_test_result_fail("p:accreg (folio=%%di) not defined or armed: %s\n",
				      strerror(-rr));
	else if (reg.delayed == 0)
		ksft_test_result_skip("p:accreg never opened on the page (entered %llu)\n",
				      (unsigned long long)reg.entered);
	else
		ksft_test_result(reg.invalid == 0,
				 "p:accreg (folio=%%di) opened %llu times on the page (invalid %llu)\n",
				 (unsigned long long)reg.delayed,
				 (unsigned long long)reg.invalid);
	if (rt == -ENOTSUPP || rt == -EOPNOTSUPP)
		ksft_test_result_skip("t:lookup not armable here: %s\n",
				      strerror(-rt));
	else if (rt)
		ksft_test_result_fail("t:lookup: define or arm failed: %s\n",
				      strerror(-rt));
	else if (lookup.delayed == 0)
		ksft_test_result_skip("t:lookup never fired on the page (entered %llu)\n",
				      (unsigned long long)lookup.entered);
	else
		ksft_test_result(lookup.delayed > 0,
				 "t:lookup (page_ref_mod_unless) opened %llu times on the page\n",
				 (unsigned long long)lookup.delayed);
	if (rg == -ENOTSUPP || rg == -EOPNOTSUPP)
		ksft_test_result_skip("r:getent not armable here: %s\n",
				      strerror(-rg));
	else if (rg)
		ksft_test_result_fail("r:getent: define or arm failed: %s\n",
				      strerror(-rg));
	else if (get.delayed == 0)
		ksft_test_result_skip("r:getent never returned the page (entered %llu, invalid %llu)\n",
				      (unsigned long long)get.entered,
				      (unsigned long long)get.invalid);
	else
		ksft_test_result(get.delayed > 0,
				 "r:getent ($retval) opened %llu times on the page (invalid %llu: shadow entries)\n",
				 (unsigned long long)get.delayed,
				 (unsigned long long)get.invalid);
	race_page_free(&p);
}

static void wrong_claims(void)
{
	struct mmrace_stats a, b;
	struct race_page p;
	int ret;

	ret = race_memfd_page(&p);
	if (ret)
		ksft_exit_fail_msg("no page: %s\n", strerror(-ret));
	/* vfs_read(file, buf, count, pos): count (64) is no page, file no folio. */
	ret = define("p:badint vfs_read page=$arg3");
	if (!ret)
		ret = define("p:badptr vfs_read folio=$arg1");
	if (!ret)
		ret = win_set("badint", "pid", "%d", getpid());
	if (!ret)
		ret = win_set("badptr", "pid", "%d", getpid());
	if (!ret)
		ret = win_set("badint", "enable", "1");
	if (!ret)
		ret = win_set("badptr", "enable", "1");
	if (ret) {
		ksft_test_result_fail("cannot define or arm vfs_read windows: %s\n",
				      strerror(-ret));
		race_page_free(&p);
		return;
	}
	reads(&p, 500);
	win_stats("badint", &a);
	win_stats("badptr", &b);
	win_print("badint", "page=$arg3 of vfs_read", &a);
	win_print("badptr", "folio=$arg1 of vfs_read", &b);
	ksft_test_result(a.invalid >= 500 && b.invalid >= 500 &&
			 a.entered == 0 && b.entered == 0,
			 "wrong claims counted invalid and never used (invalid %llu and %llu, entered %llu and %llu)\n",
			 (unsigned long long)a.invalid,
			 (unsigned long long)b.invalid,
			 (unsigned long long)a.entered,
			 (unsigned long long)b.entered);
	race_page_free(&p);
}

static void removal(void)
{
	char name[64];
	int ret, n, busy, err = 0;

	/* A window waiting for acc keeps it. */
	win_set("pagecache_pre_grab", "wait_for", "acc");
	busy = define("-:acc");
	win_set("pagecache_pre_grab", "wait_for", "none");
	ret = define("-:acc");
	ksft_test_result(busy == -EBUSY && dir_exists("acc") == false && !ret &&
			 !listed("p:acc folio_mark_accessed folio=$arg1"),
			 "-:acc refused while waited for (%s), then removed with its directory (%s)\n",
			 strerror(-busy), strerror(-ret));

	/* Fill the table. */
	for (n = 0; n < 64; n++) {
		snprintf(name, sizeof(name), "p:fill%d folio_mark_accessed folio=$arg1", n);
		err = define(name);
		if (err)
			break;
	}
	ksft_test_result(err == -ENOSPC && dir_exists("fill0"),
			 "the table filled after %d more windows (%s)\n", n,
			 strerror(-err));
	while (n--) {
		snprintf(name, sizeof(name), "-:fill%d", n);
		define(name);
	}
	ksft_test_result(!dir_exists("fill0") && !define("p:again folio_mark_accessed folio=$arg1") &&
			 !define("-:again"),
			 "their slots are free again\n");
}

int main(void)
{
	bool was_loaded = mmrace_loaded();
	int ret, tries;

	ksft_print_header();
	if (was_loaded && mmrace_unload())
		ksft_exit_skip("mmrace is loaded and busy\n");
	ret = mmrace_load();
	if (ret)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-ret));
	if (access(DEFINE, W_OK))
		ksft_exit_fail_msg("no %s\n", DEFINE);
	ksft_set_plan(11);

	grammar();
	hit();
	wrong_claims();
	removal();

	/* Unload with defined windows (lookup, getent, badint...) armed. */
	win_set("badint", "enable", "1");
	for (tries = 0; tries < 100; tries++) {
		ret = mmrace_unload();
		if (ret != -EAGAIN && ret != -EBUSY)
			break;
		usleep(100000);
	}
	ksft_test_result(!ret && !hook_listed("vfs_read") &&
			 !hook_listed("filemap_get_entry"),
			 "unloaded with defined windows armed, no probe left (%s)\n",
			 strerror(-ret));
	if (was_loaded)
		mmrace_load();
	ksft_finished();
}
