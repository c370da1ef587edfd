// SPDX-License-Identifier: GPL-2.0

//! Non-LRU movable pages of the module's own, for the seed 002 scenarios:
//! compaction isolates them (setting `PG_isolated` with the page locked),
//! the module's driver refuses to migrate them (or accepts: migration then
//! clears `PG_isolated`, page locked), and compaction puts them back
//! (clearing `PG_isolated`, page locked), while other tasks wait for that
//! lock.

use crate::abstractions::folio::{flag, Flag, MovableFolio};
use crate::abstractions::mm::Page;
use crate::bindings;
use core::ptr::NonNull;
use core::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};
use kernel::{error::to_result, prelude::*};

/// The callbacks of the module's movable pages that a window can hold:
/// each runs with the page locked (by compaction or migration), and the
/// kernel changes the page's flags right after it returns.
#[derive(Clone, Copy)]
pub(crate) enum Callback {
    /// `isolate_page`: `isolate_movable_page()` sets `PG_isolated` after it.
    Isolate = 0,
    /// `migrate_page`: `migrate_movable_ops_page()` clears `PG_isolated`
    /// after it when it succeeds.
    Migrate = 1,
    /// `putback_page`: `putback_movable_folio()` clears `PG_isolated` after
    /// it.
    Putback = 2,
}

/// What runs inside the callbacks of the module's movable pages (a
/// window): the page is locked by compaction or migration, which changes
/// its flags and unlocks it after the callback. Process context; it must
/// not sleep for long (compaction waits).
pub(crate) struct MovableHook(pub(crate) fn(Callback, Page));

/// Fresh pages allocated per page kept: the lowest are kept (compaction's
/// migration scanner walks each zone upwards).
const CANDIDATES_PER_PAGE: u32 = 64;

/// The hook in force, or null.
static HOOK: AtomicPtr<MovableHook> = AtomicPtr::new(core::ptr::null_mut());
/// Whether the driver lets migration of its pages succeed (`migrate_page`
/// returns success and keeps the source page; the destination is dropped).
static ACCEPT_MIGRATION: AtomicBool = AtomicBool::new(false);

/// Calls of each callback (`Callback` as the index) on the module's pages.
static CALLS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
/// Of those, the ones during which a lock waiter queued on the page:
/// `PG_waiters` clear when the callback began and set when it ended. That
/// is seed 002's dangerous interleaving: a flag update after the callback
/// that writes back a stale copy of the flags word (read before the
/// callback, or in a non-atomic read-modify-write that spans the waiter's
/// set) wipes that `PG_waiters`, and the unlock wakes no one.
static WAITER_QUEUED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Calls of callback `cb` on the module's movable pages so far, and how
/// many of them had a lock waiter queue on the page during the callback
/// (see `WAITER_QUEUED`). Only the module's own movable pages are counted:
/// no other page has its callbacks.
pub(crate) fn callback_counts(cb: Callback) -> (u64, u64) {
    let i = cb as usize;
    (CALLS[i].load(Relaxed), WAITER_QUEUED[i].load(Relaxed))
}

/// Runs the hook in force for callback `cb` on `page`, and counts.
///
/// # Safety
///
/// `page` must be a struct page in the memmap (one of this module's movable
/// pages, locked, in callback `cb`).
unsafe fn run_hook(cb: Callback, page: *mut bindings::page) {
    // SAFETY: guaranteed by the caller.
    let Some(page) = (unsafe { Page::from_raw_page(page as usize) }) else {
        return;
    };
    let waiters = |p: &Page| p.state().flags & (1 << flag::Waiters::BIT) != 0;
    let before = waiters(&page);
    let hook = HOOK.load(Acquire);
    // SAFETY: `HOOK` holds null or a `&'static MovableHook` (`MovablePages::new`).
    if let Some(hook) = unsafe { hook.as_ref() } {
        (hook.0)(cb, page);
    }
    CALLS[cb as usize].fetch_add(1, Relaxed);
    if !before && waiters(&page) {
        WAITER_QUEUED[cb as usize].fetch_add(1, Relaxed);
    }
}

/// Called by the shim's `putback_page` callback.
///
/// # Safety
///
/// `page` must be a struct page in the memmap (one of this module's movable
/// pages, being put back).
#[no_mangle]
pub(crate) unsafe extern "C" fn mmrace_movable_putback_hook(page: *mut bindings::page) {
    // SAFETY: guaranteed by the caller.
    unsafe { run_hook(Callback::Putback, page) };
}

/// Called by the shim's `isolate_page` callback.
///
/// # Safety
///
/// `page` must be a struct page in the memmap (one of this module's movable
/// pages, locked, being isolated).
#[no_mangle]
pub(crate) unsafe extern "C" fn mmrace_movable_isolate_hook(page: *mut bindings::page) {
    // SAFETY: guaranteed by the caller.
    unsafe { run_hook(Callback::Isolate, page) };
}

/// Called by the shim's `migrate_page` callback, source `page`; whether
/// the migration is to succeed.
///
/// # Safety
///
/// `page` must be a struct page in the memmap (one of this module's movable
/// pages, locked and isolated, being migrated).
#[no_mangle]
pub(crate) unsafe extern "C" fn mmrace_movable_migrate_hook(page: *mut bindings::page) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe { run_hook(Callback::Migrate, page) };
    ACCEPT_MIGRATION.load(Acquire)
}

