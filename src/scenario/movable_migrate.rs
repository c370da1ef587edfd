// SPDX-License-Identifier: GPL-2.0

//! Class 3 (seed 002's bug at migration): migration clearing `PG_isolated`
//! on a non-LRU movable page it has locked and migrated, while other tasks
//! wait for the page's lock.
//!
//! The module's movable pages accept migration here: compaction isolates
//! them, locks each, calls the driver's `migrate_page` (where the
//! `compact_isolate` window, phase `migrate_callback`, holds it; the driver
//! keeps the source page), clears `PG_isolated` since it succeeded and
//! unlocks, while a kernel thread waits for the lock (`movable_waiters` has
//! the locker, the watchdog and the counts). `exercised` counts the
//! migrations during which the locker queued on the page.

use super::{movable_waiters, Args, Report, Scenario};
use crate::abstractions::movable::Callback;

pub(super) static MOVABLE_MIGRATE: Scenario = Scenario {
    name: "movable_migrate",
    about: "class 3: lock waiters on movable pages compaction migrates (iterations=ms to run)",
    run,
};

fn run(r: &mut Report<'_>, args: &Args) {
    movable_waiters::run(r, args, Callback::Migrate, true);
}
