// SPDX-License-Identifier: GPL-2.0
/*
 * Under integrity (or confidentiality) lockdown the module refuses to load,
 * with EPERM and one message saying why. Needs a kernel with the lockdown
 * LSM booted locked down (make check-debug boots one with lockdown=integrity);
 * SKIP otherwise: raising the level from here would lock down the rest of
 * the run.
 */
#include <errno.h>
#include <string.h>

#include "kselftest.h"
#include "mmrace_lib.h"

int main(void)
{
	char level[128];
	int ret;

	ksft_print_header();
	if (mmrace_read("/sys/kernel/security/lockdown", level, sizeof(level)) < 0)
		ksft_exit_skip("no /sys/kernel/security/lockdown (CONFIG_SECURITY_LOCKDOWN_LSM)\n");
	if (strstr(level, "[none]"))
		ksft_exit_skip("the kernel is not locked down (%s)\n",
			       strtok(level, "\n"));
	ksft_set_plan(1);
	if (mmrace_loaded())
		ksft_exit_fail_msg("mmrace is loaded under lockdown\n");
	ret = mmrace_load();
	if (!ret)
		mmrace_unload();
	ksft_test_result(ret == -EPERM, "insmod under lockdown (%s): %s\n",
			 strtok(level, "\n"), ret ? strerror(-ret) : "loaded");
	ksft_finished();
}
