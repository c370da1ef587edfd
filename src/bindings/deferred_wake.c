// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace deferred wake-up: one wait queue that process-context waiters
 * sleep on, and an irq_work that wakes it, so that code in any context
 * (a probe handler, in an int3 or NMI-like context where wake_up() must
 * not be called) can wake the waiters: irq_work_queue() is NMI-safe, and
 * the work runs in hard-irq context on this CPU as soon as interrupts are
 * on. No policy: what to wait for is the waiter's condition. The same
 * irq_work also queues the module's worker (in process context, on
 * system_highpri_wq, on another CPU than the kicker's) when a kick asked
 * for it: the in-module adversary operations run there, never in the
 * kicker's context.
 */
#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "shim.h"

static DECLARE_WAIT_QUEUE_HEAD(mmrace_wake_wq);

static void mmrace_work_fn(struct work_struct *work)
{
	mmrace_adversary_work();
}

static DECLARE_WORK(mmrace_work, mmrace_work_fn);
static atomic_t mmrace_work_wanted = ATOMIC_INIT(0);

static void mmrace_wake_fn(struct irq_work *work)
{
	int cpu;

	wake_up_all(&mmrace_wake_wq);
	if (!atomic_xchg(&mmrace_work_wanted, 0))
		return;
	/*
	 * On another CPU: this one may be held by the window that kicked
	 * (preemption off), and a worker woken here would wait for it.
	 */
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	if (cpu >= nr_cpu_ids)
		cpu = smp_processor_id();
	queue_work_on(cpu, system_highpri_wq, &mmrace_work);
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
	/* The worker may queue the irq_work, which may queue the worker. */
	cancel_work_sync(&mmrace_work);
	irq_work_sync(&mmrace_wake_work);
	cancel_work_sync(&mmrace_work);
}

void mmrace_work_kick(void)
{
	atomic_set(&mmrace_work_wanted, 1);
	irq_work_queue(&mmrace_wake_work);
}

void mmrace_work_flush(void)
{
	flush_work(&mmrace_work);
}
