// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace C shim: file operations for debugfs attributes whose reads and
 * writes are implemented in Rust, plus module metadata only C can express.
 * No policy lives here: parsing and validation are the Rust side's job.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kallsyms.h>
#include <linux/kthread.h>
#include <linux/kprobes.h>
#include <linux/migrate.h>
#include <linux/mmzone.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page_ref.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/vmstat.h>
#include <linux/timekeeping.h>
#ifdef CONFIG_DEBUG_PAGE_REF
#include <trace/events/page_ref.h>
#endif

#include "shim.h"

/* A test module: loading it taints the kernel with TAINT_TEST. */
MODULE_INFO(test, "Y");

static int mmrace_attr_seq_show(struct seq_file *m, void *v)
{
	const struct mmrace_attr *attr = m->private;
	ssize_t len;
	char *buf;

	buf = kmalloc(MMRACE_ATTR_BUF_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	len = attr->show(attr, buf, MMRACE_ATTR_BUF_SIZE);
	if (len > 0)
		seq_write(m, buf, len);
	kfree(buf);
	return len < 0 ? len : 0;
}

static int mmrace_attr_open(struct inode *inode, struct file *file)
{
	return single_open(file, mmrace_attr_seq_show, inode->i_private);
}

/*
 * One write is one command: it must start at offset 0 and fit in
 * MMRACE_ATTR_MAX_WRITE bytes. The file position is left alone so that the
 * same descriptor can carry the next command.
 */
static ssize_t mmrace_attr_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	const struct mmrace_attr *attr =
		((struct seq_file *)file->private_data)->private;
	char why[MMRACE_ATTR_WHY_SIZE] = "";
	char *buf;
	int ret;

	if (*ppos != 0) {
		pr_warn_ratelimited("%pD2: write at offset %lld: a command must be written at offset 0\n",
				    file, *ppos);
		return -EINVAL;
	}
	if (count > MMRACE_ATTR_MAX_WRITE) {
		pr_warn_ratelimited("%pD2: %zu-byte write: at most %d bytes\n",
				    file, count, MMRACE_ATTR_MAX_WRITE);
		return -EINVAL;
	}
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = attr->store(attr, buf, count, why, sizeof(why));
	kfree(buf);
	if (ret) {
		if (why[0])
			pr_warn_ratelimited("%pD2: %s\n", file, why);
		return ret;
	}
	return count;
}

static const struct file_operations mmrace_attr_fops = {
	.owner = THIS_MODULE,
	.open = mmrace_attr_open,
	.read = seq_read,
	.write = mmrace_attr_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int mmrace_debugfs_create_attr(const char *name, umode_t mode,
			       struct dentry *parent,
			       const struct mmrace_attr *attr)
{
	struct dentry *dentry;

	dentry = debugfs_create_file(name, mode, parent, (void *)attr,
				     &mmrace_attr_fops);
	return PTR_ERR_OR_ZERO(dentry);
}

struct mmrace_probe {
	struct kretprobe krp;	/* krp.kp alone for an entry probe */
	enum mmrace_probe_kind kind;
	unsigned int arg;
	unsigned long caller_start;
	unsigned long caller_end;
	mmrace_probe_fn fn;
	const void *ctx;
};

/* At a function's entry on x86-64 the return address is at the stack top. */
static bool mmrace_probe_caller_ok(const struct mmrace_probe *probe,
				   struct pt_regs *regs)
{
	unsigned long ret;

	if (!probe->caller_end)
		return true;
	ret = *(unsigned long *)kernel_stack_pointer(regs);
	return ret >= probe->caller_start && ret < probe->caller_end;
}

static int mmrace_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(kp, struct mmrace_probe, krp.kp);

	if (mmrace_probe_caller_ok(probe, regs))
		probe->fn(probe->ctx,
			  regs_get_kernel_argument(regs, probe->arg));
	return 0;
}

static int mmrace_kretprobe_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(get_kretprobe(ri), struct mmrace_probe, krp);

	/* Non-zero: no return probe for this call. */
	return !mmrace_probe_caller_ok(probe, regs);
}

static int mmrace_kretprobe_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(get_kretprobe(ri), struct mmrace_probe, krp);

	probe->fn(probe->ctx, regs_return_value(regs));
	return 0;
}

