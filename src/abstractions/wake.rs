// SPDX-License-Identifier: GPL-2.0

//! A deferred wake-up: process-context waiters sleep on one wait queue
//! until their condition holds, and code in any context, a probe handler
//! included, wakes them through an `irq_work` (`src/bindings/deferred_wake.c`).
//!
//! Why not the kernel crate's `CondVar`: its waiters see a wake-up only if
//! the waker changes the condition under the lock the waiter holds while
//! it checks; the waker here is a probe handler (possibly in an int3 or
//! NMI-like context) that may take no lock, and the `irq_work` that does
//! the wake-up runs in hard-irq context, where 6.12's `SpinLock` (not
//! irq-saving) must not be taken either. `wait_event_interruptible_timeout()`
//! checks the condition after queueing the waiter, so a condition made true
//! by plain atomics before the wake-up is never missed.

use crate::bindings;
use kernel::{ffi, prelude::*};

/// Wakes the waiters soon. Callable in any context, NMI included: the
/// wake-up itself runs from an `irq_work` on this CPU as soon as its
/// interrupts are on (at once if they are).
pub(crate) fn kick() {
    // SAFETY: no precondition; `irq_work_queue()` is NMI-safe.
    unsafe { bindings::mmrace_wake_kick() }
}

/// Wakes the waiters now. Process or interrupt context.
pub(crate) fn wake_all() {
    // SAFETY: no precondition; `wake_up_all()` may be called from process
    // or interrupt context.
    unsafe { bindings::mmrace_wake_all() }
}

/// Waits for a [`kick`] queued earlier to have run. Process context: the
/// module calls it at unload, after the last handler that could kick has
/// returned, so that no wake-up runs in module text that is gone.
pub(crate) fn sync() {
    // SAFETY: no precondition; process context.
    unsafe { bindings::mmrace_wake_sync() }
}

/// Sleeps, interruptibly, until `cond` returns true (it is called before
/// sleeping and at each wake-up) or `jiffies` ticks have passed. Returns
/// whether `cond` returned true; `Err(ERESTARTSYS)` on a signal (then
/// `cond` last returned false). Process context only.
pub(crate) fn wait_jiffies(jiffies: u64, mut cond: impl FnMut() -> bool) -> Result<bool> {
    let mut ctx: &mut dyn FnMut() -> bool = &mut cond;
    let timeout = ffi::c_ulong::try_from(jiffies).unwrap_or(ffi::c_ulong::MAX / 2);
    // SAFETY: `ctx` points to a live `&mut dyn FnMut() -> bool` for the
    // whole call, and `trampoline` is called only during it, on this
    // thread; the call sleeps, which the caller allows (process context).
    let ret =
        unsafe { bindings::mmrace_wake_wait(Some(trampoline), (&raw mut ctx).cast(), timeout) };
    match ret {
        0 => Ok(false),
        r if r > 0 => Ok(true),
        r => Err(Error::from_errno(r as ffi::c_int)),
    }
}

/// # Safety
///
/// `ctx` must point to a live `&mut dyn FnMut() -> bool` that no one else
/// uses during the call.
unsafe extern "C" fn trampoline(ctx: *mut ffi::c_void) -> bool {
    // SAFETY: guaranteed by the caller (`wait_jiffies`).
    let cond = unsafe { &mut *ctx.cast::<&mut dyn FnMut() -> bool>() };
    cond()
}

/// Wakes the waiters, as [`kick`], and also runs the module's worker
/// (`crate::window::adversary::work`) soon, in process context on
/// `system_highpri_wq`, on another CPU. Callable in any context, NMI included.
pub(crate) fn kick_worker() {
    // SAFETY: no precondition; an atomic store and `irq_work_queue()`,
    // which is NMI-safe.
    unsafe { bindings::mmrace_work_kick() }
}

/// Waits for the worker, running or queued, to have returned. Process
/// context; never from the worker itself.
pub(crate) fn flush_worker() {
    // SAFETY: no precondition; process context (`flush_work()` sleeps).
    unsafe { bindings::mmrace_work_flush() }
}

/// The worker's body, called by the shim's work item in process context.
#[no_mangle]
pub(crate) extern "C" fn mmrace_adversary_work() {
    crate::window::adversary::work();
}
