// SPDX-License-Identifier: GPL-2.0

//! The execution context of a probe: time, spinning, the current task, and
//! randomness. Everything here may be called in atomic context.

use crate::bindings;

/// Monotonic nanoseconds, comparable across CPUs and safe in any context.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns` has no precondition.
    unsafe { bindings::mmrace_now_ns() }
}

/// One iteration of a busy-wait (`cpu_relax()`).
pub(crate) fn cpu_relax() {
    // SAFETY: no precondition.
    unsafe { bindings::mmrace_cpu_relax() }
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
