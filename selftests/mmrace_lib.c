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
#include <sys/uio.h>
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

int mmrace_load_params(const char *params)
{
	int fd, ret;

	fd = open(mmrace_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

int mmrace_load(void)
{
	return mmrace_load_params("");
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

int mmrace_kmsg_count(const char *what)
{
	char rec[1024];
	int found = 0;
	ssize_t n;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return false;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		if (strstr(rec, what))
			found++;
	}
	close(fd);
	return found;
}

/* The pagemap entry of @p in the pagemap file @path, 0 if unreadable. */
static uint64_t pagemap_entry_in(const char *path, const void *p)
{
	long psize = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (unsigned long)p / psize * sizeof(e)) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return e;
}

uint64_t mmrace_pagemap_entry(const void *p)
{
	return pagemap_entry_in("/proc/self/pagemap", p);
}

static uint64_t entry_pfn(uint64_t e)
{
	return e >> 63 ? e & ((1ULL << 55) - 1) : 0;
}

uint64_t mmrace_own_pfn(const void *p)
{
	return entry_pfn(mmrace_pagemap_entry(p));
}

uint64_t mmrace_pid_pfn(pid_t pid, const void *p)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	return entry_pfn(pagemap_entry_in(path, p));
}

int page_node(void *addr)
{
	void *pages[1] = { addr };
	int status = -1;

	if (syscall(SYS_move_pages, 0, 1, pages, NULL, &status, 0))
		return -errno;
	return status;
}

int mmrace_kpageflags(uint64_t pfn, uint64_t *flags)
{
	int fd = open("/proc/kpageflags", O_RDONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, flags, sizeof(*flags), pfn * sizeof(*flags)) !=
	    sizeof(*flags))
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

#define SHMEM_ENABLED "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
static char shmem_was[32];

static void shmem_restore(void)
{
	if (shmem_was[0])
		mmrace_write(SHMEM_ENABLED, shmem_was);
}

void mmrace_shmem_thp_advise(void)
{
	char buf[128], *l, *r;

	if (mmrace_read(SHMEM_ENABLED, buf, sizeof(buf)) < 0)
		ksft_exit_skip("no %s: no shmem THP\n", SHMEM_ENABLED);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || (size_t)(r - l - 1) >= sizeof(shmem_was))
		ksft_exit_fail_msg("%s: %s\n", SHMEM_ENABLED, buf);
	memcpy(shmem_was, l + 1, r - l - 1);
	if (!strcmp(shmem_was, "advise") || !strcmp(shmem_was, "always") ||
	    !strcmp(shmem_was, "force")) {
		shmem_was[0] = 0;
		return;
	}
	if (mmrace_write(SHMEM_ENABLED, "advise"))
		ksft_exit_skip("cannot set %s to advise\n", SHMEM_ENABLED);
	atexit(shmem_restore);
}

bool mmrace_kmsg_has(const char *what)
{
	return mmrace_kmsg_count(what) > 0;
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
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#define ADVERSARY_SPLIT "/sys/kernel/debug/split_huge_pages"
/* /proc/PID/pagemap bits, and /proc/kpageflags' KPF_THP. */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_PFN ((1ULL << 55) - 1)
#define KPF_THP 22

/* One job: the page at @addr of process @pid, which the window held at @pfn. */
struct adversary_job {
	int pid;
	unsigned long addr;
	unsigned long long pfn;
	int nodes;
};

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

static unsigned long adversary_psize(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* The pagemap entry of the job's address now (0 if unreadable). */
static unsigned long long adversary_pte(const struct adversary_job *j)
{
	unsigned long long e = 0;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", j->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), j->addr / adversary_psize() * sizeof(e)) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return e;
}

/* Whether the job's page is still mapped at its address, the same page. */
static bool adversary_same_page(const struct adversary_job *j)
{
	unsigned long long e = adversary_pte(j);

	return (e & PM_PRESENT) && (e & PM_PFN) == j->pfn;
}


/*
 * Opens the file mapped at the job's address (/proc/PID/map_files: ENOENT
 * for anonymous memory) and finds the page's offset in it: the fd or -errno.
 */
static int adversary_file(const struct adversary_job *j, off_t *off)
{
	unsigned long start, end, pgoff, page = j->addr & ~(adversary_psize() - 1);
	char path[64], line[512];
	FILE *maps;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", j->pid);
	maps = fopen(path, "r");
	if (!maps)
		return -errno;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &pgoff) != 3 ||
		    page < start || page >= end)
			continue;
		fclose(maps);
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx",
			 j->pid, start, end);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -errno;
		*off = pgoff + (page - start);
		return fd;
	}
	fclose(maps);
	return -EFAULT;
}

