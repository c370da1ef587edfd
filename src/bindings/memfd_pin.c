// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace's driver of memfd_pin_folios() (scenario memfd_pin): the one
 * caller of filemap_get_folios_contig() in the test kernel, whose own
 * callers (udmabuf, nilfs2) are not built.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "shim.h"

int mmrace_memfd_pin_word(int fd, unsigned long index, u64 *word)
{
	loff_t start = (loff_t)index << PAGE_SHIFT;
	struct file *file = fget(fd);
	struct folio *folio;
	pgoff_t offset;
	long ret;
	u64 *p;

	if (!file)
		return -EBADF;
	ret = memfd_pin_folios(file, start, start + PAGE_SIZE - 1, &folio, 1,
			       &offset);
	fput(file);
	if (ret < 0)
		return ret;
	if (ret != 1)
		return -EIO;
	p = kmap_local_folio(folio, offset);
	*word = READ_ONCE(*p);
	kunmap_local(p);
	unpin_folio(folio);
	return 0;
}
