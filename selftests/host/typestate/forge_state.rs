// SPDX-License-Identifier: GPL-2.0
// expect: E0277
// expect-text: the trait bound `Forged: Sealed` is not satisfied
// The states are sealed: no new exclusive state outside the layer.

enum Forged {}

impl FolioState for Forged {
    const FROZEN: bool = false;
}

impl Exclusive for Forged {}
