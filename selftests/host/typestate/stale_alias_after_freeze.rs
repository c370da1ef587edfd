// SPDX-License-Identifier: GPL-2.0
// expect: E0505
// expect-text: cannot move out of `folio` because it is borrowed
// A Referenced alias must not outlive the freeze: reading (or atomically
// updating) the frozen folio through it would bypass the Frozen handle.

fn snippet(folio: Folio<Referenced>) {
    let alias = &folio;
    let frozen = folio.try_freeze(1);
    let _ = alias.test::<flag::Dirty>();
    drop(frozen);
}