struct mmrace_probe *mmrace_probe_register(const char *symbol,
					   enum mmrace_probe_kind kind,
					   unsigned int arg,
					   unsigned long caller_start,
					   unsigned long caller_end,
					   mmrace_probe_fn fn, const void *ctx)
{
	struct mmrace_probe *probe;
	int ret;

	probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	if (!probe)
		return ERR_PTR(-ENOMEM);
	probe->kind = kind;
	probe->arg = arg;
	probe->caller_start = caller_start;
	probe->caller_end = caller_end;
	probe->fn = fn;
	probe->ctx = ctx;
	probe->krp.kp.symbol_name = symbol;
	if (kind == MMRACE_PROBE_RETURN) {
		probe->krp.entry_handler = mmrace_kretprobe_entry;
		probe->krp.handler = mmrace_kretprobe_ret;
		probe->krp.maxactive = 4 * num_possible_cpus();
		ret = register_kretprobe(&probe->krp);
	} else {
		probe->krp.kp.pre_handler = mmrace_kprobe_pre;
		ret = register_kprobe(&probe->krp.kp);
	}
	if (ret) {
		kfree(probe);
		return ERR_PTR(ret);
	}
	return probe;
}

void mmrace_probe_unregister(struct mmrace_probe *probe)
{
	if (probe->kind == MMRACE_PROBE_RETURN)
		unregister_kretprobe(&probe->krp);
	else
		unregister_kprobe(&probe->krp.kp);
	kfree(probe);
}

/*
 * kallsyms_lookup_name() is not exported: let kprobes resolve the name, then
 * read the symbol's size back from "%pS"-style "name+off/size".
 *
 * The probe is registered disabled: kprobes resolves and checks the address
 * but never writes an int3 there nor queues it for optimization. Armed, this
 * throw-away probe (no post_handler, so optimizable) on a hot function such
 * as filemap_get_entry() oopsed a CPU entering it ("Oops: int3") while it
 * was registered and unregistered at once.
 */
int mmrace_symbol_range(const char *symbol, unsigned long *start,
			unsigned long *end)
{
	struct kprobe kp = {
		.symbol_name = symbol,
		.flags = KPROBE_FLAG_DISABLED,
	};
	char buf[KSYM_SYMBOL_LEN];
	unsigned long addr, off, size;
	char *p;
	int ret;

	ret = register_kprobe(&kp);
	if (ret)
		return ret == -EINVAL ? -ENOENT : ret;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	sprint_symbol(buf, addr);
	p = strrchr(buf, '+');
	if (!p || sscanf(p, "+%lx/%lx", &off, &size) != 2)
		return -ENOENT;
	*start = addr - off;
	*end = *start + size;
	return 0;
}

#ifdef CONFIG_DEBUG_PAGE_REF
struct mmrace_tp_probe {
	mmrace_probe_fn fn;
	const void *ctx;
};

/* One registration per (tracepoint, fn, ctx): data identifies it. */
static void mmrace_tp_on_success(void *data, struct page *page, int v,
				 int ret)
{
	const struct mmrace_tp_probe *tp = data;

	if (ret)
		tp->fn(tp->ctx, (unsigned long)page);
}

#define MMRACE_TP_SLOTS 8
static struct mmrace_tp_probe mmrace_tp_slots[2][MMRACE_TP_SLOTS];
static DEFINE_MUTEX(mmrace_tp_lock);

int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       const void *ctx)
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
	if (tp == MMRACE_TP_REF_MOD_UNLESS)
		ret = register_trace_page_ref_mod_unless(mmrace_tp_on_success,
							 slot);
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
		else
			unregister_trace_page_ref_freeze(mmrace_tp_on_success,
							 slot);
		/* No probe may still be running when the slot is reused. */
		tracepoint_synchronize_unregister();
		slot->fn = NULL;
		slot->ctx = NULL;
	}
	mutex_unlock(&mmrace_tp_lock);
}
#else
int mmrace_tracepoint_register(enum mmrace_tracepoint tp, mmrace_probe_fn fn,
			       const void *ctx)
{
	return -EOPNOTSUPP;
}

void mmrace_tracepoint_unregister(enum mmrace_tracepoint tp,
				  mmrace_probe_fn fn, const void *ctx)
{
}
#endif

bool mmrace_stack_has_caller(const unsigned long *ranges, unsigned int n,
			     unsigned int depth)
{
#ifdef CONFIG_STACKTRACE
	unsigned long entries[16];
	unsigned int nr, i, j;

	nr = stack_trace_save(entries, min_t(unsigned int, depth, 16), 0);
	for (i = 0; i < nr; i++)
		for (j = 0; j < n; j++)
			if (entries[i] >= ranges[2 * j] &&
			    entries[i] < ranges[2 * j + 1])
				return true;
#endif
	return false;
}

