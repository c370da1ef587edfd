// SPDX-License-Identifier: GPL-2.0
// expect: E0599
// expect-text: the method `set_nonatomic` exists for struct `Folio<abstractions::folio::Referenced>`, but its trait bounds were not satisfied
// After unfreeze others may take references again: no non-atomic update.

fn snippet(frozen: Folio<Frozen>) {
    let mut folio = frozen.unfreeze(NonZeroU16::MIN);
    folio.set_nonatomic::<flag::Dirty>();
}
