// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace direct calls: a cheaper way in at a function's entry than a kprobe.
 *
 * On x86-64 with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, ftrace can turn a
 * function's ftrace call into a call of a trampoline of our own
 * (register_ftrace_direct(), as BPF trampolines do). Ours saves the argument
 * registers and hands them to mmrace_direct_entry(), which runs the entry
 * users of the function and asks its return users whether this call concerns
 * them; first, without touching the users themselves, it applies the page
 * filters of the users that have no caller filter (page_key.h), so that a
 * call for another page costs a few loads and a per-CPU increment. Only
 * when a return user says yes does the trampoline call the function's body
 * itself and run mmrace_direct_exit() on its return value; every other call
 * goes on into the body as if nothing had happened. A call that concerns no
 * user thus pays a direct call and a short loop: no trap, no pt_regs, no
 * kprobe bookkeeping, no return hook.
 *
 * Calling the body from the trampoline moves it onto a new stack frame, so a
 * return user is only allowed on functions whose arguments all travel in
 * registers (the caller says so: MMRACE_PROBE_RETURN_REGARGS). The frames
 * the trampoline builds are those of ftrace's own trampolines, so that stack
 * traces taken inside show the function and its caller.
 *
 * A function has one slot (one ftrace_ops, one trampoline stub); a slot holds
 * up to 64 users. Users are published with a store-release and retired in
 * three steps: marked dead (entries stop taking them), one RCU grace period
 * (entries that saw them alive are done: they run with preemption disabled
 * and only where RCU watches), then their calls in flight drained (a return
 * user holds a count from entry to exit). The last user of a slot
 * unregisters its ftrace_ops, which waits until no CPU is in the trampoline.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/ftrace.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/trace_recursion.h>

#include "caller_filter.h"
#include "direct_call.h"
#include "page_key.h"

#if defined(CONFIG_X86_64) && defined(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)

#include <linux/objtool.h>

#include <asm/ibt.h>
#include <asm/linkage.h>

#define MMRACE_DIRECT_SLOTS 16
#define MMRACE_DIRECT_USERS 64

struct mmrace_direct_slot {
	struct ftrace_ops ops;
	/* The function's ftrace call; 0: the slot is free. */
	unsigned long ip;
	/* Users 0..nr-1 (NULL: a free entry), read by the entries locklessly. */
	struct mmrace_direct_user *users[MMRACE_DIRECT_USERS];
	/*
	 * Their page filters, for those without a caller filter (0: none):
	 * static, so that the entries read them without RCU.
	 */
	u64 keys[MMRACE_DIRECT_USERS];
	unsigned int nr;
};

static struct mmrace_direct_slot mmrace_direct_slots[MMRACE_DIRECT_SLOTS];
static DEFINE_MUTEX(mmrace_direct_lock);

/*
 * The stubs: one per slot, each loading its number into %r11 (free at a
 * function's entry: not an argument, clobbered by any call) and jumping to
 * the fast path.
 *
 * The fast path, in one frame, saves %rax (the vector-register count of a
 * variadic call), the six argument registers and the slot, and asks
 * mmrace_direct_filter_fast(slot, args) which users the call may concern:
 * none, and it restores them and returns into the function; some, and it
 * restores them and goes on to the common body with the mask in %r10.
 *
 * The common body, entered with the stack as the function's ftrace call
 * left it ([rsp] the function past that call, [rsp+8] its caller), builds
 * ftrace's two frames (the caller's, then the function's), saves %rax (the
 * vector-register count of a variadic call) and the six argument registers,
 * and calls mmrace_direct_entry(slot, args, caller, mask). Frame of %rbp:
 * 48 caller, 40 function, 32 saved %rbp, 0-24 the two frames; -8 %rax,
 * -16..-56 %r9..%rdi (args[] at -56), -64 slot, -72 the entry's mask.
 *
 * Mask 0: restore and return into the function. Otherwise restore, "call"
 * the function's body with a push and a return (not an indirect call: with
 * IBT the body has no ENDBR), keep %rax/%rdx, run mmrace_direct_exit(), and
 * return to the caller straight from this frame.
 */
/*
 * Each stub: ENDBR, a 6-byte move, a 5-byte jump; 16 bytes apart, from
 * mmrace_direct_stubs (stub 0).
 */
