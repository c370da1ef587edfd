// SPDX-License-Identifier: GPL-2.0
// expect: E0382
// expect-text: borrow of moved value: `folio`
// try_freeze consumes the handle even when it fails: the handle comes back
// inside the error, and only from there.

fn snippet(folio: Folio<Referenced>) {
    let _ = folio.try_freeze(1);
    folio.set::<flag::Referenced>();
}
