// SPDX-License-Identifier: GPL-2.0

//! Observing pages: a handle on a `struct page` that can be read but not
//! used to change anything, and racy snapshots of its folio's state.

use crate::abstractions::pid::PidRef;
use crate::bindings;
use kernel::{error::to_result, prelude::*};

/// A `struct page` the module may read (its memmap entry), without holding
/// a reference: the page may be freed or reused while it is observed, and
/// every read is a racy snapshot. Nothing can be changed through it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    // INVARIANT: the address of a `struct page` in the memmap. The memmap of
    // online memory is never freed, so reading it is always valid.
    ptr: usize,
}

/// A racy snapshot of a page's folio: what a window compares to see whether
/// anything happened to it while it was open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageState {
    /// The page's pfn.
    pub(crate) pfn: u64,
    /// The pfn of the folio's head page.
    pub(crate) head_pfn: u64,
    /// The folio the page belonged to (its address, for identity only).
    pub(crate) folio: usize,
    /// The folio's flags word.
    pub(crate) flags: u64,
    /// The folio's `mapping` (address, for identity only).
    pub(crate) mapping: usize,
    /// The folio's reference count.
    pub(crate) refcount: i32,
    /// The folio's raw `_mapcount` (-1 when unmapped).
    pub(crate) mapcount: i32,
}

impl Page {
    /// Wraps a `struct page *` the kernel handed over.
    ///
    /// # Safety
    ///
    /// `ptr` must be zero or the address of a `struct page` in the memmap.
    pub(crate) unsafe fn from_raw_page(ptr: usize) -> Option<Page> {
        // INVARIANT: guaranteed by the caller.
        (ptr != 0).then_some(Page { ptr })
    }

    /// Wraps a `struct folio *` the kernel handed over.
    ///
    /// # Safety
    ///
    /// `ptr` must be zero or the address of a `struct folio` in the memmap.
    pub(crate) unsafe fn from_raw_folio(ptr: usize) -> Option<Page> {
        if ptr == 0 {
            return None;
        }
        // SAFETY: a folio's first page is the folio's address; the helper
        // only computes it.
        let ptr = unsafe { bindings::mmrace_folio_page(ptr) };
        // INVARIANT: the head page of a folio in the memmap.
        Some(Page { ptr })
    }

    /// Checks a value a user claimed is a `struct page *` (a defined
    /// window's `page=`): it must lie in the virtual memmap, on a `struct
    /// page` boundary, and its pfn must be an online page
    /// ([`Page::from_claimed_pfn`]). `None` for anything else, NULL included: nothing is read
    /// at an address that fails.
    pub(crate) fn from_claimed_page(addr: usize) -> Option<Page> {
        // SAFETY: the helpers only return constants of the kernel.
        let (start, size) = unsafe {
            (
                bindings::mmrace_vmemmap_start(),
                bindings::mmrace_struct_page_size(),
            )
        };
        if start == 0 || size == 0 || addr < start {
            return None;
        }
        let offset = addr - start;
        if offset % size != 0 {
            return None;
        }
        let page = Self::from_claimed_pfn((offset / size) as u64)?;
        // The pfn's struct page is the one claimed (not past the memmap).
        (page.ptr == addr).then_some(page)
    }

    /// Checks a value a user claimed is a `struct folio *`: a claimed page
    /// ([`Page::from_claimed_page`]) that is not a tail page (a folio is
    /// its head page). Racy like every snapshot: the page may become a
    /// tail later, which reading it survives.
    pub(crate) fn from_claimed_folio(addr: usize) -> Option<Page> {
        let page = Self::from_claimed_page(addr)?;
        // SAFETY: `page.ptr` is a struct page in the memmap (checked); the
        // helper only reads its `compound_head`.
        let tail = unsafe { bindings::mmrace_page_is_tail(page.ptr) };
        (!tail).then_some(page)
    }

