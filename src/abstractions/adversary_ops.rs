// SPDX-License-Identifier: GPL-2.0

//! The kernel steps of the in-module adversary operations
//! (`src/window/adversary.rs`; windows.rst, "Adversaries"): freezing a
//! page-cache folio's reference count as migration and split do, under
//! their preconditions, and unmapping a page of another process as
//! `madvise(MADV_DONTNEED)` does. Process context only (the module's
//! worker).

use crate::abstractions::pid::PidRef;
use crate::bindings;
use core::ptr::NonNull;
use kernel::{error::to_result, ffi, prelude::*};

/// A reference on a folio, taken by [`freeze_pagecache_folio`]; dropped
/// with `folio_put()`.
struct FolioRef(NonNull<bindings::folio>);

impl Drop for FolioRef {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a folio we hold a reference on (taken by
        // `mmrace_pfn_folio_tryget()`); this gives it back.
        unsafe { bindings::mmrace_folio_put_refs(self.0.as_ptr(), 1) }
    }
}

/// The lock of a folio we hold a reference on, taken by `folio_trylock()`.
struct FolioLock<'a>(&'a FolioRef);

impl Drop for FolioLock<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold the folio's lock (taken when `self` was made) and
        // a reference (`self.0`, which outlives `self`).
        unsafe { bindings::mmrace_folio_unlock(self.0 .0.as_ptr()) }
    }
}

/// Freezes the reference count of the page-cache folio holding `pfn`
/// while `hold` runs, exactly as migration (`__folio_migrate_mapping()`)
/// and split do and only under their preconditions: a reference of ours,
/// the folio locked (`folio_trylock()`), in a page cache (not anonymous,
/// not swap cache), not mapped, not under writeback, the mapping's xarray
/// locked (interrupts off) and still holding the folio at its index, and
/// the count equal to what those account for (`folio_expected_ref_count()`
/// plus ours). Returns `hold`'s result, or why the freeze was not made
/// (never forced): `EAGAIN` (no folio with a reference to take: free, or
/// frozen by someone else; its lock held; gone from its mapping; a
/// reference someone else holds), `EINVAL` (not a page-cache folio),
/// `EBUSY` (mapped, or under writeback).
///
/// `hold` runs with interrupts off and a spinlock held, and the folio's
/// count at zero: it must busy-wait only, briefly, and take no lock.
pub(crate) fn freeze_pagecache_folio<R>(pfn: u64, hold: impl FnOnce() -> R) -> Result<R> {
    let pfn = ffi::c_ulong::try_from(pfn).map_err(|_| EINVAL)?;
    // SAFETY: any pfn: the helper checks it is an online page and takes a
    // reference only if the count is not zero.
    let folio = NonNull::new(unsafe { bindings::mmrace_pfn_folio_tryget(pfn) }).ok_or(EAGAIN)?;
    let folio = FolioRef(folio);
    let f = folio.0.as_ptr();
    // SAFETY: we hold a reference on `f`.
    if !unsafe { bindings::mmrace_folio_trylock(f) } {
        return Err(EAGAIN);
    }
    let _lock = FolioLock(&folio);
    // SAFETY: `f` is locked and referenced: its mapping is stable.
    let mapping = unsafe { bindings::mmrace_folio_file_mapping(f) };
    if mapping.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: `f` is referenced; these read its map count and flags.
    if unsafe { bindings::mmrace_folio_mapped(f) || bindings::mmrace_folio_test_writeback(f) } {
        return Err(EBUSY);
    }
    // SAFETY: `f` is referenced and locked (its mapping, flags and map
    // count cannot change under us but for mapping, which we checked).
    let expected = unsafe { bindings::mmrace_folio_expected_ref_count(f) } + 1;
    // SAFETY: `mapping` is the locked folio's mapping: the address space
    // cannot go while the folio is in it, and the folio stays in it while
    // locked (truncation takes the folio lock).
    unsafe { bindings::mmrace_mapping_lock_irq(mapping) };
    // SAFETY: the mapping's xarray is locked; `f` is referenced.
    let held = unsafe { bindings::mmrace_mapping_holds(mapping, f) };
    // SAFETY: `f` is referenced, locked, unmapped, and (if `held`) in its
    // mapping, whose xarray lock we hold: the preconditions under which
    // migration freezes it. The freeze fails unless the count is exactly
    // `expected`.
    let ret = if held && unsafe { bindings::mmrace_folio_ref_freeze(f, expected) } {
        let r = hold();
        // SAFETY: we froze the count at `expected` just above.
        unsafe { bindings::mmrace_folio_ref_unfreeze(f, expected) };
        Ok(r)
    } else {
        Err(EAGAIN)
    };
    // SAFETY: locked above, on this thread.
    unsafe { bindings::mmrace_mapping_unlock_irq(mapping) };
    ret
}

/// Unmaps the page at `addr` in process `pid` as `madvise(MADV_DONTNEED)`
/// does (`zap_page_range_single()` under its mmap lock): `ESRCH` if the
/// process exited, `EINVAL` if it has no mm, `EFAULT` if no vma that
/// `MADV_DONTNEED` accepts covers `addr`. Process context (it sleeps).
pub(crate) fn zap_user_page(pid: &PidRef, addr: u64) -> Result {
    let addr = ffi::c_ulong::try_from(addr).map_err(|_| EINVAL)?;
    // SAFETY: `pid` is referenced; the helper takes its own references on
    // the task and mm and holds the mm's mmap lock across the lookup and
    // the zap.
    to_result(unsafe { bindings::mmrace_zap_user_page(pid.as_ptr(), addr) })
}

