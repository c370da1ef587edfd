// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on THP collapse: MADV_COLLAPSE (khugepaged's collapse, run
 * synchronously) over a 2 MiB range that holds a page someone else holds.
 *
 * For each memory kind (small anonymous pages; an anonymous THP mapped by
 * PTEs, after an mprotect(2) split its PMD; small shmem pages of a memfd
 * mapped shared) and each way of holding one page of it (a writable
 * long-term FOLL_PIN by GUP slow and by GUP-fast, gup_test
 * PIN_LONGTERM_TEST_START; a FOLL_GET reference by vmsplice(2) into a
 * pipe), a round fills the range (one word per page), holds page 5, asks
 * MADV_COLLAPSE to collapse the range, then writes a new word to page 5
 * through the mapping and reads the page the way the holder does
 * (PIN_LONGTERM_TEST_READ, read(2) of the pipe): it must read that word.
 * Then it lets go, and the range must collapse (MADV_COLLAPSE succeeds and
 * smaps shows the PMD mapping: AnonHugePages, ShmemPmdMapped) with every
 * page's word intact: that shows the collapse attempted with the page held
 * could have happened. A case counts as exercised only then, and only if
 * the range was not PMD-mapped before the held attempt.
 *
 * On a correct kernel the held attempt fails (EAGAIN: the collapse's
 * is_refcount_suitable() sees the extra reference) and the range stays as
 * it was; a collapse that went ahead would leave the holder with a page
 * the process no longer maps.
 *
 * The late pin (anon/late_pin): the collapse checks the references twice,
 * in its scan (hpage_collapse_scan_pmd(), mmap_lock read-held) and again
 * at isolation (__collapse_huge_page_isolate(), after mmap_lock was
 * dropped to allocate the THP and write-locked, the PMD cleared). A second
 * thread, on the other CPU, pins page 0 of a range of small anonymous
 * pages (writable long-term FOLL_PIN, GUP-fast and GUP slow in turn)
 * after a delay from the moment this thread enters MADV_COLLAPSE; the
 * delay adapts, growing while the pins land before the scan (it fails)
 * and shrinking while they land after the collapse (it pins the THP).
 * Then the process writes a new word to page 0 and the holder must read
 * it, as above. A pin that landed between the two checks is seen by the
 * isolation's alone: the round counts as exercised only when the
 * mm_collapse_huge_page_isolate trace event (filtered to this thread)
 * reports not_suitable_page_count; the phase ends after LATE_WANT of
 * them. No window: none sits in that gap; the thread's delay sweeps it.
 *
 * The shmem late pin (shmem/late_pin) does the same to a range of small
 * shmem pages of a memfd mapped shared: the scan
 * (hpage_collapse_scan_file()) checks the references locklessly, and
 * collapse_file() checks them again once each page is locked and
 * unmapped; a round counts when the mm_khugepaged_collapse_file event
 * reports not_suitable_page_count.
 *
 * Invariant: a pinned (or GUP-referenced) page stays the page the process
 * maps until it is let go: what the holder reads is what the process
 * wrote.
 * SKIP: no THP support (/sys/kernel/mm/transparent_hugepage), or a case
 * whose range never collapsed once let go, or no pin landed between the
 * scan and the isolation (or no tracefs to see it).
 * Mutants: 211-collapse-ignores-pins.patch (anonymous: small pages and the
 * PTE-mapped THP), 213-collapse-isolate-ignores-pins.patch (the late pin),
 * 214-collapse-file-ignores-pins.patch (shmem),
 * 228-collapse-file-late-pin.patch (the shmem late pin).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

enum mem { MEM_SMALL, MEM_PTE_THP, MEM_SHMEM, NR_MEM };
static const char *const mem_name[NR_MEM] = { "anon", "pte_thp", "shmem" };

#define HELD_PAGE 5
#define LATE_PAGE 0	/* the scan checks it first: the widest gap */
#define LATE_WANT 20	/* pins seen landing between scan and isolation */
#define TRACING "/sys/kernel/tracing"
#define HM_EVENTS TRACING "/events/huge_memory/"

static struct regress r;
static size_t psize;
static bool thp_always;
static unsigned long exercised[NR_MEM][NR_HOLD], attempts;

struct range {
	char *map;		/* THP_SIZE, 2 MiB aligned */
	int fd;
};

