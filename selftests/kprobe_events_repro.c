// SPDX-License-Identifier: GPL-2.0
/*
 * A reproducer that does not involve mmrace: the kernel's own kprobe_events
 * arm and disarm a kprobe on a GUP-fast function while two processes run
 * GUP-fast through it (CONFIG_GUP_TEST), as mmrace's windows do when they
 * are disarmed under load. Documentation/testing.rst says what it showed on
 * multi-threaded and single-threaded TCG. Not a test: it is built, never
 * run by make check (it may kill the guest it runs in).
 *
 *   kprobe_events_repro [-n CYCLES] [-t SECONDS] [-s SYMBOL]
 *
 * Stops after CYCLES (200) cycles or SECONDS (60) seconds, whichever comes
 * first. Prints one line per 50 cycles and exits 0 if the kernel survived.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gup_test.h"

#define TRACING "/sys/kernel/tracing"
#define NPAGES 64

static int write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | flags);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* GUP-fast over NPAGES anonymous pages, until killed. */
static void gup_fast_loop(int cpu)
{
	long page = sysconf(_SC_PAGESIZE);
	struct gup_test gup = { .size = NPAGES * page,
				.nr_pages_per_call = NPAGES };
	cpu_set_t set;
	char *buf;
	int fd;

	/* Die with the parent, and keep the runner's pipe free. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
	dup2(STDOUT_FILENO, STDERR_FILENO);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	buf = mmap(NULL, gup.size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || buf == MAP_FAILED)
		_exit(1);
	memset(buf, 1, gup.size);
	gup.addr = (unsigned long)buf;
	for (;;)
		ioctl(fd, GUP_FAST_BENCHMARK, &gup);
}

int main(int argc, char **argv)
{
	const char *symbol = "try_grab_folio_fast";
	unsigned int cycles = 200, seconds = 60, i;
	time_t end;
	char def[128], opt[8] = "?";
	pid_t workers[2];
	int o, ret = 0;

	while ((o = getopt(argc, argv, "n:s:")) != -1) {
		if (o == 'n')
			cycles = strtoul(optarg, NULL, 0);
		else if (o == 't')
			seconds = strtoul(optarg, NULL, 0);
		else if (o == 's')
			symbol = optarg;
	}
	if (access(TRACING "/kprobe_events", W_OK))
		mount("tracefs", TRACING, "tracefs", 0, NULL);
	if (access(TRACING "/kprobe_events", W_OK)) {
		printf("no %s/kprobe_events (CONFIG_KPROBE_EVENTS)\n", TRACING);
		return 4;
	}
	o = open("/proc/sys/debug/kprobes-optimization", O_RDONLY);
	if (o >= 0) {
		if (read(o, opt, 1) != 1)
			opt[0] = '?';
		opt[1] = 0;
		close(o);
	}
	printf("# kprobe on %s armed and disarmed up to %u times in %u s under GUP-fast on 2 CPUs (kprobes-optimization=%s)\n",
	       symbol, cycles, seconds, opt);
	fflush(stdout);
	for (i = 0; i < 2; i++) {
		workers[i] = fork();
		if (!workers[i])
			gup_fast_loop(i);
	}
	snprintf(def, sizeof(def), "p:mmrace_repro/p %s\n", symbol);
	end = time(NULL) + seconds;
	for (i = 0; i < cycles && !ret && time(NULL) < end; i++) {
		ret = write_file(TRACING "/kprobe_events", def, O_APPEND);
		if (!ret)
			ret = write_file(TRACING "/events/mmrace_repro/p/enable",
					 "1", 0);
		usleep(2000);
		if (!ret)
			ret = write_file(TRACING "/events/mmrace_repro/p/enable",
					 "0", 0);
		if (!ret)
			ret = write_file(TRACING "/kprobe_events",
					 "-:mmrace_repro/p\n", O_APPEND);
		if ((i + 1) % 50 == 0) {
			printf("# %u cycles\n", i + 1);
			fflush(stdout);
		}
	}
	for (o = 0; o < 2; o++) {
		kill(workers[o], SIGKILL);
		waitpid(workers[o], NULL, 0);
	}
	if (ret) {
		printf("cycle %u: %s\n", i, strerror(-ret));
		return 1;
	}
	printf("ok: %u cycles, the kernel survived\n", i);
	return 0;
}
