/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by mmrace's kselftests: loading the module and reading and
 * writing its debugfs files.
 */
#ifndef MMRACE_LIB_H
#define MMRACE_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MMRACE_DEBUGFS "/sys/kernel/debug/mmrace"

/* Taint bits a test must never see appear: W (9), D (7), B (5), L (14). */
#define MMRACE_BAD_TAINT 0x42a0UL
/* TAINT_TEST (18): a test module was loaded. */
#define MMRACE_TAINT_TEST 0x40000UL

bool mmrace_loaded(void);
/* Path of mmrace.ko: $MMRACE_KO, else mmrace.ko beside the test binary. */
const char *mmrace_ko_path(void);
/* 0 or -errno. */
int mmrace_load(void);
/* The same, with module parameters ("name=value ..."). */
int mmrace_load_params(const char *params);
int mmrace_unload(void);
/*
 * Loads the module unless it is loaded; returns 1 if it loaded it (and the
 * caller should unload it at the end), 0 if it was there, -errno on failure.
 */
int mmrace_get(void);
/* Reads a whole file into buf (NUL-terminated); length or -errno. */
ssize_t mmrace_read(const char *path, char *buf, size_t len);
/* The same, read(2) at most @chunk bytes at a time. */
ssize_t mmrace_read_chunks(const char *path, char *buf, size_t len,
			   size_t chunk);
/* lseek(2) to off, then one write(2) of len bytes; 0 or -errno. */
int mmrace_write_at(const char *path, const void *data, size_t len, off_t off);
int mmrace_write(const char *path, const char *str);
unsigned long mmrace_tainted(void);
/* Whether the kernel log holds @what (reads /dev/kmsg without waiting). */
bool mmrace_kmsg_has(const char *what);
/* This process's /proc/self/pagemap entry of @p (0 if unreadable). */
uint64_t mmrace_pagemap_entry(const void *p);
/* This process's pfn of @p (/proc/self/pagemap; 0 if not present). */
uint64_t mmrace_own_pfn(const void *p);
/* The same for process @pid's page at @p (root). */
uint64_t mmrace_pid_pfn(pid_t pid, const void *p);
/* The node of the page at @addr (move_pages(2) without nodes), or -errno. */
int page_node(void *addr);
/* The /proc/kpageflags word of @pfn in @flags: 0 or -errno. */
int mmrace_kpageflags(uint64_t pfn, uint64_t *flags);
/*
 * Lets memfds have THPs: sets shmem_enabled to "advise" (restored at exit)
 * unless it already allows them (advise, always, force); SKIP without
 * shmem THP support.
 */
void mmrace_shmem_thp_advise(void);
/* How many records of the kernel log hold @what. */
int mmrace_kmsg_count(const char *what);
/* A /proc/meminfo field in kB, or -1. */
long mmrace_meminfo_kb(const char *key);
/* Free pages on the per-CPU lists now, in kB (/proc/zoneinfo's "count:"). */
long mmrace_pcp_free_kb(void);
/*
 * How much freed memory generic KASAN may hold back in its quarantine, in
 * kB (1/32 of RAM), or 0 on a kernel without it.
 */
long mmrace_kasan_quarantine_cap_kb(void);
/*
 * Whether the guest runs on QEMU's multi-threaded TCG (mmrace_accel=tcg-multi
 * on its command line, from scripts/run-vm.sh). There a CPU may still execute
 * an int3 after kprobes removed it and synchronized every CPU ("Oops: int3",
 * with any kprobe: Documentation/testing.rst): a test that disarms probes
 * while other CPUs run into them cannot run there.
 */
bool mmrace_guest_mttcg(void);

/* A fresh zram device (CONFIG_ZRAM) of @size bytes: its number, or -1. */
int mmrace_zram_add(size_t size);
void mmrace_zram_remove(int id);
/*
 * A fresh zram device of @size bytes whose first @npages pages hold
 * @pattern(i) in every word of page i, written and synced: its fd (O_RDWR),
 * its number in *@id and its path in @dev (@len bytes). SKIPs the test
 * without zram, fails it if the device cannot be opened or written.
 */
int mmrace_zram_file(size_t size, int npages, uint64_t (*pattern)(int page),
		     int *id, char *dev, size_t len);
/*
 * A read-only shared mapping of @fd's first @len bytes in *@map (for
 * target), and an untouched anonymous one of @len bytes in *@drain, whose
 * MADV_COLD drains this CPU's LRU batch; fails the test if either fails.
 */
