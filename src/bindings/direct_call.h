/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace direct calls (direct_call.c), for the kprobe glue: not part of the
 * bindgen view (shim.h).
 */
#ifndef MMRACE_DIRECT_CALL_H
#define MMRACE_DIRECT_CALL_H

#include <linux/atomic.h>
#include <linux/types.h>

#include "shim.h"

/* One user of a function's entry (@ret false) or return (@ret true). */
struct mmrace_direct_user {
	bool ret;
	/* Entry: the argument (0-5) handed to @fn. */
	unsigned int arg;
	/* Return: the argument (0-5) handed to @admit, or -1. */
	int entry_arg;
	/* [start, end) pairs the caller must lie in (none: any caller). */
	const unsigned long *callers;
	unsigned int ncallers;
	mmrace_probe_fn fn;
	mmrace_admit_fn admit;
	const void *ctx;
	/* The page filter of the value handed over (page_key.h). */
	u64 key;
	/* Owned by direct_call.c while attached. */
	bool dead;
	atomic_t inflight;
	unsigned int slot, index;
};

/*
 * Attach @user to the function starting at @func (its ftrace call must be
 * there). 0, or -ENOSPC (no slot), -EOPNOTSUPP (no direct calls), or
 * ftrace's error (-EBUSY: another direct caller or an IPMODIFY ftrace_ops
 * holds the function; -EINVAL: no ftrace call there).
 */
int mmrace_direct_attach(struct mmrace_direct_user *user, unsigned long func);
/* Sets @user's page filter to @key (page_key.h). */
void mmrace_direct_filter(struct mmrace_direct_user *user, u64 key);
/*
 * Detach @n attached users: after it returns none is running or will run,
 * and a function left without users is back to its plain ftrace call.
 * Sleeps (one RCU grace period for all).
 */
void mmrace_direct_detach(struct mmrace_direct_user **users, unsigned int n);

/* direct_call.c's own: its trampolines (asm) and what they call. */
void mmrace_direct_stubs(void);
void mmrace_direct_fast(void);
void mmrace_direct_common(void);
u64 mmrace_direct_filter_fast(unsigned long slot, const unsigned long *args);
u64 mmrace_direct_entry(unsigned long slot, const unsigned long *args,
			unsigned long parent, u64 want);
void mmrace_direct_exit(unsigned long slot, u64 mask, unsigned long ret);

#endif /* MMRACE_DIRECT_CALL_H */
