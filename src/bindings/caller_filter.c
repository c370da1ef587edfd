// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace caller filters: whether a probe was reached from a given function,
 * by the return address at a function's entry (x86-64: the stack top) or by
 * a walk of the first return addresses on the stack.
 */
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/ptrace.h>
#include <linux/stacktrace.h>

#include "caller_filter.h"
#include "shim.h"

/* At a function's entry on x86-64 the return address is at the stack top. */
bool mmrace_entry_caller_in(const unsigned long *ranges, unsigned int n,
			    struct pt_regs *regs)
{
	return !n || mmrace_caller_in(ranges, n,
				      *(unsigned long *)kernel_stack_pointer(regs));
}

bool mmrace_stack_has_caller(const unsigned long *ranges, unsigned int n,
			     unsigned int depth)
{
#ifdef CONFIG_STACKTRACE
	unsigned long entries[16];
	unsigned int nr, i, j;

	nr = stack_trace_save(entries, min_t(unsigned int, depth, 16), 0);
	for (i = 0; i < nr; i++)
		for (j = 0; j < n; j++)
			if (entries[i] >= ranges[2 * j] &&
			    entries[i] < ranges[2 * j + 1])
				return true;
#endif
	return false;
}