static bool pmd_mapped(enum mem m, const struct range *rg)
{
	static const char *const shmem[] = { "ShmemPmdMapped", NULL };
	static const char *const anon[] = { "AnonHugePages", NULL };

	return smaps_kb(rg->map, m == MEM_SHMEM ? shmem : anon) >=
	       THP_SIZE >> 10;
}

static char *map_aligned(int fd)
{
	char *res, *a;

	res = mmap(NULL, 2 * THP_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	a = (char *)(((unsigned long)res + THP_SIZE - 1) & ~(THP_SIZE - 1));
	munmap(res, 2 * THP_SIZE);
	if (fd >= 0)
		res = mmap(a, THP_SIZE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_FIXED, fd, 0);
	else
		res = mmap(a, THP_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return res == MAP_FAILED ? NULL : res;
}

static void fill(const struct range *rg, uint64_t base)
{
	size_t i;

	for (i = 0; i < THP_SIZE / psize; i++)
		put_word(rg->map + i * psize, base + i);
}

/* A 2 MiB range of @m, filled, not PMD-mapped; 0 or -errno. */
static int range_get(enum mem m, struct range *rg, uint64_t base)
{
	rg->fd = -1;
	rg->map = NULL;
	switch (m) {
	case MEM_SMALL:
		rg->map = map_aligned(-1);
		if (!rg->map)
			return -errno;
		/* MADV_COLLAPSE refuses VM_NOHUGEPAGE: lift it once filled. */
		if (thp_always && madvise(rg->map, THP_SIZE, MADV_NOHUGEPAGE))
			return -errno;
		fill(rg, base);
		if (thp_always && madvise(rg->map, THP_SIZE, MADV_HUGEPAGE))
			return -errno;
		break;
	case MEM_PTE_THP:
		rg->map = thp_alloc();
		if (!rg->map)
			return -ENOMEM;
		/* Split the PMD mapping (not the folio) and merge back. */
		if (mprotect(rg->map + psize, psize, PROT_READ) ||
		    mprotect(rg->map + psize, psize, PROT_READ | PROT_WRITE))
			return -errno;
		fill(rg, base);
		break;
	case MEM_SHMEM:
		rg->fd = memfd_create("collapse_vs_pin", 0);
		if (rg->fd < 0 || ftruncate(rg->fd, THP_SIZE))
			return -errno;
		rg->map = map_aligned(rg->fd);
		if (!rg->map)
			return -errno;
		fill(rg, base);
		break;
	default:
		return -EINVAL;
	}
	return pmd_mapped(m, rg) ? -EEXIST : 0;
}

static void range_put(struct range *rg)
{
	if (rg->map)
		munmap(rg->map, THP_SIZE);
	if (rg->fd >= 0)
		close(rg->fd);
}

/* MADV_COLLAPSE, retried on EAGAIN a few times: 0 or -errno. */
static int collapse(const struct range *rg, int tries)
{
	int ret = 0, i;

	for (i = 0; i < tries; i++) {
		ret = madvise(rg->map, THP_SIZE, MADV_COLLAPSE) ? -errno : 0;
		if (ret != -EAGAIN)
			break;
		usleep(2000);
	}
	return ret;
}

static void round_one(enum mem m, enum hold h, uint64_t base)
{
	char *page, *buf = malloc(psize);
	int ret, held_ret, i;
	struct held held;
	struct range rg;
	bool held_pmd;
	uint64_t v = base + 0x100000, seen, w;

	if (!buf)
		ksft_exit_fail_msg("malloc\n");
	ret = range_get(m, &rg, base);
	if (ret) {
		ksft_print_msg("%s/%s: no range to collapse: %s\n", mem_name[m],
			       hold_name[h], strerror(-ret));
		goto out;
	}
	page = rg.map + HELD_PAGE * psize;
	ret = hold_start(&held, h, page, psize);
	if (ret)
		ksft_exit_fail_msg("holding the %s page by %s: %s\n",
				   mem_name[m], hold_name[h], strerror(-ret));
	attempts++;
	held_ret = madvise(rg.map, THP_SIZE, MADV_COLLAPSE) ? -errno : 0;
	held_pmd = pmd_mapped(m, &rg);
	put_word(page, v);
	ret = hold_read_stop(&held, buf, psize);
	if (ret)
		ksft_exit_fail_msg("reading the held page: %s\n",
				   strerror(-ret));
	seen = *(uint64_t *)buf;
	if (seen != v) {
		regress_violation(&r, "%s page held by %s: the holder reads %#llx, the process wrote %#llx after MADV_COLLAPSE (%s, range %sPMD-mapped): the collapse replaced the held page",
				  mem_name[m], hold_name[h],
				  (unsigned long long)seen,
				  (unsigned long long)v,
				  held_ret ? strerror(-held_ret) : "succeeded",
				  held_pmd ? "" : "not ");
		goto out_put;
	}
	if (held_pmd) {
		ksft_print_msg("%s/%s: collapsed with the page held, holder still sees the process's writes\n",
			       mem_name[m], hold_name[h]);
		goto out_put;
	}
	/* Let go: now the range must collapse, contents intact. */
	ret = collapse(&rg, 10);
	if (ret || !pmd_mapped(m, &rg)) {
		ksft_print_msg("%s/%s: the range does not collapse once let go (%s)\n",
			       mem_name[m], hold_name[h],
			       ret ? strerror(-ret) : "not PMD-mapped");
		goto out_put;
	}
	for (i = 0; i < (int)(THP_SIZE / psize); i++) {
		w = get_word(rg.map + i * psize);
		if (w != (i == HELD_PAGE ? v : base + i)) {
			regress_violation(&r, "%s/%s: page %d reads %#llx after the collapse, expected %#llx",
					  mem_name[m], hold_name[h], i,
					  (unsigned long long)w,
					  (unsigned long long)(i == HELD_PAGE ?
							       v : base + i));
			goto out_put;
		}
	}
	exercised[m][h]++;
	regress_exercised(&r, 1);
	if (attempts <= NR_MEM * NR_HOLD)
		ksft_print_msg("%s/%s: held: MADV_COLLAPSE %s; let go: collapsed\n",
			       mem_name[m], hold_name[h],
			       held_ret ? strerror(-held_ret) : "succeeded");
out_put:
	range_put(&rg);
out:
	free(buf);
}

static void round_seq(int m, int h, unsigned int seq)
{
	round_one(m, h, 0x10000000 + seq * 0x1000ULL);
}

/* The late pin's second thread and its handshake with this one. */
static struct {
	sem_t wake;
	char *page;
	unsigned int flags;
	unsigned long delay_ns;
	int round, ready, go, done, ret;	/* round numbers; ret: pin's */
	bool stop;
} late;
static unsigned long late_exercised, late_early, late_after, late_other;
static unsigned long late_fast;		/* of late_exercised, by GUP-fast */
static unsigned long late_aim_ns;	/* the delay the rounds spread around */
static int late_only = -1;	/* MMRACE_LATE_PIN=fast|slow: PIN_FAST/SLOW */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *late_pinner(void *arg)
{
	uint64_t until;
	int round;

	(void)arg;
	regress_pin_cpu(1);
	for (;;) {
		sem_wait(&late.wake);
		if (late.stop)
			return NULL;
		round = late.round;
		__atomic_store_n(&late.ready, round, __ATOMIC_RELEASE);
		while (__atomic_load_n(&late.go, __ATOMIC_ACQUIRE) != round)
			;
		until = now_ns() + late.delay_ns;
		while (now_ns() < until)
			;
		late.ret = pin_start(late.page, psize, late.flags);
		__atomic_store_n(&late.done, round, __ATOMIC_RELEASE);
	}
}

/* Empties the trace buffer (a write does not: it takes O_TRUNC). */
static void trace_clear(void)
{
	int fd = open(TRACING "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

/* Anonymous memory's isolation and scan, then shmem's collapse and scan. */
static const char *const late_events[] = {
	"mm_collapse_huge_page_isolate", "mm_khugepaged_scan_pmd",
	"mm_khugepaged_collapse_file", "mm_khugepaged_scan_file"
};

/* The collapse's trace events, of thread @tid only (@tid 0: off); 0/-errno. */
static int trace_events(pid_t tid)
{
	char path[128], filter[64];
	int ret = 0, i;

	if (tid && access(TRACING "/trace", F_OK))
		mount("nodev", TRACING, "tracefs", 0, NULL);
	snprintf(filter, sizeof(filter), tid ? "common_pid == %d" : "0", tid);
	for (i = 0; i < (int)ARRAY_SIZE(late_events) && !ret; i++) {
		snprintf(path, sizeof(path), HM_EVENTS "%s/filter",
			 late_events[i]);
		ret = mmrace_write(path, filter);
		snprintf(path, sizeof(path), HM_EVENTS "%s/enable",
			 late_events[i]);
		if (!ret)
			ret = mmrace_write(path, tid ? "1" : "0");
	}
	if (!ret && tid)
		ret = mmrace_write(TRACING "/tracing_on", "1");
	trace_clear();
	return ret;
}

/*
 * Since the last call: isolations (anonymous) or collapses (shmem) that
 * found a page's references unsuitable (@late), and collapses that failed
 * so in their scan (@early).
 */
static void trace_take(unsigned long *late_n, unsigned long *early_n)
{
	static char buf[1 << 16];
	char *line;

	*late_n = 0;
	*early_n = 0;
	if (mmrace_read(TRACING "/trace", buf, sizeof(buf)) < 0)
		return;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || !strstr(line, "not_suitable_page_count"))
			continue;
		if (strstr(line, "mm_collapse_huge_page_isolate:") ||
		    strstr(line, "mm_khugepaged_collapse_file:"))
			(*late_n)++;
		else if (strstr(line, "mm_khugepaged_scan_pmd:") ||
			 strstr(line, "mm_khugepaged_scan_file:"))
			(*early_n)++;
	}
	trace_clear();
	*early_n -= *late_n < *early_n ? *late_n : *early_n;
}

/* One late-pin round on @rg (@m, PTE-mapped); whether it collapsed. */
static bool late_round(enum mem m, struct range *rg, int round, char *buf,
		       bool traced)
{
	unsigned long late_n = 0, early_n = 0;
	uint64_t v = 0x30000000ULL + round, seen;
	int cret, ret;
	bool pmd;

	late.page = rg->map + LATE_PAGE * psize;
	late.flags = PIN_WRITE | (late_only >= 0 ? late_only :
				  round & 1 ? PIN_FAST : PIN_SLOW);
	late.round = round;
	sem_post(&late.wake);
	while (__atomic_load_n(&late.ready, __ATOMIC_ACQUIRE) != round)
		;
	__atomic_store_n(&late.go, round, __ATOMIC_RELEASE);
	cret = madvise(rg->map, THP_SIZE, MADV_COLLAPSE) ? -errno : 0;
	while (__atomic_load_n(&late.done, __ATOMIC_ACQUIRE) != round)
		;
	if (late.ret)
		ksft_exit_fail_msg("late pin (%s): %s\n",
				   late.flags & PIN_FAST ? "fast" : "slow",
				   strerror(-late.ret));
	pmd = pmd_mapped(m, rg);
	put_word(late.page, v);
	ret = pin_read(buf);
	pin_stop();
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_READ: %s\n",
				   strerror(-ret));
	if (traced)
		trace_take(&late_n, &early_n);
	seen = *(uint64_t *)buf;
	if (seen != v) {
		regress_violation(&r, "%s page pinned by %s while MADV_COLLAPSE ran (%lu ns in): the holder reads %#llx, the process wrote %#llx after the collapse (%s, range %sPMD-mapped): the collapse replaced a page pinned after its scan",
				  mem_name[m], hold_name[late.flags & PIN_FAST ?
					    HOLD_PIN_FAST : HOLD_PIN_SLOW],
				  late.delay_ns, (unsigned long long)seen,
				  (unsigned long long)v,
				  cret ? strerror(-cret) : "succeeded",
				  pmd ? "" : "not ");
		return pmd;
	}
	if (late_n) {
		late_exercised++;
		late_fast += !!(late.flags & PIN_FAST);
		regress_exercised(&r, 1);
	} else if (early_n || (!traced && cret == -EAGAIN)) {
		late_early++;
	} else if (pmd) {
		late_after++;
	} else {
		late_other++;
		if (late_other <= 3)
			ksft_print_msg("late pin: MADV_COLLAPSE %s, not PMD-mapped, no reference failure traced\n",
				       cret ? strerror(-cret) : "succeeded");
	}
	/* Aim at the gap: later while the scan sees the pin, sooner after. */
	if (!late_n && (early_n || (!traced && cret == -EAGAIN)))
		late_aim_ns += late_aim_ns / 8 + 2000;
	else if (!late_n && pmd)
		late_aim_ns -= late_aim_ns / 8;
	return pmd;
}

/*
 * Pins a page of a range of @m while MADV_COLLAPSE runs on it until
 * LATE_WANT pins were seen landing between the scan and the isolation (or
 * the cap).
 */
static void late_phase(enum mem m, char *missing, size_t len)
{
	struct range rg = { NULL, -1 };
	char *buf = malloc(psize);
	bool have = false, traced;
	uint64_t base = 0x20000000;
	int round = 0, ret;
	pthread_t t;

	late_exercised = late_early = late_after = late_other = 0;
	late_fast = late_aim_ns = 0;
	late.round = late.ready = late.go = late.done = 0;
	late.stop = false;
	if (!buf || sem_init(&late.wake, 0, 0))
		ksft_exit_fail_msg("late pin: %s\n", strerror(errno));
	if (getenv("MMRACE_LATE_PIN"))
		late_only = strcmp(getenv("MMRACE_LATE_PIN"), "fast") ?
			    PIN_SLOW : PIN_FAST;
	regress_pin_cpu(0);
	ret = trace_events(syscall(SYS_gettid));
	traced = !ret;
	if (!traced)
		ksft_print_msg("%s late pin: no huge_memory trace events (%s): cannot see a pin land between scan and isolation\n",
			       mem_name[m], strerror(-ret));
	if (pthread_create(&t, NULL, late_pinner, NULL))
		ksft_exit_fail_msg("pthread_create\n");
	srand(1);
	while (regress_running(&r) && late_exercised < LATE_WANT) {
		if (!have) {
			ret = range_get(m, &rg, base);
			base += 0x1000;
			if (ret) {
				ksft_print_msg("late pin: no range to collapse: %s\n",
					       strerror(-ret));
				range_put(&rg);
				break;
			}
			have = true;
		}
		round++;
		/* Spread around the aim: uniform in [aim/2, 3*aim/2]. */
		late.delay_ns = late_aim_ns / 2 +
				(unsigned long)rand() % (late_aim_ns + 1);
		have = !late_round(m, &rg, round, buf, traced);
		if (!have)
			range_put(&rg);
	}
	if (have)
		range_put(&rg);
	late.stop = true;
	sem_post(&late.wake);
	pthread_join(t, NULL);
	if (traced)
		trace_events(0);
	ksft_print_msg("%s late pin: %d rounds: %lu between scan and isolation (%lu by GUP-fast), %lu before the scan, %lu after the collapse, %lu other; aim %lu ns\n",
		       mem_name[m], round, late_exercised, late_fast, late_early,
		       late_after, late_other, late_aim_ns);
	if (!late_exercised)
		snprintf(missing + strlen(missing), len - strlen(missing),
			 " %s/late_pin%s", mem_name[m],
			 traced ? "" : "(untraced)");
	free(buf);
}

int main(void)
{
	char missing[512] = "", enabled[128] = "";

	pin_init(&r, "collapse_vs_pin", 30);
	regress_exercise_own(&r, "collapses attempted with a page of the range held, and pins seen landing between a collapse's scan and its isolation");
	if (mmrace_read("/sys/kernel/mm/transparent_hugepage/enabled",
			enabled, sizeof(enabled)) <= 0)
		ksft_exit_skip("no /sys/kernel/mm/transparent_hugepage (CONFIG_TRANSPARENT_HUGEPAGE)\n");
	thp_always = strstr(enabled, "[always]");
	psize = sysconf(_SC_PAGESIZE);
	pin_cases(&r, mem_name, NR_MEM, hold_name, NR_HOLD, round_seq,
		  &exercised[0][0], missing, sizeof(missing));
	if (!r.violated)
		late_phase(MEM_SMALL, missing, sizeof(missing));
	if (!r.violated)
		late_phase(MEM_SHMEM, missing, sizeof(missing));
	ksft_print_msg("mmrace-exercised: %s count=%llu what=%s\n", r.name,
		       r.exercised, r.exercise);
	pin_finish(&r, "collapse leaves held pages alone", missing);
}
