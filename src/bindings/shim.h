/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace C shim: the C-only kernel APIs and static inlines that the Rust
 * side needs, as plain functions. bindgen reads this header; only
 * src/abstractions/ may call what it declares. One-line wrappers are in
 * shim.c; each piece of C-only logic is in its own file, named at the head
 * of its section below.
 */
#ifndef MMRACE_SHIM_H
#define MMRACE_SHIM_H

#include <linux/debugfs.h>
#include <linux/types.h>

/* debugfs_attr.c: debugfs attributes. */

/* Largest accepted write to a debugfs attribute, in bytes. */
#define MMRACE_ATTR_MAX_WRITE 256
/* Buffer a debugfs attribute renders its contents into. */
#define MMRACE_ATTR_BUF_SIZE 4096
/* Buffer a rejected write explains itself in. */
#define MMRACE_ATTR_WHY_SIZE 256

/*
 * A debugfs attribute: embedded first in a Rust object that outlives the
 * file. @show renders the contents into @buf and returns the length or a
 * negative errno. @store parses the NUL-terminated @buf of @len bytes and
 * returns 0 or a negative errno, with the reason in @why.
 */
struct mmrace_attr {
	ssize_t (*show)(const struct mmrace_attr *attr, char *buf, size_t len);
	int (*store)(const struct mmrace_attr *attr, const char *buf,
		     size_t len, char *why, size_t why_len);
};

int mmrace_debugfs_create_attr(const char *name, umode_t mode,
			       struct dentry *parent,
			       const struct mmrace_attr *attr);

/* kprobe_glue.c: kprobes and kretprobes, and symbol lookups. */

/* Where a probe fires: at a function's entry, or at its return. */
enum mmrace_probe_kind {
	MMRACE_PROBE_ENTRY,
	MMRACE_PROBE_RETURN,
};

/*
 * Called from a probe with preemption (and often interrupts) disabled.
 * @ctx is what was given at registration; @arg is the function argument
 * chosen at registration (entry probes) or the return value (return probes).
 */
typedef void (*mmrace_probe_fn)(const void *ctx, unsigned long arg);

struct mmrace_probe;

/* Most callers a probe filters on. */
#define MMRACE_MAX_CALLERS 6

/*
 * Register a kprobe (ENTRY) or kretprobe (RETURN) on @symbol. For ENTRY, @arg
 * is the index of the argument handed to @fn. If @ncallers (at most
 * MMRACE_MAX_CALLERS) is non-zero, the probe only fires when called directly
 * from one of the [start, end) pairs in @callers (an empty pair never
 * matches). Returns the probe or an ERR_PTR.
 */
struct mmrace_probe *mmrace_probe_register(const char *symbol,
					   enum mmrace_probe_kind kind,
					   unsigned int arg,
					   const unsigned long *callers,
					   unsigned int ncallers,
					   mmrace_probe_fn fn, const void *ctx);
/* Unregister and free; waits for running handlers to return. */
void mmrace_probe_unregister(struct mmrace_probe *probe);
/* [start, end) of a kernel text symbol; 0 or -errno (-ENOENT: no symbol). */
int mmrace_symbol_range(const char *symbol, unsigned long *start,
			unsigned long *end);

/* tracepoint_slots.c: page_ref tracepoint probes. */

/* The page_ref tracepoints (CONFIG_DEBUG_PAGE_REF) a window can hook. */
enum mmrace_tracepoint {
	/* After a speculative reference attempt (page_ref_add_unless). */
	MMRACE_TP_REF_MOD_UNLESS,
	/* After a refcount freeze attempt (page_ref_freeze). */
	MMRACE_TP_REF_FREEZE,
	/* After a plain reference change (page_ref_mod: folio_get()). */
	MMRACE_TP_REF_MOD,
};

/*
 * @arg is the struct page; @fn is called only when the operation succeeded
 * (always for MMRACE_TP_REF_MOD).
 */
int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       const void *ctx);
void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx);

