// SPDX-License-Identifier: GPL-2.0

//! Folios whose type says which page-flag updates their holder may make.
//!
//! Seed 002: compaction cleared `PG_isolated` with a non-atomic
//! `__ClearPageIsolated` while holding the page lock, and a lock waiter's
//! atomic `SetPageWaiters` in between was overwritten, so the waiter slept
//! forever. A non-atomic update (load the flags word, change a bit, store it
//! back) is only correct while no one else can change the word; holding the
//! folio lock does not give that, and neither does a refcount of 1
//! (speculative references come and go on any page). This layer encodes the
//! rule in types, so that the compiler checks it:
//!
//! - [`Folio<Referenced>`]: we hold references, others may too and flip
//!   flags atomically at any time: atomic flag operations only.
//! - [`Folio<Frozen>`]: the refcount was frozen at 0 from exactly the
//!   references this handle held (`folio_ref_freeze`), so no one else holds
//!   one and no one can take one: non-atomic updates allowed. Leaving the
//!   state ([`Folio::unfreeze`]) consumes the handle; dropping it unfreezes
//!   to the count it was frozen from.
//! - [`Folio<Unpublished>`]: freshly allocated by us and not yet reachable
//!   by any lookup: non-atomic updates allowed; [`Folio::publish`] consumes
//!   it into a [`Folio<Referenced>`].
//! - [`FolioLockGuard`]: the folio lock, held, in any state; unlocked on
//!   drop. It permits no flag update by itself: that is the seed's lesson.
//!
//! Flags are marker types in [`flag`] (`flag::Isolated`, `flag::Dirty`,
//! ...), listed in one table; operations are generic over them, so adding a
//! flag is adding a line to the table. `Documentation/typestate.rst` gives the reasoning and
//! where it stops.
//!
//! Only folios this module allocates can be had ([`Folio::alloc`]): for
//! those, every reference is held by a handle, so the count a freeze expects
//! can be checked against the handle instead of trusted. The C helpers are
//! `mmrace_folio_*` in `shim.c`; Rust never dereferences a `struct folio`.

use crate::{abstractions::mm, bindings};
use core::{marker::PhantomData, mem::ManuallyDrop, num::NonZeroU16, ptr::NonNull};
use kernel::prelude::*;

mod private {
    /// Implemented only in this file: no state or flag can be added
    /// elsewhere.
    pub(crate) trait Sealed {}
}

/// A state of a [`Folio`] handle: [`Referenced`], [`Frozen`] or
/// [`Unpublished`].
pub(crate) trait FolioState: private::Sealed + 'static {
    /// Whether the handle holds the refcount frozen at 0, to be unfrozen
    /// when it is dropped.
    const FROZEN: bool;
}

/// States in which no one else can change the flags word, so that a
/// non-atomic update cannot lose anyone's change: [`Frozen`] and
/// [`Unpublished`].
pub(crate) trait Exclusive: FolioState {}

/// We hold references; others may hold some too, take and drop more at any
/// moment (speculatively, from a pfn), and flip flags atomically meanwhile.
pub(crate) enum Referenced {}

/// The refcount is frozen at 0 from exactly the references this handle
/// held: no one else holds a reference, and `folio_try_get` fails for
/// everyone until the handle unfreezes it.
pub(crate) enum Frozen {}

/// Freshly allocated by this module and not yet reachable by any lockless
/// lookup (page cache, page tables, LRU): only PFN walkers can find it, and
/// they drop the speculative reference they take without writing a flag to
/// a folio that is neither on the LRU nor movable.
pub(crate) enum Unpublished {}

impl private::Sealed for Referenced {}
impl private::Sealed for Frozen {}
impl private::Sealed for Unpublished {}

impl FolioState for Referenced {
    const FROZEN: bool = false;
}

impl FolioState for Frozen {
    const FROZEN: bool = true;
}

impl FolioState for Unpublished {
    const FROZEN: bool = false;
}

impl Exclusive for Frozen {}
impl Exclusive for Unpublished {}

/// A page flag, as a marker type: its `PG_*` bit in the folio's flags word.
pub(crate) trait Flag: private::Sealed {
    /// The bit number (`enum pageflags`).
    const BIT: u32;
    /// Its name after `PG_`, for messages.
    const NAME: &'static str;
}