#define MMRACE_DIRECT_STUB_SIZE 16
#define MMRACE_DIRECT_STUB(n)						\
	"	.balign 16, 0xcc\n"					\
	"	.type mmrace_direct_stub" #n ", @function\n"		\
	"mmrace_direct_stub" #n ":\n"					\
	ASM_ENDBR							\
	"	movl $" #n ", %r11d\n"					\
	"	jmp mmrace_direct_fast\n"				\
	"	.size mmrace_direct_stub" #n ", .-mmrace_direct_stub" #n "\n"

/* %rax and the argument registers, args[0] (%rdi) on top. */
#define MMRACE_DIRECT_PUSH_ARGS						\
	"	pushq %rax\n"						\
	"	pushq %r9\n"						\
	"	pushq %r8\n"						\
	"	pushq %rcx\n"						\
	"	pushq %rdx\n"						\
	"	pushq %rsi\n"						\
	"	pushq %rdi\n"

asm("	.pushsection .text, \"ax\", @progbits\n"
"	.balign 16, 0xcc\n"
"	.globl mmrace_direct_stubs\n"
"mmrace_direct_stubs:\n"
MMRACE_DIRECT_STUB(0) MMRACE_DIRECT_STUB(1) MMRACE_DIRECT_STUB(2)
MMRACE_DIRECT_STUB(3) MMRACE_DIRECT_STUB(4) MMRACE_DIRECT_STUB(5)
MMRACE_DIRECT_STUB(6) MMRACE_DIRECT_STUB(7) MMRACE_DIRECT_STUB(8)
MMRACE_DIRECT_STUB(9) MMRACE_DIRECT_STUB(10) MMRACE_DIRECT_STUB(11)
MMRACE_DIRECT_STUB(12) MMRACE_DIRECT_STUB(13) MMRACE_DIRECT_STUB(14)
MMRACE_DIRECT_STUB(15)
"	.type mmrace_direct_fast, @function\n"
"mmrace_direct_fast:\n"
"	pushq %rbp\n"
"	movq %rsp, %rbp\n"
"	pushq %r11\n"
MMRACE_DIRECT_PUSH_ARGS
"	subq $8, %rsp\n"
"	movq %r11, %rdi\n"
"	leaq 8(%rsp), %rsi\n"
"	call mmrace_direct_filter_fast\n"
"	movq %rax, %r10\n"
"	addq $8, %rsp\n"
"	popq %rdi\n"
"	popq %rsi\n"
"	popq %rdx\n"
"	popq %rcx\n"
"	popq %r8\n"
"	popq %r9\n"
"	popq %rax\n"
"	popq %r11\n"
"	popq %rbp\n"
"	testq %r10, %r10\n"
"	jnz mmrace_direct_common\n"
"	" __stringify(RET) "\n"
"	.size mmrace_direct_fast, .-mmrace_direct_fast\n"
"	.type mmrace_direct_common, @function\n"
"mmrace_direct_common:\n"
"	pushq %rbp\n"
"	pushq 16(%rsp)\n"
"	pushq %rbp\n"
"	movq %rsp, %rbp\n"
"	pushq 24(%rsp)\n"
"	pushq %rbp\n"
"	movq %rsp, %rbp\n"
MMRACE_DIRECT_PUSH_ARGS
"	subq $16, %rsp\n"
"	movq %r11, 8(%rsp)\n"
"	movq %r11, %rdi\n"
"	leaq 16(%rsp), %rsi\n"
"	movq 48(%rbp), %rdx\n"
"	movq %r10, %rcx\n"
"	call mmrace_direct_entry\n"
"	movq %rax, (%rsp)\n"
"	movq 16(%rsp), %rdi\n"
"	movq 24(%rsp), %rsi\n"
"	movq 32(%rsp), %rdx\n"
"	movq 40(%rsp), %rcx\n"
"	movq 48(%rsp), %r8\n"
"	movq 56(%rsp), %r9\n"
"	movq 64(%rsp), %rax\n"
"	cmpq $0, (%rsp)\n"
"	jne 1f\n"
"	leaq 32(%rbp), %rsp\n"
"	popq %rbp\n"
"	" __stringify(RET) "\n"
"1:\n"
"	leaq 2f(%rip), %r11\n"
"	pushq %r11\n"
"	pushq 40(%rbp)\n"
"	" __stringify(RET) "\n"
"2:\n"
"	movq %rax, 16(%rsp)\n"
"	movq %rdx, 24(%rsp)\n"
"	movq 8(%rsp), %rdi\n"
"	movq (%rsp), %rsi\n"
"	movq %rax, %rdx\n"
"	call mmrace_direct_exit\n"
"	movq 16(%rsp), %rax\n"
"	movq 24(%rsp), %rdx\n"
"	movq 32(%rbp), %rcx\n"
"	leaq 48(%rbp), %rsp\n"
"	movq %rcx, %rbp\n"
"	" __stringify(RET) "\n"
"	.size mmrace_direct_common, .-mmrace_direct_common\n"
"	.popsection\n"
);

