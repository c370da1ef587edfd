// SPDX-License-Identifier: GPL-2.0

//! `compact_isolate`: a folio isolated for compaction (or other migration)
//! and locked, before it is migrated or put back, un-isolated and unlocked
//! (seed 002: a non-atomic PG_isolated clear against a lock waiter's
//! PG_waiters). Process context, folio lock held.
//!
//! Phases: `migrate` (entry of `move_to_new_folio()`), `putback` (entry of
//! `putback_movable_folio()`), and three inside the callbacks of the
//! module's own movable pages, which the module calls directly, without a
//! probe (used by the `isolated_putback`, `movable_isolate` and
//! `movable_migrate` scenarios): `putback_callback` (`putback_page`, page
//! locked and isolated; `PG_isolated` is cleared after it),
//! `isolate_callback` (`isolate_page`, page locked by compaction's trylock;
//! `PG_isolated` is set after it) and `migrate_callback` (`migrate_page`,
//! source page locked and isolated; `PG_isolated` is cleared after it if
//! the migration succeeds). And `migrate_flags` (entry of
//! `folio_migrate_ksm()`, inside `folio_migrate_flags()`): an LRU folio's
//! migration, the new folio already in the page cache and locked, its
//! flags being copied from the source; page-cache lookups find it and wait
//! for its lock (the window's page is the new folio). And `lru_add`
//! (entry of `lru_add()`, through `folio_batch_move_lru()`, which sets
//! `PG_lru` after it): a folio added to an LRU list under the lru_lock,
//! interrupts off; migration adds the new folio this way while it is
//! locked and in the page cache, and lookups wait for its lock. And
//! `lru_isolate` (the `folio_get()` in `folio_isolate_lru()`, through the
//! `page_ref_mod` tracepoint): a folio being isolated from its LRU list,
//! `PG_lru` just cleared, before the lru_lock; `move_pages(2)` isolates
//! this way with the folio unlocked, and faults lock it meanwhile. And
//! `isolate` (the `page_ref_mod_unless` tracepoint, from
//! `isolate_migratepages_block()` or `isolate_movable_page()`): inside
//! compaction's isolation itself, its speculative reference taken and the
//! LRU or movable isolation not yet done.
//!
//! `lru_isolate` and `isolate` are left out of `all`, the default: their
//! tracepoints fire on references the whole kernel takes (see
//! [`super::Phase::default`]); name them to arm them.

use super::{adversary::Op, Desc, Phase, Window};
use crate::abstractions::{
    movable::{Callback, MovableHook},
    sites,
};
use kernel::c_str;

/// Index of the `putback_callback` phase in `phases` below.
const PUTBACK_CALLBACK: usize = 2;
/// Index of the `isolate_callback` phase.
const ISOLATE_CALLBACK: usize = 3;
/// Index of the `migrate_callback` phase.
const MIGRATE_CALLBACK: usize = 4;

/// The callbacks of the module's own movable pages open the window in
/// their phase (no probe: the module calls them).
pub(crate) static MOVABLE_HOOK: MovableHook = MovableHook(|cb, page| {
    let phase = match cb {
        Callback::Isolate => ISOLATE_CALLBACK,
        Callback::Migrate => MIGRATE_CALLBACK,
        Callback::Putback => PUTBACK_CALLBACK,
    };
    WINDOW.fire_page(phase, page)
});

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("compact_isolate"),
        phases: &[
            Phase {
                name: "migrate",
                default: true,
                sites: &[&sites::MOVE_TO_NEW_FOLIO_ENTRY],
            },
            Phase {
                name: "putback",
                default: true,
                sites: &[&sites::PUTBACK_MOVABLE_FOLIO_ENTRY],
            },
            Phase {
                name: "putback_callback",
                default: true,
                sites: &[],
            },
            Phase {
                name: "isolate_callback",
                default: true,
                sites: &[],
            },
            Phase {
                name: "migrate_callback",
                default: true,
                sites: &[],
            },
            Phase {
                name: "migrate_flags",
                default: true,
                sites: &[&sites::FOLIO_MIGRATE_KSM_ENTRY],
            },
            Phase {
                name: "lru_add",
                default: true,
                sites: &[&sites::LRU_ADD_ENTRY],
            },
            Phase {
                name: "lru_isolate",
                default: false,
                sites: &[&sites::LRU_ISOLATE_GET],
            },
            Phase {
                name: "isolate",
                default: false,
                sites: &[&sites::COMPACT_ISOLATE_SPECULATIVE_REF],
            },
        ],
        // Any page of the pageblock compaction scans, rarely the process's
        // own: another compaction. Not `freeze`: in the workloads measured
        // the pages compaction isolates were anonymous (all 2526 `freeze`
        // jobs of a `cow` run failed, EINVAL: not page cache).
        fits: Op::Compact.bit(),
    },
);
