// SPDX-License-Identifier: GPL-2.0
// expect: E0308
// expect-text: expected `NonZero<u16>`, found integer
// Unfreezing to a count of 0 is not a count (folio_ref_unfreeze BUGs).

fn snippet(frozen: Folio<Frozen>) {
    let _ = frozen.unfreeze(0);
}
