// SPDX-License-Identifier: GPL-2.0
/*
 * The random-window profile: armed for one process tree, it opens windows
 * for that tree and for nothing else; the same seed replays the same
 * choices; mmrace-run arms it around a command and returns the command's
 * exit status. profile/adversaries takes transparent operations only, and
 * under mmrace-run --adversaries the profile attaches them to the windows
 * it arms: the helper mmrace-run starts takes jobs on the command's pages
 * (adversary_started > 0), and the command's result is unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "race.h"

#define PROFILE MMRACE_DEBUGFS "/profile/"

static const char * const windows[] = {
	"gup_fast_pre_grab", "gup_fast_post_grab", "migrate_freeze",
	"compact_isolate", "pagecache_pre_grab", "pagecache_post_grab",
};

/* The sum of a counter over all windows. */
static unsigned long long total(size_t offset)
{
	unsigned long long sum = 0;
	struct mmrace_stats s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(windows); i++)
		if (!win_stats(windows[i], &s))
			sum += *(uint64_t *)((char *)&s + offset);
	return sum;
}

#define TOTAL(field) total(offsetof(struct mmrace_stats, field))

/* GUP-fast and page-cache reads against migration, in this process. */
static void workload(unsigned int ms)
{
	struct race_page anon, shm;

	if (race_anon_page(&anon) || race_memfd_page(&shm))
		return;
	race_run(&anon, side_gup_fast, side_migrate, ms, NULL, NULL);
	race_run(&shm, side_read, side_migrate, ms, NULL, NULL);
	race_page_free(&anon);
	race_page_free(&shm);
}

/*
 * One task reads a mapped memfd page with pread(2) for @ms and checks each
 * read: 0, or 1 on a wrong read (2: no memfd).
 */
static int adv_workload(unsigned int ms)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t *map, *buf;
	struct timespec t0, t;
	long i, n = psize / 8;
	int fd;

	fd = memfd_create("mmrace-profile-adv", 0);
	if (fd < 0 || ftruncate(fd, psize))
		return 2;
	map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	buf = malloc(psize);
	if (map == MAP_FAILED || !buf)
		return 2;
	for (i = 0; i < n; i++)
		map[i] = 0x70726f66696c6500ULL ^ i;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		/* Mapped, so that the helper finds the page's address. */
		__atomic_load_n(map, __ATOMIC_RELAXED);
		if (pread(fd, buf, psize, 0) != psize)
			return 1;
		for (i = 0; i < n; i++)
			if (buf[i] != (0x70726f66696c6500ULL ^ i))
				return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
		 (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	return 0;
}

static int arm_for_child(pid_t child, const char *seed)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", child);
	return mmrace_write(PROFILE "pid", pid) ||
	       mmrace_write(PROFILE "seed", seed) ||
	       mmrace_write(PROFILE "probability", "50") ||
	       mmrace_write(PROFILE "max_delay_us", "500") ||
	       mmrace_write(PROFILE "enable", "1");
}

/* `state` without its first line (enabled) and with the pid masked. */
static void choices(char *buf, size_t len)
{
	char *pid;

	mmrace_read(PROFILE "state", buf, len);
	pid = strstr(buf, "pid: ");
	if (pid)
		memset(pid + 5, 'x', strcspn(pid + 5, "\n"));
}

