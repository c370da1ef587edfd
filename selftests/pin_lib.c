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

int pin_start(void *addr, size_t size, unsigned int flags)
{
	struct pin_longterm_test pin = {
		.addr = (unsigned long)addr,
		.size = size,
		.flags = flags,
	};

	return ioctl(gup_fd, PIN_LONGTERM_TEST_START, &pin) ? -errno : 0;
}

int pin_read(void *buf)
{
	__u64 addr = (unsigned long)buf;

	return ioctl(gup_fd, PIN_LONGTERM_TEST_READ, &addr) ? -errno : 0;
}

void pin_stop(void)
{
	ioctl(gup_fd, PIN_LONGTERM_TEST_STOP);
}

char *thp_alloc(void)
{
	char *map, *thp;

	map = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

bool thp_pmd_mapped(const void *addr)
{
	unsigned long a = (unsigned long)addr, start, end;
	bool in = false, found = false;
	char line[256];
	unsigned long kb;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= start && a < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
			found = kb >= THP_SIZE >> 10;
			break;
		}
	}
	fclose(f);
	return found;
}

int page_node(void *addr)
{
	void *pages[1] = { addr };
	int status = -1;

	if (syscall(SYS_move_pages, 0, 1, pages, NULL, &status, 0))
		return -errno;
	return status;
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
