// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs tree: present, with the documented modes, and every bad write
 * to the read-only `version` file rejected with EINVAL and no change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmrace_lib.h"

#define VERSION MMRACE_DEBUGFS "/version"

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
	ksft_set_plan(10);

	ksft_test_result(stat(MMRACE_DEBUGFS, &st) == 0 && S_ISDIR(st.st_mode),
			 "%s is a directory\n", MMRACE_DEBUGFS);
	ksft_test_result(stat(VERSION, &st) == 0 &&
			 (st.st_mode & 07777) == 0400, "version has mode 0400\n");

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

	if (loaded == 1)
		mmrace_unload();
	ksft_finished();
}