/// A flag this layer lets its callers change. The others (`PG_locked`,
/// `PG_waiters`) are the kernel's own protocol and only readable here; the
/// lock changes through [`Folio::lock`].
pub(crate) trait Writable: Flag {}

/// The flags, as marker types: `folio.set::<flag::Dirty>()`.
pub(crate) mod flag {
    use super::{private, Flag, Writable};
    use crate::bindings;

    /// Declares the flag marker types, one a line: `Name: bit = "name"
    /// (access);`, where access is `writable` or `read_only`. The state
    /// machinery is generic over [`Flag`] and [`Writable`] and does not
    /// change when a line is added.
    macro_rules! flags {
        ($($(#[$doc:meta])* $name:ident: $bit:ident = $cname:literal ($access:ident);)*) => {
            $(
                $(#[$doc])*
                pub(crate) enum $name {}

                impl private::Sealed for $name {}

                impl Flag for $name {
                    const BIT: u32 = bindings::$bit;
                    const NAME: &'static str = $cname;
                }

                flags!(@access $name $access);
            )*

            /// Every flag's name and bit, for [`super::Folio::flag_names`].
            pub(super) const TABLE: &[(&str, u32)] = &[$(($cname, bindings::$bit)),*];
        };
        (@access $name:ident writable) => {
            impl Writable for $name {}
        };
        (@access $name:ident read_only) => {};
    }

    flags! {
        /// `PG_locked`: the folio lock is held. Changed only by the lock.
        Locked: pageflags_PG_locked = "locked" (read_only);
        /// `PG_waiters`: someone sleeps in the folio's wait queue. Set by
        /// the kernel for a lock waiter, cleared by the wakeup.
        Waiters: pageflags_PG_waiters = "waiters" (read_only);
        /// `PG_referenced`: recently accessed.
        Referenced: pageflags_PG_referenced = "referenced" (writable);
        /// `PG_uptodate`: the contents are valid. Unlike
        /// `folio_mark_uptodate`, no barrier orders the contents before the
        /// bit: this layer does not publish contents through it.
        Uptodate: pageflags_PG_uptodate = "uptodate" (writable);
        /// `PG_dirty`: the contents must be written back.
        Dirty: pageflags_PG_dirty = "dirty" (writable);
        /// `PG_swapbacked`: backed by RAM or swap (anonymous, shmem).
        Swapbacked: pageflags_PG_swapbacked = "swapbacked" (writable);
        /// `PG_isolated` (`PG_reclaim` on a non-LRU movable page): isolated
        /// for migration. Seed 002's non-atomically cleared flag.
        Isolated: pageflags_PG_isolated = "isolated" (writable);
        /// `PG_owner_priv_1`: the owner's to use (`PG_checked` to
        /// filesystems, `PG_swapcache` with `PG_swapbacked`). The kernel
        /// does not interpret it on a folio this module owns: the seed 002
        /// demonstration's waiters-style bit.
        OwnerPriv1: pageflags_PG_owner_priv_1 = "owner_priv_1" (writable);
    }
}

/// A folio this module allocated, in state `S`, owning some of its
/// references.
///
/// # Invariants
///
/// - `ptr` points to a live order-0 folio allocated by [`Folio::alloc`],
///   never inserted into the page cache, page tables or LRU, nor made
///   movable; Rust never dereferences it.
/// - The handle owns `refs` references on it. If `S` is [`Frozen`], they
///   are frozen: the refcount is 0, frozen by this handle from `refs`, and
///   there is no other handle to the folio.
/// - If `S` is [`Unpublished`], there is no other handle to the folio.
pub(crate) struct Folio<S: FolioState> {
    ptr: NonNull<bindings::folio>,
    refs: NonZeroU16,
    _state: PhantomData<S>,
}

// SAFETY: a `Folio<Referenced>` owns references, which may be dropped from
// any thread, and through `&self` only reads or changes the folio with
// atomic operations.
unsafe impl Send for Folio<Referenced> {}
// SAFETY: as for `Send`: every `&self` method is an atomic operation.
unsafe impl Sync for Folio<Referenced> {}
// SAFETY: an unpublished folio is exclusively ours, like a `KBox`; its
// references may be dropped from any thread.
unsafe impl Send for Folio<Unpublished> {}
// SAFETY: its non-atomic updates take `&mut self`; through `&self` it is
// only read or changed atomically.
unsafe impl Sync for Folio<Unpublished> {}
// `Folio<Frozen>` is neither `Send` nor `Sync`: a freeze is a short
// critical section of the context that froze, as every lockless lookup that
// finds the folio retries until it is unfrozen.

/// A transition that failed: the error and the handle, unchanged, so that
/// the caller may retry (the shape of `Regulator::try_into_enabled`).
pub(crate) struct TransitionError<S: FolioState> {
    /// Why the transition failed.
    pub(crate) error: Error,
    /// The handle, in its old state.
    pub(crate) folio: Folio<S>,
}

impl<S: FolioState> From<TransitionError<S>> for Error {
    fn from(e: TransitionError<S>) -> Error {
        e.error
    }
}

impl<S: FolioState> Folio<S> {
    fn as_ptr(&self) -> *mut bindings::folio {
        self.ptr.as_ptr()
    }

    /// Moves the handle's folio and references into state `T`, owning
    /// `refs` references, without running `Drop`.
    ///
    /// # Safety
    ///
    /// The invariants of `Folio<T>` must hold for the result.
    unsafe fn into_state<T: FolioState>(self, refs: NonZeroU16) -> Folio<T> {
        let this = ManuallyDrop::new(self);
        // INVARIANT: guaranteed by the caller.
        Folio {
            ptr: this.ptr,
            refs,
            _state: PhantomData,
        }
    }

    /// The folio's pfn.
    pub(crate) fn pfn(&self) -> u64 {
        // SAFETY: the folio is live (type invariant).
        unsafe { bindings::mmrace_folio_pfn(self.as_ptr()) as u64 }
    }

    /// A racy snapshot of the folio's refcount (0 while frozen).
    pub(crate) fn ref_count(&self) -> i32 {
        // SAFETY: the folio is live (type invariant).
        unsafe { bindings::mmrace_folio_ref_count(self.as_ptr()) }
    }

    /// A racy observer of the folio's page, which outlives the handle (it
    /// only reads the memmap).
    pub(crate) fn observer(&self) -> Option<mm::Page> {
        // SAFETY: `ptr` is a folio in the memmap (type invariant).
        unsafe { mm::Page::from_raw_folio(self.ptr.as_ptr() as usize) }
    }

    /// The names of the flags of [`flag`] that are set, for messages.
    pub(crate) fn flag_names(&self) -> FlagNames<'_, S> {
        FlagNames(self)
    }

    /// The references this handle owns (for a [`Frozen`] one: the count it
    /// was frozen from).
    pub(crate) fn refs(&self) -> u16 {
        self.refs.get()
    }

    /// Whether flag `F` is set (`test_bit`).
    pub(crate) fn test<F: Flag>(&self) -> bool {
        // SAFETY: the folio is live (type invariant); an atomic read.
        unsafe { bindings::mmrace_folio_test_flag(self.as_ptr(), F::BIT) }
    }

    /// Sets `F` atomically (`set_bit`).
    pub(crate) fn set<F: Writable>(&self) {
        // SAFETY: the folio is live (type invariant); an atomic update loses
        // no one's change; `F` is one of the flags the kernel lets the
        // folio's owner change.
        unsafe { bindings::mmrace_folio_set_flag(self.as_ptr(), F::BIT) }
    }

    /// Clears `F` atomically (`clear_bit`).
    pub(crate) fn clear<F: Writable>(&self) {
        // SAFETY: as in `set`.
        unsafe { bindings::mmrace_folio_clear_flag(self.as_ptr(), F::BIT) }
    }

    /// Sets `F` atomically and returns whether it was set before
    /// (`test_and_set_bit`).
    pub(crate) fn test_and_set<F: Writable>(&self) -> bool {
        // SAFETY: as in `set`.
        unsafe { bindings::mmrace_folio_test_set_flag(self.as_ptr(), F::BIT) }
    }

    /// Clears `F` atomically and returns whether it was set before
    /// (`test_and_clear_bit`).
    pub(crate) fn test_and_clear<F: Writable>(&self) -> bool {
        // SAFETY: as in `set`.
        unsafe { bindings::mmrace_folio_test_clear_flag(self.as_ptr(), F::BIT) }
    }

    /// Takes the folio lock, sleeping until it is free (`folio_lock`).
    ///
    /// Process context only. Locking a folio whose lock the caller already
    /// holds, through this or another handle, never returns.
    pub(crate) fn lock(&self) -> FolioLockGuard<'_, S> {
        // SAFETY: the folio is live and we own a reference (type invariant),
        // as a sleeper on its wait queue must.
        unsafe { bindings::mmrace_folio_lock(self.as_ptr()) };
        // INVARIANT: the lock was just taken.
        FolioLockGuard {
            folio: self,
            _not_send: PhantomData,
        }
    }

    /// Takes the folio lock if it is free (`folio_trylock`).
    pub(crate) fn trylock(&self) -> Option<FolioLockGuard<'_, S>> {
        // SAFETY: the folio is live (type invariant).
        let locked = unsafe { bindings::mmrace_folio_trylock(self.as_ptr()) };
        // INVARIANT: the lock was just taken.
        locked.then(|| FolioLockGuard {
            folio: self,
            _not_send: PhantomData,
        })
    }

