// SPDX-License-Identifier: GPL-2.0
// expect: E0596
// expect-text: cannot borrow `*new` as mutable, as it is behind a `&` reference
// Non-atomic updates take &mut: not through a shared reference, which
// another thread may hold too.

fn snippet(new: &Folio<Unpublished>) {
    new.set_nonatomic::<flag::Dirty>();
}
