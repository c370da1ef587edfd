// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace movable pages: non-LRU movable pages owned by the module (like
 * zsmalloc's or a balloon's), for the seed 002 scenario, and where they are
 * placed so that compaction reaches them.
 */
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/pageblock-flags.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "shim.h"

/*
 * Movable pages owned by the module (non-LRU, like zsmalloc's or a
 * balloon's): compaction isolates them, fails to migrate them (the driver
 * refuses) and puts them back, locking each while it does. Or, when the
 * Rust side says so, migration succeeds: the driver keeps the source page
 * as its own, still movable (so it skips the __ClearPageMovable(src) of the
 * contract), and the migration core frees the destination, which no one
 * took a reference on; the source is un-isolated, unlocked and released
 * by the core like any migrated non-LRU page.
 */
static bool mmrace_movable_isolate(struct page *page, isolate_mode_t mode)
{
	mmrace_movable_isolate_hook(page);
	return true;
}

static int mmrace_movable_migrate(struct page *dst, struct page *src,
				  enum migrate_mode mode)
{
	return mmrace_movable_migrate_hook(src) ? MIGRATEPAGE_SUCCESS : -EAGAIN;
}

static void mmrace_movable_putback(struct page *page)
{
	mmrace_movable_putback_hook(page);
}

static const struct movable_operations mmrace_movable_ops = {
	.isolate_page = mmrace_movable_isolate,
	.migrate_page = mmrace_movable_migrate,
	.putback_page = mmrace_movable_putback,
};

static int mmrace_cmp_pfn(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? -1 : pa > pb;
}

/* Allocations for placement: from free memory only, no reclaim. */
#define MMRACE_PLACE_GFP ((GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | \
			   __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_RECLAIM)

/*
 * Where the pages go, so that compaction reaches them in every run.
 *
 * Manual compaction (/proc/sys/vm/compact_memory) scans each zone with two
 * scanners: the migration scanner from the zone's start upwards, isolating
 * what it can move, and the free scanner from the end downwards, isolating
 * free pages as targets whenever the migration scanner has pages to move.
 * It stops where they meet. The free scanner skips every wholly free
 * pageblock, so on a mostly free node, with few partly used pageblocks, it
 * runs down to the migration scanner at once and the meeting point is low:
 * pages above it are never scanned. Measured: the lowest of 1024 fresh
 * pages, with one such anchor, went unscanned in some runs.
 *
 * So: the pages are the lowest to be had, of @candidates fresh pages and
 * the first pages of the lowest wholly free pageblock (allocated whole);
 * and up to MMRACE_MOVABLE_ANCHORS more wholly free pageblocks are made
 * partly used, one page kept in each, so that the free scanner finds
 * hundreds of targets in each (above the pages: they are higher than the
 * lowest block) and stops there, long before it reaches the pages.
 */
static int mmrace_place(struct page **all, unsigned int n,
			unsigned int candidates, int nid,
			struct mmrace_movable_placement *place)
{
	struct page *blocks[MMRACE_MOVABLE_ANCHORS + 1];
	unsigned int i, b, got = 0, nblocks = 0;

	while (got < candidates) {
		all[got] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					    __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!all[got])
			break;
		got++;
	}
	while (nblocks < ARRAY_SIZE(blocks)) {
		blocks[nblocks] = alloc_pages_node(nid, MMRACE_PLACE_GFP,
						   pageblock_order);
		if (!blocks[nblocks])
			break;
		nblocks++;
	}
	sort(blocks, nblocks, sizeof(*blocks), mmrace_cmp_pfn, NULL);
	for (b = 0; b < nblocks; b++) {
		split_page(blocks[b], pageblock_order);
		/* The lowest block's first @n pages are candidates too. */
		for (i = b ? 1 : 0; i < pageblock_nr_pages; i++) {
			if (!b && i < n)
				all[got++] = blocks[b] + i;
			else if (b || i)
				__free_page(blocks[b] + i);
		}
		if (b)
			place->anchors[place->nr_anchors++] = blocks[b];
	}
	if (got < n) {
		while (got)
			__free_page(all[--got]);
		return -ENOMEM;
	}
	/* Compaction's migration scanner walks a zone upwards: the lowest. */
	sort(all, got, sizeof(*all), mmrace_cmp_pfn, NULL);
	for (i = n; i < got; i++)
		__free_page(all[i]);
	place->nid = nid;
	place->zone_start_pfn = page_zone(all[0])->zone_start_pfn;
	return 0;
}

int mmrace_movable_alloc(struct folio **folios, unsigned int n,
			 unsigned int candidates,
			 struct mmrace_movable_placement *place)
{
	struct page **all;
	int nid = first_online_node, n2, ret;
	unsigned int i;

	if (!n || candidates < n || n > pageblock_nr_pages)
		return -EINVAL;
	all = kvmalloc_array(candidates + n, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	/* On the last node: node 0's low memory is the kernel's own. */
	for_each_online_node(n2)
		nid = n2;
	ret = mmrace_place(all, n, candidates, nid, place);
	if (ret) {
		mmrace_movable_placement_release(place);
		kvfree(all);
		return ret;
	}
	/*
	 * Before __SetPageMovable() no one else can reach these pages: they
	 * are neither on the LRU nor movable, so compaction and every other
	 * PFN walker pass them by. The lock is what __SetPageMovable() wants.
	 */
	for (i = 0; i < n; i++) {
		lock_page(all[i]);
		__SetPageMovable(all[i], &mmrace_movable_ops);
		unlock_page(all[i]);
		folios[i] = page_folio(all[i]);
	}
	kvfree(all);
	return 0;
}

void mmrace_movable_placement_release(struct mmrace_movable_placement *place)
{
	while (place->nr_anchors)
		__free_page(place->anchors[--place->nr_anchors]);
}

void mmrace_movable_free(struct folio *folio)
{
	/*
	 * Under the lock no callback runs (each runs with the page locked)
	 * and, once it is clear, compaction calls none: putback sees a page
	 * that is no longer movable and only un-isolates it. Not folio_lock():
	 * on a kernel that loses PG_waiters (the bug the scenario hunts) a
	 * sleeping lock may never be woken.
	 */
	while (!folio_trylock(folio))
		usleep_range(100, 200);
	__ClearPageMovable(&folio->page);
	folio_unlock(folio);
	folio_put(folio);
}
