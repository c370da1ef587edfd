// SPDX-License-Identifier: GPL-2.0

//! `compact_isolate`: a folio isolated for compaction (or other migration)
//! and locked, before it is migrated or put back, un-isolated and unlocked
//! (seed 002: a non-atomic PG_isolated clear against a lock waiter's
//! PG_waiters). Process context, folio lock held.
//!
//! Phases: `migrate` (entry of `move_to_new_folio()`), `putback` (entry of
//! `putback_movable_folio()`) and `putback_callback` (inside it: the
//! `putback_page` callback of the module's own movable pages, which the
//! module calls directly, without a probe; used by the `isolated_putback`
//! scenario).

use super::{Desc, Phase, Window};
use crate::abstractions::{movable::PutbackHook, sites};
use kernel::c_str;

/// Index of the `putback_callback` phase in `phases` below.
const PUTBACK_CALLBACK: usize = 2;

/// The `putback_page` callback of the module's own movable pages opens
/// the window in phase `putback_callback` (no probe: the module calls it).
pub(crate) static PUTBACK_HOOK: PutbackHook =
    PutbackHook(|page| WINDOW.fire_page(PUTBACK_CALLBACK, page));

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("compact_isolate"),
        phases: &[
            Phase {
                name: "migrate",
                sites: &[&sites::MOVE_TO_NEW_FOLIO_ENTRY],
            },
            Phase {
                name: "putback",
                sites: &[&sites::PUTBACK_MOVABLE_FOLIO_ENTRY],
            },
            Phase {
                name: "putback_callback",
                sites: &[],
            },
        ],
    },
);
