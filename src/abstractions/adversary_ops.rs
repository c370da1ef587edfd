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

/// Allocates the free page `pfn` again, if the allocator hands it out
/// among the next [`REUSE_TRIES`] pages of this CPU and `pfn`'s node,
/// movable and not in turn (a page freed here lies on top of this CPU's free list of its
/// pageblock's type, so among the first two, if nothing took it
/// meanwhile), fills it with `word` and marks it uptodate (another
/// page-cache page's contents), runs `hold`, and frees it. The other pages
/// allocated on the way are freed before `hold`. Returns whether the page
/// was recovered. Process context (it may sleep).
pub(crate) fn reuse_pfn(pfn: u64, word: u64, hold: impl FnOnce()) -> bool {
    let Ok(pfn) = ffi::c_ulong::try_from(pfn) else {
        return false;
    };
    let mut others = [core::ptr::null_mut::<bindings::page>(); REUSE_TRIES];
    let mut found = None;
    for (i, slot) in others.iter_mut().enumerate() {
        // SAFETY: any pfn (the helper checks it is online); process context.
        let page = unsafe { bindings::mmrace_reuse_alloc(pfn, i % 2 == 0) };
        if page.is_null() {
            break;
        }
        // SAFETY: `page` is a page we allocated.
        if unsafe { bindings::mmrace_page_to_pfn(page) } == pfn {
            found = Some(page);
            break;
        }
        *slot = page;
    }
    for page in others.iter().filter(|p| !p.is_null()) {
        // SAFETY: a page we allocated above and nothing else knows of.
        unsafe { bindings::mmrace_page_put(*page) };
    }
    let Some(page) = found else {
        return false;
    };
    // SAFETY: `page` is ours (allocated above, one reference).
    unsafe { bindings::mmrace_reuse_fill(page, word) };
    hold();
    // SAFETY: our reference, taken at allocation; a speculative reference
    // someone took meanwhile keeps it until they drop theirs.
    unsafe { bindings::mmrace_page_put(page) };
    true
}
