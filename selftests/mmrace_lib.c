// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by mmrace's kselftests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

bool mmrace_loaded(void)
{
	return access("/sys/module/mmrace", F_OK) == 0;
}

const char *mmrace_ko_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	const char *env = getenv("MMRACE_KO");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return "mmrace.ko";
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/mmrace.ko", dirname(exe));
	return path;
}

int mmrace_load(void)
{
	int fd, ret;

	fd = open(mmrace_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

int mmrace_unload(void)
{
	return syscall(SYS_delete_module, "mmrace", O_NONBLOCK) ? -errno : 0;
}

int mmrace_get(void)
{
	int ret;

	if (mmrace_loaded())
		return 0;
	ret = mmrace_load();
	return ret ? ret : 1;
}

ssize_t mmrace_read(const char *path, char *buf, size_t len)
{
	return mmrace_read_chunks(path, buf, len, len);
}

ssize_t mmrace_read_chunks(const char *path, char *buf, size_t len,
			   size_t chunk)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		n = read(fd, buf + off,
			 chunk < len - 1 - off ? chunk : len - 1 - off);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	close(fd);
	return off;
}

int mmrace_write_at(const char *path, const void *data, size_t len, off_t off)
{
	ssize_t n;
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Not pwrite(2): seq_file clears FMODE_PWRITE. */
	if (off && lseek(fd, off, SEEK_SET) != off) {
		ret = -errno;
		close(fd);
		return ret;
	}
	n = write(fd, data, len);
	if (n < 0)
		ret = -errno;
	else
		ret = (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

int mmrace_write(const char *path, const char *str)
{
	return mmrace_write_at(path, str, strlen(str), 0);
}

bool mmrace_kmsg_has(const char *what)
{
	char rec[1024];
	bool found = false;
	ssize_t n;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return false;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		if (strstr(rec, what))
			found = true;
	}
	close(fd);
	return found;
}

unsigned long mmrace_tainted(void)
{
	char buf[64];

	if (mmrace_read("/proc/sys/kernel/tainted", buf, sizeof(buf)) <= 0)
		return 0;
	return strtoul(buf, NULL, 10);
}

bool mmrace_guest_mttcg(void)
{
	static const char word[] = "mmrace_accel=tcg-multi";
	char buf[4096], *p;

	if (mmrace_read("/proc/cmdline", buf, sizeof(buf)) <= 0)
		return false;
	for (p = strstr(buf, word); p; p = strstr(p + 1, word))
		if ((p == buf || p[-1] == ' ') &&
		    (!p[sizeof(word) - 1] || strchr("\n ", p[sizeof(word) - 1])))
			return true;
	return false;
}

int mmrace_zram_add(size_t size)
{
	char buf[64], path[64];
	int id;

	if (mmrace_read("/sys/class/zram-control/hot_add", buf, sizeof(buf)) <= 0)
		return -1;
	id = atoi(buf);
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", id);
	snprintf(buf, sizeof(buf), "%zu", size);
	if (mmrace_write(path, buf))
		return -1;
	return id;
}

void mmrace_zram_remove(int id)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", id);
	mmrace_write("/sys/class/zram-control/hot_remove", buf);
}

int mmrace_zram_file(size_t size, int npages, uint64_t (*pattern)(int page),
		     int *id, char *dev, size_t len)
{
	size_t psize = sysconf(_SC_PAGESIZE), w;
	uint64_t *buf = malloc(npages * psize);
	int fd = -1, tries, i;

	*id = mmrace_zram_add(size);
	if (*id < 0)
		ksft_exit_skip("no zram device (CONFIG_ZRAM, zram-control)\n");
	snprintf(dev, len, "/dev/zram%d", *id);
	/* Its node may take a moment to appear. */
	for (tries = 0; tries < 100 && fd < 0; tries++) {
		fd = open(dev, O_RDWR);
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0 || !buf)
		ksft_exit_fail_msg("%s: %s\n", dev, strerror(errno));
	for (i = 0; i < npages; i++)
		for (w = 0; w < psize / 8; w++)
			buf[i * psize / 8 + w] = pattern(i);
	if (pwrite(fd, buf, npages * psize, 0) != (ssize_t)(npages * psize) ||
	    fsync(fd))
		ksft_exit_fail_msg("write %s: %s\n", dev, strerror(errno));
	free(buf);
	return fd;
}

int mmrace_scenario(const char *cmd, char *buf, size_t len)
{
	ssize_t n;
	int ret;

	ret = mmrace_write(MMRACE_SCENARIO_RUN, cmd);
	if (ret)
		return ret;
	n = mmrace_read(MMRACE_SCENARIO_RUN, buf, len);
	return n < 0 ? n : 0;
}

static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

enum mmrace_report_line mmrace_report_next(const char **pos, char *line,
					   size_t len)
{
	static const struct {
		const char *prefix;
		enum mmrace_report_line kind;
	} prefixes[] = {
		{ "ok ", MMRACE_REPORT_OK },
		{ "not ok ", MMRACE_REPORT_NOT_OK },
		{ "# ", MMRACE_REPORT_NOTE },
	};
	const char *start = *pos, *end, *text;
	size_t n, i;

	if (!*start || !len)
		return MMRACE_REPORT_END;
	end = strchr(start, '\n');
	if (!end)
		end = start + strlen(start);
	*pos = *end ? end + 1 : end;
	n = end - start;
	if (n > len - 1)
		n = len - 1;
	memcpy(line, start, n);
	line[n] = '\0';
	if (after_prefix(line, "state done"))
		return MMRACE_REPORT_DONE;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		text = after_prefix(line, prefixes[i].prefix);
		if (text) {
			memmove(line, text, strlen(text) + 1);
			return prefixes[i].kind;
		}
	}
	return MMRACE_REPORT_OTHER;
}

