// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by mmrace's kselftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmrace_lib.h"

bool mmrace_loaded(void)
{
	return access("/sys/module/mmrace", F_OK) == 0;
}

const char *mmrace_ko_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	const char *env = getenv("MMRACE_KO");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return "mmrace.ko";
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/mmrace.ko", dirname(exe));
	return path;
}

int mmrace_load(void)
{
	int fd, ret;

	fd = open(mmrace_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

int mmrace_unload(void)
{
	return syscall(SYS_delete_module, "mmrace", O_NONBLOCK) ? -errno : 0;
}

int mmrace_get(void)
{
	int ret;

	if (mmrace_loaded())
		return 0;
	ret = mmrace_load();
	return ret ? ret : 1;
}

ssize_t mmrace_read(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	close(fd);
	return off;
}

int mmrace_write_at(const char *path, const void *data, size_t len, off_t off)
{
	ssize_t n;
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Not pwrite(2): seq_file clears FMODE_PWRITE. */
	if (off && lseek(fd, off, SEEK_SET) != off) {
		ret = -errno;
		close(fd);
		return ret;
	}
	n = write(fd, data, len);
	if (n < 0)
		ret = -errno;
	else
		ret = (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

int mmrace_write(const char *path, const char *str)
{
	return mmrace_write_at(path, str, strlen(str), 0);
}

unsigned long mmrace_tainted(void)
{
	char buf[64];

	if (mmrace_read("/proc/sys/kernel/tainted", buf, sizeof(buf)) <= 0)
		return 0;
	return strtoul(buf, NULL, 10);
}
