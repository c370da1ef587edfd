// SPDX-License-Identifier: GPL-2.0

//! `gup_fast_pre_grab`: GUP-fast has read the PTE locklessly and not yet
//! taken its reference (seed 000: the walker acts on a PTE that migration
//! already replaced). Interrupts are off.

use super::{adversary, Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("gup_fast_pre_grab"),
        phases: &[Phase {
            name: "grab",
            default: true,
            sites: &[&sites::GUP_FAST_GRAB_ENTRY],
        }],
        fits: adversary::FITS_MAPPED,
    },
);
