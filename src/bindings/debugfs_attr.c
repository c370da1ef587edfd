// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace debugfs attributes: the file operations of a file whose contents
 * are rendered and whose commands are parsed in Rust
 * (src/abstractions/debugfs.rs). One write is one command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "shim.h"

static int mmrace_attr_seq_show(struct seq_file *m, void *v)
{
	const struct mmrace_attr *attr = m->private;
	ssize_t len;
	char *buf;

	buf = kmalloc(MMRACE_ATTR_BUF_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	len = attr->show(attr, buf, MMRACE_ATTR_BUF_SIZE);
	if (len > 0)
		seq_write(m, buf, len);
	kfree(buf);
	return len < 0 ? len : 0;
}

static int mmrace_attr_open(struct inode *inode, struct file *file)
{
	return single_open(file, mmrace_attr_seq_show, inode->i_private);
}

/*
 * One write is one command: it must start at offset 0 and fit in
 * MMRACE_ATTR_MAX_WRITE bytes. The file position is left alone so that the
 * same descriptor can carry the next command.
 */
static ssize_t mmrace_attr_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	const struct mmrace_attr *attr =
		((struct seq_file *)file->private_data)->private;
	char why[MMRACE_ATTR_WHY_SIZE] = "";
	char *buf;
	int ret;

	if (*ppos != 0) {
		pr_warn_ratelimited("%pD2: write at offset %lld: a command must be written at offset 0\n",
				    file, *ppos);
		return -EINVAL;
	}
	if (count > MMRACE_ATTR_MAX_WRITE) {
		pr_warn_ratelimited("%pD2: %zu-byte write: at most %d bytes\n",
				    file, count, MMRACE_ATTR_MAX_WRITE);
		return -EINVAL;
	}
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = attr->store(attr, buf, count, why, sizeof(why));
	kfree(buf);
	if (ret) {
		if (why[0])
			pr_warn_ratelimited("%pD2: %s\n", file, why);
		return ret;
	}
	return count;
}

static const struct file_operations mmrace_attr_fops = {
	.owner = THIS_MODULE,
	.open = mmrace_attr_open,
	.read = seq_read,
	.write = mmrace_attr_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int mmrace_debugfs_create_attr(const char *name, umode_t mode,
			       struct dentry *parent,
			       const struct mmrace_attr *attr)
{
	struct dentry *dentry;

	dentry = debugfs_create_file(name, mode, parent, (void *)attr,
				     &mmrace_attr_fops);
	return PTR_ERR_OR_ZERO(dentry);
}
