// SPDX-License-Identifier: GPL-2.0

//! Seed 002: compaction clearing `PG_isolated` on a locked page while other
//! tasks wait for the page's lock.
//!
//! Compaction isolates the module's movable pages, fails to migrate them
//! (the driver refuses) and puts them back: it locks each page, calls the
//! driver's `putback_page` (where the `compact_isolate` window, phase
//! `putback_callback`, holds it), clears `PG_isolated` and unlocks, while a
//! kernel thread waits for the lock (`movable_waiters` has the locker, the
//! watchdog and the counts). `exercised` counts the putbacks during which
//! the locker queued on the page.

use super::{movable_waiters, Args, Report, Scenario};
use crate::abstractions::movable::Callback;

pub(super) static ISOLATED_PUTBACK: Scenario = Scenario {
    name: "isolated_putback",
    about: "seed 002: lock waiters on movable pages compaction isolates and puts back (iterations=ms to run)",
    run,
};

fn run(r: &mut Report<'_>, args: &Args) {
    movable_waiters::run(r, args, Callback::Putback, false);
}
