// SPDX-License-Identifier: GPL-2.0
/*
 * Under integrity (or confidentiality) lockdown the module refuses to load,
 * with EPERM and one message saying why. Needs a kernel with the lockdown
 * LSM booted locked down (make check-debug boots one with lockdown=integrity);
 * SKIP otherwise: raising the level from here would lock down the rest of
 * the run. Says who refused: a kernel that enforces module signatures under
 * lockdown refuses an unsigned mmrace.ko before the module's own check can
 * run; a signed one reaches it. With MMRACE_LOCKDOWN_SIGNED=1 in the
 * environment, for a signed mmrace.ko, the refusal must be the module's
 * own. make check-debug does not set it: its kernel did not accept the
 * module signed with its own key (Documentation/guarantees.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

int main(void)
{
	char level[128];
	bool own, signed_ko;
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
	own = mmrace_kmsg_has("mmrace: refusing to load");
	signed_ko = getenv("MMRACE_LOCKDOWN_SIGNED") &&
		    !strcmp(getenv("MMRACE_LOCKDOWN_SIGNED"), "1");
	ksft_test_result(ret == -EPERM && (own || !signed_ko),
			 "insmod under lockdown (%s)%s: %s, refused by %s\n",
			 strtok(level, "\n"), signed_ko ? ", module signed" : "",
			 ret ? strerror(-ret) : "loaded",
			 own ? "mmrace's own check" :
			 mmrace_kmsg_has("unsigned module loading is restricted") ?
			 "the kernel (an unsigned module; mmrace's check not reached)" :
			 "?");
	ksft_finished();
}
