// SPDX-License-Identifier: GPL-2.0
/*
 * Seeds 001 and 004, class 1 (speculative page-cache references), path
 * filemap_get_read_batch(): read(2) of a regular, non-shmem page cache
 * (ramfs) while its folios are evicted, freed and reused for another file.
 *
 * File X on ramfs has NPAGES pages: the odd ones written with a pattern
 * naming X and the page (dirty: ramfs never evicts them), the even ones
 * holes, whose clean zero-filled folios read(2) creates. A child process
 * (CPU 1, outside the windows' pid filter) loops: drop_caches (evicts X's
 * clean hole folios: __remove_mapping() freezes the refcount, removes the
 * folio, frees it), writes file Y (its new folios are, most often, the ones
 * just freed: per-CPU lists are LIFO, and both sides allocate from node 0),
 * truncates the Y of the cycle before (two Ys in turn). The
 * reader (CPU 0) reads pages [i, i+1] of X, i even, in one pread(2); the
 * pagecache_pre_grab window holds its filemap_get_read_batch() between
 * loading the folio pointer and folio_try_get(), so that the hole folio it
 * loaded is evicted, frozen, freed or reused for Y meanwhile. The windows
 * that closed on the folio frozen, freed or out of X's mapping (the
 * window stat released; pid filter: the reader only) are the runs of the
 * dangerous interleaving: the reader's folio_try_get() or its slot
 * re-check must then notice. Passes only if there were some; else SKIP.
 *
 * Invariant: a read returns the file's bytes (zeros, then page i+1's
 * pattern), never another page's or another file's: a folio whose
 * speculative reference fails is retried, not skipped as a hole, and a
 * referenced folio that is no longer in the slot is dropped.
 * Mutants: 005-read-batch-skips-unreferenced-folio.patch (the failed
 * reference taken for a hole), 006-read-batch-no-slot-recheck.patch (the
 * re-check after the reference dropped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "regress.h"

#define NPAGES 16
#ifndef MPOL_PREFERRED
#define MPOL_PREFERRED 1
#endif
#define DELAY_US 2000

static struct regress r;
static size_t psize;
static char dir[32];

static uint64_t pattern(char file, int i)
{
	return 0x6d6d720000000000ULL | (uint64_t)file << 32 | (uint64_t)i;
}

static void fill(uint64_t *buf, char file, int i)
{
	size_t w;

	for (w = 0; w < psize / 8; w++)
		buf[w] = pattern(file, i);
}

/* What a page that should have been @want holds, or NULL if it does. */
static const char *wrong(const uint64_t *page, uint64_t want, uint64_t *seen)
{
	size_t w;

	for (w = 0; w < psize / 8; w++) {
		if (page[w] == want)
			continue;
		*seen = page[w];
		if ((page[w] & ~0xffffffffULL) == (pattern('X', 0) & ~0xffffffffULL))
			return "another page of the file: a folio whose reference failed was skipped as a hole";
		if ((page[w] & ~0xffffffffULL) == (pattern('Y', 0) & ~0xffffffffULL))
			return "another file's bytes: a folio freed and reused was returned";
		return "foreign bytes";
	}
	return NULL;
}

/*
 * The child: evict, reuse, free, until the parent kills it. Two foreign
 * files in turn: the one written after an eviction (mostly in the folios
 * it freed) stays until the next cycle's eviction, so that the freed
 * folios stay reused for a while.
 */
static void churn(const int *y, unsigned long *cycles)
{
	uint64_t *buf = malloc(NPAGES * psize);
	int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	int j, k;

	if (!buf || dc < 0)
		_exit(1);
	for (j = 0; j < NPAGES; j++)
		fill(buf + j * psize / 8, 'Y', j);
	regress_pin_cpu(1);
	for (k = 0;; k = !k) {
		if (pwrite(dc, "1", 1, 0) != 1)
			_exit(2);
		if (pwrite(y[k], buf, NPAGES * psize, 0) !=
		    (ssize_t)(NPAGES * psize))
			_exit(3);
		if (ftruncate(y[!k], 0))
			_exit(4);
		__atomic_add_fetch(cycles, 1, __ATOMIC_RELAXED);
	}
}

static void cleanup(void)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

