// SPDX-License-Identifier: GPL-2.0
// expect: E0502
// expect-text: cannot borrow `new` as mutable because it is also borrowed as immutable
// Non-atomic updates take &mut: not while a lock guard borrows the handle.

fn snippet(mut new: Folio<Unpublished>) {
    let guard = new.lock();
    new.set_nonatomic::<flag::Dirty>();
    drop(guard);
}
