// SPDX-License-Identifier: GPL-2.0

//! High-order blocks allocated without `__GFP_COMP`, and the speculative
//! references the page cache takes, for the seed 001 scenario: a reference
//! taken on a page that was freed and reused as the first page of such a
//! block outlives the block's `__free_pages()`.

use crate::abstractions::mm::Page;
use crate::bindings;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Release};
use kernel::prelude::*;

/// Largest order a block may have.
pub(crate) const MAX_BLOCK_ORDER: u32 = 3;

/// `2^order` pages from `alloc_pages()` without `__GFP_COMP`: only the
/// first page is referenced, the others are plain pages of the block.
/// Dropping it calls `__free_pages(page, order)`, which frees the whole
/// block, also when someone else still holds a reference on the first
/// page (the tail pages are freed at once, the first page by the last put).
pub(crate) struct NonCompoundBlock {
    // INVARIANT: the first page of a block of `2^order` pages this value
    // allocated and owns one reference on.
    page: NonNull<bindings::page>,
    order: u32,
}

// SAFETY: the block is a plain allocation; any thread may free it.
unsafe impl Send for NonCompoundBlock {}
// SAFETY: `&NonCompoundBlock` only reads its page.
unsafe impl Sync for NonCompoundBlock {}

impl NonCompoundBlock {
    /// Allocates a block of `2^order` pages (`GFP_KERNEL`, may sleep).
    pub(crate) fn alloc(order: u32) -> Result<Self> {
        if order == 0 || order > MAX_BLOCK_ORDER {
            return Err(EINVAL);
        }
        // SAFETY: no precondition; may sleep, and this is process context.
        let page = unsafe { bindings::mmrace_noncompound_alloc(order) };
        // INVARIANT: a fresh block, whose reference is now ours.
        Ok(Self {
            page: NonNull::new(page).ok_or(ENOMEM)?,
            order,
        })
    }

    /// The first page's reference count (a racy read).
    pub(crate) fn ref_count(&self) -> i32 {
        // SAFETY: the page is ours (type invariant); a counter read.
        unsafe { bindings::mmrace_page_count(self.page.as_ptr()) }
    }
}

impl Drop for NonCompoundBlock {
    fn drop(&mut self) {
        // SAFETY: our block and our reference (type invariant), given up.
        unsafe { bindings::mmrace_noncompound_free(self.page.as_ptr(), self.order) };
    }
}

/// A slot publishing the first page of a block the way the page cache
/// publishes a folio, and looked up the way the page cache is: the pointer
/// is loaded without a reference, the reference is taken only if the count
/// is not zero, and the slot is re-checked. Between the load and the check
/// the page may have been freed and reused by anyone.
pub(crate) struct SpeculativeSlot {
    // INVARIANT: 0 or the address of a struct page in the memmap.
    page: AtomicUsize,
}

/// What a lookup found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The slot was empty.
    Empty,
    /// The page's count was zero: it was being freed.
    Missed,
    /// A reference was taken but the slot had changed: it was dropped.
    Stale,
    /// A reference was taken on the published page, and dropped.
    Found,
}

impl SpeculativeSlot {
    pub(crate) const fn new() -> Self {
        // INVARIANT: empty.
        Self {
            page: AtomicUsize::new(0),
        }
    }

    /// Publishes `block`'s first page.
    pub(crate) fn publish(&self, block: &NonCompoundBlock) {
        // INVARIANT: a struct page in the memmap.
        self.page.store(block.page.as_ptr() as usize, Release);
    }

    /// Empties the slot.
    pub(crate) fn clear(&self) {
        self.page.store(0, Release);
    }

    /// Looks the slot up: loads the page, calls `loaded`, takes a
    /// speculative reference, calls `referenced`, re-checks the slot and
    /// drops the reference. The put may be the page's last reference, and
    /// then it frees the page as an order-0 page, whatever it is now part
    /// of: that is what page-cache lookups do, and what the kernel must
    /// survive.
    pub(crate) fn lookup(
        &self,
        loaded: impl FnOnce(Page),
        referenced: impl FnOnce(Page),
    ) -> Lookup {
        let raw = self.page.load(Acquire);
        // SAFETY: the slot holds 0 or a struct page in the memmap (type
        // invariant); the memmap of online memory is never freed.
        let Some(page) = (unsafe { Page::from_raw_page(raw) }) else {
            return Lookup::Empty;
        };
        loaded(page);
        let ptr = raw as *mut bindings::page;
        // SAFETY: `ptr` is a struct page in the memmap; taking a reference
        // only if the count is not zero is valid on any page, whoever owns
        // it now (the page cache's speculative reference).
        if !unsafe { bindings::mmrace_page_get_unless_zero(ptr) } {
            return Lookup::Missed;
        }
        referenced(page);
        let same = self.page.load(Acquire) == raw;
        // SAFETY: the reference taken just above, given back.
        unsafe { bindings::mmrace_page_put(ptr) };
        if same {
            Lookup::Found
        } else {
            Lookup::Stale
        }
    }
}

/// Free pages, including those on the per-CPU lists (a racy sum): what a
/// leak check compares before and after.
pub(crate) fn free_pages_total() -> u64 {
    // SAFETY: no precondition; counter reads.
    unsafe { bindings::mmrace_free_pages_total() as u64 }
}
