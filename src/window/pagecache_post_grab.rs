// SPDX-License-Identifier: GPL-2.0

//! `pagecache_post_grab`: a page-cache lookup holds its speculative
//! reference and has not yet re-checked the xarray (seed 001: a speculative
//! reference outliving the page's reuse). Under RCU.

use super::{adversary, Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("pagecache_post_grab"),
        phases: &[Phase {
            name: "referenced",
            default: true,
            sites: &[&sites::PAGECACHE_SPECULATIVE_REF],
        }],
        fits: adversary::FITS_PAGE_CACHE,
    },
);
