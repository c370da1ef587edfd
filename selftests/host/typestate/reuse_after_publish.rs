// SPDX-License-Identifier: GPL-2.0
// expect: E0382
// expect-text: borrow of moved value: `new`
// An Unpublished handle is consumed by publish.

fn snippet(mut new: Folio<Unpublished>) {
    let _folio = new.publish();
    new.set_nonatomic::<flag::Uptodate>();
}