int main(void)
{
	struct mmrace_stats s;
	unsigned long reads = 0, *cycles;
	uint64_t *buf, *want, seen = 0;
	char path[64];
	int x, y[2], i, status;
	const char *why;
	pid_t child;

	regress_init(&r, "read_batch_vs_evict_reuse", 10);
	psize = sysconf(_SC_PAGESIZE);
	mkdir("/tmp", 0755);
	snprintf(dir, sizeof(dir), "/tmp/mmrace-ramfs.XXXXXX");
	if (!mkdtemp(dir))
		ksft_exit_fail_msg("mkdtemp: %s\n", strerror(errno));
	if (mount("none", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		ksft_exit_skip("cannot mount ramfs: %s\n", strerror(errno));
	}
	if (access("/proc/sys/vm/drop_caches", W_OK)) {
		cleanup();
		ksft_exit_skip("no /proc/sys/vm/drop_caches: nothing evicts\n");
	}
	snprintf(path, sizeof(path), "%s/x", dir);
	x = open(path, O_RDWR | O_CREAT, 0600);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/y%d", dir, i);
		y[i] = open(path, O_RDWR | O_CREAT, 0600);
	}
	buf = malloc(2 * psize);
	want = malloc(psize);
	cycles = mmap(NULL, sizeof(*cycles), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x < 0 || y[0] < 0 || y[1] < 0 || !buf || !want || cycles == MAP_FAILED) {
		cleanup();
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	}
	for (i = 1; i < NPAGES; i += 2) {
		fill(want, 'X', i);
		if (pwrite(x, want, psize, i * psize) != (ssize_t)psize) {
			cleanup();
			ksft_exit_fail_msg("write X: %s\n", strerror(errno));
		}
	}

	/*
	 * Both sides allocate from node 0: a folio is freed to the per-CPU
	 * list of its own zone, and the child's allocations on CPU 1 would
	 * otherwise come from CPU 1's node, never reusing the reader's.
	 */
	if (race_nodes() > 1) {
		unsigned long node0 = 1;

		if (syscall(SYS_set_mempolicy, MPOL_PREFERRED, &node0,
			    8 * sizeof(node0)))
			ksft_print_msg("set_mempolicy: %s\n", strerror(errno));
	}
	/* The reader's lookups only: the child is another process. */
	regress_arm(&r, "pagecache_pre_grab", NULL, DELAY_US, REGRESS_PROCESS);
	regress_exercise(&r, "folios frozen, freed or out of the file at the close of a window holding the reader's unreferenced pointer (pagecache_pre_grab released)");
	child = fork();
	if (child < 0) {
		cleanup();
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}
	if (!child)
		churn(y, cycles);

	regress_pin_cpu(0);
	for (i = 0; regress_running(&r); i = (i + 2) % NPAGES) {
		if (pread(x, buf, 2 * psize, i * psize) != (ssize_t)(2 * psize)) {
			regress_violation(&r, "pread of pages %d-%d: %s", i,
					  i + 1, strerror(errno));
			break;
		}
		reads++;
		memset(want, 0, psize);
		why = wrong(buf, 0, &seen);
		if (why) {
			regress_violation(&r, "page %d (a hole) read %#llx: %s",
					  i, (unsigned long long)seen, why);
			break;
		}
		fill(want, 'X', i + 1);
		why = wrong(buf + psize / 8, pattern('X', i + 1), &seen);
		if (why) {
			regress_violation(&r, "page %d read %#llx: %s", i + 1,
					  (unsigned long long)seen, why);
			break;
		}
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (WIFEXITED(status)) {
		mmrace_control("reset");
		cleanup();
		ksft_exit_fail_msg("the evicting child failed (exit %d)\n",
				   WEXITSTATUS(status));
	}
	ksft_print_msg("%lu reads; %lu evict/reuse/free cycles\n", reads,
		       *cycles);
	close(x);
	close(y[0]);
	close(y[1]);
	cleanup();
	/*
	 * The windows that closed on a folio frozen, freed or out of X's
	 * mapping: the reader's folio_try_get() or its slot re-check must
	 * then notice (a hit may be no more than a lock taken and dropped).
	 */
	if (r.armed && !win_stats("pagecache_pre_grab", &s))
		regress_exercised(&r, s.released);
	regress_finish(&r, "read(2) never returns a skipped, freed or reused page-cache folio's bytes");
}
