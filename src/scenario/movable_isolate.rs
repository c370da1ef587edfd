// SPDX-License-Identifier: GPL-2.0

//! Class 3 (seed 002's bug at isolation): compaction setting `PG_isolated`
//! on a page it has locked while other tasks wait for the page's lock.
//!
//! `isolate_movable_page()` trylocks each of the module's movable pages,
//! calls the driver's `isolate_page` (where the `compact_isolate` window,
//! phase `isolate_callback`, holds it), sets `PG_isolated` and unlocks,
//! while a kernel thread waits for the lock (`movable_waiters` has the
//! locker, the watchdog and the counts). `exercised` counts the isolations
//! during which the locker queued on the page.

use super::{movable_waiters, Args, Report, Scenario};
use crate::abstractions::movable::Callback;

pub(super) static MOVABLE_ISOLATE: Scenario = Scenario {
    name: "movable_isolate",
    about: "class 3: lock waiters on movable pages while compaction isolates them (iterations=ms to run)",
    run,
};

fn run(r: &mut Report<'_>, args: &Args) {
    movable_waiters::run(r, args, Callback::Isolate, false);
}