/* It returns into the body with a push and a return: not a plain frame. */
STACK_FRAME_NON_STANDARD(mmrace_direct_common);
/* It leaves for mmrace_direct_common with a conditional jump. */
STACK_FRAME_NON_STANDARD(mmrace_direct_fast);

/* The trampoline of slot @n: its stub. */
static unsigned long mmrace_direct_stub(unsigned int n)
{
	return (unsigned long)mmrace_direct_stubs + n * MMRACE_DIRECT_STUB_SIZE;
}

/* Whether @u's page filter applies at entry (else to the return value). */
static bool mmrace_direct_key_at_entry(const struct mmrace_direct_user *u)
{
	return !u->ret || u->entry_arg >= 0;
}

/*
 * From the trampoline's fast path, at the function's entry: the users the
 * call may concern, after the page filters of those without a caller
 * filter (read from the slot: no user is touched). Most calls end here.
 */
u64 notrace mmrace_direct_filter_fast(unsigned long slot,
				      const unsigned long *args)
{
	const struct mmrace_direct_slot *s = &mmrace_direct_slots[slot];
	unsigned int i, nr;
	u64 key, want = 0;

	nr = min_t(unsigned int, READ_ONCE(s->nr), MMRACE_DIRECT_USERS);
	for (i = 0; i < nr; i++) {
		key = READ_ONCE(s->keys[i]);
		if (!mmrace_key_skips(key, args[MMRACE_KEY_ARG(key)]))
			want |= BIT_ULL(i);
	}
	return want;
}

/*
 * From the trampoline, for a call some users (@want) may concern: runs the
 * entry users and returns the mask of the return users that want this
 * call's return (each then holds an in-flight count until
 * mmrace_direct_exit()).
 */
u64 notrace mmrace_direct_entry(unsigned long slot, const unsigned long *args,
				unsigned long parent, u64 want)
{
	struct mmrace_direct_slot *s = &mmrace_direct_slots[slot];
	struct mmrace_direct_user *u;
	unsigned int i, nr;
	u64 key, mask = 0;
	int bit;

	if (!rcu_is_watching())
		return 0;
	nr = min_t(unsigned int, READ_ONCE(s->nr), MMRACE_DIRECT_USERS);
	bit = ftrace_test_recursion_trylock(READ_ONCE(s->ip), parent);
	if (bit < 0)
		return 0;
	preempt_disable_notrace();
	for (i = 0; i < nr; i++) {
		if (!(want & BIT_ULL(i)))
			continue;
		/* Pairs with the attach's release: @u is filled in. */
		u = smp_load_acquire(&s->users[i]);
		if (!u || READ_ONCE(u->dead) ||
		    !mmrace_caller_in(u->callers, u->ncallers, parent))
			continue;
		/* With a caller filter, the page filter comes second. */
		key = READ_ONCE(u->key);
		if (u->ncallers && mmrace_direct_key_at_entry(u) &&
		    mmrace_key_skips(key, args[MMRACE_KEY_ARG(key)]))
			continue;
		if (!u->ret) {
			u->fn(u->ctx, args[u->arg]);
			continue;
		}
		if (u->admit &&
		    !u->admit(u->ctx, u->entry_arg >= 0 ? args[u->entry_arg] : 0,
			      u->entry_arg >= 0))
			continue;
		atomic_inc(&u->inflight);
		mask |= BIT_ULL(i);
	}
	preempt_enable_notrace();
	ftrace_test_recursion_unlock(bit);
	return mask;
}

/* From the trampoline, at the return of a call some return users wanted. */
void notrace mmrace_direct_exit(unsigned long slot, u64 mask, unsigned long ret)
{
	struct mmrace_direct_slot *s = &mmrace_direct_slots[slot];
	struct mmrace_direct_user *u;
	unsigned int i;

	preempt_disable_notrace();
	for (i = 0; mask; i++, mask >>= 1) {
		if (!(mask & 1))
			continue;
		/* Not NULL: retiring it waits for this call's count. */
		u = READ_ONCE(s->users[i]);
		if (!READ_ONCE(u->dead) &&
		    (mmrace_direct_key_at_entry(u) ||
		     !mmrace_key_skips(READ_ONCE(u->key), ret)))
			u->fn(u->ctx, ret);
		/* Release: the detach sees this call done with @u. */
		atomic_dec_return_release(&u->inflight);
	}
	preempt_enable_notrace();
}

