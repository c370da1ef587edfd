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
#define MMRACE_ATTR_BUF_SIZE 32768
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
	/* At entry (+offset): @arg is a byte offset in struct pt_regs. */
	MMRACE_PROBE_REGISTER,
	/*
	 * RETURN, on a function whose arguments all travel in registers (at
	 * most six, not variadic, no structure passed by value on the
	 * stack): its return may ride a direct call.
	 */
	MMRACE_PROBE_RETURN_REGARGS,
};

/*
 * Called from a probe with preemption (and often interrupts) disabled.
 * @ctx is what was given at registration; @arg is the function argument
 * chosen at registration (entry probes) or the return value (return probes).
 */
typedef void (*mmrace_probe_fn)(const void *ctx, unsigned long arg);

/*
 * A return probe's entry filter, called at the function's entry (same
 * context) after the caller check: whether this call can concern the
 * probe's user, which is then called at its return; false spares the call
 * its return hook. @arg is the entry argument chosen at registration, when
 * @has_arg.
 */
typedef bool (*mmrace_admit_fn)(const void *ctx, unsigned long arg,
				bool has_arg);

/* How a kprobe reaches its place. */
enum mmrace_probe_mechanism {
	/* A breakpoint written into the text (or, optimized, a jump). */
	MMRACE_MECH_INT3,
	/* The function's ftrace call (CONFIG_KPROBES_ON_FTRACE). */
	MMRACE_MECH_FTRACE,
	/* The function's ftrace call, made a direct call (direct_call.c). */
	MMRACE_MECH_DIRECT,
	/*
	 * A return probe: kprobes right after each call of the function in
	 * its callers (int3s, or jumps if kprobes optimizes them).
	 */
	MMRACE_MECH_CALL_SITES,
};

struct mmrace_probe;

/*
 * What a probe's value is, for its page filter (page_key.c): a struct page
 * *, a struct folio *, or anything else (no filter possible).
 */
enum mmrace_page_key {
	MMRACE_KEY_NONE,
	MMRACE_KEY_PAGE,
	MMRACE_KEY_FOLIO,
	/* An xarray entry: a folio, or a value or internal entry (passed on). */
	MMRACE_KEY_XA,
};

/* A page filter's "any page". */
#define MMRACE_PFN_ANY (~0ULL)
/* Skip counters: one per window. */
#define MMRACE_SKIP_COUNTERS 128

/* The calls turned away by page filters counting in @counter, so far. */
u64 mmrace_skipped(unsigned int counter);

/* Most callers a probe filters on. */
#define MMRACE_MAX_CALLERS 6

/*
 * Register a probe at @symbol+@offset (ENTRY, REGISTER) or at @symbol's
 * return (RETURN, RETURN_REGARGS; @offset 0), @symbol copied. @func is the
 * function's start (0: not known). Where mmrace_probe_direct() allows and
 * @func is known, the probe rides a direct call (direct_call.c); where
 * mmrace_probe_call_sites() allows and @func is given (the caller's
 * choice: 0 keeps a kretprobe), it goes on the call sites of @func in its
 * callers (the value: %ax right after each call); else it is a kprobe or
 * a kretprobe. For ENTRY, @arg is the index of
 * the argument handed to @fn; for REGISTER, the pt_regs offset of the
 * register. If @ncallers (at most
 * MMRACE_MAX_CALLERS) is non-zero, the probe only fires when called directly
 * from one of the [start, end) pairs in @callers (an empty pair never
 * matches). A RETURN probe calls @admit (if not NULL) at entry, with
 * argument @entry_arg if it is not negative, and hooks the return only if
 * it agrees. @key is what the value handed to @fn (ENTRY), or to @admit
 * (RETURN, RETURN_REGARGS with @entry_arg) or else @fn (their return
 * value), is, for the page filter (mmrace_probe_filter_pfn()), whose
 * turned-away calls count in @counter.
 * Returns the probe or an ERR_PTR.
 */
struct mmrace_probe *mmrace_probe_register(const char *symbol,
					   unsigned long func,
					   unsigned int offset,
					   enum mmrace_probe_kind kind,
					   unsigned int arg,
					   const unsigned long *callers,
					   unsigned int ncallers,
					   mmrace_probe_fn fn,
					   mmrace_admit_fn admit,
					   int entry_arg,
					   enum mmrace_page_key key,
					   unsigned int counter, const void *ctx);
/*
 * Filter @probe to pages whose pfn or head pfn is @pfn (MMRACE_PFN_ANY:
 * every page): others are turned away before any callback and counted. A
 * call sees the old filter or the new one.
 */
