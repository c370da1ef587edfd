// SPDX-License-Identifier: GPL-2.0

//! `pagecache_pre_grab`: a page-cache lookup has loaded the folio pointer
//! from the xarray, under RCU, and not yet taken its speculative reference
//! (seeds 001, 004: the folio is freed, reused or frozen under its feet).
//!
//! - `loaded`: `filemap_get_entry()` and `filemap_get_read_batch()`;
//! - `map`: `next_uptodate_folio()` (fault-around);
//! - `gang`: `find_get_entry()` (`find_get_entries()`, `find_lock_entries()`,
//!   `filemap_get_folios()`, `filemap_get_folios_tag()`);
//! - `contig`: `filemap_get_folios_contig()` (`memfd_pin_folios()`).

use super::{adversary, Desc, Phase, Window};
use crate::abstractions::sites;
use kernel::c_str;

pub(crate) static WINDOW: Window = Window::new(
    module_path!(),
    &Desc {
        name: c_str!("pagecache_pre_grab"),
        phases: &[
            Phase {
                name: "loaded",
                default: true,
                sites: &[
                    &sites::FILEMAP_GET_ENTRY_LOAD,
                    &sites::FILEMAP_READ_BATCH_LOAD,
                ],
            },
            Phase {
                name: "map",
                default: true,
                sites: &[&sites::NEXT_UPTODATE_FOLIO_FIND],
            },
            Phase {
                name: "gang",
                default: true,
                sites: &[&sites::FIND_GET_ENTRY_FIND],
            },
            Phase {
                name: "contig",
                default: true,
                sites: &[&sites::FOLIOS_CONTIG_LOAD],
            },
        ],
        fits: adversary::FITS_PAGE_CACHE,
    },
);
