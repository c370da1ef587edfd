// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace kprobe glue: a kprobe (at a function's entry) or kretprobe (at its
 * return) that hands one argument or the return value to a Rust callback,
 * optionally only when called from a given function (caller_filter.c), or
 * the same on a direct call where the kernel allows (direct_call.c); and
 * the symbol lookup the sites resolve through.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "caller_filter.h"
#include "direct_call.h"
#include "divert.h"
#include "page_key.h"
#include "shim.h"

/* Most call sites a return probe on call sites takes (call_site below). */
#define MMRACE_MAX_CALL_SITES 8

/*
 * A return probe on a call site: a kprobe right after one call of the
 * function in a caller, and a disabled one on the call itself, which
 * proves to kprobes' decoder that the call is an instruction (nothing is
 * written there; it costs no call anything).
 */
struct mmrace_call_site {
	struct kprobe call;
	struct kprobe ret;
	struct mmrace_probe *probe;
};

struct mmrace_probe {
	struct kretprobe krp;	/* krp.kp alone for an entry probe */
	enum mmrace_probe_kind kind;
	unsigned int arg;
	char symbol[KSYM_NAME_LEN];	/* krp.kp.symbol_name: a copy */
	unsigned int ncallers;
	unsigned long callers[2 * MMRACE_MAX_CALLERS];
	mmrace_probe_fn fn;
	mmrace_admit_fn admit;
	int entry_arg;		/* for admit; negative: none */
	const void *ctx;
	enum mmrace_page_key key_kind;
	unsigned int counter;
	u64 key;		/* the page filter (page_key.h) */
	bool direct;		/* on a direct call: @du, not @krp */
	struct mmrace_direct_user du;
	/* A return probe on its call sites: these, not @krp. */
	unsigned int nsites;
	struct mmrace_call_site *sites;
	/* Being unregistered: its call sites divert no more (divert.c). */
	bool dying;
};

/* Whether the call being probed comes from the caller the probe wants. */
static bool mmrace_probe_caller_ok(const struct mmrace_probe *probe,
				   struct pt_regs *regs)
{
	return mmrace_entry_caller_in(probe->callers, probe->ncallers, regs);
}

static int mmrace_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(kp, struct mmrace_probe, krp.kp);

	unsigned long value;

	if (!mmrace_probe_caller_ok(probe, regs))
		return 0;
	if (probe->kind == MMRACE_PROBE_REGISTER)
		value = regs_get_register(regs, probe->arg);
	else
		value = regs_get_kernel_argument(regs, probe->arg);
	if (!mmrace_key_skips(READ_ONCE(probe->key), value))
		probe->fn(probe->ctx, value);
	return 0;
}

static int mmrace_kretprobe_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(get_kretprobe(ri), struct mmrace_probe, krp);

	/* Non-zero: no return probe for this call. */
	if (!mmrace_probe_caller_ok(probe, regs))
		return 1;
	if (probe->admit && probe->entry_arg >= 0 &&
	    mmrace_key_skips(READ_ONCE(probe->key),
			     regs_get_kernel_argument(regs, probe->entry_arg)))
		return 1;
	if (!probe->admit)
		return 0;
	if (probe->entry_arg < 0)
		return !probe->admit(probe->ctx, 0, false);
	return !probe->admit(probe->ctx,
			     regs_get_kernel_argument(regs, probe->entry_arg),
			     true);
}

static int mmrace_kretprobe_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct mmrace_probe *probe =
		container_of(get_kretprobe(ri), struct mmrace_probe, krp);
	unsigned long value = regs_return_value(regs);

	/* Without an entry argument, the filter is on the return value. */
	if (probe->entry_arg >= 0 ||
	    !mmrace_key_skips(READ_ONCE(probe->key), value))
		probe->fn(probe->ctx, value);
	return 0;
}

/*
 * Right after a call of the function, in one of its callers: the return
 * value is in %ax, and the caller needs no check (the site is in it). A
 * jump elsewhere in the caller may reach the same instruction with
 * anything in %ax: only a filter that reads nothing (a folio or xarray
 * key: the pfn is arithmetic) applies here, and the callback checks the
 * value before any use.
 *
 * On an int3 the callback is diverted (divert.c): it runs once the
 * breakpoint has returned, in the caller's own context, as a kretprobe's
 * return handler would, and the instruction runs after it.
 */
