// SPDX-License-Identifier: GPL-2.0

//! The execution context of a probe: time, spinning, the current task, and
//! randomness, which may be called in atomic context; and the lockdown
//! check the module makes when it loads.

use crate::bindings;

/// Monotonic nanoseconds, comparable across CPUs and safe in any context;
/// for statistics only, never to end a busy-wait (see [`udelay_1us`]).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns` has no precondition.
    unsafe { bindings::mmrace_now_ns() }
}

/// Busy-waits about one microsecond, by counting (`udelay(1)`): unlike a
/// loop on [`now_ns`], it ends even where the clocksource only advances
/// with timer interrupts that this CPU has disabled.
pub(crate) fn udelay_1us() {
    // SAFETY: no precondition; `udelay` is callable in any context.
    unsafe { bindings::mmrace_udelay(1) }
}

/// The thread-group id (process id) of the current task.
pub(crate) fn current_tgid() -> i32 {
    // SAFETY: `current` is always valid.
    unsafe { bindings::mmrace_current_tgid() }
}

/// Whether process `pid` is the current process or one of its ancestors.
pub(crate) fn current_in_tree(pid: i32) -> bool {
    // SAFETY: walks `current`'s parents under RCU; no precondition.
    unsafe { bindings::mmrace_current_in_tree(pid) }
}

/// A uniformly random number in `0..ceil` (`ceil` > 0).
pub(crate) fn random_below(ceil: u32) -> u32 {
    // SAFETY: no precondition; `get_random_u32_below` is callable in any
    // context.
    unsafe { bindings::mmrace_random_below(ceil.max(1)) }
}

/// Fails with `EPERM` if the kernel is locked down for integrity (or
/// confidentiality): debugfs is then restricted, and a module that changes
/// how memory management runs from debugfs has no place there.
pub(crate) fn check_not_locked_down() -> kernel::error::Result {
    // SAFETY: no precondition; asks the LSMs.
    kernel::error::to_result(unsafe { bindings::mmrace_locked_down() })
}
