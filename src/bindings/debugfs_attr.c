// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace debugfs attributes: the file operations of a file whose contents
 * are rendered and whose commands are parsed in Rust
 * (src/abstractions/debugfs.rs). Reads show the text rendered at open (or
 * at a rewind); one write is one command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "shim.h"

/*
 * One open file. Its text is rendered when the file is opened, so that a
 * read shows the state at open(2) even if a writer changes it before the
 * first read; it is rendered again when a read starts at offset 0 after
 * this file was read or written (a rewind: lseek(2) to 0, or pread(2) at
 * 0). Reads elsewhere continue the same text: a reader with a tiny buffer
 * sees one consistent snapshot.
 */
struct mmrace_attr_file {
	const struct mmrace_attr *attr;
	struct mutex lock;	/* guards fresh, len and buf */
	bool fresh;		/* rendered at open, not read or written since */
	ssize_t len;		/* length of the text, or a negative errno */
	char *buf;		/* NULL if the file is not open for reading */
};

static void mmrace_attr_render(struct mmrace_attr_file *af)
{
	af->len = af->attr->show(af->attr, af->buf, MMRACE_ATTR_BUF_SIZE);
	if (af->len > MMRACE_ATTR_BUF_SIZE)
		af->len = MMRACE_ATTR_BUF_SIZE;
}

static int mmrace_attr_open(struct inode *inode, struct file *file)
{
	struct mmrace_attr_file *af;

	af = kzalloc(sizeof(*af), GFP_KERNEL);
	if (!af)
		return -ENOMEM;
	af->attr = inode->i_private;
	mutex_init(&af->lock);
	if (file->f_mode & FMODE_READ) {
		af->buf = kvmalloc(MMRACE_ATTR_BUF_SIZE, GFP_KERNEL);
		if (!af->buf) {
			kfree(af);
			return -ENOMEM;
		}
		mmrace_attr_render(af);
		af->fresh = true;
	}
	file->private_data = af;
	/* As with seq_file: pwrite(2) fails with ESPIPE. */
	file->f_mode &= ~FMODE_PWRITE;
	return 0;
}

static ssize_t mmrace_attr_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct mmrace_attr_file *af = file->private_data;
	ssize_t ret;

	mutex_lock(&af->lock);
	if (*ppos == 0 && !af->fresh)
		mmrace_attr_render(af);
	af->fresh = false;
	if (af->len < 0)
		ret = af->len;
	else
		ret = simple_read_from_buffer(ubuf, count, ppos, af->buf,
					      af->len);
	mutex_unlock(&af->lock);
	return ret;
}

/*
 * One write is one command: it must start at offset 0 and fit in
 * MMRACE_ATTR_MAX_WRITE bytes. The file position is left alone so that the
 * same descriptor can carry the next command.
 */
static ssize_t mmrace_attr_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mmrace_attr_file *af = file->private_data;
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
	/* Not under af->lock: a command may run for seconds (a scenario). */
	ret = af->attr->store(af->attr, buf, count, why, sizeof(why));
	mutex_lock(&af->lock);
	af->fresh = false;
	mutex_unlock(&af->lock);
	kfree(buf);
	if (ret) {
		if (why[0])
			pr_warn_ratelimited("%pD2: %s\n", file, why);
		return ret;
	}
	return count;
}

static int mmrace_attr_release(struct inode *inode, struct file *file)
{
	struct mmrace_attr_file *af = file->private_data;

	kvfree(af->buf);
	kfree(af);
	return 0;
}

static const struct file_operations mmrace_attr_fops = {
	.owner = THIS_MODULE,
	.open = mmrace_attr_open,
	.read = mmrace_attr_read,
	.write = mmrace_attr_write,
	.llseek = no_seek_end_llseek,
	.release = mmrace_attr_release,
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