void mmrace_map_with_drain(int fd, size_t len, char **map, char **drain);

/* The file that runs in-kernel scenarios (Documentation/typestate.rst). */
#define MMRACE_SCENARIO_RUN MMRACE_DEBUGFS "/typestate/run"

/* What a line of a scenario's report is. */
enum mmrace_report_line {
	MMRACE_REPORT_END = -1,
	MMRACE_REPORT_OK,	/* "ok NAME: SEEN" */
	MMRACE_REPORT_NOT_OK,	/* "not ok NAME: SEEN" */
	MMRACE_REPORT_NOTE,	/* "# TEXT" */
	MMRACE_REPORT_DONE,	/* "state done: ..." */
	MMRACE_REPORT_OTHER,
};

/*
 * Runs the scenario @cmd ("NAME [key=value...]") and reads its report into
 * @buf; 0 or -errno (of the write, or of the read).
 */
int mmrace_scenario(const char *cmd, char *buf, size_t len);
/*
 * Copies the next line of a report at *@pos into @line, without the prefix
 * of a check or a note, and advances *@pos; returns what the line is.
 */
enum mmrace_report_line mmrace_report_next(const char **pos, char *line,
					   size_t len);
/* The number of checks ("ok" and "not ok" lines) in a report. */
int mmrace_report_checks(const char *report);
/*
 * The whole of a kselftest of in-kernel scenarios: loads the module (SKIP
 * if it cannot), runs the @n scenarios @cmds first (the plan is their number
 * of checks), checks that each of the @nbad commands @bad is rejected with
 * EINVAL, then prints each report as KTAP: a result a check, a message a
 * note, and "NAME: ran to completion". @prefixed: each result and message
 * starts with its command, and NAME is the command; else the command is
 * printed before its report, and NAME is the scenario's (its checks name
 * it). Unloads the module if it loaded it. Never returns.
 */
void mmrace_scenarios_main(const char *const *cmds, size_t n,
			   const char *const *bad, size_t nbad, bool prefixed);

/*
 * The adversary helper (Documentation/windows.rst, "Adversaries"): a child
 * process that waits on adversary/wait, reads the job from adversary/job,
 * performs it (migrate: move_pages(2) of the job's page to another node;
 * pageout: process_madvise(2) MADV_PAGEOUT; split: split_huge_pages;
 * compact: nodeN/compact; evict: POSIX_FADV_DONTNEED) and writes
 * "done SEQ RC", until stopped. Its counters are shared.
 */
struct mmrace_adversary_counts {
	unsigned long jobs;		/* jobs taken */
	/* jobs seen to change the page: moved, reclaimed, split, evicted */
	unsigned long moved;
	unsigned long failed;		/* jobs done with an error */
	/* ... of which EAGAIN: the operation ran, the page did not change */
	unsigned long unchanged;
	unsigned long timeouts;		/* waits that found no job */
	int last_error;			/* errno of the last failed job */
	unsigned long long wake_ns_sum, wake_ns_max;	/* post to take */
	unsigned long long op_ns_sum, op_ns_max;	/* move_pages(2) */
};

struct mmrace_adversary {
	pid_t pid;			/* the helper, 0 if not running */
	struct mmrace_adversary_counts *counts;	/* shared with it */
	int *stop;			/* shared: set to stop it */
};

/* Forks the helper, pinned to @cpu; 0 or -errno. */
int mmrace_adversary_start(struct mmrace_adversary *a, int cpu);
/* Stops it (within one wait's timeout) and reaps it; 0 or -errno. */
int mmrace_adversary_stop(struct mmrace_adversary *a);

/* Whether a kprobe on @symbol is listed in debugfs kprobes/list. */
bool kprobe_listed(const char *symbol);
/*
 * Whether @symbol's ftrace call is a direct call of one of mmrace's
 * trampolines (tracefs enabled_functions: "direct-->mmrace_direct_stub").
 */
bool direct_listed(const char *symbol);
/* How many functions' ftrace calls are direct calls of mmrace's: -1 unreadable. */
int direct_count(void);
/* Whether mmrace hooks @symbol: a kprobe, or a direct call. */
bool hook_listed(const char *symbol);
/* Whether the kernel has ftrace direct calls (register_ftrace_direct). */
bool direct_calls_supported(void);

#endif /* MMRACE_LIB_H */