int main(int argc, char **argv)
{
	unsigned long long delayed, filtered;
	char first[1024], again[1024], run[8192], self[256], buf[256];
	int go[2], status, plain, loaded, ret, rejected;
	char *line, *save;
	struct mmrace_stats s = { 0 };
	ssize_t len;
	pid_t child;

	if (argc > 1 && !strcmp(argv[1], "--workload")) {
		workload(700);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--adv-workload"))
		return adv_workload(1000);
	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	if (race_nodes() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_exit_skip("needs two CPUs and two NUMA nodes\n");
	ksft_set_plan(9);
	mmrace_control("reset");

	/* A child process tree: it waits until the profile is armed for it. */
	if (pipe(go))
		ksft_exit_fail_msg("pipe\n");
	child = fork();
	if (!child) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		execl("/proc/self/exe", argv[0], "--workload", NULL);
		_exit(127);
	}
	close(go[0]);
	ret = arm_for_child(child, "4242");
	ksft_test_result(!ret, "profile armed for pid %d's tree, seed 4242\n",
			 child);
	choices(first, sizeof(first));
	memcpy(again, first, sizeof(again));
	for (line = strtok_r(again, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("profile %s\n", line);
	if (write(go[1], "g", 1) != 1)
		ksft_exit_fail_msg("write\n");
	waitpid(child, &status, 0);
	delayed = TOTAL(delayed);
	ksft_print_msg("child's tree: %llu windows opened, %llu hits, %llu filtered out, %llu rendezvous met\n",
		       delayed, TOTAL(hits), TOTAL(filtered_out),
		       TOTAL(rendezvous_met));
	ksft_test_result(delayed > 0,
			 "windows opened for the child's tree (%llu)\n",
			 delayed);

	/* Still armed: this process is outside the tree. */
	filtered = TOTAL(filtered_out);
	workload(300);
	ksft_test_result(TOTAL(delayed) == delayed &&
			 TOTAL(filtered_out) > filtered,
			 "nothing opened for a process outside the tree (%llu more filtered out)\n",
			 TOTAL(filtered_out) - filtered);
	mmrace_write(PROFILE "enable", "0");

	/* Replay: the same seed, the same choices. */
	mmrace_control("reset");
	ret = arm_for_child(getpid(), "4242");
	choices(again, sizeof(again));
	mmrace_write(PROFILE "enable", "0");
	ksft_test_result(!ret && !strcmp(first, again),
			 "seed 4242 replays the same choices\n");

	/* mmrace-run: the command's exit status, the seed to replay. */
	snprintf(run, sizeof(run),
		 "%s/mmrace-run --seed 77 -- sh -c 'exit 3' > /tmp/mmrace-run.out",
		 dirname(strdup(mmrace_ko_path())));
	status = system(run);
	ksft_test_result(WIFEXITED(status) && WEXITSTATUS(status) == 3,
			 "mmrace-run returns the command's exit status (%d)\n",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	mmrace_read("/tmp/mmrace-run.out", run, sizeof(run));
	ksft_test_result(strstr(run, "replay with --seed 77") != NULL,
			 "mmrace-run prints the seed that replays the run\n");

	/* adversaries: transparent operations only, all or nothing. */
	mmrace_control("reset");
	mmrace_read(PROFILE "adversaries", first, sizeof(first));
	rejected = mmrace_write(PROFILE "adversaries", "migrate,zap") == -EINVAL &&
		   mmrace_write(PROFILE "adversaries", "none,migrate") == -EINVAL &&
		   mmrace_write(PROFILE "adversaries", "migrate,") == -EINVAL;
	mmrace_read(PROFILE "adversaries", again, sizeof(again));
	ret = mmrace_write(PROFILE "adversaries", "compact,migrate");
	mmrace_read(PROFILE "adversaries", run, sizeof(run));
	ksft_test_result(!strcmp(first, "migrate,pageout,split,compact,evict,freeze\n") &&
			 rejected && !strcmp(again, first) && !ret &&
			 !strcmp(run, "migrate,compact\n") &&
			 !mmrace_write(PROFILE "adversaries", "none"),
			 "adversaries: the transparent set by default, unknown names rejected whole\n");

	/* mmrace-run --adversaries: jobs on the command's page, same result. */
	mmrace_control("reset");
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		ksft_exit_fail_msg("readlink: %s\n", strerror(errno));
	self[len] = 0;
	snprintf(run, sizeof(run), "%s --adv-workload", self);
	status = system(run);
	plain = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	snprintf(run, sizeof(run),
		 "%s/mmrace-run --seed 78 --probability 100 --max-delay-us 2000 --windows pagecache_pre_grab --adversaries migrate -- %s --adv-workload > /tmp/mmrace-run.out",
		 dirname(strdup(mmrace_ko_path())), self);
	status = system(run);
	mmrace_read("/tmp/mmrace-run.out", run, sizeof(run));
	for (line = strtok_r(run, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "attached:") || strstr(line, "helper:"))
			ksft_print_msg("%s\n", line);
	mmrace_read("/tmp/mmrace-run.out", run, sizeof(run));
	ksft_test_result(!plain && WIFEXITED(status) && !WEXITSTATUS(status) &&
			 strstr(run, "attached: pagecache_pre_grab=migrate"),
			 "under mmrace-run --adversaries migrate the command's result is unchanged (%d plainly, %d under it)\n",
			 plain, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ret = win_stats("pagecache_pre_grab", &s);
	win_adversary_str(&s, buf, sizeof(buf));
	ksft_test_result(!ret && s.adversary_started > 0,
			 "the profile attached migrate and the helper took jobs: %s\n",
			 buf);

	mmrace_control("reset");
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
