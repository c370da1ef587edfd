// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace deferred wake-up: one wait queue that process-context waiters
 * sleep on, and an irq_work that wakes it, so that code in any context
 * (a probe handler, in an int3 or NMI-like context where wake_up() must
 * not be called) can wake the waiters: irq_work_queue() is NMI-safe, and
 * the work runs in hard-irq context on this CPU as soon as interrupts are
 * on. No policy: what to wait for is the waiter's condition.
 */
#include <linux/irq_work.h>
#include <linux/wait.h>

#include "shim.h"

static DECLARE_WAIT_QUEUE_HEAD(mmrace_wake_wq);

static void mmrace_wake_fn(struct irq_work *work)
{
	wake_up_all(&mmrace_wake_wq);
}

static DEFINE_IRQ_WORK(mmrace_wake_work, mmrace_wake_fn);

void mmrace_wake_kick(void)
{
	irq_work_queue(&mmrace_wake_work);
}

void mmrace_wake_all(void)
{
	wake_up_all(&mmrace_wake_wq);
}

long mmrace_wake_wait(bool (*cond)(void *ctx), void *ctx,
		      unsigned long timeout_jiffies)
{
	return wait_event_interruptible_timeout(mmrace_wake_wq, cond(ctx),
						timeout_jiffies);
}

void mmrace_wake_sync(void)
{
	irq_work_sync(&mmrace_wake_work);
}