    /// Clears `F` with a plain load and a plain store of the flags word,
    /// calling `window` in between: `__clear_bit` with its window held open.
    ///
    /// # Safety
    ///
    /// Any change that another context makes to the flags word between the
    /// load and the store is lost. The caller must ensure that no lost
    /// change can harm the kernel: in particular that no one sets
    /// `PG_waiters` (the waiter would never be woken) or takes or releases
    /// the folio lock meanwhile.
    unsafe fn clear_split<F: Writable>(&self, window: impl FnOnce()) {
        // SAFETY: the folio is live (type invariant); a marked read.
        let flags = unsafe { bindings::mmrace_folio_flags_load(self.as_ptr()) };
        window();
        let mask: kernel::ffi::c_ulong = 1 << F::BIT;
        // SAFETY: the folio is live (type invariant); a marked write. What it
        // overwrites is the caller's responsibility.
        unsafe { bindings::mmrace_folio_flags_store(self.as_ptr(), flags & !mask) };
    }
}

impl<S: Exclusive> Folio<S> {
    /// Sets `F` with a non-atomic read-modify-write (`__set_bit`).
    ///
    /// `&mut self`: two updates through the same handle cannot overlap.
    pub(crate) fn set_nonatomic<F: Writable>(&mut self) {
        // SAFETY: the folio is live (type invariant). No one else changes
        // its flags word: the state is `Exclusive` (frozen, so no one else
        // holds a reference; or unpublished, so no one else can find it to
        // change a flag), and `&mut self` excludes this handle's other
        // users.
        unsafe { bindings::mmrace_folio_set_flag_nonatomic(self.as_ptr(), F::BIT) }
    }

