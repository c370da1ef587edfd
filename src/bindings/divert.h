/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Diverting a kprobe's handler out of the breakpoint (divert.c): a call
 * site's window runs in the interrupted context, not in the int3's.
 */
#ifndef MMRACE_DIVERT_H
#define MMRACE_DIVERT_H

#include <linux/kprobes.h>
#include <linux/ptrace.h>

/* What a diverted call runs: @fn(@ctx, @value). */
typedef void (*mmrace_divert_fn)(const void *ctx, unsigned long value);

/*
 * From @kp's pre-handler: sends the interrupted code, once the breakpoint
 * returns, through mmrace_divert_stub, which calls @fn(@ctx, @value) in the
 * interrupted context and then returns to @kp's instruction, where the
 * pre-handler must let it through (mmrace_divert_back()). True if done
 * (the pre-handler then returns 1: kprobes must not execute the
 * instruction now); false where it cannot be: not on an int3 (a
 * jump-optimized probe's handler already runs in that context), or a
 * divert already pending on this CPU (an interrupt's).
 *
 * Preemption stays disabled from here until the instruction runs: an RCU
 * read-side section, so that whoever unregisters @kp can wait for every
 * divert in flight (synchronize_rcu()) before the breakpoint goes away.
 */
bool mmrace_divert(struct kprobe *kp, struct pt_regs *regs,
		   mmrace_divert_fn fn, const void *ctx, unsigned long value);

/*
 * From @kp's pre-handler, first: whether this hit is a diverted call
 * coming back to its instruction (this CPU, that address, that stack
 * pointer). If so, the divert is over: the pre-handler returns 0, kprobes
 * executes the instruction.
 */
bool mmrace_divert_back(struct kprobe *kp, struct pt_regs *regs);

/* divert.c's own: the stub (assembly, not called) and what it calls. */
void mmrace_divert_stub(void);
__visible void mmrace_divert_run(mmrace_divert_fn fn, const void *ctx,
				 unsigned long value, unsigned long addr,
				 unsigned long sp);

#endif
