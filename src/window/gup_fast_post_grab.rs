// SPDX-License-Identifier: GPL-2.0

//! `gup_fast_post_grab`: GUP-fast holds its reference and has not yet
//! re-checked the PTE/PMD (seeds 000, 004: the transient extra reference
//! migration's refcount check observes). Interrupts are off.

use super::{adversary, Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("gup_fast_post_grab"),
        phases: &[Phase {
            name: "grabbed",
            default: true,
            sites: &[&sites::GUP_FAST_GRAB_RETURN],
        }],
        fits: adversary::FITS_MAPPED,
    },
);
