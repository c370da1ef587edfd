// SPDX-License-Identifier: GPL-2.0
// expect: E0080
// expect-text: a kprobe site has more callers than MAX_CALLERS
// A kprobe site filters on at most MAX_CALLERS (6) callers, the size of the
// C glue's array: one more does not compile.

// SAFETY: never registered (a compile-time check).
static SITE: Site = unsafe {
    Site::kprobe(
        kernel::c_str!("x"),
        abstractions::probe::When::Return,
        &[
            kernel::c_str!("a"),
            kernel::c_str!("b"),
            kernel::c_str!("c"),
            kernel::c_str!("d"),
            kernel::c_str!("e"),
            kernel::c_str!("f"),
            kernel::c_str!("g"),
        ],
        abstractions::probe::Value::XaEntry,
    )
};
