// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace task filter: whether the current task belongs to a process tree
 * (the windows' pid_tree filter).
 */
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>

#include "shim.h"

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
