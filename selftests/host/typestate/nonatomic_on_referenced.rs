// SPDX-License-Identifier: GPL-2.0
// expect: E0599
// expect-text: the method `clear_nonatomic` exists for struct `Folio<abstractions::folio::Referenced>`, but its trait bounds were not satisfied
// A non-atomic update on a folio others may reference: the seed 002 bug.

fn snippet(folio: Folio<Referenced>) {
    folio.clear_nonatomic::<flag::Isolated>();
}
