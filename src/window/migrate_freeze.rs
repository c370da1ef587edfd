// SPDX-License-Identifier: GPL-2.0

//! `migrate_freeze`: page migration, in two phases (seeds 000, 004).
//!
//! - `check`: the source folio is locked, isolated and unmapped, and its
//!   refcount is about to be compared with the expected count: a reference
//!   taken in this window must make migration back off.
//! - `frozen`: the refcount has been frozen at 0 (page-cache folios), with
//!   the xarray lock held and interrupts off: lookups must not get it.

use super::{adversary::Op, Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("migrate_freeze"),
        phases: &[
            Phase {
                name: "check",
                default: true,
                sites: &[
                    &sites::MIGRATE_FOLIO_ENTRY,
                    &sites::FOLIO_MIGRATE_MAPPING_ENTRY,
                ],
            },
            Phase {
                name: "frozen",
                default: true,
                sites: &[&sites::MIGRATE_REF_FROZEN],
            },
        ],
        // A folio under migration, locked: only compaction of its pageblock
        // can still act on it.
        fits: Op::Compact.bit(),
    },
);
