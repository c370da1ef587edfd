// SPDX-License-Identifier: GPL-2.0

//! The control lock: one sleeping mutex (in the C shim) serialising every
//! change to what is armed.
//!
//! 6.12's `kernel::sync::Mutex` cannot live in a `static`; the module needs
//! exactly one such lock, so [`Control`] wraps a `static DEFINE_MUTEX` and
//! hands out a scoped [`ControlGuard`], in the shape of `kernel::sync::lock`.

use crate::bindings;
use core::{cell::UnsafeCell, marker::PhantomData};

/// Data protected by the module's control mutex.
///
/// There must be only one `Control` in the module: a second one would share
/// the mutex, and locking both at once would deadlock.
pub(crate) struct Control<T> {
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a `ControlGuard`, which holds the
// mutex, so at most one thread accesses it at a time.
unsafe impl<T: Send> Sync for Control<T> {}

impl<T> Control<T> {
    /// Creates the protected data.
    pub(crate) const fn new(data: T) -> Self {
        Self {
            data: UnsafeCell::new(data),
        }
    }

    /// Takes the control mutex (sleeping: process context only).
    pub(crate) fn lock(&self) -> ControlGuard<'_, T> {
        // SAFETY: no precondition; the guard releases it.
        unsafe { bindings::mmrace_control_lock() };
        // INVARIANT: the mutex is held until the guard is dropped.
        ControlGuard {
            control: self,
            _not_send: PhantomData,
        }
    }
}

/// The control mutex, held; released on drop. Not `Send`: a mutex is
/// released by the task that took it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub(crate) struct ControlGuard<'a, T> {
    // INVARIANT: the control mutex is held by the current task.
    control: &'a Control<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> core::ops::Deref for ControlGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the mutex is held (type invariant), so no one else has a
        // reference to the data.
        unsafe { &*self.control.data.get() }
    }
}

impl<T> core::ops::DerefMut for ControlGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this one unique.
        unsafe { &mut *self.control.data.get() }
    }
}

impl<T> Drop for ControlGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the mutex is held by this task (type invariant).
        unsafe { bindings::mmrace_control_unlock() };
    }
}
