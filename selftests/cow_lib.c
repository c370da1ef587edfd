// SPDX-License-Identifier: GPL-2.0
/*
 * The leak check of the COW tests (cow_lib.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "cow_lib.h"

void cow_wait_byte(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		_exit(3);
}

void cow_send_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		_exit(3);
}

void cow_leak_fork(struct cow_leak *l, char *page, char *map, size_t len,
		   uint64_t a, uint64_t b)
{
	if (pipe(l->to_child) || pipe(l->to_parent) || pipe(l->data))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	l->pid = fork();
	if (l->pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!l->pid) {
		struct iovec iov = { page, sysconf(_SC_PAGESIZE) };
		uint64_t seen;

		if (vmsplice(l->data[1], &iov, 1, 0) != (ssize_t)iov.iov_len)
			_exit(3);
		munmap(map, len);
		cow_send_byte(l->to_parent[1]);
		cow_wait_byte(l->to_child[0]);
		if (read(l->data[0], &seen, sizeof(seen)) != sizeof(seen))
			_exit(3);
		_exit(seen == a ? 0 : seen == b ? 1 : 2);
	}
	cow_wait_byte(l->to_parent[0]);
}

enum cow_leak_seen cow_leak_reap(struct cow_leak *l, int *status)
{
	int i;

	cow_send_byte(l->to_child[1]);
	waitpid(l->pid, status, 0);
	for (i = 0; i < 2; i++) {
		close(l->to_child[i]);
		close(l->to_parent[i]);
		close(l->data[i]);
	}
	if (!WIFEXITED(*status) || WEXITSTATUS(*status) == 3)
		return COW_LEAK_FAILED;
	return WEXITSTATUS(*status) ? COW_LEAK_LEAKED : COW_LEAK_NONE;
}