static int mmrace_call_site_pre(struct kprobe *kp, struct pt_regs *regs)
{
	const struct mmrace_call_site *site =
		container_of(kp, struct mmrace_call_site, ret);
	struct mmrace_probe *probe = site->probe;
	unsigned long value = regs_return_value(regs);
	u64 key = READ_ONCE(probe->key);

	if (mmrace_divert_back(kp, regs))
		return 0;
	if ((key & MMRACE_KEYBIT_FOLIO) && mmrace_key_skips(key, value))
		return 0;
	if (READ_ONCE(probe->dying))
		return 0;
	if (mmrace_divert(kp, regs, probe->fn, probe->ctx, value))
		return 1;
	probe->fn(probe->ctx, value);
	return 0;
}

/*
 * The calls of @func ("call rel32", x86-64) in the @n [start, end) ranges
 * of @ranges: up to @max of their addresses into @out (if not NULL), and
 * how many there are. Read from the text as it is now: a call under
 * someone's breakpoint is not seen. The caller proves each address is an
 * instruction before it trusts it.
 *
 * Callers in a module ("%pS" names it: "[mod]") are left out: kprobes
 * removes a going module's probes itself, with no grace period of ours
 * first, and a divert in flight (divert.c) would return to an instruction
 * whose breakpoint is gone.
 */
static unsigned int mmrace_call_sites_scan(unsigned long func,
					   const unsigned long *ranges,
					   unsigned int n, unsigned long *out,
					   unsigned int max)
{
	char sym[KSYM_SYMBOL_LEN];
	unsigned int i, found = 0;
	unsigned long a;
	u8 insn[5];
	s32 rel;

	if (!IS_ENABLED(CONFIG_X86_64) || !func)
		return 0;
	for (i = 0; i < n; i++) {
		if (!ranges[2 * i])
			continue;
		sprint_symbol(sym, ranges[2 * i]);
		if (strchr(sym, '['))
			continue;
		for (a = ranges[2 * i]; a && a + 5 <= ranges[2 * i + 1]; a++) {
			if (copy_from_kernel_nofault(insn, (void *)a, 5))
				break;
			memcpy(&rel, insn + 1, 4);
			if (insn[0] != 0xe8 || a + 5 + (long)rel != func)
				continue;
			if (out && found < max)
				out[found] = a;
			found++;
		}
	}
	return found;
}

bool mmrace_probe_call_sites(enum mmrace_probe_kind kind, unsigned int offset,
			     int entry_arg, unsigned int ncallers)
{
	return IS_ENABLED(CONFIG_X86_64) && kind == MMRACE_PROBE_RETURN &&
	       !offset && entry_arg < 0 && ncallers;
}

unsigned int mmrace_call_sites_count(unsigned long func,
				     const unsigned long *callers,
				     unsigned int ncallers)
{
	unsigned int n = mmrace_call_sites_scan(func, callers, ncallers,
						NULL, 0);

	return n <= MMRACE_MAX_CALL_SITES ? n : 0;
}

/*
 * Before call sites' breakpoints go: no new divert, and every divert in
 * flight back at its instruction (each is an RCU read-side section from
 * its int3 to its return, divert.c), so that none returns to a breakpoint
 * that is gone.
 */
static void mmrace_call_sites_quiesce(struct mmrace_probe **probes,
				      unsigned int n)
{
	bool any = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (probes[i]->nsites) {
			WRITE_ONCE(probes[i]->dying, true);
			any = true;
		}
	}
	if (any)
		synchronize_rcu();
}

/* Unregisters the first @n call sites of @probe (one grace period). */
static void mmrace_call_sites_drop(struct mmrace_probe *probe, unsigned int n)
{
	struct kprobe *kps[2 * MMRACE_MAX_CALL_SITES];
	unsigned int i;

	/* A failed attach's sites may have been hit already. */
	WRITE_ONCE(probe->dying, true);
	if (n)
		synchronize_rcu();
	for (i = 0; i < n; i++) {
		kps[2 * i] = &probe->sites[i].ret;
		kps[2 * i + 1] = &probe->sites[i].call;
	}
	if (n)
		unregister_kprobes(kps, 2 * n);
}

/*
 * @probe (RETURN, mmrace_probe_call_sites()) on the call sites of @func in
 * its callers: 0, or an error (none, too many, or one kprobes refuses),
 * nothing registered.
 */
