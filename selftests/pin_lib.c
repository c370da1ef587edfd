// SPDX-License-Identifier: GPL-2.0
/*
 * Pins, THPs and the verdict of the pin tests (pin_lib.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gup_test.h"
#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE 2
#endif

static int gup_fd = -1;
static bool was_loaded;

void pin_init(struct regress *r, const char *name, double default_cap_s)
{
	was_loaded = mmrace_loaded();
	regress_init(r, name, default_cap_s);
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		ksft_exit_skip("no /sys/kernel/debug/gup_test (CONFIG_GUP_TEST)\n");
}

/* The size of the pins pin_start() took last. */
static size_t pinned_size;

int pin_start(void *addr, size_t size, unsigned int flags)
{
	struct pin_longterm_test pin = {
		.addr = (unsigned long)addr,
		.size = size,
		.flags = flags,
	};

	if (ioctl(gup_fd, PIN_LONGTERM_TEST_START, &pin))
		return -errno;
	pinned_size = size;
	return 0;
}

int pin_read(void *buf)
{
	__u64 addr = (unsigned long)buf;

	return ioctl(gup_fd, PIN_LONGTERM_TEST_READ, &addr) ? -errno : 0;
}

uint64_t pinned_word(void)
{
	static size_t len;
	static char *buf;
	int ret;

	if (len < pinned_size) {
		free(buf);
		buf = malloc(pinned_size);
		len = buf ? pinned_size : 0;
	}
	ret = buf ? pin_read(buf) : -ENOMEM;
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_READ: %s\n",
				   strerror(-ret));
	return *(uint64_t *)buf;
}

void pin_stop(void)
{
	ioctl(gup_fd, PIN_LONGTERM_TEST_STOP);
}

const char *const hold_name[NR_HOLD] = {
	"pin_user_pages", "pin_user_pages_fast", "vmsplice"
};

int hold_start(struct held *h, enum hold how, void *addr, size_t size)
{
	struct iovec iov = { addr, size };
	ssize_t n;
	int ret;

	h->how = how;
	h->fds[0] = h->fds[1] = -1;
	if (how != HOLD_VMSPLICE)
		return pin_start(addr, size, PIN_WRITE |
				 (how == HOLD_PIN_FAST ? PIN_FAST : PIN_SLOW));
	if (pipe(h->fds))
		return -errno;
	n = vmsplice(h->fds[1], &iov, 1, 0);
	if (n == (ssize_t)size)
		return 0;
	ret = n < 0 ? -errno : -EIO;
	close(h->fds[0]);
	close(h->fds[1]);
	return ret;
}

int hold_read_stop(struct held *h, void *buf, size_t size)
{
	ssize_t n;
	int ret;

	if (h->how != HOLD_VMSPLICE) {
		ret = pin_read(buf);
		pin_stop();
		return ret;
	}
	n = read(h->fds[0], buf, size);
	ret = n == (ssize_t)size ? 0 : n < 0 ? -errno : -EIO;
	close(h->fds[0]);
	close(h->fds[1]);
	return ret;
}