void mmrace_page_state(unsigned long page, struct mmrace_page_state *state)
{
	struct page *p = (struct page *)page;
	struct folio *folio = page_folio(p);

	state->pfn = page_to_pfn(p);
	state->head_pfn = page_to_pfn(&folio->page);
	state->folio = (unsigned long)folio;
	state->flags = READ_ONCE(folio->flags);
	state->mapping = (unsigned long)READ_ONCE(folio->mapping);
	state->refcount = folio_ref_count(folio);
	state->mapcount = atomic_read(&folio->_mapcount);
}

void mmrace_page_pfns(unsigned long page, unsigned long *pfn,
		      unsigned long *head_pfn)
{
	struct page *p = (struct page *)page;

	*pfn = page_to_pfn(p);
	*head_pfn = page_to_pfn(&page_folio(p)->page);
}

unsigned long mmrace_folio_page(unsigned long folio)
{
	return (unsigned long)&((struct folio *)folio)->page;
}

u64 mmrace_current_pte(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	unsigned long flags;
	pte_t *ptep;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t pmd;
	u64 val = 0;

	if (!mm)
		return 0;
	/* As in GUP-fast: page tables cannot be freed while interrupts are off. */
	local_irq_save(flags);
	pgd = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgd)))
		goto out;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		goto out;
	pud = pud_offset(p4d, addr);
	if (pud_none(READ_ONCE(*pud)) || pud_leaf(READ_ONCE(*pud)))
		goto out;
	pmd = pmdp_get_lockless(pmd_offset(pud, addr));
	if (pmd_none(pmd) || pmd_leaf(pmd)) {
		val = pmd_val(pmd);
		goto out;
	}
	if (!pmd_present(pmd) || pmd_bad(pmd))
		goto out;
	/*
	 * Not pte_offset_map(): __pte_offset_map() is not exported. With
	 * interrupts off the page table cannot be freed under us, and the
	 * checks above are the ones it makes on the PMD.
	 */
	ptep = pte_offset_kernel(&pmd, addr);
	val = pte_val(ptep_get_lockless(ptep));
out:
	local_irq_restore(flags);
	return val;
}