    /// Clears `F` with a non-atomic read-modify-write (`__clear_bit`).
    pub(crate) fn clear_nonatomic<F: Writable>(&mut self) {
        // SAFETY: as in `set_nonatomic`.
        unsafe { bindings::mmrace_folio_clear_flag_nonatomic(self.as_ptr(), F::BIT) }
    }
}

impl Folio<Unpublished> {
    /// Allocates an order-0 folio (`folio_alloc(GFP_KERNEL, 0)`), with the
    /// one reference the allocator gives. May sleep.
    pub(crate) fn alloc() -> Result<Self> {
        // SAFETY: no precondition; called in process context.
        let ptr = unsafe { bindings::mmrace_folio_alloc() };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // INVARIANT: a new order-0 folio whose one reference is ours, in no
        // structure anyone could look it up in; this is its only handle.
        Ok(Self {
            ptr,
            refs: NonZeroU16::MIN,
            _state: PhantomData,
        })
    }

    /// Makes the folio reachable by others: from now on they may hold
    /// references and change flags atomically, so only atomic updates are
    /// allowed.
    ///
    /// The handle is consumed. Publishing is the type change itself: to
    /// share the folio, clone the result and hand a clone over; the way it
    /// is handed over orders the earlier updates before the other side's
    /// accesses.
    #[must_use = "dropping the published folio frees it"]
    pub(crate) fn publish(self) -> Folio<Referenced> {
        let refs = self.refs;
        // SAFETY: the invariants of `Folio<Referenced>` are weaker than
        // those of `Folio<Unpublished>`: same folio, same references.
        unsafe { self.into_state(refs) }
    }
}

