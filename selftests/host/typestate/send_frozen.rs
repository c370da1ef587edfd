// SPDX-License-Identifier: GPL-2.0
// expect: E0277
// expect-text: `Folio<Frozen>` cannot be sent between threads safely
// A freeze is a short critical section of the context that froze: a Frozen
// handle does not go to another thread.

fn snippet(frozen: Folio<Frozen>) {
    let _ = thread::join(|| (), move || drop(frozen));
}
