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
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "shim.h"

/*
 * Movable pages owned by the module (non-LRU, like zsmalloc's or a
 * balloon's): compaction isolates them, fails to migrate them (the driver
 * refuses) and puts them back, locking each while it does.
 */
static bool mmrace_movable_isolate(struct page *page, isolate_mode_t mode)
{
	return true;
}

static int mmrace_movable_migrate(struct page *dst, struct page *src,
				  enum migrate_mode mode)
{
	return -EAGAIN;
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

/*
 * A page that keeps a pageblock high in the zone partly used, so that
 * compaction's free scanner finds its migration targets there and stops
 * before it meets the migration scanner: on an otherwise free node the free
 * scanner skips every wholly free pageblock, meets the migration scanner
 * low in the zone, and the pages above that point are never scanned.
 * Measured: without it, the module's movable pages went unscanned in some
 * boots. The highest of a few order-8 blocks, split, one page kept.
 */
static struct page *mmrace_anchor_alloc(int nid)
{
	struct page *blocks[8], *best = NULL;
	unsigned int i, got = 0;

	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		blocks[got] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					       __GFP_THISNODE | __GFP_NOWARN, 8);
		if (blocks[got])
			got++;
	}
	for (i = 0; i < got; i++)
		if (!best || page_to_pfn(blocks[i]) > page_to_pfn(best))
			best = blocks[i];
	for (i = 0; i < got; i++) {
		if (blocks[i] != best)
			__free_pages(blocks[i], 8);
	}
	if (!best)
		return NULL;
	split_page(best, 8);
	for (i = 1; i < 256; i++)
		__free_page(best + i);
	return best;
}

int mmrace_movable_alloc(struct folio **folios, unsigned int n,
			 unsigned int candidates, unsigned int skip,
			 struct page **anchor)
{
	struct page **all;
	unsigned int i, got = 0, skipped = 0;
	int nid = first_online_node, n2;

	if (!n || candidates < n)
		return -EINVAL;
	all = kvmalloc_array(candidates + skip, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	/* On the last node: node 0's low memory is the kernel's own. */
	for_each_online_node(n2)
		nid = n2;
	*anchor = mmrace_anchor_alloc(nid);
	/*
	 * Hold @skip pages while the candidates are allocated: the per-CPU
	 * lists hand out the same pages again and again, and where
	 * compaction reaches varies, so callers vary @skip to try other
	 * places.
	 */
	while (skipped < skip) {
		all[candidates + skipped] =
			alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					 __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!all[candidates + skipped])
			break;
		skipped++;
	}
	while (got < candidates) {
		all[got] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					    __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!all[got])
			break;
		got++;
	}
	while (skipped)
		__free_page(all[candidates + --skipped]);
	if (got < n) {
		while (got)
			__free_page(all[--got]);
		kvfree(all);
		if (*anchor)
			__free_page(*anchor);
		*anchor = NULL;
		return -ENOMEM;
	}
	/* Compaction's migration scanner walks a zone upwards: the lowest. */
	sort(all, got, sizeof(*all), mmrace_cmp_pfn, NULL);
	for (i = n; i < got; i++)
		__free_page(all[i]);
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
