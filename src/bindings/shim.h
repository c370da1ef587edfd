/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrace C shim: the C-only kernel APIs and static inlines that the Rust
 * side needs, as plain functions. bindgen reads this header; only
 * src/abstractions/ may call what it declares.
 */
#ifndef MMRACE_SHIM_H
#define MMRACE_SHIM_H

#include <linux/debugfs.h>
#include <linux/types.h>

/* Largest accepted write to a debugfs attribute, in bytes. */
#define MMRACE_ATTR_MAX_WRITE 256
/* Buffer a debugfs attribute renders its contents into. */
#define MMRACE_ATTR_BUF_SIZE 4096
/* Buffer a rejected write explains itself in. */
#define MMRACE_ATTR_WHY_SIZE 128

/*
 * A debugfs attribute: embedded first in a Rust object that outlives the
 * file. @show renders the contents into @buf and returns the length or a
 * negative errno. @store parses the NUL-terminated @buf of @len bytes and
 * returns 0 or a negative errno, with the reason in @why.
 */
struct mmrace_attr {
	ssize_t (*show)(const struct mmrace_attr *attr, char *buf, size_t len);
	int (*store)(const struct mmrace_attr *attr, const char *buf,
		     size_t len, char *why, size_t why_len);
};

int mmrace_debugfs_create_attr(const char *name, umode_t mode,
			       struct dentry *parent,
			       const struct mmrace_attr *attr);

#endif /* MMRACE_SHIM_H */
