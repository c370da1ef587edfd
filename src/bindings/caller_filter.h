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
 * At a probed function's entry: whether its return address lies in one of
 * the @n [start, end) pairs of @ranges; always true when @n is 0 (no filter).
 */
bool mmrace_entry_caller_in(const unsigned long *ranges, unsigned int n,
			    struct pt_regs *regs);

#endif /* MMRACE_CALLER_FILTER_H */
