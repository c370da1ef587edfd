// SPDX-License-Identifier: GPL-2.0

//! The debugfs tree: `/sys/kernel/debug/mmrace/` and its top-level files.

use crate::abstractions::debugfs::{Attr, AttrOps, Buffer, Dir, Parent};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*};

/// Version of the debugfs ABI and of the module, in `version`.
pub(crate) const VERSION: &str = "0.1.0";

/// `version`: read-only, one line.
struct Version;

impl AttrOps for Version {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        writeln!(out, "{VERSION}")
    }
}

static VERSION_ATTR: Attr<Version> = Attr::new(Version);

/// The module's debugfs tree; removing it on drop waits for readers and
/// writers in progress.
pub(crate) struct Control {
    _root: Dir,
}

impl Control {
    /// Creates the tree.
    pub(crate) fn new() -> Result<Self> {
        let root = Dir::new(c_str!("mmrace"))?;
        root.attr(c_str!("version"), 0o400, &VERSION_ATTR)?;
        Ok(Self { _root: root })
    }
}