int mmrace_direct_attach(struct mmrace_direct_user *user, unsigned long func)
{
	struct mmrace_direct_slot *s = NULL;
	unsigned long ip = func, tramp;
	unsigned int i, n;
	int ret;

	if (!user->ret && user->arg >= 6)
		return -EINVAL;
	if (user->ret && user->entry_arg >= 6)
		return -EINVAL;
	user->dead = false;
	atomic_set(&user->inflight, 0);
	mutex_lock(&mmrace_direct_lock);
	for (n = 0; n < MMRACE_DIRECT_SLOTS; n++) {
		if (mmrace_direct_slots[n].ip == ip) {
			s = &mmrace_direct_slots[n];
			break;
		}
		if (!s && !mmrace_direct_slots[n].ip)
			s = &mmrace_direct_slots[n];
	}
	ret = -ENOSPC;
	if (!s)
		goto out;
	for (i = 0; i < MMRACE_DIRECT_USERS && s->users[i]; i++)
		;
	if (i == MMRACE_DIRECT_USERS)
		goto out;
	user->slot = s - mmrace_direct_slots;
	user->index = i;
	WRITE_ONCE(s->keys[i], 0);
	/* Pairs with the entries' acquire: they see @user filled in. */
	smp_store_release(&s->users[i], user);
	if (i >= s->nr)
		WRITE_ONCE(s->nr, i + 1);
	ret = 0;
	if (s->ip)
		goto out;
	/* The slot's first user: publish the slot, then turn ftrace on. */
	WRITE_ONCE(s->ip, ip);
	tramp = mmrace_direct_stub(user->slot);
	ret = ftrace_set_filter_ip(&s->ops, ip, 0, 0);
	if (!ret)
		ret = register_ftrace_direct(&s->ops, tramp);
	if (ret) {
		ftrace_free_filter(&s->ops);
		memset(s, 0, sizeof(*s));
	}
out:
	mutex_unlock(&mmrace_direct_lock);
	return ret;
}

void mmrace_direct_filter(struct mmrace_direct_user *user, u64 key)
{
	struct mmrace_direct_slot *s = &mmrace_direct_slots[user->slot];

	mutex_lock(&mmrace_direct_lock);
	WRITE_ONCE(user->key, key);
	if (!user->ncallers && mmrace_direct_key_at_entry(user))
		WRITE_ONCE(s->keys[user->index], key);
	mutex_unlock(&mmrace_direct_lock);
}

void mmrace_direct_detach(struct mmrace_direct_user **users, unsigned int n)
{
	struct mmrace_direct_slot *s;
	unsigned long tramp;
	unsigned int i, j;

	/* Calls the filters turned away now go on, to find them dead. */
	mutex_lock(&mmrace_direct_lock);
	for (i = 0; i < n; i++) {
		s = &mmrace_direct_slots[users[i]->slot];
		WRITE_ONCE(s->keys[users[i]->index], 0);
	}
	mutex_unlock(&mmrace_direct_lock);
	for (i = 0; i < n; i++)
		WRITE_ONCE(users[i]->dead, true);
	/* Entries that saw a user alive ran with preemption disabled. */
	synchronize_rcu();
	for (i = 0; i < n; i++)
		while (atomic_read_acquire(&users[i]->inflight))
			usleep_range(100, 1000);
	mutex_lock(&mmrace_direct_lock);
	for (i = 0; i < n; i++) {
		s = &mmrace_direct_slots[users[i]->slot];
		WRITE_ONCE(s->users[users[i]->index], NULL);
		for (j = 0; j < MMRACE_DIRECT_USERS && !s->users[j]; j++)
			;
		if (j < MMRACE_DIRECT_USERS)
			continue;
		/* Its last user: waits until no CPU is in the trampoline. */
		tramp = mmrace_direct_stub(users[i]->slot);
		unregister_ftrace_direct(&s->ops, tramp, true);
		memset(s, 0, sizeof(*s));
	}
	mutex_unlock(&mmrace_direct_lock);
}

#else /* no direct calls: every probe is a kprobe */

void mmrace_direct_filter(struct mmrace_direct_user *user, u64 key)
{
}

int mmrace_direct_attach(struct mmrace_direct_user *user, unsigned long func)
{
	return -EOPNOTSUPP;
}

void mmrace_direct_detach(struct mmrace_direct_user **users, unsigned int n)
{
}

#endif
