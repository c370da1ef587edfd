// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs tree: present, with the documented modes; every bad write to
 * the read-only `version` file, and to the windows' files, rejected with
 * EINVAL and no change; good writes read back; a rejected `target` names
 * its errno in the kernel log the way the kernel does; reads show the
 * snapshot taken at open(2); writev(2) and pwrite(2) behave as debugfs.rst
 * says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define VERSION MMRACE_DEBUGFS "/version"
#define KNOB(w, f) MMRACE_DEBUGFS "/windows/" w "/" f

static char version[256];

static bool version_format_ok(const char *s)
{
	unsigned int a, b, c;
	char nl;

	return sscanf(s, "%u.%u.%u%c", &a, &b, &c, &nl) == 4 && nl == '\n' &&
	       strchr(s, '\n') == s + strlen(s) - 1;
}

/* A rejected write returns EINVAL and leaves `version` byte for byte. */
static void bad_write(const char *what, const void *data, size_t len, off_t off)
{
	char after[256];
	int ret;

	ret = mmrace_write_at(VERSION, data, len, off);
	mmrace_read(VERSION, after, sizeof(after));
	ksft_test_result(ret == -EINVAL && !strcmp(after, version),
			 "version: %s rejected with EINVAL (%s), unchanged\n",
			 what, strerror(-ret));
}

/* A write to a window's file: accepted and read back, or rejected. */
static void knob(const char *path, const char *in, const char *want)
{
	char before[256], after[256];
	int ret;

	mmrace_read(path, before, sizeof(before));
	ret = mmrace_write(path, in);
	mmrace_read(path, after, sizeof(after));
	if (want)
		ksft_test_result(!ret && !strcmp(after, want),
				 "%s: '%s' accepted, reads '%.*s'\n", path, in,
				 (int)strcspn(after, "\n"), after);
	else
		ksft_test_result(ret == -EINVAL && !strcmp(before, after),
				 "%s: '%s' rejected with EINVAL (%s), unchanged\n",
				 path, in, strerror(-ret));
}

/*
 * A rejected `target` says why in the kernel log, with the errno as the
 * kernel prints it (-EFAULT), not as a Rust value (Error(14)). The message
 * is rate-limited (10 per 5 s): tried again once after 6 s.
 */
static void target_errno(void)
{
	char in[64], want[128];
	bool found = false;
	int ret = 0, i;

	snprintf(in, sizeof(in), "%d 0x1000", getpid());
	snprintf(want, sizeof(want),
		 "target: no page mapped at 0x1000 in process %d (-EFAULT)", getpid());
	for (i = 0; i < 2 && !found; i++) {
		if (i)
			sleep(6);
		ret = mmrace_write(KNOB("gup_fast_pre_grab", "target"), in);
		found = ret == -EINVAL && mmrace_kmsg_has(want);
	}
	ksft_test_result(found, "target '%s' rejected (%s), kernel log: '%s': %s\n",
			 in, strerror(-ret), want, found ? "found" : "not found");
}

#define KNOB_TESTS 21

static void knobs(void)
{
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "250", "250\n");
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "0x10", "16\n");
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "abc", NULL);
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "-5", NULL);
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "100001", NULL);
	knob(KNOB("gup_fast_pre_grab", "delay_us"),
	     "99999999999999999999999", NULL);
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "5x", NULL);
	knob(KNOB("gup_fast_pre_grab", "delay_us"), "5 5", NULL);
	knob(KNOB("gup_fast_pre_grab", "probability"), "101", NULL);
	knob(KNOB("gup_fast_pre_grab", "interval"), "0", NULL);
	knob(KNOB("gup_fast_pre_grab", "times"), "-1", "-1\n");
	knob(KNOB("gup_fast_pre_grab", "times"), "-2", NULL);
	knob(KNOB("gup_fast_pre_grab", "pfn"), "-1", "-1\n");
	knob(KNOB("gup_fast_pre_grab", "wait_for"), "migrate_freeze",
	     "migrate_freeze\n");
	knob(KNOB("gup_fast_pre_grab", "wait_for"), "no_such_window", NULL);
	knob(KNOB("gup_fast_pre_grab", "wait_for"), "gup_fast_pre_grab", NULL);
	knob(KNOB("gup_fast_pre_grab", "enable"), "2", NULL);
	knob(KNOB("gup_fast_pre_grab", "stats"), "1", NULL);
	knob(KNOB("migrate_freeze", "phase"), "check", "[check] frozen\n");
	knob(KNOB("migrate_freeze", "phase"), "bogus", NULL);
	knob(MMRACE_DEBUGFS "/control", "explode", NULL);
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
}

