// SPDX-License-Identifier: GPL-2.0

//! `compact_isolate`: a folio isolated for compaction (or other migration)
//! and locked, before it is migrated or put back, un-isolated and unlocked
//! (seed 002: a non-atomic PG_isolated clear against a lock waiter's
//! PG_waiters). Process context, folio lock held.

use super::{Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    &WINDOW,
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
        ],
    },
);
