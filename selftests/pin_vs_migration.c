// SPDX-License-Identifier: GPL-2.0
/*
 * Class 2 (seed 000) on every memory kind and grab path: migration against
 * a reference that stays held.
 *
 * For each memory kind (an anonymous page, a page of an anonymous THP
 * mapped by a PMD, a shmem page of a memfd mapped shared, a page inside a
 * 2 MiB hugetlb page of a MFD_HUGETLB memfd mapped shared, from the pool
 * the guest's init fills; a page of a block device's page cache, a zram
 * device the test creates, mapped shared: file-backed memory that is not
 * shmem, migrated by its address space's own migrate_folio, here
 * filemap_migrate_folio() since the test kernel has no buffer heads) and
 * each way of
 * holding it (a long-term FOLL_PIN by GUP slow, pin_user_pages(), and by
 * GUP-fast, pin_user_pages_fast(), both through gup_test
 * PIN_LONGTERM_TEST_START; a FOLL_GET reference by vmsplice(2) into a
 * pipe), a round holds the page, asks move_pages(2) to migrate it to the
 * other node three times, writes a new value through the mapping and reads
 * the page back the way the holder does (PIN_LONGTERM_TEST_READ, read(2)
 * of the pipe). Then it lets go, and the page must migrate (for the THP,
 * whole and still PMD-mapped): that shows migration could have moved it.
 * A case counts as exercised only then. On anonymous memory a FOLL_PIN
 * stops migration before its refcount check (try_to_migrate() does not
 * unmap a maybe-pinned exclusive page, folio_try_share_anon_rmap_*()):
 * there the vmsplice rounds, a FOLL_GET, are the ones that reach it; on
 * shmem and hugetlb every way of holding does (a hugetlb page outside
 * ZONE_MOVABLE may be pinned long-term where it is). The block device's
 * page is pinned read-only (a writable long-term pin of a file that needs
 * dirty tracking is refused). A hugetlb page
 * migrates only to a free pool page of the other node: with none there
 * the case is not exercised and the test SKIPs naming it.
 *
 * Invariant: migration never moves a page someone holds a reference on;
 * what the holder reads is what the process wrote.
 * Mutants: 000-migrate-skip-anon-refcount-check.patch (anonymous page),
 * 200-migrate-skip-mapping-refcount-check.patch (shmem),
 * 201-migrate-skip-large-anon-refcount-check.patch (THP),
 * 220-migrate-hugetlb-skip-refcount-check.patch (hugetlb); 200 also by the
 * file case (measured with the file case first: 0.02 s, 2026-12-03).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/memfd.h>

#include "kselftest.h"
#include "mmrace_lib.h"
#include "pin_lib.h"

enum mem { MEM_ANON, MEM_THP, MEM_SHMEM, MEM_HUGETLB, MEM_FILE, NR_MEM };
static const char *const mem_name[NR_MEM] = {
	"anon", "thp", "shmem", "hugetlb", "file"
};

/* The block device of MEM_FILE: FILE_PAGES pages, taken in turn. */
#define FILE_PAGES 16
#define ZRAM_CONTROL "/sys/class/zram-control/hot_add"
static int file_fd = -1, file_id = -1;
static unsigned int file_next;

static uint64_t file_pattern(int page)
{
	return 0x66696c6500000000ULL | page;
}

static struct regress r;
static size_t psize;
static unsigned long exercised[NR_MEM][NR_HOLD], attempts;

struct mem_area {
	char *map;		/* what to unmap */
	size_t len;
	char *page;		/* the page held */
	int fd;
};

static int mem_get(enum mem m, struct mem_area *a)
{
	a->fd = -1;
	switch (m) {
	case MEM_ANON:
		a->len = psize;
		a->map = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->map == MAP_FAILED)
			return -errno;
		a->page = a->map;
		break;
	case MEM_THP:
		a->len = THP_SIZE;
		a->map = thp_alloc();
		if (!a->map)
			return -ENOMEM;
		/* A page inside the THP, not its head. */
		a->page = a->map + 5 * psize;
		break;
	case MEM_SHMEM:
		a->len = psize;
		a->fd = memfd_create("pin_vs_migration", 0);
		if (a->fd < 0 || ftruncate(a->fd, psize))
			return -errno;
		a->map = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			      MAP_SHARED, a->fd, 0);
		if (a->map == MAP_FAILED)
			return -errno;
		a->page = a->map;
		break;
	case MEM_HUGETLB:
		a->len = THP_SIZE;
		a->fd = memfd_create("pin_vs_migration", MFD_HUGETLB);
		if (a->fd < 0)
			return -errno;
		a->map = MAP_FAILED;
		if (!ftruncate(a->fd, THP_SIZE))
			a->map = mmap(NULL, THP_SIZE, PROT_READ | PROT_WRITE,
				      MAP_SHARED, a->fd, 0);
		if (a->map == MAP_FAILED) {
			/* No free page in the pool. */
			close(a->fd);
			return -ENOMEM;
		}
		/* A page inside the hugetlb page, not its head. */
		a->page = a->map + 5 * psize;
		break;
	case MEM_FILE:
		if (file_fd < 0)
			return -ENODEV;
		a->len = psize;
		a->map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED,
			      file_fd, (file_next++ % FILE_PAGES) * psize);
		if (a->map == MAP_FAILED)
			return -errno;
		a->page = a->map;
		break;
	default:
		return -EINVAL;
	}
	memset(a->page, 0x11, psize);
	return 0;
}

