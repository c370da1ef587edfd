// SPDX-License-Identifier: GPL-2.0
// expect: E0061
// expect-text: this method takes 1 argument but 0 arguments were supplied
// A freeze must say which count it expects (folio_ref_freeze's count).

fn snippet(folio: Folio<Referenced>) {
    let _ = folio.try_freeze();
}