void mmrace_probe_filter_pfn(struct mmrace_probe *probe, u64 pfn);
/*
 * Whether a probe of @kind, handing over argument @arg (ENTRY) or admitting
 * on @entry_arg (RETURN_REGARGS; negative: none), at the ftrace call of a
 * function's entry, rides a direct call on this kernel.
 */
bool mmrace_probe_direct(enum mmrace_probe_kind kind, unsigned int arg,
			 int entry_arg);
/*
 * Whether a probe of @kind at @offset, admitting on @entry_arg (negative:
 * none), filtered on @ncallers callers, goes on the call sites of its
 * function in those callers when there are some (a RETURN probe at offset
 * 0 with callers and no entry argument): one kprobe right after each call,
 * which fires only for those calls, instead of a kretprobe on every call.
 */
bool mmrace_probe_call_sites(enum mmrace_probe_kind kind, unsigned int offset,
			     int entry_arg, unsigned int ncallers);
/*
 * How many call sites of the function starting at @func the @ncallers
 * [start, end) pairs of @callers hold (read from the text, not proven to
 * be instructions), 0 if more than such a probe takes.
 */
unsigned int mmrace_call_sites_count(unsigned long func,
				     const unsigned long *callers,
				     unsigned int ncallers);
/* Unregister and free; waits for running handlers to return. */
void mmrace_probe_unregister(struct mmrace_probe *probe);
/* The same for @n probes, with one RCU grace period per kind for all. */
void mmrace_probes_unregister(struct mmrace_probe **probes, unsigned int n);
/* Whether kprobes accepts @symbol+@offset: 0 or register_kprobe()'s error. */
int mmrace_probe_check(const char *symbol, unsigned int offset);
/*
 * How a kprobe at @symbol+@offset (or a kretprobe on @symbol) would be
 * reached: an enum mmrace_probe_mechanism, or register_kprobe()'s error.
 */
int mmrace_probe_mechanism(const char *symbol, unsigned int offset);
/* The pt_regs offset of register @name ("di", "r8"...), or -EINVAL. */
int mmrace_reg_offset(const char *name);
/*
 * [start, end) of @n kernel text symbols (0 where not resolved) and, in
 * @mech, mmrace_probe_mechanism() at their entry, with one RCU grace period
 * for all. 0 or -ENOMEM.
 */
int mmrace_symbols_resolve(const char *const *names, unsigned int n,
			   unsigned long *start, unsigned long *end, int *mech);

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
			       unsigned int counter, const void *ctx);
void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx);
/* mmrace_probe_filter_pfn() for the registration of @tp, @fn and @ctx. */
void mmrace_tracepoint_filter_pfn(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx, u64 pfn);

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
/*
 * For validating values a user claims are pages (src/abstractions/mm.rs):
 * the start of the virtual memmap (0 without CONFIG_SPARSEMEM_VMEMMAP),
 * sizeof(struct page), the struct page of @pfn if pfn_to_online_page() gives
 * one (else 0: not valid, offline or ZONE_DEVICE), and
 * whether the struct page at @page (a valid one) is a tail page.
 */
unsigned long mmrace_vmemmap_start(void);
unsigned long mmrace_struct_page_size(void);
unsigned long mmrace_valid_pfn_page(unsigned long pfn);
bool mmrace_page_is_tail(unsigned long page);

/* A reference on a debugfs dentry, and dropping it (dget(), dput()). */
struct dentry *mmrace_dget(struct dentry *dentry);
void mmrace_dput(struct dentry *dentry);

/* pte_walk.c */

/*
 * The raw PTE (or PMD leaf) mapping @addr in the current task's mm, read
 * locklessly the way GUP-fast does (interrupts off); 0 if none.
 */
u64 mmrace_current_pte(unsigned long addr);
struct pid;
/*
 * A reference on the struct pid that @nr names in current's pid namespace
 * (NULL: none), dropping it, and its number in the initial namespace (the
 * one tgids of the module's checks are in) and in current's (0: not seen).
 */
struct pid *mmrace_find_get_pid(int nr);
void mmrace_put_pid(struct pid *pid);
int mmrace_pid_nr(struct pid *pid);
int mmrace_pid_vnr(struct pid *pid);
/*
 * A slot holding one struct pid reference (or NULL), under one spinlock:
 * store @pid (the caller's reference) and return the old one (now the
 * caller's); or a new reference on what the slot holds (NULL: nothing).
 */
struct pid *mmrace_pid_slot_xchg(struct pid **slot, struct pid *pid);
struct pid *mmrace_pid_slot_get(struct pid **slot);
/* The mm of process @pid, referenced (mmput() it), or ERR_PTR(-ESRCH/-EINVAL). */
struct mm_struct *mmrace_pid_mm(struct pid *pid);
/* The pfn of the page mapped at @addr in process @pid (it must be present). */
int mmrace_user_addr_to_pfn(struct pid *pid, unsigned long addr,
			    unsigned long *pfn);

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
/* shim.c: cond_resched() (a macro). */
void mmrace_cond_resched(void);

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
/*
 * Wait for a queued kick to have run, and for the worker it may have
 * queued to have returned (before the module text goes).
 */