int mmrace_report_checks(const char *report)
{
	enum mmrace_report_line kind;
	const char *pos = report;
	char line[512];
	int n = 0;

	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END)
		if (kind == MMRACE_REPORT_OK || kind == MMRACE_REPORT_NOT_OK)
			n++;
	return n;
}

/* One scenario's report as KTAP (mmrace_scenarios_main()). */
static void scenario_results(const char *cmd, const char *report,
			     bool prefixed)
{
	const char *pre = prefixed ? cmd : "", *sep = prefixed ? ": " : "";
	enum mmrace_report_line kind;
	const char *pos = report;
	bool done = false;
	char line[512], name[64] = "";

	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END) {
		switch (kind) {
		case MMRACE_REPORT_OK:
		case MMRACE_REPORT_NOT_OK:
			ksft_test_result(kind == MMRACE_REPORT_OK, "%s%s%s\n",
					 pre, sep, line);
			break;
		case MMRACE_REPORT_NOTE:
			ksft_print_msg("%s%s%s\n", pre, sep, line);
			break;
		case MMRACE_REPORT_DONE:
			done = true;
			break;
		default:
			sscanf(line, "scenario %63s", name);
			break;
		}
	}
	ksft_test_result(done, "%s: ran to completion\n",
			 prefixed ? cmd : name);
}

void mmrace_scenarios_main(const char *const *cmds, size_t n,
			   const char *const *bad, size_t nbad, bool prefixed)
{
	char (*reports)[4096] = calloc(n, sizeof(*reports));
	int *errors = calloc(n, sizeof(*errors));
	int loaded, plan = 0;
	size_t i;

	ksft_print_header();
	if (!reports || !errors)
		ksft_exit_fail_msg("calloc: %s\n", strerror(errno));
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	if (access(MMRACE_SCENARIO_RUN, W_OK))
		ksft_exit_skip("%s: %s\n", MMRACE_SCENARIO_RUN, strerror(errno));

	/* Run everything first: the plan is the number of checks. */
	for (i = 0; i < n; i++) {
		errors[i] = mmrace_scenario(cmds[i], reports[i],
					    sizeof(reports[i]));
		plan += errors[i] ? 1 : mmrace_report_checks(reports[i]) + 1;
	}
	ksft_set_plan(plan + nbad);
	for (i = 0; i < nbad; i++) {
		int ret = mmrace_write(MMRACE_SCENARIO_RUN, bad[i]);

		ksft_test_result(ret == -EINVAL, "run: '%s' rejected with EINVAL (%s)\n",
				 bad[i], strerror(-ret));
	}
	for (i = 0; i < n; i++) {
		if (!prefixed)
			ksft_print_msg("%s\n", cmds[i]);
		if (errors[i])
			ksft_test_result_fail("%s: %s\n", cmds[i],
					      strerror(-errors[i]));
		else
			scenario_results(cmds[i], reports[i], prefixed);
	}

	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}