/* Whether the page at @off of @fd is in the page cache: 1, 0 or -errno. */
static int adversary_cached(int fd, off_t off)
{
	unsigned char vec = 0;
	void *p;
	int ret;

	p = mmap(NULL, adversary_psize(), PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return -errno;
	ret = mincore(p, adversary_psize(), &vec) ? -errno : vec & 1;
	munmap(p, adversary_psize());
	return ret;
}

/* 0 if the file page at the job's address is gone from the page cache. */
static int adversary_uncached(const struct adversary_job *j)
{
	int fd, ret;
	off_t off;

	fd = adversary_file(j, &off);
	if (fd < 0)
		return fd;
	ret = adversary_cached(fd, off);
	close(fd);
	return ret < 0 ? ret : ret ? -EAGAIN : 0;
}

/*
 * Finds where the job's pfn is mapped in its process (a job of the
 * profile's windows, address 0: windows.rst, "Adversaries"): scans
 * /proc/PID/maps and /proc/PID/pagemap; 0, or ENXIO if it is mapped
 * nowhere there (a page-cache page only read(2)), or -errno.
 */
static int adversary_find(struct adversary_job *j)
{
	unsigned long start, end, a, n, i, psize = adversary_psize();
	unsigned long long e[512];
	char path[64], line[512];
	int fd, ret = -ENXIO;
	FILE *maps;
	ssize_t got;

	snprintf(path, sizeof(path), "/proc/%d/maps", j->pid);
	maps = fopen(path, "r");
	if (!maps)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", j->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		ret = -errno;
		fclose(maps);
		return ret;
	}
	while (ret == -ENXIO && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		for (a = start; ret == -ENXIO && a < end; a += n * psize) {
			n = (end - a) / psize;
			if (n > ARRAY_SIZE(e))
				n = ARRAY_SIZE(e);
			got = pread(fd, e, n * sizeof(e[0]),
				    a / psize * sizeof(e[0]));
			if (got <= 0)
				break;
			n = got / sizeof(e[0]);
			for (i = 0; i < n; i++) {
				if ((e[i] & PM_PRESENT) &&
				    (e[i] & PM_PFN) == j->pfn) {
					j->addr = a + i * psize;
					ret = 0;
					break;
				}
			}
		}
	}
	close(fd);
	fclose(maps);
	return ret;
}

/* migrate: moves the page to the next node (move_pages(2)). */
static int adversary_migrate(const struct adversary_job *j, bool *changed)
{
	void *page = (void *)j->addr;
	int status = -1, node;

	if (syscall(SYS_move_pages, j->pid, 1, &page, NULL, &status, 0) < 0)
		return -errno;
	if (status < 0)
		return status;
	node = (status + 1) % j->nodes;
	if (syscall(SYS_move_pages, j->pid, 1, &page, &node, &status,
		    MPOL_MF_MOVE_ALL) < 0)
		return -errno;
	if (status < 0)
		return status;
	*changed = status == node;
	return *changed ? 0 : -EAGAIN;
}

/*
 * pageout: reclaims the page (process_madvise(2), MADV_PAGEOUT); EAGAIN if
 * it is still there after (a file page still cached, an anonymous one not
 * swapped out).
 */
