// SPDX-License-Identifier: GPL-2.0

//! Running two closures at once, on two kernel threads, for scenarios that
//! need a second party: a scoped fork-join in the shape of
//! `std::thread::scope`, so the closures may borrow the caller's locals.

use crate::bindings;
use kernel::{error::to_result, ffi, prelude::*};

/// Runs `a` on the current thread and `b` on a new kernel thread, at the
/// same time, and returns `a`'s result once both have returned.
///
/// `b` may borrow from the caller: `join` does not return before `b` has
/// (kernel panics do not unwind, so there is no way out of `join` that
/// skips the wait). What both share must therefore be [`Sync`], which `B:
/// Send` enforces for what `b` captures by reference. Fails only if no
/// thread could be created, and then neither closure ran.
///
/// Process context only: the wait sleeps, uninterruptibly, so `b` must end
/// well within the hung-task timeout.
pub(crate) fn join<A, RA, B>(a: A, b: B) -> Result<RA>
where
    A: FnOnce() -> RA,
    B: FnOnce() + Send,
{
    let mut a = Call::<A, RA>::Pending(a);
    let mut b = Call::<B, ()>::Pending(b);
    // SAFETY: both contexts point to live `Call`s matching their trampolines
    // and stay valid until `mmrace_run_pair` returns, which is after both
    // trampolines have returned. Each is used by one thread only: `a` here,
    // `b` on the new thread, which may own it because `B: Send`.
    to_result(unsafe {
        bindings::mmrace_run_pair(
            Some(trampoline::<A, RA>),
            (&raw mut a).cast(),
            Some(trampoline::<B, ()>),
            (&raw mut b).cast(),
        )
    })?;
    match a {
        Call::Done(ra) => Ok(ra),
        // `mmrace_run_pair` runs `a` whenever it returns 0.
        _ => Err(EINVAL),
    }
}

/// A closure to call once and, after the call, its result.
enum Call<F, R> {
    Pending(F),
    Running,
    Done(R),
}

/// # Safety
///
/// `ctx` must point to a live `Call<F, R>` that no one else accesses during
/// the call.
unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(ctx: *mut ffi::c_void) {
    // SAFETY: guaranteed by the caller.
    let call = unsafe { &mut *ctx.cast::<Call<F, R>>() };
    if let Call::Pending(f) = core::mem::replace(call, Call::Running) {
        *call = Call::Done(f());
    }
}

/// Lets other tasks run if this one has used up its slice
/// (`cond_resched`): a loop in process context that may run for long
/// without sleeping calls it on each round, so that a kernel without
/// preemption sees no soft lockup. Process context only.
pub(crate) fn cond_resched() {
    // SAFETY: no precondition; it may sleep, and this module calls it only
    // in process context, with no lock held.
    unsafe { bindings::mmrace_cond_resched() }
}

/// Sleeps for `us` to `2 * us` microseconds (`usleep_range`),
/// uninterruptibly: lets the other thread of a scenario run even on a
/// single CPU. Process context only.
pub(crate) fn sleep_us(us: u64) {
    let us = usize::try_from(us).unwrap_or(usize::MAX / 2);
    // SAFETY: no precondition; it sleeps, and this module calls it only in
    // process context.
    unsafe { bindings::mmrace_usleep(us) }
}
