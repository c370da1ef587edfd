/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by mmrace's kselftests: loading the module and reading and
 * writing its debugfs files.
 */
#ifndef MMRACE_LIB_H
#define MMRACE_LIB_H

#include <stdbool.h>
#include <stddef.h>
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
int mmrace_unload(void);
/*
 * Loads the module unless it is loaded; returns 1 if it loaded it (and the
 * caller should unload it at the end), 0 if it was there, -errno on failure.
 */
int mmrace_get(void);
/* Reads a whole file into buf (NUL-terminated); length or -errno. */
ssize_t mmrace_read(const char *path, char *buf, size_t len);
/* lseek(2) to off, then one write(2) of len bytes; 0 or -errno. */
int mmrace_write_at(const char *path, const void *data, size_t len, off_t off);
int mmrace_write(const char *path, const char *str);
unsigned long mmrace_tainted(void);

#endif /* MMRACE_LIB_H */