static int adversary_pageout(const struct adversary_job *j, bool *changed)
{
	struct iovec iov = {
		.iov_base = (void *)(j->addr & ~(adversary_psize() - 1)),
		.iov_len = adversary_psize(),
	};
	int pidfd, ret;

	pidfd = syscall(SYS_pidfd_open, j->pid, 0);
	if (pidfd < 0)
		return -errno;
	ret = syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_PAGEOUT, 0) < 0 ?
	      -errno : 0;
	close(pidfd);
	if (ret)
		return ret;
	ret = adversary_uncached(j);
	if (ret == -ENOENT)	/* anonymous */
		ret = adversary_pte(j) & PM_SWAP ? 0 : -EAGAIN;
	*changed = !ret;
	return ret;
}

/*
 * split: splits the page's THP (split_huge_pages in debugfs); EINVAL if
 * the page the window held is not in one, EAGAIN if it still is after.
 */
static int adversary_split(const struct adversary_job *j, bool *changed)
{
	unsigned long page = j->addr & ~(adversary_psize() - 1);
	uint64_t flags;
	char buf[96];
	int ret;

	ret = mmrace_kpageflags(j->pfn, &flags);
	if (ret)
		return ret;
	if (!(flags & (1ULL << KPF_THP)))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%d,0x%lx,0x%lx", j->pid, page,
		 page + adversary_psize());
	ret = mmrace_write(ADVERSARY_SPLIT, buf);
	if (ret)
		return ret;
	ret = mmrace_kpageflags(j->pfn, &flags);
	if (ret)
		return ret;
	*changed = !(flags & (1ULL << KPF_THP));
	return *changed ? 0 : -EAGAIN;
}

/*
 * compact: compacts the node holding the page (its nodeN/compact file);
 * changed if the page moved meanwhile.
 */
static int adversary_compact(const struct adversary_job *j, bool *changed)
{
	void *page = (void *)j->addr;
	char path[64];
	int status = -1, ret;

	if (syscall(SYS_move_pages, j->pid, 1, &page, NULL, &status, 0) < 0)
		return -errno;
	if (status < 0)
		return status;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/compact",
		 status);
	ret = mmrace_write(path, "1");
	if (ret)
		return ret;
	*changed = (adversary_pte(j) & PM_PRESENT) && !adversary_same_page(j);
	return 0;
}

/*
 * evict: drops the page's page-cache folio (POSIX_FADV_DONTNEED on the
 * mapped file, through /proc/PID/map_files: ENOENT for anonymous memory);
 * EBUSY if it is still cached after (mapped, dirty, or a file system that
 * ignores the advice, as tmpfs does).
 */
static int adversary_evict(const struct adversary_job *j, bool *changed)
{
	int fd, ret;
	off_t off;

	fd = adversary_file(j, &off);
	if (fd < 0)
		return fd;
	ret = -posix_fadvise(fd, off, adversary_psize(), POSIX_FADV_DONTNEED);
	if (!ret) {
		ret = adversary_cached(fd, off);
		ret = ret < 0 ? ret : ret ? -EBUSY : 0;
	}
	close(fd);
	*changed = !ret;
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(const struct adversary_job *j, bool *changed);
} adversary_ops[] = {
	{ "migrate", adversary_migrate },
	{ "pageout", adversary_pageout },
	{ "split", adversary_split },
	{ "compact", adversary_compact },
	{ "evict", adversary_evict },
};