void mmrace_wake_sync(void);
/*
 * Also run the module's worker (mmrace_adversary_work(), in Rust) soon, in
 * process context (system_highpri_wq, on another CPU): any context, NMI
 * included.
 */
void mmrace_work_kick(void);
/* Wait for a running or queued worker to have returned. Process context. */
void mmrace_work_flush(void);
/* The worker's body, implemented in Rust (src/abstractions/wake.rs). */
void mmrace_adversary_work(void);

/*
 * adversary_ops.c and shim.c: what the in-module adversary operations
 * (src/abstractions/adversary_ops.rs) need.
 */
/*
 * The folio holding @pfn with a reference taken (folio_try_get(), rechecked
 * against the page), or NULL: no online page, or its count is 0 (free or
 * frozen).
 */
struct folio *mmrace_pfn_folio_tryget(unsigned long pfn);
/* The folio's page-cache mapping (folio locked), or NULL if anon or none. */
struct address_space *mmrace_folio_file_mapping(struct folio *folio);
bool mmrace_folio_mapped(struct folio *folio);
bool mmrace_folio_test_writeback(struct folio *folio);
/* folio_expected_ref_count(): page cache, PG_private, swap cache, maps. */
int mmrace_folio_expected_ref_count(struct folio *folio);
/* xa_lock_irq() and xa_unlock_irq() of @mapping->i_pages. */
void mmrace_mapping_lock_irq(struct address_space *mapping);
void mmrace_mapping_unlock_irq(struct address_space *mapping);
/* Whether @mapping holds @folio at its index (mapping's xarray locked). */
bool mmrace_mapping_holds(struct address_space *mapping, struct folio *folio);
/*
 * madvise(MADV_DONTNEED) of the page at @addr in process @pid:
 * zap_page_range_single() under its mmap lock. 0 or -errno (-ESRCH: no
 * process, -EFAULT: no vma at @addr).
 */
int mmrace_zap_user_page(struct pid *pid, unsigned long addr);
/*
 * For +reuse: a free page of the node of @pfn, as user memory and most
 * page cache get (GFP_HIGHUSER_MOVABLE) or as a block device's page cache
 * gets (GFP_USER, not movable), no warning, or NULL; for @order > 0 a
 * block without __GFP_COMP, taken from the free lists as they are (no
 * reclaim, no compaction); its pfn; fill its first page with @word
 * (8-byte words) and mark it uptodate, as a page-cache page holding other
 * data would be. It is freed with put_page() (order 0) or __free_pages()
 * (mmrace_noncompound_free()), after any speculative reference taken on
 * its first page meanwhile is dropped, or before (the seed-001 case).
 */
struct page *mmrace_reuse_alloc(unsigned long pfn, bool movable,
				unsigned int order);
/*
 * The order of the compound page @pfn heads, read without a reference (a
 * hint: 0 for a base page, a tail, a free or an offline page).
 */
unsigned int mmrace_pfn_order_hint(unsigned long pfn);
/*
 * POSIX_FADV_DONTNEED of the page-cache folio holding @pfn, from the
 * module: its mapping and index read under its lock, the inode pinned
 * (igrab()), lock and reference dropped (mapping_evict_folio() wants
 * neither), then invalidate_mapping_pages() of the folio's whole range (a
 * large folio past the range is skipped), the exported entry to the same
 * mapping_try_invalidate(). 0 if @pfn's folio is no longer there after;
 * -EAGAIN (no reference to take, locked), -ENOENT (not page cache),
 * -EBUSY (not dropped: mapped, dirty, an extra reference).
 */
int mmrace_evict_pfn(unsigned long pfn);
unsigned long mmrace_page_to_pfn(struct page *page);
void mmrace_reuse_fill(struct page *page, u64 word);
/*
 * memfd_pin.c, for scenario memfd_pin: memfd_pin_folios() of page @index of the
 * current task's file @fd (a shmem or hugetlbfs memfd: its lookup is
 * filemap_get_folios_contig()), the first word of that page read into
 * @word, unpin_folio(). 0 or -errno (-EBADF: no such fd, -EINVAL: not a
 * memfd).
 */
int mmrace_memfd_pin_word(int fd, unsigned long index, u64 *word);

/*
 * The hide_symbols module parameter: comma-separated symbols whose probe
 * sites count as missing from this kernel (a test hook). Never NULL.
 */
const char *mmrace_hidden_symbols(void);

#endif /* MMRACE_SHIM_H */
