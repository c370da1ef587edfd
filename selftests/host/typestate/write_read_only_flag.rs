// SPDX-License-Identifier: GPL-2.0
// expect: E0277
// expect-text: the trait bound `Waiters: Writable` is not satisfied
// PG_waiters belongs to the kernel's lock protocol: read-only here.

fn snippet(folio: Folio<Referenced>) {
    folio.set::<flag::Waiters>();
}
