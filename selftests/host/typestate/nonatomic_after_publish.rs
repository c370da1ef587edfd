// SPDX-License-Identifier: GPL-2.0
// expect: E0599
// expect-text: the method `set_nonatomic` exists for struct `Folio<abstractions::folio::Referenced>`, but its trait bounds were not satisfied
// After publish others may find the folio: no non-atomic update.

fn snippet(new: Folio<Unpublished>) {
    let mut folio = new.publish();
    folio.set_nonatomic::<flag::Swapbacked>();
}
