// SPDX-License-Identifier: GPL-2.0
// expect: E0599
// expect-text: the method `clear_nonatomic` exists for struct `FolioLockGuard<'_, abstractions::folio::Referenced>`, but its trait bounds were not satisfied
// Holding the folio lock does not allow a non-atomic update: a lock waiter
// sets PG_waiters in the same word (seed 002, __ClearPageIsolated).

fn snippet(folio: Folio<Referenced>) {
    let guard = folio.lock();
    guard.clear_nonatomic::<flag::Isolated>();
}
