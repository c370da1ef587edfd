// SPDX-License-Identifier: GPL-2.0

//! `pagecache_pre_grab`: a page-cache lookup has loaded the folio pointer
//! from the xarray, under RCU, and not yet taken its speculative reference
//! (seeds 001, 004: the folio is freed, reused or frozen under its feet).

use super::{Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("pagecache_pre_grab"),
        phases: &[Phase {
            name: "loaded",
            sites: &[
                &sites::FILEMAP_GET_ENTRY_LOAD,
                &sites::FILEMAP_READ_BATCH_LOAD,
            ],
        }],
    },
);
