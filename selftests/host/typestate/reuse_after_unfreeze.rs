// SPDX-License-Identifier: GPL-2.0
// expect: E0382
// expect-text: borrow of moved value: `frozen`
// A Frozen handle is consumed by unfreeze: no update through it afterwards.

fn snippet(mut frozen: Folio<Frozen>) {
    let _folio = frozen.unfreeze(NonZeroU16::MIN);
    frozen.clear_nonatomic::<flag::Isolated>();
}
