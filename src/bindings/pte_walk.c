// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace page-table walks: the PTE mapping an address in the current mm,
 * read locklessly as GUP-fast does, and the page mapped at an address in
 * another process.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>

#include "shim.h"

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

struct pid *mmrace_find_get_pid(int nr)
{
	/* In the pid namespace of current: the writer's. */
	return find_get_pid(nr);
}

void mmrace_put_pid(struct pid *pid)
{
	put_pid(pid);
}

int mmrace_pid_nr(struct pid *pid)
{
	return pid_nr(pid);
}

int mmrace_pid_vnr(struct pid *pid)
{
	return pid_vnr(pid);
}

static DEFINE_SPINLOCK(mmrace_pid_slot_lock);

struct pid *mmrace_pid_slot_xchg(struct pid **slot, struct pid *pid)
{
	struct pid *old;

	spin_lock(&mmrace_pid_slot_lock);
	old = *slot;
	*slot = pid;
	spin_unlock(&mmrace_pid_slot_lock);
	return old;
}

struct pid *mmrace_pid_slot_get(struct pid **slot)
{
	struct pid *pid;

	spin_lock(&mmrace_pid_slot_lock);
	pid = get_pid(*slot);
	spin_unlock(&mmrace_pid_slot_lock);
	return pid;
}

struct mm_struct *mmrace_pid_mm(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);
	struct mm_struct *mm;

	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);
	put_task_struct(task);
	return mm ?: ERR_PTR(-EINVAL);
}

int mmrace_user_addr_to_pfn(struct pid *pid, unsigned long addr,
			    unsigned long *pfn)
{
	struct mm_struct *mm = mmrace_pid_mm(pid);
	struct page *page;
	long got;

	if (IS_ERR(mm))
		return PTR_ERR(mm);
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
