// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace C shim: one-line wrappers of the static inlines and C-only kernel
 * APIs the Rust side needs, plus module metadata only C can express. Logic
 * that has to be written in C lives in its own file next to this one, named
 * after what it does (debugfs_attr.c, kprobe_glue.c, caller_filter.c,
 * tracepoint_slots.c, pte_walk.c, task_tree.c, free_pages.c,
 * movable_pages.c, pair_thread.c, adversary_ops.c); shim.h declares all of it.
 */
#include <linux/delay.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/page_ref.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/security.h>
#include <linux/timekeeping.h>
#include <linux/vmstat.h>

#include "shim.h"

/* A test module: loading it taints the kernel with TAINT_TEST. */
MODULE_INFO(test, "Y");

void mmrace_page_state(unsigned long page, struct mmrace_page_state *state)
{
	struct page *p = (struct page *)page;
	struct folio *folio = page_folio(p);

	state->pfn = page_to_pfn(p);
	state->head_pfn = page_to_pfn(&folio->page);
	state->folio = (unsigned long)folio;
	state->flags = READ_ONCE(folio->flags);
	state->mapping = (unsigned long)READ_ONCE(folio->mapping);
	state->refcount = folio_ref_count(folio);
	state->mapcount = atomic_read(&folio->_mapcount);
}

void mmrace_page_pfns(unsigned long page, unsigned long *pfn,
		      unsigned long *head_pfn)
{
	struct page *p = (struct page *)page;

	*pfn = page_to_pfn(p);
	*head_pfn = page_to_pfn(&page_folio(p)->page);
}

unsigned long mmrace_folio_page(unsigned long folio)
{
	return (unsigned long)&((struct folio *)folio)->page;
}

unsigned long mmrace_vmemmap_start(void)
{
#ifdef CONFIG_SPARSEMEM_VMEMMAP
	return (unsigned long)vmemmap;
#else
	return 0;
#endif
}

unsigned long mmrace_struct_page_size(void)
{
	return sizeof(struct page);
}

unsigned long mmrace_valid_pfn_page(unsigned long pfn)
{
	/*
	 * Not pfn_valid(): a valid pfn may be offline (hot-removed, or added
	 * and not onlined yet: its memmap is poisoned) or ZONE_DEVICE (its
	 * memmap belongs to the driver): reading either as a page oopses or
	 * lies. Without CONFIG_MEMORY_HOTPLUG this is pfn_valid().
	 */
	return (unsigned long)pfn_to_online_page(pfn);
}

bool mmrace_page_is_tail(unsigned long page)
{
	return PageTail((struct page *)page);
}

struct dentry *mmrace_dget(struct dentry *dentry)
{
	return dget(dentry);
}

void mmrace_dput(struct dentry *dentry)
{
	dput(dentry);
}

u64 mmrace_now_ns(void)
{
	return ktime_get_mono_fast_ns();
}

void mmrace_udelay(unsigned long usecs)
{
	udelay(usecs);
}

int mmrace_current_tgid(void)
{
	return task_tgid_nr(current);
}

u32 mmrace_random_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

struct folio *mmrace_folio_alloc(void)
{
	return folio_alloc(GFP_KERNEL, 0);
}

void mmrace_folio_get(struct folio *folio)
{
	folio_get(folio);
}

void mmrace_folio_put_refs(struct folio *folio, int refs)
{
	folio_put_refs(folio, refs);
}

int mmrace_folio_ref_count(const struct folio *folio)
{
	return folio_ref_count(folio);
}

bool mmrace_folio_ref_freeze(struct folio *folio, int count)
{
	return folio_ref_freeze(folio, count);
}

void mmrace_folio_ref_unfreeze(struct folio *folio, int count)
{
	folio_ref_unfreeze(folio, count);
}

unsigned long mmrace_folio_pfn(struct folio *folio)
{
	return folio_pfn(folio);
}

void mmrace_folio_lock(struct folio *folio)
{
	folio_lock(folio);
}