/* caller_filter.c (with the entry-probe filter kprobe_glue.c uses). */

/* Whether one of the first @depth return addresses on the stack lies in
 * one of the @n ranges (pairs of start, end).
 */
bool mmrace_stack_has_caller(const unsigned long *ranges, unsigned int n,
			     unsigned int depth);

/* shim.c */

/* A racy snapshot of the folio a struct page belongs to. */
struct mmrace_page_state {
	unsigned long pfn;
	unsigned long head_pfn;
	unsigned long folio;
	unsigned long flags;
	unsigned long mapping;
	int refcount;
	int mapcount;
};

void mmrace_page_state(unsigned long page, struct mmrace_page_state *state);
/* Only the page's pfn and its folio's head pfn: a probe's first filter. */
void mmrace_page_pfns(unsigned long page, unsigned long *pfn,
		      unsigned long *head_pfn);
/* The struct page of the folio pointer @folio. */
unsigned long mmrace_folio_page(unsigned long folio);

/* pte_walk.c */

/*
 * The raw PTE (or PMD leaf) mapping @addr in the current task's mm, read
 * locklessly the way GUP-fast does (interrupts off); 0 if none.
 */
u64 mmrace_current_pte(unsigned long addr);
/* The pfn of the page mapped at @addr in process @pid (it must be present). */
int mmrace_user_addr_to_pfn(int pid, unsigned long addr, unsigned long *pfn);

/* shim.c */

u64 mmrace_now_ns(void);
/* Busy-wait @usecs microseconds by counting (udelay), not by reading a
 * clock: it ends even where time stands still with interrupts off.
 */
void mmrace_udelay(unsigned long usecs);
int mmrace_current_tgid(void);
u32 mmrace_random_below(u32 ceil);
/* task_tree.c: whether @pid is the current process or one of its ancestors. */
bool mmrace_current_in_tree(int pid);

/*
 * Folios for the typestate layer (src/abstractions/folio.rs). Flags are
 * addressed by PG_* bit number in the folio's (head page's) flags word; the
 * layer decides which of these each state may call.
 */
struct folio;

/* A new order-0 folio (GFP_KERNEL) with one reference, or NULL. */
struct folio *mmrace_folio_alloc(void);
void mmrace_folio_get(struct folio *folio);
void mmrace_folio_put_refs(struct folio *folio, int refs);
int mmrace_folio_ref_count(const struct folio *folio);
/* folio_ref_freeze(): true if the count was @count and is now 0. */
bool mmrace_folio_ref_freeze(struct folio *folio, int count);
void mmrace_folio_ref_unfreeze(struct folio *folio, int count);
unsigned long mmrace_folio_pfn(struct folio *folio);
void mmrace_folio_lock(struct folio *folio);
bool mmrace_folio_trylock(struct folio *folio);
void mmrace_folio_unlock(struct folio *folio);
/* Atomic bit operations on the flags word (set_bit() and friends). */
bool mmrace_folio_test_flag(const struct folio *folio, unsigned int bit);
void mmrace_folio_set_flag(struct folio *folio, unsigned int bit);
void mmrace_folio_clear_flag(struct folio *folio, unsigned int bit);
bool mmrace_folio_test_set_flag(struct folio *folio, unsigned int bit);
bool mmrace_folio_test_clear_flag(struct folio *folio, unsigned int bit);
/* Non-atomic ones (__set_bit(), __clear_bit()): exclusive folios only. */
void mmrace_folio_set_flag_nonatomic(struct folio *folio, unsigned int bit);
void mmrace_folio_clear_flag_nonatomic(struct folio *folio, unsigned int bit);
/*
 * The two halves of a non-atomic update, for the seed 002 demonstration:
 * whatever another CPU changes in between is lost by the store.
 */
