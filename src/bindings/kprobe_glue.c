// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace kprobe glue: a kprobe (at a function's entry) or kretprobe (at its
 * return) that hands one argument or the return value to a Rust callback,
 * optionally only when called from a given function (caller_filter.c); and
 * the symbol lookup the sites resolve through.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "caller_filter.h"
#include "shim.h"

struct mmrace_probe {
	struct kretprobe krp;	/* krp.kp alone for an entry probe */
	enum mmrace_probe_kind kind;
	unsigned int arg;
	unsigned int ncallers;
	unsigned long callers[2 * MMRACE_MAX_CALLERS];
	mmrace_probe_fn fn;
	const void *ctx;
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
					   const unsigned long *callers,
					   unsigned int ncallers,
					   mmrace_probe_fn fn, const void *ctx)
{
	struct mmrace_probe *probe;
	int ret;

	if (ncallers > MMRACE_MAX_CALLERS)
		return ERR_PTR(-EINVAL);
	probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	if (!probe)
		return ERR_PTR(-ENOMEM);
	probe->kind = kind;
	probe->arg = arg;
	probe->ncallers = ncallers;
	memcpy(probe->callers, callers, 2 * ncallers * sizeof(*callers));
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
