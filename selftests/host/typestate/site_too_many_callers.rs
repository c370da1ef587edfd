// SPDX-License-Identifier: GPL-2.0
// expect: E0080
// expect-text: a tracepoint site has more callers than MAX_CALLERS
// A tracepoint site filters on at most MAX_CALLERS (6) callers: one more
// does not compile (it used to index past the site's ranges and panic at
// module load).

static SITE: Site = Site::tracepoint(
    Tracepoint::RefFreeze,
    &[
        kernel::c_str!("a"),
        kernel::c_str!("b"),
        kernel::c_str!("c"),
        kernel::c_str!("d"),
        kernel::c_str!("e"),
        kernel::c_str!("f"),
        kernel::c_str!("g"),
    ],
);
