/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The leak check of the COW tests (CVE-2020-29374; cow_reuse_vs_gup_pin on
 * a small page, cow_pin_paths on a THP): the parent writes A to a private
 * anonymous page and forks; the child vmsplice(2)s the page into a pipe (a
 * GUP reference) and unmaps it; the parent writes B, a write fault on a
 * page mapped once but referenced twice, which must copy; the child then
 * reads the pipe and must see A.
 */
#ifndef MMRACE_COW_LIB_H
#define MMRACE_COW_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cow_leak {
	pid_t pid;
	int to_child[2], to_parent[2], data[2];
};

enum cow_leak_seen {
	COW_LEAK_NONE,		/* the child read A */
	COW_LEAK_LEAKED,	/* it read something else: B, the parent's */
	COW_LEAK_FAILED,	/* it failed or died */
};

/* One byte through a pipe between parent and child; _exit(3) if it fails. */
void cow_wait_byte(int fd);
void cow_send_byte(int fd);
/*
 * Forks the child for the page at @page, which holds @a; returns once it
 * has spliced the page and unmapped [@map, @map + @len).
 */
void cow_leak_fork(struct cow_leak *l, char *page, char *map, size_t len,
		   uint64_t a, uint64_t b);
/*
 * After the parent's write of B: lets the child read its pipe, reaps it
 * (its wait status in *@status), closes the pipes and says what it read.
 */
enum cow_leak_seen cow_leak_reap(struct cow_leak *l, int *status);

#endif /* MMRACE_COW_LIB_H */
