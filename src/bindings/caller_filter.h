/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace caller filter (caller_filter.c), for the kprobe glue: not part of
 * the bindgen view (shim.h).
 */
#ifndef MMRACE_CALLER_FILTER_H
#define MMRACE_CALLER_FILTER_H

#include <linux/ptrace.h>
#include <linux/types.h>

/*
 * Whether return address @ret lies in one of the @n [start, end) pairs of
 * @ranges; always true when @n is 0 (no filter).
 */
static inline bool mmrace_caller_in(const unsigned long *ranges,
				    unsigned int n, unsigned long ret)
{
	unsigned int i;

	if (!n)
		return true;
	for (i = 0; i < n; i++)
		if (ret >= ranges[2 * i] && ret < ranges[2 * i + 1])
			return true;
	return false;
}

/*
 * At a probed function's entry: mmrace_caller_in() of its return address
 * (x86-64: the stack top).
 */
bool mmrace_entry_caller_in(const unsigned long *ranges, unsigned int n,
			    struct pt_regs *regs);

#endif /* MMRACE_CALLER_FILTER_H */