/* Does one job line "SEQ WINDOW OP PID ADDR PFN WAKE_NS"; its RC. */
static void adversary_job(const char *line, struct mmrace_adversary_counts *c,
			  int nodes)
{
	unsigned long long seq, addr, wake_ns, t;
	struct adversary_job j = { .nodes = nodes };
	char window[64], op[16], done[64];
	bool changed = false;
	int rc = -EOPNOTSUPP;
	size_t i;

	if (sscanf(line, "%llu %63s %15s %d %llx %llx %llu", &seq, window, op,
		   &j.pid, &addr, &j.pfn, &wake_ns) != 7)
		return;
	j.addr = addr;
	c->jobs++;
	c->wake_ns_sum += wake_ns;
	if (wake_ns > c->wake_ns_max)
		c->wake_ns_max = wake_ns;
	t = adversary_now_ns();
	if (!j.addr)
		rc = adversary_find(&j);
	for (i = 0; i < ARRAY_SIZE(adversary_ops) && j.addr; i++)
		if (!strcmp(op, adversary_ops[i].name))
			rc = adversary_ops[i].fn(&j, &changed);
	t = adversary_now_ns() - t;
	c->op_ns_sum += t;
	if (t > c->op_ns_max)
		c->op_ns_max = t;
	if (rc) {
		c->failed++;
		c->last_error = -rc;
		if (rc == -EAGAIN)
			c->unchanged++;
	}
	if (changed)
		c->moved++;
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

void mmrace_map_with_drain(int fd, size_t len, char **map, char **drain)
{
	*map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	*drain = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED || *drain == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
}

long mmrace_meminfo_kb(const char *key)
{
	char buf[8192], *p;
	size_t n = strlen(key);

	if (mmrace_read("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}

long mmrace_pcp_free_kb(void)
{
	static char buf[65536];
	long pages = 0;
	char *p;

	if (mmrace_read("/proc/zoneinfo", buf, sizeof(buf)) <= 0)
		return 0;
	for (p = strstr(buf, "count:"); p; p = strstr(p + 6, "count:"))
		pages += strtol(p + 6, NULL, 10);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * Generic KASAN (the debug configuration) does not free memory when it is
 * freed: it keeps freed slab objects in its quarantine, up to 1/32 of RAM
 * (QUARANTINE_FRACTION in mm/kasan/quarantine.c), to catch uses after free.
 * They still count as Slab, so free memory may end up that much lower
 * after a run that freed a lot. Only generic KASAN has a quarantine; its
 * functions are in kallsyms.
 */
long mmrace_kasan_quarantine_cap_kb(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_quarantine_reduce\n") != NULL;
	fclose(f);
	return found ? mmrace_meminfo_kb("MemTotal") / 32 : 0;
}

bool kprobe_listed(const char *symbol)
{
	static char buf[16384];
	char needle[128];

	if (mmrace_read("/sys/kernel/debug/kprobes/list", buf, sizeof(buf)) < 0)
		return false;
	snprintf(needle, sizeof(needle), " %s+", symbol);
	return strstr(buf, needle);
}

/* tracefs enabled_functions into @buf: its length, or -1. */
static int read_enabled_functions(char *buf, size_t len)
{
	static const char * const paths[] = {
		"/sys/kernel/tracing/enabled_functions",
		"/sys/kernel/debug/tracing/enabled_functions",
	};
	unsigned int i;
	int n;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		n = mmrace_read(paths[i], buf, len);
		if (n >= 0)
			return n;
	}
	return -1;
}

#define DIRECT_MARK "direct-->mmrace_direct_stub"

bool direct_listed(const char *symbol)
{
	static char buf[65536];
	char *line, *save;
	bool ours = false;
	size_t n = strlen(symbol);

	if (read_enabled_functions(buf, sizeof(buf)) < 0)
		return false;
	/* "SYMBOL (1) R   D ...", then "\tdirect-->STUB+0x0/0xf [mmrace]". */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (ours && strstr(line, DIRECT_MARK))
			return true;
		ours = !strncmp(line, symbol, n) && line[n] == ' ';
	}
	return false;
}

int direct_count(void)
{
	static char buf[65536];
	const char *p;
	int n = 0;

	if (read_enabled_functions(buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; (p = strstr(p, DIRECT_MARK)); p++)
		n++;
	return n;
}

bool hook_listed(const char *symbol)
{
	return kprobe_listed(symbol) || direct_listed(symbol);
}

bool direct_calls_supported(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " register_ftrace_direct\n") != NULL;
	fclose(f);
	return found;
}
