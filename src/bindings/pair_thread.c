// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace pair runner: two functions at once, one on the calling thread and
 * one on a new kernel thread, returning when both have.
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>

#include "shim.h"

struct mmrace_pair {
	void (*fn)(void *ctx);
	void *ctx;
	struct completion done;
};

static int mmrace_pair_thread(void *data)
{
	struct mmrace_pair *pair = data;

	pair->fn(pair->ctx);
	/* Never returns into module text, which may be gone by then. */
	kthread_complete_and_exit(&pair->done, 0);
}

int mmrace_run_pair(void (*a)(void *), void *actx, void (*b)(void *),
		    void *bctx)
{
	struct mmrace_pair pair = { .fn = b, .ctx = bctx };
	struct task_struct *task;

	init_completion(&pair.done);
	task = kthread_run(mmrace_pair_thread, &pair, "mmrace-pair");
	if (IS_ERR(task))
		return PTR_ERR(task);
	a(actx);
	wait_for_completion(&pair.done);
	return 0;
}