void sharer_fork(struct sharer *s, const char *page)
{
	uint64_t seen;
	char c;

	if (pipe(s->to_child) || pipe(s->from_child))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	s->pid = fork();
	if (s->pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (s->pid)
		return;
	if (read(s->to_child[0], &c, 1) != 1)
		_exit(3);
	seen = get_word(page);
	_exit(write(s->from_child[1], &seen, sizeof(seen)) == sizeof(seen) ?
	      0 : 3);
}

uint64_t sharer_read(struct sharer *s)
{
	uint64_t seen;
	int status, i;

	if (write(s->to_child[1], "x", 1) != 1 ||
	    read(s->from_child[0], &seen, sizeof(seen)) != sizeof(seen))
		ksft_exit_fail_msg("the child sharing the page did not answer\n");
	waitpid(s->pid, &status, 0);
	for (i = 0; i < 2; i++) {
		close(s->to_child[i]);
		close(s->from_child[i]);
	}
	return seen;
}

char *thp_area(int prot)
{
	char *map, *thp;

	map = mmap(NULL, 2 * THP_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		return NULL;
	thp = (char *)(((unsigned long)map + THP_SIZE - 1) & ~(THP_SIZE - 1));
	/* Keep only the aligned 2 MiB: its VMA is its own. */
	if (thp > map)
		munmap(map, thp - map);
	munmap(thp + THP_SIZE, map + THP_SIZE - thp);
	if (madvise(thp, THP_SIZE, MADV_HUGEPAGE)) {
		munmap(thp, THP_SIZE);
		return NULL;
	}
	return thp;
}

char *thp_alloc(void)
{
	char *thp = thp_area(PROT_READ | PROT_WRITE);

	if (!thp)
		return NULL;
	memset(thp, 0x5a, THP_SIZE);
	if (!thp_pmd_mapped(thp)) {
		munmap(thp, THP_SIZE);
		return NULL;
	}
	return thp;
}

void thp_free(char *thp)
{
	munmap(thp, THP_SIZE);
}

char *anon_page_get(bool thp, char **map)
{
	size_t psize = sysconf(_SC_PAGESIZE);

	if (thp) {
		*map = thp_alloc();
		return *map ? *map + 5 * psize : NULL;
	}
	*map = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	return *map;
}

void anon_page_put(bool thp, char *map)
{
	munmap(map, thp ? THP_SIZE : (size_t)sysconf(_SC_PAGESIZE));
}

unsigned long smaps_kb(const void *addr, const char *const fields[])
{
	unsigned long a = (unsigned long)addr, start, end, kb, total = 0;
	char line[256], fmt[64];
	bool in = false;
	unsigned int i;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= start && a < end;
			continue;
		}
		for (i = 0; in && fields[i]; i++) {
			snprintf(fmt, sizeof(fmt), "%s: %%lu kB", fields[i]);
			if (sscanf(line, fmt, &kb) == 1)
				total += kb;
		}
	}
	fclose(f);
	return total;
}

bool thp_pmd_mapped(const void *addr)
{
	static const char *const fields[] = { "AnonHugePages", NULL };

	return smaps_kb(addr, fields) >= THP_SIZE >> 10;
}

int page_move(void *addr)
{
	void *pages[1] = { addr };
	int status = -1, node = page_node(addr);
	long ret;

	if (node < 0)
		return node;
	node = !node;
	ret = syscall(SYS_move_pages, 0, 1, pages, &node, &status,
		      MPOL_MF_MOVE);
	if (ret < 0)
		return -errno;
	return ret == 0 && page_node(addr) == node ? 0 : -EBUSY;
}

void page_must_migrate(struct regress *r, void *addr)
{
	int i, ret = -EBUSY;

	for (i = 0; i < 50 && ret; i++) {
		ret = page_move(addr);
		if (ret)
			usleep(10000);
	}
	if (ret && !r->violated)
		regress_violation(r, "the page still does not migrate after the race (%s): a reference leaked",
				  strerror(-ret));
}

void pin_cases(struct regress *r, const char *const *a_name, int nr_a,
	       const char *const *b_name, int nr_b,
	       void (*round)(int a, int b, unsigned int seq),
	       const unsigned long *exercised, char *missing, size_t len)
{
	unsigned int seq = 0;
	int n, a, b;

	for (n = 0; n < 3 && regress_running(r); n++)
		for (a = 0; a < nr_a && regress_running(r); a++)
			for (b = 0; b < nr_b && regress_running(r); b++)
				round(a, b, seq++);
	for (a = 0; a < nr_a; a++)
		for (b = 0; b < nr_b; b++) {
			ksft_print_msg("%s/%s: exercised %lu times\n",
				       a_name[a], b_name[b],
				       exercised[a * nr_b + b]);
			if (!exercised[a * nr_b + b])
				snprintf(missing + strlen(missing),
					 len - strlen(missing), " %s/%s",
					 a_name[a], b_name[b]);
		}
}

void pin_finish(struct regress *r, const char *invariant, const char *missing)
{
	mmrace_control("reset");
	ksft_print_msg("mmrace-detect: %s windows=%s detected=%d seconds=%.2f cap=%.0f\n",
		       r->name, r->armed ? "armed" : "off", r->violated,
		       r->violated ? r->violated_at : regress_elapsed(r),
		       r->cap_s);
	ksft_set_plan(1);
	if (r->violated)
		ksft_test_result_fail("%s: violated after %.2f s: %s\n",
				      invariant, r->violated_at, r->why);
	else if (missing && *missing)
		ksft_test_result_skip("%s: held, but not exercised for:%s\n",
				      invariant, missing);
	else
		ksft_test_result_pass("%s: held for %.0f s, every case exercised\n",
				      invariant, regress_elapsed(r));
	if (!was_loaded)
		mmrace_unload();
	if (!r->violated && missing && *missing) {
		ksft_print_cnts();
		exit(KSFT_SKIP);
	}
	ksft_finished();
}
