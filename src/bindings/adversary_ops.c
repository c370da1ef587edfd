// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace in-module adversary operations: the steps that only C can write
 * (the policy, which steps in what order, is in
 * src/abstractions/adversary_ops.rs and src/window/adversary.rs).
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>

#include "shim.h"

struct folio *mmrace_pfn_folio_tryget(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;

	if (!page)
		return NULL;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return NULL;
	/*
	 * Split or freed and reused meanwhile: not the folio of @pfn. A slab
	 * or typed page (whose mapping field is not a mapping): not a folio
	 * any operation may act on.
	 */
	if (unlikely(page_folio(page) != folio || folio_test_slab(folio) ||
		     page_has_type(&folio->page))) {
		folio_put(folio);
		return NULL;
	}
	return folio;
}

struct address_space *mmrace_folio_file_mapping(struct folio *folio)
{
	struct address_space *mapping = folio->mapping;

	/* As folio_mapping(), and none for the swap cache or movable ops. */
	if (folio_test_anon(folio) || folio_test_swapcache(folio) ||
	    ((unsigned long)mapping & PAGE_MAPPING_FLAGS) || !mapping ||
	    !mapping->host)
		return NULL;
	return mapping;
}

bool mmrace_mapping_holds(struct address_space *mapping, struct folio *folio)
{
	return xa_load(&mapping->i_pages, folio->index) == folio;
}

int mmrace_zap_user_page(struct pid *pid, unsigned long addr)
{
	struct mm_struct *mm = mmrace_pid_mm(pid);
	struct vm_area_struct *vma;
	int ret = 0;

	if (IS_ERR(mm))
		return PTR_ERR(mm);
	addr &= PAGE_MASK;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	/* As madvise_dontneed_free_valid_vma(): not locked, huge or PFN maps. */
	if (!vma || (vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)))
		ret = -EFAULT;
	else
		zap_page_range_single(vma, addr, PAGE_SIZE, NULL);
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

struct page *mmrace_reuse_alloc(unsigned long pfn, bool movable,
				unsigned int order)
{
	struct page *page = pfn_to_online_page(pfn);
	gfp_t gfp = (movable ? GFP_HIGHUSER_MOVABLE : GFP_USER) |
		    __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_THISNODE |
		    __GFP_NOWARN;

	if (!page || order > MAX_PAGE_ORDER)
		return NULL;
	/* A block is taken from the free lists as they are, never made. */
	if (order)
		gfp &= ~__GFP_DIRECT_RECLAIM;
	return alloc_pages_node(page_to_nid(page), gfp, order);
}

unsigned int mmrace_pfn_order_hint(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);

	/* Racy: no reference is held; compound_order() reads once. */
	return page ? compound_order(page) : 0;
}

unsigned long mmrace_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

void mmrace_reuse_fill(struct page *page, u64 word)
{
	u64 *p = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		p[i] = word;
	kunmap_local(p);
	SetPageUptodate(page);
}

int mmrace_evict_pfn(unsigned long pfn)
{
	struct folio *folio = mmrace_pfn_folio_tryget(pfn);
	struct address_space *mapping;
	struct inode *inode = NULL;
	pgoff_t index, end;
	bool gone;

	if (!folio)
		return -EAGAIN;
	if (!folio_trylock(folio)) {
		folio_put(folio);
		return -EAGAIN;
	}
	/* Locked: its mapping, index and size are stable; the inode pinned. */
	mapping = mmrace_folio_file_mapping(folio);
	if (mapping)
		inode = igrab(mapping->host);
	index = folio->index;
	/* find_lock_entries() skips a large folio reaching past @end. */
	end = index + folio_nr_pages(folio) - 1;
	/*
	 * Neither our lock nor our reference may stay: mapping_evict_folio()
	 * trylocks the folio and refuses it over a reference beyond the
	 * page cache's and its own.
	 */
	folio_unlock(folio);
	folio_put(folio);
	if (!inode)
		return -ENOENT;
	/*
	 * Its count of pages is no verdict: it counts shadow entries, and
	 * whatever folio is at @index by now (ours truncated meanwhile, a new
	 * one read in). Ours is dropped if @pfn is no longer it.
	 */
	invalidate_mapping_pages(mapping, index, end);
	folio = mmrace_pfn_folio_tryget(pfn);
	gone = !folio || READ_ONCE(folio->mapping) != mapping ||
	       folio->index != index;
	if (folio)
		folio_put(folio);
	iput(inode);
	return gone ? 0 : -EBUSY;
}