impl Folio<Referenced> {
    /// Freezes the refcount at 0 if it is `expected`
    /// (`folio_ref_freeze`), which must be the number of references this
    /// handle owns.
    ///
    /// Fails with `EINVAL` if `expected` is not this handle's count (a
    /// freeze from more would count someone else's reference as ours; from
    /// fewer it cannot succeed), and with `EAGAIN` if someone else holds a
    /// reference, even a speculative one, as migration does. On failure the
    /// handle comes back unchanged in the error.
    pub(crate) fn try_freeze(
        self,
        expected: u16,
    ) -> Result<Folio<Frozen>, TransitionError<Referenced>> {
        let refs = self.refs;
        if expected != refs.get() {
            return Err(TransitionError {
                error: EINVAL,
                folio: self,
            });
        }
        // SAFETY: the folio is live (type invariant).
        if !unsafe { bindings::mmrace_folio_ref_freeze(self.as_ptr(), i32::from(refs.get())) } {
            return Err(TransitionError {
                error: EAGAIN,
                folio: self,
            });
        }
        // SAFETY: the count was exactly this handle's references and is now
        // 0: no other reference, so no other handle, exists, and none can be
        // taken (`folio_try_get` fails on 0).
        Ok(unsafe { self.into_state(refs) })
    }
}

impl Clone for Folio<Referenced> {
    /// Takes another reference (`folio_get`), owned by the new handle.
    fn clone(&self) -> Self {
        // SAFETY: the folio is live and we own a reference (type invariant),
        // so taking another cannot race with its freeing.
        unsafe { bindings::mmrace_folio_get(self.as_ptr()) };
        // INVARIANT: the new handle owns the reference just taken.
        Self {
            ptr: self.ptr,
            refs: NonZeroU16::MIN,
            _state: PhantomData,
        }
    }
}

impl Folio<Frozen> {
    /// Sets the refcount to `count` (`folio_ref_unfreeze`), all owned by
    /// the returned handle: others may take references again.
    ///
    /// `count` may differ from the count frozen from, as in migration: this
    /// handle is the only holder, so the references are its to make or drop.
    #[must_use = "dropping the unfrozen folio drops its references"]
    pub(crate) fn unfreeze(self, count: NonZeroU16) -> Folio<Referenced> {
        // SAFETY: the refcount is frozen at 0 by this handle (type invariant)
        // and `count` is not 0.
        unsafe { bindings::mmrace_folio_ref_unfreeze(self.as_ptr(), i32::from(count.get())) };
        // SAFETY: the handle now owns `count` references on a live folio and
        // is no longer frozen.
        unsafe { self.into_state(count) }
    }
}

impl<S: FolioState> Drop for Folio<S> {
    fn drop(&mut self) {
        let refs = i32::from(self.refs.get());
        if S::FROZEN {
            // SAFETY: the refcount is frozen at 0 by this handle from `refs`
            // (type invariant); this restores it.
            unsafe { bindings::mmrace_folio_ref_unfreeze(self.as_ptr(), refs) };
        }
        // SAFETY: the handle owns `refs` references on the live folio (type
        // invariant; unfrozen above if it was frozen) and gives them up; the
        // lock is not held, since a `FolioLockGuard` borrows the handle.
        unsafe { bindings::mmrace_folio_put_refs(self.as_ptr(), refs) };
    }
}

/// The folio lock, held; released when dropped (`folio_unlock`).
///
/// It gives read access to the folio and its atomic operations, and no
/// non-atomic update: holding the lock does not stop a waiter from setting
/// `PG_waiters`. Not `Send`, like `kernel::sync::Guard`: the lock is
/// released in the scope that took it.
#[must_use = "the folio is unlocked as soon as the guard is dropped"]
pub(crate) struct FolioLockGuard<'a, S: FolioState> {
    // INVARIANT: the folio lock of `folio` is held, taken by this guard.
    folio: &'a Folio<S>,
    _not_send: PhantomData<*mut ()>,
}

impl<S: FolioState> core::ops::Deref for FolioLockGuard<'_, S> {
    type Target = Folio<S>;

    fn deref(&self) -> &Folio<S> {
        self.folio
    }
}

