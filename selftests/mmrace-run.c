// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace-run: run a command with mmrace's random-window profile armed for
 * its process tree (the command and everything it starts), then print each
 * window's statistics and the seed that replays the run. The exit status is
 * the command's. Unless the profile's adversaries are none, it runs the
 * adversary helper (mmrace_adversary_start()) for the while, outside the
 * command's tree, and prints what it did: the helper's counts, then each
 * window's adversary counters (race.h) and the sum of adversary_inside (jobs
 * done while their window still held).
 *
 *   mmrace-run [--seed N] [--probability P] [--max-delay-us US]
 *              [--windows LIST] [--adversaries LIST] -- COMMAND [ARG...]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmrace_lib.h"
#include "race.h"

#define PROFILE MMRACE_DEBUGFS "/profile/"

static int set(const char *file, const char *value)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), PROFILE "%s", file);
	ret = mmrace_write(path, value);
	if (ret)
		fprintf(stderr, "mmrace-run: %s <- '%s': %s\n", path, value,
			strerror(-ret));
	return ret;
}

/*
 * Print the adversary counters of each window in the profile state's
 * "attached:" line (" WINDOW=OP ..." or " none"), and their inside total.
 */
static void print_attached(const char *state)
{
	const char *line = strstr(state, "\nattached:");
	char list[1024], *tok, *save, *op, str[256];
	unsigned long long inside = 0, started = 0;
	struct mmrace_stats s;

	if (!line)
		return;
	snprintf(list, sizeof(list), "%s", line + strlen("\nattached:"));
	list[strcspn(list, "\n")] = 0;
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		op = strchr(tok, '=');
		if (!op)
			continue;
		*op++ = 0;
		if (win_stats(tok, &s))
			continue;
		printf("mmrace-run: adversary %s=%s %s\n", tok, op,
		       win_adversary_str(&s, str, sizeof(str)));
		inside += s.adversary_inside;
		started += s.adversary_started;
	}
	printf("mmrace-run: adversary_inside %llu of %llu started (%s)\n",
	       inside, started, inside ? "inside > 0" : "none inside");
}

static void usage(void)
{
	fprintf(stderr, "Usage: mmrace-run [--seed N] [--probability P] [--max-delay-us US] [--windows LIST] [--adversaries LIST] -- COMMAND [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "probability", required_argument, NULL, 'p' },
		{ "max-delay-us", required_argument, NULL, 'd' },
		{ "windows", required_argument, NULL, 'w' },
		{ "adversaries", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *seed = "0", *prob = NULL, *delay = NULL, *windows = "all";
	const char *adversaries = NULL;
	struct mmrace_adversary adv = { 0 };
	struct mmrace_adversary_counts *c;
	int go[2], opt, status, loaded;
	char buf[4096], pid[32];
	pid_t child, helper;

	while ((opt = getopt_long(argc, argv, "+s:p:d:w:a:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = optarg;
			break;
		case 'p':
			prob = optarg;
			break;
		case 'd':
			delay = optarg;
			break;
		case 'w':
			windows = optarg;
			break;
		case 'a':
			adversaries = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	loaded = mmrace_get();
	if (loaded < 0) {
		fprintf(stderr, "mmrace-run: cannot load mmrace.ko: %s\n",
			strerror(-loaded));
		return 2;
	}
	if (pipe(go))
		return 2;
	/* The child waits until the profile is armed for its pid, then execs. */
	child = fork();
	if (child < 0)
		return 2;
	if (!child) {
		close(go[1]);
		if (read(go[0], buf, 1) != 1)
			_exit(127);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "mmrace-run: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	close(go[0]);
	snprintf(pid, sizeof(pid), "%d", child);
	if (set("pid", pid) || set("seed", seed) || set("windows", windows) ||
	    (prob && set("probability", prob)) ||
	    (delay && set("max_delay_us", delay)) ||
	    (adversaries && set("adversaries", adversaries)) ||
	    mmrace_read(PROFILE "adversaries", buf, sizeof(buf)) <= 0 ||
	    (strcmp(buf, "none\n") &&
	     mmrace_adversary_start(&adv, sysconf(_SC_NPROCESSORS_ONLN) - 1)) ||
	    set("enable", "1")) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		mmrace_adversary_stop(&adv);
		return 2;
	}
	if (write(go[1], "g", 1) != 1)
		return 2;
	close(go[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	set("enable", "0");
	helper = adv.pid;
	if (helper) {
		mmrace_adversary_stop(&adv);
		c = adv.counts;
		printf("mmrace-run: adversary helper: %lu jobs, %lu changed the page, %lu failed (last errno %d)\n",
		       c->jobs, c->moved, c->failed, c->last_error);
	}

	if (mmrace_read(PROFILE "state", buf, sizeof(buf)) > 0) {
		printf("mmrace-run: profile\n%s", buf);
		if (helper)
			print_attached(buf);
	}
	if (mmrace_read(MMRACE_DEBUGFS "/summary", buf, sizeof(buf)) > 0)
		printf("mmrace-run: windows\n%s", buf);
	if (mmrace_read(PROFILE "seed", buf, sizeof(buf)) > 0)
		printf("mmrace-run: replay with --seed %s", buf);
	fflush(stdout);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
