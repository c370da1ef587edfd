// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace page keys: the page filters probes carry, and the per-CPU counters
 * of the calls they turn away (page_key.h).
 */
#include <linux/cpumask.h>

#include "page_key.h"

DEFINE_PER_CPU(u64, mmrace_skips[MMRACE_SKIP_COUNTERS]);

u64 mmrace_key_make(enum mmrace_page_key kind, unsigned int arg,
		    unsigned int counter, u64 pfn)
{
	u64 key;

	if (kind == MMRACE_KEY_NONE || pfn == MMRACE_PFN_ANY ||
	    pfn > GENMASK_ULL(47, 0) || arg > 7 ||
	    counter >= MMRACE_SKIP_COUNTERS)
		return 0;
	key = MMRACE_KEYBIT_ON | (u64)arg << 56 | (u64)counter << 48 | pfn;
	if (kind == MMRACE_KEY_FOLIO || kind == MMRACE_KEY_XA)
		key |= MMRACE_KEYBIT_FOLIO;
	if (kind == MMRACE_KEY_XA)
		key |= MMRACE_KEYBIT_XA;
	return key;
}

u64 mmrace_skipped(unsigned int counter)
{
	u64 sum = 0;
	int cpu;

	if (counter >= MMRACE_SKIP_COUNTERS)
		return 0;
	for_each_possible_cpu(cpu)
		sum += per_cpu(mmrace_skips[counter], cpu);
	return sum;
}
