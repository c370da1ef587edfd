// SPDX-License-Identifier: GPL-2.0

//! Non-LRU movable pages of the module's own, for the seed 002 scenario:
//! compaction isolates them, the module's driver refuses to migrate them,
//! and compaction puts them back, clearing `PG_isolated` with the page
//! locked, while other tasks wait for that lock.

use crate::abstractions::mm::Page;
use crate::bindings;
use core::ptr::NonNull;
use core::sync::atomic::{
    AtomicPtr, AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use kernel::{error::to_result, prelude::*};

/// What runs inside the `putback_page` callback of the module's movable
/// pages: the folio is isolated and locked by `putback_movable_pages()`,
/// which clears `PG_isolated` and unlocks it after the callback. Process
/// context; it must not sleep for long (compaction waits).
pub(crate) struct PutbackHook(pub(crate) fn(Page));

/// Pages allocated per page kept: the lowest are kept (compaction's
/// migration scanner walks each zone upwards).
const CANDIDATES_PER_PAGE: u32 = 64;

/// Sets of movable pages allocated so far: each set skips a different
/// number of pages first (`(ROUND % 8) * 256`), so that a test running the
/// scenario again gets pages elsewhere (compaction's reach varies).
static ROUND: AtomicU32 = AtomicU32::new(0);

/// The hook in force, or null.
static HOOK: AtomicPtr<PutbackHook> = AtomicPtr::new(core::ptr::null_mut());

/// Called by the shim's `putback_page` callback.
///
/// # Safety
///
/// `page` must be a struct page in the memmap (one of this module's movable
/// pages, being put back).
#[no_mangle]
pub(crate) unsafe extern "C" fn mmrace_movable_putback_hook(page: *mut bindings::page) {
    let hook = HOOK.load(Acquire);
    // SAFETY: `HOOK` holds null or a `&'static PutbackHook` (`MovablePages::new`).
    let Some(hook) = (unsafe { hook.as_ref() }) else {
        return;
    };
    // SAFETY: guaranteed by the caller.
    if let Some(page) = unsafe { Page::from_raw_page(page as usize) } {
        (hook.0)(page);
    }
}

/// Pages marked movable with the module's `movable_operations`
/// (`mmrace_movable_ops` in `src/bindings/movable_pages.c`): isolating succeeds, migrating fails
/// with `-EAGAIN`, putting back calls the [`PutbackHook`] given to
/// [`MovablePages::new`].
pub(crate) struct MovablePages {
    // INVARIANT: each entry is a page from `mmrace_movable_alloc()` on which
    // this value holds the allocation's reference, still movable.
    pages: KVec<NonNull<bindings::page>>,
    // INVARIANT: null or a page from the same call, one reference ours.
    anchor: *mut bindings::page,
}

// SAFETY: the pages may be locked, unlocked and freed from any thread.
unsafe impl Send for MovablePages {}
// SAFETY: `&MovablePages` locks and unlocks pages, which is thread-safe.
unsafe impl Sync for MovablePages {}

impl MovablePages {
    /// Allocates `n` movable pages (may sleep), whose putback runs `hook`
    /// (for every set of movable pages: the last one given is in force).
    pub(crate) fn new(n: usize, hook: &'static PutbackHook) -> Result<Self> {
        HOOK.store(core::ptr::from_ref(hook).cast_mut(), Release);
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        let candidates = count.checked_mul(CANDIDATES_PER_PAGE).ok_or(EINVAL)?;
        let mut raw: KVec<*mut bindings::page> = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            raw.push(core::ptr::null_mut(), GFP_KERNEL)?;
        }
        let skip = (ROUND.fetch_add(1, Relaxed) % 8) * 256;
        // Allocated before the pages, so that nothing can fail after.
        let mut pages = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut anchor = core::ptr::null_mut();
        // SAFETY: `raw` has room for `n` pointers and `anchor` for one,
        // which the helper fills on success; process context.
        to_result(unsafe {
            bindings::mmrace_movable_alloc(raw.as_mut_ptr(), count, candidates, skip, &mut anchor)
        })?;
        for p in raw.iter() {
            // The helper filled every slot with a non-null page.
            if let Some(p) = NonNull::new(*p) {
                pages.push(p, GFP_KERNEL)?;
            }
        }
        // INVARIANT: movable pages and the anchor the helper allocated for
        // us (pushing into a vector of capacity `n` does not fail).
        Ok(Self { pages, anchor })
    }

    /// How many pages there are.
    pub(crate) fn len(&self) -> usize {
        self.pages.len()
    }

    /// The lowest and highest pfn of the pages.
    pub(crate) fn pfn_range(&self) -> (u64, u64) {
        self.pages.iter().fold((u64::MAX, 0), |(lo, hi), p| {
            // SAFETY: our page (type invariant); computes its pfn.
            let pfn = unsafe { bindings::mmrace_page_pfn(p.as_ptr()) } as u64;
            (lo.min(pfn), hi.max(pfn))
        })
    }

    /// Locks page `i` (sleeps while someone else holds it), runs `f`,
    /// unlocks it. Process context. Does nothing for an `i` out of range.
    pub(crate) fn with_lock(&self, i: usize, f: impl FnOnce()) {
        let Some(p) = self.pages.get(i) else {
            return;
        };
        // SAFETY: our page (type invariant); lock_page() in process context.
        unsafe { bindings::mmrace_page_lock(p.as_ptr()) };
        f();
        // SAFETY: locked just above, by this thread.
        unsafe { bindings::mmrace_page_unlock(p.as_ptr()) };
    }

    /// Whether page `i` is locked (a racy read); false out of range.
    pub(crate) fn is_locked(&self, i: usize) -> bool {
        self.pages.get(i).is_some_and(|p| {
            // SAFETY: our page (type invariant); a flag read.
            unsafe { bindings::mmrace_page_locked(p.as_ptr()) }
        })
    }

    /// Wakes whoever sleeps waiting for page `i`'s lock although the page
    /// is unlocked (a lost `PG_waiters`): sets the bit again and, if the
    /// page is still unlocked, locks and unlocks it. Never sleeps; false if
    /// the page was locked (its holder's unlock then wakes the waiters).
    pub(crate) fn wake_waiters(&self, i: usize) -> bool {
        self.pages.get(i).is_some_and(|p| {
            // SAFETY: our page (type invariant); the helper sets a flag
            // atomically and trylocks and unlocks the page.
            unsafe { bindings::mmrace_page_wake_waiters(p.as_ptr()) }
        })
    }
}

impl Drop for MovablePages {
    fn drop(&mut self) {
        for p in self.pages.iter() {
            // SAFETY: our page and our reference (type invariant), given up
            // after the page stops being movable, so compaction calls none
            // of the module's callbacks on it again.
            unsafe { bindings::mmrace_movable_free(p.as_ptr()) };
        }
        if !self.anchor.is_null() {
            // SAFETY: our reference on the anchor page (type invariant).
            unsafe { bindings::mmrace_page_put(self.anchor) };
        }
    }
}