int mmrace_user_addr_to_pfn(int pid, unsigned long addr, unsigned long *pfn)
{
	struct pid *spid = find_get_pid(pid);
	struct task_struct *task;
	struct mm_struct *mm;
	struct page *page;
	long got;

	task = spid ? get_pid_task(spid, PIDTYPE_PID) : NULL;
	put_pid(spid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	got = get_user_pages_remote(mm, addr, 1, FOLL_NOFAULT, &page, NULL);
	mmap_read_unlock(mm);
	mmput(mm);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	*pfn = page_to_pfn(page);
	put_page(page);
	return 0;
}

static DEFINE_MUTEX(mmrace_control_mutex);

void mmrace_control_lock(void)
{
	mutex_lock(&mmrace_control_mutex);
}

void mmrace_control_unlock(void)
{
	mutex_unlock(&mmrace_control_mutex);
}

u64 mmrace_now_ns(void)
{
	return ktime_get_mono_fast_ns();
}

void mmrace_udelay(unsigned long usecs)
{
	udelay(usecs);
}

int mmrace_current_tgid(void)
{
	return task_tgid_nr(current);
}

/* Whether @pid is the current process or one of its ancestors. */
bool mmrace_current_in_tree(int pid)
{
	struct task_struct *task;
	bool found = false;

	rcu_read_lock();
	for (task = current; task->pid > 0; task = rcu_dereference(task->real_parent)) {
		if (task_tgid_nr(task) == pid) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

u32 mmrace_random_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

struct folio *mmrace_folio_alloc(void)
{
	return folio_alloc(GFP_KERNEL, 0);
}

void mmrace_folio_get(struct folio *folio)
{
	folio_get(folio);
}

void mmrace_folio_put_refs(struct folio *folio, int refs)
{
	folio_put_refs(folio, refs);
}

int mmrace_folio_ref_count(const struct folio *folio)
{
	return folio_ref_count(folio);
}

bool mmrace_folio_ref_freeze(struct folio *folio, int count)
{
	return folio_ref_freeze(folio, count);
}

void mmrace_folio_ref_unfreeze(struct folio *folio, int count)
{
	folio_ref_unfreeze(folio, count);
}

unsigned long mmrace_folio_pfn(struct folio *folio)
{
	return folio_pfn(folio);
}

void mmrace_folio_lock(struct folio *folio)
{
	folio_lock(folio);
}

bool mmrace_folio_trylock(struct folio *folio)
{
	return folio_trylock(folio);
}

void mmrace_folio_unlock(struct folio *folio)
{
	folio_unlock(folio);
}

bool mmrace_folio_test_flag(const struct folio *folio, unsigned int bit)
{
	return test_bit(bit, &folio->flags);
}

void mmrace_folio_set_flag(struct folio *folio, unsigned int bit)
{
	set_bit(bit, &folio->flags);
}

void mmrace_folio_clear_flag(struct folio *folio, unsigned int bit)
{
	clear_bit(bit, &folio->flags);
}

bool mmrace_folio_test_set_flag(struct folio *folio, unsigned int bit)
{
	return test_and_set_bit(bit, &folio->flags);
}

bool mmrace_folio_test_clear_flag(struct folio *folio, unsigned int bit)
{
	return test_and_clear_bit(bit, &folio->flags);
}

void mmrace_folio_set_flag_nonatomic(struct folio *folio, unsigned int bit)
{
	__set_bit(bit, &folio->flags);
}

void mmrace_folio_clear_flag_nonatomic(struct folio *folio, unsigned int bit)
{
	__clear_bit(bit, &folio->flags);
}

unsigned long mmrace_folio_flags_load(const struct folio *folio)
{
	return READ_ONCE(folio->flags);
}

void mmrace_folio_flags_store(struct folio *folio, unsigned long flags)
{
	WRITE_ONCE(folio->flags, flags);
}

unsigned long mmrace_nr_free_pages(void)
{
	return global_zone_page_state(NR_FREE_PAGES);
}

int mmrace_locked_down(void)
{
	/*
	 * Integrity lockdown restricts debugfs to read-only files; mmrace's
	 * files change how the kernel runs.
	 */
	return security_locked_down(LOCKDOWN_DEBUGFS);
}

unsigned long mmrace_free_pages_total(void)
{
	unsigned long total = global_zone_page_state(NR_FREE_PAGES);
	int nid, z, cpu;

	/* Pages on the per-CPU lists are free too; the sum is racy. */
	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (!populated_zone(zone) || !zone->per_cpu_pageset)
				continue;
			for_each_online_cpu(cpu)
				total += READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset,
							       cpu)->count);
		}
	}
	return total;
}

struct page *mmrace_noncompound_alloc(unsigned int order)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
}

void mmrace_noncompound_free(struct page *page, unsigned int order)
{
	__free_pages(page, order);
}

bool mmrace_page_get_unless_zero(struct page *page)
{
	return get_page_unless_zero(page);
}

void mmrace_page_put(struct page *page)
{
	put_page(page);
}

int mmrace_page_count(const struct page *page)
{
	return page_count(page);
}

/*
 * Movable pages owned by the module (non-LRU, like zsmalloc's or a
 * balloon's): compaction isolates them, fails to migrate them (the driver
 * refuses) and puts them back, locking each while it does.
 */
static bool mmrace_movable_isolate(struct page *page, isolate_mode_t mode)
{
	return true;
}

static int mmrace_movable_migrate(struct page *dst, struct page *src,
				  enum migrate_mode mode)
{
	return -EAGAIN;
}

static void mmrace_movable_putback(struct page *page)
{
	mmrace_movable_putback_hook(page);
}

static const struct movable_operations mmrace_movable_ops = {
	.isolate_page = mmrace_movable_isolate,
	.migrate_page = mmrace_movable_migrate,
	.putback_page = mmrace_movable_putback,
};

static int mmrace_cmp_pfn(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? -1 : pa > pb;
}

/*
 * A page that keeps a pageblock high in the zone partly used, so that
 * compaction's free scanner finds its migration targets there and stops
 * before it meets the migration scanner: on an otherwise free node the free
 * scanner skips every wholly free pageblock, meets the migration scanner
 * low in the zone, and the pages above that point are never scanned.
 * Measured: without it, the module's movable pages went unscanned in some
 * boots. The highest of a few order-8 blocks, split, one page kept.
 */
