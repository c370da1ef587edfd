// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace divert: a window that a kprobe's int3 admits runs after the
 * breakpoint, in the interrupted context, not in the breakpoint's.
 *
 * An int3 in the kernel is an NMI to it (exc_int3(): irqentry_nmi_enter()),
 * interrupts off: a window held there keeps off every interrupt the
 * interrupted code would take, a TLB-flush IPI among them (an adversary's
 * zap of the window's page then lands after the window, not inside it). A
 * kretprobe's return handler and a jump-optimized probe's handler run in
 * the interrupted context instead; a call-site probe on an int3 gets the
 * same by a divert:
 *
 * - its pre-handler (mmrace_divert()) pushes the probed address and the
 *   call into the gap entry_64.S leaves below the interrupted stack pointer
 *   for an int3 (the one int3_emulate_push() uses), points the return from
 *   the breakpoint at mmrace_divert_stub and disables preemption;
 * - the stub, in the interrupted context (its interrupts, its stack), saves
 *   the flags and the registers the C calling convention lets a call
 *   clobber, runs the call (mmrace_divert_run()), restores them and returns
 *   to the probed address;
 * - the probe fires there again: mmrace_divert_back() knows it (this CPU,
 *   that address, that stack pointer), enables preemption again, and the
 *   pre-handler lets kprobes execute the instruction.
 *
 * From the int3 to that instruction preemption is off: one RCU read-side
 * section, which whoever unregisters the probe waits for (kprobe_glue.c)
 * before the breakpoint may go, so that the stub always returns to a
 * probed instruction. The stub has no ORC data: a stack trace taken inside
 * the window stops at it.
 */
#include <linux/kprobes.h>
#include <linux/objtool.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/stringify.h>

#include <asm/ibt.h>
#include <asm/linkage.h>

#include "divert.h"

/* The divert in flight on this CPU: its address and stack pointer (0: none). */
struct mmrace_divert_mark {
	unsigned long addr;
	unsigned long sp;
};

static DEFINE_PER_CPU(struct mmrace_divert_mark, mmrace_divert_mark);

/*
 * Entered by the return from the breakpoint (an ENDBR all the same: its
 * address is taken), with [rsp] the call's
 * function, [rsp+8] its context, [rsp+16] its value and [rsp+24] the
 * probed address, where it returns, the four words above them the
 * interrupted stack. 80 bytes of saved flags and registers, then the call
 * with the stack pointer the probed instruction will see (rsp+112).
 */
asm("	.pushsection .text, \"ax\", @progbits\n"
"	.balign 16, 0xcc\n"
"	.globl mmrace_divert_stub\n"
"	.type mmrace_divert_stub, @function\n"
"mmrace_divert_stub:\n"
ASM_ENDBR
"	pushfq\n"
"	pushq %rax\n"
"	pushq %rcx\n"
"	pushq %rdx\n"
"	pushq %rsi\n"
"	pushq %rdi\n"
"	pushq %r8\n"
"	pushq %r9\n"
"	pushq %r10\n"
"	pushq %r11\n"
"	movq 80(%rsp), %rdi\n"
"	movq 88(%rsp), %rsi\n"
"	movq 96(%rsp), %rdx\n"
"	movq 104(%rsp), %rcx\n"
"	leaq 112(%rsp), %r8\n"
"	call mmrace_divert_run\n"
"	popq %r11\n"
"	popq %r10\n"
"	popq %r9\n"
"	popq %r8\n"
"	popq %rdi\n"
"	popq %rsi\n"
"	popq %rdx\n"
"	popq %rcx\n"
"	popq %rax\n"
"	popfq\n"
"	leaq 24(%rsp), %rsp\n"
"	" __stringify(RET) "\n"
"	.size mmrace_divert_stub, .-mmrace_divert_stub\n"
"	.popsection\n"
);

/* Entered from the breakpoint's return, not called: not a plain frame. */
STACK_FRAME_NON_STANDARD(mmrace_divert_stub);

/* The stub's call: the window, then the mark its return will meet. */
__visible void mmrace_divert_run(mmrace_divert_fn fn, const void *ctx,
				 unsigned long value, unsigned long addr,
				 unsigned long sp)
{
	fn(ctx, value);
	this_cpu_write(mmrace_divert_mark.addr, addr);
	this_cpu_write(mmrace_divert_mark.sp, sp);
}

bool mmrace_divert(struct kprobe *kp, struct pt_regs *regs,
		   mmrace_divert_fn fn, const void *ctx, unsigned long value)
{
	unsigned long *sp = (unsigned long *)kernel_stack_pointer(regs);
	unsigned long gap = (unsigned long)sp - (unsigned long)(regs + 1);

	/*
	 * An int3 from the kernel: pt_regs end six words (and the stack's
	 * 16-byte alignment) below the interrupted stack pointer, the
	 * hardware frame's first place, free since entry_64.S copied it down.
	 * A jump-optimized probe's pt_regs end at the stack pointer: no gap,
	 * no divert (its handler is in the interrupted context already).
	 */
	if (!in_nmi() || gap < 6 * sizeof(long) || gap > 8 * sizeof(long))
		return false;
	if (this_cpu_read(mmrace_divert_mark.sp))
		return false;
	sp[-1] = (unsigned long)kp->addr;
	sp[-2] = value;
	sp[-3] = (unsigned long)ctx;
	sp[-4] = (unsigned long)fn;
	regs->sp = (unsigned long)(sp - 4);
	instruction_pointer_set(regs, (unsigned long)mmrace_divert_stub);
	preempt_disable_notrace();
	return true;
}

bool mmrace_divert_back(struct kprobe *kp, struct pt_regs *regs)
{
	if (this_cpu_read(mmrace_divert_mark.sp) != kernel_stack_pointer(regs) ||
	    this_cpu_read(mmrace_divert_mark.addr) != (unsigned long)kp->addr)
		return false;
	this_cpu_write(mmrace_divert_mark.addr, 0);
	this_cpu_write(mmrace_divert_mark.sp, 0);
	/*
	 * Never the last count: the int3's NMI count, or a jump-optimized
	 * probe's own preempt_disable(), still holds (no reschedule here).
	 */
	preempt_enable_notrace();
	return true;
}
