// SPDX-License-Identifier: GPL-2.0
// expect: E0277
// expect-text: required because it appears within the type `FolioLockGuard<
// The lock guard stays with the thread that took the lock.

fn snippet(folio: Folio<Referenced>) {
    let guard = folio.lock();
    let _ = thread::join(|| (), move || drop(guard));
}
