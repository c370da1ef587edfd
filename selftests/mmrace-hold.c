// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace-hold: a workload helper for experiments by hand (make shell,
 * Documentation/howto.rst). Maps PAGES anonymous pages, fills each with its
 * own pattern, and prints one line, "PID 0xADDRESS PFN", naming the page
 * with the lowest page frame number (compaction's migrate scanner reaches
 * low pfns first): what `windows/NAME/target` takes. Then it holds the
 * pages until its standard input reaches end of file or it gets SIGTERM or
 * SIGINT, and prints what became of them: how many still hold their
 * pattern, how many read as zero (unmapped meanwhile, then faulted in
 * again, as after MADV_DONTNEED or an adversary's `zap`), and how many
 * hold anything else (foreign data: a bug). Exits 1 if any does.
 *
 * Usage: mmrace-hold [-n PAGES] [-N NODE]
 *   -n: how many pages (default 4096); -N: allocate them on that NUMA node
 *   (mbind(2)); needs root for the pfns.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* No SA_RESTART: the signal makes read(2) fail with EINTR, ending the hold. */
static void on_signal(int sig)
{
	(void)sig;
}

static uint64_t pattern(size_t i, size_t word)
{
	return 0x6d6d726163650000ull ^ (i << 20) ^ word ^ 1;
}

int main(int argc, char **argv)
{
	size_t n = 4096, page = (size_t)sysconf(_SC_PAGESIZE);
	size_t i, w, words = page / sizeof(uint64_t);
	size_t best = 0, same = 0, zero = 0, foreign = 0;
	uint64_t best_pfn = UINT64_MAX, *pm;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t *mem;
	char c;
	int opt, fd, node = -1;

	while ((opt = getopt(argc, argv, "n:N:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 0);
		else if (opt == 'N')
			node = atoi(optarg);
		if ((opt != 'n' && opt != 'N') || !n || node < -1 || node > 63) {
			fprintf(stderr, "usage: %s [-n PAGES] [-N NODE]\n", argv[0]);
			return 2;
		}
	}
	mem = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	if (node >= 0) {
		unsigned long mask = 1UL << node;

		if (syscall(SYS_mbind, mem, n * page, 2 /* MPOL_BIND */, &mask,
			    64, 0)) {
			perror("mbind");
			return 2;
		}
	}
	/* Base pages: a THP's pfns are contiguous and less telling. */
	madvise(mem, n * page, MADV_NOHUGEPAGE);
	for (i = 0; i < n; i++)
		for (w = 0; w < words; w++)
			mem[i * words + w] = pattern(i, w);
	/* One read of the pagemap for all pages (a debug kernel is slow). */
	pm = calloc(n, sizeof(*pm));
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (!pm || fd < 0 ||
	    pread(fd, pm, n * sizeof(*pm),
		  (uintptr_t)mem / page * sizeof(*pm)) !=
	    (ssize_t)(n * sizeof(*pm))) {
		perror("mmrace-hold: /proc/self/pagemap");
		return 2;
	}
	close(fd);
	for (i = 0; i < n; i++) {
		uint64_t pfn = pm[i] >> 63 ? pm[i] & ((1ULL << 55) - 1) : 0;

		if (pfn && pfn < best_pfn) {
			best_pfn = pfn;
			best = i;
		}
	}
	free(pm);
	if (best_pfn == UINT64_MAX) {
		fprintf(stderr, "mmrace-hold: no pfn in /proc/self/pagemap (not root?)\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("%d %p %llu\n", getpid(), (void *)(mem + best * words),
	       (unsigned long long)best_pfn);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < n; i++) {
		uint64_t *p = mem + i * words;
		size_t ok = 0, zeros = 0;

		for (w = 0; w < words; w++) {
			ok += p[w] == pattern(i, w);
			zeros += p[w] == 0;
		}
		if (ok == words)
			same++;
		else if (zeros == words)
			zero++;
		else
			foreign++;
	}
	printf("mmrace-hold: %zu pages: %zu kept their data, %zu read zero (unmapped meanwhile), %zu foreign\n",
	       n, same, zero, foreign);
	return foreign ? 1 : 0;
}
