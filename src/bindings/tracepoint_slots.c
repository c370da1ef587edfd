// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace tracepoint slots: the page_ref tracepoints (CONFIG_DEBUG_PAGE_REF)
 * take probe functions told apart by their data. Each registration of a
 * Rust callback takes one slot of a small table per tracepoint, whose one
 * probe function runs every taken slot. page_ref_mod (a plain reference
 * change, such as folio_get()) has no result: its probe always calls the
 * callbacks. Each slot carries a page filter (page_key.h), checked first.
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
	/* NULL: a free slot; published last, with a store-release. */
	mmrace_probe_fn fn;
	const void *ctx;
	unsigned int counter;
	u64 key;		/* the page filter (page_key.h) */
};

#define MMRACE_TP_SLOTS 8

/*
 * One tracepoint's slots: one probe function is registered with the
 * tracepoint while any slot is taken, and runs them all, so that the
 * tracepoint makes one static call however many windows hook it (with two
 * probes or more it would loop over them with indirect calls).
 */
struct mmrace_tp {
	struct mmrace_tp_probe slots[MMRACE_TP_SLOTS];
	/* Slots 0..nr-1 may be taken; read by the probe locklessly. */
	unsigned int nr;
};

static struct mmrace_tp mmrace_tps[3];
static DEFINE_MUTEX(mmrace_tp_lock);

/* Runs the taken slots of @tp on @page. */
static __always_inline void mmrace_tp_run(struct mmrace_tp *tp,
					  struct page *page)
{
	unsigned int i, nr = min_t(unsigned int, READ_ONCE(tp->nr),
				   MMRACE_TP_SLOTS);
	struct mmrace_tp_probe *slot;
	mmrace_probe_fn fn;

	for (i = 0; i < nr; i++) {
		slot = &tp->slots[i];
		/* Pairs with the registration's release: the slot is filled. */
		fn = smp_load_acquire(&slot->fn);
		if (fn && !mmrace_key_skips(READ_ONCE(slot->key),
					    (unsigned long)page))
			fn(slot->ctx, (unsigned long)page);
	}
}

static void mmrace_tp_on_success(void *data, struct page *page, int v,
				 int ret)
{
	if (ret)
		mmrace_tp_run(data, page);
}

static void mmrace_tp_on_mod(void *data, struct page *page, int v)
{
	mmrace_tp_run(data, page);
}

/* Registers or unregisters the probe function of tracepoint @tp. */
static int mmrace_tp_hook(enum mmrace_tracepoint tp, bool on)
{
	void *data = &mmrace_tps[tp];

	if (tp == MMRACE_TP_REF_MOD_UNLESS)
		return on ? register_trace_page_ref_mod_unless(mmrace_tp_on_success,
							       data) :
			    unregister_trace_page_ref_mod_unless(mmrace_tp_on_success,
								 data);
	if (tp == MMRACE_TP_REF_MOD)
		return on ? register_trace_page_ref_mod(mmrace_tp_on_mod, data) :
			    unregister_trace_page_ref_mod(mmrace_tp_on_mod, data);
	return on ? register_trace_page_ref_freeze(mmrace_tp_on_success, data) :
		    unregister_trace_page_ref_freeze(mmrace_tp_on_success, data);
}

/* Whether a slot of @tp is taken. */
static bool mmrace_tp_used(const struct mmrace_tp *tp)
{
	unsigned int i;

	for (i = 0; i < MMRACE_TP_SLOTS; i++)
		if (tp->slots[i].fn)
			return true;
	return false;
}

int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       unsigned int counter, const void *ctx)
{
	struct mmrace_tp *t = &mmrace_tps[tp];
	struct mmrace_tp_probe *slot = NULL;
	bool first;
	int i, ret = 0;

	mutex_lock(&mmrace_tp_lock);
	first = !mmrace_tp_used(t);
	for (i = 0; i < MMRACE_TP_SLOTS; i++) {
		if (!t->slots[i].fn) {
			slot = &t->slots[i];
			break;
		}
	}
	if (!slot) {
		mutex_unlock(&mmrace_tp_lock);
		return -ENOSPC;
	}
	slot->ctx = ctx;
	slot->counter = counter;
	WRITE_ONCE(slot->key, 0);
	/* Pairs with the probe's acquire. */
	smp_store_release(&slot->fn, fn);
	if (i >= t->nr)
		WRITE_ONCE(t->nr, i + 1);
	if (first)
		ret = mmrace_tp_hook(tp, true);
	if (ret)
		WRITE_ONCE(slot->fn, NULL);
	mutex_unlock(&mmrace_tp_lock);
	return ret;
}

void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx)
{
	struct mmrace_tp *t = &mmrace_tps[tp];
	struct mmrace_tp_probe *slot;
	int i;

	mutex_lock(&mmrace_tp_lock);
	for (i = 0; i < MMRACE_TP_SLOTS; i++) {
		slot = &t->slots[i];
		if (slot->fn != fn || slot->ctx != ctx)
			continue;
		WRITE_ONCE(slot->fn, NULL);
		if (!mmrace_tp_used(t))
			mmrace_tp_hook(tp, false);
		/* No probe may still run it when the slot is reused. */
		tracepoint_synchronize_unregister();
		slot->ctx = NULL;
		WRITE_ONCE(slot->key, 0);
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
		slot = &mmrace_tps[tp].slots[i];
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