#define ADVERSARY_DIR MMRACE_DEBUGFS "/adversary"
/* How long one wait blocks, in ms: how late the helper sees its stop. */
#define ADVERSARY_WAIT_MS "200"
#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL 4
#endif

static unsigned long long adversary_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int adversary_nodes(void)
{
	char path[64];
	int n = 0;

	while (n < 64) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 n);
		if (access(path, F_OK))
			break;
		n++;
	}
	return n;
}

/* Moves the page at @addr of process @pid to the next node; 0 or -errno. */
static int adversary_migrate(int pid, unsigned long addr, int nodes)
{
	void *page = (void *)addr;
	int status = -1, node;

	if (syscall(SYS_move_pages, pid, 1, &page, NULL, &status, 0) < 0)
		return -errno;
	if (status < 0)
		return status;
	node = (status + 1) % nodes;
	if (syscall(SYS_move_pages, pid, 1, &page, &node, &status,
		    MPOL_MF_MOVE_ALL) < 0)
		return -errno;
	if (status < 0)
		return status;
	return status == node ? 0 : -EAGAIN;
}

/* Does one job line "SEQ WINDOW OP PID ADDR PFN WAKE_NS"; its RC. */
static void adversary_job(const char *line, struct mmrace_adversary_counts *c,
			  int nodes)
{
	unsigned long long seq, addr, pfn, wake_ns, t;
	char window[64], op[16], done[64];
	int pid, rc;

	if (sscanf(line, "%llu %63s %15s %d %llx %llx %llu", &seq, window, op,
		   &pid, &addr, &pfn, &wake_ns) != 7)
		return;
	c->jobs++;
	c->wake_ns_sum += wake_ns;
	if (wake_ns > c->wake_ns_max)
		c->wake_ns_max = wake_ns;
	t = adversary_now_ns();
	rc = strcmp(op, "migrate") ? -EOPNOTSUPP :
	     adversary_migrate(pid, addr, nodes);
	t = adversary_now_ns() - t;
	c->op_ns_sum += t;
	if (t > c->op_ns_max)
		c->op_ns_max = t;
	if (rc) {
		c->failed++;
		c->last_error = -rc;
	} else {
		c->moved++;
	}
	snprintf(done, sizeof(done), "done %llu %d", seq, rc);
	mmrace_write(ADVERSARY_DIR "/job", done);
}

static void adversary_loop(struct mmrace_adversary *a)
{
	char buf[4096], *line, *save;
	int nodes = adversary_nodes(), ret;

	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
		ret = mmrace_write(ADVERSARY_DIR "/wait", ADVERSARY_WAIT_MS);
		if (ret == -EAGAIN || ret == -EINTR) {
			a->counts->timeouts++;
			continue;
		}
		if (ret)
			break;
		/* A fresh open: reads show the snapshot taken at open. */
		if (mmrace_read(ADVERSARY_DIR "/job", buf, sizeof(buf)) < 0)
			break;
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			adversary_job(line, a->counts, nodes);
	}
}

int mmrace_adversary_start(struct mmrace_adversary *a, int cpu)
{
	pid_t parent;
	void *shared;
	cpu_set_t set;

	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -errno;
	memset(shared, 0, 4096);
	parent = getpid();
	a->counts = shared;
	a->stop = (int *)((char *)shared + 2048);
	a->pid = fork();
	if (a->pid < 0) {
		a->pid = 0;
		return -errno;
	}
	if (a->pid == 0) {
		/* Never outlive the test (it would hold the module). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
		adversary_loop(a);
		_exit(0);
	}
	return 0;
}

int mmrace_adversary_stop(struct mmrace_adversary *a)
{
	int status;

	if (!a->pid)
		return 0;
	__atomic_store_n(a->stop, 1, __ATOMIC_RELEASE);
	if (waitpid(a->pid, &status, 0) < 0)
		return -errno;
	a->pid = 0;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}