#define DELAY KNOB("gup_fast_pre_grab", "delay_us")

/* The whole of @fd from offset 0 with pread(2), NUL-terminated. */
static void pread_all(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/*
 * debugfs.rst's rules for reads and odd writes: a read shows the text
 * rendered at open(2), not a change made through another descriptor
 * since; a rewind takes a new snapshot; writev(2) is one command per
 * segment; pwrite(2) fails with ESPIPE, or EINVAL at a negative offset.
 */
#define SNAPSHOT_TESTS 5

static void snapshot_and_vectors(void)
{
	char buf[64] = "";
	struct iovec two[2];
	ssize_t n, a, b;
	int fd;

	mmrace_write(DELAY, "250");
	fd = open(DELAY, O_RDONLY);
	mmrace_write(DELAY, "555");
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	ksft_test_result(!strcmp(buf, "250\n"),
			 "delay_us: opened at 250, 555 written through another fd, the first fd reads '%.*s' (the snapshot at open: 250)\n",
			 (int)strcspn(buf, "\n"), buf);
	if (fd >= 0)
		pread_all(fd, buf, sizeof(buf));
	ksft_test_result(fd >= 0 && !strcmp(buf, "555\n"),
			 "delay_us: a rewind (pread at 0) takes a new snapshot: '%.*s'\n",
			 (int)strcspn(buf, "\n"), buf);
	if (fd >= 0)
		close(fd);

	fd = open(DELAY, O_WRONLY);
	two[0] = (struct iovec){ .iov_base = "100", .iov_len = 3 };
	two[1] = (struct iovec){ .iov_base = "200", .iov_len = 3 };
	n = fd >= 0 ? writev(fd, two, 2) : -1;
	mmrace_read(DELAY, buf, sizeof(buf));
	ksft_test_result(n == 6 && !strcmp(buf, "200\n"),
			 "delay_us: writev of '100' and '200' is two commands (returned %zd, reads '%.*s')\n",
			 n, (int)strcspn(buf, "\n"), buf);
	two[0].iov_base = "300";
	two[1].iov_base = "abc";
	n = fd >= 0 ? writev(fd, two, 2) : -1;
	mmrace_read(DELAY, buf, sizeof(buf));
	ksft_test_result(n == 3 && !strcmp(buf, "300\n"),
			 "delay_us: writev of '300' and 'abc' stops at the rejected one (returned %zd, reads '%.*s')\n",
			 n, (int)strcspn(buf, "\n"), buf);
	errno = 0;
	a = fd >= 0 ? pwrite(fd, "400", 3, 0) : 0;
	a = a < 0 ? errno : 0;
	errno = 0;
	b = fd >= 0 ? pwrite(fd, "400", 3, -1) : 0;
	b = b < 0 ? errno : 0;
	mmrace_read(DELAY, buf, sizeof(buf));
	ksft_test_result(a == ESPIPE && b == EINVAL && !strcmp(buf, "300\n"),
			 "delay_us: pwrite at 0 fails with ESPIPE (%s), at -1 with EINVAL (%s), nothing changed\n",
			 strerror(a), strerror(b));
	if (fd >= 0)
		close(fd);
	mmrace_write(MMRACE_DEBUGFS "/control", "reset");
}

/*
 * An unprivileged user (uid and gid 65534, no capabilities) can neither
 * write a window's file nor read one: the files are 0600 and debugfs
 * itself is root's. Tried in a child that drops root; its exit status is
 * the number of opens that did not fail with EACCES.
 */
static const char * const unprivileged_paths[] = {
	MMRACE_DEBUGFS "/control",
	MMRACE_DEBUGFS "/windows/gup_fast_pre_grab/enable",
	MMRACE_DEBUGFS "/windows/gup_fast_pre_grab/pid",
	MMRACE_DEBUGFS "/windows/migrate_freeze/stats",
	MMRACE_DEBUGFS "/profile/enable",
};

static void unprivileged(void)
{
	int status = -1, bad = 0, missing = 0, fd, i;
	pid_t pid;

	/* As root first: each file is there (EACCES alone would not say). */
	for (i = 0; i < (int)ARRAY_SIZE(unprivileged_paths); i++)
		missing += access(unprivileged_paths[i], F_OK) != 0;
	fflush(stdout);
	pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(100);
		for (i = 0; i < (int)ARRAY_SIZE(unprivileged_paths); i++) {
			fd = open(unprivileged_paths[i], i % 2 ? O_RDONLY : O_WRONLY);
			if (fd >= 0)
				close(fd);
			if (fd >= 0 || errno != EACCES) {
				printf("# %s opened by uid 65534 (%s)\n",
				       unprivileged_paths[i],
				       fd >= 0 ? "success" : strerror(errno));
				bad++;
			}
		}
		_exit(bad);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	ksft_test_result(!missing && pid > 0 && WIFEXITED(status) &&
			 !WEXITSTATUS(status),
			 "uid 65534 can neither read nor write the tree (%zu files tried: EACCES; %d missing)\n",
			 ARRAY_SIZE(unprivileged_paths), missing);
}

int main(void)
{
	static char longline[1024];
	char tiny[256];
	struct stat st;
	size_t off = 0;
	int loaded, fd;
	ssize_t n;

	ksft_print_header();
	loaded = mmrace_get();
	if (loaded < 0)
		ksft_exit_skip("cannot load mmrace.ko: %s\n", strerror(-loaded));
	ksft_set_plan(12 + KNOB_TESTS + SNAPSHOT_TESTS);

	ksft_test_result(stat(MMRACE_DEBUGFS, &st) == 0 && S_ISDIR(st.st_mode),
			 "%s is a directory\n", MMRACE_DEBUGFS);
	ksft_test_result(stat(VERSION, &st) == 0 &&
			 (st.st_mode & 07777) == 0400, "version has mode 0400\n");

	/* First: before the bad writes below use up the rate limit. */
	target_errno();

	n = mmrace_read(VERSION, version, sizeof(version));
	ksft_print_msg("version: %s", n > 0 ? version : "(unreadable)\n");
	ksft_test_result(n > 0 && version_format_ok(version),
			 "version reads as one MAJOR.MINOR.PATCH line\n");

	/* One byte per read(2): the same snapshot as a single read. */
	fd = open(VERSION, O_RDONLY);
	while (fd >= 0 && off < sizeof(tiny) - 1 &&
	       read(fd, tiny + off, 1) == 1)
		off++;
	tiny[off] = '\0';
	if (fd >= 0)
		close(fd);
	ksft_test_result(!strcmp(tiny, version),
			 "version read one byte at a time matches\n");

	bad_write("a new version", "9.9.9\n", 6, 0);
	bad_write("an empty write", "", 0, 0);
	bad_write("garbage", "abc", 3, 0);
	bad_write("an embedded NUL", "1\0002", 3, 0);
	memset(longline, '1', sizeof(longline));
	bad_write("a 1024-byte line", longline, sizeof(longline), 0);
	bad_write("a write at offset 2", "1", 1, 2);

	knobs();
	snapshot_and_vectors();
	unprivileged();
	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