    /// Checks a value a user claimed is a pfn: `pfn_to_online_page()`, so
    /// that its `struct page` exists and is initialized. `pfn_valid()` is
    /// not enough: it is true of offline memory (hot-removed, or added and
    /// not onlined: a poisoned memmap) and of ZONE_DEVICE pages (their
    /// memmap is the driver's); both are refused.
    pub(crate) fn from_claimed_pfn(pfn: u64) -> Option<Page> {
        let pfn = usize::try_from(pfn).ok()?;
        // SAFETY: the helper checks the pfn with `pfn_to_online_page()`
        // (an RCU lookup and a reference it drops, any context) and only
        // computes the address.
        let ptr = unsafe { bindings::mmrace_valid_pfn_page(pfn) };
        // INVARIANT: the struct page of an online pfn, in the memmap.
        (ptr != 0).then_some(Page { ptr })
    }

    /// The page's pfn and its folio's head pfn: all a probe needs to decide
    /// whether the page is the target, without a full snapshot.
    pub(crate) fn pfns(&self) -> (u64, u64) {
        let (mut pfn, mut head_pfn) = (0, 0);
        // SAFETY: `self.ptr` is a struct page in the memmap (type
        // invariant); the helper only computes pfns and writes the outputs.
        unsafe { bindings::mmrace_page_pfns(self.ptr, &mut pfn, &mut head_pfn) };
        (pfn as u64, head_pfn as u64)
    }

    /// Takes a racy snapshot of the page's folio.
    pub(crate) fn state(&self) -> PageState {
        let mut raw = bindings::mmrace_page_state::default();
        // SAFETY: `self.ptr` is a struct page in the memmap (type
        // invariant); the helper only reads it and writes `raw`.
        unsafe { bindings::mmrace_page_state(self.ptr, &mut raw) };
        PageState {
            pfn: raw.pfn as u64,
            head_pfn: raw.head_pfn as u64,
            folio: raw.folio,
            flags: raw.flags as u64,
            mapping: raw.mapping,
            refcount: raw.refcount,
            mapcount: raw.mapcount,
        }
    }
}

/// The raw page-table entry mapping `addr` in the current task's address
/// space (a PTE, or a PMD leaf), read locklessly like GUP-fast; 0 if none.
pub(crate) fn current_pte(addr: u64) -> u64 {
    let Ok(addr) = usize::try_from(addr) else {
        return 0;
    };
    // SAFETY: the helper walks `current->mm` with interrupts off, as GUP-fast
    // does, and only reads.
    unsafe { bindings::mmrace_current_pte(addr) }
}

/// The pfn of the page mapped at `addr` in process `pid`, which must be
/// present (it is not faulted in).
pub(crate) fn user_addr_to_pfn(pid: &PidRef, addr: u64) -> Result<u64> {
    let addr = usize::try_from(addr).map_err(|_| EINVAL)?;
    let mut pfn = 0;
    // SAFETY: `pid` is referenced; the helper takes its own references on
    // the task and mm and writes only `pfn`.
    to_result(unsafe { bindings::mmrace_user_addr_to_pfn(pid.as_ptr(), addr, &mut pfn) })?;
    Ok(pfn as u64)
}

/// Pins page `index` of the current task's memfd `fd` with
/// `memfd_pin_folios()` (the long-term pin udmabuf takes; its page-cache
/// lookup is `filemap_get_folios_contig()`), reads the page's first word
/// and unpins it: `EBADF` without such a file, `EINVAL` if it is no shmem
/// or hugetlbfs memfd. Process context (it may sleep: it allocates the
/// page if the file has none there).
pub(crate) fn memfd_pin_word(fd: i32, index: u64) -> Result<u64> {
    let index = kernel::ffi::c_ulong::try_from(index).map_err(|_| EINVAL)?;
    let mut word = 0u64;
    // SAFETY: any fd and index: the helper takes its own reference on the
    // file and its own pin, drops both before it returns, and writes only
    // `word`, which outlives the call.
    to_result(unsafe { bindings::mmrace_memfd_pin_word(fd, index, &mut word) })?;
    Ok(word)
}