bool mmrace_folio_trylock(struct folio *folio)
{
	return folio_trylock(folio);
}

void mmrace_folio_unlock(struct folio *folio)
{
	folio_unlock(folio);
}

bool mmrace_folio_test_flag(const struct folio *folio, unsigned int bit)
{
	return test_bit(bit, &folio->flags);
}

void mmrace_folio_set_flag(struct folio *folio, unsigned int bit)
{
	set_bit(bit, &folio->flags);
}

void mmrace_folio_clear_flag(struct folio *folio, unsigned int bit)
{
	clear_bit(bit, &folio->flags);
}

bool mmrace_folio_test_set_flag(struct folio *folio, unsigned int bit)
{
	return test_and_set_bit(bit, &folio->flags);
}

bool mmrace_folio_test_clear_flag(struct folio *folio, unsigned int bit)
{
	return test_and_clear_bit(bit, &folio->flags);
}

void mmrace_folio_set_flag_nonatomic(struct folio *folio, unsigned int bit)
{
	__set_bit(bit, &folio->flags);
}

void mmrace_folio_clear_flag_nonatomic(struct folio *folio, unsigned int bit)
{
	__clear_bit(bit, &folio->flags);
}

unsigned long mmrace_folio_flags_load(const struct folio *folio)
{
	return READ_ONCE(folio->flags);
}

void mmrace_folio_flags_store(struct folio *folio, unsigned long flags)
{
	WRITE_ONCE(folio->flags, flags);
}

unsigned long mmrace_nr_free_pages(void)
{
	return global_zone_page_state(NR_FREE_PAGES);
}

/*
 * assume_lockdown=1: act as if the kernel were locked down, so that a test
 * can reach the module's own refusal on a kernel that is not (a kernel that
 * is refuses an unsigned module before the module's init runs).
 */
static bool assume_lockdown;
module_param(assume_lockdown, bool, 0400);
MODULE_PARM_DESC(assume_lockdown,
		 "refuse to load as if the kernel were locked down (tests)");

int mmrace_locked_down(void)
{
	/*
	 * Integrity lockdown restricts debugfs to read-only files; mmrace's
	 * files change how the kernel runs.
	 */
	return assume_lockdown ? -EPERM : security_locked_down(LOCKDOWN_DEBUGFS);
}

struct page *mmrace_noncompound_alloc(unsigned int order)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
}

void mmrace_noncompound_free(struct page *page, unsigned int order)
{
	__free_pages(page, order);
}

bool mmrace_page_get_unless_zero(struct page *page)
{
	return get_page_unless_zero(page);
}

void mmrace_page_put(struct page *page)
{
	put_page(page);
}

int mmrace_page_count(const struct page *page)
{
	return page_count(page);
}

bool mmrace_folio_mapped(struct folio *folio)
{
	return folio_mapped(folio);
}

bool mmrace_folio_test_writeback(struct folio *folio)
{
	return folio_test_writeback(folio);
}

int mmrace_folio_expected_ref_count(struct folio *folio)
{
	return folio_expected_ref_count(folio);
}

void mmrace_mapping_lock_irq(struct address_space *mapping)
{
	xa_lock_irq(&mapping->i_pages);
}

void mmrace_mapping_unlock_irq(struct address_space *mapping)
{
	xa_unlock_irq(&mapping->i_pages);
}

void mmrace_usleep(unsigned long usecs)
{
	usleep_range(usecs, 2 * usecs);
}

void mmrace_cond_resched(void)
{
	cond_resched();
}

/*
 * hide_symbols=SYM[,SYM...]: probe sites on these symbols count as missing
 * from this kernel, so that tests can show what a window whose site is
 * missing does (the kernels they run on have every site).
 */
static char *hide_symbols = "";
module_param(hide_symbols, charp, 0400);
MODULE_PARM_DESC(hide_symbols,
		 "comma-separated symbols whose probe sites count as missing (tests)");

const char *mmrace_hidden_symbols(void)
{
	return hide_symbols ? hide_symbols : "";
}
