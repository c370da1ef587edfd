// SPDX-License-Identifier: GPL-2.0
// expect: ok
// A tracepoint site with MAX_CALLERS (3) callers, or none, compiles: the
// site_too_many_callers case fails for its own reason.

static SITE: Site = Site::tracepoint(
    Tracepoint::RefModUnless,
    &[
        kernel::c_str!("a"),
        kernel::c_str!("b"),
        kernel::c_str!("c"),
    ],
);

static NONE: Site = Site::tracepoint(Tracepoint::RefFreeze, &[]);