static int mmrace_probe_attach_call_sites(struct mmrace_probe *probe,
					  unsigned long func)
{
	unsigned long calls[MMRACE_MAX_CALL_SITES];
	unsigned int i, n;
	int ret = 0;

	n = mmrace_call_sites_scan(func, probe->callers, probe->ncallers,
				   calls, MMRACE_MAX_CALL_SITES);
	if (!n || n > MMRACE_MAX_CALL_SITES)
		return -ENOENT;
	probe->sites = kcalloc(n, sizeof(*probe->sites), GFP_KERNEL);
	if (!probe->sites)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct mmrace_call_site *site = &probe->sites[i];

		site->probe = probe;
		site->call.addr = (kprobe_opcode_t *)calls[i];
		site->call.flags = KPROBE_FLAG_DISABLED;
		ret = register_kprobe(&site->call);
		if (ret)
			break;
		site->ret.addr = (kprobe_opcode_t *)(calls[i] + 5);
		site->ret.pre_handler = mmrace_call_site_pre;
		ret = register_kprobe(&site->ret);
		if (ret) {
			unregister_kprobe(&site->call);
			break;
		}
	}
	if (ret) {
		mmrace_call_sites_drop(probe, i);
		kfree(probe->sites);
		probe->sites = NULL;
		return ret;
	}
	probe->nsites = n;
	return 0;
}

bool mmrace_probe_direct(enum mmrace_probe_kind kind, unsigned int arg,
			 int entry_arg)
{
	if (!IS_ENABLED(CONFIG_X86_64) ||
	    !IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS))
		return false;
	/* The trampoline hands over the six argument registers. */
	if (kind == MMRACE_PROBE_ENTRY)
		return arg < 6;
	return kind == MMRACE_PROBE_RETURN_REGARGS && entry_arg < 6;
}