unsigned long mmrace_folio_flags_load(const struct folio *folio);
void mmrace_folio_flags_store(struct folio *folio, unsigned long flags);
/* Free pages in the buddy allocator (NR_FREE_PAGES), for leak checks. */
unsigned long mmrace_nr_free_pages(void);
/*
 * 0, or -EPERM if the kernel is locked down for integrity (or more), or the
 * assume_lockdown module parameter (tests) is set.
 */
int mmrace_locked_down(void);

/* free_pages.c: free pages, including the per-CPU lists' (a racy sum). */
unsigned long mmrace_free_pages_total(void);

/* A high-order block without __GFP_COMP, and __free_pages() for it. */
struct page *mmrace_noncompound_alloc(unsigned int order);
void mmrace_noncompound_free(struct page *page, unsigned int order);
/* A speculative reference (get_page_unless_zero), and put_page(). */
bool mmrace_page_get_unless_zero(struct page *page);
void mmrace_page_put(struct page *page);
int mmrace_page_count(const struct page *page);

/*
 * movable_pages.c: non-LRU movable pages of the module's own (compaction
 * puts them back). Once allocated, Rust locks, unlocks and reads them
 * through the typestate layer (MovableFolio in src/abstractions/folio.rs).
 *
 * Where the pages were put: their node and zone, and the pageblocks kept
 * partly used above them (one page each; movable_pages.c says why).
 */
#define MMRACE_MOVABLE_ANCHORS 64
struct mmrace_movable_placement {
	int nid;
	unsigned long zone_start_pfn;
	unsigned int nr_anchors;
	struct page *anchors[MMRACE_MOVABLE_ANCHORS];
};

/*
 * Fills @folios with @n fresh pages, made movable, the lowest of
 * @candidates fresh pages and of the lowest wholly free pageblock's first
 * pages, and @place (zeroed by the caller); 0 or -errno.
 */
int mmrace_movable_alloc(struct folio **folios, unsigned int n,
			 unsigned int candidates,
			 struct mmrace_movable_placement *place);
/* Frees the anchors of @place (once the pages are gone or not). */
void mmrace_movable_placement_release(struct mmrace_movable_placement *place);
/* Stops @folio being movable (waiting for its lock) and frees it. */
void mmrace_movable_free(struct folio *folio);
/*
 * Called by the movable pages' putback_page callback, page locked and
 * isolated; isolate_page (page locked); migrate_page (source page locked
 * and isolated; returns whether migration is to succeed). Implemented in
 * Rust (src/abstractions/movable.rs).
 */
void mmrace_movable_putback_hook(struct page *page);
void mmrace_movable_isolate_hook(struct page *page);
bool mmrace_movable_migrate_hook(struct page *page);

/*
 * pair_thread.c: run @a(@actx) here and @b(@bctx) on a new kernel thread at the same time;
 * return once both have returned. 0, or -errno if no thread could be made
 * (then neither ran).
 */
int mmrace_run_pair(void (*a)(void *), void *actx, void (*b)(void *),
		    void *bctx);
/* shim.c: usleep_range(@usecs, 2 * @usecs): sleep, uninterruptibly. */
void mmrace_usleep(unsigned long usecs);

/*
 * deferred_wake.c: one wait queue for process-context waiters, woken from
 * any context through an irq_work.
 */
/* Wake the waiters soon: callable in any context, NMI included. */
void mmrace_wake_kick(void);
/* Wake the waiters now: process or irq context, not NMI. */
void mmrace_wake_all(void);
/*
 * Sleep, interruptibly, until @cond(@ctx) is true or @timeout_jiffies
 * pass: wait_event_interruptible_timeout()'s return value.
 */
long mmrace_wake_wait(bool (*cond)(void *ctx), void *ctx,
		      unsigned long timeout_jiffies);
/* Wait for a queued kick to have run (before the module text goes). */
void mmrace_wake_sync(void);

/*
 * The hide_symbols module parameter: comma-separated symbols whose probe
 * sites count as missing from this kernel (a test hook). Never NULL.
 */
const char *mmrace_hidden_symbols(void);

#endif /* MMRACE_SHIM_H */
