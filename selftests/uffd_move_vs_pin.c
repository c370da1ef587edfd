// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 on userfaultfd's UFFDIO_MOVE: moving a pinned anonymous page to
 * another address.
 *
 * UFFDIO_MOVE takes an exclusive anonymous page (or a PMD-mapped THP) out
 * of its source address and maps it at the destination, in the same
 * process. A pinned page must not move (move_present_pte(),
 * move_pages_huge_pmd(): folio_maybe_dma_pinned(), checked before and
 * again after the source entry is cleared): the pin holder would keep the
 * page the process no longer maps at the address it pinned.
 *
 * For a small anonymous page and a PMD-mapped THP, and for a writable
 * long-term pin by GUP slow and by GUP-fast (gup_test
 * PIN_LONGTERM_TEST_START), a round writes a word to the source, pins it,
 * and asks UFFDIO_MOVE to move it to a destination registered with the
 * userfaultfd; then the process writes a new word at the source and the
 * holder (PIN_LONGTERM_TEST_READ) must read it. Then the round lets go and
 * asks again: the move must now succeed, the destination reading the
 * word. That shows the held attempt could have moved the page: only then
 * does the case count as exercised.
 *
 * Invariant: a pinned page stays the page the process maps at the address
 * it pinned until it is unpinned.
 * Verdict: fails on a violation; passes only if every case was exercised;
 * SKIP naming the others (no userfaultfd or UFFD_FEATURE_MOVE, no THP).
 * Mutants: 235-uffd-move-moves-pinned-pte.patch (page),
 * 236-uffd-move-moves-pinned-pmd.patch (thp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

enum kind { K_PAGE, K_THP, NR_KIND };
static const char *const kind_name[NR_KIND] = { "page", "thp" };
static const char *const pin_name[2] = {
	"pin_user_pages", "pin_user_pages_fast"
};

static struct regress r;
static size_t psize;
static int uffd = -1;
static unsigned long exercised[NR_KIND * 2];
static char *buf;

#ifdef UFFDIO_MOVE
/* A 2 MiB-aligned anonymous area of @len, registered with the uffd. */
static char *dst_get(size_t len)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char *res, *dst;

	res = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	dst = (char *)(((unsigned long)res + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (dst > res)
		munmap(res, dst - res);
	munmap(dst + len, res + len + THP_SIZE - (dst + len));
	reg.range.start = (unsigned long)dst;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ksft_exit_fail_msg("UFFDIO_REGISTER: %s\n", strerror(errno));
	return dst;
}

/* UFFDIO_MOVE of @len bytes from @src to @dst: bytes moved or -errno. */
static long uffd_move(char *dst, char *src, size_t len)
{
	struct uffdio_move mv = {
		.dst = (unsigned long)dst,
		.src = (unsigned long)src,
		.len = len,
	};

	if (ioctl(uffd, UFFDIO_MOVE, &mv))
		return mv.move < 0 ? mv.move : -errno;
	return mv.move;
}

static void round_one(int k, int pin, unsigned int seq)
{
	size_t len = k == K_THP ? THP_SIZE : psize;
	uint64_t v = 0x5500000 + seq * 4, seen;
	char *map, *page, *dst;
	long moved;
	int ret;

	page = anon_page_get(k == K_THP, &map);
	if (!page)
		return;
	/* The whole THP moves: its first page is the one to watch. */
	page = map;
	put_word(page, v);
	dst = dst_get(len);
	ret = pin_start(page, psize, PIN_WRITE | (pin ? PIN_FAST : PIN_SLOW));
	if (ret)
		ksft_exit_fail_msg("pinning: %s\n", strerror(-ret));
	moved = uffd_move(dst, map, len);
	put_word(page, v + 1);
	ret = pin_read(buf);
	pin_stop();
	if (ret)
		ksft_exit_fail_msg("PIN_LONGTERM_TEST_READ: %s\n",
				   strerror(-ret));
	seen = *(uint64_t *)buf;
	if (seen != v + 1)
		regress_violation(&r, "%s/%s: the holder reads %#llx, the process wrote %#llx at the pinned address after UFFDIO_MOVE (%s): the pinned page was moved away",
				  kind_name[k], pin_name[pin],
				  (unsigned long long)seen,
				  (unsigned long long)(v + 1),
				  moved < 0 ? strerror(-moved) : "moved");
	else if (moved < 0 && uffd_move(dst, map, len) == (long)len &&
		 get_word(dst) == v + 1 &&
		 (k != K_THP || thp_pmd_mapped(dst)))
		exercised[k * 2 + pin]++;
	munmap(dst, len);
	anon_page_put(k == K_THP, map);
}
#endif

int main(void)
{
	char missing[256] = "";

	pin_init(&r, "uffd_move_vs_pin", 30);
	psize = sysconf(_SC_PAGESIZE);
	buf = malloc(psize);
	if (!buf)
		ksft_exit_fail_msg("malloc\n");
#ifdef UFFDIO_MOVE
	{
		struct uffdio_api api = {
			.api = UFFD_API,
			.features = UFFD_FEATURE_MOVE,
		};

		uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
		if (uffd < 0)
			ksft_exit_skip("userfaultfd: %s (CONFIG_USERFAULTFD)\n",
				       strerror(errno));
		if (ioctl(uffd, UFFDIO_API, &api))
			ksft_exit_skip("UFFDIO_API with UFFD_FEATURE_MOVE: %s\n",
				       strerror(errno));
	}
	pin_cases(&r, kind_name, NR_KIND, pin_name, 2, round_one, exercised,
		  missing, sizeof(missing));
#else
	ksft_exit_skip("built without UFFDIO_MOVE in <linux/userfaultfd.h>\n");
#endif
	pin_finish(&r, "a pinned page is never moved away by UFFDIO_MOVE",
		   missing);
}
