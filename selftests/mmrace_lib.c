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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
	return mmrace_read_chunks(path, buf, len, len);
}

ssize_t mmrace_read_chunks(const char *path, char *buf, size_t len,
			   size_t chunk)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		n = read(fd, buf + off,
			 chunk < len - 1 - off ? chunk : len - 1 - off);
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

bool mmrace_kmsg_has(const char *what)
{
	char rec[1024];
	bool found = false;
	ssize_t n;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return false;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		if (strstr(rec, what))
			found = true;
	}
	close(fd);
	return found;
}

unsigned long mmrace_tainted(void)
{
	char buf[64];

	if (mmrace_read("/proc/sys/kernel/tainted", buf, sizeof(buf)) <= 0)
		return 0;
	return strtoul(buf, NULL, 10);
}

bool mmrace_guest_mttcg(void)
{
	static const char word[] = "mmrace_accel=tcg-multi";
	char buf[4096], *p;

	if (mmrace_read("/proc/cmdline", buf, sizeof(buf)) <= 0)
		return false;
	for (p = strstr(buf, word); p; p = strstr(p + 1, word))
		if ((p == buf || p[-1] == ' ') &&
		    (!p[sizeof(word) - 1] || strchr("\n ", p[sizeof(word) - 1])))
			return true;
	return false;
}

int mmrace_scenario(const char *cmd, char *buf, size_t len)
{
	ssize_t n;
	int ret;

	ret = mmrace_write(MMRACE_SCENARIO_RUN, cmd);
	if (ret)
		return ret;
	n = mmrace_read(MMRACE_SCENARIO_RUN, buf, len);
	return n < 0 ? n : 0;
}

static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

enum mmrace_report_line mmrace_report_next(const char **pos, char *line,
					   size_t len)
{
	static const struct {
		const char *prefix;
		enum mmrace_report_line kind;
	} prefixes[] = {
		{ "ok ", MMRACE_REPORT_OK },
		{ "not ok ", MMRACE_REPORT_NOT_OK },
		{ "# ", MMRACE_REPORT_NOTE },
	};
	const char *start = *pos, *end, *text;
	size_t n, i;

	if (!*start || !len)
		return MMRACE_REPORT_END;
	end = strchr(start, '\n');
	if (!end)
		end = start + strlen(start);
	*pos = *end ? end + 1 : end;
	n = end - start;
	if (n > len - 1)
		n = len - 1;
	memcpy(line, start, n);
	line[n] = '\0';
	if (after_prefix(line, "state done"))
		return MMRACE_REPORT_DONE;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		text = after_prefix(line, prefixes[i].prefix);
		if (text) {
			memmove(line, text, strlen(text) + 1);
			return prefixes[i].kind;
		}
	}
	return MMRACE_REPORT_OTHER;
}

int mmrace_report_checks(const char *report)
{
	enum mmrace_report_line kind;
	const char *pos = report;
	char line[512];
	int n = 0;

	while ((kind = mmrace_report_next(&pos, line, sizeof(line))) !=
	       MMRACE_REPORT_END)
		if (kind == MMRACE_REPORT_OK || kind == MMRACE_REPORT_NOT_OK)
			n++;
	return n;
}
