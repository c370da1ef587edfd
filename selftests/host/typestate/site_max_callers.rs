// SPDX-License-Identifier: GPL-2.0
// expect: ok
// A tracepoint or kprobe site with MAX_CALLERS (6) callers, or none,
// compiles: the site_*too_many_callers cases fail for their own reason.

static SITE: Site = Site::tracepoint(
    Tracepoint::RefModUnless,
    &[
        kernel::c_str!("a"),
        kernel::c_str!("b"),
        kernel::c_str!("c"),
        kernel::c_str!("d"),
        kernel::c_str!("e"),
        kernel::c_str!("f"),
    ],
);

static NONE: Site = Site::tracepoint(Tracepoint::RefFreeze, &[]);

// SAFETY: never registered (a compile-time check).
static KPROBE: Site = unsafe {
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
        ],
        abstractions::probe::Value::XaEntry,
    )
};

// SAFETY: as above.
static KPROBE_NONE: Site = unsafe {
    Site::kprobe(
        kernel::c_str!("x"),
        abstractions::probe::When::Return,
        &[],
        abstractions::probe::Value::XaEntry,
    )
};