/// Drops the page-cache folio holding `pfn` as `POSIX_FADV_DONTNEED` does
/// (`invalidate_mapping_pages()` of its index): `EAGAIN` (no reference to
/// take, or locked), `ENOENT` (not page cache), `EBUSY` (not dropped:
/// mapped, dirty, another reference). Process context (it sleeps).
pub(crate) fn evict_pagecache_pfn(pfn: u64) -> Result {
    let pfn = ffi::c_ulong::try_from(pfn).map_err(|_| EINVAL)?;
    // SAFETY: any pfn: the helper takes its own references (folio, inode)
    // and drops them before it returns.
    to_result(unsafe { bindings::mmrace_evict_pfn(pfn) })
}

/// Most pages [`reuse_pfn`] allocates looking for the one it wants.
const REUSE_TRIES: usize = 32;
/// Most blocks (order above 0) it allocates looking for the one it wants:
/// a freed large folio lies on top of its CPU's free list of its order.
const REUSE_BLOCK_TRIES: usize = 2;

/// The order of the compound page `pfn` heads, read without a reference:
/// a hint (0 for a base page, a tail, a free or an offline page). Any
/// context.
pub(crate) fn order_hint(pfn: u64) -> u32 {
    let Ok(pfn) = ffi::c_ulong::try_from(pfn) else {
        return 0;
    };
    // SAFETY: any pfn: the helper checks it is online and reads the page's
    // flags once, without dereferencing anything else.
    unsafe { bindings::mmrace_pfn_order_hint(pfn) }
}

/// A page or block [`reuse_pfn`] allocated: ours until dropped.
struct Reused {
    page: NonNull<bindings::page>,
    order: u32,
}

impl Reused {
    /// Allocates a page (`order` 0) or a block without `__GFP_COMP` of
    /// `pfn`'s node.
    fn alloc(pfn: ffi::c_ulong, movable: bool, order: u32) -> Option<Self> {
        // SAFETY: any pfn (the helper checks it is online) and order (the
        // helper refuses one above `MAX_PAGE_ORDER`); process context.
        let page = unsafe { bindings::mmrace_reuse_alloc(pfn, movable, order) };
        Some(Self {
            page: NonNull::new(page)?,
            order,
        })
    }

    fn pfn(&self) -> ffi::c_ulong {
        // SAFETY: `self.page` is a page we allocated.
        unsafe { bindings::mmrace_page_to_pfn(self.page.as_ptr()) }
    }

    /// The reference count of its first page.
    fn ref_count(&self) -> i32 {
        // SAFETY: `self.page` is a page we allocated (and hold).
        unsafe { bindings::mmrace_page_count(self.page.as_ptr()) }
    }
}

impl Drop for Reused {
    fn drop(&mut self) {
        let page = self.page.as_ptr();
        if self.order == 0 {
            // SAFETY: our reference, taken at allocation; a speculative
            // reference someone took meanwhile keeps the page until they
            // drop theirs.
            unsafe { bindings::mmrace_page_put(page) };
        } else {
            // SAFETY: a block of `self.order` without `__GFP_COMP` that we
            // allocated; `__free_pages()` frees it whole, or, over a
            // speculative reference on its first page, every page but the
            // first (which the holder's last put frees).
            unsafe { bindings::mmrace_noncompound_free(page, self.order) };
        }
    }
}

/// Allocates the free page `pfn` again, if the allocator hands it out
/// among the next [`REUSE_TRIES`] pages of this CPU and `pfn`'s node,
/// movable and not in turn (a page freed here lies on top of this CPU's
/// free list of its pageblock's type, so among the first two, if nothing
/// took it meanwhile); with `order` above 0 (a large folio freed), as the
/// first page of a block of that order without `__GFP_COMP` (as
/// `__get_free_pages()` gives, the seed-001 pattern), among the next
/// [`REUSE_BLOCK_TRIES`] movable blocks. Fills the (first) page with
/// `word` and marks it uptodate (another page-cache page's contents), runs
/// `hold`, and frees it (`put_page()`, or `__free_pages()` of the block).
/// The others allocated on the way are freed before `hold`. Returns `None`
/// if the page was not recovered, else whether a reference besides ours
/// was held on it when it was freed. Process context (it may sleep).
pub(crate) fn reuse_pfn(pfn: u64, order: u32, word: u64, hold: impl FnOnce()) -> Option<bool> {
    let pfn = ffi::c_ulong::try_from(pfn).ok()?;
    let tries = if order == 0 {
        REUSE_TRIES
    } else {
        REUSE_BLOCK_TRIES
    };
    // No allocation of our own here: it could take the page first.
    let mut others: [Option<Reused>; REUSE_TRIES] = core::array::from_fn(|_| None);
    let mut found = None;
    for (i, slot) in others.iter_mut().enumerate().take(tries) {
        let Some(page) = Reused::alloc(pfn, order > 0 || i % 2 == 0, order) else {
            break;
        };
        if page.pfn() == pfn {
            found = Some(page);
            break;
        }
        *slot = Some(page);
    }
    // The others go back at once, before `hold`.
    drop(others);
    let page = found?;
    // SAFETY: `page` is ours (allocated above, one reference).
    unsafe { bindings::mmrace_reuse_fill(page.page.as_ptr(), word) };
    hold();
    let shared = page.ref_count() > 1;
    drop(page);
    Some(shared)
}