/* @probe on a direct call at @func's entry: 0 or direct_call.c's error. */
static int mmrace_probe_attach_direct(struct mmrace_probe *probe,
				      unsigned long func)
{
	probe->du.ret = probe->kind != MMRACE_PROBE_ENTRY;
	probe->du.arg = probe->arg;
	probe->du.entry_arg = probe->admit ? probe->entry_arg : -1;
	probe->du.callers = probe->callers;
	probe->du.ncallers = probe->ncallers;
	probe->du.fn = probe->fn;
	probe->du.admit = probe->admit;
	probe->du.ctx = probe->ctx;
	probe->du.key = 0;
	return mmrace_direct_attach(&probe->du, func);
}

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
					   unsigned int counter, const void *ctx)
{
	struct mmrace_probe *probe;
	int ret;

	if (ncallers > MMRACE_MAX_CALLERS)
		return ERR_PTR(-EINVAL);
	if (kind == MMRACE_PROBE_REGISTER && arg > MAX_REG_OFFSET)
		return ERR_PTR(-EINVAL);
	probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	if (!probe)
		return ERR_PTR(-ENOMEM);
	probe->kind = kind;
	probe->arg = arg;
	probe->ncallers = ncallers;
	memcpy(probe->callers, callers, 2 * ncallers * sizeof(*callers));
	probe->fn = fn;
	probe->admit = admit;
	probe->entry_arg = entry_arg;
	probe->ctx = ctx;
	probe->key_kind = key;
	probe->counter = counter;
	if (strscpy(probe->symbol, symbol, sizeof(probe->symbol)) < 0) {
		kfree(probe);
		return ERR_PTR(-EINVAL);
	}
	if (func && !offset &&
	    mmrace_probe_direct(kind, arg, admit ? entry_arg : -1)) {
		ret = mmrace_probe_attach_direct(probe, func);
		if (!ret) {
			probe->direct = true;
			return probe;
		}
		/* Taken by another direct caller, say: a kprobe still works. */
		pr_warn_once("mmrace: %s: no direct call (%d), a kprobe instead\n",
			     symbol, ret);
	}
	if (mmrace_probe_call_sites(kind, offset, admit ? entry_arg : -1,
				    ncallers)) {
		ret = mmrace_probe_attach_call_sites(probe, func);
		if (!ret)
			return probe;
		/* -ENOENT: no call in those callers (inlined, say). */
		if (ret != -ENOENT)
			pr_warn_once("mmrace: %s: not on its call sites (%d), a kretprobe instead\n",
				     symbol, ret);
	}
	probe->krp.kp.symbol_name = probe->symbol;
	probe->krp.kp.offset = offset;
	if (kind == MMRACE_PROBE_RETURN ||
	    kind == MMRACE_PROBE_RETURN_REGARGS) {
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

void mmrace_probe_filter_pfn(struct mmrace_probe *probe, u64 pfn)
{
	bool ret = probe->kind == MMRACE_PROBE_RETURN ||
		   probe->kind == MMRACE_PROBE_RETURN_REGARGS;
	int arg = ret ? probe->entry_arg : (int)probe->arg;
	u64 key = 0;

	/*
	 * A return probe filters on its entry argument if it has one, else
	 * on its return value (argument 0 in the key: unused).
	 */
	if (probe->kind != MMRACE_PROBE_REGISTER)
		key = mmrace_key_make(probe->key_kind, arg < 0 ? 0 : arg,
				      probe->counter, pfn);
	if (probe->direct)
		mmrace_direct_filter(&probe->du, key);
	else
		WRITE_ONCE(probe->key, key);
}

/* Whether @probe is a kretprobe. */
static bool mmrace_probe_is_kretprobe(const struct mmrace_probe *probe)
{
	return !probe->direct && !probe->nsites &&
	       (probe->kind == MMRACE_PROBE_RETURN ||
		probe->kind == MMRACE_PROBE_RETURN_REGARGS);
}

void mmrace_probe_unregister(struct mmrace_probe *probe)
{
	struct mmrace_direct_user *du = &probe->du;

	if (probe->direct)
		mmrace_direct_detach(&du, 1);
	else if (probe->nsites)
		mmrace_call_sites_drop(probe, probe->nsites);
	else if (mmrace_probe_is_kretprobe(probe))
		unregister_kretprobe(&probe->krp);
	else
		unregister_kprobe(&probe->krp.kp);
	kfree(probe->sites);
	kfree(probe);
}

/*
 * mmrace_probe_unregister() of @n probes: unregister_kprobes() and
 * unregister_kretprobes() wait for one RCU grace period per batch, where one
 * probe at a time waits for one each. Without memory for the batch, one at
 * a time.
 */
void mmrace_probes_unregister(struct mmrace_probe **probes, unsigned int n)
{
	struct mmrace_direct_user **dus;
	struct kretprobe **rps;
	struct kprobe **kps;
	unsigned int i, j, nk = 0, nr = 0, nd = 0;

	/* An entry probe takes one, call sites two each. */
	kps = kcalloc(2 * MMRACE_MAX_CALL_SITES * n, sizeof(*kps), GFP_KERNEL);
	rps = kcalloc(n, sizeof(*rps), GFP_KERNEL);
	dus = kcalloc(n, sizeof(*dus), GFP_KERNEL);
	if (!kps || !rps || !dus) {
		kfree(kps);
		kfree(rps);
		kfree(dus);
		for (i = 0; i < n; i++)
			mmrace_probe_unregister(probes[i]);
		return;
	}
	mmrace_call_sites_quiesce(probes, n);
	for (i = 0; i < n; i++) {
		if (probes[i]->direct) {
			dus[nd++] = &probes[i]->du;
		} else if (probes[i]->nsites) {
			for (j = 0; j < probes[i]->nsites; j++) {
				kps[nk++] = &probes[i]->sites[j].ret;
				kps[nk++] = &probes[i]->sites[j].call;
			}
		} else if (mmrace_probe_is_kretprobe(probes[i])) {
			rps[nr++] = &probes[i]->krp;
		} else {
			kps[nk++] = &probes[i]->krp.kp;
		}
	}
	if (nd)
		mmrace_direct_detach(dus, nd);
	if (nk)
		unregister_kprobes(kps, nk);
	if (nr)
		unregister_kretprobes(rps, nr);
	for (i = 0; i < n; i++) {
		kfree(probes[i]->sites);
		kfree(probes[i]);
	}
	kfree(kps);
	kfree(rps);
	kfree(dus);
}

/* [start, end) of the function containing @addr, from "%pS"'s "name+off/size". */
static int mmrace_addr_range(unsigned long addr, unsigned long *start,
			     unsigned long *end)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long off, size;
	char *p;

	sprint_symbol(buf, addr);
	p = strrchr(buf, '+');
	if (!p || sscanf(p, "+%lx/%lx", &off, &size) != 2)
		return -ENOENT;
	*start = addr - off;
	*end = *start + size;
	return 0;
}

/*
 * kallsyms_lookup_name() is not exported: let kprobes resolve each name
 * (mmrace_addr_range() reads the symbol's size back), and say how a probe
 * at its entry is reached (as mmrace_probe_mechanism() at offset 0), for @n
 * symbols at once.
 *
 * The probes are registered disabled: kprobes resolves and checks the
 * address but never writes an int3 there nor queues it for optimization.
 * Armed, such a throw-away probe (no post_handler, so optimizable) on a hot
 * function such as filemap_get_entry() oopsed a CPU entering it ("Oops:
 * int3") while it was registered and unregistered at once.
 *
 * They are unregistered together, so that the batch waits for one RCU grace
 * period where one probe at a time waits for one each (unregister_kprobes()).
 * For each symbol, @start and @end (0 if not resolved) and @mech (an enum
 * mmrace_probe_mechanism, or register_kprobe()'s error). 0, or -ENOMEM with
 * nothing resolved.
 */
int mmrace_symbols_resolve(const char *const *names, unsigned int n,
			   unsigned long *start, unsigned long *end, int *mech)
{
	struct kprobe *kps, **done;
	unsigned int i, ndone = 0;
	int ret;

	kps = kcalloc(n, sizeof(*kps), GFP_KERNEL);
	done = kcalloc(n, sizeof(*done), GFP_KERNEL);
	if (!kps || !done) {
		kfree(kps);
		kfree(done);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		start[i] = 0;
		end[i] = 0;
		kps[i].symbol_name = names[i];
		kps[i].flags = KPROBE_FLAG_DISABLED;
		ret = register_kprobe(&kps[i]);
		if (ret) {
			mech[i] = ret;
			continue;
		}
		done[ndone++] = &kps[i];
		mech[i] = kprobe_ftrace(&kps[i]) ? MMRACE_MECH_FTRACE :
						   MMRACE_MECH_INT3;
		mmrace_addr_range((unsigned long)kps[i].addr, &start[i],
				  &end[i]);
	}
	if (ndone)
		unregister_kprobes(done, ndone);
	kfree(done);
	kfree(kps);
	return 0;
}

/*
 * Whether kprobes accepts @symbol+@offset (a disabled probe: nothing is
 * written to the kernel text): 0, or register_kprobe()'s error (-ENOENT: no
 * such symbol; -EINVAL: blacklisted, noinstr or not kernel text; -EILSEQ:
 * not an instruction boundary).
 */
int mmrace_probe_check(const char *symbol, unsigned int offset)
{
	struct kprobe kp = {
		.symbol_name = symbol,
		.offset = offset,
		.flags = KPROBE_FLAG_DISABLED,
	};
	int ret = register_kprobe(&kp);

	if (!ret)
		unregister_kprobe(&kp);
	return ret;
}

/*
 * How a probe at @symbol+@offset would be reached, by a disabled probe as
 * above: kprobes puts it on the function's ftrace call when @offset is that
 * call's place (the function's entry, past an ENDBR) and the kernel has
 * CONFIG_KPROBES_ON_FTRACE; a kretprobe's entry is a kprobe at +0.
 */
int mmrace_probe_mechanism(const char *symbol, unsigned int offset)
{
	struct kprobe kp = {
		.symbol_name = symbol,
		.offset = offset,
		.flags = KPROBE_FLAG_DISABLED,
	};
	int ret = register_kprobe(&kp);

	if (ret)
		return ret;
	ret = kprobe_ftrace(&kp) ? MMRACE_MECH_FTRACE : MMRACE_MECH_INT3;
	unregister_kprobe(&kp);
	return ret;
}

/* x86-64 register names of kprobe_events (without the %) and their offsets. */
static const struct {
	const char *name;
	unsigned int offset;
} mmrace_regs[] = {
#ifdef CONFIG_X86_64
	{ "di", offsetof(struct pt_regs, di) },
	{ "si", offsetof(struct pt_regs, si) },
	{ "dx", offsetof(struct pt_regs, dx) },
	{ "cx", offsetof(struct pt_regs, cx) },
	{ "r8", offsetof(struct pt_regs, r8) },
	{ "r9", offsetof(struct pt_regs, r9) },
	{ "ax", offsetof(struct pt_regs, ax) },
	{ "bx", offsetof(struct pt_regs, bx) },
	{ "bp", offsetof(struct pt_regs, bp) },
	{ "sp", offsetof(struct pt_regs, sp) },
	{ "r10", offsetof(struct pt_regs, r10) },
	{ "r11", offsetof(struct pt_regs, r11) },
	{ "r12", offsetof(struct pt_regs, r12) },
	{ "r13", offsetof(struct pt_regs, r13) },
	{ "r14", offsetof(struct pt_regs, r14) },
	{ "r15", offsetof(struct pt_regs, r15) },
#endif
};

int mmrace_reg_offset(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mmrace_regs); i++)
		if (!strcmp(name, mmrace_regs[i].name))
			return mmrace_regs[i].offset;
	return -EINVAL;
}