impl<S: FolioState> Drop for FolioLockGuard<'_, S> {
    fn drop(&mut self) {
        // SAFETY: the lock is held, taken by this guard (type invariant).
        unsafe { bindings::mmrace_folio_unlock(self.folio.as_ptr()) };
    }
}

/// The set flags of a folio, as `name|name`, or `-`.
pub(crate) struct FlagNames<'a, S: FolioState>(&'a Folio<S>);

impl<S: FolioState> core::fmt::Display for FlagNames<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut sep = "";
        for (name, bit) in flag::TABLE {
            // SAFETY: the folio is live (type invariant); an atomic read.
            if unsafe { bindings::mmrace_folio_test_flag(self.0.as_ptr(), *bit) } {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        if sep.is_empty() {
            write!(f, "-")?;
        }
        Ok(())
    }
}

/// Free pages in the buddy allocator, for leak checks.
pub(crate) fn nr_free_pages() -> u64 {
    // SAFETY: no precondition; a counter read.
    unsafe { bindings::mmrace_nr_free_pages() as u64 }
}

/// The seed 002 bug, reproduced on purpose: a folio whose lock holder clears
/// [`flag::Isolated`] with a non-atomic update held open by a window, while one
/// other party ([`SpareSetter`]) sets the waiters-style bit [`flag::OwnerPriv1`]
/// atomically. An update made inside the window is lost.
///
/// This is the one non-atomic update on a folio others may reference in the
/// module, and it cannot lose anything that matters: the folio is this
/// module's own, this type and its setter are its only handles, the setter
/// can only set the spare bit, and no one else can take the lock (so no one
/// sets `PG_waiters`).
pub(crate) struct RacyFolio {
    folio: Folio<Referenced>,
}

/// The only other holder of a [`RacyFolio`]'s folio: it can set the spare
/// bit atomically, and nothing else.
pub(crate) struct SpareSetter {
    folio: Folio<Referenced>,
}

impl RacyFolio {
    /// Allocates the folio, with the one other party that can touch it.
    pub(crate) fn new() -> Result<(RacyFolio, SpareSetter)> {
        let folio = Folio::alloc()?.publish();
        let setter = SpareSetter {
            folio: folio.clone(),
        };
        Ok((RacyFolio { folio }, setter))
    }

    /// Sets [`flag::Isolated`] and clears the spare bit, atomically: the start of
    /// an iteration.
    pub(crate) fn reset(&self) {
        self.folio.set::<flag::Isolated>();
        self.folio.clear::<flag::OwnerPriv1>();
    }

    /// Whether flag `F` is set.
    pub(crate) fn test<F: Flag>(&self) -> bool {
        self.folio.test::<F>()
    }

    /// Takes the folio lock and clears [`flag::Isolated`] as compaction's
    /// `__ClearPageIsolated` did, with `window` called between the load and
    /// the store of the flags word; unlocks. Whatever the window lets the
    /// setter do to the word is lost.
    pub(crate) fn clear_isolated_racy(&mut self, window: impl FnOnce()) {
        let _guard = self.folio.lock();
        // SAFETY: only the spare bit can change meanwhile, and losing it
        // harms nothing: this type and the `SpareSetter` are the folio's only
        // handles; the setter can only set the spare bit, which the kernel
        // does not interpret on this module's folios; `&mut self` and the
        // setter's lack of a lock method mean no one else waits for the lock
        // this thread holds, so no one sets `PG_waiters` and the stored word
        // keeps `PG_locked` set.
        unsafe { self.folio.clear_split::<flag::Isolated>(window) };
    }
}

impl SpareSetter {
    /// Sets the spare bit atomically.
    pub(crate) fn set_spare(&self) {
        self.folio.set::<flag::OwnerPriv1>();
    }
}

/// A non-LRU movable page of the module's own (`movable::MovablePages`):
/// compaction may isolate it, fail to migrate it and put it back at any
/// time, locking it and changing `PG_isolated` meanwhile. So the handle
/// offers no flag update of its own: only the folio lock (the same
/// `folio_lock()` protocol as [`Folio::lock`]), flag reads, and the
/// watchdog's repair of a lost `PG_waiters` ([`MovableFolio::wake_waiters`]).
/// Dropping it stops the page being movable and frees it.
///
/// # Invariants
///
/// `ptr` points to an order-0 folio allocated by `mmrace_movable_alloc()`
/// and made movable with the module's `movable_operations`; the handle owns
/// the allocation's reference and is the only handle to the folio.
pub(crate) struct MovableFolio {
    ptr: NonNull<bindings::folio>,
}

