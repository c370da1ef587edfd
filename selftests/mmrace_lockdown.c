// SPDX-License-Identifier: GPL-2.0
/*
 * Under integrity (or confidentiality) lockdown the module refuses to load,
 * with EPERM and one message saying why.
 *
 * 1. Everywhere: loaded with assume_lockdown=1 (a module parameter for
 *    tests: the module acts as if security_locked_down() had said EPERM),
 *    insmod fails with EPERM, this load prints exactly one "refusing to
 *    load", and no module is left. This is the module's own check, which a
 *    locked-down kernel never lets an unsigned mmrace.ko reach. Fails on the
 *    broken build nolockdown (the check removed: the module loads).
 * 2. On a kernel booted locked down (make check-debug boots one with
 *    lockdown=integrity; SKIP elsewhere: raising the level from here would
 *    lock down the rest of the run): a plain insmod fails with EPERM. Says
 *    who refused: a kernel that enforces module signatures under lockdown
 *    refuses an unsigned mmrace.ko before the module's own check can run.
 *    With MMRACE_LOCKDOWN_SIGNED=1 in the environment, for a signed
 *    mmrace.ko, the refusal must be the module's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define OWN "mmrace: refusing to load"
#define KERNEL_UNSIGNED "unsigned module loading is restricted"

static void assumed_lockdown(void)
{
	bool was = mmrace_loaded(), left;
	int before, own, ret;

	if (was && mmrace_unload()) {
		ksft_test_result_skip("own check: cannot unload mmrace to reload it\n");
		return;
	}
	before = mmrace_kmsg_count(OWN);
	ret = mmrace_load_params("assume_lockdown=1");
	left = mmrace_loaded();
	if (!ret)
		mmrace_unload();
	own = mmrace_kmsg_count(OWN) - before;
	if (was && mmrace_load())
		ksft_print_msg("cannot load mmrace again\n");
	if (ret == -EPERM && !own && mmrace_kmsg_has(KERNEL_UNSIGNED)) {
		ksft_test_result_skip("own check: the kernel refused the unsigned module first\n");
		return;
	}
	ksft_test_result(ret == -EPERM && own == 1 && !left,
			 "own check: insmod assume_lockdown=1: %s, %d refusal message(s) of mmrace's, module %s\n",
			 ret ? strerror(-ret) : "loaded", own,
			 left ? "left loaded" : "not loaded");
}

static void real_lockdown(void)
{
	char level[128];
	bool own, signed_ko;
	int ret;

	if (mmrace_read("/sys/kernel/security/lockdown", level, sizeof(level)) < 0) {
		ksft_test_result_skip("lockdown: no /sys/kernel/security/lockdown (CONFIG_SECURITY_LOCKDOWN_LSM)\n");
		return;
	}
	if (strstr(level, "[none]")) {
		ksft_test_result_skip("lockdown: the kernel is not locked down (%s)\n",
				      strtok(level, "\n"));
		return;
	}
	if (mmrace_loaded()) {
		ksft_test_result_fail("lockdown: mmrace is loaded under lockdown\n");
		return;
	}
	ret = mmrace_load();
	if (!ret)
		mmrace_unload();
	own = mmrace_kmsg_has(OWN);
	signed_ko = getenv("MMRACE_LOCKDOWN_SIGNED") &&
		    !strcmp(getenv("MMRACE_LOCKDOWN_SIGNED"), "1");
	ksft_test_result(ret == -EPERM && (own || !signed_ko),
			 "lockdown: insmod (%s)%s: %s, refused by %s\n",
			 strtok(level, "\n"), signed_ko ? ", module signed" : "",
			 ret ? strerror(-ret) : "loaded",
			 own ? "mmrace's own check" :
			 mmrace_kmsg_has(KERNEL_UNSIGNED) ?
			 "the kernel (an unsigned module; mmrace's check not reached)" :
			 "?");
}

int main(void)
{
	ksft_print_header();
	ksft_set_plan(2);
	/* Under lockdown, 1 would only see the kernel refuse: 2 first. */
	real_lockdown();
	assumed_lockdown();
	ksft_finished();
}
