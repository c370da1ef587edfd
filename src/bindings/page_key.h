/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace page keys (page_key.c), for the probe glue: not part of the bindgen
 * view (shim.h). A probe may carry a page filter, one word its handler's
 * owner sets (mmrace_probe_filter_pfn()): the probe hands over only pages
 * whose pfn, or whose head page's pfn, is the key's; the glue turns the
 * others away before any callback, counting them in a per-CPU counter
 * (mmrace_skipped()). The word, 0 for no filter:
 *
 *   bit 63     a filter is set
 *   bit 62     the value is a struct folio * (its own head page)
 *   bit 61     the value is an xarray entry: a folio, or a value or
 *              internal entry (bits 0-1), which the filter passes on
 *   bits 56-58 the argument the value is (direct calls)
 *   bits 48-55 the skip counter
 *   bits 0-47  the pfn
 */
#ifndef MMRACE_PAGE_KEY_H
#define MMRACE_PAGE_KEY_H

#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/types.h>

#include "shim.h"

#define MMRACE_KEYBIT_ON		BIT_ULL(63)
#define MMRACE_KEYBIT_FOLIO	BIT_ULL(62)
#define MMRACE_KEYBIT_XA	BIT_ULL(61)
#define MMRACE_KEY_ARG(key)	((unsigned int)((key) >> 56) & 7)
#define MMRACE_KEY_COUNTER(key)	((unsigned int)((key) >> 48) & 0xff)
#define MMRACE_KEY_PFN(key)	((key) & GENMASK_ULL(47, 0))

DECLARE_PER_CPU(u64, mmrace_skips[MMRACE_SKIP_COUNTERS]);

/*
 * The key for a value of @kind that is argument @arg, counted in @counter,
 * filtered to @pfn (MMRACE_PFN_ANY: no filter, 0).
 */
u64 mmrace_key_make(enum mmrace_page_key kind, unsigned int arg,
		    unsigned int counter, u64 pfn);

/*
 * How far past its head a folio's tail page can be: 2^18 pages (a 1 GiB
 * hugetlb folio). A page further from the key's pfn is no tail of it.
 */
#define MMRACE_KEY_TAIL_SPAN	0x40000

/*
 * Whether @key turns @value away (counted); never for no key, a NULL value
 * or a page of the key's pfn. @value must be what the key's kind says.
 */
static __always_inline bool mmrace_key_skips(u64 key, unsigned long value)
{
	struct page *page = (struct page *)value;
	unsigned long want = MMRACE_KEY_PFN(key), off;

	if (!key || !value || ((key & MMRACE_KEYBIT_XA) && (value & 3)))
		return false;
	off = page_to_pfn(page) - want;
	if (!off)
		return false;
	/* A page just past the key's may be one of its tails. */
	if (!(key & MMRACE_KEYBIT_FOLIO) && off < MMRACE_KEY_TAIL_SPAN &&
	    page_to_pfn(compound_head(page)) == want)
		return false;
	this_cpu_inc(mmrace_skips[MMRACE_KEY_COUNTER(key)]);
	return true;
}

#endif /* MMRACE_PAGE_KEY_H */
