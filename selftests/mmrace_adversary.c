// SPDX-License-Identifier: GPL-2.0
/*
 * The adversary files (debugfs.rst): a window's `adversary` setting, and
 * adversary/wait and adversary/job as the helper uses them: a wait with no
 * job times out (EAGAIN), `control reset` wakes a waiter, an opening
 * without a target counts a failure (EDESTADDRREQ), an opening with one
 * posts a job the wait takes and the job file shows (the target's process,
 * address and pfn), a `done` after the window closed counts in
 * adversary_after (not inside), disarming cancels a job and a late `done`
 * for it changes nothing; `zap`, done by the module's worker, unmaps the
 * page at the target while the window holds a read of it
 * (adversary_inside), the page's data kept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define ADV MMRACE_DEBUGFS "/adversary"
#define WINDOW "pagecache_pre_grab"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *waiter(void *arg)
{
	*(int *)arg = mmrace_write(ADV "/wait", "5000");
	return NULL;
}

int main(void)
{
	char buf[512], win[64], op[16], done[64], *end;
	unsigned long long seq, addr, pfn, wake_ns;
	unsigned long long failed;
	struct mmrace_stats s;
	int loaded, fd, ret, wret = 1, pid;
	pthread_t t;
	double t0;
	char *map;

	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	ksft_set_plan(12);
	mmrace_control("reset");

	mmrace_read(MMRACE_WINDOWS "/" WINDOW "/adversary", buf, sizeof(buf));
	ret = win_set(WINDOW, "adversary", "bogus");
	ksft_test_result(!strcmp(buf, "none\n") && ret == -EINVAL &&
			 !win_set(WINDOW, "adversary", "migrate") &&
			 mmrace_read(MMRACE_WINDOWS "/" WINDOW "/adversary", buf,
				     sizeof(buf)) > 0 && !strcmp(buf, "migrate\n"),
			 "adversary: none by default, migrate accepted, bogus rejected\n");

	t0 = now_s();
	ret = mmrace_write(ADV "/wait", "50");
	ksft_test_result(ret == -EAGAIN && now_s() - t0 < 2,
			 "wait with no job: EAGAIN after %.3f s (%s)\n",
			 now_s() - t0, strerror(-ret));

	mmrace_read(ADV "/job", buf, sizeof(buf));
	ksft_test_result(!strcmp(buf, "none\n") &&
			 !mmrace_write(ADV "/job", "done 12345 0") &&
			 mmrace_write(ADV "/job", "done 1 5") == -EINVAL &&
			 mmrace_write(ADV "/job", "done") == -EINVAL,
			 "job: none; a done for no job accepted, malformed ones rejected\n");

	pthread_create(&t, NULL, waiter, &wret);
	usleep(200000);
	t0 = now_s();
	mmrace_control("reset");
	pthread_join(t, NULL);
	ksft_test_result(wret == -EAGAIN && now_s() - t0 < 2,
			 "control reset wakes a waiter: EAGAIN after %.3f s\n",
			 now_s() - t0);

	/* An opening without a target: a failure, EDESTADDRREQ. */
	fd = memfd_create("mmrace-adv", 0);
	if (fd < 0 || ftruncate(fd, 4096))
		ksft_exit_fail_msg("memfd: %s\n", strerror(errno));
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(map, 0x5a, 4096);
	ret = win_set(WINDOW, "pid", "%d", getpid());
	ret = ret ?: win_set(WINDOW, "phase", "loaded");
	ret = ret ?: win_set(WINDOW, "adversary", "migrate");
	ret = ret ?: win_set(WINDOW, "enable", "1");
	if (ret)
		ksft_exit_fail_msg("arming %s: %s\n", WINDOW, strerror(-ret));
	if (pread(fd, buf, 8, 0) != 8)
		ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	win_stats(WINDOW, &s);
	failed = s.adversary_failed;
	ksft_test_result(s.adversary_failed >= 1 && s.adversary_last_error == 89 &&
			 !s.adversary_posted,
			 "no target: failed=%llu last_error=%llu posted=%llu\n",
			 (unsigned long long)s.adversary_failed,
			 (unsigned long long)s.adversary_last_error,
			 (unsigned long long)s.adversary_posted);

	/* With a target: a job, taken by the wait, shown by job. */
	ret = win_target(WINDOW, map);
	if (ret)
		ksft_exit_fail_msg("target: %s\n", strerror(-ret));
	if (pread(fd, buf, 8, 0) != 8)
		ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	ret = mmrace_write(ADV "/wait", "1000");
	mmrace_read(ADV "/job", buf, sizeof(buf));
	ksft_test_result(!ret && sscanf(buf, "%llu %63s %15s %d %llx %llx %llu",
					&seq, win, op, &pid, &addr, &pfn,
					&wake_ns) == 7 &&
			 !strcmp(win, WINDOW) && !strcmp(op, "migrate") &&
			 pid == getpid() && addr == (unsigned long)map &&
			 pfn == mmrace_own_pfn(map),
			 "a job posted, taken and shown: %.*s (pfn %#llx)\n",
			 (int)strcspn(buf, "\n"), buf,
			 (unsigned long long)mmrace_own_pfn(map));
	win_stats(WINDOW, &s);
	ksft_test_result(s.adversary_posted == 1 && s.adversary_started == 1,
			 "posted=%llu started=%llu\n",
			 (unsigned long long)s.adversary_posted,
			 (unsigned long long)s.adversary_started);

	/*
	 * Done now, with the window closed (the read that opened it has
	 * returned, and nothing else reads the page): after, not inside.
	 */
	snprintf(done, sizeof(done), "done %llu 0", seq);
	ret = mmrace_write(ADV "/job", done);
	win_stats(WINDOW, &s);
	mmrace_read(ADV "/job", buf, sizeof(buf));
	ksft_test_result(!ret && s.adversary_after == 1 && !s.adversary_inside &&
			 !strcmp(buf, "none\n"),
			 "a done after the window closed counts after (after=%llu inside=%llu)\n",
			 (unsigned long long)s.adversary_after,
			 (unsigned long long)s.adversary_inside);

	/* Another job; disarming cancels it; its late done changes nothing. */
	if (pread(fd, buf, 8, 0) != 8)
		ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	ret = mmrace_write(ADV "/wait", "1000");
	mmrace_read(ADV "/job", buf, sizeof(buf));
	seq = strtoull(buf, &end, 10);
	if (ret || end == buf)
		ksft_exit_fail_msg("a second job: %s, job '%.*s'\n",
				   strerror(-ret), (int)strcspn(buf, "\n"), buf);
	win_set(WINDOW, "enable", "0");
	mmrace_read(ADV "/job", buf, sizeof(buf));
	ksft_test_result(!strcmp(buf, "none\n"), "disarming cancels the job\n");
	/*
	 * The counts just before the done: the window filters on this
	 * process, and its own page-cache lookups (faults on its text, for
	 * one) opened windows with no target until target was set, each
	 * counted as failed.
	 */
	win_stats(WINDOW, &s);
	failed = s.adversary_failed;
	snprintf(done, sizeof(done), "done %llu 0", seq);
	ret = mmrace_write(ADV "/job", done);
	win_stats(WINDOW, &s);
	ksft_test_result(!ret && !s.adversary_inside && s.adversary_after == 1 &&
			 s.adversary_failed == failed,
			 "a late done is accepted and counted nowhere (inside=%llu after=%llu failed=%llu, %llu before it)\n",
			 (unsigned long long)s.adversary_inside,
			 (unsigned long long)s.adversary_after,
			 (unsigned long long)s.adversary_failed,
			 (unsigned long long)failed);

	/*
	 * zap, in the module: the page at the target is unmapped. A 50 ms
	 * window: the worker's CPU may be descheduled for over 10 ms on a
	 * loaded host (one run in a guest beside a kernel build: the zap came
	 * after a 10 ms window).
	 */
	mmrace_control("reset");
	memset(map, 0x6b, 4096);
	ret = win_set(WINDOW, "pid", "%d", getpid());
	ret = ret ?: win_set(WINDOW, "phase", "loaded");
	ret = ret ?: win_set(WINDOW, "delay_us", "50000");
	ret = ret ?: win_target(WINDOW, map);
	ret = ret ?: win_set(WINDOW, "adversary", "zap");
	ret = ret ?: win_set(WINDOW, "enable", "1");
	if (ret)
		ksft_exit_fail_msg("arming %s for zap: %s\n", WINDOW,
				   strerror(-ret));
	pfn = mmrace_own_pfn(map);
	if (pread(fd, buf, 8, 0) != 8)
		ksft_exit_fail_msg("pread: %s\n", strerror(errno));
	/* The worker closes the job soon after the window (1 s at most). */
	for (t0 = now_s(); now_s() - t0 < 1; usleep(10000)) {
		win_stats(WINDOW, &s);
		if (s.adversary_inside + s.adversary_after + s.adversary_failed)
			break;
	}
	win_set(WINDOW, "enable", "0");
	addr = mmrace_own_pfn(map);
	ksft_test_result(pfn && !addr && s.adversary_started == 1 &&
			 s.adversary_inside == 1 && !s.adversary_failed,
			 "zap: the page (pfn %#llx) unmapped (now %#llx) inside the window: %s\n",
			 pfn, addr,
			 win_adversary_str(&s, buf, sizeof(buf)));
	ksft_test_result(map[0] == 0x6b && map[4095] == 0x6b &&
			 mmrace_own_pfn(map) == pfn,
			 "zap: the shared page's data kept, the same page mapped again\n");

	mmrace_control("reset");
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