/// Pages marked movable with the module's `movable_operations`
/// (`mmrace_movable_ops` in `src/bindings/movable_pages.c`): isolating
/// succeeds, migrating fails with `-EAGAIN` (or succeeds, keeping the
/// source page, if [`MovablePages::new`] was told to accept migration),
/// putting back succeeds; each callback calls the [`MovableHook`] given to
/// [`MovablePages::new`]. Each page is a
/// [`MovableFolio`] of the typestate layer, which does every lock, unlock
/// and flag operation on it.
pub(crate) struct MovablePages {
    pages: KVec<MovableFolio>,
    // INVARIANT: filled by the `mmrace_movable_alloc()` call that made the
    // pages: its anchors are ours, to be released.
    place: KBox<bindings::mmrace_movable_placement>,
}

// SAFETY: the pages are `Send` and `Sync`; the anchors are only freed, from
// any thread.
unsafe impl Send for MovablePages {}
// SAFETY: `&MovablePages` only reads the placement's numbers.
unsafe impl Sync for MovablePages {}

/// Where a set of movable pages was put (for reports).
pub(crate) struct Placement {
    /// The node.
    pub(crate) nid: i32,
    /// The first pfn of the pages' zone.
    pub(crate) zone_start_pfn: u64,
    /// Pageblocks kept partly used (one page each) for compaction's free
    /// scanner, above the pages.
    pub(crate) anchors: u32,
}

impl MovablePages {
    /// Allocates `n` movable pages (may sleep), whose callbacks run `hook`
    /// and whose migration succeeds if `accept_migration` (for every set of
    /// movable pages: the last ones given are in force). They are placed
    /// where compaction reaches them (see `src/bindings/movable_pages.c`).
    pub(crate) fn new(
        n: usize,
        hook: &'static MovableHook,
        accept_migration: bool,
    ) -> Result<Self> {
        HOOK.store(core::ptr::from_ref(hook).cast_mut(), Release);
        ACCEPT_MIGRATION.store(accept_migration, Release);
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        let candidates = count.checked_mul(CANDIDATES_PER_PAGE).ok_or(EINVAL)?;
        let mut raw: KVec<*mut bindings::folio> = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            raw.push(core::ptr::null_mut(), GFP_KERNEL)?;
        }
        // Allocated before the pages, so that nothing can fail after.
        let mut pages = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut place = KBox::new(bindings::mmrace_movable_placement::default(), GFP_KERNEL)?;
        // SAFETY: `raw` has room for `n` pointers, `place` is zeroed; the
        // helper fills both on success (and releases what it took on
        // failure); process context.
        to_result(unsafe {
            bindings::mmrace_movable_alloc(raw.as_mut_ptr(), count, candidates, &mut *place)
        })?;
        for p in raw.iter() {
            // The helper filled every slot with a non-null folio.
            if let Some(p) = NonNull::new(*p) {
                // SAFETY: a folio the helper just allocated and made
                // movable, whose reference we hand over, once.
                let folio = unsafe { MovableFolio::from_movable(p) };
                // Pushing into a vector of capacity `n` does not fail.
                pages.push(folio, GFP_KERNEL)?;
            }
        }
        // INVARIANT: the placement of the call that made the pages.
        Ok(Self { pages, place })
    }

    /// Where the pages were put.
    pub(crate) fn placement(&self) -> Placement {
        Placement {
            nid: self.place.nid,
            zone_start_pfn: self.place.zone_start_pfn as u64,
            anchors: self.place.nr_anchors,
        }
    }

    /// How many pages there are.
    pub(crate) fn len(&self) -> usize {
        self.pages.len()
    }

    /// The lowest and highest pfn of the pages.
    pub(crate) fn pfn_range(&self) -> (u64, u64) {
        self.pages.iter().fold((u64::MAX, 0), |(lo, hi), p| {
            (lo.min(p.pfn()), hi.max(p.pfn()))
        })
    }

    /// Locks page `i` (sleeps while someone else holds it), runs `f`,
    /// unlocks it. Process context. Does nothing for an `i` out of range.
    pub(crate) fn with_lock(&self, i: usize, f: impl FnOnce()) {
        if let Some(p) = self.pages.get(i) {
            let _guard = p.lock();
            f();
        }
    }

    /// Whether page `i` is locked (a racy read); false out of range.
    pub(crate) fn is_locked(&self, i: usize) -> bool {
        self.pages.get(i).is_some_and(|p| p.test::<flag::Locked>())
    }

    /// Wakes whoever sleeps waiting for page `i`'s lock although the page
    /// is unlocked (a lost `PG_waiters`): see [`MovableFolio::wake_waiters`].
    /// False if the page was locked, or `i` is out of range.
    pub(crate) fn wake_waiters(&self, i: usize) -> bool {
        self.pages.get(i).is_some_and(|p| p.wake_waiters())
    }
}

impl Drop for MovablePages {
    fn drop(&mut self) {
        // The pages free themselves (`MovableFolio`'s drop).
        // SAFETY: the placement of the call that made the pages (type
        // invariant); releasing sets its count to 0, so it cannot be
        // released twice.
        unsafe { bindings::mmrace_movable_placement_release(&mut *self.place) };
    }
}