// SAFETY: the handle owns a reference, which may be given up from any
// thread (`Drop` sleeps, in process context, like any drop of a handle).
unsafe impl Send for MovableFolio {}
// SAFETY: every `&self` method is a flag read, the sleeping folio lock, or
// an atomic flag update with a trylock.
unsafe impl Sync for MovableFolio {}

impl MovableFolio {
    /// Takes over a movable page and its reference.
    ///
    /// # Safety
    ///
    /// `folio` must be one that `mmrace_movable_alloc()` returned, whose
    /// allocation reference the caller hands over, and no other handle may
    /// be made from it.
    pub(crate) unsafe fn from_movable(folio: NonNull<bindings::folio>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { ptr: folio }
    }

    /// The page's pfn.
    pub(crate) fn pfn(&self) -> u64 {
        // SAFETY: the folio is live (type invariant).
        unsafe { bindings::mmrace_folio_pfn(self.ptr.as_ptr()) as u64 }
    }

    /// Whether flag `F` is set (`test_bit`); racy, as compaction may change
    /// it at any time.
    pub(crate) fn test<F: Flag>(&self) -> bool {
        // SAFETY: the folio is live (type invariant); an atomic read.
        unsafe { bindings::mmrace_folio_test_flag(self.ptr.as_ptr(), F::BIT) }
    }

    /// Takes the folio lock, sleeping until it is free (`folio_lock`), as
    /// compaction does before it puts the page back. Process context only;
    /// never while holding this page's lock.
    pub(crate) fn lock(&self) -> MovableLockGuard<'_> {
        // SAFETY: the folio is live and we own a reference (type invariant),
        // as a sleeper on its wait queue must.
        unsafe { bindings::mmrace_folio_lock(self.ptr.as_ptr()) };
        // INVARIANT: the lock was just taken.
        MovableLockGuard {
            folio: self,
            _not_send: PhantomData,
        }
    }

    /// Wakes whoever sleeps waiting for the lock although the page is
    /// unlocked (a lost `PG_waiters`): sets `PG_waiters` again and, if the
    /// page is still unlocked, locks and unlocks it, which wakes the queue.
    /// Never sleeps; false if the page was locked (its holder's unlock then
    /// sees the bit and wakes the waiters).
    pub(crate) fn wake_waiters(&self) -> bool {
        // SAFETY: the folio is live (type invariant). `PG_waiters` is the
        // kernel's, and only an atomic set is made: a spurious one is
        // harmless (the next unlock finds no one on the wait queue and
        // clears it again, as after a waiter's timeout), and it changes no
        // other bit.
        unsafe { bindings::mmrace_folio_set_flag(self.ptr.as_ptr(), flag::Waiters::BIT) };
        // SAFETY: the folio is live (type invariant); a trylock.
        if !unsafe { bindings::mmrace_folio_trylock(self.ptr.as_ptr()) } {
            return false;
        }
        // SAFETY: locked just above, by this thread.
        unsafe { bindings::mmrace_folio_unlock(self.ptr.as_ptr()) };
        true
    }
}

impl Drop for MovableFolio {
    fn drop(&mut self) {
        // SAFETY: our folio and our reference (type invariant), given up
        // after the helper stops the page being movable under its lock, so
        // that compaction calls none of the module's callbacks on it again.
        unsafe { bindings::mmrace_movable_free(self.ptr.as_ptr()) };
    }
}

/// The folio lock of a [`MovableFolio`], held; unlocked on drop. Like
/// [`FolioLockGuard`], it permits no flag update, and is not `Send`.
#[must_use = "the page is unlocked as soon as the guard is dropped"]
pub(crate) struct MovableLockGuard<'a> {
    // INVARIANT: the folio lock of `folio` is held, taken by this guard.
    folio: &'a MovableFolio,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for MovableLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the lock is held, taken by this guard (type invariant).
        unsafe { bindings::mmrace_folio_unlock(self.folio.ptr.as_ptr()) };
    }
}
