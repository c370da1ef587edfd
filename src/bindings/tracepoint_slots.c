// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace tracepoint slots: the page_ref tracepoints (CONFIG_DEBUG_PAGE_REF)
 * take one probe function per registration, told apart by its data; each
 * registration of a Rust callback takes one slot of a small table, whose
 * address is that data. page_ref_mod (a plain reference change, such as
 * folio_get()) has no result: its probe always calls the callback. Each
 * carries a page filter (page_key.h), checked first.
 */
#include <linux/mutex.h>
#include <linux/tracepoint.h>
#ifdef CONFIG_DEBUG_PAGE_REF
#include <trace/events/page_ref.h>
#endif

#include "page_key.h"
#include "shim.h"

#ifdef CONFIG_DEBUG_PAGE_REF
struct mmrace_tp_probe {
	mmrace_probe_fn fn;
	const void *ctx;
	unsigned int counter;
	u64 key;		/* the page filter (page_key.h) */
};

/* One registration per (tracepoint, fn, ctx): data identifies it. */
static void mmrace_tp_on_success(void *data, struct page *page, int v,
				 int ret)
{
	const struct mmrace_tp_probe *tp = data;

	if (ret && !mmrace_key_skips(READ_ONCE(tp->key), (unsigned long)page))
		tp->fn(tp->ctx, (unsigned long)page);
}

static void mmrace_tp_on_mod(void *data, struct page *page, int v)
{
	const struct mmrace_tp_probe *tp = data;

	if (!mmrace_key_skips(READ_ONCE(tp->key), (unsigned long)page))
		tp->fn(tp->ctx, (unsigned long)page);
}

#define MMRACE_TP_SLOTS 8
static struct mmrace_tp_probe mmrace_tp_slots[3][MMRACE_TP_SLOTS];
static DEFINE_MUTEX(mmrace_tp_lock);

int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       unsigned int counter, const void *ctx)
{
	struct mmrace_tp_probe *slot = NULL;
	int i, ret;

	mutex_lock(&mmrace_tp_lock);
	for (i = 0; i < MMRACE_TP_SLOTS; i++) {
		if (!mmrace_tp_slots[tp][i].fn) {
			slot = &mmrace_tp_slots[tp][i];
			break;
		}
	}
	if (!slot) {
		mutex_unlock(&mmrace_tp_lock);
		return -ENOSPC;
	}
	slot->fn = fn;
	slot->ctx = ctx;
	slot->counter = counter;
	slot->key = 0;
	if (tp == MMRACE_TP_REF_MOD_UNLESS)
		ret = register_trace_page_ref_mod_unless(mmrace_tp_on_success,
							 slot);
	else if (tp == MMRACE_TP_REF_MOD)
		ret = register_trace_page_ref_mod(mmrace_tp_on_mod, slot);
	else
		ret = register_trace_page_ref_freeze(mmrace_tp_on_success,
						     slot);
	if (ret)
		slot->fn = NULL;
	mutex_unlock(&mmrace_tp_lock);
	return ret;
}

void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx)
{
	struct mmrace_tp_probe *slot;
	int i;

	mutex_lock(&mmrace_tp_lock);
	for (i = 0; i < MMRACE_TP_SLOTS; i++) {
		slot = &mmrace_tp_slots[tp][i];
		if (slot->fn != fn || slot->ctx != ctx)
			continue;
		if (tp == MMRACE_TP_REF_MOD_UNLESS)
			unregister_trace_page_ref_mod_unless(mmrace_tp_on_success,
							     slot);
		else if (tp == MMRACE_TP_REF_MOD)
			unregister_trace_page_ref_mod(mmrace_tp_on_mod, slot);
		else
			unregister_trace_page_ref_freeze(mmrace_tp_on_success,
							 slot);
		/* No probe may still be running when the slot is reused. */
		tracepoint_synchronize_unregister();
		slot->fn = NULL;
		slot->ctx = NULL;
		slot->key = 0;
	}
	mutex_unlock(&mmrace_tp_lock);
}

void mmrace_tracepoint_filter_pfn(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx, u64 pfn)
{
	struct mmrace_tp_probe *slot;
	int i;

	mutex_lock(&mmrace_tp_lock);
	for (i = 0; i < MMRACE_TP_SLOTS; i++) {
		slot = &mmrace_tp_slots[tp][i];
		if (slot->fn == fn && slot->ctx == ctx)
			WRITE_ONCE(slot->key, mmrace_key_make(MMRACE_KEY_PAGE, 0,
							      slot->counter,
							      pfn));
	}
	mutex_unlock(&mmrace_tp_lock);
}
#else
int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       unsigned int counter, const void *ctx)
{
	return -EOPNOTSUPP;
}

void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx)
{
}

void mmrace_tracepoint_filter_pfn(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx, u64 pfn)
{
}
#endif