static void mem_put(struct mem_area *a)
{
	munmap(a->map, a->len);
	if (a->fd >= 0)
		close(a->fd);
}

static void round_one(enum mem m, enum hold h, uint64_t v)
{
	int i, node, ret = -EBUSY;
	bool moved = false, was_thp = true;
	struct mem_area a = { .fd = -1 };
	uint64_t seen = 0;
	struct held held;
	char *buf;

	if (mem_get(m, &a)) {
		ksft_print_msg("%s: no memory: %s\n", mem_name[m],
			       strerror(errno));
		return;
	}
	buf = malloc(psize);
	if (!buf)
		ksft_exit_fail_msg("malloc\n");
	put_word(a.page, v);
	if (m == MEM_FILE && h != HOLD_VMSPLICE) {
		/* Read-only: see above. */
		held.how = h;
		ret = pin_start(a.page, psize,
				h == HOLD_PIN_FAST ? PIN_FAST : PIN_SLOW);
	} else {
		ret = hold_start(&held, h, a.page, psize);
	}
	if (ret)
		ksft_exit_fail_msg("holding the %s page by %s: %s\n",
				   mem_name[m], hold_name[h], strerror(-ret));
	if (m == MEM_THP)
		was_thp = thp_pmd_mapped(a.page);
	node = page_node(a.page);
	for (i = 0; i < 3; i++) {
		attempts++;
		if (!page_move(a.page))
			moved = true;
	}
	put_word(a.page, v + 1);
	ret = hold_read_stop(&held, buf, psize);
	if (ret)
		ksft_exit_fail_msg("reading the held page: %s\n",
				   strerror(-ret));
	seen = *(uint64_t *)buf;
	if (seen != v + 1)
		regress_violation(&r, "%s page held by %s: the holder reads %#llx, the process wrote %#llx (migrated %s while held)",
				  mem_name[m], hold_name[h],
				  (unsigned long long)seen,
				  (unsigned long long)(v + 1),
				  moved ? "to the other node" : "(node unchanged)");
	else if (moved)
		regress_violation(&r, "%s page held by %s: migrated from node %d while held",
				  mem_name[m], hold_name[h], node);
	/* Unheld, the page must migrate: the attempts could have moved it. */
	ret = -EBUSY;
	for (i = 0; i < 20 && ret; i++) {
		ret = page_move(a.page);
		if (ret)
			usleep(5000);
	}
	if (!ret && was_thp && (m != MEM_THP || thp_pmd_mapped(a.page)))
		exercised[m][h]++;
	else if (ret && !r.violated)
		ksft_print_msg("%s/%s: the page does not migrate once let go (%s)\n",
			       mem_name[m], hold_name[h], strerror(-ret));
	mem_put(&a);
	free(buf);
}

static void round_seq(int m, int h, unsigned int seq)
{
	round_one(m, h, 0x100 + seq * 2ULL);
}

int main(void)
{
	char missing[512] = "", dev[32];

	pin_init(&r, "pin_vs_migration", 30);
	if (race_nodes() < 2)
		ksft_exit_skip("move_pages needs two NUMA nodes\n");
	psize = sysconf(_SC_PAGESIZE);
	/* Without zram the file cases are not exercised: SKIP names them. */
	if (!access(ZRAM_CONTROL, R_OK))
		file_fd = mmrace_zram_file(FILE_PAGES * psize * 2, FILE_PAGES,
					   file_pattern, &file_id, dev,
					   sizeof(dev));
	pin_cases(&r, mem_name, NR_MEM, hold_name, NR_HOLD, round_seq,
		  &exercised[0][0], missing, sizeof(missing));
	if (file_fd >= 0) {
		close(file_fd);
		mmrace_zram_remove(file_id);
	}
	ksft_print_msg("%lu migration attempts on held pages\n", attempts);
	pin_finish(&r, "migration leaves held pages alone", missing);
}