static struct page *mmrace_anchor_alloc(int nid)
{
	struct page *blocks[8], *best = NULL;
	unsigned int i, got = 0;

	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		blocks[got] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					       __GFP_THISNODE | __GFP_NOWARN, 8);
		if (blocks[got])
			got++;
	}
	for (i = 0; i < got; i++)
		if (!best || page_to_pfn(blocks[i]) > page_to_pfn(best))
			best = blocks[i];
	for (i = 0; i < got; i++) {
		if (blocks[i] != best)
			__free_pages(blocks[i], 8);
	}
	if (!best)
		return NULL;
	split_page(best, 8);
	for (i = 1; i < 256; i++)
		__free_page(best + i);
	return best;
}

int mmrace_movable_alloc(struct page **pages, unsigned int n,
			 unsigned int candidates, unsigned int skip,
			 struct page **anchor)
{
	struct page **all;
	unsigned int i, got = 0, skipped = 0;
	int nid = first_online_node, n2;

	if (!n || candidates < n)
		return -EINVAL;
	all = kvmalloc_array(candidates + skip, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	/* On the last node: node 0's low memory is the kernel's own. */
	for_each_online_node(n2)
		nid = n2;
	*anchor = mmrace_anchor_alloc(nid);
	/*
	 * Hold @skip pages while the candidates are allocated: the per-CPU
	 * lists hand out the same pages again and again, and where
	 * compaction reaches varies, so callers vary @skip to try other
	 * places.
	 */
	while (skipped < skip) {
		all[candidates + skipped] =
			alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					 __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!all[candidates + skipped])
			break;
		skipped++;
	}
	while (got < candidates) {
		all[got] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE |
					    __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!all[got])
			break;
		got++;
	}
	while (skipped)
		__free_page(all[candidates + --skipped]);
	if (got < n) {
		while (got)
			__free_page(all[--got]);
		kvfree(all);
		if (*anchor)
			__free_page(*anchor);
		*anchor = NULL;
		return -ENOMEM;
	}
	/* Compaction's migration scanner walks a zone upwards: the lowest. */
	sort(all, got, sizeof(*all), mmrace_cmp_pfn, NULL);
	for (i = n; i < got; i++)
		__free_page(all[i]);
	for (i = 0; i < n; i++) {
		pages[i] = all[i];
		lock_page(pages[i]);
		__SetPageMovable(pages[i], &mmrace_movable_ops);
		unlock_page(pages[i]);
	}
	kvfree(all);
	return 0;
}

void mmrace_movable_free(struct page *page)
{
	/*
	 * Under the lock no callback runs (each runs with the page locked)
	 * and, once it is clear, compaction calls none: putback sees a page
	 * that is no longer movable and only un-isolates it. Not lock_page():
	 * on a kernel that loses PG_waiters (the bug the scenario hunts) a
	 * sleeping lock may never be woken.
	 */
	while (!trylock_page(page))
		usleep_range(100, 200);
	__ClearPageMovable(page);
	unlock_page(page);
	put_page(page);
}

unsigned long mmrace_page_pfn(const struct page *page)
{
	return page_to_pfn(page);
}

void mmrace_page_lock(struct page *page)
{
	lock_page(page);
}

void mmrace_page_unlock(struct page *page)
{
	unlock_page(page);
}

bool mmrace_page_locked(struct page *page)
{
	return PageLocked(page);
}

bool mmrace_page_wake_waiters(struct page *page)
{
	/*
	 * Recovery from a lost PG_waiters: put the bit back, then unlock the
	 * page once more, which wakes whoever waits. Never sleeps: if the
	 * page is locked, its holder's unlock will see the bit.
	 */
	set_bit(PG_waiters, &page->flags);
	if (!trylock_page(page))
		return false;
	unlock_page(page);
	return true;
}

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

void mmrace_usleep(unsigned long usecs)
{
	usleep_range(usecs, 2 * usecs);
}

/*
 * hide_symbols=SYM[,SYM...]: probe sites on these symbols count as missing
 * from this kernel, so that tests can show what a window whose site is
 * missing does (the kernels they run on have every site).
 */
static char *hide_symbols = "";
module_param(hide_symbols, charp, 0400);
MODULE_PARM_DESC(hide_symbols,
		 "comma-separated symbols whose probe sites count as missing (tests)");

const char *mmrace_hidden_symbols(void)
{
	return hide_symbols ? hide_symbols : "";
}
