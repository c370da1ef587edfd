// SPDX-License-Identifier: GPL-2.0

//! Processes named by pid, resolved once in the pid namespace of whoever
//! named them: a reference on the kernel's `struct pid`, which stays the
//! same process (or none, once it exited) whatever namespace later uses
//! it and however the number is reused.

use crate::bindings;
use core::{cell::UnsafeCell, ptr::NonNull};

/// A reference on a `struct pid`.
pub(crate) struct PidRef(NonNull<bindings::pid>);

// SAFETY: a `struct pid` reference may be used and dropped on any thread.
unsafe impl Send for PidRef {}

impl PidRef {
    /// The process (or thread) `nr` names in the current task's pid
    /// namespace: that of the task writing a debugfs file, its writer.
    /// `None` if it names none.
    pub(crate) fn find(nr: i32) -> Option<Self> {
        // SAFETY: no precondition; a reference we own, or NULL.
        NonNull::new(unsafe { bindings::mmrace_find_get_pid(nr) }).map(Self)
    }

    /// Its number in the initial pid namespace, the one the module's
    /// tgids are in ([`crate::abstractions::context::current_tgid`]).
    pub(crate) fn nr(&self) -> i32 {
        // SAFETY: we hold a reference on `self.0`.
        unsafe { bindings::mmrace_pid_nr(self.0.as_ptr()) }
    }

    /// Its number in the current task's pid namespace (0: not seen there).
    pub(crate) fn vnr(&self) -> i32 {
        // SAFETY: we hold a reference on `self.0`.
        unsafe { bindings::mmrace_pid_vnr(self.0.as_ptr()) }
    }

    /// The `struct pid`, for a helper (valid while `self` lives).
    pub(crate) fn as_ptr(&self) -> *mut bindings::pid {
        self.0.as_ptr()
    }
}

impl Drop for PidRef {
    fn drop(&mut self) {
        // SAFETY: our reference, given back once.
        unsafe { bindings::mmrace_put_pid(self.0.as_ptr()) }
    }
}

/// A place holding at most one [`PidRef`], which any thread may replace
/// or take a new reference on (under the helpers' spinlock).
pub(crate) struct PidSlot(UnsafeCell<*mut bindings::pid>);

// SAFETY: the pointer is only read or written by the helpers, under their
// spinlock; what it holds is a reference any thread may use.
unsafe impl Sync for PidSlot {}

impl PidSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self(UnsafeCell::new(core::ptr::null_mut()))
    }

    /// Stores `pid` and returns what the slot held.
    pub(crate) fn replace(&self, pid: Option<PidRef>) -> Option<PidRef> {
        let new = pid.map_or(core::ptr::null_mut(), |p| {
            let ptr = p.as_ptr();
            // Owned by the slot now.
            core::mem::forget(p);
            ptr
        });
        // SAFETY: the slot's pointer is NULL or a reference it owns; the
        // helper swaps it under its spinlock and gives the old one to us.
        NonNull::new(unsafe { bindings::mmrace_pid_slot_xchg(self.0.get(), new) }).map(PidRef)
    }

    /// A new reference on what the slot holds.
    pub(crate) fn get(&self) -> Option<PidRef> {
        // SAFETY: the helper reads the pointer and takes a reference on it
        // under the spinlock that `replace` swaps it under.
        NonNull::new(unsafe { bindings::mmrace_pid_slot_get(self.0.get()) }).map(PidRef)
    }
}
